//! Summarizing a whole document, however long, on a small model with a
//! small window: every part is read, and the result says so.
//!
//! 1. **Parts.** The text is cut into parts that fit the window several
//!    times over ([`chunk`]), measured in the model's own tokens.
//! 2. **Map.** Each part is summarized; parts are decoded together as
//!    parallel sequences of one context ([`Engine::generate_batch`]).
//! 3. **Check.** Each part's summary is checked against the part: numbers,
//!    dates and names must appear in it, quotes must be verbatim. A part
//!    that fails is asked again with the other prompts; what still fails is
//!    removed sentence by sentence and reported, and a part left with
//!    nothing is represented by its own opening sentences, marked as such.
//! 4. **Reduce.** The part summaries are combined into the summary of the
//!    length asked for, in rounds when they do not fit one prompt.
//!
//! The coverage line ("Covered all 43 pages in 12 parts.") is built from the
//! parts and the document's page markers, never from what the model says.

use super::chunk::{chunk, sentences, Chunk};
use super::clean::clean_output;
use super::facts::{remove_unsupported, Source};
use super::summarize::{build_request, check_summary, Strategy, SummaryLength, STRATEGIES};
use crate::documents::Document;
use crate::engine::{CancelToken, ChatMessage, Engine, GenerateRequest, Prompt};
use crate::error::{Error, Result};
use crate::history::SavedSummary;
use serde::Serialize;
use std::ops::Range;
use std::time::Instant;

/// Tokens the instructions and chat template add around a part.
const PROMPT_OVERHEAD: usize = 64;
/// A small model summarizes a short text more faithfully than a long one.
const MAX_PART_TOKENS: usize = 1024;
const MIN_PART_TOKENS: usize = 128;
/// The most a part's summary may take.
const PART_SUMMARY_TOKENS: usize = 80;
const PART_QUOTES_TOKENS: usize = 160;
/// Parts overlap by this fraction (1/n) of their tokens, in whole sentences.
pub const OVERLAP_DIVISOR: usize = 16;

const PART_ASK: &str = "Summarize the user's text in two or three sentences.";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Summarizing the parts.
    Map,
    /// Asking again for parts whose summary failed the check.
    Retry,
    /// Combining the part summaries.
    Reduce,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Progress {
    pub stage: Stage,
    pub parts_done: usize,
    pub parts: usize,
    pub elapsed_s: f64,
    /// Estimated seconds left, once a part has been done.
    pub eta_s: Option<f64>,
}

#[derive(Debug, Clone, Default)]
pub struct Options {
    pub length: Option<SummaryLength>,
    /// Tokens per part (default: what lets the engine's parallel sequences
    /// share the window).
    pub part_tokens: Option<usize>,
    /// Parts decoded at once (default: the engine's parallel sequences; 1
    /// decodes them one after another).
    pub parallel: Option<usize>,
}

/// One part of the document and its summary.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Part {
    pub index: usize,
    pub start: usize,
    pub end: usize,
    pub tokens: usize,
    pub pages: Option<(usize, usize)>,
    pub summary: String,
    /// Prompts tried; 1 when the first summary passed the check.
    pub attempts: usize,
    /// Why sentences were removed from the summary.
    pub removed: Vec<String>,
    /// No faithful summary came: `summary` is the part's opening sentences.
    pub extractive: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DocumentSummary {
    pub text: String,
    pub length: SummaryLength,
    /// What was read, e.g. "Covered all 20 pages in 9 parts."
    pub coverage: String,
    pub parts: Vec<Part>,
    /// Every removed statement, with the part it came from.
    pub removed: Vec<String>,
    pub source_tokens: usize,
    pub generated_tokens: usize,
    /// Generated tokens of the map step alone (first attempts).
    pub map_generated_tokens: usize,
    /// Reduce rounds before the final summary (0: the parts fit one prompt).
    pub reduce_rounds: usize,
    pub parallel: usize,
    pub map_s: f64,
    pub total_s: f64,
}

impl DocumentSummary {
    /// The conversation that keeps this summary: the request, and the
    /// summary with its coverage line as the reply.
    pub fn to_saved(
        &self,
        doc: &Document,
        source_name: &str,
        source_bytes: u64,
        model: Option<&str>,
    ) -> SavedSummary {
        let size = match doc.pages {
            Some(1) => ", 1 page".to_string(),
            Some(n) => format!(", {n} pages"),
            None => String::new(),
        };
        SavedSummary {
            title: format!("Summary of {source_name}"),
            request: format!(
                "Summarize \u{201c}{source_name}\u{201d} ({}{size}; {}).",
                doc.format.name(),
                self.length.name()
            ),
            reply: format!("{}\n\n*{}*", self.text, self.coverage),
            model: model.map(str::to_string),
            source_name: source_name.to_string(),
            source_bytes,
            coverage: self.coverage.clone(),
        }
    }
}

