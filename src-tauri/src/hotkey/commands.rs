//! What the popup and the main window call about the hotkey. Each takes
//! state, makes one call (the session, the rewrite, the clipboard) and
//! maps the error.

use super::rewrite::{self, Escalation, RephraseDone, RephraseEvent};
use super::shortcut::{self, HotkeyStatus};
use super::{paste, popup, Hotkey};
use crate::documents::{ChosenFile, DropEvent, DROP_EVENT};
use crate::engine::{self, App};
use crate::state::{lock, Reply};
use crate::window::{show_main, MAIN};
use crate::workflows::CommandRun;
use pith_core::commands::Workflow;
use pith_core::flows::commands::{RunOptions, Target, Tone};
use pith_core::flows::session::Finished;
use pith_core::flows::session::{Pending, Record};
use pith_core::flows::summary::Source;
use pith_core::history::Rewrite;
use pith_core::tasks::rephrase::RephraseMode;
use pith_core::Error;
use pith_llama::LlamaEngine;
use serde::Serialize;
use std::sync::PoisonError;
use tauri::ipc::Channel;
use tauri::{AppHandle, Emitter, Manager, State};
use tauri_plugin_dialog::DialogExt;

/// The text the popup is to rewrite, if any.
#[tauri::command]
pub fn rephrase_pending(hotkey: State<'_, Hotkey>) -> Option<Pending> {
    lock(&hotkey.session).pending().cloned()
}

/// Rewrites the pending text in `mode`, streaming through `on_event`;
/// `again` asks for a different version (Retry). It goes ahead of queued
/// chat and document work, and escalates as the settings say.
#[tauri::command]
pub async fn rephrase_run(
    state: State<'_, App>,
    hotkey: State<'_, Hotkey>,
    mode: RephraseMode,
    again: bool,
    on_event: Channel<RephraseEvent>,
) -> Reply<RephraseDone> {
    let settings = crate::settings::load()?;
    let escalation = Escalation {
        settings: settings.routing(),
        installed: engine::installed,
        load: engine::load_for_hotkey,
        learn: settings.app.learn_from_accepted,
    };
    rewrite::run(&state, &hotkey, mode, again, escalation, move |e| {
        let _ = on_event.send(e);
    })
    .await
}

pub fn record(app: &AppHandle, record: &Record) {
    let Ok(store) = app.state::<App>().history() else {
        return;
    };
    let saved = record.save(&mut store.lock().unwrap_or_else(PoisonError::into_inner));
    if let Err(e) = saved {
        tracing::warn!("the rewrite was not saved in the history: {e}");
    }
    let _ = app.emit_to(MAIN, "rewrites-changed", ());
}

/// Accept: the finished rewrite (as the user edited it, when `edited` is
/// given) goes to the clipboard (the text it replaces is kept, to be put
/// back from the main window), is recorded as accepted, and the popup
/// closes.
#[tauri::command]
pub fn rephrase_accept(app: AppHandle, edited: Option<String>) -> Reply<()> {
    let hotkey = app.state::<Hotkey>();
    let accepted =
        lock(&hotkey.session).accept_as(edited.as_deref(), |text| hotkey.clipboard.write(text))?;
    record(&app, &accepted);
    popup::hide(&app);
    if crate::settings::load().is_ok_and(|s| s.app.auto_paste) {
        paste::paste_into(lock(&hotkey.focused).take());
    }
    Ok(())
}

/// Stops a rewrite being written, keeping the popup open (switching modes).
#[tauri::command]
pub fn rephrase_stop(hotkey: State<'_, Hotkey>) {
    hotkey.stop();
}

/// Cancel: stops, records a finished but refused rewrite, closes the popup.
/// The clipboard is not touched.
#[tauri::command]
pub fn rephrase_cancel(app: AppHandle) {
    let hotkey = app.state::<Hotkey>();
    hotkey.stop();
    let refused = lock(&hotkey.session).cancel();
    if let Some(refused) = refused {
        record(&app, &refused);
    }
    popup::hide(&app);
}

/// Text too long to rewrite: summarize it instead, in the main window. The
/// text stays in memory (it is never written to a file).
#[tauri::command]
pub fn rephrase_summarize(app: AppHandle) -> Reply<()> {
    let text = lock(&app.state::<Hotkey>().session).take_text()?;
    let name = "the clipboard's text".to_string();
    let token = app.state::<App>().keep_file(Source::Bytes {
        bytes: text.into_bytes(),
        name: name.clone(),
    });
    popup::hide(&app);
    show_main(&app);
    let file = ChosenFile { token, name };
    let _ = app.emit_to(MAIN, DROP_EVENT, DropEvent::Dropped { file });
    Ok(())
}

