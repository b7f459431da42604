//! What the app holds: the inference worker once the model has loaded, the
//! history store, and the cancel token of the reply being written.

use pith_core::engine::{CancelToken, Engine, ModelInfo, PauseGate, Priority, Worker};
use pith_core::error::ErrorPayload;
use pith_core::history::{self, History};
use pith_core::{Error, Result};
use pith_llama::{LlamaEngine, LoadOptions};
use serde::Serialize;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
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
    history: std::result::Result<Arc<Mutex<History>>, ErrorPayload>,
    current: Mutex<Option<CancelToken>>,
    /// Files the user dropped or picked, by token: the window names a file
    /// by its token and never by its path.
    files: Mutex<Vec<(PathBuf, String)>>,
    /// The cancel token of the model download in progress.
    download: Mutex<Option<CancelToken>>,
    /// The hotkey's own engine (the same model, a smaller window).
    rephraser: Mutex<Option<Worker<LlamaEngine>>>,
    /// Held while the hotkey's engine works: the main engine's jobs wait.
    gate: PauseGate,
}

pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl AppState {
    /// Opens the history store in the data folder (recovering a damaged one).
    pub fn open() -> Self {
        let history = history::default_path()
            .ok_or_else(|| Error::History("no data folder; set PITH_DATA_DIR".into()))
            .and_then(|path| History::open(&path))
            .map(|(store, report)| {
                if let Some(aside) = report.moved_aside {
                    eprintln!("pith-desktop: damaged history moved to {}", aside.display());
                }
                Arc::new(Mutex::new(store))
            })
            .map_err(|e| e.to_payload());
        Self {
            status: Mutex::new(EngineStatus::Loading),
            worker: Mutex::new(None),
            history,
            current: Mutex::new(None),
            files: Mutex::new(Vec::new()),
            download: Mutex::new(None),
            rephraser: Mutex::new(None),
            gate: PauseGate::default(),
        }
    }

    pub fn status(&self) -> EngineStatus {
        lock(&self.status).clone()
    }

    pub fn history(&self) -> std::result::Result<Arc<Mutex<History>>, ErrorPayload> {
        self.history.clone()
    }

    /// Runs `job` on the inference worker and waits for it (off the main
    /// thread: callers are async commands). The job's cancel token is kept so
    /// `stop` can reach it.
    pub async fn run<R, F>(
        &self,
        priority: Priority,
        job: F,
    ) -> std::result::Result<R, ErrorPayload>
    where
        R: Send + 'static,
        F: FnOnce(&mut LlamaEngine, &CancelToken) -> R + Send + 'static,
    {
        self.run_on(&self.worker, &self.current, priority, job)
            .await
    }

    /// A hotkey rewrite: on the rephrase engine (its own copy of the model,
    /// its instructions' state kept), so it never waits for a chat reply;
    /// while it runs, work on the main engine pauses between tokens. Until
    /// the rephrase engine has loaded, the main engine takes it first in
    /// its queue.
    pub async fn run_rephrase<R, F>(
        &self,
        slot: &Mutex<Option<CancelToken>>,
        job: F,
    ) -> std::result::Result<R, ErrorPayload>
    where
        R: Send + 'static,
        F: FnOnce(&mut LlamaEngine, &CancelToken) -> R + Send + 'static,
    {
        let gate = self.gate.clone();
        let held = move |engine: &mut LlamaEngine, cancel: &CancelToken| {
            let _hold = gate.hold();
            job(engine, cancel)
        };
        if lock(&self.rephraser).is_some() {
            self.run_on(&self.rephraser, slot, Priority::Interactive, held)
                .await
        } else {
            self.run_on(&self.worker, slot, Priority::Interactive, held)
                .await
        }
    }

    /// Runs `job` on `worker`, keeping its cancel token in `slot` (the
    /// rephrase popup stops its own job, never a chat reply).
    async fn run_on<R, F>(
        &self,
        worker: &Mutex<Option<Worker<LlamaEngine>>>,
        slot: &Mutex<Option<CancelToken>>,
        priority: Priority,
        job: F,
    ) -> std::result::Result<R, ErrorPayload>
    where
        R: Send + 'static,
        F: FnOnce(&mut LlamaEngine, &CancelToken) -> R + Send + 'static,
    {
        let ticket = match lock(worker).as_ref() {
            Some(worker) => worker.submit(priority, job),
            None => return Err(not_ready(&self.status())),
        };
        *lock(slot) = Some(ticket.cancel_token());
        let waited = tauri::async_runtime::spawn_blocking(move || ticket.wait()).await;
        *lock(slot) = None;
        waited
            .map_err(|e| Error::Inference(e.to_string()).to_payload())?
            .map_err(|e| e.to_payload())
    }

    /// Keeps a file the user chose, with the name to show for it; returns
    /// its token.
    pub fn keep_file(&self, path: PathBuf, name: String) -> u64 {
        let mut files = lock(&self.files);
        files.push((path, name));
        files.len() as u64 - 1
    }

    /// The path and the name of a kept file.
    pub fn file(&self, token: u64) -> Option<(PathBuf, String)> {
        let index = usize::try_from(token).ok()?;
        lock(&self.files).get(index).cloned()
    }

    /// Starts tracking a download; `None` while another one runs.
    pub fn begin_download(&self) -> Option<CancelToken> {
        let mut slot = lock(&self.download);
        if slot.is_some() {
            return None;
        }
        let token = CancelToken::new();
        *slot = Some(token.clone());
        Some(token)
    }

    pub fn end_download(&self) {
        *lock(&self.download) = None;
    }

    pub fn cancel_download(&self) {
        if let Some(token) = lock(&self.download).as_ref() {
            token.cancel();
        }
    }

    pub fn stop(&self) {
        if let Some(token) = lock(&self.current).as_ref() {
            token.cancel();
        }
    }

    fn set(&self, status: EngineStatus, worker: Option<Worker<LlamaEngine>>) {
        *lock(&self.status) = status;
        *lock(&self.worker) = worker.map(|w| w.paused_by(self.gate.clone()));
        if lock(&self.worker).is_none() {
            *lock(&self.rephraser) = None;
        }
    }
}

