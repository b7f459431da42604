//! Running a command — a built-in workflow or one of the user's — the same
//! from every way in (the window, the hotkey, `pith run`, the API).
//!
//! Each workflow is cut into questions a small model answers well: one
//! sentence at a time for action items, a choice among the dates the text
//! holds for an event, a few worked examples for a reply. Every answer is
//! written under a grammar or checked like a rewrite (assistant talk, an
//! empty result, the schema, the facts), and what fails is retried, given
//! to the next larger installed model, and otherwise flagged with its
//! problems, never handed out as a success.
//!
//! - [`action_items`], [`event`], [`reply`]: the built-in workflows;
//! - [`custom`]: the user's commands (an instruction with `{text}`).

pub mod action_items;
pub mod custom;
pub mod event;
pub mod reply;

use crate::commands::ics::EventDraft;
use crate::commands::{CustomCommand, Output, Workflow};
use crate::engine::{Backend, CancelToken, Engine};
use crate::error::{Error, Result};
use crate::history::{ConversationId, History, MessageStatus};
use crate::routing::Candidate;
use chrono::{FixedOffset, NaiveDate};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The tone of a reply.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Tone {
    #[default]
    Friendly,
    Professional,
}

impl std::str::FromStr for Tone {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "friendly" => Ok(Tone::Friendly),
            "professional" => Ok(Tone::Professional),
            other => Err(Error::InvalidInput(format!(
                "unknown tone \"{other}\": friendly or professional"
            ))),
        }
    }
}

impl Tone {
    pub fn name(self) -> &'static str {
        match self {
            Tone::Friendly => "friendly",
            Tone::Professional => "professional",
        }
    }
}

/// The time zone dates are resolved in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zone {
    /// The system's (the app and the command line).
    Local,
    /// A fixed offset (tests, and a caller that knows better).
    Fixed(FixedOffset),
}

/// What a run needs besides the text.
#[derive(Debug, Clone, Copy)]
pub struct RunOptions {
    /// The day relative dates count from.
    pub today: NaiveDate,
    pub zone: Zone,
    pub tone: Tone,
}

impl RunOptions {
    /// Today in the system's time zone.
    pub fn now() -> Self {
        Self {
            today: chrono::Local::now().date_naive(),
            zone: Zone::Local,
            tone: Tone::Friendly,
        }
    }
}

/// What a command produced.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct CommandResult {
    pub command: String,
    /// The result as text: a checklist, an `.ics` file, a reply, the
    /// command's output (JSON when it has a schema).
    pub text: String,
    /// The structured result: the items, the event, the schema's value.
    #[ts(type = "unknown")]
    pub value: Option<Value>,
    /// Why the result fails Pith's checks; empty when it passed. A flagged
    /// result is shown with these and never copied or saved as a success.
    pub problems: Vec<String>,
    /// What the checks removed or could not settle (a name the text does
    /// not give, a date that does not say which day).
    pub notes: Vec<String>,
    /// The model that wrote it.
    pub model: String,
    /// A larger model took over.
    pub escalated: bool,
    /// Action items: the list in todo.txt form.
    pub todo_txt: Option<String>,
    /// Event: what was found, for the window to complete when the text
    /// does not say which day or hour.
    pub event: Option<EventDraft>,
}

impl CommandResult {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }

    fn new(command: &str, text: String) -> Self {
        Self {
            command: command.to_string(),
            text,
            value: None,
            problems: Vec::new(),
            notes: Vec::new(),
            model: String::new(),
            escalated: false,
            todo_txt: None,
            event: None,
        }
    }
}

/// A command to run.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    Workflow(Workflow),
    Custom(CustomCommand),
}

impl Target {
    pub fn name(&self) -> &str {
        match self {
            Target::Workflow(w) => w.name(),
            Target::Custom(c) => &c.name,
        }
    }

    /// The command called `name`, built-in or the user's.
    pub fn find(name: &str, custom: &[CustomCommand]) -> Result<Target> {
        if let Some(w) = Workflow::from_name(name) {
            return Ok(Target::Workflow(w));
        }
        if let Some(c) = custom.iter().find(|c| c.name == name) {
            return Ok(Target::Custom(c.clone()));
        }
        let mut names: Vec<&str> = Workflow::ALL.iter().map(|w| w.name()).collect();
        names.extend(custom.iter().map(|c| c.name.as_str()));
        Err(Error::NotFound(format!(
            "a command named \"{name}\" (there are: {})",
            names.join(", ")
        )))
    }

    /// The models to try, in turn: the command's own model alone, or the
    /// smallest installed model that fits and then the next larger one.
    pub fn order(&self, candidates: &[Candidate], pinned: Option<&str>) -> Vec<String> {
        let own = match self {
            Target::Custom(c) => c.model.as_deref(),
            Target::Workflow(_) => None,
        };
        crate::flows::extract::order(candidates, pinned.or(own))
    }
}

