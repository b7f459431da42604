//! The agent: a task done in steps with tools, every change shown first,
//! run only when approved, and undoable — the same from the window and
//! `pith agent` (the API never runs tools).
//!
//! Each step, the planner model (the larger installed one, through the
//! router) proposes one tool call under a grammar built from the tools'
//! schemas and what the run has seen: the tools that have something to
//! work on, the files it listed as an `enum`, the earlier steps' results by
//! number. A proposal that still fails — the schema, a call already made,
//! a check the tool's preview makes (a new name with words the file does
//! not hold) — is asked again (sampled), and after three the run ends. A
//! read-only tool runs at once; a changing one goes to the [`Supervisor`]
//! with its [`Preview`]. The tools' own model work (summaries, to-do
//! lists) runs on the step model, the small one.
//!
//! A run ends at the model's answer (`finish`), the step limit, the token
//! budget, a cancel, or when no valid step comes. A run that ends without
//! its answer puts its own changes back (the journal, as undo does), so a
//! task the model cannot do leaves the folder as it was. Every run, step
//! and change is in SQLite ([`History::agent_run`]); [`undo_last`] and
//! [`undo_run`] reverse a finished run exactly, or refuse, saying why.

pub mod fixture;
mod prompt;

use crate::engine::{Backend, CancelToken, Constraint, GenerateRequest, Sampling};
use crate::error::{Error, ErrorCode, Result};
use crate::flows::commands::RunOptions;
use crate::history::{AgentRun, AgentStep, History, RunStatus, StepStatus};
use crate::structured::schema;
use crate::tasks::facts::{remove_unsupported, Source};
use crate::tools::paths::Grants;
use crate::tools::{self, journal, Clipboard, Context, Effect, Known, Preview, Tool};
use serde::Serialize;
use serde_json::{json, Value};
use std::path::PathBuf;

pub use prompt::{FINISH, SKIP};

/// Tools that change one file: a task calling for one is done a file at a
/// time.
const PER_FILE: &[&str] = &["rename_file", "trash_file"];

/// Proposals asked for one step before the run ends.
pub const PROPOSALS: usize = 3;

/// What a run is given.
#[derive(Debug, Clone)]
pub struct AgentConfig {
    pub task: String,
    /// The run's folder: relative paths start here.
    pub folder: PathBuf,
    /// The folders the person granted; `folder` must be inside one.
    pub granted: Vec<PathBuf>,
    pub max_steps: usize,
    /// Prompt and generated tokens over all proposals.
    pub token_budget: usize,
    pub options: RunOptions,
    /// Where trashed files go.
    pub trash: PathBuf,
}

impl AgentConfig {
    pub fn new(task: &str, folder: PathBuf, granted: Vec<PathBuf>, trash: PathBuf) -> Self {
        Self {
            task: task.trim().to_string(),
            folder,
            granted,
            max_steps: 12,
            token_budget: 40_000,
            options: RunOptions::now(),
            trash,
        }
    }
}

/// A changing step, waiting for the person.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct Proposal {
    #[ts(type = "number")]
    pub run: i64,
    pub n: usize,
    pub tool: String,
    #[ts(type = "unknown")]
    pub arguments: Value,
    pub preview: Preview,
    pub model: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Approve,
    /// This step and every later one in the run.
    ApproveAll,
    Reject,
    /// End the run (its changes are put back).
    Cancel,
}

/// What a run reports as it goes.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AgentEvent {
    Started {
        #[ts(type = "number")]
        run: i64,
    },
    /// The planner is choosing step `n`.
    Thinking { n: usize },
    /// A step ran, was rejected or failed.
    Step { step: AgentStep },
}

/// The person (or `--yes`): decides on each changing step.
pub trait Supervisor {
    fn decide(&mut self, proposal: &Proposal) -> Decision;
    fn event(&mut self, event: &AgentEvent) {
        let _ = event;
    }
}

/// Approves everything (`pith agent --yes`, fixtures).
pub struct ApproveAll;

impl Supervisor for ApproveAll {
    fn decide(&mut self, _proposal: &Proposal) -> Decision {
        Decision::Approve
    }
}

