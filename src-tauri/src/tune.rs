//! Specializing the model from the window: what Pith learned from accepted
//! rewrites (listed, cleared) and `pith tune` for a mode, with progress and
//! cancel. The tuning run loads its own engine off the main thread, so chat
//! and the hotkey keep working meanwhile; when an adapter is installed the
//! model is loaded again so it answers with it.

use crate::engine::{installed, load_engine, App};
use crate::state::{lock, Reply};
use pith_core::engine::Engine;
use pith_core::flows::tune::{self, Source, TuneEvent, TuneOptions, TuneReport};
use pith_core::history::Rewrite;
use pith_core::models::store;
use pith_core::tasks::rephrase::RephraseMode;
use pith_core::Error;
use pith_llama::tune::LlamaTuner;
use pith_llama::{LlamaEngine, LoadOptions};
use serde::Serialize;
use tauri::ipc::Channel;
use tauri::{AppHandle, Manager};

/// The accepted rewrites new requests learn from.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct Learned {
    pub count: usize,
    /// The latest, newest first.
    pub latest: Vec<Rewrite>,
}

#[tauri::command]
pub fn learned_list(state: tauri::State<'_, App>) -> Reply<Learned> {
    let store = state.history()?;
    let h = lock(&store);
    Ok(Learned {
        count: h.learned_count()?,
        latest: h.learned(20)?,
    })
}

/// Forgets every accepted rewrite as an example (the history keeps them).
#[tauri::command]
pub fn learned_clear(state: tauri::State<'_, App>) -> Reply<usize> {
    let store = state.history()?;
    let forgotten = lock(&store).forget_learned()?;
    Ok(forgotten)
}

/// Tunes the running model for `mode`: by rule for proofread, else with the
/// largest larger installed model as the teacher.
#[tauri::command]
pub async fn tune_run(
    app: AppHandle,
    mode: RephraseMode,
    on_event: Channel<TuneEvent>,
) -> Reply<TuneReport> {
    let state = app.state::<App>();
    let chosen = crate::settings::load()?.app.model.filter(|p| p.is_file());
    let model = pith_core::models::resolve_model(chosen.as_deref())?;
    let cancel = state.begin_tune().ok_or_else(|| {
        Error::InvalidInput("a tuning run is going; wait for it or cancel it".into())
    })?;
    let path = model.clone();
    let result = tauri::async_runtime::spawn_blocking(move || -> pith_core::Result<TuneReport> {
        let install = store::install_dir()?;
        let options = LoadOptions::default();
        let mut engine = LlamaEngine::load(&path, &options)?;
        let source = if mode == RephraseMode::Proofread {
            Source::Rules
        } else {
            let teacher = tune::pick_teacher(engine.info().parameters, &installed())?;
            Source::Teacher(Box::new(teacher))
        };
        let opts = TuneOptions::new(mode, source);
        let mut tuner = LlamaTuner {
            model: path.clone(),
            options,
        };
        let free = pith_core::hardware::probe_memory().usable_ram_bytes();
        tune::tune(
            &mut engine,
            &path,
            &install,
            &opts,
            &mut tuner,
            free,
            &cancel,
            &mut |e| {
                let _ = on_event.send(e);
            },
        )
    })
    .await;
    state.end_tune();
    let report = result.map_err(|e| Error::Inference(format!("the tuning run stopped: {e}")))??;
    // The adapter loads with the model.
    load_engine(app.clone(), Some(model));
    Ok(report)
}

#[tauri::command]
pub fn tune_cancel(state: tauri::State<'_, App>) {
    state.cancel_tune();
}