fn not_ready(status: &EngineStatus) -> ErrorPayload {
    match status {
        EngineStatus::Failed { error } => error.clone(),
        _ => Error::Inference("the model is still loading".into()).to_payload(),
    }
}

/// Loads the model the settings name (else the default one) after the
/// window is up.
pub fn start_engine(app: AppHandle) {
    let chosen = crate::settings::load()
        .ok()
        .and_then(|s| s.app.model)
        .filter(|p| p.is_file());
    load_engine(app, chosen);
}

/// Drops the running model, then loads `model` (the default when `None`) on
/// a background thread; the UI hears `engine-status` before and after.
pub fn load_engine(app: AppHandle, model: Option<PathBuf>) {
    let state = app.state::<AppState>();
    state.stop();
    state.set(EngineStatus::Loading, None);
    let _ = app.emit("engine-status", state.status());
    std::thread::spawn(move || {
        let loaded =
            pith_core::models::resolve_model(model.as_deref()).and_then(|path| -> Result<_> {
                let options = LoadOptions {
                    states: pith_core::engine::state::StateStore::in_data_dir(),
                    ..LoadOptions::default()
                };
                let worker = Worker::spawn(move || LlamaEngine::load(&path, &options))?;
                let (model, threads) = worker
                    .run(Priority::Interactive, |e: &mut LlamaEngine, _| {
                        (e.info().clone(), e.threads())
                    })?;
                Ok((worker, EngineStatus::Ready { model, threads }))
            });
        let state = app.state::<AppState>();
        let rephrase_model = loaded.as_ref().ok().map(|(_, status)| status.clone());
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
        if let Some(EngineStatus::Ready { model, .. }) = rephrase_model {
            let available = pith_core::hardware::probe_memory().memory.available_bytes;
            if pith_core::models::plan::hotkey_engine_fits(model.size_bytes, available) {
                load_rephraser(&state, PathBuf::from(model.path));
            }
        }
    });
}

/// The hotkey's engine: the same model file (memory-mapped, so its weights
/// are shared), a 2,048-token window, and the saved instruction states.
fn load_rephraser(state: &AppState, path: PathBuf) {
    let options = LoadOptions {
        context: Some(2048),
        states: pith_core::engine::state::StateStore::in_data_dir(),
        ..LoadOptions::default()
    };
    match Worker::spawn(move || LlamaEngine::load(&path, &options)) {
        Ok(worker) => *lock(&state.rephraser) = Some(worker),
        Err(e) => eprintln!("pith-desktop: the hotkey shares the main engine ({e})"),
    }
}