/// One call the model made, and what came of it (for the next prompt).
#[derive(Debug, Clone)]
struct Done {
    call: Value,
    result: String,
    status: StepStatus,
}

/// Runs the task; the returned run is as stored.
#[allow(clippy::too_many_arguments)]
pub fn run(
    models: &mut dyn Backend,
    planner: &str,
    worker: &str,
    history: &mut History,
    clipboard: &mut dyn Clipboard,
    config: &AgentConfig,
    supervisor: &mut dyn Supervisor,
    cancel: &CancelToken,
) -> Result<AgentRun> {
    if config.task.is_empty() {
        return Err(Error::EmptyInput);
    }
    let grants = Grants::new(&config.granted, &config.folder)?;
    let folder = grants.root.display().to_string();
    let id = history.agent_start(&config.task, &folder, planner, worker)?;
    supervisor.event(&AgentEvent::Started { run: id });
    let all = tools::all();
    let relevant = tools::relevant(&all, &config.task);
    let known = Known {
        topics: tools::topics(&all, &config.task),
        ..Known::default()
    };
    let mut state = State {
        id,
        tools: all,
        relevant,
        known,
        results: Vec::new(),
        done: Vec::new(),
        tokens: 0,
        approve_all: false,
        pending: None,
    };
    let end = state.steps(
        models, planner, worker, history, clipboard, config, &grants, supervisor, cancel,
    );
    let (status, answer, mut message) = match end {
        Ok(End::Answer(a)) => (RunStatus::Finished, Some(a), None),
        Ok(End::Failed(why)) => (RunStatus::Failed, None, Some(why)),
        Ok(End::Cancelled) => (RunStatus::Cancelled, None, Some("cancelled".to_string())),
        Err(e) if e.code() == ErrorCode::Cancelled => {
            (RunStatus::Cancelled, None, Some("cancelled".to_string()))
        }
        Err(e) => (RunStatus::Failed, None, Some(e.to_string())),
    };
    if status != RunStatus::Finished {
        // A run that did not finish leaves nothing half done.
        let changes = history.agent_changes(id)?;
        if !changes.is_empty() {
            let note = match journal::undo(&changes) {
                Ok(done) => {
                    history.agent_mark_undone(id, status, "")?;
                    format!("its {} change(s) were put back", done.len())
                }
                Err(e) => format!("its changes could not be put back: {e}"),
            };
            message = Some(format!("{}; {note}", message.unwrap_or_default()));
        }
    }
    history.agent_finish(id, status, answer.as_deref(), message.as_deref())?;
    history.agent_run(id)
}

enum End {
    Answer(String),
    Failed(String),
    Cancelled,
}

struct State {
    id: i64,
    tools: Vec<Box<dyn Tool>>,
    /// The tools the task calls for ([`tools::relevant`]).
    relevant: Vec<&'static str>,
    known: Known,
    results: Vec<String>,
    done: Vec<Done>,
    tokens: usize,
    approve_all: bool,
    /// A file read for a per-file change, not yet changed or skipped.
    pending: Option<String>,
}

impl State {
    fn tool(&self, name: &str) -> Option<&dyn Tool> {
        self.tools.iter().find(|t| t.name() == name).map(|t| &**t)
    }

