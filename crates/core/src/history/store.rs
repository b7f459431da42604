//! The store itself: opening (with recovery), conversations, messages,
//! search, rewrites and document summaries.

use super::schema::{latest_version, MIGRATIONS};
use crate::engine::{Generation, Role};
use crate::error::{Error, Result};
use crate::tasks::rephrase::Example;
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(transparent)]
pub struct ConversationId(pub i64);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(transparent)]
pub struct MessageId(pub i64);

impl std::fmt::Display for ConversationId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum MessageStatus {
    Streaming,
    Complete,
    Interrupted,
    Error,
}

impl MessageStatus {
    fn as_str(self) -> &'static str {
        match self {
            MessageStatus::Streaming => "streaming",
            MessageStatus::Complete => "complete",
            MessageStatus::Interrupted => "interrupted",
            MessageStatus::Error => "error",
        }
    }
    fn parse(s: &str) -> Self {
        match s {
            "streaming" => MessageStatus::Streaming,
            "complete" => MessageStatus::Complete,
            "interrupted" => MessageStatus::Interrupted,
            _ => MessageStatus::Error,
        }
    }
}

fn parse_role(s: &str) -> Role {
    match s {
        "system" => Role::System,
        "assistant" => Role::Assistant,
        _ => Role::User,
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct Conversation {
    pub id: ConversationId,
    pub title: String,
    pub model: Option<String>,
    /// Unix milliseconds.
    pub created_at: i64,
    pub updated_at: i64,
    pub pinned: bool,
    /// Running summary of turns folded out of the context window.
    pub summary: Option<String>,
    pub summary_through: Option<MessageId>,
    /// The document this conversation summarizes (its file name), if any:
    /// its first turn is the summary, not a question to ask again.
    #[serde(default)]
    pub source: Option<String>,
}

/// The longest accepted rewrite (either side, in characters) that joins a
/// prompt as an example.
pub const EXAMPLE_MAX_CHARS: usize = 600;

/// One rewrite from the hotkey or the command line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Rewrite {
    pub id: i64,
    pub original: String,
    pub result: String,
    pub mode: String,
    /// The result went to the clipboard.
    pub accepted: bool,
    /// The user changed the result before accepting it.
    #[serde(default)]
    pub edited: bool,
    pub model: Option<String>,
    /// Unix milliseconds.
    pub created_at: i64,
}

/// Figures of one generated reply.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct MessageStats {
    pub prompt_tokens: Option<i64>,
    pub generated_tokens: Option<i64>,
    pub ttft_ms: Option<i64>,
    pub total_ms: Option<i64>,
}

