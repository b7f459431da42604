//! `pith run NAME [FILE|-]` and `pith commands`: the built-in workflows
//! (action-items, event, reply) and the user's commands from Settings.
//!
//! The result goes to standard output (an event's `.ics`, or `--out
//! FILE`); what the checks removed goes to standard error as notes. A
//! result that fails the checks is not printed as one: its problems go to
//! standard error and the exit status is 3. A command whose output is a
//! folder or a conversation also goes there, as in the app.

use crate::jobs::{cancel_on_ctrl_c, document_source, AttemptLog};
use crate::{Failure, ModelArgs, OrFail};
use chrono::NaiveDate;
use pith_core::commands::dates::{resolve_date, resolve_time};
use pith_core::commands::{self, Output, Workflow};
use pith_core::documents::Limits;
use pith_core::engine::{Priority, Worker};
use pith_core::flows::commands::{
    conversation_text, event, run_routed, save_conversation, write_to_folder, RunOptions, Target,
    Tone,
};
use pith_core::flows::summary;
use pith_core::history::ConversationId;
use pith_core::settings::{self, UserSettings};
use pith_core::{Error, Result};
use pith_llama::ModelPool;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct RunArgs {
    /// action-items | event | reply | one of your commands (pith commands list)
    pub name: String,
    /// The text: a document (PDF, DOCX, HTML, Markdown, text); `-` or
    /// nothing reads standard input.
    pub file: Option<PathBuf>,
    /// Run on a stored conversation instead (see `pith history list`).
    #[arg(long, value_name = "ID", conflicts_with = "file")]
    pub conversation: Option<i64>,
    /// The day relative dates count from (default: today).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub today: Option<NaiveDate>,
    /// reply: friendly | professional
    #[arg(long, default_value = "friendly")]
    pub tone: Tone,
    /// event: the day, when the text does not say which (YYYY-MM-DD or
    /// words such as "next Tuesday").
    #[arg(long, value_name = "DAY")]
    pub date: Option<String>,
    /// event: the time, when the text does not say it (such as 15:00 or 3pm).
    #[arg(long, value_name = "TIME")]
    pub time: Option<String>,
    /// Write the result to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Print one JSON object: the result, its structured value, problems, notes.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub model: ModelArgs,
}

#[derive(clap::Subcommand)]
pub enum CommandsCommand {
    /// The built-in workflows and your commands, with their shortcuts.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Write your commands as TOML (to standard output, or FILE).
    Export { file: Option<PathBuf> },
    /// Add the commands of a TOML file (same names are replaced). Nothing
    /// changes unless the whole file is valid.
    Import { file: PathBuf },
}

pub fn run(args: &RunArgs, verbose: bool) -> std::result::Result<ExitCode, Failure> {
    let json = args.json;
    let settings = UserSettings::load_default().or_fail(json)?;
    let target = Target::find(&args.name, &settings.commands).or_fail(json)?;
    let text = input(args).or_fail(json)?;
    let pool = crate::serve::pool(&args.model).or_fail(json)?;
    let pinned = match pool.models().first() {
        Some(m) if args.model.model.is_some() => Some(m.id.clone()),
        _ => None,
    };
    let order = target.order(&pool.candidates(), pinned.as_deref());
    let options = RunOptions {
        today: args.today.unwrap_or_else(|| RunOptions::now().today),
        tone: args.tone,
        ..RunOptions::now()
    };
    let worker = Worker::spawn(move || Ok(pool)).or_fail(json)?;
    let (job_target, job_text) = (target.clone(), text.clone());
    let ticket = worker.submit(Priority::Normal, move |pool: &mut ModelPool, cancel| {
        let mut log = AttemptLog::new(verbose);
        let got = run_routed(
            pool,
            &order,
            &job_target,
            &job_text,
            &options,
            cancel,
            &mut |n, piece| log.piece(n, piece),
        );
        log.end();
        got
    });
    cancel_on_ctrl_c(ticket.cancel_token());
    let mut result = ticket.wait().or_fail(json)?.or_fail(json)?;
    if let Some(draft) = result.event.clone() {
        let mut draft = draft;
        if let Some(d) = &args.date {
            let day = resolve_date(d, options.today).ok_or_else(|| {
                Error::InvalidInput(format!("--date \"{d}\" does not name one day"))
            });
            draft.date = Some(day.or_fail(json)?.format("%Y-%m-%d").to_string());
        }
        if let Some(t) = &args.time {
            let at = resolve_time(t)
                .ok_or_else(|| Error::InvalidInput(format!("--time \"{t}\" is not a time")));
            draft.time = Some(at.or_fail(json)?.format("%H:%M").to_string());
        }
        let missing = draft.missing();
        let given = args.date.is_some() || args.time.is_some();
        if !missing.is_empty() && !given {
            return Err(Failure {
                error: Error::InvalidInput(format!(
                    "{}; give it with --date (such as 2026-12-08 or \"next Tuesday\") and --time",
                    missing.join("; ")
                )),
                json,
            });
        }
        if given {
            result.text = event::complete(&draft, options.zone).or_fail(json)?;
            result.notes.retain(|n| !n.contains("does not say which"));
            result.value = serde_json::to_value(&draft).ok();
            result.event = Some(draft);
        }
    }
    if json {
        let mut value = serde_json::to_value(&result).unwrap_or_default();
        value["ok"] = result.ok().into();
        println!("{value}");
    }
    for note in &result.notes {
        eprintln!("pith: note: {note}");
    }
    if result.escalated {
        eprintln!(
            "pith: the smaller model's result failed the checks; {} wrote this one",
            result.model
        );
    }
    if !result.ok() {
        eprintln!(
            "pith: the result of {} failed Pith's check (last by {}), so it is not given as a result:",
            result.command, result.model
        );
        for p in &result.problems {
            eprintln!("  {p}");
        }
        return Ok(ExitCode::from(3));
    }
    if !json {
        match &args.out {
            Some(path) => std::fs::write(path, &result.text)
                .map_err(|e| Error::io(format!("could not write {}", path.display()), e))
                .or_fail(json)?,
            None if result.text.ends_with('\n') => print!("{}", result.text),
            None if !result.text.is_empty() => println!("{}", result.text),
            None => {}
        }
    }
    deliver(&target, &result, &text).or_fail(json)?;
    Ok(ExitCode::SUCCESS)
}

