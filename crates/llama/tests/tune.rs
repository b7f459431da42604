//! Specializing the real default model (SmolLM2-135M-Instruct): an adapter
//! trained for a few steps with llama.cpp's optimizer loads and changes the
//! greedy answer; the held-out evaluation refuses an adapter that is not
//! better; accepted rewrites found in the history and shown as examples
//! reach the answer; and the
//! whole `pith tune` flow runs with the Gemma 270M test model as the
//! teacher.

use pith_core::engine::{CancelToken, Engine, GenerateRequest};
use pith_core::flows::rephrase::examples_for;
use pith_core::flows::tune::{self, Source, TeacherModel, TuneOptions, Tuner};
use pith_core::history::History;
use pith_core::models::adapters;
use pith_core::models::synthetic::{write_lora, SHAPES};
use pith_core::models::{find_default_model, search_dirs};
use pith_core::tasks::rephrase::{
    build_request, rephrase_with, training_example, Example, RephraseMode, Strategy,
};
use pith_core::tune::{eval, pairs, Control, TrainSettings};
use pith_core::ErrorCode;
use pith_llama::tune::LlamaTuner;
use pith_llama::{LlamaEngine, LoadOptions};
use std::path::{Path, PathBuf};

fn default_model() -> PathBuf {
    find_default_model(&search_dirs())
        .expect("the default model is installed (scripts/fetch-models.sh)")
}

/// The base model alone: no adapter, whatever is installed.
fn base() -> LlamaEngine {
    let dir = tempfile::tempdir().expect("tmp");
    let none = dir.path().join("none.gguf");
    write_lora(&SHAPES[0], &none, 1, 0.0, 1).expect("a zero adapter");
    LlamaEngine::load(
        &default_model(),
        &LoadOptions {
            adapters: vec![("unused".into(), none)],
            ..LoadOptions::default()
        },
    )
    .expect("loads")
}

fn with_adapter(name: &str, file: &Path) -> LlamaEngine {
    LlamaEngine::load(
        &default_model(),
        &LoadOptions {
            adapters: vec![(name.into(), file.to_path_buf())],
            ..LoadOptions::default()
        },
    )
    .expect("the adapter loads")
}

fn greedy(e: &mut LlamaEngine, request: &GenerateRequest) -> String {
    e.generate(request, &CancelToken::new(), &mut |_| {})
        .expect("generates")
        .text
}

#[test]
fn an_adapter_trained_a_few_steps_on_the_real_model_loads_and_changes_its_answer() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut engine = base();
    let mode = RephraseMode::Proofread;
    let all = pairs::proofread_pairs(&pairs::sentences(), 1, 5);
    let sequences: Vec<pith_core::tune::Example> = all[..24]
        .iter()
        .map(|p| {
            let (request, answer, hidden) = training_example(&p.input, &p.target, mode);
            engine
                .training_tokens(&request, &answer, &hidden)
                .expect("tokens")
        })
        .collect();
    // Every example is the tuned prompt and its answer, in the model's tokens.
    assert!(sequences
        .iter()
        .all(|s| s.tokens.len() > 20 && s.tokens.len() < 120 && s.taught.len() == s.tokens.len()));
    // The inputs' mistakes are read but not taught.
    let hiding = sequences
        .iter()
        .filter(|s| s.taught.contains(&false))
        .count();
    assert!(hiding >= 18, "{hiding} of 24");

    let f32_model = dir.path().join("f32.gguf");
    pith_llama::tune::f32_copy(&default_model(), &f32_model, 2).expect("F32 copy");
    let settings = TrainSettings {
        n_ctx: 256,
        learning_rate: 1e-3,
        epochs: 1,
        threads: 2,
        targets: tune::TARGETS.iter().map(|s| s.to_string()).collect(),
        skip_steps: 0,
    };
    let mut losses = Vec::new();
    let trained = pith_llama::tune::train(&f32_model, &sequences, &settings, &[], &mut |s| {
        losses.push(s.loss);
        if s.step == 4 {
            Control::Stop
        } else {
            Control::Continue
        }
    })
    .expect("trains");
    assert_eq!(losses.len(), 4, "stopped after step 4");
    assert!(
        losses.iter().all(|l| l.is_finite() && *l > 0.0),
        "{losses:?}"
    );
    // Query, value and output projections of all 30 layers moved.
    assert_eq!(trained.len(), 90);
    assert!(trained.iter().all(|t| t.delta.iter().any(|d| *d != 0.0)));

    let (lora, kept) = tune::adapter_tensors(&trained, 8, 1);
    assert!(kept > 0.0 && kept <= 1.0, "{kept}");
    let file = dir.path().join("proofread.gguf");
    adapters::write(&file, "llama", &lora).expect("written");
    // Pith's own check takes it as an adapter for this architecture.
    adapters::check(&file, "llama").expect("an adapter for llama");

    let request = build_request(
        "the report were late becuase the printer broke",
        mode,
        Strategy::Tuned,
        24,
    );
    let before = greedy(
        &mut engine,
        &GenerateRequest {
            adapter: None,
            ..request.clone()
        },
    );
    let mut tuned = with_adapter("proofread", &file);
    let after = greedy(&mut tuned, &request);
    assert_ne!(
        before, after,
        "the trained adapter changes the greedy answer"
    );
    // Without the adapter, the same engine answers as the base model.
    let again = greedy(
        &mut tuned,
        &GenerateRequest {
            adapter: None,
            ..request
        },
    );
    assert_eq!(again, before);
}