impl From<&Generation> for MessageStats {
    fn from(g: &Generation) -> Self {
        Self {
            prompt_tokens: Some(g.prompt_tokens as i64),
            generated_tokens: Some(g.generated_tokens as i64),
            ttft_ms: Some((g.ttft_s * 1000.0).round() as i64),
            total_ms: Some((g.total_s * 1000.0).round() as i64),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct Message {
    pub id: MessageId,
    pub conversation_id: ConversationId,
    pub role: Role,
    pub text: String,
    pub model: Option<String>,
    pub status: MessageStatus,
    #[serde(flatten)]
    pub stats: MessageStats,
    pub created_at: i64,
}

/// One search result; `snippet` marks the matched words with « and ».
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct SearchHit {
    pub conversation_id: ConversationId,
    pub conversation_title: String,
    pub message_id: MessageId,
    pub role: Role,
    pub snippet: String,
}

/// What happened while opening the store.
/// A document summary to store as a conversation.
#[derive(Debug, Clone, PartialEq)]
pub struct SavedSummary {
    pub title: String,
    /// The user's turn: what was asked for.
    pub request: String,
    /// The assistant's turn: the summary and its coverage line.
    pub reply: String,
    pub model: Option<String>,
    pub source_name: String,
    pub source_bytes: u64,
    pub coverage: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct OpenReport {
    /// Where a damaged database was moved; a fresh one was started.
    pub moved_aside: Option<PathBuf>,
    /// Replies found still streaming (cut off by a crash), now interrupted.
    pub interrupted: usize,
}

pub struct History {
    pub(super) conn: Connection,
}

pub(super) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

pub(super) fn db_err(e: rusqlite::Error) -> Error {
    Error::History(e.to_string())
}

/// A statement on conversation `id` that changed no row: it does not exist.
fn found(changed: usize, id: ConversationId) -> Result<()> {
    if changed == 0 {
        return Err(Error::NotFound(format!("conversation {id}")));
    }
    Ok(())
}

/// A conversation title from its first message: the first line, at most
/// eight words and 60 characters.
pub fn title_from(text: &str) -> String {
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    let words: Vec<&str> = line.split_whitespace().collect();
    let mut title = words.iter().take(8).copied().collect::<Vec<_>>().join(" ");
    let mut cut = words.len() > 8;
    if title.chars().count() > 60 {
        title = title.chars().take(59).collect();
        cut = true;
    }
    let title = title
        .trim_end_matches(|c: char| c.is_ascii_punctuation() && c != '?')
        .to_string();
    match (title.is_empty(), cut) {
        (true, _) => "New conversation".to_string(),
        (false, true) => format!("{title}…"),
        (false, false) => title,
    }
}

/// Turns what a person types into an FTS5 query: every word must appear as
/// the start of a word ("museum" finds "museums"); quotes keep operators and
/// symbols literal.
/// The most words, and bytes, a search may have.
pub const MAX_SEARCH_WORDS: usize = 32;
const MAX_SEARCH_BYTES: usize = 1024;

fn fts_query(input: &str) -> Option<String> {
    let terms: Vec<String> = input
        .split_whitespace()
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()))
        .filter(|w| !w.is_empty())
        .map(|w| format!("\"{}\"", w.replace('"', "\"\"")))
        .collect();
    if terms.is_empty() {
        return None;
    }
    Some(
        terms
            .iter()
            .map(|t| format!("{t}*"))
            .collect::<Vec<_>>()
            .join(" "),
    )
}

impl History {
    /// Opens (creating if needed) the store at `path`, recovering from a
    /// damaged file and marking replies cut off by a crash as interrupted.
    pub fn open(path: &Path) -> Result<(Self, OpenReport)> {
        if let Some(dir) = path.parent() {
            crate::paths::private_dir(dir)
                .map_err(|e| Error::io(format!("could not create {}", dir.display()), e))?;
        }
        let mut report = OpenReport::default();
        // A file that is not SQLite at all is moved aside before SQLite
        // touches it (SQLite would discard a -wal beside it).
        if !looks_like_sqlite(path) {
            report.moved_aside = Some(move_aside(path)?);
        }
        let conn = match Self::connect(path) {
            Ok(conn) => conn,
            Err(Connect::Damaged(_)) => {
                report.moved_aside = Some(move_aside(path)?);
                Self::connect(path).map_err(Connect::into_error)?
            }
            Err(Connect::Failed(e)) => return Err(e),
        };
        crate::paths::private_file(path)
            .map_err(|e| Error::io(format!("could not protect {}", path.display()), e))?;
        let mut history = Self { conn };
        report.interrupted = history.mark_interrupted()?;
        Ok((history, report))
    }

    /// A store in memory, for tests and previews.
    pub fn open_in_memory() -> Result<Self> {
        let mut conn = Connection::open_in_memory().map_err(db_err)?;
        MIGRATIONS
            .to_latest(&mut conn)
            .map_err(|e| Error::History(e.to_string()))?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(db_err)?;
        Ok(Self { conn })
    }

    fn connect(path: &Path) -> std::result::Result<Connection, Connect> {
        let mut conn = Connection::open(path).map_err(Connect::classify)?;
        conn.busy_timeout(Duration::from_secs(5))
            .map_err(Connect::classify)?;
        // The first read fails with "file is not a database" on a damaged file.
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(Connect::classify)?;
        if version > latest_version() {
            return Err(Connect::Failed(Error::DatabaseTooNew {
                path: path.to_path_buf(),
                found: version,
                supported: latest_version(),
            }));
        }
        let check: String = conn
            .pragma_query_value(None, "quick_check", |r| r.get(0))
            .map_err(Connect::classify)?;
        if check != "ok" {
            return Err(Connect::Damaged(format!("integrity check failed: {check}")));
        }
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(Connect::classify)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(Connect::classify)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(Connect::classify)?;
        MIGRATIONS.to_latest(&mut conn).map_err(|e| {
            Connect::Failed(Error::History(format!(
                "could not update the database: {e}"
            )))
        })?;
        Ok(conn)
    }

    fn mark_interrupted(&mut self) -> Result<usize> {
        self.conn
            .execute(
                "UPDATE messages SET status = 'interrupted', updated_at = ?1 WHERE status = 'streaming'",
                params![now_ms()],
            )
            .map_err(db_err)
    }

    pub fn create_conversation(
        &mut self,
        title: &str,
        model: Option<&str>,
    ) -> Result<ConversationId> {
        let now = now_ms();
        self.conn
            .execute(
                "INSERT INTO conversations (title, model, created_at, updated_at) VALUES (?1, ?2, ?3, ?3)",
                params![title, model, now],
            )
            .map_err(db_err)?;
        Ok(ConversationId(self.conn.last_insert_rowid()))
    }

    /// Conversations, pinned first, then most recently updated.
    pub fn conversations(&self) -> Result<Vec<Conversation>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, title, model, created_at, updated_at, pinned, summary, summary_through,
                   (SELECT source_name FROM document_summaries d WHERE d.conversation_id = conversations.id)
                 FROM conversations ORDER BY pinned DESC, updated_at DESC, id DESC",
            )
            .map_err(db_err)?;
        let rows = stmt.query_map([], conversation_row).map_err(db_err)?;
        rows.collect::<rusqlite::Result<_>>().map_err(db_err)
    }

    pub fn conversation(&self, id: ConversationId) -> Result<Conversation> {
        self.conn
            .query_row(
                "SELECT id, title, model, created_at, updated_at, pinned, summary, summary_through,
                   (SELECT source_name FROM document_summaries d WHERE d.conversation_id = conversations.id)
                 FROM conversations WHERE id = ?1",
                params![id.0],
                conversation_row,
            )
            .optional()
            .map_err(db_err)?
            .ok_or(Error::NotFound(format!("conversation {id}")))
    }

