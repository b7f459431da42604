//! Documents reach the app two ways, a drop on the window and the "Open
//! file…" dialog; both are handled here in Rust. The webview only ever sees
//! a file's name and a token for it, never reads a path, and can only ask
//! to summarize a file the user chose.

use crate::engine::App;
use crate::state::Reply;
use pith_core::documents::Limits;
use pith_core::engine::Priority;
use pith_core::flows::summary::{self, Source};
use pith_core::history::ConversationId;
use pith_core::tasks::document::Stage;
use pith_core::tasks::summarize::SummaryLength;
use pith_core::Error;
use serde::Serialize;
use std::path::PathBuf;
use tauri::ipc::Channel;
use tauri::{AppHandle, DragDropEvent, Emitter, Manager, Runtime};
use tauri_plugin_dialog::DialogExt;

/// A file the user chose, as the window knows it.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct ChosenFile {
    pub token: u64,
    pub name: String,
}

/// What the window hears about a drag over it.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum DropEvent {
    /// Files are dragged over the window.
    Hover,
    /// The drag left without a drop.
    Left,
    /// A file was dropped: summarize it.
    Dropped { file: ChosenFile },
    /// Something was dropped that cannot be summarized.
    Refused { message: String },
}

pub const DROP_EVENT: &str = "file-drop";

fn choose<R: Runtime>(app: &AppHandle<R>, path: PathBuf) -> ChosenFile {
    let name = summary::file_name(&path);
    ChosenFile {
        token: app.state::<App>().keep_file(Source::File(path)),
        name,
    }
}

/// Tells the window about a drag; the dropped path stays here.
pub fn on_drag_drop<R: Runtime>(app: &AppHandle<R>, event: &DragDropEvent) {
    let message = match event {
        DragDropEvent::Enter { .. } => DropEvent::Hover,
        DragDropEvent::Leave => DropEvent::Left,
        DragDropEvent::Drop { paths, .. } => match paths.as_slice() {
            [] => DropEvent::Left,
            [one] => DropEvent::Dropped {
                file: choose(app, one.clone()),
            },
            many => DropEvent::Refused {
                message: format!(
                    "{} files were dropped; drop one document at a time",
                    many.len()
                ),
            },
        },
        _ => return,
    };
    let _ = app.emit(DROP_EVENT, message);
}

/// The formats the open dialog offers first.
pub const DOCUMENT_EXTENSIONS: &[&str] = &["pdf", "docx", "html", "htm", "md", "markdown", "txt"];

/// "Open file…": the system's file dialog; `None` when the user cancels.
#[tauri::command]
pub async fn open_file(app: AppHandle) -> Reply<Option<ChosenFile>> {
    let dialog = app
        .dialog()
        .file()
        .set_title("Summarize a document")
        .add_filter("Documents", DOCUMENT_EXTENSIONS)
        .add_filter("All files", &["*"]);
    let picked = crate::dialogs::pick(dialog).await?;
    Ok(picked.map(|path| choose(&app, path)))
}

/// What the window hears while a document is summarized.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum SummaryEvent {
    /// The text is being taken out of the file.
    Reading,
    Progress {
        stage: Stage,
        parts_done: usize,
        parts: usize,
        eta_s: Option<f64>,
    },
}

#[derive(Debug, Serialize, ts_rs::TS)]
pub struct SummaryDone {
    pub conversation_id: ConversationId,
    pub coverage: String,
}

/// Reads the chosen document, summarizes it part by part (progress through
/// `on_event`; `chat_stop` cancels), and saves it as a conversation.
#[tauri::command]
pub async fn summarize_file(
    state: tauri::State<'_, App>,
    token: u64,
    length: Option<SummaryLength>,
    on_event: Channel<SummaryEvent>,
) -> Reply<SummaryDone> {
    let source = state.file(token).ok_or_else(|| {
        Error::InvalidInput("that file is no longer available; drop it again".into())
    })?;
    let store = state.history()?;
    let _ = on_event.send(SummaryEvent::Reading);
    let read =
        tauri::async_runtime::spawn_blocking(move || summary::read(source, &Limits::default()))
            .await
            .map_err(|e| Error::Inference(format!("reading the file failed: {e}")))??;
    let length = length.unwrap_or(SummaryLength::Short);
    let saved = state
        .run(Priority::Normal, move |engine, cancel| {
            summary::summarize_and_save(engine, Some(&store), &read, length, cancel, &mut |p| {
                let _ = on_event.send(SummaryEvent::Progress {
                    stage: p.stage,
                    parts_done: p.parts_done,
                    parts: p.parts,
                    eta_s: p.eta_s,
                });
            })
        })
        .await??;
    Ok(SummaryDone {
        conversation_id: saved.conversation?,
        coverage: saved.summary.coverage,
    })
}
