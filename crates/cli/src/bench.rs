//! `pith bench`: one JSON object of speed and memory figures, measured
//! through the real engine path.

use crate::{Failure, ModelArgs, OrFail};
use pith_core::engine::{CancelToken, Engine};
use pith_core::tasks::rephrase::{rephrase, RephraseMode};
use pith_llama::{LlamaEngine, LoadOptions};
use std::time::Instant;

/// A 40-word text for the rephrase first-token figure.
const REPHRASE_TEXT: &str =
    "i wanted to let you know that the delivery of the new office chairs has been \
    moved to next tuesday because the supplier had problems with there trucks, so please keep the \
    meeting room free that morning for the unpacking.";

/// Peak resident memory of this process, from /proc/self/status (VmHWM).
fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some((kb / 1024.0 * 10.0).round() / 10.0)
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

pub fn run(args: &ModelArgs) -> Result<(), Failure> {
    let path = pith_core::models::resolve_model(args.model.as_deref()).or_fail(true)?;
    let options = LoadOptions {
        threads: args.threads,
        ..LoadOptions::default()
    };
    eprintln!("pith bench: {}", path.display());
    let t = Instant::now();
    let mut engine = LlamaEngine::load(&path, &options).or_fail(true)?;
    let load_s = t.elapsed().as_secs_f64();

    eprintln!("pith bench: prompt (512 tokens) ...");
    let prompt_tps = engine.bench_prompt(512, 3).or_fail(true)?;
    eprintln!("pith bench: generation (128 tokens) ...");
    let gen_tps = engine.bench_generation(128, 3).or_fail(true)?;

    eprintln!("pith bench: rephrase first token ...");
    let mut first_piece: Option<f64> = None;
    let started = Instant::now();
    let rephrased = rephrase(
        &mut engine,
        REPHRASE_TEXT,
        RephraseMode::Rewrite,
        &CancelToken::new(),
        &mut |_, _| {
            first_piece.get_or_insert_with(|| started.elapsed().as_secs_f64());
        },
    );
    let rephrase_ttft_s = first_piece.map(round3);

    let info = engine.info().clone();
    let value = serde_json::json!({
        "model": info.name,
        "model_file": path.file_name().map(|n| n.to_string_lossy().into_owned()),
        "model_size_mb": (info.size_bytes as f64 / 1e6).round(),
        "cpu_target": env!("PITH_CPU_TARGET"),
        "cpu_features": pith_llama::cpu_features(),
        "threads": engine.threads(),
        "context": info.context,
        "load_s": round3(load_s),
        "prompt_tps": (prompt_tps * 10.0).round() / 10.0,
        "gen_tps": (gen_tps * 10.0).round() / 10.0,
        "rephrase_ttft_s": rephrase_ttft_s,
        "rephrase_ok": rephrased.is_ok(),
        "peak_rss_mb": peak_rss_mb(),
    });
    println!(
        "{}",
        serde_json::to_string_pretty(&value).unwrap_or_default()
    );
    Ok(())
}
