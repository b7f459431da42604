//! Pith desktop: a thin Tauri shell over `pith-core`.
//!
//! Commands take state, make one core call and map the error to
//! `{code, message}`. The model loads on the inference worker's thread after
//! the window is up, and the UI hears about it through the `engine-status`
//! event.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod commands;
mod documents;
mod state;

use tauri::Manager;

fn main() {
    let app = tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        .manage(state::AppState::open())
        .on_window_event(|window, event| {
            if let tauri::WindowEvent::DragDrop(drag) = event {
                documents::on_drag_drop(window.app_handle(), drag);
            }
        })
        .setup(|app| {
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
        ])
        .run(tauri::generate_context!());
    if let Err(e) = app {
        eprintln!("pith-desktop: {e}");
        std::process::exit(1);
    }
}
