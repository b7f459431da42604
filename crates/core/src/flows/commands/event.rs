//! Calendar event: a text that describes a meeting as an `.ics` file.
//!
//! The dates and times are found in the text by rule
//! (`commands::dates`); the model, under a grammar, gives the title and
//! the place and picks the event's date and time among those the text
//! holds (or "none"), so it cannot write one the text does not. Relative
//! dates are resolved from `RunOptions::today`; a date that does not say
//! which day is left for the person to give (the window asks, the command
//! line refuses), never guessed.

use super::{CommandResult, RunOptions, Zone};
use crate::commands::dates::{find_dates, find_times, resolve_date, resolve_time};
use crate::commands::ics::{to_ics, EventDraft, DEFAULT_MINUTES};
use crate::engine::{CancelToken, Constraint, Engine, GenerateRequest, Prompt, Sampling};
use crate::error::Result;
use crate::tasks::budget_for;
use crate::tasks::check::words;
use crate::tasks::facts::Source;
use regex::Regex;
use serde_json::json;
use std::sync::LazyLock;

const SHOTS: &str = "Find the meeting in each message: its title, date, time and place, copied as written.\n\n\
Message: Can we meet on Thursday at 10 in room 4 to plan the trip?\n\
Event: {\"title\": \"Plan the trip\", \"date\": \"Thursday\", \"time\": \"at 10\", \"location\": \"room 4\"}\n\n\
Message: Reminder: the budget review is on March 12 at 2:30 pm.\n\
Event: {\"title\": \"Budget review\", \"date\": \"March 12\", \"time\": \"2:30 pm\", \"location\": \"none\"}\n\n\
Message: Let's have lunch tomorrow at Luigi's, around noon.\n\
Event: {\"title\": \"Lunch\", \"date\": \"tomorrow\", \"time\": \"noon\", \"location\": \"Luigi's\"}\n\n\
Message: The school play is on Friday evening, don't forget!\n\
Event: {\"title\": \"School play\", \"date\": \"Friday\", \"time\": \"none\", \"location\": \"none\"}\n\n";

/// Tries: greedy, then two sampled.
const ATTEMPTS: usize = 3;

static DURATION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\bfor\s+(an|a|one|two|three|half an|\d{1,3})\s*(hours?|hrs?|minutes?|mins?)\b")
        .expect("the duration pattern is valid")
});

/// Minutes the text gives the event ("for an hour", "for 30 minutes").
pub fn duration(text: &str) -> Option<u32> {
    let c = DURATION.captures(text)?;
    let n = match c[1].to_ascii_lowercase().as_str() {
        "an" | "a" | "one" => 1.0,
        "two" => 2.0,
        "three" => 3.0,
        "half an" => 0.5,
        d => d.parse().ok()?,
    };
    let hours = c[2].to_ascii_lowercase().starts_with('h');
    Some(if hours { (n * 60.0) as u32 } else { n as u32 })
}

fn choices(found: &[String]) -> Vec<String> {
    let mut c = found.to_vec();
    c.push("none".into());
    c
}

pub fn request(text: &str, dates: &[String], times: &[String], attempt: usize) -> GenerateRequest {
    let schema = json!({
        "type": "object",
        "properties": {
            "title": {"type": "string", "maxLength": 80},
            "date": {"enum": choices(dates)},
            "time": {"enum": choices(times)},
            "location": {"type": "string", "maxLength": 60},
        },
        "required": ["title", "date", "time", "location"],
    });
    let sampling = Sampling::attempt(attempt, 0.6, 0xe7e);
    GenerateRequest::new(Prompt::Raw(format!("{SHOTS}Message: {text}\nEvent: ")), 120)
        .with_sampling(sampling)
        .with_constraint(Constraint::json(schema))
}

/// The title is the model's words, but about this text: one of its
/// longer words at least is the text's, as written.
fn about(title: &str, source: &Source) -> bool {
    words(title)
        .iter()
        .any(|w| w.chars().count() >= 4 && source.contains_word(w))
}

