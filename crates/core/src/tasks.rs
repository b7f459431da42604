//! The three jobs — rephrase, summarize, chat (`conversation`) — over any
//! [`Engine`].
//!
//! Each job builds prompts suited to small models, checks that the prompt and
//! the answer fit the context window before anything runs (nothing is ever
//! cut silently), and cleans what the model says.

pub mod check;
pub mod chunk;
pub mod clean;
pub mod conversation;
pub mod document;
pub mod extract;
pub mod facts;
pub mod rephrase;
pub mod summarize;

use crate::engine::{Engine, GenerateRequest};
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum Task {
    Rephrase,
    Summarize,
    Chat,
}

impl std::str::FromStr for Task {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "rephrase" => Ok(Task::Rephrase),
            "summarize" => Ok(Task::Summarize),
            "chat" => Ok(Task::Chat),
            _ => Err(format!("unknown task {s:?}: rephrase, summarize or chat")),
        }
    }
}

impl std::fmt::Display for Task {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Task::Rephrase => "rephrase",
            Task::Summarize => "summarize",
            Task::Chat => "chat",
        })
    }
}

/// What each task needs from a model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TaskNeeds {
    /// Context wanted, and the least that still works.
    pub context: u32,
    pub min_context: u32,
    /// Tokens of a typical prompt, for the first-token estimate.
    pub prompt_tokens: u32,
    /// Slowest acceptable generation and first token.
    pub min_gen_tps: f64,
    pub max_first_token_s: f64,
}

impl Task {
    pub fn needs(self) -> TaskNeeds {
        match self {
            // The hotkey: a short text, an answer while the user waits.
            Task::Rephrase => TaskNeeds {
                context: 2048,
                min_context: 1024,
                prompt_tokens: 200,
                min_gen_tps: 15.0,
                max_first_token_s: 1.5,
            },
            // Documents: room for big chunks; reading speed matters more.
            Task::Summarize => TaskNeeds {
                context: 8192,
                min_context: 4096,
                prompt_tokens: 2000,
                min_gen_tps: 5.0,
                max_first_token_s: 30.0,
            },
            // Conversation: faster than reading, history reused in the cache.
            Task::Chat => TaskNeeds {
                context: 4096,
                min_context: 2048,
                prompt_tokens: 150,
                min_gen_tps: 8.0,
                max_first_token_s: 3.0,
            },
        }
    }
}

/// Turns raw input bytes into text a model can work on, or says why not.
///
/// Accepts UTF-8 (a BOM is dropped). Refuses empty input and binary data:
/// NUL bytes, or more than 1 in 20 characters being control characters.
pub fn validate_bytes(bytes: &[u8]) -> Result<String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.contains(&0) {
        return Err(Error::InvalidInput(
            "the input looks like binary data (it contains NUL bytes), not text".into(),
        ));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        Error::InvalidInput(format!(
            "the input is not UTF-8 text (invalid byte at offset {})",
            e.valid_up_to()
        ))
    })?;
    validate_text(text)
}

/// The most text a model is given at once: far more than any small
/// model's window holds, so longer text is refused by its size before it
/// is tokenized (a paste or standard input can be any size). Longer
/// documents go through `summarize`, which reads them part by part.
pub const MAX_TEXT_BYTES: usize = 256_000;

/// Refuses empty, oversized and control-character-laden text; returns it
/// trimmed.
pub fn validate_text(text: &str) -> Result<String> {
    if text.len() > MAX_TEXT_BYTES {
        return Err(Error::TextTooLong {
            bytes: text.len(),
            max_bytes: MAX_TEXT_BYTES,
        });
    }
    let text = text.trim();
    if text.is_empty() {
        return Err(Error::EmptyInput);
    }
    let total = text.chars().count();
    let control = text
        .chars()
        .filter(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        .count();
    if control * 20 > total {
        return Err(Error::InvalidInput(
            "the input looks like binary data (many control characters), not text".into(),
        ));
    }
    Ok(text.to_string())
}

/// Checks that `request`'s prompt plus its answer budget fit the window;
/// returns the prompt's token count.
pub fn budget_for(engine: &dyn Engine, request: &GenerateRequest) -> Result<usize> {
    let prompt_tokens = engine.prompt_tokens(&request.prompt)?;
    let context = engine.info().context as usize;
    if prompt_tokens + request.max_tokens > context {
        return Err(Error::ContextTooLong {
            prompt_tokens,
            reserved_tokens: request.max_tokens,
            context_tokens: context,
        });
    }
    Ok(prompt_tokens)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Prompt, ScriptedEngine};
    use crate::error::ErrorCode;

    #[test]
    fn text_over_the_size_cap_is_refused_by_its_size_before_any_model_work() {
        // Before: 100 MB pasted or piped in was tokenized first (23.7 GB
        // of memory for 300 MB) and aborted the process.
        let big = "word ".repeat(MAX_TEXT_BYTES / 5 + 1);
        let err = validate_text(&big).expect_err("too long");
        assert_eq!(err.code(), crate::ErrorCode::ContextTooLong);
        assert!(err.to_string().contains("summarize it instead"), "{err}");
        let mut engine = crate::engine::ScriptedEngine::new(4096);
        let err = rephrase::rephrase(
            &mut engine,
            &big,
            rephrase::RephraseMode::Rewrite,
            &crate::engine::CancelToken::new(),
            &mut |_, _| {},
        )
        .expect_err("refused");
        assert_eq!(err.code(), crate::ErrorCode::ContextTooLong);
        assert!(engine.requests.is_empty());
        assert!(validate_text(&"word ".repeat(1000)).is_ok());
    }

    #[test]
    fn input_validation_table() {
        let ok: &[(&[u8], &str)] = &[
            (b"  hello \n", "hello"),
            (b"\xEF\xBB\xBFwith bom", "with bom"),
            ("日本語 🎉".as_bytes(), "日本語 🎉"),
            (b"tabs\tand\nnewlines", "tabs\tand\nnewlines"),
        ];
        for (input, want) in ok {
            assert_eq!(validate_bytes(input).ok().as_deref(), Some(*want));
        }
        let bad: &[(&[u8], ErrorCode)] = &[
            (b"", ErrorCode::EmptyInput),
            (b" \n\t ", ErrorCode::EmptyInput),
            (b"\x00\x01\x02binary", ErrorCode::InvalidInput),
            (b"\xff\xfe\xfa\xfb", ErrorCode::InvalidInput),
            (b"\x1b\x1b\x1b\x1b\x07\x08ab", ErrorCode::InvalidInput),
        ];
        for (input, code) in bad {
            let err = validate_bytes(input).expect_err("refused");
            assert_eq!(err.code(), *code, "{input:?}");
        }
    }

    #[test]
    fn budget_counts_prompt_plus_answer_against_the_window() {
        let e = ScriptedEngine::new(10);
        let fits = GenerateRequest::new(Prompt::Raw("a b c d e".into()), 5);
        assert_eq!(budget_for(&e, &fits).ok(), Some(5));
        let over = GenerateRequest::new(Prompt::Raw("a b c d e".into()), 6);
        let err = budget_for(&e, &over).expect_err("over");
        assert!(matches!(
            err,
            Error::ContextTooLong {
                prompt_tokens: 5,
                reserved_tokens: 6,
                context_tokens: 10
            }
        ));
    }
}