    /// The tools the task calls for with something to work on, and their
    /// argument schemas. A tool without arguments that already ran is not
    /// offered again (it would say the same). While a file read for a
    /// per-file change is pending, only that change or a skip is offered.
    fn offered(&self) -> Vec<(&'static str, &'static str, Value)> {
        if let Some(file) = &self.pending {
            let known = Known {
                files: vec![file.clone()],
                ..Known::default()
            };
            let mut out: Vec<(&'static str, &'static str, Value)> = self
                .tools
                .iter()
                .filter(|t| self.relevant.contains(&t.name()) && PER_FILE.contains(&t.name()))
                .filter_map(|t| t.parameters(&known).map(|p| (t.name(), t.description(), p)))
                .collect();
            out.push((
                SKIP,
                "leave the file as it is",
                json!({"type": "object", "properties": {"path": tools::one_of(&known.files)}, "required": ["path"], "additionalProperties": false}),
            ));
            return out;
        }
        let ran = |name: &str| {
            self.done
                .iter()
                .any(|d| d.status == StepStatus::Done && d.call["tool"] == name)
        };
        let mut out: Vec<(&'static str, &'static str, Value)> = self
            .tools
            .iter()
            .filter(|t| self.relevant.contains(&t.name()))
            .filter(|t| !(t.uses_model() && self.known.made_by(t.name())))
            .filter_map(|t| {
                t.parameters(&self.known)
                    .map(|p| (t.name(), t.description(), p))
            })
            .filter(|(name, _, p)| {
                let no_args = p["properties"].as_object().is_none_or(|o| o.is_empty());
                !(no_args && ran(name))
            })
            .collect();
        out.push((
            FINISH,
            "end the run with a one-sentence answer for the person",
            json!({"type": "object", "properties": {"answer": {"type": "string", "minLength": 1, "maxLength": 600}}, "required": ["answer"], "additionalProperties": false}),
        ));
        out
    }

    /// The run's answer. A run that changed files answers with Pith's own
    /// account of the changes (a small model's closing line about them is
    /// unreliable, and the changes are what the person must know); one
    /// that wrote a text for the person (a draft, a summary) with the last
    /// of those; otherwise with the model's answer, without the sentences
    /// holding details the run did not see.
    fn answer(&self, answer: &str, task: &str, history: &History) -> Result<String> {
        let changes: Vec<String> = history
            .agent_changes(self.id)?
            .iter()
            .map(journal::Change::describe)
            .collect();
        if !changes.is_empty() {
            return Ok(format!("Done: {}.", changes.join("; ")));
        }
        let written = self.done.iter().rev().find(|d| {
            d.status == StepStatus::Done
                && d.call["tool"]
                    .as_str()
                    .and_then(|t| self.tool(t))
                    .is_some_and(|t| t.uses_model())
        });
        if let Some(d) = written {
            return Ok(d.result.clone());
        }
        let results: Vec<&str> = self.done.iter().map(|d| d.result.as_str()).collect();
        let seen = format!("{task}\n{}", results.join("\n"));
        let (kept, _) = remove_unsupported(&Source::new(&seen), answer.trim());
        Ok(if kept.trim().is_empty() {
            "Done; nothing was changed.".to_string()
        } else {
            kept.trim().to_string()
        })
    }

    /// Whether the task is a change to each of some files (rename, trash):
    /// then the run takes them one at a time, read and then changed or
    /// skipped, rather than reading them all and losing track.
    fn per_file(&self) -> bool {
        self.relevant.iter().any(|t| PER_FILE.contains(t))
    }

