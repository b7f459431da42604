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
pub mod facts;
pub mod rephrase;
pub mod summarize;

use crate::engine::{Engine, GenerateRequest};
use crate::error::{Error, Result};

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

/// Refuses empty and control-character-laden text; returns it trimmed.
pub fn validate_text(text: &str) -> Result<String> {
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
