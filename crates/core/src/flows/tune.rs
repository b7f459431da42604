//! `pith tune MODE`: specializes the small model for one mode, on this
//! machine, with nothing leaving it.
//!
//! 1. **Pairs**: made by rule (proofread: mistakes injected into clean
//!    sentences) or by a teacher (a larger installed model rewrites the
//!    sentences; only answers Pith's check accepts are kept). One sentence in
//!    five is held out, in every form.
//! 2. **Training**: an F32 copy of the model is trained on the pairs (the
//!    mode's short tuned prompt and the wanted answer) with llama.cpp's
//!    optimizer, only the attention projections trainable; progress is
//!    reported per step, a cancel keeps a checkpoint that `--resume` picks
//!    up. Memory and disk are checked before anything is written.
//! 3. **Adapter**: each trained projection's change is factored to rank
//!    `rank` (`tune::lowrank`) and written as a GGUF LoRA adapter.
//! 4. **Held-out evaluation**: the base model (its few-shot prompt) and the
//!    adapter (its tuned prompt) answer the held-out pairs, first try,
//!    greedy; the adapter is installed for the mode only when it does
//!    better (`tune::eval::verdict`), and the report says by how much.
//!
//! The llama.cpp parts come in through [`Tuner`], so the flow is tested on
//! the scripted engine.

use crate::engine::{CancelToken, Engine};
use crate::error::{Error, Result};
use crate::models::adapters::{self, LoraTensor};
use crate::tasks::rephrase::{rephrase, training_example, RephraseMode};
use crate::tune::eval::{self, Gain, Score};
use crate::tune::pairs::{self, Pair};
use crate::tune::{lowrank, Control, Example, TrainSettings, TrainedTensor, TrainingStep};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Where the training pairs come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Made by rule (proofread only).
    Rules,
    /// Written by this larger model, checked by Pith.
    Teacher(Box<TeacherModel>),
}

/// The teacher: an installed model larger than the one being tuned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeacherModel {
    pub id: String,
    pub path: PathBuf,
}

/// What to tune and how.
#[derive(Debug, Clone, PartialEq)]
pub struct TuneOptions {
    pub mode: RephraseMode,
    pub source: Source,
    pub epochs: u32,
    pub learning_rate: f32,
    pub rank: usize,
    /// Tokens per training window.
    pub n_ctx: u32,
    /// Versions of each clean sentence (rule-made pairs).
    pub per_sentence: usize,
    /// At most this many training pairs (0: all).
    pub max_pairs: usize,
    /// At most this many held-out pairs (0: all).
    pub max_held_out: usize,
    /// Carry on from the checkpoint a cancelled run left.
    pub resume: bool,
    /// Seeds the rule-made pairs and the factorisation.
    pub seed: u64,
    pub threads: usize,
}

impl TuneOptions {
    pub fn new(mode: RephraseMode, source: Source) -> Self {
        Self {
            mode,
            source,
            epochs: 3,
            learning_rate: 2e-5,
            rank: 32,
            n_ctx: 256,
            per_sentence: 3,
            max_pairs: 0,
            max_held_out: 0,
            resume: false,
            seed: 11,
            threads: crate::hardware::physical_cores(),
        }
    }
}

/// The trainable projections: query, value and output of every layer.
pub const TARGETS: [&str; 3] = ["attn_q.weight", "attn_v.weight", "attn_output.weight"];

/// What the flow needs from llama.cpp.
pub trait Tuner {
    /// Writes an all-F32 copy of `model` to `dst`.
    fn f32_copy(&mut self, model: &Path, dst: &Path) -> Result<()>;
    /// Trains `TARGETS` of the F32 model on `examples`; see
    /// `pith_llama::tune::train`.
    fn train(
        &mut self,
        f32_model: &Path,
        examples: &[Example],
        settings: &TrainSettings,
        start: &[TrainedTensor],
        on_step: &mut dyn FnMut(&TrainingStep) -> Control,
    ) -> Result<Vec<TrainedTensor>>;
    /// The model with `adapter` loaded under `name`.
    fn with_adapter(&mut self, name: &str, adapter: &Path) -> Result<Box<dyn Engine>>;
    /// The teacher model, loaded.
    fn teacher(&mut self, teacher: &TeacherModel) -> Result<Box<dyn Engine>>;
}