#[test]
fn the_held_out_evaluation_refuses_an_adapter_that_is_not_better() {
    let dir = tempfile::tempdir().expect("tmp");
    // Random weights on every query and value projection: no better.
    let file = dir.path().join("noise.gguf");
    write_lora(&SHAPES[0], &file, 8, 0.05, 3).expect("written");
    let held: Vec<_> = pairs::split(pairs::proofread_pairs(&pairs::sentences(), 2, 9), 5)
        .1
        .into_iter()
        .take(6)
        .collect();
    let mode = RephraseMode::Proofread;
    let cancel = CancelToken::new();
    let base_score =
        eval::evaluate(&mut base(), mode, &held, None, &cancel, &mut |_| {}).expect("base scored");
    let tuned_score = eval::evaluate(
        &mut with_adapter("proofread", &file),
        mode,
        &held,
        Some("proofread"),
        &cancel,
        &mut |_| {},
    )
    .expect("adapter scored");
    assert!(base_score.pass_rate > 0.0, "{base_score:?}");
    assert!(
        tuned_score.similarity < base_score.similarity,
        "{tuned_score:?} {base_score:?}"
    );
    let refused = eval::verdict(&base_score, &tuned_score).expect_err("not better");
    assert_eq!(refused.code(), ErrorCode::ResultRejected);
    assert!(refused.to_string().contains("not better"), "{refused}");
}

#[test]
fn an_accepted_rewrite_of_a_similar_text_reaches_the_real_model_answer() {
    let mut engine = base();
    let text = "the meeting got moved to thursday because the manager is away";
    let accepted = "Because the manager is away, the meeting has been moved to Thursday.";
    let without = rephrase_with(
        &mut engine,
        text,
        RephraseMode::Rewrite,
        false,
        &[],
        &CancelToken::new(),
        &mut |_, _| {},
    )
    .expect("rewritten");
    assert_ne!(
        without.text, accepted,
        "the model alone writes it otherwise"
    );
    // Accepted earlier, kept in a real history file, found by its words.
    let dir = tempfile::tempdir().expect("tmp");
    let (mut history, _) = History::open(&dir.path().join("history.sqlite3")).expect("history");
    history
        .record_rewrite(text, accepted, "rewrite", true, true, Some("m"))
        .expect("recorded");
    history
        .record_rewrite(
            "send me the files today",
            "Could you send me the files today?",
            "rewrite",
            true,
            false,
            None,
        )
        .expect("recorded");
    let examples = examples_for(Some(&history), true, "rewrite", text);
    assert_eq!(
        examples.first(),
        Some(&Example {
            input: text.into(),
            output: accepted.into()
        })
    );
    assert!(
        examples_for(Some(&history), false, "rewrite", text).is_empty(),
        "learning off"
    );
    let with = rephrase_with(
        &mut engine,
        text,
        RephraseMode::Rewrite,
        false,
        &examples,
        &CancelToken::new(),
        &mut |_, _| {},
    )
    .expect("rewritten");
    assert_eq!(with.text, accepted, "the accepted rewrite is followed");
    assert!(with.generation.prompt_tokens > without.generation.prompt_tokens);
}

#[test]
fn the_tune_flow_runs_end_to_end_with_the_gemma_model_as_the_teacher() {
    let gemma = default_model().with_file_name("gemma-3-270m-q4_k_m.gguf");
    assert!(
        gemma.is_file(),
        "the Gemma test model is installed (scripts/fetch-models.sh --all)"
    );
    let install = tempfile::tempdir().expect("tmp");
    let mut engine = base();
    let mut tuner = LlamaTuner {
        model: default_model(),
        options: LoadOptions::default(),
    };
    let options = TuneOptions {
        epochs: 1,
        max_pairs: 6,
        max_held_out: 3,
        n_ctx: 256,
        rank: 4,
        ..TuneOptions::new(
            RephraseMode::Proofread,
            Source::Teacher(Box::new(TeacherModel {
                id: "gemma-3-270m-q4_k_m".into(),
                path: gemma,
            })),
        )
    };
    let mut stages = Vec::new();
    let trained = tune::train_and_evaluate(
        &mut engine,
        &default_model(),
        install.path(),
        &options,
        &mut tuner,
        None,
        &CancelToken::new(),
        &mut |e| {
            let name = format!("{e:?}");
            let stage = name
                .split([' ', '{'])
                .next()
                .unwrap_or_default()
                .to_string();
            if stages.last() != Some(&stage) {
                stages.push(stage);
            }
        },
    )
    .expect("the teacher's pairs train an adapter that is evaluated");
    assert_eq!(
        stages,
        [
            "Pairs",
            "Split",
            "Copying",
            "Training",
            "Factoring",
            "Evaluating"
        ]
    );
    let d = &trained.draft;
    assert_eq!(d.source, "gemma-3-270m-q4_k_m");
    assert!(d.train_pairs >= 1 && d.train_pairs <= 6, "{d:?}");
    assert_eq!(
        (d.base.pairs, d.tuned.pairs),
        (d.held_out_pairs, d.held_out_pairs)
    );
    assert!(
        d.tokens_per_s > 0.0 && d.kept > 0.0 && d.kept <= 1.0,
        "{d:?}"
    );
    adapters::check(&trained.candidate, "llama").expect("a llama adapter");
    // The verdict decides; either way the figures say why.
    match eval::verdict(&d.base, &d.tuned) {
        Ok(gain) => assert!(gain.pass_rate_points >= 0.0),
        Err(e) => assert!(e.to_string().contains("held-out"), "{e}"),
    }

    // A teacher that is not there: a clear error, before anything runs.
    let missing = TeacherModel {
        id: "absent".into(),
        path: install.path().join("absent.gguf"),
    };
    let err = tuner.teacher(&missing).err().expect("no such teacher");
    assert_eq!(err.code(), ErrorCode::NotFound);
    assert!(err.to_string().contains("install a larger model"), "{err}");
}
