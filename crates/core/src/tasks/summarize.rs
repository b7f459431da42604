//! Summarize text that fits one context window.
//!
//! Long documents (chunking, map-reduce, coverage) build on this; here the
//! whole text must fit, and a text that does not is refused with the numbers
//! rather than cut.

use super::clean::{clean_output, StreamCleaner};
use super::facts;
use super::{budget_for, validate_text};
use crate::engine::{CancelToken, ChatMessage, Engine, GenerateRequest, Generation, Prompt};
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum SummaryLength {
    Short,
    Medium,
    Bullets,
    /// Key points, each with a short verbatim quote.
    Quotes,
}

impl SummaryLength {
    pub const ALL: [SummaryLength; 4] = [
        SummaryLength::Short,
        SummaryLength::Medium,
        SummaryLength::Bullets,
        SummaryLength::Quotes,
    ];

    pub fn name(self) -> &'static str {
        match self {
            SummaryLength::Short => "short",
            SummaryLength::Medium => "medium",
            SummaryLength::Bullets => "bullets",
            SummaryLength::Quotes => "quotes",
        }
    }

    pub(crate) fn is_list(self) -> bool {
        matches!(self, SummaryLength::Bullets | SummaryLength::Quotes)
    }

    pub(crate) fn ask(self) -> &'static str {
        match self {
            SummaryLength::Short => "Summarize the user's text in one or two sentences.",
            SummaryLength::Medium => "Summarize the user's text in one short paragraph.",
            SummaryLength::Bullets => {
                "Summarize the user's text as three to five short bullet points, each starting with \"- \"."
            }
            SummaryLength::Quotes => {
                "List the key points of the user's text as three to five bullet points, each starting with \"- \" and ending with a short quote copied exactly from the text in double quotes."
            }
        }
    }

    pub(crate) fn max_tokens(self) -> usize {
        match self {
            SummaryLength::Short => 96,
            SummaryLength::Medium => 200,
            SummaryLength::Bullets => 200,
            SummaryLength::Quotes => 240,
        }
    }
}

impl FromStr for SummaryLength {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let s = s.trim().to_lowercase();
        SummaryLength::ALL
            .into_iter()
            .find(|l| l.name() == s)
            .ok_or_else(|| {
                Error::InvalidInput(format!(
                    "unknown summary length '{s}'; choose short, medium, bullets or quotes"
                ))
            })
    }
}

/// How one attempt asks for the summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// The instruction as the system turn, the document alone as the user turn.
    SystemInstruction,
    /// The document, then the instruction, in one user turn.
    InstructionAfter,
    /// A plain completion: the document, then "TL;DR:" (base models know it).
    Tldr,
}

/// Measured on SmolLM2-135M with a one-page notice: the instruction as the
/// system turn and the document alone as the user turn gave a faithful
/// summary; the instruction before the document in the user turn, or a
/// completion-style "Summary:" prompt, invented names and times. The others
/// are fallbacks for when the first echoes the document.
pub const STRATEGIES: [Strategy; 3] = [
    Strategy::SystemInstruction,
    Strategy::InstructionAfter,
    Strategy::Tldr,
];

pub fn build_request(text: &str, length: SummaryLength, strategy: Strategy) -> GenerateRequest {
    let text = text.trim();
    let ask = format!("{} Use only facts stated in the text.", length.ask());
    let prompt = match strategy {
        Strategy::SystemInstruction => {
            Prompt::Chat(vec![ChatMessage::system(ask), ChatMessage::user(text)])
        }
        Strategy::InstructionAfter => {
            Prompt::Chat(vec![ChatMessage::user(format!("{text}\n\n{ask}"))])
        }
        Strategy::Tldr => Prompt::Raw(format!(
            "{text}\n\nTL;DR{}:",
            if length.is_list() {
                " (bullet points)"
            } else {
                ""
            }
        )),
    };
    // Quotes are copied from the text: prompt lookup drafts them.
    let request = GenerateRequest::new(prompt, length.max_tokens())
        .with_lookup(length == SummaryLength::Quotes);
    match (strategy, length) {
        (Strategy::Tldr, l) if l.is_list() => request.with_stop(["\n\n"]),
        (Strategy::Tldr, _) => request.with_stop(["\n"]),
        _ => request,
    }
}

