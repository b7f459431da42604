//! Action items: a note, an email or a document as a checklist.
//!
//! Measured on SmolLM2-135M: asked for every item of a whole email at
//! once, it returns names as tasks and owners at random; asked about one
//! sentence at a time with worked examples, it finds the task, its owner
//! and its date. So the text is cut into sentences, and each is asked
//! under a lazy grammar: free text until the answer opens a JSON object
//! (an answer of "none" is no task), the object's shape fixed from there.
//! The facts check: a task must be made of the sentence's words, and an
//! owner or a date the sentence does not hold is left out, with a note —
//! never invented.

use super::{CommandResult, RunOptions};
use crate::commands::dates::resolve_date;
use crate::engine::{CancelToken, Constraint, Engine, GenerateRequest, Prompt, Sampling};
use crate::error::Result;
use crate::tasks::check::kept_words;
use crate::tasks::facts::Source;
use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::sync::LazyLock;

/// Words of a sentence that commits someone to something.
static CUE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(will|needs? to|should|must|has to|have to|going to|please|can you|could you|by|before|until|due)\b",
    )
    .expect("the cue pattern is valid")
});

/// Most sentences looked at: a long document's tasks are a summary's job.
pub const MAX_SENTENCES: usize = 80;

const SHOTS: &str = "Find the task in each sentence: what must be done, who does it, and by when.\n\n\
Sentence: Please call the plumber about the sink before Monday.\n\
Task: {\"task\": \"Call the plumber about the sink\", \"owner\": \"none\", \"due\": \"Monday\"}\n\n\
Sentence: It was great to see everyone at the party.\n\
Task: none\n\n\
Sentence: Lisa will prepare the slides for the review by March 3.\n\
Task: {\"task\": \"Prepare the slides for the review\", \"owner\": \"Lisa\", \"due\": \"March 3\"}\n\n\
Sentence: The new office has a lovely view of the river.\n\
Task: none\n\n\
Sentence: Ben needs to renew the software licences.\n\
Task: {\"task\": \"Renew the software licences\", \"owner\": \"Ben\", \"due\": \"none\"}\n\n\
Sentence: I will send the minutes before Tuesday.\n\
Task: {\"task\": \"Send the minutes\", \"owner\": \"I\", \"due\": \"Tuesday\"}\n\n";

/// One item of the checklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionItem {
    pub task: String,
    /// Who does it, as the text names them; "me" for the writer.
    pub owner: Option<String>,
    /// By when, as the text says it.
    pub due: Option<String>,
    /// `due` as a date, when it names one day.
    pub due_date: Option<String>,
}

fn item_schema() -> serde_json::Value {
    json!({
        "type": "object",
        "properties": {
            "task": {"type": "string", "maxLength": 120},
            "owner": {"type": "string", "maxLength": 40},
            "due": {"type": "string", "maxLength": 40},
        },
        "required": ["task", "owner", "due"],
    })
}

/// The request for one sentence; `attempt` 0 is greedy.
pub fn request(sentence: &str, attempt: usize) -> GenerateRequest {
    let sampling = Sampling::attempt(attempt, 0.6, 0xac7);
    let constraint = Constraint {
        triggers: vec!["{".into()],
        ..Constraint::json(item_schema())
    };
    GenerateRequest::new(
        Prompt::Raw(format!("{SHOTS}Sentence: {sentence}\nTask:")),
        96,
    )
    .with_sampling(sampling)
    .with_stop(["\n"])
    .with_constraint(constraint)
}

/// The text's sentences: lines, cut at sentence ends, list markers and
/// greetings dropped.
pub fn sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line
            .trim()
            .trim_start_matches(['-', '*', '•', '>'])
            .trim_start_matches("[ ]")
            .trim_start_matches("[x]")
            .trim();
        let mut start = 0;
        let chars: Vec<(usize, char)> = line.char_indices().collect();
        for (i, &(at, c)) in chars.iter().enumerate() {
            let next_space = chars.get(i + 1).is_none_or(|(_, n)| n.is_whitespace());
            if matches!(c, '.' | '!' | '?') && next_space {
                push_sentence(&mut out, &line[start..at + c.len_utf8()]);
                start = at + c.len_utf8();
            }
        }
        push_sentence(&mut out, &line[start..]);
    }
    out
}

fn push_sentence(out: &mut Vec<String>, s: &str) {
    let s = s.trim();
    // A greeting or a signature ("Hi team,", "Best, Anna") is no task.
    if s.split_whitespace().count() >= 3 {
        out.push(s.to_string());
    }
}

/// A person's or a team's name as written: one to three words, each
/// capitalised ("Maria", "Tom Becker"), not a phrase of the sentence.
fn is_name(s: &str) -> bool {
    let words: Vec<&str> = s.split_whitespace().collect();
    (1..=3).contains(&words.len())
        && words
            .iter()
            .all(|w| w.chars().next().is_some_and(char::is_uppercase))
}

