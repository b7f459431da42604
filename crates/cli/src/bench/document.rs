//! Document figures for `pith bench`: the map step with parallel sequences
//! against one part at a time, and a whole summary end to end.

use pith_core::documents::{self, sample, Limits};
use pith_core::engine::{CancelToken, Engine, GenerateRequest, Generation};
use pith_core::tasks::chunk::chunk;
use pith_core::tasks::document::{
    default_part_tokens, part_request, summarize_document, Options, Stage, OVERLAP_DIVISOR,
};
use pith_core::tasks::summarize::SummaryLength;
use pith_core::Result;
use pith_llama::{LlamaEngine, PARALLEL};
use std::time::Instant;

/// Pages of the sample report that make about 10,000 tokens.
const REPORT_PAGES: usize = 30;

/// The sample report as a PDF file's bytes.
fn report_pdf() -> Vec<u8> {
    let pages: Vec<Vec<String>> = sample::report(REPORT_PAGES, 250)
        .iter()
        .map(|p| sample::wrap(p, 95))
        .collect();
    sample::pdf(&pages)
}

/// Generated tokens per second while generating (prompt time excluded).
fn generation_tps(generations: &[Generation], batched: bool) -> f64 {
    let tokens: usize = generations.iter().map(|g| g.generated_tokens).sum();
    let seconds = if batched {
        // One shared run: from the first token of any sequence to the end.
        let end = generations.iter().map(|g| g.total_s).fold(0.0, f64::max);
        let start = generations
            .iter()
            .map(|g| g.ttft_s)
            .fold(f64::MAX, f64::min);
        end - start
    } else {
        generations.iter().map(|g| g.total_s - g.ttft_s).sum()
    };
    tokens as f64 / seconds.max(1e-9)
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// Four short prompts (~70 tokens), 128 tokens each: batched against one at
/// a time, where attention is cheap and batching shows what it can give.
fn short_batch(engine: &mut LlamaEngine) -> Result<(f64, f64)> {
    use pith_core::engine::{ChatMessage, Prompt};
    let requests: Vec<GenerateRequest> = (0..PARALLEL)
        .map(|i| {
            GenerateRequest::new(
                Prompt::Chat(vec![ChatMessage::user(format!(
                    "{}Tell me a long story about dragon number {i}.",
                    "The weather is nice today. ".repeat(10)
                ))]),
                128,
            )
        })
        .collect();
    let cancel = CancelToken::new();
    let batched = engine.generate_batch(&requests, &cancel, &mut |_, _| {})?;
    let mut sequential = Vec::new();
    for r in &requests {
        engine.clear_cache();
        sequential.push(engine.generate(r, &cancel, &mut |_| {})?);
    }
    Ok((
        generation_tps(&batched, true),
        generation_tps(&sequential, false),
    ))
}

/// `map_batched_tps` / `map_sequential_tps` over the first 8 parts of the
/// report, and `summarize_doc_tps` for the whole report.
pub fn figures(engine: &mut LlamaEngine, prompt_tps: f64) -> Result<serde_json::Value> {
    let doc = documents::extract(report_pdf(), &Limits::default())?;
    let part_tokens = default_part_tokens(engine.info().context as usize, PARALLEL);
    let parts = chunk(
        &doc.text,
        part_tokens,
        part_tokens / OVERLAP_DIVISOR,
        &mut |s| engine.count_tokens(s),
    )?;
    let requests: Vec<GenerateRequest> = parts
        .iter()
        .take(2 * PARALLEL)
        .map(|c| part_request(&doc.text[c.start..c.end], SummaryLength::Short))
        .collect();
    let cancel = CancelToken::new();

    let t = Instant::now();
    let mut batched = Vec::new();
    for group in requests.chunks(PARALLEL) {
        let gens = engine.generate_batch(group, &cancel, &mut |_, _| {})?;
        batched.push(gens);
    }
    let batched_wall = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let mut sequential = Vec::new();
    for r in &requests {
        engine.clear_cache();
        sequential.push(engine.generate(r, &cancel, &mut |_| {})?);
    }
    let sequential_wall = t.elapsed().as_secs_f64();
    let batched_tps = batched
        .iter()
        .map(|g| generation_tps(g, true) * g.len() as f64)
        .sum::<f64>()
        / requests.len() as f64;
    let sequential_tps = generation_tps(&sequential, false);
    let same = batched
        .iter()
        .flatten()
        .zip(&sequential)
        .all(|(a, b)| a.text == b.text);

    let (short_batched, short_sequential) = short_batch(engine)?;

    // The whole report, from the PDF's bytes to the final summary.
    engine.clear_cache();
    let t = Instant::now();
    let doc = documents::extract(report_pdf(), &Limits::default())?;
    // When each stage began: where the time goes.
    let mut stages: Vec<(Stage, f64)> = Vec::new();
    let summary = summarize_document(engine, &doc, &Options::default(), &cancel, &mut |p| {
        if stages.last().is_none_or(|(s, _)| *s != p.stage) {
            stages.push((p.stage, p.elapsed_s));
        }
    })?;
    let total = t.elapsed().as_secs_f64();
    let doc_tps = summary.source_tokens as f64 / total;
    let stage_s = |stage: Stage| {
        let i = stages.iter().position(|(s, _)| *s == stage)?;
        let end = stages.get(i + 1).map_or(total, |(_, t)| *t);
        Some(round1(end - stages[i].1))
    };
    Ok(serde_json::json!({
        "map_parts": requests.len(),
        "map_parallel": PARALLEL,
        "map_batched_tps": round1(batched_tps),
        "map_sequential_tps": round1(sequential_tps),
        "map_speedup": (batched_tps / sequential_tps * 100.0).round() / 100.0,
        "map_batched_wall_s": round1(batched_wall),
        "map_sequential_wall_s": round1(sequential_wall),
        "map_same_output": same,
        "short_batched_tps": round1(short_batched),
        "short_sequential_tps": round1(short_sequential),
        "short_speedup": (short_batched / short_sequential * 100.0).round() / 100.0,
        "summarize_doc_pages": doc.pages,
        "summarize_doc_tokens": summary.source_tokens,
        "summarize_doc_parts": summary.parts.len(),
        "summarize_doc_retried_parts": summary.parts.iter().filter(|p| p.attempts > 1).count(),
        "summarize_doc_generated_tokens": summary.generated_tokens,
        "summarize_doc_s": round1(total),
        "summarize_doc_tps": round1(doc_tps),
        "summarize_doc_map_s": stage_s(Stage::Map),
        "summarize_doc_retry_s": stage_s(Stage::Retry),
        "summarize_doc_reduce_s": stage_s(Stage::Reduce),
        "summarize_doc_vs_prompt": (doc_tps / prompt_tps * 100.0).round() / 100.0,
        "summarize_doc_coverage": summary.coverage,
    }))
}
