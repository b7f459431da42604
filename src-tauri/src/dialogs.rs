//! The system's file dialogs, waited for off the async runtime: the file
//! the person picks, or `None` when they cancel; a save dialog writes the
//! text where they choose. Callers give the dialog its title and filters.

use pith_core::Error;
use std::path::PathBuf;
use tauri::Runtime;
use tauri_plugin_dialog::FileDialogBuilder;

/// The file picked in `dialog`.
pub async fn pick<R: Runtime>(dialog: FileDialogBuilder<R>) -> Result<Option<PathBuf>, Error> {
    let picked = tauri::async_runtime::spawn_blocking(move || dialog.blocking_pick_file())
        .await
        .map_err(|e| Error::Inference(format!("the file dialog failed: {e}")))?;
    picked
        .map(|p| {
            p.into_path()
                .map_err(|e| Error::InvalidInput(format!("that file cannot be opened: {e}")))
        })
        .transpose()
}

/// Writes `text` where the person chooses in `dialog`; the path written.
pub async fn save<R: Runtime>(
    dialog: FileDialogBuilder<R>,
    text: String,
) -> Result<Option<String>, Error> {
    let chosen = tauri::async_runtime::spawn_blocking(move || dialog.blocking_save_file())
        .await
        .map_err(|e| Error::Inference(format!("the file dialog failed: {e}")))?;
    let Some(chosen) = chosen else {
        return Ok(None);
    };
    let path = chosen
        .into_path()
        .map_err(|e| Error::InvalidInput(format!("cannot save there: {e}")))?;
    std::fs::write(&path, text)
        .map_err(|e| Error::io(format!("could not write {}", path.display()), e))?;
    Ok(Some(path.display().to_string()))
}