/// What the flow reports as it goes (the app's progress bar, `--json`).
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
#[serde(tag = "stage", rename_all = "snake_case")]
pub enum TuneEvent {
    /// Pairs being made (a teacher's are slow).
    Pairs { done: usize, of: usize },
    /// Pairs ready: for training and held out.
    Split { train: usize, held_out: usize },
    /// The F32 copy of the model is being written.
    Copying,
    Training {
        step: usize,
        steps: usize,
        loss: f64,
        tokens_per_s: f64,
    },
    /// The adapter is being written.
    Factoring,
    /// Held-out pairs answered by the base model (`tuned` false) or the
    /// adapter.
    Evaluating { tuned: bool, done: usize, of: usize },
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct TuneReport {
    pub mode: RephraseMode,
    /// `rules` or the teacher's id.
    pub source: String,
    pub train_pairs: usize,
    pub held_out_pairs: usize,
    /// Pairs a teacher wrote that Pith's check refused.
    pub refused_pairs: usize,
    pub steps: usize,
    pub training_tokens: usize,
    pub tokens_per_s: f64,
    pub minutes: f64,
    /// The share of the trained change the rank-`rank` adapter keeps.
    pub kept: f64,
    pub base: Score,
    pub tuned: Score,
    pub gain: Gain,
    /// Where the adapter was installed.
    #[ts(type = "string")]
    pub installed: PathBuf,
}

/// A cancelled run's place, kept beside its trained weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Checkpoint {
    model: String,
    mode: String,
    steps_done: usize,
    tensors: Vec<(String, usize, usize)>,
}

/// Memory and disk a run needs for a model of `parameters` with a
/// `vocab`-token vocabulary, per the plan in the module introduction:
/// the F32 copy (disk and memory), the AdamW moments and gradients of the
/// trainable share, and the logits of one window and their gradients.
pub fn needs(parameters: u64, trainable: u64, vocab: u64, n_ctx: u64) -> (u64, u64) {
    let f32_copy = parameters * 4;
    let memory = f32_copy + trainable * 4 * 3 + n_ctx * vocab * 4 * 3 + (256 << 20);
    let disk = f32_copy + trainable * 4 * 2;
    (memory, disk)
}

/// Refuses a run that would not fit, before anything is written.
pub fn check_room(
    need_memory: u64,
    need_disk: u64,
    free_memory: Option<u64>,
    free_disk: Option<u64>,
    dir: &Path,
) -> Result<()> {
    if let Some(free) = free_disk.filter(|&f| f < need_disk) {
        return Err(Error::DiskFull {
            dir: dir.to_path_buf(),
            needed: need_disk,
            free,
        });
    }
    if let Some(free) = free_memory.filter(|&f| f < need_memory) {
        return Err(Error::OutOfMemory {
            model: "tuning".into(),
            needed: need_memory,
            available: free,
            context: 0,
        });
    }
    Ok(())
}

/// The working folder of a model's tuning runs.
pub fn work_dir(install_dir: &Path, model: &Path, mode: RephraseMode) -> PathBuf {
    let stem = model
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    install_dir
        .join("tune")
        .join(format!("{stem}--{}", mode.name()))
}

/// The teacher for a model of `parameters`: the largest installed model
/// larger than it that fits this machine.
pub fn pick_teacher(
    parameters: u64,
    installed: &[super::rephrase::InstalledCandidate],
) -> Result<TeacherModel> {
    installed
        .iter()
        .filter(|c| c.candidate.fits && c.candidate.parameters > parameters)
        .max_by_key(|c| c.candidate.parameters)
        .map(|c| TeacherModel {
            id: c.candidate.id.clone(),
            path: c.path.clone(),
        })
        .ok_or_else(|| {
            Error::NotFound(format!(
                "a teacher: no installed model larger than this one ({}M parameters) fits                  this machine; install one (pith models recommend, pith models pull ID),                  or tune proofread by rule (pith tune proofread)",
                parameters / 1_000_000
            ))
        })
}