/// Tokens per part for a window of `context` shared by `parallel` sequences.
pub fn default_part_tokens(context: usize, parallel: usize) -> usize {
    (context / parallel.max(1))
        .saturating_sub(PART_SUMMARY_TOKENS + PROMPT_OVERHEAD)
        .clamp(MIN_PART_TOKENS, MAX_PART_TOKENS)
}

/// Consecutive groups of at most `parallel` requests whose costs (prompt
/// plus answer tokens) fit `context` together.
pub fn batches(costs: &[usize], parallel: usize, context: usize) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut used = 0;
    for (i, &cost) in costs.iter().enumerate() {
        if i > start && (i - start == parallel.max(1) || used + cost > context) {
            out.push(start..i);
            start = i;
            used = 0;
        }
        used += cost;
    }
    if start < costs.len() {
        out.push(start..costs.len());
    }
    out
}

/// The map step's request for one part.
pub fn part_request(text: &str, length: SummaryLength) -> GenerateRequest {
    let (ask, max_tokens) = if length == SummaryLength::Quotes {
        (length.ask(), PART_QUOTES_TOKENS)
    } else {
        (PART_ASK, PART_SUMMARY_TOKENS)
    };
    GenerateRequest::new(
        Prompt::Chat(vec![
            ChatMessage::system(format!("{ask} Use only facts stated in the text.")),
            ChatMessage::user(text.trim()),
        ]),
        max_tokens,
    )
    .with_lookup(length == SummaryLength::Quotes)
}

/// What a part's summary is checked as.
fn part_length(length: SummaryLength) -> SummaryLength {
    if length == SummaryLength::Quotes {
        SummaryLength::Quotes
    } else {
        SummaryLength::Medium
    }
}

/// Cuts a summary that ran out of tokens back to its last whole sentence.
fn whole_sentences(text: &str) -> String {
    let text = text.trim();
    if text.ends_with(['.', '!', '?', '"', '\u{201d}', ')']) {
        return text.to_string();
    }
    let spans = sentences(text);
    match spans.len() {
        0 | 1 => text.to_string(),
        n => text[..spans[n - 1].0].trim().to_string(),
    }
}

/// The opening sentences of a part (about 40 words), quoted.
fn opening(text: &str) -> String {
    let mut out = String::new();
    for (s, e, _) in sentences(text) {
        out.push_str(&text[s..e]);
        if out.split_whitespace().count() >= 40 {
            break;
        }
    }
    let words: Vec<&str> = out.split_whitespace().take(60).collect();
    format!("\u{201c}{}\u{201d}", words.join(" "))
}

/// A summary that passed its check, or what was left after removing the
/// unsupported sentences.
struct Checked {
    text: String,
    attempts: usize,
    removed: Vec<String>,
    generated_tokens: usize,
}

/// Tries each prompt (from `first`) until a summary of `text` passes the
/// check; then keeps the supported sentences of the best attempt.
fn summarize_checked(
    engine: &mut dyn Engine,
    text: &str,
    length: SummaryLength,
    first: usize,
    cancel: &CancelToken,
) -> Result<Checked> {
    let mut generated_tokens = 0;
    let mut best: Option<(String, Vec<String>)> = None;
    for (i, strategy) in STRATEGIES.into_iter().enumerate().skip(first) {
        let request = build_request(text, length, strategy);
        super::budget_for(engine, &request)?;
        let generation = engine.generate(&request, cancel, &mut |_| {})?;
        generated_tokens += generation.generated_tokens;
        let summary = whole_sentences(&clean_output(&generation.text));
        if check_summary(text, &summary, length).is_ok() {
            return Ok(Checked {
                text: summary,
                attempts: i + 1,
                removed: Vec::new(),
                generated_tokens,
            });
        }
        let (kept, removed) = remove_unsupported(&Source::new(text), &summary);
        let usable = !kept.is_empty() && check_summary(text, &kept, length).is_ok();
        let better = best.as_ref().is_none_or(|(_, r)| removed.len() < r.len());
        if usable && better {
            best = Some((kept, removed));
        }
    }
    let (text, removed) = best.unwrap_or_default();
    Ok(Checked {
        text,
        attempts: STRATEGIES.len(),
        removed,
        generated_tokens,
    })
}

