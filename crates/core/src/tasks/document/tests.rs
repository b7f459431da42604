use super::*;
use crate::documents::{Format, Marker, MarkerKind};
use crate::engine::ScriptedEngine;
use crate::error::ErrorCode;

const FRUITS: [&str; 4] = ["apple", "pear", "plum", "cherry"];

/// A document of `pages` pages; page `p` has seven 6-word sentences about
/// one fruit stall, with numbers `p*10 + k`.
fn market(pages: usize) -> Document {
    let mut text = String::new();
    let mut markers = Vec::new();
    for p in 0..pages {
        if p > 0 {
            text.push_str("\n\n");
        }
        markers.push(Marker {
            offset: text.len(),
            kind: MarkerKind::Page { number: p + 1 },
        });
        for k in 0..7 {
            let fruit = FRUITS[p % FRUITS.len()];
            text.push_str(&format!("The {fruit} stall sold {} crates. ", p * 10 + k));
        }
        text.truncate(text.trim_end().len());
    }
    Document {
        format: Format::Pdf,
        text,
        pages: Some(pages),
        markers,
        encoding: None,
    }
}

/// One part per page: 42 words, and a paragraph break preferred after it.
fn options(length: SummaryLength) -> Options {
    Options {
        length: Some(length),
        part_tokens: Some(50),
        parallel: None,
    }
}

fn run(
    engine: &mut ScriptedEngine,
    doc: &Document,
    length: SummaryLength,
) -> Result<DocumentSummary> {
    summarize_document(
        engine,
        doc,
        &options(length),
        &CancelToken::new(),
        &mut |_| {},
    )
}

#[test]
fn batches_respect_the_parallel_count_and_the_window() {
    assert_eq!(
        batches(&[10, 10, 10, 10, 10], 2, 100),
        vec![0..2, 2..4, 4..5]
    );
    assert_eq!(batches(&[60, 60, 30, 30], 4, 100), vec![0..1, 1..3, 3..4]);
    assert_eq!(
        batches(&[500], 4, 100),
        vec![0..1],
        "an oversized request still runs (and fails) alone"
    );
    assert!(batches(&[], 4, 100).is_empty());
    assert_eq!(batches(&[1, 1, 1], 1, 100), vec![0..1, 1..2, 2..3]);
}

#[test]
fn part_size_lets_the_parallel_sequences_share_the_window() {
    assert_eq!(default_part_tokens(4096, 4), 4096 / 4 - 80 - 64);
    assert_eq!(
        default_part_tokens(8192, 1),
        1024,
        "capped for small models"
    );
    assert_eq!(default_part_tokens(512, 4), 128, "never below the floor");
}

#[test]
fn every_part_is_summarized_and_the_coverage_line_says_so() {
    let doc = market(3);
    let mut e = ScriptedEngine::new(4096)
        .with_parallel(2)
        .reply("The apple stall sold crates.")
        .reply("The pear stall sold crates.")
        .reply("The plum stall sold crates.")
        .reply("Three fruit stalls sold crates.");
    let s = run(&mut e, &doc, SummaryLength::Short).expect("summary");
    assert_eq!(s.parts.len(), 3);
    assert_eq!(e.batches, vec![2, 1], "parts decoded two at a time");
    assert_eq!(s.text, "Three fruit stalls sold crates.");
    assert_eq!(s.coverage, "Covered all 3 pages in 3 parts.");
    assert_eq!(
        s.parts.iter().map(|p| p.pages).collect::<Vec<_>>(),
        vec![Some((1, 1)), Some((2, 2)), Some((3, 3))]
    );
    assert!(s.parts.iter().all(|p| p.attempts == 1 && !p.extractive));
    // The reduce prompt holds every part's summary.
    let reduce = e.last_prompt_text();
    for fruit in ["apple", "pear", "plum"] {
        assert!(reduce.contains(&format!("The {fruit} stall sold crates.")));
    }
    assert_eq!(s.reduce_rounds, 0);
}

#[test]
fn a_part_with_an_invented_number_is_asked_again() {
    let doc = market(2);
    let mut e = ScriptedEngine::new(4096)
        .reply("The apple stall sold 999 crates.")
        .reply("The pear stall sold crates.")
        .reply("The apple stall sold 3 crates.")
        .reply("Two stalls sold crates.");
    let s = run(&mut e, &doc, SummaryLength::Short).expect("summary");
    assert_eq!(s.parts[0].attempts, 2);
    assert_eq!(s.parts[0].summary, "The apple stall sold 3 crates.");
    assert!(s.removed.is_empty());
    assert_eq!(s.coverage, "Covered all 2 pages in 2 parts.");
}

#[test]
fn unsupported_sentences_that_survive_every_prompt_are_removed_and_reported() {
    let doc = market(2);
    let invented = "The apple stall sold crates. It also sold 999 melons.";
    let mut e = ScriptedEngine::new(4096)
        .reply(invented)
        .reply("The pear stall sold crates.")
        .reply(invented)
        .reply(invented)
        .reply("Two stalls sold crates.");
    let s = run(&mut e, &doc, SummaryLength::Short).expect("summary");
    assert_eq!(s.parts[0].summary, "The apple stall sold crates.");
    assert_eq!(s.parts[0].attempts, 3);
    assert_eq!(s.removed.len(), 1);
    assert!(
        s.removed[0].starts_with("part 1 (page 1): "),
        "{:?}",
        s.removed
    );
    assert!(s.removed[0].contains("999"));
    assert!(s
        .coverage
        .ends_with("1 statement the document does not support was removed."));
}

