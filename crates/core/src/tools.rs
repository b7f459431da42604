//! The agent's tools: small, typed, path-checked, journaled for undo.
//!
//! A [`Tool`] names itself, describes its arguments as a JSON Schema (the
//! agent's grammar is built from it, with the file names the run has seen
//! as an `enum`, so a small model picks a file rather than spells one), and
//! says whether it only reads ([`Effect::Read`], run at once) or changes
//! something ([`Effect::Change`], shown first with a [`Preview`] and run
//! only when the person approves).
//!
//! - [`paths`]: the folders the person granted; every path is resolved and
//!   checked (no `..`, no symlink out of a granted folder);
//! - [`files`]: list, read, write a new file, rename, move to the trash
//!   (never delete);
//! - [`text`]: search the history, summarize, rephrase, to-do list,
//!   calendar event, an email draft, the clipboard;
//! - [`journal`]: what each file operation takes to reverse, and undoing a
//!   run exactly (names and bytes) or refusing, saying why.

pub mod files;
pub mod journal;
pub mod paths;
pub mod text;
pub mod trash;

use crate::engine::{CancelToken, Engine};
use crate::error::{Error, Result};
use crate::flows::commands::RunOptions;
use crate::history::History;
use journal::Change;
use paths::Grants;
use serde::Serialize;
use serde_json::Value;

/// Whether a tool changes anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    /// Reads only: run at once.
    Read,
    /// Changes a file or the clipboard: previewed, run only when approved.
    Change,
}

/// What a side-effecting step will do, shown before it runs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct Preview {
    /// One line: "Rename a.pdf to Budget review.pdf".
    pub summary: String,
    /// The name before (rename, trash).
    pub before: Option<String>,
    /// The name after (rename, new file).
    pub after: Option<String>,
    /// The text a new file or the clipboard will hold.
    pub content: Option<String>,
}

/// What a tool did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    /// What the model is told (bounded).
    pub text: String,
    /// Files the run now knows of, relative to its folder (a listing).
    pub files: Vec<String>,
    /// Files that are no longer there under that name (renamed, trashed):
    /// no longer offered. A file the run made or renamed is not offered
    /// either: it is done.
    pub gone: Vec<String>,
    /// File operations, with what reverses them.
    pub changes: Vec<Change>,
}

impl Outcome {
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            ..Self::default()
        }
    }
}

/// The clipboard, as the way in reaches it (xclip for the command line,
/// the desktop's own; memory in tests).
pub trait Clipboard {
    fn read(&mut self) -> Result<String>;
    fn write(&mut self, text: &str) -> Result<()>;
}

/// A clipboard in memory (tests, and ways in without one).
#[derive(Debug, Default)]
pub struct MemoryClipboard(pub String);

impl Clipboard for MemoryClipboard {
    fn read(&mut self) -> Result<String> {
        Ok(self.0.clone())
    }
    fn write(&mut self, text: &str) -> Result<()> {
        self.0 = text.to_string();
        Ok(())
    }
}

/// What the run knows, for the tools' schemas: the files seen, the files
/// read, the steps whose result is text another tool can take.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Known {
    pub files: Vec<String>,
    pub read: Vec<String>,
    /// Renamed or trashed by the run.
    pub gone: Vec<String>,
    /// The latest step with a text result (1-based), as the one choice
    /// a tool taking `from_step` is offered: a small model picks the
    /// wrong number when given several.
    pub text_steps: Vec<usize>,
    /// The latest step whose result a tool wrote for the person (a
    /// to-do list, a summary, a draft: a [`Tool::uses_model`] tool): what
    /// a new file or the clipboard may take.
    pub products: Vec<usize>,
    /// Steps whose result was already written out (a file, the
    /// clipboard): a result is written once.
    pub written: Vec<usize>,
    /// Tools whose result was written out: the job is done, and not
    /// offered again.
    pub finished_tools: Vec<String>,
    /// The tool that wrote that result: a writing tool is not offered its
    /// own result again (a draft of a draft of a draft).
    pub latest_tool: String,
    /// The task's own topic words ([`topics`]): what a search or a draft
    /// may be about.
    pub topics: Vec<String>,
}

/// What a tool may use while it runs.
pub struct Context<'a> {
    pub grants: &'a Grants,
    /// The model the steps' own work runs on (summaries, to-do lists).
    pub engine: &'a mut dyn Engine,
    pub history: Option<&'a History>,
    pub clipboard: &'a mut dyn Clipboard,
    /// Where moved-away files go ([`trash::home_trash`] outside tests).
    pub trash: &'a std::path::Path,
    pub options: RunOptions,
    pub cancel: &'a CancelToken,
    /// The text results of earlier steps, by step number (1-based; empty
    /// where a step had none).
    pub results: &'a [String],
}

impl Context<'_> {
    /// The result of step `n`, for a tool given `from_step`.
    pub fn step_text(&self, n: u64) -> Result<&str> {
        let text = (n as usize)
            .checked_sub(1)
            .and_then(|i| self.results.get(i))
            .filter(|t| !t.trim().is_empty());
        text.map(String::as_str)
            .ok_or_else(|| Error::InvalidInput(format!("step {n} has no text result to use")))
    }
}

