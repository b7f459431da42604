//! The real model behind [`AppState`]: llama.cpp loads on a background
//! thread after the window is up, the UI hears `engine-status` before and
//! after, and a small model gets a second worker for the hotkey, with a
//! context of its own over the same weights. Also the
//! installed models the router escalates a rewrite to, loaded on demand.

use crate::state::{AppState, EngineStatus};
use pith_core::engine::{Engine, Priority, Worker};
use pith_core::flows::rephrase::{installed_candidates, InstalledCandidate};
use pith_core::Result;
use pith_llama::{LlamaEngine, LoadOptions, SharedModel};
use std::path::{Path, PathBuf};
use tauri::{AppHandle, Emitter, Manager};

/// The app's state over the real engine.
pub type App = AppState<LlamaEngine>;

/// The hotkey's window: rewrites are short.
pub const HOTKEY_CONTEXT: u32 = 2048;

/// Loads the model the settings name (else the default one) after the
/// window is up.
pub fn start_engine(app: AppHandle) {
    let chosen = crate::settings::load()
        .ok()
        .and_then(|s| s.app.model)
        .filter(|p| p.is_file());
    load_engine(app, chosen);
}

fn options(context: Option<u32>) -> LoadOptions {
    LoadOptions {
        context,
        states: pith_core::engine::state::StateStore::in_data_dir(),
        ..LoadOptions::default()
    }
}

/// Drops the running model, then loads `model` (the default when `None`) on
/// a background thread; the UI hears `engine-status` before and after.
pub fn load_engine(app: AppHandle, model: Option<PathBuf>) {
    let state = app.state::<App>();
    state.stop();
    state.set(EngineStatus::Loading, None);
    let _ = app.emit("engine-status", state.status());
    std::thread::spawn(move || {
        let loaded =
            pith_core::models::resolve_model(model.as_deref()).and_then(|path| -> Result<_> {
                let options = options(None);
                let worker = Worker::spawn(move || LlamaEngine::load(&path, &options))?;
                let (model, threads) = worker
                    .run(Priority::Interactive, |e: &mut LlamaEngine, _| {
                        (e.info().clone(), e.threads())
                    })?;
                Ok((worker, EngineStatus::Ready { model, threads }))
            });
        let state = app.state::<App>();
        // The hotkey's worker is ready before the window hears "ready", so
        // a key press right away never waits behind a chat reply.
        if let Ok((worker, EngineStatus::Ready { model, .. })) = &loaded {
            let available = pith_core::hardware::probe_memory().memory.available_bytes;
            if pith_core::models::estimate::hotkey_engine_fits(model.size_bytes, available) {
                match worker.run(Priority::Interactive, |e: &mut LlamaEngine, _| e.share()) {
                    Ok(shared) => load_rephraser(&state, shared),
                    Err(e) => tracing::warn!("the hotkey shares the main engine ({e})"),
                }
            }
        }
        match loaded {
            Ok((worker, status)) => state.set(status, Some(worker)),
            Err(e) => state.set(
                EngineStatus::Failed {
                    error: e.to_payload(),
                },
                None,
            ),
        }
        let _ = app.emit("engine-status", state.status());
    });
}

/// The hotkey's worker: a context of its own (a smaller window, the saved
/// instruction states) over the main engine's weights, which are loaded
/// once and shared.
fn load_rephraser(state: &App, shared: SharedModel) {
    let options = options(Some(HOTKEY_CONTEXT));
    match Worker::spawn(move || LlamaEngine::with_model(&shared, &options)) {
        Ok(worker) => state.set_rephraser(worker),
        Err(e) => tracing::warn!("the hotkey shares the main engine ({e})"),
    }
}

/// The installed models as the router sees them, for escalating a rewrite.
pub fn installed() -> Vec<InstalledCandidate> {
    let files: Vec<(String, PathBuf)> =
        pith_core::models::store::list_installed(&pith_core::models::search_dirs())
            .into_iter()
            .filter(|m| m.problem.is_none())
            .map(|m| (m.id, m.path))
            .collect();
    let hw = pith_core::hardware::probe_memory();
    let budget = hw.usable_ram_bytes().unwrap_or(u64::MAX);
    installed_candidates(&files, &hw, budget, HOTKEY_CONTEXT)
}

/// Loads an installed model for one rewrite (an escalation).
pub fn load_for_hotkey(path: &Path) -> Result<LlamaEngine> {
    LlamaEngine::load(path, &options(Some(HOTKEY_CONTEXT)))
}