#[test]
fn a_part_with_no_faithful_summary_is_quoted_and_marked() {
    let doc = market(2);
    let mut e = ScriptedEngine::new(4096)
        .reply("The pear stall sold crates.")
        .reply("It sold 999 melons.")
        .reply("It sold 998 melons.")
        .reply("It sold 997 melons.")
        .reply("Two stalls sold crates.");
    let s = run(&mut e, &doc, SummaryLength::Short).expect("summary");
    assert!(s.parts[1].extractive);
    assert!(s.parts[1]
        .summary
        .starts_with("\u{201c}The pear stall sold 10 crates."));
    assert!(
        s.coverage
            .contains("No faithful summary came for part 2 (page 2)"),
        "{}",
        s.coverage
    );
}

#[test]
fn a_final_summary_that_invents_is_replaced_by_a_checked_one() {
    let doc = market(2);
    let mut e = ScriptedEngine::new(4096)
        .reply("The apple stall sold crates.")
        .reply("The pear stall sold crates.")
        .reply("Bananas sold out in 2020.")
        .reply("Apple and pear stalls sold crates.");
    let s = run(&mut e, &doc, SummaryLength::Short).expect("summary");
    assert_eq!(s.text, "Apple and pear stalls sold crates.");
}

#[test]
fn parts_that_do_not_fit_one_reduce_prompt_are_reduced_in_rounds() {
    let doc = market(4);
    // A window that fits a part and its answer, but not four summaries of
    // 30 words plus the final answer.
    let long = |fruit: &str| {
        format!(
            "The {fruit} stall sold crates. It was busy. Buyers came early. Prices held. \
             The weather was fine. Crates ran out."
        )
    };
    let mut e = ScriptedEngine::new(170)
        .reply(&long("apple"))
        .reply(&long("pear"))
        .reply(&long("plum"))
        .reply(&long("cherry"))
        .reply("Apple and pear stalls sold crates.")
        .reply("Plum and cherry stalls sold crates.")
        .reply("Four stalls sold crates.");
    let opts = Options {
        length: Some(SummaryLength::Short),
        part_tokens: Some(50),
        parallel: None,
    };
    let s =
        summarize_document(&mut e, &doc, &opts, &CancelToken::new(), &mut |_| {}).expect("summary");
    assert_eq!(s.reduce_rounds, 1);
    assert_eq!(s.text, "Four stalls sold crates.");
    assert_eq!(s.coverage, "Covered all 4 pages in 4 parts.");
}

#[test]
fn progress_counts_parts_and_estimates_time_left() {
    let doc = market(3);
    let mut e = ScriptedEngine::new(4096)
        .with_parallel(2)
        .reply("The apple stall sold crates.")
        .reply("The pear stall sold crates.")
        .reply("The plum stall sold crates.")
        .reply("Three stalls sold crates.");
    let mut events = Vec::new();
    summarize_document(
        &mut e,
        &doc,
        &options(SummaryLength::Short),
        &CancelToken::new(),
        &mut |p| events.push(p.clone()),
    )
    .expect("summary");
    let seen: Vec<(Stage, usize)> = events.iter().map(|p| (p.stage, p.parts_done)).collect();
    assert_eq!(
        seen,
        vec![
            (Stage::Map, 0),
            (Stage::Map, 2),
            (Stage::Map, 3),
            (Stage::Reduce, 3)
        ]
    );
    assert!(events.iter().all(|p| p.parts == 3));
    assert!(events[0].eta_s.is_none());
    assert!(events[1].eta_s.is_some());
}

#[test]
fn cancelling_stops_before_any_result() {
    let doc = market(3);
    let mut e = ScriptedEngine::new(4096).reply("The apple stall sold crates.");
    let cancel = CancelToken::new();
    cancel.cancel();
    let err = summarize_document(
        &mut e,
        &doc,
        &options(SummaryLength::Short),
        &cancel,
        &mut |_| {},
    )
    .expect_err("cancelled");
    assert_eq!(err.code(), ErrorCode::Cancelled);
}

#[test]
fn a_short_document_is_summarized_in_one_step_at_the_asked_length() {
    let doc = Document {
        format: Format::Text,
        text: "The apple stall sold 12 crates on Monday.".into(),
        pages: None,
        markers: Vec::new(),
        encoding: None,
    };
    let mut e = ScriptedEngine::new(4096).reply("- Apples sold.\n- 12 crates went on Monday.");
    let s = run(&mut e, &doc, SummaryLength::Bullets).expect("summary");
    assert_eq!(e.requests.len(), 1);
    assert_eq!(s.text, "- Apples sold.\n- 12 crates went on Monday.");
    assert_eq!(
        s.coverage,
        "Covered the whole document (8 tokens) in one part."
    );
}

#[test]
fn quotes_must_be_verbatim() {
    let doc = market(2);
    let mut e = ScriptedEngine::new(4096)
        .reply("- Apples: \"The apple stall sold 3 crates\"\n- More: \"The apple stall sold 4 crates\"")
        .reply("- Pears: \"The pear stall sold eleven crates\"\n- Pears again: \"The pear stall sold 12 crates\"")
        .reply("- Pears: \"The pear stall sold 12 crates\"\n- More: \"The pear stall sold 13 crates\"")
        .reply("- Apples: \"The apple stall sold 3 crates\"\n- Pears: \"The pear stall sold 12 crates\"");
    let s = run(&mut e, &doc, SummaryLength::Quotes).expect("summary");
    assert_eq!(s.parts[0].attempts, 1);
    assert_eq!(s.parts[1].attempts, 2, "the invented quote was asked again");
    assert!(s.text.contains("\"The pear stall sold 12 crates\""));
}