    pub fn messages(&self, id: ConversationId) -> Result<Vec<Message>> {
        self.conversation(id)?;
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, conversation_id, role, text, model, status, prompt_tokens, generated_tokens,
                        ttft_ms, total_ms, created_at
                 FROM messages WHERE conversation_id = ?1 ORDER BY id",
            )
            .map_err(db_err)?;
        let rows = stmt.query_map(params![id.0], message_row).map_err(db_err)?;
        rows.collect::<rusqlite::Result<_>>().map_err(db_err)
    }

    /// Adds a message and commits it before returning.
    pub fn add_message(
        &mut self,
        conversation: ConversationId,
        role: Role,
        text: &str,
        status: MessageStatus,
        model: Option<&str>,
    ) -> Result<MessageId> {
        let now = now_ms();
        let tx = self.conn.transaction().map_err(db_err)?;
        found(
            tx.execute(
                "UPDATE conversations SET updated_at = ?2 WHERE id = ?1",
                params![conversation.0, now],
            )
            .map_err(db_err)?,
            conversation,
        )?;
        tx.execute(
            "INSERT INTO messages (conversation_id, role, text, model, status, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
            params![conversation.0, role.as_str(), text, model, status.as_str(), now],
        )
        .map_err(db_err)?;
        let id = MessageId(tx.last_insert_rowid());
        tx.commit().map_err(db_err)?;
        Ok(id)
    }

    /// Saves the text of a reply that is still being written.
    pub fn save_partial(&mut self, message: MessageId, text: &str) -> Result<()> {
        self.conn
            .execute(
                "UPDATE messages SET text = ?2, updated_at = ?3 WHERE id = ?1",
                params![message.0, text, now_ms()],
            )
            .map_err(db_err)?;
        Ok(())
    }

    /// Saves a reply's final text, status and figures.
    pub fn finish_message(
        &mut self,
        message: MessageId,
        text: &str,
        status: MessageStatus,
        stats: MessageStats,
    ) -> Result<()> {
        self.conn
            .execute(
                "UPDATE messages SET text = ?2, status = ?3, prompt_tokens = ?4, generated_tokens = ?5,
                        ttft_ms = ?6, total_ms = ?7, updated_at = ?8 WHERE id = ?1",
                params![
                    message.0,
                    text,
                    status.as_str(),
                    stats.prompt_tokens,
                    stats.generated_tokens,
                    stats.ttft_ms,
                    stats.total_ms,
                    now_ms()
                ],
            )
            .map_err(db_err)?;
        Ok(())
    }

    pub fn rename(&mut self, id: ConversationId, title: &str) -> Result<()> {
        let title = title.trim();
        if title.is_empty() {
            return Err(Error::InvalidInput(
                "a conversation title cannot be empty".into(),
            ));
        }
        let changed = self
            .conn
            .execute(
                "UPDATE conversations SET title = ?2 WHERE id = ?1",
                params![id.0, title],
            )
            .map_err(db_err)?;
        found(changed, id)
    }

    pub fn set_pinned(&mut self, id: ConversationId, pinned: bool) -> Result<()> {
        found(
            self.conn
                .execute(
                    "UPDATE conversations SET pinned = ?2 WHERE id = ?1",
                    params![id.0, pinned],
                )
                .map_err(db_err)?,
            id,
        )?;
        Ok(())
    }

    /// Stores the running summary covering every message up to `through`.
    pub fn set_summary(
        &mut self,
        id: ConversationId,
        summary: &str,
        through: MessageId,
    ) -> Result<()> {
        found(
            self.conn
                .execute(
                    "UPDATE conversations SET summary = ?2, summary_through = ?3 WHERE id = ?1",
                    params![id.0, summary, through.0],
                )
                .map_err(db_err)?,
            id,
        )?;
        Ok(())
    }

    /// Deletes `from` and every later message of its conversation (to edit
    /// a question and ask again, or to regenerate a reply). A running
    /// summary that covered any of them is dropped with them. Returns the
    /// conversation's id.
    pub fn delete_from(&mut self, from: MessageId) -> Result<ConversationId> {
        let tx = self.conn.transaction().map_err(db_err)?;
        let conversation: i64 = tx
            .query_row(
                "SELECT conversation_id FROM messages WHERE id = ?1",
                params![from.0],
                |r| r.get(0),
            )
            .optional()
            .map_err(db_err)?
            .ok_or_else(|| Error::NotFound(format!("message {}", from.0)))?;
        tx.execute(
            "DELETE FROM messages WHERE conversation_id = ?1 AND id >= ?2",
            params![conversation, from.0],
        )
        .map_err(db_err)?;
        tx.execute(
            "UPDATE conversations SET summary = NULL, summary_through = NULL \
             WHERE id = ?1 AND summary_through >= ?2",
            params![conversation, from.0],
        )
        .map_err(db_err)?;
        tx.commit().map_err(db_err)?;
        Ok(ConversationId(conversation))
    }

    /// Deletes a conversation with its messages and summaries.
    pub fn delete(&mut self, id: ConversationId) -> Result<()> {
        found(
            self.conn
                .execute("DELETE FROM conversations WHERE id = ?1", params![id.0])
                .map_err(db_err)?,
            id,
        )?;
        Ok(())
    }

    /// Messages matching every word of `query`, best first.
    pub fn search(&self, query: &str, limit: usize) -> Result<Vec<SearchHit>> {
        // Each word is a prefix match ranked over every message: a pasted
        // page of words took seconds, so a query is bounded first.
        let words = query.split_whitespace().count();
        if words > MAX_SEARCH_WORDS || query.len() > MAX_SEARCH_BYTES {
            return Err(Error::InvalidInput(format!(
                "a search takes at most {MAX_SEARCH_WORDS} words ({words} given); \
                 search for the few that matter"
            )));
        }
        let Some(fts) = fts_query(query) else {
            return Err(Error::EmptyInput);
        };
        let mut stmt = self
            .conn
            .prepare(
                "SELECT m.conversation_id, c.title, m.id, m.role,
                        snippet(messages_fts, 0, '«', '»', '…', 16)
                 FROM messages_fts
                 JOIN messages m ON m.id = messages_fts.rowid
                 JOIN conversations c ON c.id = m.conversation_id
                 WHERE messages_fts MATCH ?1
                 ORDER BY rank LIMIT ?2",
            )
            .map_err(db_err)?;
        let rows = stmt
            .query_map(params![fts, limit as i64], |r| {
                Ok(SearchHit {
                    conversation_id: ConversationId(r.get(0)?),
                    conversation_title: r.get(1)?,
                    message_id: MessageId(r.get(2)?),
                    role: parse_role(&r.get::<_, String>(3)?),
                    snippet: r.get(4)?,
                })
            })
            .map_err(db_err)?;
        rows.collect::<rusqlite::Result<_>>().map_err(db_err)
    }

    /// Records a rewrite made from the hotkey or the command line.
    pub fn record_rewrite(
        &mut self,
        original: &str,
        result: &str,
        mode: &str,
        accepted: bool,
        edited: bool,
        model: Option<&str>,
    ) -> Result<i64> {
        self.conn
            .execute(
                "INSERT INTO rewrites (original, result, mode, accepted, edited, model, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![original, result, mode, accepted, edited, model, now_ms()],
            )
            .map_err(db_err)?;
        Ok(self.conn.last_insert_rowid())
    }

    /// The latest rewrites, newest first.
    pub fn rewrites(&self, limit: usize) -> Result<Vec<Rewrite>> {
        self.rewrites_where("1", limit)
    }

    /// The accepted rewrites new requests learn from, newest first.
    pub fn learned(&self, limit: usize) -> Result<Vec<Rewrite>> {
        self.rewrites_where("accepted = 1 AND example = 1", limit)
    }

    fn rewrites_where(&self, filter: &str, limit: usize) -> Result<Vec<Rewrite>> {
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT id, original, result, mode, accepted, edited, model, created_at
                 FROM rewrites WHERE {filter} ORDER BY created_at DESC, id DESC LIMIT ?1"
            ))
            .map_err(db_err)?;
        let rows = stmt
            .query_map(params![limit as i64], |r| {
                Ok(Rewrite {
                    id: r.get(0)?,
                    original: r.get(1)?,
                    result: r.get(2)?,
                    mode: r.get(3)?,
                    accepted: r.get(4)?,
                    edited: r.get(5)?,
                    model: r.get(6)?,
                    created_at: r.get(7)?,
                })
            })
            .map_err(db_err)?;
        rows.collect::<rusqlite::Result<_>>().map_err(db_err)
    }

    /// How many accepted rewrites new requests learn from.
    pub fn learned_count(&self) -> Result<usize> {
        self.conn
            .query_row(
                "SELECT COUNT(*) FROM rewrites WHERE accepted = 1 AND example = 1",
                [],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n as usize)
            .map_err(db_err)
    }

    /// The accepted rewrites of `mode` (a mode or command name) whose
    /// original text is most like `text` (SQLite full-text ranking, bm25),
    /// best first; short ones only, so they fit beside any prompt.
    pub fn similar_accepted(&self, mode: &str, text: &str, limit: usize) -> Result<Vec<Example>> {
        let mut terms: Vec<String> = text
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.chars().count() >= 2)
            .map(str::to_lowercase)
            .collect();
        terms.sort();
        terms.dedup();
        terms.truncate(64);
        if terms.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let query = terms
            .iter()
            .map(|t| format!("\"{t}\""))
            .collect::<Vec<_>>()
            .join(" OR ");
        let mut stmt = self
            .conn
            .prepare(
                "SELECT r.original, r.result FROM rewrites_fts f JOIN rewrites r ON r.id = f.rowid
                 WHERE rewrites_fts MATCH ?1 AND r.mode = ?2 AND r.accepted = 1 AND r.example = 1
                   AND length(r.original) <= ?3 AND length(r.result) <= ?3
                 ORDER BY bm25(rewrites_fts), r.id DESC LIMIT ?4",
            )
            .map_err(db_err)?;
        let rows = stmt
            .query_map(
                params![query, mode, EXAMPLE_MAX_CHARS as i64, limit as i64],
                |r| {
                    Ok(Example {
                        input: r.get(0)?,
                        output: r.get(1)?,
                    })
                },
            )
            .map_err(db_err)?;
        rows.collect::<rusqlite::Result<_>>().map_err(db_err)
    }

    /// Stops learning from every accepted rewrite so far (they stay in the
    /// history). Returns how many there were.
    pub fn forget_learned(&mut self) -> Result<usize> {
        self.conn
            .execute(
                "UPDATE rewrites SET example = 0 WHERE accepted = 1 AND example = 1",
                [],
            )
            .map_err(db_err)
    }

    /// Stores a document summary as a new conversation — the request, the
    /// summary as the reply, and the source with its coverage — in one
    /// transaction: all of it or nothing.
    pub fn save_document_summary(&mut self, saved: &SavedSummary) -> Result<ConversationId> {
        let now = now_ms();
        let tx = self.conn.transaction().map_err(db_err)?;
        tx.execute(
            "INSERT INTO conversations (title, model, created_at, updated_at) VALUES (?1, ?2, ?3, ?3)",
            params![saved.title, saved.model, now],
        )
        .map_err(db_err)?;
        let conversation = tx.last_insert_rowid();
        for (role, text) in [
            (Role::User, &saved.request),
            (Role::Assistant, &saved.reply),
        ] {
            tx.execute(
                "INSERT INTO messages (conversation_id, role, text, model, status, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, 'complete', ?5, ?5)",
                params![conversation, role.as_str(), text, saved.model, now],
            )
            .map_err(db_err)?;
        }
        tx.execute(
            "INSERT INTO document_summaries (conversation_id, source_name, source_bytes, coverage, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![conversation, saved.source_name, saved.source_bytes as i64, saved.coverage, now],
        )
        .map_err(db_err)?;
        tx.commit().map_err(db_err)?;
        Ok(ConversationId(conversation))
    }

    /// `PRAGMA integrity_check`: "ok" for a healthy store.
    pub fn integrity_check(&self) -> Result<String> {
        self.conn
            .pragma_query_value(None, "integrity_check", |r| r.get(0))
            .map_err(db_err)
    }
}

