//! The model panel's actions: download a catalog model (progress through a
//! channel, cancellable, resumable), import a GGUF file through the system
//! dialog, and switch the running model. Files are chosen in Rust; the
//! window only names catalog ids and installed models.

use crate::engine::{load_engine, App};
use crate::state::{EngineStatus, Reply};
use pith_core::hardware;
use pith_core::models::catalog::Catalog;
use pith_core::models::{download, search_dirs, store};
use pith_core::Error;
use serde::Serialize;
use std::path::{Path, PathBuf};
use tauri::ipc::Channel;
use tauri::{AppHandle, Manager};
use tauri_plugin_dialog::DialogExt;

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct DownloadProgress {
    pub downloaded: u64,
    pub total: Option<u64>,
}

/// Downloads catalog model `id` into the models folder; returns its path.
/// When no model is running yet (first run), the new one is loaded.
#[tauri::command]
pub async fn download_model(
    app: AppHandle,
    id: String,
    on_progress: Channel<DownloadProgress>,
) -> Reply<String> {
    let catalog = Catalog::builtin();
    let entry = catalog
        .get(&id)
        .ok_or_else(|| Error::NotFound(format!("catalog model {id:?}")))?
        .clone();
    let dir = store::install_dir()?;
    let request = download::catalog_request(&entry, &dir)?;
    let state = app.state::<App>();
    let cancel = state.begin_download().ok_or_else(|| {
        Error::InvalidInput("another download is running; wait for it or cancel it".into())
    })?;
    let mut last = 0u64;
    let result = tauri::async_runtime::spawn_blocking(move || {
        download::download(&request, &cancel, &hardware::free_disk_bytes, &mut |p| {
            // About two hundred updates for a whole file, not one per chunk.
            let step = p.total.unwrap_or(0) / 200;
            if p.downloaded >= last + step || Some(p.downloaded) == p.total {
                last = p.downloaded;
                let _ = on_progress.send(DownloadProgress {
                    downloaded: p.downloaded,
                    total: p.total,
                });
            }
        })
    })
    .await;
    state.end_download();
    let path = result.map_err(|e| Error::Download(format!("the download stopped: {e}")))??;
    load_if_idle(&app, &path);
    Ok(path.display().to_string())
}

/// Stops the download; its partial file is kept so the next try resumes.
#[tauri::command]
pub fn cancel_download(state: tauri::State<'_, App>) {
    state.cancel_download();
}

/// "Import a GGUF file…": the system's dialog, then a checked copy into the
/// models folder. `None` when the dialog is cancelled.
#[tauri::command]
pub async fn import_model(app: AppHandle) -> Reply<Option<String>> {
    let dialog = app
        .dialog()
        .file()
        .set_title("Import a model")
        .add_filter("GGUF models", &["gguf"]);
    let imported = tauri::async_runtime::spawn_blocking(move || -> Reply<Option<PathBuf>> {
        let Some(picked) = dialog.blocking_pick_file() else {
            return Ok(None);
        };
        let src = picked
            .into_path()
            .map_err(|e| Error::InvalidInput(format!("that file cannot be opened: {e}")))?;
        let dir = store::install_dir()?;
        store::import(&src, &dir)
            .map(Some)
            .map_err(|e| e.to_payload())
    })
    .await
    .map_err(|e| Error::Inference(format!("the file dialog failed: {e}")))??;
    if let Some(path) = &imported {
        load_if_idle(&app, path);
    }
    Ok(imported.map(|p| p.display().to_string()))
}

/// Loads `path` when no model is running (the first-run screen).
fn load_if_idle(app: &AppHandle, path: &Path) {
    if matches!(app.state::<App>().status(), EngineStatus::Failed { .. }) {
        let _ = crate::settings::update(|s| s.app.model = Some(path.to_path_buf()));
        load_engine(app.clone(), Some(path.to_path_buf()));
    }
}

/// Switches to an installed model and remembers the choice.
#[tauri::command]
pub fn use_model(app: AppHandle, path: String) -> Reply<()> {
    let chosen = store::list_installed(&search_dirs())
        .into_iter()
        .find(|m| m.path == Path::new(&path))
        .ok_or_else(|| {
            Error::NotFound(format!("no installed model at {path}; refresh the list"))
        })?;
    if let Some(problem) = chosen.problem {
        return Err(Error::InvalidModel {
            path: chosen.path,
            reason: problem,
        }
        .to_payload());
    }
    crate::settings::update(|s| s.app.model = Some(chosen.path.clone()))?;
    load_engine(app, Some(chosen.path));
    Ok(())
}
