//! The commands the window may call (each is listed in build.rs and allowed
//! in capabilities/main.json).

use crate::state::{AppState, EngineStatus};
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct AppStatus {
    pub version: &'static str,
    pub engine: EngineStatus,
}

#[tauri::command]
pub fn app_status(state: tauri::State<'_, AppState>) -> AppStatus {
    AppStatus {
        version: env!("CARGO_PKG_VERSION"),
        engine: state.status(),
    }
}
