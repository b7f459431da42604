//! Extract: a JSON Schema and a text in, a JSON value out.
//!
//! The model writes under the schema's grammar, so the value parses by
//! construction; it is then validated against the schema (the validator,
//! not the grammar, is the judge) and its strings and numbers looked up in
//! the text: a small model fills a field it cannot find with a plausible
//! invention. A value that fails either check is tried again (sampled, as
//! a second opinion), and after [`ATTEMPTS`] the last one comes back with
//! its problems for the caller to escalate or flag, never as a success.

use super::facts::Source;
use super::{budget_for, validate_text};
use crate::engine::{
    CancelToken, ChatMessage, Constraint, Engine, GenerateRequest, Prompt, Sampling,
};
use crate::error::{Error, ErrorCode, Result};
use crate::structured::schema;
use serde::Serialize;
use serde_json::Value;

/// Tries per model: greedy, then two sampled.
pub const ATTEMPTS: usize = 3;

/// Room for the value unless the caller asks for another.
pub const DEFAULT_MAX_TOKENS: usize = 512;

const INSTRUCTIONS: &str = "You extract information from a text into JSON that follows the given \
JSON Schema. Use only what the text says: copy names, numbers, dates and quotes exactly as they \
are written in the text.";

/// One model's best value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Extraction {
    pub value: Value,
    /// Why the value fails the schema or is not in the text; empty when it
    /// passed.
    pub problems: Vec<String>,
    /// Attempts made (1 when the first passed).
    pub attempts: usize,
}

/// The request for one attempt.
pub fn build_request(
    schema: &Value,
    text: &str,
    attempt: usize,
    max_tokens: usize,
) -> GenerateRequest {
    let messages = vec![
        ChatMessage::system(INSTRUCTIONS),
        ChatMessage::user(format!("JSON Schema:\n{schema}\n\nText:\n{text}")),
    ];
    let sampling = Sampling::attempt(attempt, 0.7, 0x5eed);
    GenerateRequest::new(Prompt::Chat(messages), max_tokens)
        .with_sampling(sampling)
        .with_constraint(Constraint::json(schema.clone()))
}