/// One tool.
pub trait Tool {
    fn name(&self) -> &'static str;
    /// One line for the model's list of tools.
    fn description(&self) -> &'static str;
    fn effect(&self) -> Effect;
    /// Word stems in a task that call for this tool ("renam"); empty: a
    /// tool always on offer. See [`relevant`].
    fn keywords(&self) -> &'static [&'static str] {
        &[]
    }
    /// Whether the tool's work runs on a model (the step model).
    fn uses_model(&self) -> bool {
        false
    }
    /// The JSON Schema of the arguments, given what the run knows; `None`
    /// when the tool has nothing to work on yet (no file to read).
    fn parameters(&self, known: &Known) -> Option<Value>;
    /// What a side-effecting call will do; checks the call as `run` would.
    fn preview(&self, args: &Value, cx: &Context) -> Result<Preview> {
        let _ = cx;
        Ok(Preview {
            summary: format!("{} {args}", self.name()),
            ..Preview::default()
        })
    }
    fn run(&self, args: &Value, cx: &mut Context) -> Result<Outcome>;
}

/// Every tool, in the order the model sees them.
pub fn all() -> Vec<Box<dyn Tool>> {
    vec![
        Box::new(files::ListFolder),
        Box::new(files::ReadDocument),
        Box::new(text::SearchHistory),
        Box::new(text::Summarize),
        Box::new(text::Rephrase),
        Box::new(text::MakeTodo),
        Box::new(text::MakeEvent),
        Box::new(text::DraftEmail),
        Box::new(files::WriteFile),
        Box::new(files::RenameFile),
        Box::new(files::TrashFile),
        Box::new(text::ReadClipboard),
        Box::new(text::WriteClipboard),
    ]
}

/// The string argument `key`.
pub fn arg_str<'a>(args: &'a Value, key: &str) -> Result<&'a str> {
    args.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| Error::InvalidInput(format!("the argument \"{key}\" is missing")))
}

/// The optional integer argument `key`.
pub fn arg_u64(args: &Value, key: &str) -> Option<u64> {
    args.get(key).and_then(Value::as_u64)
}

impl Known {
    /// Whether a tool that writes a product (a [`Tool::uses_model`]
    /// tool) has nothing left to do: its result is the latest (no draft
    /// of a draft) or was written out already.
    pub fn made_by(&self, tool: &str) -> bool {
        self.latest_tool == tool || self.finished_tools.iter().any(|t| t == tool)
    }

    /// The latest product, when it was not written out yet.
    pub fn unwritten(&self) -> Vec<usize> {
        self.products
            .iter()
            .copied()
            .filter(|n| !self.written.contains(n))
            .collect()
    }
}

/// A schema for a string that is one of `names`.
pub fn one_of(names: &[String]) -> Value {
    serde_json::json!({"type": "string", "enum": names})
}

/// At most `max` characters of `text`, cut at a word, marked when cut.
pub fn bounded(text: &str, max: usize) -> String {
    let text = text.trim();
    if text.chars().count() <= max {
        return text.to_string();
    }
    let cut: String = text.chars().take(max).collect();
    let cut = cut
        .rsplit_once(char::is_whitespace)
        .map_or(cut.as_str(), |(a, _)| a);
    format!("{cut} …")
}

/// The tools a task calls for: those without keywords (list, read), and
/// those with a keyword among the task's words (a word starting with a
/// stem). A small model picks far better among four tools than thirteen;
/// a task that names none of them gets them all.
pub fn relevant(tools: &[Box<dyn Tool>], task: &str) -> Vec<&'static str> {
    let words = crate::tasks::check::words(&task.replace('-', ""));
    let wanted = |t: &dyn Tool| {
        t.keywords()
            .iter()
            .any(|k| words.iter().any(|w| w.starts_with(k)))
    };
    let named: Vec<&'static str> = tools
        .iter()
        .filter(|t| wanted(t.as_ref()))
        .map(|t| t.name())
        .collect();
    tools
        .iter()
        .filter(|t| named.is_empty() || t.keywords().is_empty() || named.contains(&t.name()))
        .map(|t| t.name())
        .collect()
}

/// The words of a task that name its topic: longer than three letters,
/// not a common word, and not a word that calls for a tool ("find",
/// "email"). A search or a draft is about these, never about a word a
/// small model copied from an example.
pub fn topics(tools: &[Box<dyn Tool>], task: &str) -> Vec<String> {
    const COMMON: &[&str] = &[
        "find", "what", "about", "from", "that", "this", "with", "into", "them", "they", "their",
        "there", "these", "those", "then", "past", "make", "folder", "files", "file", "some",
        "were", "have", "will", "please", "every", "each", "after", "before", "when", "where",
        "which", "while", "your", "mine", "ours", "also", "just", "more", "most",
    ];
    let mut out: Vec<String> = Vec::new();
    for w in crate::tasks::check::words(task) {
        let keyword = tools
            .iter()
            .any(|t| t.keywords().iter().any(|k| w.starts_with(k)));
        if w.chars().count() > 3 && !COMMON.contains(&w.as_str()) && !keyword && !out.contains(&w) {
            out.push(w);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tasks_topics_are_its_own_words_without_the_tool_words() {
        let t = topics(
            &all(),
            "Find what was said about the offsite in past conversations and draft an email to the team about it",
        );
        assert_eq!(t, ["offsite", "team"]);
    }

    #[test]
    fn a_task_gets_the_tools_its_words_call_for() {
        let tools = all();
        let r = relevant(&tools, "Rename the PDFs after their titles");
        assert_eq!(r, ["list_folder", "read_document", "rename_file"]);
        let r = relevant(
            &tools,
            "Make a to-do list from the notes and save it in the folder",
        );
        assert_eq!(
            r,
            ["list_folder", "read_document", "make_todo", "write_file"]
        );
        let r = relevant(
            &tools,
            "Find what was said about the offsite in past conversations and draft an email",
        );
        assert_eq!(
            r,
            [
                "list_folder",
                "read_document",
                "search_history",
                "draft_email"
            ]
        );
        assert_eq!(relevant(&tools, "help me").len(), tools.len());
    }
}