/// Why a summary was refused.
pub fn check_summary(
    source: &str,
    summary: &str,
    length: SummaryLength,
) -> std::result::Result<(), String> {
    let src = source.split_whitespace().count();
    let out = summary.split_whitespace().count();
    if out == 0 {
        return Err("the model returned an empty summary".into());
    }
    if src >= 60 && out * 10 > src * 7 {
        return Err(format!(
            "the model repeated the text instead of summarizing it ({out} words for {src})"
        ));
    }
    // Copying one key sentence is a fair short summary; copying most of the
    // document is not.
    if src >= 60 && out * 10 > src * 4 && copied_fraction(source, summary) > 0.8 {
        return Err(format!(
            "the model copied the text instead of summarizing it ({out} words for {src})"
        ));
    }
    // Small models invent figures and names; every detail must come from
    // the text.
    if let Some(why) = facts::unsupported_detail(&facts::Source::new(source), summary) {
        return Err(why);
    }
    if length.is_list() {
        let items = summary
            .lines()
            .filter(|l| l.trim_start().starts_with(['-', '*', '•']))
            .count();
        if items < 2 {
            return Err(format!(
                "bullet points were asked for but the summary has {items} list item(s)"
            ));
        }
    }
    Ok(())
}

/// Share of the summary's 6-word runs that appear word for word in the source.
fn copied_fraction(source: &str, summary: &str) -> f64 {
    let norm = |t: &str| -> Vec<String> {
        t.split_whitespace()
            .map(|w| {
                w.trim_matches(|c: char| !c.is_alphanumeric())
                    .to_lowercase()
            })
            .filter(|w| !w.is_empty())
            .collect()
    };
    let src = norm(source);
    let out = norm(summary);
    let runs: std::collections::HashSet<&[String]> = src.windows(6).collect();
    let total = out.windows(6).count();
    if total == 0 {
        return 0.0;
    }
    out.windows(6).filter(|w| runs.contains(w)).count() as f64 / total as f64
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub text: String,
    pub length: SummaryLength,
    pub source_tokens: usize,
    /// 1 when the first prompt gave a summary that passed the check.
    pub attempts: usize,
    #[serde(skip)]
    pub generation: Generation,
}

