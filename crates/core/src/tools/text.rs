//! Tools on text: search the history, summarize, rephrase, a to-do list, a
//! calendar event, an email draft, the clipboard. The model work runs on
//! the step model (the small one) through the same tasks and checks as
//! everywhere else in Pith.

use super::files::read_text;
use super::{arg_str, arg_u64, bounded, one_of, Context, Effect, Known, Outcome, Preview, Tool};
use crate::commands::Workflow;
use crate::engine::{GenerateRequest, Prompt, Sampling};
use crate::error::{Error, Result};
use crate::flows::commands::{run_on, Target};
use crate::tasks::facts::{remove_unsupported, Source};
use crate::tasks::rephrase::RephraseMode;
use crate::tasks::summarize::SummaryLength;
use serde_json::{json, Value};

/// The text a tool works on: a file (`path`/`paths`) or an earlier step's
/// result (`from_step`).
fn input(args: &Value, cx: &Context) -> Result<String> {
    if let Some(n) = arg_u64(args, "from_step") {
        return Ok(cx.step_text(n)?.to_string());
    }
    if let Some(paths) = args.get("paths").and_then(Value::as_array) {
        let mut parts = Vec::new();
        let mut seen: Vec<&str> = Vec::new();
        for p in paths.iter().filter_map(Value::as_str) {
            // A small model may name a file twice.
            if !seen.contains(&p) {
                seen.push(p);
                parts.push(read_text(cx, p)?);
            }
        }
        if parts.is_empty() {
            return Err(Error::InvalidInput(
                "paths is empty: name at least one file".into(),
            ));
        }
        return Ok(parts.join("\n\n"));
    }
    read_text(cx, arg_str(args, "path")?)
}

/// Arguments naming one file the run has seen, or an earlier step.
fn file_or_step(known: &Known, extra: Value) -> Option<Value> {
    let mut properties = if !known.files.is_empty() {
        json!({"path": one_of(&known.files)})
    } else if !known.text_steps.is_empty() {
        json!({"from_step": {"type": "integer", "enum": known.text_steps}})
    } else {
        return None;
    };
    if let (Some(p), Some(e)) = (properties.as_object_mut(), extra.as_object()) {
        p.extend(e.clone());
    }
    let required: Vec<String> = properties
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    Some(
        json!({"type": "object", "properties": properties, "required": required, "additionalProperties": false}),
    )
}

fn no_pieces() -> impl FnMut(usize, &str) {
    |_, _| {}
}

pub struct SearchHistory;

impl Tool for SearchHistory {
    fn keywords(&self) -> &'static [&'static str] {
        &[
            "conversation",
            "said",
            "history",
            "talked",
            "discuss",
            "chat",
        ]
    }
    fn name(&self) -> &'static str {
        "search_history"
    }
    fn description(&self) -> &'static str {
        "what was said in past conversations about a few words"
    }
    fn effect(&self) -> Effect {
        Effect::Read
    }
    fn parameters(&self, known: &Known) -> Option<Value> {
        let query = if known.topics.is_empty() {
            json!({"type": "string", "minLength": 2, "maxLength": 60})
        } else {
            one_of(&known.topics)
        };
        Some(
            json!({"type": "object", "properties": {"query": query}, "required": ["query"], "additionalProperties": false}),
        )
    }
    fn run(&self, args: &Value, cx: &mut Context) -> Result<Outcome> {
        let history = cx
            .history
            .ok_or_else(|| Error::InvalidInput("there is no history to search".into()))?;
        let query = arg_str(args, "query")?;
        let hits = history.search(query, 5)?;
        if hits.is_empty() {
            return Ok(Outcome::text(format!("nothing was said about \"{query}\"")));
        }
        let mut out = Vec::new();
        let mut seen = Vec::new();
        for hit in hits {
            if seen.contains(&hit.message_id) {
                continue;
            }
            seen.push(hit.message_id);
            let text = history.message_text(hit.message_id)?;
            out.push(format!(
                "In \"{}\": {}",
                hit.conversation_title,
                bounded(&text, 500)
            ));
        }
        Ok(Outcome::text(out.join("\n\n")))
    }
}