    #[allow(clippy::too_many_arguments)]
    fn steps(
        &mut self,
        models: &mut dyn Backend,
        planner: &str,
        worker: &str,
        history: &mut History,
        clipboard: &mut dyn Clipboard,
        config: &AgentConfig,
        grants: &Grants,
        supervisor: &mut dyn Supervisor,
        cancel: &CancelToken,
    ) -> Result<End> {
        for n in 1..=config.max_steps {
            if cancel.is_cancelled() {
                return Ok(End::Cancelled);
            }
            supervisor.event(&AgentEvent::Thinking { n });
            let mut problems: Vec<String> = Vec::new();
            let mut chosen: Option<(String, Value, Option<Preview>)> = None;
            // A tool whose proposal was refused is not offered again for
            // this step: a small model asked again tends to say the same.
            let mut banned: Vec<String> = Vec::new();
            for attempt in 0..PROPOSALS {
                let offered: Vec<_> = self
                    .offered()
                    .into_iter()
                    .filter(|(name, _, _)| !banned.iter().any(|b| b == name))
                    .collect();
                let schema = json!({"anyOf": offered.iter().map(|(name, _, params)| json!({
                    "type": "object",
                    "properties": {"tool": {"const": name}, "arguments": params},
                    "required": ["tool", "arguments"],
                    "additionalProperties": false
                })).collect::<Vec<_>>()});
                let prompt = prompt::build(&config.task, &grants.root, &offered, &self.calls(), n);
                let request = GenerateRequest::new(prompt, 400)
                    .with_sampling(Sampling::attempt(attempt, 0.8, 11))
                    .with_constraint(Constraint::json(schema.clone()));
                let text = {
                    let (engine, _) = models.engine(planner)?;
                    let prompt_tokens = engine.prompt_tokens(&request.prompt)?;
                    if self.tokens + prompt_tokens > config.token_budget {
                        return Ok(End::Failed(format!(
                            "the token budget of {} was reached at step {n}",
                            config.token_budget
                        )));
                    }
                    crate::tasks::budget_for(engine, &request)?;
                    let g = engine.generate(&request, cancel, &mut |_| {})?;
                    self.tokens += prompt_tokens + g.generated_tokens;
                    g.text
                };
                let (tool, args) = match self.parse(&text, &schema) {
                    Ok(call) => call,
                    Err((tool, why)) => {
                        problems.push(why);
                        banned.extend(tool);
                        continue;
                    }
                };
                let changes = self
                    .tool(&tool)
                    .is_some_and(|t| t.effect() == Effect::Change);
                if !changes {
                    chosen = Some((tool, args, None));
                    break;
                }
                // A changing step is checked as it would run, and shown.
                let (engine, _) = models.engine(worker)?;
                let cx = Context {
                    grants,
                    engine,
                    history: Some(&*history),
                    clipboard: &mut *clipboard,
                    trash: &config.trash,
                    options: config.options,
                    cancel,
                    results: &self.results,
                };
                match self.tool(&tool).map(|t| t.preview(&args, &cx)) {
                    Some(Ok(p)) => {
                        chosen = Some((tool, args, Some(p)));
                        break;
                    }
                    // Asked again, sampled: the tool stays on offer.
                    Some(Err(e)) => {
                        let why = e.to_string();
                        let why = why.strip_prefix("invalid input: ").unwrap_or(&why);
                        problems.push(format!("{tool}: {why}"));
                    }
                    None => problems.push(format!("there is no tool {tool}")),
                }
            }
            let Some((tool, args, preview)) = chosen else {
                problems.dedup();
                return Ok(End::Failed(format!(
                    "the model could not propose a valid step {n}: {}",
                    problems.join("; ")
                )));
            };
            if tool == FINISH {
                let answer = tools::arg_str(&args, "answer")?;
                return Ok(End::Answer(self.answer(answer, &config.task, history)?));
            }
            if tool == SKIP {
                let path = tools::arg_str(&args, "path")?.to_string();
                self.pending = None;
                let step = AgentStep {
                    n,
                    tool: SKIP.into(),
                    arguments: args.clone(),
                    effect: Effect::Read,
                    status: StepStatus::Done,
                    summary: format!("Leave {path} as it is"),
                    output: format!("{path} is left as it is"),
                    model: planner.to_string(),
                    refused: problems.clone(),
                };
                self.finish_step(history, supervisor, step, &args)?;
                continue;
            }
            let Some(ti) = self.tools.iter().position(|t| t.name() == tool) else {
                return Ok(End::Failed(format!("there is no tool {tool}")));
            };
            let (effect, uses_model) = (self.tools[ti].effect(), self.tools[ti].uses_model());
            let mut step = AgentStep {
                n,
                tool: tool.clone(),
                arguments: args.clone(),
                effect,
                status: StepStatus::Done,
                summary: preview
                    .as_ref()
                    .map_or_else(|| describe(&tool, &args), |p| p.summary.clone()),
                output: String::new(),
                model: if uses_model {
                    format!("{planner} → {worker}")
                } else {
                    planner.to_string()
                },
                refused: problems.clone(),
            };
            if let Some(preview) = preview {
                let decision = if self.approve_all {
                    Decision::Approve
                } else {
                    supervisor.decide(&Proposal {
                        run: self.id,
                        n,
                        tool: tool.clone(),
                        arguments: args.clone(),
                        preview,
                        model: planner.to_string(),
                    })
                };
                match decision {
                    Decision::Cancel => return Ok(End::Cancelled),
                    Decision::Reject => {
                        step.status = StepStatus::Rejected;
                        step.output = "the person rejected this step; it did not run".into();
                        self.finish_step(history, supervisor, step, &args)?;
                        continue;
                    }
                    Decision::ApproveAll => self.approve_all = true,
                    Decision::Approve => {}
                }
            }
            if cancel.is_cancelled() {
                return Ok(End::Cancelled);
            }
            let (engine, _) = models.engine(worker)?;
            let mut cx = Context {
                grants,
                engine,
                history: Some(&*history),
                clipboard: &mut *clipboard,
                trash: &config.trash,
                options: config.options,
                cancel,
                results: &self.results,
            };
            match self.tools[ti].run(&args, &mut cx) {
                Ok(outcome) => {
                    for change in &outcome.changes {
                        history.agent_change(self.id, n, change)?;
                    }
                    for f in outcome.files {
                        if !self.known.files.contains(&f) && !self.known.gone.contains(&f) {
                            self.known.files.push(f);
                        }
                    }
                    self.known.files.retain(|f| !outcome.gone.contains(f));
                    self.known.gone.extend(outcome.gone);
                    step.output = outcome.text;
                }
                Err(e) if e.code() == ErrorCode::Cancelled => return Err(e),
                Err(e) => {
                    step.status = StepStatus::Failed;
                    step.output = format!("error: {e}");
                }
            }
            self.finish_step(history, supervisor, step, &args)?;
        }
        Ok(End::Failed(format!(
            "the step limit of {} was reached before the task was done",
            config.max_steps
        )))
    }

