//! The global shortcut: registered from Settings (a conflict is reported
//! with the way around it), and what a key press does: read the clipboard,
//! begin a rewrite session, open the popup.

use super::{paste, popup, Hotkey};
use crate::engine::App;
use crate::state::lock;
use crate::window::MAIN;
use crate::workflows::CommandRun;
use pith_core::commands::{CustomCommand, Output, Workflow};
use pith_core::error::ErrorPayload;
use pith_core::flows::commands::{RunOptions, Target};
use pith_core::flows::session::Finished;
use pith_core::tasks::rephrase::RephraseMode;
use pith_llama::LlamaEngine;
use serde::Serialize;
use tauri::{AppHandle, Emitter, Manager};
use tauri_plugin_global_shortcut::{GlobalShortcutExt, ShortcutState};

/// Whether the shortcut works, for the main window.
#[derive(Debug, Clone, Default, Serialize, ts_rs::TS)]
pub struct HotkeyStatus {
    pub shortcut: String,
    pub registered: bool,
    pub message: Option<String>,
}

/// Registers `shortcut` (replacing the previous one) with the saved
/// commands' own shortcuts, and tells the main window whether it worked.
pub fn register(app: &AppHandle, shortcut: &str) -> HotkeyStatus {
    let commands = crate::settings::load()
        .map(|s| s.commands)
        .unwrap_or_default();
    let (status, commands) = register_all(app, shortcut, &commands);
    if let Err(why) = commands {
        tracing::warn!("{why}");
    }
    status
}

/// Registers the commands' shortcuts anew beside the rephrase shortcut;
/// `Err` names the first that could not be registered.
pub fn register_commands(app: &AppHandle, commands: &[CustomCommand]) -> Result<(), String> {
    let main = lock(&app.state::<Hotkey>().status).shortcut.clone();
    register_all(app, &main, commands).1
}

fn register_all(
    app: &AppHandle,
    shortcut: &str,
    commands: &[CustomCommand],
) -> (HotkeyStatus, Result<(), String>) {
    let shortcuts = app.global_shortcut();
    let _ = shortcuts.unregister_all();
    let mut failed = Ok(());
    for c in commands {
        let Some(key) = c.hotkey.as_deref() else {
            continue;
        };
        let name = c.name.clone();
        let done = shortcuts.on_shortcut(key, move |app, _, event| {
            if event.state() == ShortcutState::Pressed {
                command_pressed(app, name.clone());
            }
        });
        if let (Err(e), Ok(())) = (done, &failed) {
            failed = Err(format!(
                "the shortcut {key} of \"{}\" could not be registered ({e}): another program may \
                 hold it; choose another",
                c.name
            ));
        }
    }
    (register_main(app, shortcut), failed)
}

fn register_main(app: &AppHandle, shortcut: &str) -> HotkeyStatus {
    let shortcuts = app.global_shortcut();
    let result = shortcuts.on_shortcut(shortcut, |app, _, event| {
        if event.state() == ShortcutState::Pressed {
            pressed(app);
        }
    });
    let status = match result {
        Ok(()) => HotkeyStatus {
            shortcut: shortcut.to_string(),
            registered: true,
            message: None,
        },
        Err(e) => HotkeyStatus {
            shortcut: shortcut.to_string(),
            registered: false,
            message: Some(format!(
                "The shortcut {shortcut} could not be registered ({e}). Another program may use it: \
                 choose another in Settings, or bind `pith rephrase --clipboard` to a key in your \
                 desktop's keyboard settings (the way on Wayland)."
            )),
        },
    };
    *lock(&app.state::<Hotkey>().status) = status.clone();
    let _ = app.emit_to(MAIN, "hotkey-status", &status);
    status
}

/// The hotkey (or the tray's and the main window's "Rephrase clipboard"):
/// read the clipboard and open the popup.
pub fn pressed(app: &AppHandle) {
    let app = app.clone();
    std::thread::spawn(move || {
        let hotkey = app.state::<Hotkey>();
        *lock(&hotkey.focused) = paste::focused_window();
        let mode = crate::settings::load()
            .map(|s| s.app.rephrase_mode)
            .unwrap_or(RephraseMode::Rewrite);
        hotkey.stop();
        let read = hotkey.clipboard.read();
        open_popup(&app, read, mode, None);
    });
}

