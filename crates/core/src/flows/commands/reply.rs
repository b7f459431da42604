//! Reply draft: a message becomes a reply in the chosen tone.
//!
//! Worked examples in a completion prompt (as for rephrase, what a 135M
//! model follows best). A reply must not talk as an assistant, and must
//! not state a number, a name or a date the message does not (a small
//! model happily moves "next Tuesday" to "tomorrow"); a draft that fails
//! is tried again sampled, and flagged with why if every try fails.

use super::{CommandResult, RunOptions, Tone};
use crate::commands::dates::find_dates;
use crate::engine::{CancelToken, Engine, GenerateRequest, Prompt, Sampling};
use crate::error::Result;
use crate::tasks::budget_for;
use crate::tasks::clean::clean_output;
use crate::tasks::facts::{unsupported_in, Source};

const ATTEMPTS: usize = 3;

/// Phrases of a model describing its answer instead of writing it.
const DRAFT_TALK: &[&str] = &[
    "as an ai",
    "as a language model",
    "here is a reply",
    "here's a reply",
    "here is the reply",
    "here is a draft",
    "here's a draft",
    "reply to the message",
];

fn shots(tone: Tone) -> (&'static str, &'static str) {
    match tone {
        Tone::Friendly => (
            "Friendly reply",
            "Message: Could you send me the photos from the trip?\n\
             Friendly reply: Of course! I'll send the photos tonight. It was such a fun trip!\n\n\
             Message: Are you free for lunch on Thursday?\n\
             Friendly reply: Yes, I'd love to! Thursday works great for me.\n\n",
        ),
        Tone::Professional => (
            "Professional reply",
            "Message: Could you send me the photos from the trip?\n\
             Professional reply: Certainly. I will send you the photos this evening.\n\n\
             Message: Are you free for lunch on Thursday?\n\
             Professional reply: Thank you for the invitation. Thursday suits me well.\n\n",
        ),
    }
}

pub fn request(message: &str, tone: Tone, attempt: usize) -> GenerateRequest {
    let (label, examples) = shots(tone);
    let one_line = message.split_whitespace().collect::<Vec<_>>().join(" ");
    let prompt =
        format!("Write a reply to each message.\n\n{examples}Message: {one_line}\n{label}:");
    let sampling = Sampling::attempt(attempt, 0.7, 0x4e91);
    GenerateRequest::new(Prompt::Raw(prompt), 200)
        .with_sampling(sampling)
        .with_stop(["\n\n", "\nMessage:"])
}

/// Why `draft` is not a reply to `message`, if it is not.
pub fn check(message: &str, draft: &str) -> Option<String> {
    let draft = draft.trim();
    if draft.is_empty() {
        return Some("the model returned nothing".into());
    }
    let lower = draft.to_lowercase();
    if let Some(p) = DRAFT_TALK
        .iter()
        .find(|p| lower.contains(*p) && !message.to_lowercase().contains(*p))
    {
        return Some(format!(
            "the model talked about the reply (\u{201c}{p}\u{201d}) instead of writing it"
        ));
    }
    let source = Source::new(message);
    if let Some(why) = unsupported_in(&source, draft, "reply") {
        return Some(why);
    }
    find_dates(draft)
        .into_iter()
        .find(|d| !source.contains(d))
        .map(|d| format!("the reply says \u{201c}{d}\u{201d}, which the message does not"))
}

pub fn run(
    engine: &mut dyn Engine,
    message: &str,
    options: &RunOptions,
    cancel: &CancelToken,
    on_piece: &mut dyn FnMut(usize, &str),
) -> Result<CommandResult> {
    budget_for(engine, &request(message, options.tone, 0))?;
    let mut last = (String::new(), String::new());
    for attempt in 0..ATTEMPTS {
        let generation =
            engine.generate(&request(message, options.tone, attempt), cancel, &mut |p| {
                on_piece(attempt + 1, p)
            })?;
        let draft = clean_output(&generation.text);
        match check(message, &draft) {
            None => {
                let mut result = CommandResult::new("reply", draft);
                result.value =
                    Some(serde_json::json!({ "tone": options.tone, "reply": result.text }));
                return Ok(result);
            }
            Some(why) => last = (draft, why),
        }
    }
    let mut result = CommandResult::new("reply", last.0);
    result.problems.push(last.1);
    Ok(result)
}