/// Why a database could not be opened: damaged files are moved aside and
/// replaced; anything else (busy, newer version, a full disk) is reported
/// and the file left alone.
enum Connect {
    Damaged(String),
    Failed(Error),
}

impl Connect {
    fn classify(e: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode as C;
        match e.sqlite_error_code() {
            // Only a file that is not (or no longer) a database is damaged.
            Some(C::NotADatabase | C::DatabaseCorrupt) => Connect::Damaged(e.to_string()),
            // One that cannot be opened (permissions, a folder in its place)
            // is the user's to fix, and is never moved aside.
            Some(C::CannotOpen | C::PermissionDenied | C::ReadOnly) => {
                Connect::Failed(Error::History(format!(
                    "the history database cannot be opened ({e}); check that the data \
                     folder and the file belong to you and can be written"
                )))
            }
            _ => Connect::Failed(db_err(e)),
        }
    }

    fn into_error(self) -> Error {
        match self {
            Connect::Damaged(why) => Error::History(why),
            Connect::Failed(e) => e,
        }
    }
}

fn conversation_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Conversation> {
    Ok(Conversation {
        id: ConversationId(r.get(0)?),
        title: r.get(1)?,
        model: r.get(2)?,
        created_at: r.get(3)?,
        updated_at: r.get(4)?,
        pinned: r.get(5)?,
        summary: r.get(6)?,
        summary_through: r.get::<_, Option<i64>>(7)?.map(MessageId),
        source: r.get(8)?,
    })
}