/// Summarizes the whole document. `on_progress` is called after every
/// batch of parts and before the reduce step.
pub fn summarize_document(
    engine: &mut dyn Engine,
    doc: &Document,
    options: &Options,
    cancel: &CancelToken,
    on_progress: &mut dyn FnMut(&Progress),
) -> Result<DocumentSummary> {
    let started = Instant::now();
    let length = options.length.unwrap_or(SummaryLength::Short);
    let text = doc.text.as_str();
    if text.trim().is_empty() {
        return Err(Error::EmptyInput);
    }
    let context = engine.info().context as usize;
    let capable = engine.parallel_sequences();
    let parallel = options.parallel.unwrap_or(capable).clamp(1, capable.max(1));
    let part_tokens = options
        .part_tokens
        .unwrap_or_else(|| default_part_tokens(context, capable));
    let source_tokens = engine.count_tokens(text)?;
    let chunks = chunk(text, part_tokens, part_tokens / OVERLAP_DIVISOR, &mut |s| {
        engine.count_tokens(s)
    })?;
    let total_parts = chunks.len();
    let mut report = |stage, parts_done, map_started: Option<Instant>| {
        let elapsed_s = started.elapsed().as_secs_f64();
        let eta_s = map_started.filter(|_| parts_done > 0).map(|t| {
            let per_part = t.elapsed().as_secs_f64() / parts_done as f64;
            // The reduce step costs about one more part.
            per_part * (total_parts.saturating_sub(parts_done) + 1) as f64
        });
        on_progress(&Progress {
            stage,
            parts_done,
            parts: total_parts,
            elapsed_s,
            eta_s,
        });
    };
    report(Stage::Map, 0, None);

    // A document that fits one part is summarized at the asked length
    // directly.
    if let [only] = chunks.as_slice() {
        let checked = summarize_checked(engine, &text[only.start..only.end], length, 0, cancel)?;
        let part = make_part(doc, 0, only, checked, text);
        report(Stage::Reduce, 1, Some(started));
        let map_s = started.elapsed().as_secs_f64();
        return Ok(finish(
            doc,
            length,
            part.summary.clone(),
            vec![part],
            source_tokens,
            (0, 0),
            parallel,
            (map_s, started),
        ));
    }

    // Map: parts in batches of parallel sequences.
    let map_started = Instant::now();
    let requests: Vec<GenerateRequest> = chunks
        .iter()
        .map(|c| part_request(&text[c.start..c.end], length))
        .collect();
    let mut costs = Vec::with_capacity(requests.len());
    for r in &requests {
        costs.push(engine.prompt_tokens(&r.prompt)? + r.max_tokens);
    }
    let mut first_drafts: Vec<Option<String>> = vec![None; chunks.len()];
    let mut map_generated = 0;
    let mut done = 0;
    for group in batches(&costs, parallel, context) {
        let generations =
            engine.generate_batch(&requests[group.clone()], cancel, &mut |_, _| {})?;
        for (i, g) in group.clone().zip(generations) {
            map_generated += g.generated_tokens;
            first_drafts[i] = Some(whole_sentences(&clean_output(&g.text)));
        }
        done += group.len();
        report(Stage::Map, done, Some(map_started));
    }
    let map_s = map_started.elapsed().as_secs_f64();

    // Check: keep what passes; ask again for the rest.
    let mut generated = map_generated;
    let mut parts = Vec::with_capacity(chunks.len());
    for (i, (c, draft)) in chunks.iter().zip(first_drafts).enumerate() {
        let source = &text[c.start..c.end];
        let draft = draft.unwrap_or_default();
        let checked = if check_summary(source, &draft, part_length(length)).is_ok() {
            Checked {
                text: draft,
                attempts: 1,
                removed: Vec::new(),
                generated_tokens: 0,
            }
        } else {
            report(Stage::Retry, i, Some(map_started));
            summarize_checked(engine, source, part_length(length), 1, cancel)?
        };
        generated += checked.generated_tokens;
        parts.push(make_part(doc, i, c, checked, text));
    }

    // Reduce: combine the part summaries, in rounds while they do not fit.
    report(Stage::Reduce, total_parts, Some(map_started));
    let mut partials: Vec<String> = parts.iter().map(|p| p.summary.clone()).collect();
    let mut rounds = 0;
    let final_text = loop {
        let joined = partials.join("\n\n");
        let request = build_request(&joined, length, Strategy::SystemInstruction);
        let fits = engine.prompt_tokens(&request.prompt)? + request.max_tokens <= context;
        if fits || partials.len() <= 1 {
            let checked = summarize_checked(engine, &joined, length, 0, cancel)?;
            generated += checked.generated_tokens;
            break if checked.text.is_empty() {
                // No faithful combined summary: the checked part summaries
                // themselves.
                joined
            } else {
                checked.text
            };
        }
        rounds += 1;
        let next = reduce_round(engine, &partials, part_tokens, parallel, context, cancel)?;
        generated += next.1;
        if next.0.len() >= partials.len() {
            break joined;
        }
        partials = next.0;
    };
    let mut summary = finish(
        doc,
        length,
        final_text,
        parts,
        source_tokens,
        (generated, map_generated),
        parallel,
        (map_s, started),
    );
    summary.reduce_rounds = rounds;
    Ok(summary)
}

