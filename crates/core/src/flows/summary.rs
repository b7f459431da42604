//! Summarize-and-save: a document read within its bounds, summarized part
//! by part, and kept as a conversation to go on asking about. The command
//! line and the window (a drop, "Open file…", "Summarize instead") run
//! exactly this.

use crate::documents::{self, Document, Limits};
use crate::engine::{CancelToken, Engine};
use crate::error::Result;
use crate::history::{ConversationId, History};
use crate::tasks::document::{summarize_document, DocumentSummary, Options, Progress};
use crate::tasks::summarize::SummaryLength;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

/// Where a document comes from.
#[derive(Debug, Clone)]
pub enum Source {
    File(PathBuf),
    /// Bytes already in memory (standard input, the clipboard), with the
    /// name to show for them.
    Bytes {
        bytes: Vec<u8>,
        name: String,
    },
}

/// A document read from its source, with what the saved conversation
/// says about it.
#[derive(Debug, Clone)]
pub struct Read {
    pub doc: Document,
    pub name: String,
    pub bytes: u64,
}

/// Extracts the text (bounded, on its own thread): do this before the
/// model is asked, so a document that cannot be read fails at once.
pub fn read(source: Source, limits: &Limits) -> Result<Read> {
    match source {
        Source::File(path) => {
            let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            let doc = documents::extract_file(&path, limits)?;
            Ok(Read {
                doc,
                name: file_name(&path),
                bytes,
            })
        }
        Source::Bytes { bytes, name } => {
            let size = bytes.len() as u64;
            Ok(Read {
                doc: documents::extract(bytes, limits)?,
                name,
                bytes: size,
            })
        }
    }
}

/// A file's name as shown to people.
pub fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// The model's name as the history keeps it: its file's stem.
pub fn model_name(engine: &dyn Engine) -> String {
    let path = Path::new(&engine.info().path);
    path.file_stem().map_or_else(
        || engine.info().name.clone(),
        |s| s.to_string_lossy().into_owned(),
    )
}

#[derive(Debug)]
pub struct Saved {
    pub summary: DocumentSummary,
    /// The conversation it was saved as, or why it was not (the summary
    /// is still given: the work is not thrown away for a full disk).
    pub conversation: Result<ConversationId>,
}

/// Summarizes `read` at `length` and saves it in `history` (`None`: the
/// history could not be opened; the caller has said why, and the summary
/// is still given).
pub fn summarize_and_save(
    engine: &mut dyn Engine,
    history: Option<&Mutex<History>>,
    read: &Read,
    length: SummaryLength,
    cancel: &CancelToken,
    on_progress: &mut dyn FnMut(&Progress),
) -> Result<Saved> {
    let options = Options {
        length: Some(length),
        ..Options::default()
    };
    let summary = summarize_document(engine, &read.doc, &options, cancel, on_progress)?;
    let model = model_name(engine);
    let saved = summary.to_saved(&read.doc, &read.name, read.bytes, Some(&model));
    let conversation = match history {
        Some(h) => h
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .save_document_summary(&saved),
        None => Err(crate::Error::History("the history is not open".into())),
    };
    Ok(Saved {
        summary,
        conversation,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::ScriptedEngine;
    use crate::error::ErrorCode;

    fn history() -> (tempfile::TempDir, Mutex<History>) {
        let dir = tempfile::tempdir().expect("temp dir");
        let (h, _) = History::open(&dir.path().join("h.sqlite3")).expect("opens");
        (dir, Mutex::new(h))
    }

    #[test]
    fn a_summarized_document_is_saved_as_a_conversation_named_after_it() {
        let (_dir, h) = history();
        let read = read(
            Source::Bytes {
                bytes: b"The train leaves at noon. It reaches Lyon by three.".to_vec(),
                name: "notes.txt".into(),
            },
            &Limits::default(),
        )
        .expect("reads");
        let mut engine = ScriptedEngine::new(4096).reply("The train leaves at noon.");
        let saved = summarize_and_save(
            &mut engine,
            Some(&h),
            &read,
            SummaryLength::Short,
            &CancelToken::new(),
            &mut |_| {},
        )
        .expect("summarized");
        let id = saved.conversation.expect("saved");
        let h = h.lock().expect("lock");
        let c = h.conversation(id).expect("exists");
        assert_eq!(c.title, "Summary of notes.txt");
        let messages = h.messages(id).expect("messages");
        assert!(messages[1].text.starts_with("The train leaves at noon."));
    }

    #[test]
    fn a_document_that_cannot_be_read_fails_before_the_model_runs() {
        let err = read(
            Source::Bytes {
                bytes: b"%PDF-1.4 broken".to_vec(),
                name: "x.pdf".into(),
            },
            &Limits::default(),
        )
        .expect_err("unreadable");
        assert_eq!(err.code(), ErrorCode::UnsupportedDocument);
        let missing = read(
            Source::File("/nonexistent/x.pdf".into()),
            &Limits::default(),
        );
        assert!(missing.is_err());
    }
}
