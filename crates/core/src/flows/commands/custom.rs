//! The user's commands: the instruction with the text in place of
//! `{text}`, through the model's chat template. With a schema the result
//! is extracted under its grammar and checked like `pith extract`'s;
//! without one it is checked like a rewrite: not empty, and not an
//! assistant talking about the text instead of doing what was asked.

use super::CommandResult;
use crate::commands::CustomCommand;
use crate::engine::{CancelToken, ChatMessage, Engine, GenerateRequest, Prompt, Sampling};
use crate::error::Result;
use crate::tasks::budget_for;
use crate::tasks::check::assistant_phrase;
use crate::tasks::clean::clean_output;
use crate::tasks::extract::{extract, DEFAULT_MAX_TOKENS};

const ATTEMPTS: usize = 3;

const SYSTEM: &str = "Do what the user asks with the text they give. Write only the result: no \
introduction, no comments, no quotes around it.";

/// Room for a result: a command's output is about as long as its text.
const MAX_TOKENS: usize = 512;

pub fn request(command: &CustomCommand, text: &str, attempt: usize) -> GenerateRequest {
    let sampling = Sampling::attempt(attempt, 0.7, 0xc0de);
    let messages = vec![
        ChatMessage::system(SYSTEM),
        ChatMessage::user(command.render(text)),
    ];
    // The command's adapter, when one is installed for it (`pith models
    // import --adapter FILE --for NAME`); the base model otherwise.
    GenerateRequest::new(Prompt::Chat(messages), MAX_TOKENS)
        .with_sampling(sampling)
        .with_adapter(command.name.clone())
}

/// Why `output` is not a result of `command` on `text`, if it is not.
pub fn check(command: &CustomCommand, text: &str, output: &str) -> Option<String> {
    if output.trim().is_empty() {
        return Some("the model returned nothing".into());
    }
    assistant_phrase(&command.render(text), output).map(|p| {
        format!("the model answered as an assistant (it wrote \u{201c}{p}\u{201d}) instead of doing what the command asks")
    })
}

pub fn run(
    engine: &mut dyn Engine,
    command: &CustomCommand,
    text: &str,
    cancel: &CancelToken,
    on_piece: &mut dyn FnMut(usize, &str),
) -> Result<CommandResult> {
    if let Some(schema) = command.schema_value()? {
        let got = extract(
            engine,
            &schema,
            &command.render(text),
            DEFAULT_MAX_TOKENS,
            cancel,
            on_piece,
        )?;
        let pretty = serde_json::to_string_pretty(&got.value).unwrap_or_default();
        let mut result = CommandResult::new(&command.name, pretty);
        result.value = Some(got.value);
        result.problems = got.problems;
        return Ok(result);
    }
    budget_for(engine, &request(command, text, 0))?;
    let mut last = (String::new(), String::new());
    for attempt in 0..ATTEMPTS {
        let generation = engine.generate(&request(command, text, attempt), cancel, &mut |p| {
            on_piece(attempt + 1, p)
        })?;
        let output = clean_output(&generation.text);
        match check(command, text, &output) {
            None => return Ok(CommandResult::new(&command.name, output)),
            Some(why) => last = (output, why),
        }
    }
    let mut result = CommandResult::new(&command.name, last.0);
    result.problems.push(last.1);
    Ok(result)
}
