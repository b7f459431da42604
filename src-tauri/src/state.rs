//! What the app holds, over any [`Engine`]: the inference worker once the
//! model has loaded, the hotkey's worker, the history store, the cancel
//! token of the reply being written, the files the user chose and the
//! download in progress. Nothing here knows llama.cpp (`engine.rs` loads
//! the real model), so the shell's logic is tested on the scripted engine.

use pith_core::engine::{CancelToken, Engine, ModelInfo, PauseGate, Priority, Worker};
use pith_core::error::{ErrorCode, ErrorPayload};
use pith_core::flows::summary::Source;
use pith_core::history::{self, History};
use pith_core::tasks::rephrase::RephraseMode;
use pith_core::Error;
use serde::Serialize;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

pub type Reply<T> = Result<T, ErrorPayload>;

/// Where the engine is, as the UI sees it.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum EngineStatus {
    Loading,
    Ready { model: ModelInfo, threads: usize },
    Failed { error: ErrorPayload },
}

pub struct AppState<E> {
    status: Mutex<EngineStatus>,
    worker: Mutex<Option<Worker<E>>>,
    history: Reply<Arc<Mutex<History>>>,
    current: Mutex<Option<CancelToken>>,
    /// Documents the user dropped or picked, by token: the window names a
    /// document by its token and never by its path.
    files: Mutex<Vec<Source>>,
    /// The cancel token of the model download in progress.
    download: Mutex<Option<CancelToken>>,
    /// The cancel token of the tuning run in progress (`pith tune`).
    tune: Mutex<Option<CancelToken>>,
    /// The hotkey's own worker: its own context over the same weights.
    rephraser: Mutex<Option<Worker<E>>>,
    /// Held while the hotkey's worker runs: the main worker's jobs wait.
    gate: PauseGate,
    /// Held while the main worker runs a job (a chat reply, a summary):
    /// the hotkey worker's background work (preparing copied text) waits.
    busy: PauseGate,
}

pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A new cancel token in `slot`, or `None` while one is there (a job of
/// that kind runs).
fn begin(slot: &Mutex<Option<CancelToken>>) -> Option<CancelToken> {
    let mut slot = lock(slot);
    if slot.is_some() {
        return None;
    }
    let token = CancelToken::new();
    *slot = Some(token.clone());
    Some(token)
}

fn cancel(slot: &Mutex<Option<CancelToken>>) {
    if let Some(token) = lock(slot).as_ref() {
        token.cancel();
    }
}

impl<E: Engine + 'static> AppState<E> {
    /// Opens the history store in the data folder (recovering a damaged one).
    pub fn open() -> Self {
        let history = history::default_path()
            .ok_or_else(|| Error::History("no data folder; set PITH_DATA_DIR".into()))
            .and_then(|path| History::open(&path))
            .map(|(store, report)| {
                if let Some(aside) = report.moved_aside {
                    tracing::warn!("damaged history moved to {}", aside.display());
                }
                store
            });
        Self::with_history(history)
    }

    pub fn with_history(history: pith_core::Result<History>) -> Self {
        Self {
            status: Mutex::new(EngineStatus::Loading),
            worker: Mutex::new(None),
            history: history
                .map(|h| Arc::new(Mutex::new(h)))
                .map_err(ErrorPayload::from),
            current: Mutex::new(None),
            files: Mutex::new(Vec::new()),
            download: Mutex::new(None),
            tune: Mutex::new(None),
            rephraser: Mutex::new(None),
            gate: PauseGate::default(),
            busy: PauseGate::default(),
        }
    }

    pub fn status(&self) -> EngineStatus {
        lock(&self.status).clone()
    }

    pub fn history(&self) -> Reply<Arc<Mutex<History>>> {
        self.history.clone()
    }

    /// Runs `job` on the inference worker and waits for it (off the main
    /// thread: callers are async commands). The job's cancel token is kept so
    /// `stop` can reach it.
    pub async fn run<R, F>(&self, priority: Priority, job: F) -> Reply<R>
    where
        R: Send + 'static,
        F: FnOnce(&mut E, &CancelToken) -> R + Send + 'static,
    {
        let busy = self.busy.clone();
        let held = move |engine: &mut E, cancel: &CancelToken| {
            let _busy = busy.hold();
            job(engine, cancel)
        };
        self.run_on(&self.worker, &self.current, priority, held)
            .await
    }

    /// Evaluates copied text for the shortcut on the hotkey's worker, as
    /// background work that any request cancels and the main worker's jobs
    /// pause (`flows::prepare`). Returns the job's cancel token; `None`
    /// when the hotkey has no worker of its own (it then shares the main
    /// engine, whose cache holds the conversation). Logs the token count
    /// only, never the text.
    pub fn prepare_copy(&self, text: String, mode: RephraseMode) -> Option<CancelToken> {
        let rephraser = lock(&self.rephraser);
        let ticket = rephraser.as_ref()?.submit(
            Priority::Background,
            move |engine: &mut E, cancel: &CancelToken| match pith_core::flows::prepare::prepare(
                engine, &text, mode, cancel,
            ) {
                Ok(n) => {
                    tracing::info!("copied text prepared for the shortcut ({n} tokens)")
                }
                Err(e) if e.code() == ErrorCode::Cancelled => {}
                Err(e) => tracing::warn!("copied text not prepared ({:?})", e.code()),
            },
        );
        Some(ticket.cancel_token())
    }

    /// A hotkey rewrite: on the rephrase worker (its instructions' state
    /// kept), so it never waits for a chat reply; while it runs, work on
    /// the main worker pauses between tokens. Until the rephrase worker
    /// has loaded, the main worker takes it first in its queue.
    pub async fn run_rephrase<R, F>(&self, slot: &Mutex<Option<CancelToken>>, job: F) -> Reply<R>
    where
        R: Send + 'static,
        F: FnOnce(&mut E, &CancelToken) -> R + Send + 'static,
    {
        let gate = self.gate.clone();
        let held = move |engine: &mut E, cancel: &CancelToken| {
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
        worker: &Mutex<Option<Worker<E>>>,
        slot: &Mutex<Option<CancelToken>>,
        priority: Priority,
        job: F,
    ) -> Reply<R>
    where
        R: Send + 'static,
        F: FnOnce(&mut E, &CancelToken) -> R + Send + 'static,
    {
        let ticket = match lock(worker).as_ref() {
            Some(worker) => worker.submit(priority, job),
            None => return Err(not_ready(&self.status())),
        };
        *lock(slot) = Some(ticket.cancel_token());
        let waited = tauri::async_runtime::spawn_blocking(move || ticket.wait()).await;
        *lock(slot) = None;
        Ok(waited.map_err(|e| Error::Inference(e.to_string()))??)
    }

    /// Keeps a document the user chose; returns its token.
    pub fn keep_file(&self, source: Source) -> u64 {
        let mut files = lock(&self.files);
        files.push(source);
        files.len() as u64 - 1
    }

    /// A kept document.
    pub fn file(&self, token: u64) -> Option<Source> {
        let index = usize::try_from(token).ok()?;
        lock(&self.files).get(index).cloned()
    }

    /// Starts tracking a download; `None` while another one runs.
    pub fn begin_download(&self) -> Option<CancelToken> {
        begin(&self.download)
    }

    pub fn end_download(&self) {
        *lock(&self.download) = None;
    }

    pub fn cancel_download(&self) {
        cancel(&self.download);
    }

    /// Starts tracking a tuning run; `None` while another one runs.
    pub fn begin_tune(&self) -> Option<CancelToken> {
        begin(&self.tune)
    }

    pub fn end_tune(&self) {
        *lock(&self.tune) = None;
    }

    pub fn cancel_tune(&self) {
        cancel(&self.tune);
    }

    pub fn stop(&self) {
        if let Some(token) = lock(&self.current).as_ref() {
            token.cancel();
        }
    }

    /// The engine's new status and worker (`None`: none runs, and the
    /// hotkey's worker goes too).
    pub fn set(&self, status: EngineStatus, worker: Option<Worker<E>>) {
        *lock(&self.status) = status;
        *lock(&self.worker) = worker.map(|w| w.paused_by(self.gate.clone()));
        if lock(&self.worker).is_none() {
            *lock(&self.rephraser) = None;
        }
    }

    pub fn set_rephraser(&self, worker: Worker<E>) {
        *lock(&self.rephraser) = Some(worker.paused_by(self.busy.clone()));
    }
}

fn not_ready(status: &EngineStatus) -> ErrorPayload {
    match status {
        EngineStatus::Failed { error } => error.clone(),
        _ => Error::Inference("the model is still loading".into()).to_payload(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pith_core::engine::{GenerateRequest, Prompt, ScriptedEngine};

    fn ready(state: &AppState<ScriptedEngine>, engine: ScriptedEngine) {
        let info = engine.info().clone();
        let worker = Worker::spawn(move || Ok(engine)).expect("worker");
        state.set(
            EngineStatus::Ready {
                model: info,
                threads: 1,
            },
            Some(worker),
        );
    }

    fn ask(engine: &mut ScriptedEngine, cancel: &CancelToken) -> pith_core::Result<String> {
        let request = GenerateRequest::new(Prompt::Raw("hi".into()), 8);
        Ok(engine.generate(&request, cancel, &mut |_| {})?.text)
    }

    #[test]
    fn jobs_wait_for_the_model_and_then_run_on_it() {
        let state = AppState::with_history(Err(Error::History("none".into())));
        let early = tauri::async_runtime::block_on(state.run(Priority::Normal, ask));
        assert_eq!(early.expect_err("loading").code, ErrorCode::Inference);
        ready(&state, ScriptedEngine::new(512).reply("hello"));
        let reply = tauri::async_runtime::block_on(state.run(Priority::Normal, ask));
        assert_eq!(reply.expect("ran").expect("generated"), "hello");
        assert!(matches!(state.history(), Err(e) if e.code == ErrorCode::History));
    }

    #[test]
    fn a_failed_load_is_the_answer_to_every_job() {
        let state: AppState<ScriptedEngine> =
            AppState::with_history(Err(Error::History("none".into())));
        let failure = Error::NoModelInstalled {
            searched: Vec::new(),
        };
        state.set(
            EngineStatus::Failed {
                error: failure.to_payload(),
            },
            None,
        );
        let r = tauri::async_runtime::block_on(state.run(Priority::Normal, |_, _| ()));
        assert_eq!(r.expect_err("failed").code, ErrorCode::ModelNotFound);
    }

    #[test]
    fn copied_text_is_prepared_on_the_hotkeys_worker_and_a_key_press_cancels_it() {
        let state = AppState::with_history(Err(Error::History("none".into())));
        ready(&state, ScriptedEngine::new(512));
        assert!(
            state
                .prepare_copy("some text".into(), RephraseMode::Proofread)
                .is_none(),
            "without a worker of its own the hotkey prepares nothing"
        );
        let mut hotkey = ScriptedEngine::new(512).reply("Some text.");
        hotkey.slow_prepare = true;
        state.set_rephraser(Worker::spawn(move || Ok(hotkey)).expect("worker"));
        let preparing = state
            .prepare_copy("some text".into(), RephraseMode::Proofread)
            .expect("prepared on the hotkey's worker");
        let slot = Mutex::new(None);
        let prepared = tauri::async_runtime::block_on(
            state.run_rephrase(&slot, |e: &mut ScriptedEngine, _| e.prepared.len()),
        );
        assert!(preparing.is_cancelled(), "the key press cancelled it");
        assert!(prepared.expect("ran") <= 1);
    }

    #[test]
    fn files_are_named_by_token_only() {
        let state: AppState<ScriptedEngine> =
            AppState::with_history(Err(Error::History("none".into())));
        let a = state.keep_file(Source::File("/tmp/a.pdf".into()));
        let b = state.keep_file(Source::Bytes {
            bytes: b"text".to_vec(),
            name: "the clipboard's text".into(),
        });
        assert_ne!(a, b);
        assert!(matches!(state.file(a), Some(Source::File(p)) if p.ends_with("a.pdf")));
        assert!(state.file(99).is_none());
    }
}
