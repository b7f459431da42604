//! The global shortcut: registered from Settings (a conflict is reported
//! with the way around it), and what a key press does: read the clipboard,
//! begin a rewrite session, open the popup.

use super::{paste, popup, Hotkey};
use crate::state::lock;
use crate::window::MAIN;
use pith_core::tasks::rephrase::RephraseMode;
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

/// Registers `shortcut` (replacing the previous one) and tells the main
/// window whether it worked.
pub fn register(app: &AppHandle, shortcut: &str) -> HotkeyStatus {
    let shortcuts = app.global_shortcut();
    let _ = shortcuts.unregister_all();
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
        let pending = lock(&hotkey.session).begin(hotkey.clipboard.read(), mode);
        if let Err(e) = popup::show(&app) {
            eprintln!("pith-desktop: the rephrase popup could not open: {e}");
        }
        let _ = app.emit_to(popup::POPUP, "rephrase-request", &pending);
    });
}