fn message_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Message> {
    Ok(Message {
        id: MessageId(r.get(0)?),
        conversation_id: ConversationId(r.get(1)?),
        role: parse_role(&r.get::<_, String>(2)?),
        text: r.get(3)?,
        model: r.get(4)?,
        status: MessageStatus::parse(&r.get::<_, String>(5)?),
        stats: MessageStats {
            prompt_tokens: r.get(6)?,
            generated_tokens: r.get(7)?,
            ttft_ms: r.get(8)?,
            total_ms: r.get(9)?,
        },
        created_at: r.get(10)?,
    })
}

/// True for a missing or empty file (a new store) and for one that starts
/// with SQLite's header.
fn looks_like_sqlite(path: &Path) -> bool {
    use std::io::Read;
    let Ok(mut f) = std::fs::File::open(path) else {
        return true;
    };
    let mut header = [0u8; 16];
    match f.read(&mut header) {
        Ok(0) => true,
        Ok(n) => n == 16 && &header == b"SQLite format 3\0",
        Err(_) => true,
    }
}

/// Moves a damaged database and its `-wal`/`-shm` files aside; returns the
/// new path of the main file.
fn move_aside(path: &Path) -> Result<PathBuf> {
    let stamp = now_ms();
    let aside = PathBuf::from(format!("{}.damaged-{stamp}", path.display()));
    for suffix in ["", "-wal", "-shm"] {
        let from = PathBuf::from(format!("{}{suffix}", path.display()));
        if from.exists() {
            let to = PathBuf::from(format!("{}{suffix}", aside.display()));
            std::fs::rename(&from, &to).map_err(|e| {
                Error::io(
                    format!("could not move the damaged {} aside", from.display()),
                    e,
                )
            })?;
        }
    }
    Ok(aside)
}

/// Saves a streaming reply at most every `interval` (default 0.5 s), so a
/// crash loses at most that much of it.
pub struct StreamSaver {
    message: MessageId,
    text: String,
    last_save: Instant,
    interval: Duration,
}

impl StreamSaver {
    pub fn new(message: MessageId) -> Self {
        Self {
            message,
            text: String::new(),
            last_save: Instant::now(),
            interval: Duration::from_millis(500),
        }
    }

