//! The Commands page: the built-in workflows and the user's commands,
//! saved with the settings (`pith-core`'s `commands`), tried on sample
//! text, run on a text or a file, imported and exported as TOML. Running
//! one is the core's `flows::commands` on the app's worker: the model in
//! use first, the next larger installed one when the result fails the
//! checks, or the command's own model.

use crate::engine::{installed, load_for_hotkey, App};
use crate::settings::load;
use crate::state::Reply;
use pith_core::commands::ics::EventDraft;
use pith_core::commands::{self, CustomCommand, Imported, Output, Workflow};
use pith_core::engine::{CancelToken, Priority};
use pith_core::error::ErrorPayload;
use pith_core::flows::commands::{
    event, next_larger, run_routed, save_conversation, write_to_folder, CommandResult, RunOptions,
    Target, Tone, Zone,
};
use pith_core::flows::rephrase::WithOthers;
use pith_core::flows::summary::{self, model_name};
use pith_core::Error;
use pith_llama::LlamaEngine;
use serde::Serialize;
use std::path::Path;
use std::sync::PoisonError;
use tauri::ipc::Channel;
use tauri_plugin_dialog::DialogExt;

/// What the page shows.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct CommandsView {
    pub builtin: Vec<BuiltinCommand>,
    pub commands: Vec<CustomCommand>,
    /// The installed models a command may name.
    pub models: Vec<String>,
    /// The rephrase shortcut, which no command may take.
    pub hotkey: String,
}

#[derive(Debug, Serialize, ts_rs::TS)]
pub struct BuiltinCommand {
    pub name: String,
    pub description: String,
}

/// A run's result and where it went.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct CommandRun {
    pub result: CommandResult,
    /// The conversation it was saved as (a reply; a command whose output
    /// is a conversation).
    pub conversation_id: Option<i64>,
    /// The file it was written to (a command whose output is a folder).
    pub saved_to: Option<String>,
}

/// What re-registers the shortcuts after the commands changed (main.rs
/// wires it to the hotkey): `Err` names a shortcut that could not be
/// registered, and the previous ones are then back in place.
pub struct OnCommandsChange(pub fn(&tauri::AppHandle, &[CustomCommand]) -> Result<(), String>);

#[tauri::command]
pub fn commands_view() -> Reply<CommandsView> {
    let settings = load()?;
    Ok(CommandsView {
        builtin: Workflow::ALL
            .iter()
            .map(|w| BuiltinCommand {
                name: w.name().into(),
                description: w.describe().into(),
            })
            .collect(),
        commands: settings.commands,
        models: pith_core::models::store::list_installed(&pith_core::models::search_dirs())
            .into_iter()
            .filter(|m| m.problem.is_none())
            .map(|m| m.id)
            .collect(),
        hotkey: settings.app.hotkey,
    })
}

/// Saves the whole list: each command checked, output folders tried, and
/// the shortcuts registered before anything is written; on any refusal
/// the saved commands and their shortcuts stay as they were.
#[tauri::command]
pub fn commands_save(
    handle: tauri::AppHandle,
    changed: tauri::State<'_, OnCommandsChange>,
    commands: Vec<CustomCommand>,
) -> Reply<Vec<CustomCommand>> {
    let path = pith_core::settings::default_path()
        .ok_or_else(|| Error::InvalidInput("no data folder; set PITH_DATA_DIR".into()))?;
    let mut settings = load()?;
    let checked = commands::validate(&commands, &settings.app.hotkey)?;
    for c in checked.iter().filter(|c| c.output == Output::Folder) {
        commands::check_folder(Path::new(c.folder.as_deref().unwrap_or_default())).map_err(
            |e| Error::InvalidInput(format!("the output folder of \"{}\": {e}", c.name)),
        )?;
    }
    let before = settings.commands.clone();
    if let Err(why) = (changed.0)(&handle, &checked) {
        let _ = (changed.0)(&handle, &before);
        return Err(Error::InvalidInput(why).into());
    }
    settings.commands = checked;
    if let Err(e) = settings.save(&path) {
        let _ = (changed.0)(&handle, &before);
        return Err(e.into());
    }
    Ok(load()?.commands)
}

