use super::*;
use crate::engine::ScriptedEngine;
use crate::ErrorCode;

/// llama.cpp's part, scripted: training moves every tensor by `delta`.
struct FakeTuner {
    delta: f32,
    tuned_replies: Vec<String>,
    teacher_replies: Vec<String>,
    /// Stop after this many steps (a cancel arrives then).
    cancel_after: Option<(usize, CancelToken)>,
    started_at: Vec<usize>,
}

impl FakeTuner {
    fn new() -> Self {
        Self {
            delta: 0.5,
            tuned_replies: Vec::new(),
            teacher_replies: Vec::new(),
            cancel_after: None,
            started_at: Vec::new(),
        }
    }
}

impl Tuner for FakeTuner {
    fn f32_copy(&mut self, _model: &Path, dst: &Path) -> Result<()> {
        std::fs::write(dst, b"f32").map_err(|e| Error::io("fake copy", e))
    }

    fn train(
        &mut self,
        _f32_model: &Path,
        examples: &[crate::tune::Example],
        settings: &TrainSettings,
        start: &[TrainedTensor],
        on_step: &mut dyn FnMut(&TrainingStep) -> Control,
    ) -> Result<Vec<TrainedTensor>> {
        assert!(examples.iter().all(|e| e.taught.len() == e.tokens.len()));
        self.started_at.push(settings.skip_steps);
        let steps = 6;
        let mut done = start.first().map_or(0.0, |t| t.delta[0]);
        for step in settings.skip_steps + 1..=steps {
            done += self.delta / steps as f32;
            if let Some((n, cancel)) = &self.cancel_after {
                if step == *n {
                    cancel.cancel();
                }
            }
            let report = TrainingStep {
                step,
                steps,
                loss: 1.0 / step as f64,
                tokens_per_s: 100.0,
            };
            if on_step(&report) == Control::Stop {
                break;
            }
        }
        Ok(vec![TrainedTensor {
            name: "blk.0.attn_q.weight".into(),
            rows: 2,
            cols: 2,
            delta: vec![done, 0.0, 0.0, done],
        }])
    }

    fn with_adapter(&mut self, _name: &str, _adapter: &Path) -> Result<Box<dyn Engine>> {
        let mut e = ScriptedEngine::new(4096);
        for r in &self.tuned_replies {
            e.push_reply(r);
        }
        Ok(Box::new(e))
    }

    fn teacher(&mut self, _teacher: &TeacherModel) -> Result<Box<dyn Engine>> {
        let mut e = ScriptedEngine::new(4096);
        for r in &self.teacher_replies {
            e.push_reply(r);
        }
        Ok(Box::new(e))
    }
}

fn options(mode: RephraseMode, source: Source) -> TuneOptions {
    TuneOptions {
        max_pairs: 4,
        max_held_out: 2,
        ..TuneOptions::new(mode, source)
    }
}

fn teacher() -> Source {
    Source::Teacher(Box::new(TeacherModel {
        id: "larger".into(),
        path: "/models/larger.gguf".into(),
    }))
}

#[test]
fn rule_made_pairs_exist_for_proofread_only() {
    let mut tuner = FakeTuner::new();
    let (train, held, refused) = make_pairs(
        &options(RephraseMode::Proofread, Source::Rules),
        &mut tuner,
        &CancelToken::new(),
        &mut |_| {},
    )
    .expect("pairs");
    assert_eq!((train.len(), held.len(), refused), (4, 2, 0));
    let err = make_pairs(
        &options(RephraseMode::Friendly, Source::Rules),
        &mut tuner,
        &CancelToken::new(),
        &mut |_| {},
    )
    .expect_err("no rules for friendly");
    assert!(err.to_string().contains("--teacher"), "{err}");
}

