//! `pith summarize FILE`: the whole document, part by part, with a progress
//! bar on a terminal; the result is saved in the history as a conversation.

use crate::jobs::{cancel_on_ctrl_c, read_stdin, start};
use crate::{Failure, ModelArgs, OrFail};
use pith_core::documents::{self, Limits};
use pith_core::engine::Priority;
use pith_core::tasks::document::{summarize_document, Options, Progress, Stage};
use pith_core::tasks::summarize::SummaryLength;
use pith_llama::LlamaEngine;
use std::io::{IsTerminal, Write};
use std::path::Path;

pub fn run(
    args: &ModelArgs,
    file: &Path,
    length: SummaryLength,
    json: bool,
) -> Result<(), Failure> {
    let limits = Limits::default();
    let (doc, name, bytes) = if file == Path::new("-") {
        let bytes = read_stdin().or_fail(json)?;
        let size = bytes.len() as u64;
        let doc = documents::extract(bytes, &limits).or_fail(json)?;
        (doc, "standard input".to_string(), size)
    } else {
        let size = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
        let doc = documents::extract_file(file, &limits).or_fail(json)?;
        let name = file.file_name().map_or_else(
            || file.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        (doc, name, size)
    };
    let (worker, model_path) = start(args).or_fail(json)?;
    let bar = std::io::stderr().is_terminal();
    let job_doc = doc.clone();
    let ticket = worker.submit(Priority::Normal, move |engine: &mut LlamaEngine, cancel| {
        let options = Options {
            length: Some(length),
            ..Options::default()
        };
        let result = summarize_document(engine, &job_doc, &options, cancel, &mut |p| {
            if bar {
                draw(p);
            }
        });
        if bar {
            eprint!("\r\x1b[2K");
        }
        result
    });
    cancel_on_ctrl_c(ticket.cancel_token());
    let summary = ticket.wait().or_fail(json)?.or_fail(json)?;

    let model = model_path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned());
    let saved = summary.to_saved(&doc, &name, bytes, model.as_deref());
    let conversation = crate::history::open_store()
        .and_then(|mut h| h.save_document_summary(&saved))
        .map_err(|e| eprintln!("pith: the summary was not saved in the history: {e}"))
        .ok();
    if json {
        let value = serde_json::json!({
            "summary": summary.text,
            "coverage": summary.coverage,
            "length": summary.length,
            "format": doc.format,
            "pages": doc.pages,
            "parts": summary.parts,
            "removed": summary.removed,
            "source_tokens": summary.source_tokens,
            "generated_tokens": summary.generated_tokens,
            "reduce_rounds": summary.reduce_rounds,
            "parallel": summary.parallel,
            "total_s": summary.total_s,
            "conversation": conversation.map(|c| c.0),
        });
        println!("{value}");
    } else {
        println!("{}\n\n{}", summary.text, summary.coverage);
        if let Some(c) = conversation {
            eprintln!(
                "pith: saved as conversation {} (pith chat --conversation {})",
                c.0, c.0
            );
        }
    }
    Ok(())
}

/// One line: a bar, parts done, and the time left.
fn draw(p: &Progress) {
    const WIDTH: usize = 24;
    let filled = (p.parts_done * WIDTH).checked_div(p.parts).unwrap_or(0);
    let what = match p.stage {
        Stage::Map => "reading",
        Stage::Retry => "checking",
        Stage::Reduce => "combining",
    };
    let eta = p
        .eta_s
        .map(|s| format!(" · about {} s left", s.ceil() as u64))
        .unwrap_or_default();
    eprint!(
        "\r\x1b[2K[{}{}] {}/{} parts · {what}{eta}",
        "#".repeat(filled),
        "-".repeat(WIDTH - filled),
        p.parts_done,
        p.parts
    );
    let _ = std::io::stderr().flush();
}