pub struct Summarize;

impl Tool for Summarize {
    fn keywords(&self) -> &'static [&'static str] {
        &["summar", "gist", "overview"]
    }
    fn uses_model(&self) -> bool {
        true
    }
    fn name(&self) -> &'static str {
        "summarize"
    }
    fn description(&self) -> &'static str {
        "a short summary of a file or of an earlier step's result"
    }
    fn effect(&self) -> Effect {
        Effect::Read
    }
    fn parameters(&self, known: &Known) -> Option<Value> {
        file_or_step(known, json!({}))
    }
    fn run(&self, args: &Value, cx: &mut Context) -> Result<Outcome> {
        let text = input(args, cx)?;
        let s = crate::tasks::summarize::summarize(
            cx.engine,
            &text,
            SummaryLength::Short,
            cx.cancel,
            &mut no_pieces(),
        )?;
        Ok(Outcome::text(s.text))
    }
}

pub struct Rephrase;

impl Tool for Rephrase {
    fn keywords(&self) -> &'static [&'static str] {
        &[
            "rephras",
            "rewrit",
            "proofread",
            "friendl",
            "professional",
            "concise",
            "bullet",
        ]
    }
    fn uses_model(&self) -> bool {
        true
    }
    fn name(&self) -> &'static str {
        "rephrase"
    }
    fn description(&self) -> &'static str {
        "an earlier step's text rewritten in a mode (proofread, rewrite, friendly, professional, concise, bullets)"
    }
    fn effect(&self) -> Effect {
        Effect::Read
    }
    fn parameters(&self, known: &Known) -> Option<Value> {
        let modes: Vec<String> = RephraseMode::ALL
            .iter()
            .map(|m| m.name().to_string())
            .collect();
        (!known.text_steps.is_empty()).then(|| {
            json!({"type": "object", "properties": {
                "from_step": {"type": "integer", "enum": known.text_steps},
                "mode": one_of(&modes)
            }, "required": ["from_step", "mode"], "additionalProperties": false})
        })
    }
    fn run(&self, args: &Value, cx: &mut Context) -> Result<Outcome> {
        let text = input(args, cx)?;
        let mode: RephraseMode = arg_str(args, "mode")?.parse()?;
        let r =
            crate::tasks::rephrase::rephrase(cx.engine, &text, mode, cx.cancel, &mut no_pieces())?;
        Ok(Outcome::text(r.text))
    }
}

pub struct MakeTodo;

impl Tool for MakeTodo {
    fn keywords(&self) -> &'static [&'static str] {
        &["todo", "task", "action"]
    }
    fn uses_model(&self) -> bool {
        true
    }
    fn name(&self) -> &'static str {
        "make_todo"
    }
    fn description(&self) -> &'static str {
        "a to-do list (Markdown checklist) of the tasks in some files or an earlier step's text"
    }
    fn effect(&self) -> Effect {
        Effect::Read
    }
    fn parameters(&self, known: &Known) -> Option<Value> {
        if known.files.is_empty() {
            return file_or_step(known, json!({}));
        }
        Some(json!({"type": "object", "properties": {
            "paths": {"type": "array", "items": one_of(&known.files), "minItems": 1, "maxItems": 10}
        }, "required": ["paths"], "additionalProperties": false}))
    }
    fn run(&self, args: &Value, cx: &mut Context) -> Result<Outcome> {
        let text = input(args, cx)?;
        let r = run_on(
            cx.engine,
            &Target::Workflow(Workflow::ActionItems),
            &text,
            &cx.options,
            cx.cancel,
            &mut no_pieces(),
        )?;
        if !r.ok() {
            return Err(Error::InvalidInput(format!(
                "the to-do list failed Pith's checks: {}",
                r.problems.join("; ")
            )));
        }
        Ok(Outcome::text(r.text))
    }
}