pub fn run(
    engine: &mut dyn Engine,
    text: &str,
    options: &RunOptions,
    cancel: &CancelToken,
    on_piece: &mut dyn FnMut(usize, &str),
) -> Result<CommandResult> {
    let dates = find_dates(text);
    let times = find_times(text);
    budget_for(engine, &request(text, &dates, &times, 0))?;
    let source = Source::new(text);
    let mut notes = Vec::new();
    // Each attempt may get a different part right: the first title about
    // the text and the first place the text names are kept.
    let mut answers: Vec<serde_json::Value> = Vec::new();
    for attempt in 0..ATTEMPTS {
        let generation =
            engine.generate(&request(text, &dates, &times, attempt), cancel, &mut |p| {
                on_piece(attempt + 1, p)
            });
        let generation = match generation {
            Ok(g) => g,
            Err(e) if e.code() == crate::ErrorCode::IncompleteOutput => continue,
            Err(e) => return Err(e),
        };
        let Ok(value) = serde_json::from_str::<serde_json::Value>(generation.text.trim()) else {
            continue;
        };
        let done = about(value["title"].as_str().unwrap_or(""), &source);
        answers.push(value);
        if done {
            break;
        }
    }
    let field = |v: &serde_json::Value, k: &str| v[k].as_str().unwrap_or("").trim().to_string();
    let first = answers.first().cloned().unwrap_or_else(|| json!({}));
    let title = answers
        .iter()
        .map(|v| field(v, "title"))
        .find(|t| about(t, &source));
    let title = title.unwrap_or_else(|| {
        notes.push(format!(
            "the title \u{201c}{}\u{201d} is not about the text; it was replaced by \u{201c}Meeting\u{201d}",
            field(&first, "title")
        ));
        "Meeting".into()
    });
    let places: Vec<String> = answers
        .iter()
        .map(|v| field(v, "location"))
        .filter(|l| !l.is_empty() && !l.eq_ignore_ascii_case("none"))
        .collect();
    let location = places.iter().find(|l| source.contains(l)).cloned();
    if location.is_none() {
        if let Some(l) = places.first() {
            notes.push(format!(
                "the place \u{201c}{l}\u{201d} was left out: the text does not name it"
            ));
        }
    }
    let chosen = |k: &str, found: &[String]| {
        answers
            .iter()
            .find_map(|v| found.iter().find(|f| **f == field(v, k)).cloned())
            .or_else(|| (found.len() == 1).then(|| found[0].clone()))
    };
    let date_text = chosen("date", &dates);
    let time_text = chosen("time", &times);
    let draft = EventDraft {
        title,
        date: date_text
            .as_deref()
            .and_then(|d| resolve_date(d, options.today))
            .map(|d| d.format("%Y-%m-%d").to_string()),
        time: time_text
            .as_deref()
            .and_then(resolve_time)
            .map(|t| t.format("%H:%M").to_string()),
        date_text,
        time_text,
        location,
        duration_minutes: duration(text).unwrap_or(DEFAULT_MINUTES),
    };
    let ics = if draft.missing().is_empty() {
        match options.zone {
            Zone::Local => to_ics(&draft, &chrono::Local)?,
            Zone::Fixed(offset) => to_ics(&draft, &offset)?,
        }
    } else {
        notes.extend(draft.missing());
        String::new()
    };
    let mut result = CommandResult::new("event", ics);
    result.value = Some(serde_json::to_value(&draft).unwrap_or_default());
    result.event = Some(draft);
    result.notes = notes;
    Ok(result)
}

/// The `.ics` of a draft the person completed (the window's questions).
pub fn complete(draft: &EventDraft, zone: Zone) -> Result<String> {
    let mut draft = draft.clone();
    // What the person typed replaces what the text left open.
    if draft.date.is_some() {
        draft.date_text = None;
    }
    // An hour left empty by the person is an all-day event.
    draft.time_text = None;
    match zone {
        Zone::Local => to_ics(&draft, &chrono::Local),
        Zone::Fixed(offset) => to_ics(&draft, &offset),
    }
}
