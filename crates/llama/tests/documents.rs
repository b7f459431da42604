//! Whole-document summaries on the real default model: a generated 20-page
//! PDF, end to end (extraction, parts, parallel map, checks, reduce), and
//! cancelling part-way.

use pith_core::documents::{self, sample, Limits, MarkerKind};
use pith_core::engine::{CancelToken, Priority, Worker};
use pith_core::history::History;
use pith_core::models::{find_default_model, search_dirs};
use pith_core::tasks::document::{summarize_document, Options, Stage};
use pith_core::tasks::summarize::SummaryLength;
use pith_core::ErrorCode;
use pith_llama::{LlamaEngine, LoadOptions};
use std::time::Duration;

fn engine() -> LlamaEngine {
    let path = find_default_model(&search_dirs()).expect("the default model is installed");
    LlamaEngine::load(&path, &LoadOptions::default()).expect("loads")
}

/// The 20-page library report as a PDF, extracted.
fn report_pdf() -> documents::Document {
    let pages: Vec<Vec<String>> = sample::report(20, 230)
        .iter()
        .map(|p| sample::wrap(p, 95))
        .collect();
    let doc = documents::extract(sample::pdf(&pages), &Limits::default()).expect("extracts");
    assert_eq!(doc.pages, Some(20));
    doc
}

#[test]
fn a_twenty_page_pdf_is_summarized_part_by_part_and_the_coverage_says_so() {
    let doc = report_pdf();
    let mut e = engine();
    let mut events = Vec::new();
    let s = summarize_document(
        &mut e,
        &doc,
        &Options::default(),
        &CancelToken::new(),
        &mut |p| events.push(p.clone()),
    )
    .expect("summary");
    eprintln!("{}\n{}\n{:#?}", s.text, s.coverage, s.removed);
    for p in &s.parts {
        eprintln!(
            "part {} {:?} attempts {}: {}",
            p.index + 1,
            p.pages,
            p.attempts,
            p.summary
        );
    }
    assert!(s.parts.len() >= 4, "{} parts", s.parts.len());
    assert_eq!(s.parallel, pith_llama::PARALLEL);
    // Every byte of the text is in some part, in order.
    assert_eq!(s.parts[0].start, 0);
    assert_eq!(s.parts.last().map(|p| p.end), Some(doc.text.len()));
    for pair in s.parts.windows(2) {
        assert!(pair[1].start <= pair[0].end && pair[1].start > pair[0].start);
    }
    // Every page is in some part, and every part has a summary.
    let pages: std::collections::BTreeSet<usize> = s
        .parts
        .iter()
        .filter_map(|p| p.pages)
        .flat_map(|(a, b)| a..=b)
        .collect();
    assert_eq!(pages, (1..=20).collect());
    assert!(s.parts.iter().all(|p| !p.summary.trim().is_empty()));
    assert!(
        s.coverage
            .starts_with(&format!("Covered all 20 pages in {} parts.", s.parts.len())),
        "{}",
        s.coverage
    );
    // Whatever the model wrote passed the check against the document: no
    // number in the summary is missing from it.
    assert!(!s.text.trim().is_empty());
    for n in s
        .text
        .split(|c: char| !c.is_ascii_digit())
        .filter(|n| !n.is_empty())
    {
        assert!(doc.text.contains(n), "{n} is not in the document");
    }
    // Progress went through the map to the reduce step.
    assert_eq!(events.first().map(|p| p.stage), Some(Stage::Map));
    assert_eq!(events.last().map(|p| p.stage), Some(Stage::Reduce));
    assert!(events.iter().any(|p| p.eta_s.is_some()));
    let section_markers = doc
        .markers
        .iter()
        .filter(|m| matches!(m.kind, MarkerKind::Page { .. }))
        .count();
    assert_eq!(section_markers, 20);
}

#[test]
fn cancelling_a_document_summary_part_way_stops_quickly_and_stores_nothing() {
    let doc = report_pdf();
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("history.db");
    let path = find_default_model(&search_dirs()).expect("model");
    let worker =
        Worker::spawn(move || LlamaEngine::load(&path, &LoadOptions::default())).expect("worker");
    let (tx, rx) = std::sync::mpsc::channel();
    let job_db = db.clone();
    let ticket = worker.submit(Priority::Normal, move |engine: &mut LlamaEngine, cancel| {
        let summary = summarize_document(engine, &doc, &Options::default(), cancel, &mut |p| {
            let _ = tx.send((p.parts_done, p.parts));
        })?;
        // Only a finished summary is ever stored.
        let (mut history, _) = History::open(&job_db)?;
        history.save_document_summary(&summary.to_saved(&doc, "report.pdf", 1, None))?;
        Ok::<_, pith_core::Error>(summary)
    });
    // Wait until the first batch of parts is done, then cancel.
    loop {
        let (done, _) = rx.recv_timeout(Duration::from_secs(120)).expect("progress");
        if done > 0 {
            break;
        }
    }
    let cancelled_at = std::time::Instant::now();
    ticket.cancel_token().cancel();
    let err = ticket.wait().expect("job ran").expect_err("cancelled");
    let stop_delay = cancelled_at.elapsed();
    assert_eq!(err.code(), ErrorCode::Cancelled);
    eprintln!("stopped {stop_delay:?} after the cancel");
    // It stopped part-way: no progress event ever reached the last part.
    let (last_done, parts) = rx.try_iter().last().unwrap_or((1, 2));
    assert!(last_done < parts, "{last_done} of {parts} parts done");
    // Nothing was stored.
    assert!(
        !db.exists() || {
            let (h, _) = History::open(&db).expect("opens");
            h.conversations().expect("list").is_empty()
        }
    );
    // The engine is still usable afterwards.
    let again = worker.submit(Priority::Normal, |engine: &mut LlamaEngine, cancel| {
        let short = documents::extract(
            b"The library opens at nine on weekdays and at ten on Saturdays.".to_vec(),
            &Limits::default(),
        )?;
        summarize_document(
            engine,
            &short,
            &Options {
                length: Some(SummaryLength::Short),
                ..Options::default()
            },
            cancel,
            &mut |_| {},
        )
    });
    let s = again.wait().expect("ran").expect("summary");
    assert!(!s.text.is_empty());
}
