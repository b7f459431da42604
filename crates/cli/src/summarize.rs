//! `pith summarize FILE`: the whole document, part by part, with a progress
//! bar on a terminal; the result is saved in the history as a conversation.

use crate::jobs::{cancel_on_ctrl_c, document_source, start};
use crate::{Failure, ModelArgs, OrFail};
use pith_core::documents::Limits;
use pith_core::engine::Priority;
use pith_core::flows::summary;
use pith_core::tasks::document::{Progress, Stage};
use pith_core::tasks::summarize::SummaryLength;
use pith_llama::LlamaEngine;
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::Mutex;

pub fn run(
    args: &ModelArgs,
    file: &Path,
    length: SummaryLength,
    json: bool,
) -> Result<(), Failure> {
    let limits = Limits::default();
    let source = document_source(Some(file), &limits).or_fail(json)?;
    let read = summary::read(source, &limits).or_fail(json)?;
    let history = crate::history::open_store()
        .map_err(|e| eprintln!("pith: the summary will not be saved in the history: {e}"))
        .ok()
        .map(Mutex::new);
    let history_open = history.is_some();
    let (worker, _) = start(args).or_fail(json)?;
    let bar = std::io::stderr().is_terminal();
    let job_read = read.clone();
    let ticket = worker.submit(Priority::Normal, move |engine: &mut LlamaEngine, cancel| {
        let result = summary::summarize_and_save(
            engine,
            history.as_ref(),
            &job_read,
            length,
            cancel,
            &mut |p| {
                if bar {
                    draw(p);
                }
            },
        );
        if bar {
            eprint!("\r\x1b[2K");
        }
        result
    });
    cancel_on_ctrl_c(ticket.cancel_token());
    let saved = ticket.wait().or_fail(json)?.or_fail(json)?;
    let summary = saved.summary;
    let conversation = match saved.conversation {
        Ok(c) => Some(c),
        Err(e) if history_open => {
            eprintln!("pith: the summary was not saved in the history: {e}");
            None
        }
        Err(_) => None,
    };
    let doc = &read.doc;
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