/// Begins a session on `read` and opens the popup, offering the commands
/// beside the modes (`command`: the one to run at once).
fn open_popup(
    app: &AppHandle,
    read: pith_core::Result<String>,
    mode: RephraseMode,
    command: Option<String>,
) {
    let hotkey = app.state::<Hotkey>();
    let mut names: Vec<String> = Workflow::ALL.iter().map(|w| w.name().to_string()).collect();
    if let Ok(s) = crate::settings::load() {
        names.extend(s.commands.into_iter().map(|c| c.name));
    }
    let pending = lock(&hotkey.session).begin_with(read, mode, names, command);
    if let Err(e) = popup::show(app) {
        tracing::warn!("the rephrase popup could not open: {e}");
    }
    let _ = app.emit_to(popup::POPUP, "rephrase-request", &pending);
}

/// A command's own shortcut: its text is the clipboard's (or, as the
/// command says, a file picked in a dialog or the conversation last
/// written to). Its result goes
/// where the command says: the popup (with the changes marked), or straight
/// to the clipboard (the text it replaced can be put back), a new file in
/// its folder, or a conversation. A result that fails the checks, or a
/// clipboard with no text, opens the popup with the reason; nothing is
/// written.
pub fn command_pressed(app: &AppHandle, name: String) {
    let app = app.clone();
    std::thread::spawn(move || {
        let hotkey = app.state::<Hotkey>();
        *lock(&hotkey.focused) = paste::focused_window();
        let settings = crate::settings::load().unwrap_or_default();
        let mode = settings.app.rephrase_mode;
        let Ok(target) = Target::find(&name, &settings.commands) else {
            return;
        };
        hotkey.stop();
        let read = match crate::workflows::shortcut_input(&app, &target) {
            Ok(Some(text)) => Ok(text),
            Ok(None) => hotkey.clipboard.read(),
            Err(e) if e.code() == pith_core::ErrorCode::Cancelled => return,
            Err(e) => Err(e),
        };
        let output = pith_core::flows::commands::output_of(&target);
        let text = match (output, read) {
            (Output::Popup, read) => return open_popup(&app, read, mode, Some(name)),
            (_, Err(e)) => return open_popup(&app, Err(e), mode, Some(name)),
            (_, Ok(text)) => text,
        };
        let state = app.state::<App>();
        let options = RunOptions::now();
        let (job_target, job_text) = (target.clone(), text.clone());
        let ran = tauri::async_runtime::block_on(state.run_rephrase(
            &hotkey.running,
            move |engine: &mut LlamaEngine, cancel| {
                crate::workflows::run_job(
                    engine,
                    &job_target,
                    &job_text,
                    &options,
                    cancel,
                    &mut |_, _| {},
                )
            },
        ));
        let result = match ran {
            Ok(Ok(r)) if r.ok() => r,
            Ok(Ok(r)) => return show_problem(&app, crate::workflows::flagged(&r), mode, &name),
            Ok(Err(e)) => return show_problem(&app, e.to_payload(), mode, &name),
            Err(e) => return show_problem(&app, e, mode, &name),
        };
        let message = match output {
            Output::Clipboard => {
                // Through the session, so the replaced text can be put back
                // and the rewrite is recorded like an accepted one.
                let mut session = lock(&hotkey.session);
                let pending =
                    session.begin_with(Ok(text.clone()), mode, Vec::new(), Some(name.clone()));
                let finished = Finished {
                    text: result.text.clone(),
                    mode,
                    model: result.model.clone(),
                    command: Some(name.clone()),
                };
                let accepted = session
                    .finish(pending.id, finished)
                    .and_then(|()| session.accept(|t| hotkey.clipboard.write(t)));
                drop(session);
                match accepted {
                    Ok(record) => {
                        super::commands::record(&app, &record);
                        format!("{name}: the result is on the clipboard")
                    }
                    Err(e) => return show_problem(&app, e, mode, &name),
                }
            }
            _ => {
                let mut run = CommandRun {
                    result,
                    conversation_id: None,
                    saved_to: None,
                };
                if let Err(e) = crate::workflows::deliver_result(&state, &target, &text, &mut run) {
                    return show_problem(&app, e, mode, &name);
                }
                match (&run.saved_to, run.conversation_id) {
                    (Some(path), _) => format!("{name}: saved to {path}"),
                    (None, Some(id)) => {
                        let _ = app.emit_to(MAIN, "open-conversation", id);
                        crate::window::show_main(&app);
                        format!("{name}: saved as a conversation")
                    }
                    _ => format!("{name}: done"),
                }
            }
        };
        let _ = app.emit_to(MAIN, "command-done", message);
    });
}

fn show_problem(app: &AppHandle, problem: ErrorPayload, mode: RephraseMode, name: &str) {
    let error = pith_core::Error::InvalidInput(problem.message);
    open_popup(app, Err(error), mode, Some(name.to_string()));
}
