//! Summarize text that fits one context window.
//!
//! Long documents (chunking, map-reduce, coverage) build on this; here the
//! whole text must fit, and a text that does not is refused with the numbers
//! rather than cut.

use super::clean::clean_output;
use super::{budget_for, validate_text};
use crate::engine::{CancelToken, ChatMessage, Engine, GenerateRequest, Generation, Prompt};
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SummaryLength {
    Short,
    Medium,
    Bullets,
}

impl SummaryLength {
    pub const ALL: [SummaryLength; 3] = [SummaryLength::Short, SummaryLength::Medium, SummaryLength::Bullets];

    pub fn name(self) -> &'static str {
        match self {
            SummaryLength::Short => "short",
            SummaryLength::Medium => "medium",
            SummaryLength::Bullets => "bullets",
        }
    }

    fn ask(self) -> &'static str {
        match self {
            SummaryLength::Short => "Summarize the text in one or two sentences.",
            SummaryLength::Medium => "Summarize the text in one short paragraph.",
            SummaryLength::Bullets => "Summarize the text as three to five short bullet points, each starting with \"- \".",
        }
    }

    fn max_tokens(self) -> usize {
        match self {
            SummaryLength::Short => 96,
            SummaryLength::Medium => 200,
            SummaryLength::Bullets => 200,
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
            .ok_or_else(|| Error::InvalidInput(format!("unknown summary length '{s}'; choose short, medium or bullets")))
    }
}

pub fn build_request(text: &str, length: SummaryLength) -> GenerateRequest {
    let messages = vec![
        ChatMessage::system(
            "You summarize documents faithfully. Use only facts stated in the document. Do not add anything.",
        ),
        ChatMessage::user(format!("{}\n\nText:\n{}", length.ask(), text.trim())),
    ];
    GenerateRequest::new(Prompt::Chat(messages), length.max_tokens()).with_stop(["\nText:", "\nUser:"])
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub text: String,
    pub length: SummaryLength,
    pub source_tokens: usize,
    #[serde(skip)]
    pub generation: Generation,
}

pub fn summarize(
    engine: &mut dyn Engine,
    text: &str,
    length: SummaryLength,
    cancel: &CancelToken,
    on_piece: &mut dyn FnMut(&str),
) -> Result<Summary> {
    let text = validate_text(text)?;
    let request = build_request(&text, length);
    budget_for(engine, &request)?;
    let source_tokens = engine.count_tokens(&text)?;
    let generation = engine.generate(&request, cancel, on_piece)?;
    let cleaned = clean_output(&generation.text);
    if cleaned.is_empty() {
        return Err(Error::ResultRejected {
            reason: "the model returned an empty summary".into(),
            suggestion: "Try another length or a larger model.".into(),
        });
    }
    Ok(Summary {
        text: cleaned,
        length,
        source_tokens,
        generation,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::ScriptedEngine;

    #[test]
    fn summary_prompt_holds_the_text_and_the_length_instruction() {
        for length in SummaryLength::ALL {
            let req = build_request("  The text.  ", length);
            let Prompt::Chat(m) = &req.prompt else {
                panic!("chat prompt expected")
            };
            assert!(m[1].content.starts_with(length.ask()));
            assert!(m[1].content.ends_with("Text:\nThe text."));
        }
    }

    #[test]
    fn summary_is_cleaned() {
        let mut e = ScriptedEngine::new(4096).reply("Here is a summary:\nCats sleep a lot.");
        let s = summarize(&mut e, "Cats sleep sixteen hours a day.", SummaryLength::Short, &CancelToken::new(), &mut |_| {})
            .expect("summary");
        assert_eq!(s.text, "Cats sleep a lot.");
    }

    #[test]
    fn text_over_the_window_is_refused_not_cut() {
        let mut e = ScriptedEngine::new(200);
        let err = summarize(&mut e, &"word ".repeat(300), SummaryLength::Short, &CancelToken::new(), &mut |_| {})
            .expect_err("too long");
        assert_eq!(err.code(), crate::error::ErrorCode::ContextTooLong);
    }
}