    fn finish_step(
        &mut self,
        history: &mut History,
        supervisor: &mut dyn Supervisor,
        step: AgentStep,
        args: &Value,
    ) -> Result<()> {
        history.agent_step(self.id, &step)?;
        let has_text = step.status == StepStatus::Done
            && step.effect == Effect::Read
            && !step.output.trim().is_empty();
        let path = args.get("path").and_then(Value::as_str).map(str::to_string);
        if step.status == StepStatus::Done && step.tool == "read_document" {
            if let Some(p) = &path {
                self.known.read.push(p.clone());
                if self.per_file() {
                    self.pending = Some(p.clone());
                }
            }
        }
        if step.status == StepStatus::Done && step.effect == Effect::Change {
            if let Some(n) = args.get("from_step").and_then(Value::as_u64) {
                self.known.written.push(n as usize);
                let maker = self.done.get((n as usize).wrapping_sub(1));
                if let Some(tool) = maker.and_then(|d| d.call["tool"].as_str()) {
                    self.known.finished_tools.push(tool.to_string());
                }
            }
        }
        let product = self.tool(&step.tool).is_some_and(|t| t.uses_model());
        if step.status == StepStatus::Done && product && !step.output.trim().is_empty() {
            self.known.products = vec![step.n];
        }
        if step.status != StepStatus::Failed && PER_FILE.contains(&step.tool.as_str()) {
            self.pending = None;
        }
        self.results.push(if has_text {
            step.output.clone()
        } else {
            String::new()
        });
        if has_text && step.tool != "list_folder" {
            self.known.text_steps = vec![step.n];
            self.known.latest_tool = step.tool.clone();
        }
        self.done.push(Done {
            call: json!({"tool": step.tool, "arguments": step.arguments}),
            result: step.output.clone(),
            status: step.status,
        });
        supervisor.event(&AgentEvent::Step { step });
        Ok(())
    }