/// Runs a command on `text` (or on the chosen file `file`) in the main
/// window: a saved one by `name`, or `command` as the form holds it (Try).
/// With `deliver`, the result goes where the command sends it (a folder,
/// a conversation; a reply is saved as a conversation).
#[tauri::command]
#[allow(clippy::too_many_arguments)]
pub async fn command_run(
    state: tauri::State<'_, App>,
    name: String,
    command: Option<CustomCommand>,
    text: String,
    file: Option<u64>,
    tone: Tone,
    deliver: bool,
    on_piece: Channel<String>,
) -> Reply<CommandRun> {
    let target = match command {
        Some(c) => Target::Custom(commands::normalize(&c)?),
        None => Target::find(&name, &load()?.commands)?,
    };
    let text = match file.map(|t| state.file(t)) {
        Some(Some(source)) => {
            let limits = pith_core::documents::Limits::default();
            summary::read(source, &limits)?.doc.text
        }
        Some(None) => return Err(Error::NotFound("the chosen file".into()).into()),
        None => text,
    };
    let options = RunOptions {
        tone,
        ..RunOptions::now()
    };
    let job_text = text.clone();
    let job_target = target.clone();
    let result = state
        .run(
            Priority::Interactive,
            move |engine: &mut LlamaEngine, cancel| {
                run_job(
                    engine,
                    &job_target,
                    &job_text,
                    &options,
                    cancel,
                    &mut |_, p| {
                        let _ = on_piece.send(p.to_string());
                    },
                )
            },
        )
        .await??;
    let mut run = CommandRun {
        result,
        conversation_id: None,
        saved_to: None,
    };
    if deliver && run.result.ok() {
        deliver_result(&state, &target, &text, &mut run)?;
    }
    Ok(run)
}

/// A command on the engine in use: its own model, or the model in use and
/// then the next larger installed one when the result fails the checks
/// (the installed models are looked at only then).
pub fn run_job(
    engine: &mut LlamaEngine,
    target: &Target,
    text: &str,
    options: &RunOptions,
    cancel: &CancelToken,
    on_piece: &mut dyn FnMut(usize, &str),
) -> pith_core::Result<CommandResult> {
    let current = model_name(engine);
    let found = std::cell::OnceCell::new();
    let list = || found.get_or_init(installed).clone();
    let path_of = |id: &str| {
        list()
            .into_iter()
            .find(|c| c.candidate.id == id)
            .map(|c| c.path)
            .ok_or_else(|| Error::NotFound(format!("the installed model {id:?}")))
    };
    let own = match target {
        Target::Custom(c) => c.model.clone(),
        Target::Workflow(_) => None,
    };
    let first = own.clone().unwrap_or_else(|| current.clone());
    let mut models = WithOthers::new(current, engine, |id: &str| load_for_hotkey(&path_of(id)?));
    let got = run_routed(
        &mut models,
        std::slice::from_ref(&first),
        target,
        text,
        options,
        cancel,
        on_piece,
    )?;
    if got.ok() || own.is_some() {
        return Ok(got);
    }
    let candidates: Vec<_> = list().into_iter().map(|c| c.candidate).collect();
    match next_larger(&first, &candidates) {
        Some(next) => {
            let mut larger = run_routed(
                &mut models,
                &[next],
                target,
                text,
                options,
                cancel,
                on_piece,
            )?;
            larger.escalated = true;
            Ok(if larger.ok() { larger } else { got })
        }
        None => Ok(got),
    }
}

/// Sends a passed result where its command says.
pub fn deliver_result(state: &App, target: &Target, text: &str, run: &mut CommandRun) -> Reply<()> {
    let output = pith_core::flows::commands::output_of(target);
    match (target, output) {
        (Target::Custom(c), Output::Folder) => {
            let folder = c.folder.as_deref().unwrap_or_default();
            let path = write_to_folder(Path::new(folder), &run.result)?;
            run.saved_to = Some(path.display().to_string());
        }
        (Target::Workflow(Workflow::Reply), _) | (Target::Custom(_), Output::Conversation) => {
            let request = match target {
                Target::Custom(c) => c.render(text),
                Target::Workflow(_) => format!(
                    "Draft a {} reply to this message:\n\n{text}",
                    run.result
                        .value
                        .as_ref()
                        .and_then(|v| v["tone"].as_str())
                        .unwrap_or("friendly")
                ),
            };
            let store = state.history()?;
            let mut history = store.lock().unwrap_or_else(PoisonError::into_inner);
            let id = save_conversation(&mut history, &run.result, &request)?;
            run.conversation_id = Some(id.0);
        }
        _ => {}
    }
    Ok(())
}