/// Runs `target` on `text` with one model.
pub fn run_on(
    engine: &mut dyn Engine,
    target: &Target,
    text: &str,
    options: &RunOptions,
    cancel: &CancelToken,
    on_piece: &mut dyn FnMut(usize, &str),
) -> Result<CommandResult> {
    let text = crate::tasks::validate_text(text)?;
    match target {
        Target::Workflow(Workflow::ActionItems) => {
            action_items::run(engine, &text, options, cancel, on_piece)
        }
        Target::Workflow(Workflow::Event) => event::run(engine, &text, options, cancel, on_piece),
        Target::Workflow(Workflow::Reply) => reply::run(engine, &text, options, cancel, on_piece),
        Target::Custom(c) => custom::run(engine, c, &text, cancel, on_piece),
    }
}

/// Runs `target` with the models of `order` in turn: a larger one takes
/// over when a result fails the checks. `on_piece` receives the stream
/// with the attempt's number (a new number: start over).
pub fn run_routed(
    models: &mut dyn Backend,
    order: &[String],
    target: &Target,
    text: &str,
    options: &RunOptions,
    cancel: &CancelToken,
    on_piece: &mut dyn FnMut(usize, &str),
) -> Result<CommandResult> {
    let mut last: Option<CommandResult> = None;
    let mut offset = 0;
    for (i, id) in order.iter().enumerate() {
        let (engine, _swap) = models.engine(id)?;
        let mut seen = 0;
        let got = run_on(engine, target, text, options, cancel, &mut |n, p| {
            seen = seen.max(n);
            on_piece(n + offset, p)
        });
        offset += seen.max(1);
        let mut got = match got {
            Ok(g) => g,
            Err(e) if i + 1 < order.len() && e.code() == crate::ErrorCode::IncompleteOutput => {
                continue
            }
            Err(e) => return Err(e),
        };
        got.model = id.clone();
        got.escalated = i > 0;
        if got.ok() {
            return Ok(got);
        }
        last = Some(got);
    }
    last.ok_or_else(|| Error::NotFound("an installed model to run the command with".into()))
}

/// Saves a result as a conversation — the request as the question, the
/// result as the answer — to go on with in the chat.
pub fn save_conversation(
    history: &mut History,
    result: &CommandResult,
    request: &str,
) -> Result<ConversationId> {
    let title = crate::history::title_from(&format!("{}: {request}", result.command));
    let id = history.create_conversation(&title, Some(&result.model))?;
    history.add_message(
        id,
        crate::engine::Role::User,
        request,
        MessageStatus::Complete,
        None,
    )?;
    history.add_message(
        id,
        crate::engine::Role::Assistant,
        &result.text,
        MessageStatus::Complete,
        Some(&result.model),
    )?;
    Ok(id)
}

/// Writes a result as a new file in `folder` (`NAME-YYYYMMDD-HHMMSS.md`,
/// `.ics` for an event, `.json` for a structured result), never over an
/// existing file.
pub fn write_to_folder(folder: &Path, result: &CommandResult) -> Result<PathBuf> {
    crate::commands::check_folder(folder)?;
    let ext = match (&result.event, &result.value) {
        (Some(_), _) => "ics",
        (None, Some(_)) if result.todo_txt.is_none() => "json",
        _ => "md",
    };
    let stamp = chrono::Local::now().format("%Y%m%d-%H%M%S");
    for n in 1..100 {
        let suffix = if n == 1 {
            String::new()
        } else {
            format!("-{n}")
        };
        let path = folder.join(format!("{}-{stamp}{suffix}.{ext}", result.command));
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path);
        match file {
            Ok(mut f) => {
                use std::io::Write;
                f.write_all(result.text.as_bytes())
                    .map_err(|e| Error::io(format!("could not write {}", path.display()), e))?;
                return Ok(path);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(Error::io(format!("could not write {}", path.display()), e)),
        }
    }
    Err(Error::InvalidInput(format!(
        "{} already holds 99 results of {} from this second",
        folder.display(),
        result.command
    )))
}

/// Where a command's result goes by default: a custom command's choice;
/// the built-in workflows show theirs (the popup).
pub fn output_of(target: &Target) -> Output {
    match target {
        Target::Custom(c) => c.output,
        Target::Workflow(_) => Output::Popup,
    }
}

/// A conversation as the text of a command whose input is the
/// conversation: each message under its speaker.
pub fn conversation_text(history: &History, id: ConversationId) -> Result<String> {
    let messages = history.messages(id)?;
    if messages.is_empty() {
        return Err(Error::EmptyInput);
    }
    Ok(messages
        .iter()
        .map(|m| {
            let who = match m.role {
                crate::engine::Role::User => "Me",
                _ => "Assistant",
            };
            format!("{who}: {}", m.text.trim())
        })
        .collect::<Vec<_>>()
        .join("\n\n"))
}

/// The next larger installed model that fits, after `current`: where a
/// flagged result goes in the app (whose model in use is the first).
pub fn next_larger(current: &str, candidates: &[Candidate]) -> Option<String> {
    let size = candidates
        .iter()
        .find(|c| c.id == current)
        .map_or(0, |c| c.parameters);
    candidates
        .iter()
        .filter(|c| c.fits && c.parameters > size)
        .min_by_key(|c| c.parameters)
        .map(|c| c.id.clone())
}

#[cfg(test)]
mod tests;
