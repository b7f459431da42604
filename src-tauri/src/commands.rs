//! The main window's commands about conversations and the machine (the
//! list of every command is `commands.json`). Each takes state, makes one
//! core call, and maps the error to `{code, message}`.

use crate::engine::App;
use crate::state::{EngineStatus, Reply};
use pith_core::engine::state::StateStore;
use pith_core::engine::Priority;
use pith_core::engine::Sampling;
use pith_core::flows::machine::{machine_fit as fit, MachineFit};
use pith_core::history::{
    Conversation, ConversationId, ExportFormat, Message, MessageId, SearchHit,
};
use pith_core::models::catalog::Catalog;
use pith_core::models::store;
use pith_core::tasks::conversation::{chat_turn, UNTITLED};
use pith_core::Error;
use serde::Serialize;
use std::sync::PoisonError;
use tauri::ipc::Channel;
use tauri_plugin_dialog::DialogExt;

#[derive(Debug, Serialize, ts_rs::TS)]
pub struct AppStatus {
    pub version: &'static str,
    pub engine: EngineStatus,
}

#[tauri::command]
pub fn app_status(state: tauri::State<'_, App>) -> AppStatus {
    AppStatus {
        version: env!("CARGO_PKG_VERSION"),
        engine: state.status(),
    }
}

#[tauri::command]
pub fn conversations(state: tauri::State<'_, App>) -> Reply<Vec<Conversation>> {
    let store = state.history()?;
    let list = store
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .conversations();
    Ok(list?)
}

#[tauri::command]
pub fn conversation_messages(state: tauri::State<'_, App>, id: i64) -> Reply<Vec<Message>> {
    let store = state.history()?;
    let messages = store
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .messages(ConversationId(id));
    Ok(messages?)
}

/// Messages matching every word of `query` (full-text), best first.
#[tauri::command]
pub fn search_conversations(state: tauri::State<'_, App>, query: String) -> Reply<Vec<SearchHit>> {
    let store = state.history()?;
    let hits = store
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .search(&query, 50);
    Ok(hits?)
}

/// Deletes a conversation, its messages and its saved model state.
#[tauri::command]
pub fn delete_conversation(state: tauri::State<'_, App>, id: i64) -> Reply<()> {
    let store = state.history()?;
    let mut history = store.lock().unwrap_or_else(PoisonError::into_inner);
    let states = StateStore::in_data_dir();
    Ok(pith_core::flows::conversations::delete(
        &mut history,
        states.as_ref(),
        ConversationId(id),
    )?)
}

/// What the UI hears while a reply is written.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum ChatEvent {
    Started { conversation_id: ConversationId },
    Piece { text: String },
}

#[derive(Debug, Serialize, ts_rs::TS)]
pub struct ChatSent {
    pub conversation_id: ConversationId,
    pub reply: String,
}

/// Sends `text` in `conversation` (a new one when absent); the reply streams
/// through `on_event` and is saved as it grows. `replace_from` first deletes
/// that message and what follows it (an edited question, a regenerated
/// reply); `vary` samples instead of taking the likeliest words, so that a
/// regenerated reply differs.
#[tauri::command]
pub async fn chat_send(
    state: tauri::State<'_, App>,
    conversation: Option<i64>,
    text: String,
    on_event: Channel<ChatEvent>,
    replace_from: Option<i64>,
    vary: Option<bool>,
) -> Reply<ChatSent> {
    let store = state.history()?;
    let id = {
        let mut h = store.lock().unwrap_or_else(PoisonError::into_inner);
        match (conversation, replace_from) {
            (Some(_), Some(from)) => h.delete_from(MessageId(from)),
            (Some(id), None) => Ok(ConversationId(id)),
            (None, _) => h.create_conversation(UNTITLED, None),
        }?
    };
    let sampling = vary.unwrap_or(false).then(Sampling::varied);
    let _ = on_event.send(ChatEvent::Started {
        conversation_id: id,
    });
    let turn = state
        .run(Priority::Normal, move |engine, cancel| {
            chat_turn(engine, &store, id, &text, sampling, cancel, &mut |piece| {
                let _ = on_event.send(ChatEvent::Piece {
                    text: piece.to_string(),
                });
            })
        })
        .await??;
    Ok(ChatSent {
        conversation_id: id,
        reply: turn.reply,
    })
}

/// Stops the reply being written; what was written so far is kept.
#[tauri::command]
pub fn chat_stop(state: tauri::State<'_, App>) {
    state.stop();
}

/// The machine, the planner's pick per task, and the installed models, for
/// the model panel. Measuring bandwidth takes about half a second, so it
/// runs off the main thread.
#[tauri::command]
pub async fn machine_fit() -> Reply<MachineFit> {
    let report = tauri::async_runtime::spawn_blocking(|| {
        let hardware = pith_llama::machine_profile(store::install_dir().ok().as_deref());
        let installed = store::list_installed(&pith_core::models::search_dirs());
        fit(
            hardware,
            &Catalog::builtin(),
            &pith_llama::preferences(),
            installed,
        )
    })
    .await
    .map_err(|e| Error::Inference(format!("the hardware probe failed: {e}")))?;
    Ok(report)
}

/// Saves a conversation as a Markdown file where the user chooses; returns
/// the file's name, or `None` when the dialog is cancelled.
#[tauri::command]
pub async fn export_conversation(
    app: tauri::AppHandle,
    state: tauri::State<'_, App>,
    id: i64,
) -> Reply<Option<String>> {
    let store = state.history()?;
    let (markdown, title) = {
        let h = store.lock().unwrap_or_else(PoisonError::into_inner);
        let title = h.conversation(ConversationId(id))?.title;
        let text = h.export_to(ConversationId(id), ExportFormat::Markdown);
        (text?, title)
    };
    let dialog = app
        .dialog()
        .file()
        .set_title("Export conversation")
        .set_file_name(export_file_name(&title))
        .add_filter("Markdown", &["md"]);
    Ok(crate::dialogs::save(dialog, markdown).await?)
}

/// A file name from a conversation title: letters, digits, spaces and
/// dashes kept, at most 60 characters.
fn export_file_name(title: &str) -> String {
    let kept: String = title
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == ' ' || c == '-' {
                c
            } else {
                ' '
            }
        })
        .collect();
    let words: Vec<&str> = kept.split_whitespace().collect();
    let base: String = words.join(" ").chars().take(60).collect();
    format!(
        "{}.md",
        if base.is_empty() {
            "conversation"
        } else {
            base.trim_end()
        }
    )
}

#[cfg(test)]
mod tests {
    use super::export_file_name;

    #[test]
    fn export_names_are_plain_file_names() {
        assert_eq!(
            export_file_name("Summary of report.pdf"),
            "Summary of report pdf.md"
        );
        assert_eq!(export_file_name("a/b\\c: d?"), "a b c d.md");
        assert_eq!(export_file_name("…"), "conversation.md");
        assert_eq!(export_file_name(&"x".repeat(100)).len(), 63);
    }
}