/// Pairs from `options.source`, split into training and held-out pairs.
/// Returns them with the count of teacher answers the check refused.
pub fn make_pairs(
    options: &TuneOptions,
    tuner: &mut dyn Tuner,
    cancel: &CancelToken,
    on_event: &mut dyn FnMut(TuneEvent),
) -> Result<(Vec<Pair>, Vec<Pair>, usize)> {
    let sentences = pairs::sentences();
    let (all, refused) = match &options.source {
        Source::Rules if options.mode == RephraseMode::Proofread => (
            pairs::proofread_pairs(&sentences, options.per_sentence, options.seed),
            0,
        ),
        Source::Rules => {
            return Err(Error::InvalidInput(format!(
                "pairs can be made by rule only for proofread; tune {} with a teacher \
                 (pith tune {} --teacher, which needs a larger installed model)",
                options.mode, options.mode
            )))
        }
        Source::Teacher(teacher) => {
            let mut engine = tuner.teacher(teacher)?;
            // Proofread's inputs carry mistakes; the other modes rewrite the
            // clean sentences.
            let inputs: Vec<(usize, String)> = if options.mode == RephraseMode::Proofread {
                pairs::proofread_pairs(&sentences, 1, options.seed)
                    .into_iter()
                    .map(|p| (p.sentence, p.input))
                    .collect()
            } else {
                sentences
                    .iter()
                    .map(|s| s.to_string())
                    .enumerate()
                    .collect()
            };
            let inputs = limit(inputs, wanted(options));
            let mut made = Vec::new();
            let mut refused = 0;
            for (i, (sentence, input)) in inputs.iter().enumerate() {
                match rephrase(engine.as_mut(), input, options.mode, cancel, &mut |_, _| {}) {
                    Ok(r) => made.push(Pair {
                        input: input.clone(),
                        target: r.text,
                        sentence: *sentence,
                    }),
                    Err(e) if e.code() == crate::ErrorCode::ResultRejected => refused += 1,
                    Err(e) => return Err(e),
                }
                on_event(TuneEvent::Pairs {
                    done: i + 1,
                    of: inputs.len(),
                });
            }
            (made, refused)
        }
    };
    let (train, held) = pairs::split(all, 5);
    let train = limit(train, options.max_pairs);
    let held = limit(held, options.max_held_out);
    if train.is_empty() || held.is_empty() {
        return Err(Error::InvalidInput(format!(
            "no usable training pairs for {}: {} made for training, {} held out{}",
            options.mode,
            train.len(),
            held.len(),
            if refused > 0 {
                format!(", {refused} refused by Pith's check")
            } else {
                String::new()
            }
        )));
    }
    on_event(TuneEvent::Split {
        train: train.len(),
        held_out: held.len(),
    });
    Ok((train, held, refused))
}

/// How many teacher inputs a run needs: enough for its training and
/// held-out pairs (one in five is held out), or all.
fn wanted(options: &TuneOptions) -> usize {
    if options.max_pairs == 0 {
        0
    } else {
        options.max_pairs + options.max_pairs / 4 + options.max_held_out
    }
}

fn limit<T>(mut v: Vec<T>, n: usize) -> Vec<T> {
    if n > 0 {
        v.truncate(n);
    }
    v
}

/// A trained and evaluated adapter, before the verdict.
#[derive(Debug, Clone)]
pub struct Trained {
    /// The adapter written (in the run's working folder).
    pub candidate: PathBuf,
    pub draft: TuneReportDraft,
}

/// The figures of a run before the verdict.
#[derive(Debug, Clone)]
pub struct TuneReportDraft {
    pub source: String,
    pub train_pairs: usize,
    pub held_out_pairs: usize,
    pub refused_pairs: usize,
    pub steps: usize,
    pub training_tokens: usize,
    pub tokens_per_s: f64,
    pub train_minutes: f64,
    pub kept: f64,
    pub base: Score,
    pub tuned: Score,
}

/// Runs the whole flow for the model `engine` runs (its file is
/// `model`), installing the adapter in `install_dir`'s `adapters/` when it
/// is better. `free_memory` is what the machine has now.
#[allow(clippy::too_many_arguments)]
pub fn tune(
    engine: &mut dyn Engine,
    model: &Path,
    install_dir: &Path,
    options: &TuneOptions,
    tuner: &mut dyn Tuner,
    free_memory: Option<u64>,
    cancel: &CancelToken,
    on_event: &mut dyn FnMut(TuneEvent),
) -> Result<TuneReport> {
    let started = Instant::now();
    let work = work_dir(install_dir, model, options.mode);
    let outcome = train_and_evaluate(
        engine,
        model,
        install_dir,
        options,
        tuner,
        free_memory,
        cancel,
        on_event,
    )
    .and_then(|trained| {
        let d = trained.draft;
        let gain = eval::verdict(&d.base, &d.tuned)?;
        let installed =
            adapters::import(&trained.candidate, options.mode.name(), model, install_dir)?;
        Ok((d, gain, installed))
    });
    // A cancelled run keeps its copy and checkpoint for --resume; any other
    // end leaves nothing behind (the F32 copy is several times the model).
    if !matches!(&outcome, Err(e) if e.code() == crate::ErrorCode::Cancelled) {
        let _ = std::fs::remove_dir_all(&work);
        // The runs' folder too, when no other run of a model waits in it.
        if let Some(runs) = work.parent() {
            let _ = std::fs::remove_dir(runs);
        }
    }
    let (d, gain, installed) = outcome?;
    Ok(TuneReport {
        mode: options.mode,
        source: d.source,
        train_pairs: d.train_pairs,
        held_out_pairs: d.held_out_pairs,
        refused_pairs: d.refused_pairs,
        steps: d.steps,
        training_tokens: d.training_tokens,
        tokens_per_s: d.tokens_per_s,
        minutes: started.elapsed().as_secs_f64() / 60.0,
        kept: d.kept,
        base: d.base,
        tuned: d.tuned,
        gain,
        installed,
    })
}