    /// Appends a piece; saves when the interval has passed.
    pub fn push(&mut self, history: &mut History, piece: &str) -> Result<()> {
        self.text.push_str(piece);
        if self.last_save.elapsed() >= self.interval {
            history.save_partial(self.message, &self.text)?;
            self.last_save = Instant::now();
        }
        Ok(())
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn message(&self) -> MessageId {
        self.message
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Role;

    #[test]
    fn deleting_from_a_message_removes_it_and_what_follows_and_a_stale_summary() {
        let mut h = History::open_in_memory().expect("store");
        let c = h.create_conversation("t", None).expect("c");
        let other = h.create_conversation("o", None).expect("c");
        let add = |h: &mut History, c, role, text: &str| {
            h.add_message(c, role, text, MessageStatus::Complete, None)
                .expect("add")
        };
        let q1 = add(&mut h, c, Role::User, "first question");
        add(&mut h, c, Role::Assistant, "first answer");
        let q2 = add(&mut h, c, Role::User, "second question");
        add(&mut h, other, Role::User, "elsewhere");
        add(&mut h, c, Role::Assistant, "second answer");
        h.set_summary(c, "they asked twice", q2).expect("summary");

        assert_eq!(h.delete_from(q2).expect("deleted"), c);
        let left: Vec<String> = h
            .messages(c)
            .expect("m")
            .into_iter()
            .map(|m| m.text)
            .collect();
        assert_eq!(left, ["first question", "first answer"]);
        assert_eq!(
            h.messages(other).expect("m").len(),
            1,
            "other conversations untouched"
        );
        assert_eq!(h.conversation(c).expect("c").summary, None);
        assert!(h.search("second", 10).expect("search").is_empty());
        assert_eq!(
            h.delete_from(q2).expect_err("gone").code(),
            crate::ErrorCode::NotFound
        );
        h.delete_from(q1).expect("all");
        assert!(h.messages(c).expect("m").is_empty());
    }
    use crate::history::{ConversationExport, ExportFormat};

    fn temp_store() -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("history.sqlite3");
        (dir, path)
    }

    fn sample(h: &mut History) -> ConversationId {
        let c = h
            .create_conversation("Trip to Lisbon", Some("SmolLM2"))
            .expect("create");
        let u = h
            .add_message(
                c,
                Role::User,
                "Which museums open on Mondays?",
                MessageStatus::Complete,
                None,
            )
            .expect("user");
        assert!(u.0 > 0);
        let a = h
            .add_message(
                c,
                Role::Assistant,
                "",
                MessageStatus::Streaming,
                Some("SmolLM2"),
            )
            .expect("reply");
        h.finish_message(
            a,
            "The tile museum opens on Mondays.",
            MessageStatus::Complete,
            MessageStats::default(),
        )
        .expect("finish");
        c
    }

    #[test]
    fn every_query_path_works_on_a_real_file() {
        let (_dir, path) = temp_store();
        let (mut h, report) = History::open(&path).expect("opens");
        assert_eq!(report, OpenReport::default());
        let c = sample(&mut h);
        let other = h.create_conversation("Groceries", None).expect("create");
        h.add_message(
            other,
            Role::User,
            "milk and eggs",
            MessageStatus::Complete,
            None,
        )
        .expect("add");
        h.rename(c, "Lisbon museums").expect("rename");
        h.set_pinned(other, true).expect("pin");
        let list = h.conversations().expect("list");
        assert_eq!(
            list.iter().map(|c| c.title.as_str()).collect::<Vec<_>>(),
            ["Groceries", "Lisbon museums"]
        );
        let msgs = h.messages(c).expect("messages");
        assert_eq!(msgs.len(), 2);
        assert_eq!(msgs[1].status, MessageStatus::Complete);
        assert_eq!(msgs[1].text, "The tile museum opens on Mondays.");
        h.set_summary(c, "They planned museum visits.", msgs[1].id)
            .expect("summary");
        assert_eq!(
            h.conversation(c).expect("get").summary.as_deref(),
            Some("They planned museum visits.")
        );
        h.record_rewrite(
            "teh cat",
            "the cat",
            "proofread",
            true,
            false,
            Some("SmolLM2"),
        )
        .expect("rewrite");
        h.record_rewrite("hi all", "Hello everyone", "friendly", false, false, None)
            .expect("rewrite");
        let list = h.rewrites(10).expect("list");
        assert_eq!(
            list.iter()
                .map(|r| (r.result.as_str(), r.accepted))
                .collect::<Vec<_>>(),
            [("Hello everyone", false), ("the cat", true)]
        );
        assert_eq!(h.rewrites(1).expect("one").len(), 1);
        h.delete(c).expect("delete");
        assert!(matches!(h.messages(c), Err(Error::NotFound(_))));
        assert_eq!(h.integrity_check().expect("check"), "ok");
        drop(h);
        let (h, _) = History::open(&path).expect("reopens");
        assert_eq!(h.conversations().expect("list").len(), 1);
    }

    #[test]
    fn the_accepted_rewrites_most_like_a_text_come_back_for_its_mode_until_forgotten() {
        let mut h = History::open_in_memory().expect("opens");
        let rows = [
            (
                "teh invoice is late",
                "The invoice is late.",
                "proofread",
                true,
            ),
            (
                "the meeting are on monday",
                "The meeting is on Monday.",
                "proofread",
                true,
            ),
            (
                "the invoice were paid",
                "The invoice was paid.",
                "proofread",
                false,
            ),
            (
                "the invoice is due",
                "Kindly note the invoice is due.",
                "professional",
                true,
            ),
            ("we goed home", "We went home.", "proofread", true),
        ];
        for (original, result, mode, accepted) in rows {
            h.record_rewrite(original, result, mode, accepted, false, None)
                .expect("rewrite");
        }
        let found = h
            .similar_accepted("proofread", "The invoice for the meeting is late!", 2)
            .expect("search");
        // Most words in common first; a refused rewrite and another mode's
        // never come back.
        assert_eq!(
            found,
            vec![
                Example {
                    input: "teh invoice is late".into(),
                    output: "The invoice is late.".into()
                },
                Example {
                    input: "the meeting are on monday".into(),
                    output: "The meeting is on Monday.".into()
                },
            ]
        );
        assert!(h
            .similar_accepted("proofread", "zebra", 3)
            .expect("search")
            .is_empty());
        assert!(h
            .similar_accepted("proofread", "\"*) OR", 3)
            .expect("quoted")
            .is_empty());
        assert_eq!(h.learned_count().expect("count"), 4);
        assert_eq!(h.learned(10).expect("list").len(), 4);
        assert_eq!(h.forget_learned().expect("forget"), 4);
        assert!(h
            .similar_accepted("proofread", "the invoice is late", 3)
            .expect("search")
            .is_empty());
        // The history itself keeps them.
        assert_eq!(h.rewrites(10).expect("list").len(), 5);
    }

    #[test]
    fn a_document_summary_is_stored_as_a_conversation_with_its_source() {
        let mut h = History::open_in_memory().expect("opens");
        let c = h
            .save_document_summary(&SavedSummary {
                title: "Summary of report.pdf".into(),
                request: "Summarize report.pdf".into(),
                reply: "The library lent more books.\n\n*Covered all 2 pages in one part.*".into(),
                model: Some("SmolLM2".into()),
                source_name: "report.pdf".into(),
                source_bytes: 1234,
                coverage: "Covered all 2 pages in one part.".into(),
            })
            .expect("saved");
        let msgs = h.messages(c).expect("messages");
        assert_eq!(msgs.len(), 2);
        assert_eq!(msgs[0].role, Role::User);
        assert_eq!(msgs[1].status, MessageStatus::Complete);
        assert!(msgs[1].text.starts_with("The library lent more books."));
        assert_eq!(
            h.conversation(c).expect("get").title,
            "Summary of report.pdf"
        );
        assert_eq!(
            h.conversation(c).expect("get").source.as_deref(),
            Some("report.pdf")
        );
        let (name, bytes, coverage): (String, i64, String) = h
            .conn
            .query_row(
                "SELECT source_name, source_bytes, coverage FROM document_summaries WHERE conversation_id = ?1",
                params![c.0],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .expect("source row");
        assert_eq!((name.as_str(), bytes), ("report.pdf", 1234));
        assert_eq!(coverage, "Covered all 2 pages in one part.");
        // Deleting the conversation deletes its source row.
        h.delete(c).expect("delete");
        let rows: i64 = h
            .conn
            .query_row("SELECT COUNT(*) FROM document_summaries", [], |r| r.get(0))
            .expect("count");
        assert_eq!(rows, 0);
    }

    #[test]
    fn a_database_that_cannot_be_opened_is_reported_and_left_where_it_is() {
        // Before: "cannot open" (a permissions problem) was taken for a
        // damaged database and moved aside.
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("history.sqlite3");
        std::fs::create_dir(&path).expect("a folder where the file goes");
        let err = History::open(&path).err().expect("cannot open");
        assert_eq!(err.code(), crate::ErrorCode::History);
        assert!(err.to_string().contains("cannot be opened"), "{err}");
        assert!(path.is_dir(), "left where it is");
        let entries = std::fs::read_dir(dir.path()).expect("list").count();
        assert_eq!(entries, 1, "nothing moved aside");
    }

    #[test]
    fn search_finds_messages_and_marks_the_match() {
        let mut h = History::open_in_memory().expect("opens");
        let c = sample(&mut h);
        let hits = h.search("museum mon", 10).expect("search");
        assert_eq!(hits.len(), 2);
        assert!(hits.iter().all(|hit| hit.conversation_id == c));
        assert!(
            hits[0].snippet.contains('«') && hits[0].snippet.contains('»'),
            "{:?}",
            hits[0].snippet
        );
        assert!(h.search("tile", 10).expect("search")[0]
            .snippet
            .contains("«tile»"));
        // Operators and quotes are taken literally, never as FTS syntax errors.
        assert!(h.search("\"museum\" OR -(", 10).is_ok());
        assert!(h.search("zebra", 10).expect("search").is_empty());
        assert!(matches!(h.search("  ", 10), Err(Error::EmptyInput)));
    }

    #[test]
    fn a_search_of_thousands_of_words_is_refused_before_it_runs() {
        // Before: a 5,000-word query took 5 s of prefix matching.
        let mut h = History::open_in_memory().expect("opens");
        sample(&mut h);
        let pasted = "museum ".repeat(5000);
        let err = h.search(&pasted, 10).expect_err("too many words");
        assert_eq!(err.code(), crate::ErrorCode::InvalidInput);
        assert!(err.to_string().contains("at most 32 words"), "{err}");
        let most = "museum ".repeat(MAX_SEARCH_WORDS);
        assert!(h.search(&most, 10).is_ok());
        assert!(h.search(&"m".repeat(2000), 10).is_err(), "one huge word");
    }

    #[test]
    fn edits_and_deletes_keep_the_search_index_in_step() {
        let mut h = History::open_in_memory().expect("opens");
        let c = h.create_conversation("t", None).expect("create");
        let m = h
            .add_message(c, Role::Assistant, "", MessageStatus::Streaming, None)
            .expect("add");
        h.save_partial(m, "partial words about volcanoes")
            .expect("partial");
        assert_eq!(h.search("volcanoes", 5).expect("search").len(), 1);
        h.finish_message(
            m,
            "final words about glaciers",
            MessageStatus::Complete,
            MessageStats::default(),
        )
        .expect("finish");
        assert!(h.search("volcanoes", 5).expect("search").is_empty());
        assert_eq!(h.search("glaciers", 5).expect("search").len(), 1);
        h.delete(c).expect("delete");
        assert!(h.search("glaciers", 5).expect("search").is_empty());
    }

    #[test]
    fn export_to_json_round_trips_and_markdown_reads_well() {
        let mut h = History::open_in_memory().expect("opens");
        let c = sample(&mut h);
        let json = h.export_to(c, ExportFormat::Json).expect("json");
        let parsed: ConversationExport = serde_json::from_str(&json).expect("parses");
        let copy = h.import(&parsed).expect("imports");
        let a = h.export(c).expect("a");
        let b = h.export(copy).expect("b");
        assert_eq!(a.conversation.title, b.conversation.title);
        let strip = |e: &ConversationExport| {
            e.messages
                .iter()
                .map(|m| (m.role, m.text.clone(), m.status))
                .collect::<Vec<_>>()
        };
        assert_eq!(strip(&a), strip(&b));
        let md = h.export_to(c, ExportFormat::Markdown).expect("md");
        assert!(md.starts_with("# Trip to Lisbon\n"), "{md}");
        assert!(
            md.contains("## You\n\nWhich museums open on Mondays?"),
            "{md}"
        );
        assert!(
            md.contains("## Pith\n\nThe tile museum opens on Mondays."),
            "{md}"
        );
    }

    #[test]
    fn replies_left_streaming_by_a_crash_are_marked_interrupted_on_open() {
        let (_dir, path) = temp_store();
        let (mut h, _) = History::open(&path).expect("opens");
        let c = h.create_conversation("t", None).expect("create");
        let m = h
            .add_message(
                c,
                Role::Assistant,
                "half a rep",
                MessageStatus::Streaming,
                None,
            )
            .expect("add");
        drop(h);
        let (h, report) = History::open(&path).expect("reopens");
        assert_eq!(report.interrupted, 1);
        let msgs = h.messages(c).expect("messages");
        assert_eq!(
            (msgs[0].id, msgs[0].status),
            (m, MessageStatus::Interrupted)
        );
        assert_eq!(msgs[0].text, "half a rep");
    }

    #[test]
    fn a_damaged_file_is_moved_aside_with_its_wal_and_shm() {
        let (dir, path) = temp_store();
        std::fs::write(
            &path,
            b"this is not an sqlite database, just bytes ".repeat(200),
        )
        .expect("write");
        std::fs::write(dir.path().join("history.sqlite3-wal"), b"junk").expect("write");
        std::fs::write(dir.path().join("history.sqlite3-shm"), b"junk").expect("write");
        let (mut h, report) = History::open(&path).expect("opens fresh");
        let aside = report.moved_aside.expect("moved aside");
        assert!(aside.exists());
        assert!(std::path::Path::new(&format!("{}-wal", aside.display())).exists());
        assert!(std::path::Path::new(&format!("{}-shm", aside.display())).exists());
        assert!(std::fs::read(&aside)
            .expect("old kept")
            .starts_with(b"this is not"));
        let c = h
            .create_conversation("works", None)
            .expect("fresh store works");
        assert_eq!(h.conversation(c).expect("get").title, "works");
    }

    #[test]
    fn a_database_from_a_newer_pith_is_refused_and_left_untouched() {
        let (_dir, path) = temp_store();
        drop(History::open(&path).expect("opens"));
        let conn = Connection::open(&path).expect("raw");
        conn.pragma_update(None, "user_version", 99).expect("bump");
        drop(conn);
        let before = std::fs::read(&path).expect("read");
        let err = History::open(&path).err().expect("refused");
        assert_eq!(err.code(), crate::error::ErrorCode::DatabaseTooNew);
        assert!(err.to_string().contains("newer version of Pith"), "{err}");
        assert_eq!(std::fs::read(&path).expect("read"), before);
    }

    #[test]
    fn missing_conversations_are_not_found() {
        let mut h = History::open_in_memory().expect("opens");
        let ghost = ConversationId(42);
        for err in [
            h.rename(ghost, "x").err(),
            h.delete(ghost).err(),
            h.add_message(ghost, Role::User, "x", MessageStatus::Complete, None)
                .err(),
            h.messages(ghost).err(),
        ] {
            assert_eq!(
                err.map(|e| e.code()),
                Some(crate::error::ErrorCode::NotFound)
            );
        }
        assert_eq!(
            h.rename(ghost, "  ").err().map(|e| e.code()),
            Some(crate::error::ErrorCode::InvalidInput)
        );
    }

    #[test]
    fn titles_come_from_the_first_line_of_the_first_message() {
        assert_eq!(
            title_from("Which museums open on Mondays?"),
            "Which museums open on Mondays?"
        );
        assert_eq!(title_from("\n  plan the trip.\nmore"), "plan the trip");
        assert_eq!(
            title_from("one two three four five six seven eight nine ten"),
            "one two three four five six seven eight…"
        );
        assert_eq!(title_from("   "), "New conversation");
    }

    #[test]
    fn the_stream_saver_writes_at_most_every_half_second() {
        let mut h = History::open_in_memory().expect("opens");
        let c = h.create_conversation("t", None).expect("create");
        let m = h
            .add_message(c, Role::Assistant, "", MessageStatus::Streaming, None)
            .expect("add");
        let mut saver = StreamSaver::new(m);
        saver.push(&mut h, "first ").expect("push");
        assert_eq!(
            h.messages(c).expect("m")[0].text,
            "",
            "not saved before the interval"
        );
        saver.last_save -= Duration::from_secs(1);
        saver.push(&mut h, "second").expect("push");
        assert_eq!(h.messages(c).expect("m")[0].text, "first second");
    }
}