/// The latest rewrites, for the main window's history.
#[tauri::command]
pub fn rewrites(state: State<'_, App>) -> Reply<Vec<Rewrite>> {
    let store = state.history()?;
    let list = store
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .rewrites(100);
    Ok(list?)
}

/// Puts back the clipboard text that the last accepted rewrite replaced.
#[tauri::command]
pub fn restore_clipboard(hotkey: State<'_, Hotkey>) -> Reply<()> {
    let original = lock(&hotkey.session).replaced()?;
    Ok(hotkey.clipboard.write(&original)?)
}

/// The main window's "Rephrase clipboard" button: the same as the hotkey.
#[tauri::command]
pub fn rephrase_clipboard(app: AppHandle) {
    shortcut::pressed(&app);
}

#[tauri::command]
pub fn hotkey_status(hotkey: State<'_, Hotkey>) -> HotkeyStatus {
    lock(&hotkey.status).clone()
}

/// What the popup shows of a command's finished result.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct CommandDone {
    pub text: String,
    pub command: String,
    pub model: String,
    pub escalated: bool,
    /// What the checks removed or could not settle.
    pub notes: Vec<String>,
    /// The result is a calendar file: Accept saves it (`command_save_file`).
    pub is_file: bool,
}

/// Runs the command `name` on the pending text in the popup, streaming
/// like a rewrite; a result that fails the checks is an error with why.
#[tauri::command]
pub async fn command_run_pending(
    app: AppHandle,
    state: State<'_, App>,
    hotkey: State<'_, Hotkey>,
    name: String,
    on_event: Channel<RephraseEvent>,
) -> Reply<CommandDone> {
    let (id, text) = lock(&hotkey.session).to_run()?;
    hotkey.stop();
    let settings = crate::settings::load()?;
    let target = Target::find(&name, &settings.commands)?;
    // The popup has no tone of its own: a professional default mode
    // drafts professional replies.
    let tone = match settings.app.rephrase_mode {
        RephraseMode::Professional => Tone::Professional,
        _ => Tone::Friendly,
    };
    let options = RunOptions {
        tone,
        ..RunOptions::now()
    };
    let job_target = target.clone();
    let job_text = text.clone();
    let result = state
        .run_rephrase(&hotkey.running, move |engine: &mut LlamaEngine, cancel| {
            crate::workflows::run_job(
                engine,
                &job_target,
                &job_text,
                &options,
                cancel,
                &mut rewrite::events(|e| {
                    let _ = on_event.send(e);
                }),
            )
        })
        .await??;
    if !result.ok() {
        return Err(crate::workflows::flagged(&result));
    }
    // A reply is kept as a conversation to go on with, from every way in.
    let mut notes = result.notes.clone();
    if target == Target::Workflow(Workflow::Reply) {
        let mut run = CommandRun {
            result: result.clone(),
            conversation_id: None,
            saved_to: None,
        };
        crate::workflows::deliver_result(&state, &target, &text, &mut run)?;
        if run.conversation_id.is_some() {
            notes.push("saved as a conversation in the main window".into());
            let _ = app.emit_to(
                MAIN,
                "command-done",
                "reply: the draft is saved as a conversation",
            );
        }
    }
    let is_file = result.event.is_some();
    if is_file && result.text.is_empty() {
        return Err(Error::InvalidInput(format!(
            "{}. Run \u{201c}event\u{201d} from the Commands page of the main window to give it.",
            result.notes.join("; ")
        ))
        .into());
    }
    lock(&hotkey.session).finish(
        id,
        Finished {
            text: result.text.clone(),
            mode: settings.app.rephrase_mode,
            model: result.model.clone(),
            command: Some(name.clone()),
        },
    )?;
    Ok(CommandDone {
        text: result.text,
        command: name,
        model: result.model,
        escalated: result.escalated,
        notes,
        is_file,
    })
}

/// Accept for a result that is a file (a calendar event): saved where the
/// person chooses, recorded, and the popup closes; the clipboard is not
/// touched. Nothing happens when they cancel the dialog.
#[tauri::command]
pub async fn command_save_file(app: AppHandle) -> Reply<Option<String>> {
    let text = {
        let hotkey = app.state::<Hotkey>();
        let session = lock(&hotkey.session);
        session.finished_text()?
    };
    let dialog = app
        .dialog()
        .file()
        .set_title("Save the event")
        .set_file_name("event.ics")
        .add_filter("Calendar", &["ics"]);
    let Some(path) = crate::dialogs::save(dialog, text).await? else {
        return Ok(None);
    };
    let hotkey = app.state::<Hotkey>();
    let saved = lock(&hotkey.session).accept(|_| Ok(()));
    if let Ok(saved) = saved {
        record(&app, &saved);
    }
    popup::hide(&app);
    Ok(Some(path))
}