/// One reduce round: groups of part summaries, each summarized into one.
/// Returns the new summaries and the tokens generated.
fn reduce_round(
    engine: &mut dyn Engine,
    partials: &[String],
    part_tokens: usize,
    parallel: usize,
    context: usize,
    cancel: &CancelToken,
) -> Result<(Vec<String>, usize)> {
    let mut groups: Vec<String> = Vec::new();
    let mut current = String::new();
    for p in partials {
        let candidate = if current.is_empty() {
            p.clone()
        } else {
            format!("{current}\n\n{p}")
        };
        if !current.is_empty() && engine.count_tokens(&candidate)? > part_tokens {
            groups.push(std::mem::replace(&mut current, p.clone()));
        } else {
            current = candidate;
        }
    }
    if !current.is_empty() {
        groups.push(current);
    }
    let requests: Vec<GenerateRequest> = groups
        .iter()
        .map(|g| part_request(g, SummaryLength::Medium))
        .collect();
    let mut costs = Vec::with_capacity(requests.len());
    for r in &requests {
        costs.push(engine.prompt_tokens(&r.prompt)? + r.max_tokens);
    }
    let mut out = Vec::with_capacity(groups.len());
    let mut generated = 0;
    for range in batches(&costs, parallel, context) {
        let gens = engine.generate_batch(&requests[range.clone()], cancel, &mut |_, _| {})?;
        for (g, generation) in groups[range].iter().zip(gens) {
            generated += generation.generated_tokens;
            let summary = whole_sentences(&clean_output(&generation.text));
            let (kept, _) = remove_unsupported(&Source::new(g), &summary);
            // A group with no faithful summary keeps its part summaries.
            out.push(if kept.is_empty() { g.clone() } else { kept });
        }
    }
    Ok((out, generated))
}

fn make_part(doc: &Document, index: usize, c: &Chunk, checked: Checked, text: &str) -> Part {
    let extractive = checked.text.is_empty();
    Part {
        index,
        start: c.start,
        end: c.end,
        tokens: c.tokens,
        pages: doc.pages_in(c.start, c.end),
        summary: if extractive {
            opening(&text[c.start..c.end])
        } else {
            checked.text
        },
        attempts: checked.attempts,
        removed: checked.removed,
        extractive,
    }
}

fn part_label(part: &Part) -> String {
    match part.pages {
        Some((a, b)) if a == b => format!("part {} (page {a})", part.index + 1),
        Some((a, b)) => format!("part {} (pages {a}\u{2013}{b})", part.index + 1),
        None => format!("part {}", part.index + 1),
    }
}

/// The coverage line, from the parts and the document's markers.
pub fn coverage_line(doc: &Document, parts: &[Part], source_tokens: usize) -> String {
    let n = parts.len();
    let in_parts = if n == 1 {
        "in one part".to_string()
    } else {
        format!("in {n} parts")
    };
    let mut line = match doc.pages {
        Some(1) => format!("Covered the whole page {in_parts}."),
        Some(pages) => format!("Covered all {pages} pages {in_parts}."),
        None => {
            let sections = doc.sections();
            let sections = match sections {
                0 => String::new(),
                1 => ", 1 section".to_string(),
                s => format!(", {s} sections"),
            };
            format!("Covered the whole document ({source_tokens} tokens{sections}) {in_parts}.")
        }
    };
    let extractive: Vec<String> = parts
        .iter()
        .filter(|p| p.extractive)
        .map(part_label)
        .collect();
    if !extractive.is_empty() {
        line.push_str(&format!(
            " No faithful summary came for {}; the opening sentences are quoted instead.",
            extractive.join(", ")
        ));
    }
    let removed: usize = parts.iter().map(|p| p.removed.len()).sum();
    if removed > 0 {
        line.push_str(&format!(
            " {removed} statement{} the document does not support {} removed.",
            if removed == 1 { "" } else { "s" },
            if removed == 1 { "was" } else { "were" }
        ));
    }
    line
}

#[allow(clippy::too_many_arguments)]
fn finish(
    doc: &Document,
    length: SummaryLength,
    text: String,
    parts: Vec<Part>,
    source_tokens: usize,
    (generated_tokens, map_generated_tokens): (usize, usize),
    parallel: usize,
    (map_s, started): (f64, Instant),
) -> DocumentSummary {
    let removed = parts
        .iter()
        .flat_map(|p| {
            let label = part_label(p);
            p.removed.iter().map(move |r| format!("{label}: {r}"))
        })
        .collect();
    DocumentSummary {
        coverage: coverage_line(doc, &parts, source_tokens),
        reduce_rounds: 0,
        text,
        length,
        parts,
        removed,
        source_tokens,
        generated_tokens,
        map_generated_tokens,
        parallel,
        map_s,
        total_s: started.elapsed().as_secs_f64(),
    }
}

#[cfg(test)]
mod tests;