    /// The model's answer as a call: it parses, the schema holds, and it
    /// is not a call already made.
    fn parse(
        &self,
        text: &str,
        schema: &Value,
    ) -> std::result::Result<(String, Value), (Option<String>, String)> {
        let value: Value = serde_json::from_str(text.trim())
            .map_err(|e| (None, format!("the answer is not one JSON call ({e})")))?;
        let invalid = schema::validate(schema, &value).map_err(|e| (None, e.to_string()))?;
        if !invalid.is_empty() {
            return Err((
                None,
                format!("the call does not fit the tools: {}", invalid.join("; ")),
            ));
        }
        let tool = value["tool"].as_str().unwrap_or_default().to_string();
        let args = value["arguments"].clone();
        if let Some(i) = self.done.iter().position(|d| d.call == value) {
            let why = match self.done[i].status {
                StepStatus::Rejected => format!("the person rejected step {} ({tool})", i + 1),
                _ => format!("step {} already called {tool} with these arguments", i + 1),
            };
            return Err((Some(tool), why));
        }
        Ok((tool, args))
    }

    /// The calls so far for the prompt: a change that ran reads "done"
    /// (its names are the model's own; shown again, they are copied into
    /// the next call).
    fn calls(&self) -> Vec<(Value, String)> {
        self.done
            .iter()
            .map(|d| {
                let changed = d.status == StepStatus::Done
                    && self
                        .tool(d.call["tool"].as_str().unwrap_or_default())
                        .is_some_and(|t| t.effect() == Effect::Change);
                let result = if changed {
                    "done".to_string()
                } else {
                    d.result.clone()
                };
                (d.call.clone(), result)
            })
            .collect()
    }
}

/// A read-only step in words: "Read notes.txt".
fn describe(tool: &str, args: &Value) -> String {
    let arg = |k: &str| match &args[k] {
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(", "),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    let source = || match arg("from_step") {
        n if n.is_empty() => [arg("path"), arg("paths")].concat(),
        n => format!("the result of step {n}"),
    };
    match tool {
        "list_folder" => "List the folder".into(),
        "read_document" => format!("Read {}", arg("path")),
        "search_history" => format!(
            "Search past conversations for \u{201c}{}\u{201d}",
            arg("query")
        ),
        "summarize" => format!("Summarize {}", source()),
        "rephrase" => format!("Rephrase {} ({})", source(), arg("mode")),
        "make_todo" => format!("Make a to-do list from {}", source()),
        "make_event" => format!("Make a calendar event from {}", source()),
        "draft_email" => format!("Draft an email about {} from {}", arg("about"), source()),
        "read_clipboard" => "Read the clipboard".into(),
        other => {
            let values: Vec<String> = args
                .as_object()
                .map(|o| o.keys().map(|k| arg(k)).collect())
                .unwrap_or_default();
            format!("{other} {}", values.join(", ")).trim().to_string()
        }
    }
}

/// Who plans and who does the steps' work: the steps' writing goes to
/// the smallest model that fits (`order`'s first); the planning to the
/// largest in `order` that is instruction-tuned (`instruct`: it has a chat
/// template — a base model continues text, it does not follow a list of
/// tools), else to the small one too.
pub fn roles(order: &[String], instruct: &[String]) -> Option<(String, String)> {
    let worker = order.first()?.clone();
    let planner = order
        .iter()
        .rev()
        .find(|id| instruct.contains(id))
        .unwrap_or(&worker)
        .clone();
    Some((planner, worker))
}

/// Undoes run `id` exactly, or refuses, saying why (nothing is changed
/// then). Returns the run as stored afterwards.
pub fn undo_run(history: &mut History, id: i64) -> Result<AgentRun> {
    let changes = history.agent_changes(id)?;
    if changes.is_empty() {
        let run = history.agent_run(id)?;
        return Err(Error::InvalidInput(format!(
            "agent run {id} has no changes to undo ({})",
            run.status.as_str()
        )));
    }
    let done = journal::undo(&changes)?;
    history.agent_mark_undone(id, RunStatus::Undone, &done.join("; "))?;
    history.agent_run(id)
}

/// Undoes the newest run with changes still in place.
pub fn undo_last(history: &mut History) -> Result<AgentRun> {
    let id = history
        .agent_last_undoable()?
        .ok_or_else(|| Error::InvalidInput("no agent run has changes to undo".into()))?;
    undo_run(history, id)
}

#[cfg(test)]
mod tests;
