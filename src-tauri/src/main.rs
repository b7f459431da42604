//! Pith desktop: a thin Tauri shell over `pith-core`.
//!
//! Commands take state, make one core call and map the error to
//! `{code, message}`; `commands.json` lists them all, once. The model loads
//! on the inference worker's thread after the window is up, and the UI
//! hears about it through the `engine-status` event. One app runs per data
//! folder; the window opens where it was left, hidden until it is placed.
//!
//! The modules form layers, each importing only those above it: `state`,
//! `settings` and `window` know nothing of the others; `engine`,
//! `documents`, `commands` and `models` build on them; `hotkey` on those.
//! What crosses layers the other way (the tray's "Rephrase clipboard", a
//! changed shortcut) is wired here.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod agent;
mod bindings;
mod commands;
mod dialogs;
mod documents;
mod engine;
mod hotkey;
mod models;
mod settings;
mod state;
mod tune;
mod window;
mod workflows;

use state::lock;
use tauri::Manager;

include!(concat!(env!("OUT_DIR"), "/commands.rs"));

/// Saves the window's place once it has stayed still for a moment.
fn settle(w: &tauri::Window, dir: Option<std::path::PathBuf>) -> std::sync::mpsc::Sender<()> {
    let w = w.clone();
    pith_core::window::on_settled(pith_core::window::SETTLE, move || {
        if let Some(dir) = &dir {
            window::remember(&w, dir);
        }
    })
}

fn main() {
    let _logging = pith_core::logs::init("pith-desktop", Some(tracing::Level::INFO));
    if let Ok(s) = settings::load() {
        pith_core::logs::set_user_text(s.app.debug_logs);
    }
    let data_dir = pith_core::paths::data_dir();
    #[cfg(unix)]
    let listener = match data_dir.as_deref().map(window::instance::claim) {
        Some(Ok(window::instance::Claim::AlreadyRunning)) => {
            tracing::info!("Pith is already running; its window was brought forward");
            return;
        }
        Some(Ok(window::instance::Claim::First(listener))) => Some(listener),
        Some(Err(e)) => {
            tracing::warn!("cannot check for another running Pith ({e}); starting anyway");
            None
        }
        None => None,
    };
    let geometry_dir = data_dir.clone();
    // The main window's place, saved once it stops moving.
    let moved: std::sync::Mutex<Option<std::sync::mpsc::Sender<()>>> = std::sync::Mutex::new(None);
    let app = tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_global_shortcut::Builder::new().build())
        .manage(engine::App::open())
        .manage(hotkey::Hotkey::default())
        .manage(agent::AgentDesk::default())
        .manage(settings::OnShortcutChange(|app, shortcut| {
            hotkey::shortcut::register(app, shortcut);
        }))
        .manage(workflows::OnCommandsChange(
            hotkey::shortcut::register_commands,
        ))
        .on_window_event(move |w, event| match event {
            tauri::WindowEvent::DragDrop(drag) => documents::on_drag_drop(w.app_handle(), drag),
            // Only the main window's place is remembered (the popup opens by
            // the pointer), and closing it quits the app, popup and all.
            tauri::WindowEvent::Moved(_) | tauri::WindowEvent::Resized(_)
                if w.label() == window::MAIN =>
            {
                let _ = lock(&moved)
                    .get_or_insert_with(|| settle(w, geometry_dir.clone()))
                    .send(());
            }
            tauri::WindowEvent::CloseRequested { .. } if w.label() == window::MAIN => {
                w.app_handle().exit(0);
            }
            _ => {}
        })
        .setup(move |app| {
            if let Some(main) = app.get_webview_window(window::MAIN) {
                window::restore(&main, data_dir.as_deref());
            }
            #[cfg(unix)]
            if let Some(listener) = listener {
                let handle = app.handle().clone();
                window::instance::listen(listener, move || window::show_main(&handle));
            }
            let shortcut = settings::load()
                .map(|s| s.app.hotkey)
                .unwrap_or_else(|_| pith_core::settings::DEFAULT_HOTKEY.to_string());
            let status = hotkey::shortcut::register(app.handle(), &shortcut);
            if let Some(why) = status.message {
                tracing::warn!("{why}");
            }
            if let Err(e) = window::tray(app.handle(), hotkey::shortcut::pressed) {
                tracing::warn!("no tray icon on this desktop ({e})");
            }
            engine::start_engine(app.handle().clone());
            hotkey::prepare::watch(app.handle().clone());
            Ok(())
        })
        .invoke_handler(pith_commands!())
        .run(tauri::generate_context!());
    if let Err(e) = app {
        tracing::warn!("{e}");
        std::process::exit(1);
    }
}