/// Everything but the verdict and the install: pairs, training, the
/// adapter written, and both models' held-out scores (`pith bench --tune`
/// reports these whatever the verdict).
#[allow(clippy::too_many_arguments)]
pub fn train_and_evaluate(
    engine: &mut dyn Engine,
    model: &Path,
    install_dir: &Path,
    options: &TuneOptions,
    tuner: &mut dyn Tuner,
    free_memory: Option<u64>,
    cancel: &CancelToken,
    on_event: &mut dyn FnMut(TuneEvent),
) -> Result<Trained> {
    let mode = options.mode;
    let info = engine.info().clone();
    let work = work_dir(install_dir, model, mode);
    let trainable = trainable_share(info.parameters);
    let (need_memory, need_disk) =
        needs(info.parameters, trainable, 65_536, u64::from(options.n_ctx));
    check_room(
        need_memory,
        need_disk,
        free_memory,
        crate::hardware::free_disk_bytes(install_dir),
        install_dir,
    )?;

    let (train, held, refused) = make_pairs(options, tuner, cancel, on_event)?;
    let mut sequences = Vec::with_capacity(train.len());
    for p in &train {
        let (request, answer, hidden) = training_example(&p.input, &p.target, mode);
        sequences.push(engine.training_tokens(&request, &answer, &hidden)?);
    }
    let training_tokens: usize = sequences.iter().map(|e| e.tokens.len()).sum();

    std::fs::create_dir_all(&work)
        .map_err(|e| Error::io(format!("creating {}", work.display()), e))?;
    let f32_model = work.join("model-f32.gguf");
    let (start, skip) = if options.resume {
        load_checkpoint(&work, &info.name, mode)?
    } else {
        (Vec::new(), 0)
    };
    if !f32_model.exists() {
        on_event(TuneEvent::Copying);
        let partial = work.join("model-f32.gguf.part");
        tuner.f32_copy(model, &partial)?;
        std::fs::rename(&partial, &f32_model)
            .map_err(|e| Error::io(format!("moving {}", f32_model.display()), e))?;
    }
    let settings = TrainSettings {
        n_ctx: options.n_ctx,
        learning_rate: options.learning_rate,
        epochs: options.epochs,
        threads: options.threads,
        targets: TARGETS.iter().map(|s| s.to_string()).collect(),
        skip_steps: skip,
    };
    let mut last = TrainingStep {
        step: skip,
        steps: 0,
        loss: 0.0,
        tokens_per_s: 0.0,
    };
    let train_started = Instant::now();
    let trained = tuner.train(&f32_model, &sequences, &settings, &start, &mut |step| {
        last = step.clone();
        on_event(TuneEvent::Training {
            step: step.step,
            steps: step.steps,
            loss: step.loss,
            tokens_per_s: step.tokens_per_s,
        });
        if cancel.is_cancelled() {
            Control::Stop
        } else {
            Control::Continue
        }
    })?;
    let train_minutes = train_started.elapsed().as_secs_f64() / 60.0;
    if cancel.is_cancelled() {
        save_checkpoint(&work, &info.name, mode, last.step, &trained)?;
        return Err(Error::Cancelled);
    }

    on_event(TuneEvent::Factoring);
    let (lora, kept) = adapter_tensors(&trained, options.rank, options.seed);
    let candidate = work.join("candidate.gguf");
    adapters::write(&candidate, &info.architecture, &lora)
        .map_err(|e| Error::io(format!("writing {}", candidate.display()), e))?;

    let base = eval::evaluate(engine, mode, &held, None, cancel, &mut |done| {
        on_event(TuneEvent::Evaluating {
            tuned: false,
            done,
            of: held.len(),
        })
    })?;
    let tuned = {
        let mut with = tuner.with_adapter(mode.name(), &candidate)?;
        eval::evaluate(
            with.as_mut(),
            mode,
            &held,
            Some(mode.name()),
            cancel,
            &mut |done| {
                on_event(TuneEvent::Evaluating {
                    tuned: true,
                    done,
                    of: held.len(),
                })
            },
        )?
    };
    Ok(Trained {
        candidate,
        draft: TuneReportDraft {
            source: match &options.source {
                Source::Rules => "rules".into(),
                Source::Teacher(t) => t.id.clone(),
            },
            train_pairs: train.len(),
            held_out_pairs: held.len(),
            refused_pairs: refused,
            steps: last.steps,
            training_tokens,
            tokens_per_s: last.tokens_per_s,
            train_minutes,
            kept,
            base,
            tuned,
        },
    })
}

