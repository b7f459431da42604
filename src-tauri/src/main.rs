//! Pith desktop: a thin Tauri shell over `pith-core`.
//!
//! Commands take state, make one core call and map the error to
//! `{code, message}`. The model loads on the inference worker's thread after
//! the window is up, and the UI hears about it through the `engine-status`
//! event. One app runs per data folder; the window opens where it was
//! left, hidden until it is placed.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod commands;
mod documents;
mod models;
mod rephrase;
mod settings;
mod state;
mod window;

use tauri::Manager;

fn main() {
    let data_dir = pith_core::paths::data_dir();
    #[cfg(unix)]
    let listener = match data_dir.as_deref().map(window::instance::claim) {
        Some(Ok(window::instance::Claim::AlreadyRunning)) => {
            eprintln!("pith-desktop: Pith is already running; its window was brought forward");
            return;
        }
        Some(Ok(window::instance::Claim::First(listener))) => Some(listener),
        Some(Err(e)) => {
            eprintln!("pith-desktop: cannot check for another running Pith ({e}); starting anyway");
            None
        }
        None => None,
    };
    let geometry_dir = data_dir.clone();
    let app = tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_global_shortcut::Builder::new().build())
        .manage(state::AppState::open())
        .manage(rephrase::Rephraser::default())
        .on_window_event(move |w, event| match event {
            tauri::WindowEvent::DragDrop(drag) => documents::on_drag_drop(w.app_handle(), drag),
            // Only the main window's place is remembered (the popup opens by
            // the pointer), and closing it quits the app, popup and all.
            tauri::WindowEvent::Moved(_) | tauri::WindowEvent::Resized(_)
                if w.label() == window::MAIN =>
            {
                if let Some(dir) = &geometry_dir {
                    window::remember(w, dir);
                }
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
            let hotkey = settings::load()
                .map(|s| s.app.hotkey)
                .unwrap_or_else(|_| pith_core::settings::DEFAULT_HOTKEY.to_string());
            let status = rephrase::register(app.handle(), &hotkey);
            if let Some(why) = status.message {
                eprintln!("pith-desktop: {why}");
            }
            if let Err(e) = window::tray(app.handle()) {
                eprintln!("pith-desktop: no tray icon on this desktop ({e})");
            }
            state::start_engine(app.handle().clone());
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::app_status,
            commands::conversations,
            commands::conversation_messages,
            commands::chat_send,
            commands::chat_stop,
            commands::machine_fit,
            commands::search_conversations,
            commands::delete_conversation,
            commands::export_conversation,
            documents::open_file,
            documents::summarize_file,
            settings::get_settings,
            settings::save_settings,
            models::download_model,
            models::cancel_download,
            models::import_model,
            models::use_model,
            rephrase::rephrase_pending,
            rephrase::rephrase_run,
            rephrase::rephrase_accept,
            rephrase::rephrase_stop,
            rephrase::rephrase_cancel,
            rephrase::rephrase_summarize,
            rephrase::rewrites,
            rephrase::restore_clipboard,
            rephrase::rephrase_clipboard,
            rephrase::hotkey_status,
        ])
        .run(tauri::generate_context!());
    if let Err(e) = app {
        eprintln!("pith-desktop: {e}");
        std::process::exit(1);
    }
}
