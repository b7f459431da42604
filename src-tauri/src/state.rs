//! What the app holds: the inference worker once the model has loaded.

use pith_core::engine::{Engine, ModelInfo, Priority, Worker};
use pith_core::error::ErrorPayload;
use pith_llama::{LlamaEngine, LoadOptions};
use serde::Serialize;
use std::sync::{Mutex, PoisonError};
use tauri::{AppHandle, Emitter, Manager};

/// Where the engine is, as the UI sees it.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum EngineStatus {
    Loading,
    Ready { model: ModelInfo, threads: usize },
    Failed { error: ErrorPayload },
}

pub struct AppState {
    status: Mutex<EngineStatus>,
    worker: Mutex<Option<Worker<LlamaEngine>>>,
}

impl Default for AppState {
    fn default() -> Self {
        Self {
            status: Mutex::new(EngineStatus::Loading),
            worker: Mutex::new(None),
        }
    }
}

impl AppState {
    pub fn status(&self) -> EngineStatus {
        self.status
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn set(&self, status: EngineStatus, worker: Option<Worker<LlamaEngine>>) {
        *self.status.lock().unwrap_or_else(PoisonError::into_inner) = status;
        *self.worker.lock().unwrap_or_else(PoisonError::into_inner) = worker;
    }
}

/// Loads the default model on a background thread and tells the UI.
pub fn start_engine(app: AppHandle) {
    std::thread::spawn(move || {
        let loaded = pith_core::models::resolve_model(None).and_then(|path| {
            let worker = Worker::spawn(move || LlamaEngine::load(&path, &LoadOptions::default()))?;
            let (model, threads) = worker
                .run(Priority::Interactive, |e: &mut LlamaEngine, _| {
                    (e.info().clone(), e.threads())
                })?;
            Ok((worker, EngineStatus::Ready { model, threads }))
        });
        let state = app.state::<AppState>();
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