/// Writes an event the person completed (the day, the hour) as an `.ics`
/// file where they choose; the path, or nothing when they cancelled.
#[tauri::command]
pub async fn event_save(app: tauri::AppHandle, draft: EventDraft) -> Reply<Option<String>> {
    let ics = event::complete(&draft, Zone::Local)?;
    save_as(
        &app,
        "Save the event",
        "event.ics",
        ("Calendar", "ics"),
        ics,
    )
    .await
}

async fn save_as(
    app: &tauri::AppHandle,
    title: &str,
    name: &str,
    filter: (&str, &str),
    text: String,
) -> Reply<Option<String>> {
    let dialog = app
        .dialog()
        .file()
        .set_title(title)
        .set_file_name(name)
        .add_filter(filter.0, &[filter.1]);
    Ok(crate::dialogs::save(dialog, text).await?)
}

/// Exports the saved commands as a TOML file the person chooses.
#[tauri::command]
pub async fn commands_export(app: tauri::AppHandle) -> Reply<Option<String>> {
    let text = commands::export_toml(&load()?.commands)?;
    save_as(
        &app,
        "Export commands",
        "pith-commands.toml",
        ("TOML", "toml"),
        text,
    )
    .await
}

/// Imports commands from a TOML file the person picks: all of it or, with
/// a message saying what to change, nothing.
#[tauri::command]
pub async fn commands_import(
    app: tauri::AppHandle,
    changed: tauri::State<'_, OnCommandsChange>,
) -> Reply<Option<Imported>> {
    let dialog = app
        .dialog()
        .file()
        .set_title("Import commands")
        .add_filter("TOML", &["toml"]);
    let Some(path) = crate::dialogs::pick(dialog).await? else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Error::io(format!("could not read {}", path.display()), e))?;
    let settings = load()?;
    let imported =
        commands::import_toml(&text, &settings.commands, &settings.app.hotkey).map_err(|e| {
            Error::InvalidInput(format!("{}: {e}; nothing was imported", path.display()))
        })?;
    commands_save(app.clone(), changed, imported.commands.clone())?;
    Ok(Some(imported))
}

/// The text a command's shortcut runs on when it is not the clipboard's
/// (`None`): a file picked in the system's dialog, or the conversation
/// last written to. A dialog closed without a file is `Cancelled`.
pub fn shortcut_input(
    app: &tauri::AppHandle,
    target: &Target,
) -> pith_core::Result<Option<String>> {
    let Target::Custom(command) = target else {
        return Ok(None);
    };
    match command.input {
        commands::Input::Clipboard => Ok(None),
        commands::Input::File => {
            let dialog = app
                .dialog()
                .file()
                .set_title(format!("A document for {}", command.name))
                .add_filter("Documents", crate::documents::DOCUMENT_EXTENSIONS)
                .add_filter("All files", &["*"]);
            let path = tauri::async_runtime::block_on(crate::dialogs::pick(dialog))?
                .ok_or(Error::Cancelled)?;
            let limits = pith_core::documents::Limits::default();
            Ok(Some(
                summary::read(summary::Source::File(path), &limits)?
                    .doc
                    .text,
            ))
        }
        commands::Input::Conversation => {
            let state = tauri::Manager::state::<App>(app);
            let store = state.history().map_err(|e| Error::History(e.message))?;
            let history = store.lock().unwrap_or_else(PoisonError::into_inner);
            let latest = history
                .conversations()?
                .into_iter()
                .max_by_key(|c| c.updated_at)
                .ok_or_else(|| Error::NotFound("a conversation to run the command on".into()))?;
            Ok(Some(pith_core::flows::commands::conversation_text(
                &history, latest.id,
            )?))
        }
    }
}

/// A flagged result as the error the popup shows.
pub fn flagged(result: &CommandResult) -> ErrorPayload {
    Error::ResultRejected {
        reason: format!(
            "the result of {} failed Pith's check: {}",
            result.command,
            result.problems.join("; ")
        ),
        suggestion: "Try again, or give the command a larger model on the Commands page.".into(),
    }
    .to_payload()
}