/// The trained changes as rank-`rank` LoRA pairs, and the mean share of
/// each change they keep.
pub fn adapter_tensors(
    trained: &[TrainedTensor],
    rank: usize,
    seed: u64,
) -> (Vec<LoraTensor>, f64) {
    let mut kept = 0.0;
    let lora: Vec<LoraTensor> = trained
        .iter()
        .map(|t| {
            let f = lowrank::factor(&t.delta, t.rows, t.cols, rank, seed);
            kept += f.kept;
            LoraTensor {
                name: t.name.clone(),
                rank: f.rank,
                rows: t.rows,
                cols: t.cols,
                a: f.a,
                b: f.b,
            }
        })
        .collect();
    let kept = kept / lora.len().max(1) as f64;
    (lora, kept)
}

/// The trainable share of a model's weights: query, value and output
/// projections are about a sixth of a small llama-shaped model.
fn trainable_share(parameters: u64) -> u64 {
    parameters / 6
}

fn save_checkpoint(
    work: &Path,
    model: &str,
    mode: RephraseMode,
    steps_done: usize,
    tensors: &[TrainedTensor],
) -> Result<()> {
    let meta = Checkpoint {
        model: model.to_string(),
        mode: mode.name().to_string(),
        steps_done,
        tensors: tensors
            .iter()
            .map(|t| (t.name.clone(), t.rows, t.cols))
            .collect(),
    };
    let mut bytes = Vec::new();
    for t in tensors {
        for x in &t.delta {
            bytes.extend(x.to_le_bytes());
        }
    }
    let io = |e| Error::io(format!("writing the checkpoint in {}", work.display()), e);
    std::fs::write(work.join("checkpoint.bin"), bytes).map_err(io)?;
    let json = serde_json::to_vec(&meta).map_err(|e| Error::Inference(e.to_string()))?;
    std::fs::write(work.join("checkpoint.json"), json).map_err(io)
}

/// The trained weights and steps done of a cancelled run, for `--resume`.
fn load_checkpoint(
    work: &Path,
    model: &str,
    mode: RephraseMode,
) -> Result<(Vec<TrainedTensor>, usize)> {
    let missing = || {
        Error::NotFound(format!(
            "a cancelled tuning run of {} to resume (none in {}); start one without --resume",
            mode,
            work.display()
        ))
    };
    let json = std::fs::read(work.join("checkpoint.json")).map_err(|_| missing())?;
    let bytes = std::fs::read(work.join("checkpoint.bin")).map_err(|_| missing())?;
    let meta: Checkpoint = serde_json::from_slice(&json).map_err(|e| {
        Error::InvalidInput(format!(
            "the checkpoint in {} is damaged: {e}",
            work.display()
        ))
    })?;
    if meta.model != model || meta.mode != mode.name() {
        return Err(missing());
    }
    let mut tensors = Vec::new();
    let mut at = 0usize;
    for (name, rows, cols) in meta.tensors {
        let n = rows * cols * 4;
        let chunk = bytes.get(at..at + n).ok_or_else(|| {
            Error::InvalidInput(format!("the checkpoint in {} is cut short", work.display()))
        })?;
        at += n;
        tensors.push(TrainedTensor {
            name,
            rows,
            cols,
            delta: chunk
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
        });
    }
    Ok((tensors, meta.steps_done))
}

#[cfg(test)]
mod tests;