pub struct MakeEvent;

impl Tool for MakeEvent {
    fn keywords(&self) -> &'static [&'static str] {
        &["event", "calendar", "meeting", "invite", "ics"]
    }
    fn uses_model(&self) -> bool {
        true
    }
    fn name(&self) -> &'static str {
        "make_event"
    }
    fn description(&self) -> &'static str {
        "a calendar event (.ics text) from the date, time and place in a file or an earlier step's text"
    }
    fn effect(&self) -> Effect {
        Effect::Read
    }
    fn parameters(&self, known: &Known) -> Option<Value> {
        file_or_step(known, json!({}))
    }
    fn run(&self, args: &Value, cx: &mut Context) -> Result<Outcome> {
        let text = input(args, cx)?;
        let r = run_on(
            cx.engine,
            &Target::Workflow(Workflow::Event),
            &text,
            &cx.options,
            cx.cancel,
            &mut no_pieces(),
        )?;
        if let Some(missing) = r
            .event
            .as_ref()
            .map(|e| e.missing())
            .filter(|m| !m.is_empty())
        {
            return Err(Error::InvalidInput(format!(
                "no event can be written: {}",
                missing.join("; ")
            )));
        }
        if !r.ok() {
            return Err(Error::InvalidInput(format!(
                "the event failed Pith's checks: {}",
                r.problems.join("; ")
            )));
        }
        Ok(Outcome::text(r.text))
    }
}

pub struct DraftEmail;

impl DraftEmail {
    pub fn request(notes: &str, about: &str, attempt: usize) -> GenerateRequest {
        let prompt = format!(
            "Notes:\nThe new printer arrives in Room 4 on May 3. Toner is in the cupboard.\n\n\
             A short email about the printer that passes every detail of the notes on:\n\
             Hi,\n\nthe new printer arrives in Room 4 on May 3, and the toner is in the cupboard.\n\nBest regards\n\n\
             Notes:\n{}\n\nA short email about {} that passes every detail of the notes on:\nHi,\n\n",
            notes.trim(),
            about.trim()
        );
        GenerateRequest::new(Prompt::Raw(prompt), 160)
            .with_sampling(Sampling::attempt(attempt, 0.7, 7))
            .with_stop(["\n\nNotes:", "Best regards", "\nA short email", "\nHi,"])
    }
}

impl Tool for DraftEmail {
    fn keywords(&self) -> &'static [&'static str] {
        &["email", "mail", "draft", "letter"]
    }
    fn uses_model(&self) -> bool {
        true
    }
    fn name(&self) -> &'static str {
        "draft_email"
    }
    fn description(&self) -> &'static str {
        "a short email about a subject that passes on an earlier step's text"
    }
    fn effect(&self) -> Effect {
        Effect::Read
    }
    fn parameters(&self, known: &Known) -> Option<Value> {
        let about = if known.topics.is_empty() {
            json!({"type": "string", "minLength": 2, "maxLength": 60})
        } else {
            one_of(&known.topics)
        };
        (!known.text_steps.is_empty()).then(|| {
            json!({"type": "object", "properties": {
                "about": about,
                "from_step": {"type": "integer", "enum": known.text_steps}
            }, "required": ["about", "from_step"], "additionalProperties": false})
        })
    }
    fn run(&self, args: &Value, cx: &mut Context) -> Result<Outcome> {
        let notes = input(args, cx)?;
        let about = arg_str(args, "about")?;
        let source = Source::new(&notes);
        let request = Self::request(&notes, about, 0);
        crate::tasks::budget_for(cx.engine, &request)?;
        let g = cx.engine.generate(&request, cx.cancel, &mut |_| {})?;
        // Only what the notes say: a sentence with a detail they do not
        // hold is dropped.
        let (kept, removed) = remove_unsupported(&source, g.text.trim());
        let complete = kept.split_whitespace().count() >= 6 && removed.is_empty();
        if complete {
            return Ok(Outcome::text(format!(
                "Hi,\n\n{}\n\nBest regards",
                kept.trim()
            )));
        }
        // The model's draft did not hold to the notes: the notes' own
        // statements are passed on, quoted.
        let said = statements(&notes);
        if said.is_empty() {
            return Err(Error::InvalidInput(
                "the notes hold nothing to pass on in an email".into(),
            ));
        }
        Ok(Outcome::text(format!(
            "Hi,\n\nhere is what was said about {about}:\n\n{}\n\nBest regards",
            said.iter()
                .map(|s| format!("- {s}"))
                .collect::<Vec<_>>()
                .join("\n")
        )))
    }
}