/// Extracts `schema` from `text` with one model, as described in the
/// module's introduction. `on_piece` receives each attempt's stream with
/// its number, from 1.
pub fn extract(
    engine: &mut dyn Engine,
    schema: &Value,
    text: &str,
    max_tokens: usize,
    cancel: &CancelToken,
    on_piece: &mut dyn FnMut(usize, &str),
) -> Result<Extraction> {
    schema::check(schema)?;
    let text = validate_text(text)?;
    let source = Source::new(&text);
    budget_for(engine, &build_request(schema, &text, 0, max_tokens))?;
    let mut last: Option<Extraction> = None;
    let mut incomplete = None;
    for attempt in 0..ATTEMPTS {
        let request = build_request(schema, &text, attempt, max_tokens);
        let generation = match engine.generate(&request, cancel, &mut |p| on_piece(attempt + 1, p))
        {
            Ok(g) => g,
            // A value cut at the token limit or in a loop: try again.
            Err(e) if e.code() == ErrorCode::IncompleteOutput => {
                incomplete = Some(e);
                continue;
            }
            Err(e) => return Err(e),
        };
        let mut problems = Vec::new();
        let value = match serde_json::from_str::<Value>(generation.text.trim()) {
            Ok(v) => v,
            Err(e) => {
                problems.push(format!("the output is not JSON ({e})"));
                Value::Null
            }
        };
        if problems.is_empty() {
            problems.extend(schema::validate(schema, &value)?);
            problems.extend(schema::ungrounded(schema, &value, &source));
        }
        let extraction = Extraction {
            value,
            problems,
            attempts: attempt + 1,
        };
        if extraction.problems.is_empty() {
            return Ok(extraction);
        }
        last = Some(extraction);
    }
    match (last, incomplete) {
        (Some(mut last), _) => {
            last.attempts = ATTEMPTS;
            Ok(last)
        }
        (None, Some(e)) => Err(e),
        (None, None) => Err(Error::Inference("no attempt was made".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::ScriptedEngine;
    use serde_json::json;

    fn schema() -> Value {
        json!({
            "type": "object",
            "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
            "required": ["name"],
        })
    }

    const TEXT: &str = "Ada Lovelace was 36 when she died.";

    #[test]
    fn a_grounded_valid_value_is_taken_at_once_with_the_grammar_asked_for() {
        let mut engine =
            ScriptedEngine::new(4096).reply("{\"name\": \"Ada Lovelace\", \"age\": 36}");
        let got = extract(
            &mut engine,
            &schema(),
            TEXT,
            256,
            &CancelToken::new(),
            &mut |_, _| {},
        )
        .expect("as written");
        assert_eq!(got.value, json!({"name": "Ada Lovelace", "age": 36}));
        assert_eq!((got.attempts, got.problems.len()), (1, 0));
        let request = &engine.requests[0];
        assert_eq!(request.constraint, Some(Constraint::json(schema())));
        assert_eq!(request.sampling.temperature, 0.0);
        let Prompt::Chat(m) = &request.prompt else {
            panic!()
        };
        assert!(m[1].content.contains(TEXT) && m[1].content.contains("\"required\":[\"name\"]"));
    }

    #[test]
    fn an_invented_value_is_retried_sampled_and_then_returned_with_its_problems() {
        let mut engine = ScriptedEngine::new(4096)
            .reply("{\"name\": \"Charles Babbage\"}")
            .reply("{\"name\": \"Ada\", \"age\": 37}")
            .reply("{\"age\": 36}");
        let got = extract(
            &mut engine,
            &schema(),
            TEXT,
            256,
            &CancelToken::new(),
            &mut |_, _| {},
        )
        .expect("as written");
        assert_eq!(got.attempts, ATTEMPTS);
        assert_eq!(got.value, json!({"age": 36}));
        assert!(
            got.problems[0].contains("\"name\" is a required property"),
            "{:?}",
            got.problems
        );
        assert_eq!(engine.requests.len(), 3);
        assert!(engine.requests[1].sampling.temperature > 0.0);
        assert_ne!(
            engine.requests[1].sampling.seed,
            engine.requests[2].sampling.seed
        );
    }

    #[test]
    fn a_second_attempt_that_passes_ends_the_tries() {
        let mut engine = ScriptedEngine::new(4096)
            .reply("{\"name\": \"Ada\", \"age\": 37}")
            .reply("{\"name\": \"Ada\", \"age\": 36}");
        let mut seen = Vec::new();
        let got = extract(
            &mut engine,
            &schema(),
            TEXT,
            256,
            &CancelToken::new(),
            &mut |a, _| seen.push(a),
        )
        .expect("as written");
        assert_eq!((got.attempts, got.problems.len()), (2, 0));
        assert_eq!(seen, vec![1, 2]);
    }

    #[test]
    fn cut_output_is_retried_and_is_an_error_when_every_attempt_is_cut() {
        let mut engine = ScriptedEngine::new(4096);
        for _ in 0..ATTEMPTS {
            engine.push_script(vec![crate::engine::ScriptStep::Fail(Error::Incomplete {
                max_tokens: 8,
            })]);
        }
        let e = extract(
            &mut engine,
            &schema(),
            TEXT,
            8,
            &CancelToken::new(),
            &mut |_, _| {},
        )
        .expect_err("refused");
        assert_eq!(e.code(), ErrorCode::IncompleteOutput);
    }

    #[test]
    fn bad_schemas_and_empty_text_are_refused_before_the_model() {
        let mut engine = ScriptedEngine::new(4096);
        let e = extract(
            &mut engine,
            &json!({"not": {}}),
            TEXT,
            64,
            &CancelToken::new(),
            &mut |_, _| {},
        )
        .expect_err("refused");
        assert_eq!(e.code(), ErrorCode::InvalidInput);
        let e = extract(
            &mut engine,
            &schema(),
            "  ",
            64,
            &CancelToken::new(),
            &mut |_, _| {},
        )
        .expect_err("refused");
        assert_eq!(e.code(), ErrorCode::EmptyInput);
        assert!(engine.requests.is_empty());
    }
}