pub fn summarize(
    engine: &mut dyn Engine,
    text: &str,
    length: SummaryLength,
    cancel: &CancelToken,
    on_piece: &mut dyn FnMut(usize, &str),
) -> Result<Summary> {
    let text = validate_text(text)?;
    let source_tokens = engine.count_tokens(&text)?;
    let mut reasons: Vec<String> = Vec::new();
    for (i, strategy) in STRATEGIES.into_iter().enumerate() {
        let request = build_request(&text, length, strategy);
        budget_for(engine, &request)?;
        let mut cleaner = StreamCleaner::new(clean_output);
        let generation = engine.generate(&request, cancel, &mut |piece| {
            let shown = cleaner.push(piece);
            if !shown.is_empty() {
                on_piece(i + 1, &shown);
            }
        })?;
        let rest = cleaner.finish();
        if !rest.is_empty() {
            on_piece(i + 1, &rest);
        }
        let cleaned = cleaner.emitted().to_string();
        match check_summary(&text, &cleaned, length) {
            Ok(()) => {
                return Ok(Summary {
                    text: cleaned,
                    length,
                    source_tokens,
                    attempts: i + 1,
                    generation,
                })
            }
            Err(why) if !reasons.contains(&why) => reasons.push(why),
            Err(_) => {}
        }
    }
    Err(Error::ResultRejected {
        reason: format!(
            "{} attempts failed: {}",
            STRATEGIES.len(),
            reasons.join("; ")
        ),
        suggestion: format!(
            "Try another length, or a larger model than {}.",
            engine.info().name
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::ScriptedEngine;

    #[test]
    fn summary_check_refuses_echoes_and_missing_bullets() {
        let source = "word ".repeat(100);
        assert!(check_summary(&source, &"word ".repeat(90), SummaryLength::Short).is_err());
        assert!(check_summary(&source, "A short summary.", SummaryLength::Short).is_ok());
        assert!(check_summary(&source, "Not a list.", SummaryLength::Bullets).is_err());
        assert!(check_summary(&source, "- one\n- two", SummaryLength::Bullets).is_ok());
        assert!(check_summary(&source, "  ", SummaryLength::Medium).is_err());
        let doc: String = (1..=30)
            .map(|i| format!("Item {i} costs {i} euros. "))
            .collect();
        let half: String = (1..=15)
            .map(|i| format!("Item {i} costs {i} euros. "))
            .collect();
        let err = check_summary(&doc, &half, SummaryLength::Short).expect_err("copied");
        assert!(err.contains("copied"), "{err}");
        assert!(check_summary(&doc, "Item 1 costs 1 euros.", SummaryLength::Short).is_ok());
        let err = check_summary(&doc, "Item 7 costs 99 euros.", SummaryLength::Short)
            .expect_err("invented");
        assert!(err.contains("99"), "{err}");
    }

    #[test]
    fn only_quotes_draft_from_the_text() {
        // Quotes copy the text, so prompt lookup pays there; an abstract
        // summary rarely repeats four words of it in a row.
        for strategy in STRATEGIES {
            assert!(build_request("Some text.", SummaryLength::Quotes, strategy).lookup);
            assert!(!build_request("Some text.", SummaryLength::Short, strategy).lookup);
        }
        assert!(crate::tasks::document::part_request("Part.", SummaryLength::Quotes).lookup);
        assert!(!crate::tasks::document::part_request("Part.", SummaryLength::Medium).lookup);
    }

    #[test]
    fn an_echoed_document_is_retried_with_the_next_prompt() {
        let doc: String = (1..=20)
            .map(|i| format!("Room {i} opens at {i} o'clock. "))
            .collect();
        let mut e = ScriptedEngine::new(4096)
            .reply(&doc)
            .reply("The library opens at nine.");
        let s = summarize(
            &mut e,
            &doc,
            SummaryLength::Short,
            &CancelToken::new(),
            &mut |_, _| {},
        )
        .expect("summary");
        assert_eq!(s.attempts, 2);
        assert_eq!(s.text, "The library opens at nine.");
    }

    #[test]
    fn summary_prompt_holds_the_text_and_the_length_instruction() {
        for length in SummaryLength::ALL {
            let req = build_request("  The text.  ", length, Strategy::SystemInstruction);
            let Prompt::Chat(m) = &req.prompt else {
                panic!("chat prompt expected")
            };
            assert!(m[0].content.starts_with(length.ask()));
            assert_eq!(m[1].content, "The text.");
        }
    }

    #[test]
    fn summary_is_cleaned() {
        let mut e = ScriptedEngine::new(4096).reply("Here is a summary:\nCats sleep a lot.");
        let s = summarize(
            &mut e,
            "Cats sleep sixteen hours a day.",
            SummaryLength::Short,
            &CancelToken::new(),
            &mut |_, _| {},
        )
        .expect("summary");
        assert_eq!(s.text, "Cats sleep a lot.");
    }

    #[test]
    fn text_over_the_window_is_refused_not_cut() {
        let mut e = ScriptedEngine::new(200);
        let err = summarize(
            &mut e,
            &"word ".repeat(300),
            SummaryLength::Short,
            &CancelToken::new(),
            &mut |_, _| {},
        )
        .expect_err("too long");
        assert_eq!(err.code(), crate::error::ErrorCode::ContextTooLong);
    }
}
