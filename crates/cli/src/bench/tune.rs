//! `pith bench --tune`: a whole proofread tuning run on the model (rule-made
//! pairs, into a temporary folder: nothing is installed), its speed and
//! held-out scores, whether the other modes answer as before with the
//! adapter loaded, and what switching between adapters costs.

use pith_core::engine::{CancelToken, Engine, GenerateRequest};
use pith_core::flows::tune::{self, Source, TuneOptions};
use pith_core::tasks::rephrase::{build_request, RephraseMode, Strategy};
use pith_core::Result;
use pith_llama::tune::LlamaTuner;
use pith_llama::{LlamaEngine, LoadOptions};
use serde_json::json;
use std::path::Path;
use std::time::Instant;

/// Texts of the other modes, answered with and without the adapter loaded.
const OTHER: [(&str, RephraseMode); 3] = [
    (
        "the meeting got moved to thursday, sorry for the late notice",
        RephraseMode::Rewrite,
    ),
    ("send me the numbers today", RephraseMode::Friendly),
    (
        "we cant ship the order because the address is wrong",
        RephraseMode::Professional,
    ),
];

pub fn figures(
    engine: &mut LlamaEngine,
    model: &Path,
    options: &LoadOptions,
) -> Result<serde_json::Value> {
    let dir =
        tempfile::tempdir().map_err(|e| pith_core::Error::io("creating a temporary folder", e))?;
    let opts = TuneOptions::new(RephraseMode::Proofread, Source::Rules);
    let mut tuner = LlamaTuner {
        model: model.to_path_buf(),
        options: options.clone(),
    };
    let started = Instant::now();
    let free = pith_core::hardware::probe_memory().usable_ram_bytes();
    let trained = tune::train_and_evaluate(
        engine,
        model,
        dir.path(),
        &opts,
        &mut tuner,
        free,
        &CancelToken::new(),
        &mut |e| {
            if let tune::TuneEvent::Training { step, steps, .. } = e {
                if step % 25 == 0 {
                    eprintln!("pith bench: training step {step}/{steps}");
                }
            }
        },
    )?;
    let minutes = started.elapsed().as_secs_f64() / 60.0;
    let d = &trained.draft;
    let verdict = pith_core::tune::eval::verdict(&d.base, &d.tuned);

    // The other modes with the adapter loaded: the same answers.
    let mut with = LlamaEngine::load(
        model,
        &LoadOptions {
            adapters: vec![("proofread".into(), trained.candidate.clone())],
            states: None,
            ..options.clone()
        },
    )?;
    let mut unchanged = true;
    for (text, mode) in OTHER {
        let request = build_request(text, mode, Strategy::Completion, 48);
        let a = engine
            .generate(&request, &CancelToken::new(), &mut |_| {})?
            .text;
        let b = with
            .generate(&request, &CancelToken::new(), &mut |_| {})?
            .text;
        unchanged &= a == b;
    }

    // Switching: one-token requests on the same short prompt, alternating
    // between the adapter and the base model, against the same requests
    // without a switch. The difference is what a switch costs (the adapter
    // set on the context and the prompt evaluated again).
    let prompt = build_request(
        "The cat sat on the mat.",
        RephraseMode::Proofread,
        Strategy::Tuned,
        1,
    );
    let time = |e: &mut LlamaEngine, adapter: Option<&str>| -> Result<f64> {
        let mut r = GenerateRequest::new(prompt.prompt.clone(), 1);
        r.adapter = adapter.map(str::to_string);
        let t = Instant::now();
        e.generate(&r, &CancelToken::new(), &mut |_| {})?;
        Ok(t.elapsed().as_secs_f64() * 1000.0)
    };
    let rounds = 6;
    let (mut switching, mut staying) = (0.0, 0.0);
    for i in 0..rounds {
        let a = if i % 2 == 0 { Some("proofread") } else { None };
        switching += time(&mut with, a)?;
    }
    for _ in 0..rounds {
        staying += time(&mut with, Some("proofread"))?;
    }
    let switch_ms = ((switching - staying) / rounds as f64).max(0.0);

    Ok(json!({
        "tune_mode": "proofread",
        "tune_source": d.source,
        "tune_train_pairs": d.train_pairs,
        "tune_held_out_pairs": d.held_out_pairs,
        "tune_steps": d.steps,
        "tune_training_tokens": d.training_tokens,
        "tune_tokens_per_s": round(d.tokens_per_s, 1),
        "tune_train_minutes": round(d.train_minutes, 2),
        "tune_minutes": round(minutes, 2),
        "tune_rank": opts.rank,
        "tune_kept": round(d.kept, 3),
        "base_pass_rate": round(d.base.pass_rate, 3),
        "tuned_pass_rate": round(d.tuned.pass_rate, 3),
        "base_check_pass_rate": round(d.base.check_pass_rate, 3),
        "tuned_check_pass_rate": round(d.tuned.check_pass_rate, 3),
        "base_similarity": round(d.base.similarity, 3),
        "tuned_similarity": round(d.tuned.similarity, 3),
        "tune_would_install": verdict.is_ok(),
        "other_modes_unchanged": unchanged,
        "adapter_switch_ms": round(switch_ms, 1),
    }))
}

fn round(x: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (x * f).round() / f
}