fn none(s: &str) -> bool {
    matches!(
        s.trim().to_ascii_lowercase().as_str(),
        "" | "none" | "no one" | "nobody" | "n/a" | "unknown"
    )
}

/// The item a sentence's answer names, checked against the sentence, with
/// notes on what was left out; `None` when the answer is no task, or a
/// task not made of the sentence's words.
fn checked(
    answer: &str,
    sentence: &str,
    options: &RunOptions,
    notes: &mut Vec<String>,
) -> Option<ActionItem> {
    let answer = answer.trim();
    let start = answer.find('{')?;
    let raw: serde_json::Value = serde_json::from_str(&answer[start..]).ok()?;
    let field = |k: &str| {
        raw.get(k)
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .trim()
            .to_string()
    };
    let task = field("task");
    let (kept, total) = kept_words(&task, sentence);
    if task.is_empty() || total == 0 || kept * 10 < total * 6 {
        return None;
    }
    let source = Source::new(sentence);
    let owner = field("owner");
    let owner = if none(&owner) {
        None
    } else if ["i", "me"].contains(&owner.to_ascii_lowercase().as_str()) {
        Some("me".to_string())
    } else if is_name(&owner) && source.contains_word(&owner) {
        Some(owner)
    } else {
        notes.push(format!(
            "\u{201c}{owner}\u{201d} was left out as who does \u{201c}{task}\u{201d}: the text does not say so"
        ));
        None
    };
    let due = field("due");
    let due = if none(&due) {
        None
    } else if source.contains(&due) {
        Some(due)
    } else {
        notes.push(format!(
            "\u{201c}{due}\u{201d} was left out as the date of \u{201c}{task}\u{201d}: the text does not say so"
        ));
        None
    };
    let due_date = due
        .as_deref()
        .and_then(|d| resolve_date(d, options.today))
        .map(|d| d.format("%Y-%m-%d").to_string());
    let mut task = task;
    if let Some(first) = task.get(..1) {
        task = first.to_uppercase() + &task[1..];
    }
    Some(ActionItem {
        task: task.trim_end_matches('.').to_string(),
        owner,
        due,
        due_date,
    })
}

pub fn run(
    engine: &mut dyn Engine,
    text: &str,
    options: &RunOptions,
    cancel: &CancelToken,
    on_piece: &mut dyn FnMut(usize, &str),
) -> Result<CommandResult> {
    let all = sentences(text);
    let mut notes = Vec::new();
    if all.len() > MAX_SENTENCES {
        notes.push(format!(
            "only the first {MAX_SENTENCES} of {} sentences were read; summarize a long document instead",
            all.len()
        ));
    }
    let mut items: Vec<ActionItem> = Vec::new();
    let mut asked = 0;
    for sentence in all.iter().take(MAX_SENTENCES) {
        let mut found = None;
        // A sentence that reads like a commitment gets a second, sampled
        // look when the first says it holds no task.
        let tries = if CUE.is_match(sentence) { 2 } else { 1 };
        for attempt in 0..tries {
            asked += 1;
            let n = asked;
            let generation =
                engine.generate(&request(sentence, attempt), cancel, &mut |p| on_piece(n, p))?;
            found = checked(&generation.text, sentence, options, &mut notes);
            if found.is_some() {
                break;
            }
        }
        if let Some(item) = found {
            if !items
                .iter()
                .any(|i| i.task.eq_ignore_ascii_case(&item.task))
            {
                items.push(item);
            }
        }
    }
    let mut result = CommandResult::new("action-items", markdown(&items));
    if items.is_empty() {
        notes.push("the text holds no action items".into());
    }
    result.todo_txt = Some(todo_txt(&items));
    result.value = Some(json!({ "items": items }));
    result.notes = notes;
    Ok(result)
}

/// `- [ ] Task (owner, due date)` lines.
pub fn markdown(items: &[ActionItem]) -> String {
    items
        .iter()
        .map(|i| {
            let mut extra = Vec::new();
            if let Some(o) = &i.owner {
                extra.push(o.clone());
            }
            if let Some(d) = &i.due {
                extra.push(format!("due {d}"));
            }
            if extra.is_empty() {
                format!("- [ ] {}\n", i.task)
            } else {
                format!("- [ ] {} ({})\n", i.task, extra.join(", "))
            }
        })
        .collect()
}

/// todo.txt lines: the task, `@owner`, `due:YYYY-MM-DD` (a date that does
/// not name one day stays in words).
pub fn todo_txt(items: &[ActionItem]) -> String {
    items
        .iter()
        .map(|i| {
            let mut line = i.task.clone();
            if let Some(o) = &i.owner {
                line.push_str(&format!(
                    " @{}",
                    o.split_whitespace().collect::<Vec<_>>().join("_")
                ));
            }
            match (&i.due_date, &i.due) {
                (Some(d), _) => line.push_str(&format!(" due:{d}")),
                (None, Some(words)) => line.push_str(&format!(" (due {words})")),
                _ => {}
            }
            line.push('\n');
            line
        })
        .collect()
}
