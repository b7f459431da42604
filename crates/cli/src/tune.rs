//! `pith tune MODE`: specialize the small model for one mode (see
//! `pith_core::flows::tune`). Progress goes to standard error; the report
//! (or, with --json, one JSON object) to standard output.

use crate::jobs::cancel_on_ctrl_c;
use crate::{Failure, ModelArgs, OrFail};
use clap::Args;
use pith_core::engine::{CancelToken, Engine};
use pith_core::flows::rephrase::InstalledCandidate;
use pith_core::flows::tune::{self, Source, TuneEvent, TuneOptions};
use pith_core::routing::Candidate;
use pith_core::tasks::rephrase::RephraseMode;
use pith_llama::tune::LlamaTuner;
use pith_llama::{LlamaEngine, LoadOptions};
use std::io::IsTerminal;

#[derive(Args)]
pub struct TuneArgs {
    /// proofread | rewrite | friendly | professional | concise | bullets
    pub mode: RephraseMode,
    /// Make the pairs with the largest installed model larger than this
    /// one (the teacher) instead of by rule; every pair it writes must pass
    /// Pith's check. Needed for every mode but proofread.
    #[arg(long)]
    pub teacher: bool,
    /// Passes over the training pairs.
    #[arg(long, default_value_t = 3)]
    pub epochs: u32,
    /// The adapter's rank.
    #[arg(long, default_value_t = 32)]
    pub rank: usize,
    /// AdamW's learning rate (1e-4 overwrote the model's skills in
    /// measurements; 2e-5 taught proofread without it).
    #[arg(long, default_value_t = 2e-5)]
    pub learning_rate: f32,
    /// At most this many training pairs (default: all).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub pairs: usize,
    /// At most this many held-out pairs (default: all).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub held_out: usize,
    /// Carry on from where a cancelled run (Ctrl-C) stopped.
    #[arg(long)]
    pub resume: bool,
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub model: ModelArgs,
}

pub fn run(args: &TuneArgs) -> Result<(), Failure> {
    let json = args.json;
    let path = pith_core::models::resolve_model(args.model.model.as_deref()).or_fail(json)?;
    let install = pith_core::models::store::install_dir().or_fail(json)?;
    let options = LoadOptions {
        threads: args.model.threads,
        force: args.model.force,
        ..LoadOptions::default()
    };
    let mut engine = LlamaEngine::load(&path, &options).or_fail(json)?;
    let source = if args.teacher {
        let pool = crate::serve::pool(&ModelArgs {
            model: None,
            threads: args.model.threads,
            force: args.model.force,
        })
        .or_fail(json)?;
        let installed: Vec<InstalledCandidate> = pool
            .models()
            .iter()
            .map(|m| InstalledCandidate {
                candidate: Candidate {
                    id: m.id.clone(),
                    parameters: m.parameters,
                    fits: m.fits,
                },
                path: m.path.clone(),
                bytes: m.bytes,
            })
            .collect();
        let teacher = tune::pick_teacher(engine.info().parameters, &installed).or_fail(json)?;
        eprintln!("pith: the teacher is {}", teacher.id);
        Source::Teacher(Box::new(teacher))
    } else {
        Source::Rules
    };
    let opts = TuneOptions {
        epochs: args.epochs.max(1),
        rank: args.rank.max(1),
        learning_rate: args.learning_rate,
        max_pairs: args.pairs,
        max_held_out: args.held_out,
        resume: args.resume,
        threads: args
            .model
            .threads
            .unwrap_or_else(pith_core::hardware::physical_cores),
        ..TuneOptions::new(args.mode, source)
    };
    let mut tuner = LlamaTuner {
        model: path.clone(),
        options: options.clone(),
    };
    let cancel = CancelToken::new();
    cancel_on_ctrl_c(cancel.clone());
    let free_memory = pith_core::hardware::probe_memory().usable_ram_bytes();
    let terminal = std::io::stderr().is_terminal();
    let report = tune::tune(
        &mut engine,
        &path,
        &install,
        &opts,
        &mut tuner,
        free_memory,
        &cancel,
        &mut |e| progress(&e, terminal),
    );
    if terminal {
        eprint!("\r\x1b[2K");
    }
    if cancel.is_cancelled() {
        eprintln!(
            "pith: tuning stopped; `pith tune {} --resume` carries on",
            args.mode
        );
    }
    let report = report.or_fail(json)?;
    if json {
        println!("{}", serde_json::to_string(&report).unwrap_or_default());
    } else {
        println!(
            "{} adapter installed: {}\n  held-out pass rate {:.0}% -> {:.0}% ({:+.0} points), \
             similarity {:.3} -> {:.3}\n  {} training pairs ({}), {} held out; {} steps at {:.0} tokens/s, {:.1} minutes",
            report.mode,
            report.installed.display(),
            report.base.pass_rate * 100.0,
            report.tuned.pass_rate * 100.0,
            report.gain.pass_rate_points,
            report.base.similarity,
            report.tuned.similarity,
            report.train_pairs,
            report.source,
            report.held_out_pairs,
            report.steps,
            report.tokens_per_s,
            report.minutes
        );
    }
    Ok(())
}

/// One line per stage, redrawn in place on a terminal.
fn progress(event: &TuneEvent, terminal: bool) {
    let line = match event {
        TuneEvent::Pairs { done, of } => format!("teacher writing pairs: {done}/{of}"),
        TuneEvent::Split { train, held_out } => {
            format!("{train} training pairs, {held_out} held out")
        }
        TuneEvent::Copying => "writing an F32 copy of the model".into(),
        TuneEvent::Training {
            step,
            steps,
            loss,
            tokens_per_s,
        } => format!("training: step {step}/{steps}, loss {loss:.3}, {tokens_per_s:.0} tokens/s"),
        TuneEvent::Factoring => "writing the adapter".into(),
        TuneEvent::Evaluating { tuned, done, of } => format!(
            "held-out evaluation ({}): {done}/{of}",
            if *tuned { "adapter" } else { "base model" }
        ),
    };
    if terminal {
        eprint!("\r\x1b[2K{line}");
    } else if !matches!(
        event,
        TuneEvent::Pairs { .. } | TuneEvent::Evaluating { .. } | TuneEvent::Training { .. }
    ) || matches!(event, TuneEvent::Training { step, steps, .. } if step % 10 == 0 || step == steps)
    {
        eprintln!("{line}");
    }
}