#[test]
fn a_teacher_answers_are_kept_only_when_pith_check_accepts_them() {
    let mut tuner = FakeTuner::new();
    // Each input gets three attempts; an answer instead of a rewrite
    // fails every one of them.
    let refusal = " Sure! Here is the rewritten text.";
    tuner.teacher_replies = std::iter::repeat_n(refusal.to_string(), 3 * 40).collect();
    let err = make_pairs(
        &options(RephraseMode::Friendly, teacher()),
        &mut tuner,
        &CancelToken::new(),
        &mut |_| {},
    )
    .expect_err("nothing usable");
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    assert!(
        err.to_string().contains("no usable training pairs"),
        "{err}"
    );
    assert!(err.to_string().contains("refused by Pith's check"), "{err}");
}

#[test]
fn a_run_that_does_not_fit_is_refused_before_anything_is_written() {
    let (memory, disk) = needs(135_000_000, 22_000_000, 49_152, 256);
    assert!(disk > 540_000_000 && memory > disk);
    let dir = Path::new("/tmp/x");
    let e = check_room(memory, disk, Some(memory), Some(disk - 1), dir).expect_err("disk");
    assert_eq!(e.code(), ErrorCode::DiskFull);
    let e = check_room(memory, disk, Some(memory - 1), Some(disk), dir).expect_err("memory");
    assert_eq!(e.code(), ErrorCode::OutOfMemory);
    assert!(
        check_room(memory, disk, None, None, dir).is_ok(),
        "unknown: tried"
    );
}

#[test]
fn a_cancelled_run_keeps_a_checkpoint_that_resume_carries_on_from() {
    let install = tempfile::tempdir().expect("tmp");
    let model = install.path().join("small.gguf");
    let cancel = CancelToken::new();
    let mut tuner = FakeTuner::new();
    tuner.cancel_after = Some((3, cancel.clone()));
    let mut engine = ScriptedEngine::new(4096);
    let opts = options(RephraseMode::Proofread, Source::Rules);
    let mut steps = Vec::new();
    let err = tune(
        &mut engine,
        &model,
        install.path(),
        &opts,
        &mut tuner,
        None,
        &cancel,
        &mut |e| {
            if let TuneEvent::Training { step, .. } = e {
                steps.push(step);
            }
        },
    )
    .expect_err("cancelled");
    assert_eq!(err.code(), ErrorCode::Cancelled);
    assert_eq!(steps, [1, 2, 3]);
    let work = work_dir(install.path(), &model, RephraseMode::Proofread);
    assert!(work.join("checkpoint.json").is_file());

    // Resumed: the trainer starts after step 3 from the weights reached;
    // the adapter is then refused (the scripted model answers nothing
    // better), so nothing is installed.
    let mut tuner = FakeTuner::new();
    tuner.tuned_replies = vec![" wrong".into(); 6];
    let mut engine = ScriptedEngine::new(4096);
    for _ in 0..6 {
        engine.push_reply(" wrong");
    }
    let resumed = TuneOptions {
        resume: true,
        ..opts.clone()
    };
    let err = tune(
        &mut engine,
        &model,
        install.path(),
        &resumed,
        &mut tuner,
        None,
        &CancelToken::new(),
        &mut |_| {},
    )
    .expect_err("not better");
    assert_eq!(tuner.started_at, [3]);
    assert_eq!(err.code(), ErrorCode::ResultRejected);
    assert!(err.to_string().contains("not better"), "{err}");
    assert!(
        !install.path().join("adapters").exists(),
        "nothing installed"
    );

    // Without a checkpoint, --resume says so.
    let other = TuneOptions {
        resume: true,
        ..options(RephraseMode::Proofread, Source::Rules)
    };
    std::fs::remove_dir_all(&work).ok();
    let err = tune(
        &mut ScriptedEngine::new(4096),
        &model,
        install.path(),
        &other,
        &mut FakeTuner::new(),
        None,
        &CancelToken::new(),
        &mut |_| {},
    )
    .expect_err("nothing to resume");
    assert_eq!(err.code(), ErrorCode::NotFound);
}
