//! Command figures for `pith bench`: a custom command on a short copied
//! message, from the start of the run to its checked result (the work its
//! shortcut starts; reading the clipboard adds milliseconds), and each
//! built-in workflow on a sample text.

use pith_core::commands::{CustomCommand, Workflow};
use pith_core::engine::CancelToken;
use pith_core::flows::commands::{run_on, CommandResult, RunOptions, Target, Tone, Zone};
use pith_core::Result;
use pith_llama::LlamaEngine;
use serde_json::{json, Value};
use std::time::Instant;

const MESSAGE: &str = "Hi Sam, can we meet next Tuesday at 3 in the Blue Room to go over the launch plan? Thanks, Priya";

const EMAIL: &str = "Hi team,\n\nThanks for the meeting today. To recap what we agreed:\n\
Maria will send the revised budget to the client by Friday.\n\
Tom needs to book the conference room for the workshop.\n\
I will update the project plan before December 10.\n\nBest,\nAnna";

/// One run: seconds to the result, seconds to its first piece, the result.
fn timed(
    engine: &mut LlamaEngine,
    target: &Target,
    text: &str,
    options: &RunOptions,
) -> Result<(f64, Option<f64>, CommandResult)> {
    let started = Instant::now();
    let mut first = None;
    let result = run_on(
        engine,
        target,
        text,
        options,
        &CancelToken::new(),
        &mut |_, _| {
            first.get_or_insert_with(|| started.elapsed().as_secs_f64());
        },
    )?;
    Ok((started.elapsed().as_secs_f64(), first, result))
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

pub fn figures(engine: &mut LlamaEngine) -> Result<Value> {
    let options = RunOptions {
        today: chrono::NaiveDate::from_ymd_opt(2026, 12, 3).unwrap_or_default(),
        zone: Zone::Fixed(
            chrono::FixedOffset::east_opt(0)
                .ok_or_else(|| pith_core::Error::Inference("UTC".into()))?,
        ),
        tone: Tone::Friendly,
    };
    let custom = Target::Custom(CustomCommand::new(
        "shout",
        "Rewrite this message in capital letters: {text}",
    ));
    // The median of three: the first run also fills the cache.
    let mut runs = Vec::new();
    for _ in 0..3 {
        runs.push(timed(engine, &custom, MESSAGE, &options)?);
    }
    runs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (custom_s, custom_first, custom_result) = &runs[1];
    let (items_s, _, items) = timed(
        engine,
        &Target::Workflow(Workflow::ActionItems),
        EMAIL,
        &options,
    )?;
    let (event_s, _, event) = timed(
        engine,
        &Target::Workflow(Workflow::Event),
        MESSAGE,
        &options,
    )?;
    let (reply_s, _, reply) = timed(
        engine,
        &Target::Workflow(Workflow::Reply),
        MESSAGE,
        &options,
    )?;
    let count = items
        .value
        .as_ref()
        .and_then(|v| v["items"].as_array().map(Vec::len))
        .unwrap_or(0);
    Ok(json!({
        "command_custom_s": round3(*custom_s),
        "command_custom_first_piece_s": custom_first.map(round3),
        "command_custom_ok": custom_result.ok(),
        "command_action_items_s": round3(items_s),
        "command_action_items_found": count,
        "command_event_s": round3(event_s),
        "command_event_start": event.event.as_ref().map(|e| format!(
            "{} {}",
            e.date.as_deref().unwrap_or("?"),
            e.time.as_deref().unwrap_or("all day")
        )),
        "command_reply_s": round3(reply_s),
        "command_reply_ok": reply.ok(),
    }))
}
