//! The Settings screen: the user's choices live in `settings.toml` in the
//! data folder (pith-core's `UserSettings`), shared with the command line.

use crate::state::Reply;
use pith_core::error::ErrorPayload;
use pith_core::settings::{self, AppSettings, UserSettings};
use pith_core::tasks::rephrase::RephraseMode;
use pith_core::Error;
use serde::Serialize;

/// What follows a change of shortcut (main.rs wires it to the hotkey, so
/// settings need not know the hotkey).
pub struct OnShortcutChange(pub fn(&tauri::AppHandle, &str));

#[derive(Debug, Serialize, ts_rs::TS)]
pub struct SettingsView {
    pub app: AppSettings,
    /// Where the history, saved model states and settings live.
    pub data_dir: String,
    /// Where the logs are written.
    pub log_dir: String,
    pub modes: Vec<RephraseMode>,
}

pub fn path() -> Result<std::path::PathBuf, ErrorPayload> {
    Ok(settings::default_path()
        .ok_or_else(|| Error::InvalidInput("no data folder; set PITH_DATA_DIR".into()))?)
}

/// The settings, or an error naming `settings.toml` when it is broken.
pub fn load() -> Reply<UserSettings> {
    Ok(UserSettings::load(&path()?)?)
}

#[tauri::command]
pub fn get_settings() -> Reply<SettingsView> {
    Ok(SettingsView {
        app: load()?.app,
        data_dir: pith_core::paths::data_dir()
            .map(|d| d.display().to_string())
            .unwrap_or_default(),
        log_dir: pith_core::logs::dir()
            .map(|d| d.display().to_string())
            .unwrap_or_default(),
        modes: RephraseMode::ALL.to_vec(),
    })
}

/// Opens the log folder in the desktop's file manager.
#[tauri::command]
pub fn open_log_folder() -> Reply<()> {
    let dir = pith_core::logs::dir()
        .ok_or_else(|| Error::InvalidInput("no data folder; set PITH_DATA_DIR".into()))?;
    pith_core::paths::private_dir(&dir)
        .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
    std::process::Command::new("xdg-open")
        .arg(&dir)
        .spawn()
        .map_err(|e| {
            Error::io(
                format!(
                    "could not open {} (xdg-open); open it yourself",
                    dir.display()
                ),
                e,
            )
        })?;
    Ok(())
}

/// Saves the app's settings, keeping the rest of the file; returns them as
/// stored (the shortcut in its normal form).
/// A changed shortcut is registered at once (its status goes to the window).
#[tauri::command]
pub fn save_settings(
    handle: tauri::AppHandle,
    changed: tauri::State<'_, OnShortcutChange>,
    app: AppSettings,
) -> Reply<AppSettings> {
    let before = load()?.app;
    if app.open_at_login != before.open_at_login {
        let dir = pith_core::autostart::dir()
            .ok_or_else(|| Error::InvalidInput("no home folder for the autostart entry".into()))?;
        let exe =
            std::env::current_exe().map_err(|e| Error::io("finding the app's own file", e))?;
        pith_core::autostart::apply(&dir, app.open_at_login, &exe)?;
    }
    let before = before.hotkey;
    let stored = update(|s| s.app = app.from_window(&s.app))?;
    pith_core::logs::set_user_text(stored.debug_logs);
    if stored.hotkey != before {
        (changed.0)(&handle, &stored.hotkey);
    }
    Ok(stored)
}

/// Changes the settings file: read, change, check, write.
pub fn update(change: impl FnOnce(&mut UserSettings)) -> Reply<AppSettings> {
    let path = path()?;
    let mut settings = UserSettings::load(&path)?;
    change(&mut settings);
    settings.save(&path)?;
    Ok(UserSettings::load(&path)?.app)
}
