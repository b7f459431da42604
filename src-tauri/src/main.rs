//! Pith desktop: a thin Tauri shell over `pith-core`.
//!
//! Commands take state, make one core call and map the error to
//! `{code, message}`. The model loads on the inference worker's thread after
//! the window is up, and the UI hears about it through the `engine-status`
//! event.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod commands;
mod state;

fn main() {
    let app = tauri::Builder::default()
        .manage(state::AppState::open())
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
        ])
        .run(tauri::generate_context!());
    if let Err(e) = app {
        eprintln!("pith-desktop: {e}");
        std::process::exit(1);
    }
}
