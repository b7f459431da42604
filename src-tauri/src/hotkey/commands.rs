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
use pith_core::flows::session::{Pending, Record};
use pith_core::flows::summary::Source;
use pith_core::history::Rewrite;
use pith_core::tasks::rephrase::RephraseMode;
use std::sync::PoisonError;
use tauri::ipc::Channel;
use tauri::{AppHandle, Emitter, Manager, State};

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
    let escalation = Escalation {
        settings: crate::settings::load()?.routing(),
        installed: engine::installed,
        load: engine::load_for_hotkey,
    };
    rewrite::run(&state, &hotkey, mode, again, escalation, move |e| {
        let _ = on_event.send(e);
    })
    .await
}

fn record(app: &AppHandle, record: &Record) {
    let Ok(store) = app.state::<App>().history() else {
        return;
    };
    let saved = record.save(&mut store.lock().unwrap_or_else(PoisonError::into_inner));
    if let Err(e) = saved {
        eprintln!("pith-desktop: the rewrite was not saved in the history: {e}");
    }
    let _ = app.emit_to(MAIN, "rewrites-changed", ());
}

/// Accept: the finished rewrite goes to the clipboard (the text it
/// replaces is kept, to be put back from the main window), is recorded as
/// accepted, and the popup closes.
#[tauri::command]
pub fn rephrase_accept(app: AppHandle) -> Reply<()> {
    let hotkey = app.state::<Hotkey>();
    let accepted = lock(&hotkey.session).accept(|text| hotkey.clipboard.write(text))?;
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