/// The statements of `notes` (not its questions), once each, without the
/// search's "In \"title\":" labels; at most eight.
pub fn statements(notes: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in notes.lines() {
        let line = match line.strip_prefix("In \"") {
            Some(rest) => rest.split_once("\": ").map_or(rest, |(_, t)| t),
            None => line,
        };
        for (start, end, _) in crate::tasks::chunk::sentences(line) {
            let s = line[start..end].trim().trim_end_matches('…').trim();
            if s.split_whitespace().count() >= 3 && !s.ends_with('?') && !out.iter().any(|o| o == s)
            {
                out.push(s.to_string());
            }
        }
    }
    out.truncate(8);
    out
}

pub struct ReadClipboard;

impl Tool for ReadClipboard {
    fn keywords(&self) -> &'static [&'static str] {
        &["clipboard", "copied", "pasted"]
    }
    fn name(&self) -> &'static str {
        "read_clipboard"
    }
    fn description(&self) -> &'static str {
        "the text on the clipboard"
    }
    fn effect(&self) -> Effect {
        Effect::Read
    }
    fn parameters(&self, _known: &Known) -> Option<Value> {
        Some(json!({"type": "object", "properties": {}, "additionalProperties": false}))
    }
    fn run(&self, _args: &Value, cx: &mut Context) -> Result<Outcome> {
        let text = cx.clipboard.read()?;
        if text.trim().is_empty() {
            return Err(Error::InvalidInput("the clipboard holds no text".into()));
        }
        Ok(Outcome::text(bounded(&text, 2000)))
    }
}

pub struct WriteClipboard;

impl Tool for WriteClipboard {
    fn keywords(&self) -> &'static [&'static str] {
        &["clipboard", "copy"]
    }
    fn name(&self) -> &'static str {
        "write_clipboard"
    }
    fn description(&self) -> &'static str {
        "put an earlier step's result on the clipboard"
    }
    fn effect(&self) -> Effect {
        Effect::Change
    }
    fn parameters(&self, known: &Known) -> Option<Value> {
        let unwritten = known.unwritten();
        (!unwritten.is_empty()).then(|| {
            json!({"type": "object", "properties": {
                "from_step": {"type": "integer", "enum": unwritten}
            }, "required": ["from_step"], "additionalProperties": false})
        })
    }
    fn preview(&self, args: &Value, cx: &Context) -> Result<Preview> {
        let text = input(args, cx)?;
        Ok(Preview {
            summary: "Put this text on the clipboard".into(),
            before: None,
            after: None,
            content: Some(text),
        })
    }
    fn run(&self, args: &Value, cx: &mut Context) -> Result<Outcome> {
        let text = input(args, cx)?;
        cx.clipboard.write(&text)?;
        Ok(Outcome::text("the text is on the clipboard"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_statements_of_search_results_are_their_sentences_without_labels_or_questions() {
        let notes = "In \"Planning\": Where is the offsite?\n\nIn \"Planning\": The offsite is in Porto on March 12. The bus leaves at 8:00.";
        assert_eq!(
            statements(notes),
            [
                "The offsite is in Porto on March 12.",
                "The bus leaves at 8:00."
            ]
        );
    }
}
