//! Conversation history in SQLite: nothing lost, searchable, exportable.
//!
//! - The user's message is committed before generation starts; the reply is
//!   saved while it streams (see [`StreamSaver`]) and marked complete at the
//!   end. Replies still marked streaming when the store is opened were cut
//!   off by a crash: they are marked interrupted, and shown that way.
//! - WAL journal with `synchronous=FULL`: a committed message survives a
//!   killed process and a power cut.
//! - A corrupt file is moved aside with its `-wal` and `-shm` files and a
//!   fresh store is started; the caller is told where the old one went. A
//!   store written by a newer Pith is refused, never touched.
//! - Full-text search over every message (FTS5, kept in step by triggers).

mod agent;
mod export;
mod schema;
mod store;

pub use agent::{AgentRun, AgentStep, RunStatus, StepStatus};
pub use export::{ConversationExport, ExportFormat};
pub use schema::MIGRATIONS;
pub use store::{
    title_from, Conversation, ConversationId, History, Message, MessageId, MessageStats,
    MessageStatus, OpenReport, Rewrite, SavedSummary, SearchHit, StreamSaver,
};

/// The database file inside the data folder.
pub fn default_path() -> Option<std::path::PathBuf> {
    crate::paths::data_dir().map(|d| d.join("history.sqlite3"))
}