/// A command's folder or conversation output, as in the app; a reply is
/// always kept as a conversation to go on with.
fn deliver(
    target: &Target,
    result: &pith_core::flows::commands::CommandResult,
    text: &str,
) -> Result<()> {
    let output = pith_core::flows::commands::output_of(target);
    match (target, output) {
        (Target::Custom(c), Output::Folder) => {
            let folder = c.folder.as_deref().unwrap_or_default();
            let path = write_to_folder(Path::new(folder), result)?;
            eprintln!("pith: saved to {}", path.display());
        }
        (Target::Workflow(Workflow::Reply), _) | (_, Output::Conversation) => {
            let request = match target {
                Target::Custom(c) => c.render(text),
                Target::Workflow(_) => format!("Draft a reply to this message:\n\n{text}"),
            };
            let mut history = crate::history::open_store()?;
            let id = save_conversation(&mut history, result, &request)?;
            eprintln!(
                "pith: saved as conversation {id} (pith chat --conversation {id} goes on with it)"
            );
        }
        _ => {}
    }
    Ok(())
}

fn input(args: &RunArgs) -> Result<String> {
    if let Some(id) = args.conversation {
        let history = crate::history::open_store()?;
        return conversation_text(&history, ConversationId(id));
    }
    let limits = Limits::default();
    let source = document_source(args.file.as_deref(), &limits)?;
    Ok(summary::read(source, &limits)?.doc.text)
}

pub fn commands(command: CommandsCommand) -> std::result::Result<(), Failure> {
    let path = settings::default_path();
    let load = || UserSettings::load_default();
    match command {
        CommandsCommand::List { json } => {
            let s = load().or_fail(json)?;
            if json {
                let builtins: Vec<_> = Workflow::ALL
                    .iter()
                    .map(|w| serde_json::json!({"name": w.name(), "builtin": true, "description": w.describe()}))
                    .collect();
                let value = serde_json::json!({"builtin": builtins, "commands": s.commands});
                println!("{value}");
                return Ok(());
            }
            for w in Workflow::ALL {
                println!("{:<16} {}", w.name(), w.describe());
            }
            for c in &s.commands {
                let key = c
                    .hotkey
                    .as_deref()
                    .map(|h| format!(" [{h}]"))
                    .unwrap_or_default();
                let first = c.instruction.lines().next().unwrap_or_default();
                println!("{:<16} {first}{key}", c.name);
            }
            Ok(())
        }
        CommandsCommand::Export { file } => {
            let s = load().or_fail(false)?;
            let text = commands::export_toml(&s.commands).or_fail(false)?;
            match file {
                Some(f) => std::fs::write(&f, text)
                    .map_err(|e| Error::io(format!("could not write {}", f.display()), e))
                    .or_fail(false),
                None => {
                    print!("{text}");
                    Ok(())
                }
            }
        }
        CommandsCommand::Import { file } => {
            let mut s = load().or_fail(false)?;
            let text = std::fs::read_to_string(&file)
                .map_err(|e| Error::io(format!("could not read {}", file.display()), e))
                .or_fail(false)?;
            let imported = commands::import_toml(&text, &s.commands, &s.app.hotkey)
                .map_err(|e| {
                    Error::InvalidInput(format!("{}: {e}; nothing was imported", file.display()))
                })
                .or_fail(false)?;
            s.commands = imported.commands;
            let path = path
                .ok_or_else(|| Error::InvalidInput("no data folder; set PITH_DATA_DIR".into()))
                .or_fail(false)?;
            s.save(&path).or_fail(false)?;
            eprintln!(
                "pith: imported {} new and {} replaced command(s)",
                imported.added.len(),
                imported.replaced.len()
            );
            Ok(())
        }
    }
}
