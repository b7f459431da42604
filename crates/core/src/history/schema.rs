//! The schema, as migrations. Append new `M::up` entries; never edit one
//! that has shipped.

use rusqlite_migration::{Migrations, M};

const STEPS: &[M<'static>] = &[
    M::up(
        r#"
CREATE TABLE conversations (
    id              INTEGER PRIMARY KEY,
    title           TEXT NOT NULL,
    model           TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    pinned          INTEGER NOT NULL DEFAULT 0,
    -- Running summary of the turns folded out of the context window, and the
    -- last message it covers.
    summary         TEXT,
    summary_through INTEGER
);

CREATE TABLE messages (
    id               INTEGER PRIMARY KEY,
    conversation_id  INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    role             TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
    text             TEXT NOT NULL,
    model            TEXT,
    status           TEXT NOT NULL CHECK (status IN ('streaming', 'complete', 'interrupted', 'error')),
    prompt_tokens    INTEGER,
    generated_tokens INTEGER,
    ttft_ms          INTEGER,
    total_ms         INTEGER,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);
CREATE INDEX messages_by_conversation ON messages(conversation_id, id);

CREATE TABLE rewrites (
    id         INTEGER PRIMARY KEY,
    original   TEXT NOT NULL,
    result     TEXT NOT NULL,
    mode       TEXT NOT NULL,
    accepted   INTEGER NOT NULL,
    model      TEXT,
    created_at INTEGER NOT NULL
);

CREATE TABLE document_summaries (
    id              INTEGER PRIMARY KEY,
    conversation_id INTEGER REFERENCES conversations(id) ON DELETE CASCADE,
    source_name     TEXT NOT NULL,
    source_bytes    INTEGER NOT NULL,
    coverage        TEXT NOT NULL,
    created_at      INTEGER NOT NULL
);

CREATE VIRTUAL TABLE messages_fts USING fts5(
    text, content='messages', content_rowid='id', tokenize='unicode61 remove_diacritics 2'
);
CREATE TRIGGER messages_ai AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts(rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER messages_ad AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
CREATE TRIGGER messages_au AFTER UPDATE OF text ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, text) VALUES ('delete', old.id, old.text);
    INSERT INTO messages_fts(rowid, text) VALUES (new.id, new.text);
END;
"#,
    ),
    // The agent's runs, their steps, and the journal of file operations
    // that undo reverses.
    M::up(
        r#"
CREATE TABLE agent_runs (
    id         INTEGER PRIMARY KEY,
    task       TEXT NOT NULL,
    folder     TEXT NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('running', 'finished', 'failed', 'cancelled', 'undone')),
    answer     TEXT,
    message    TEXT,
    planner    TEXT NOT NULL,
    worker     TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE agent_steps (
    id         INTEGER PRIMARY KEY,
    run_id     INTEGER NOT NULL REFERENCES agent_runs(id) ON DELETE CASCADE,
    n          INTEGER NOT NULL,
    tool       TEXT NOT NULL,
    arguments  TEXT NOT NULL,
    effect     TEXT NOT NULL CHECK (effect IN ('read', 'change')),
    status     TEXT NOT NULL CHECK (status IN ('done', 'rejected', 'failed')),
    summary    TEXT NOT NULL,
    output     TEXT NOT NULL,
    model      TEXT NOT NULL,
    refused    TEXT NOT NULL DEFAULT '[]',
    created_at INTEGER NOT NULL,
    UNIQUE (run_id, n)
);

CREATE TABLE agent_journal (
    id      INTEGER PRIMARY KEY,
    run_id  INTEGER NOT NULL REFERENCES agent_runs(id) ON DELETE CASCADE,
    step    INTEGER NOT NULL,
    change  TEXT NOT NULL,
    undone  INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX agent_journal_by_run ON agent_journal(run_id, id);
"#,
    ),
    // Accepted rewrites as examples for new requests: ranked by full-text
    // search on the text given; `edited` when the user changed the result
    // before accepting it; `example` 0 once the user cleared what Pith
    // learned (the history line stays).
    M::up(
        r#"
ALTER TABLE rewrites ADD COLUMN edited INTEGER NOT NULL DEFAULT 0;
ALTER TABLE rewrites ADD COLUMN example INTEGER NOT NULL DEFAULT 1;
CREATE INDEX rewrites_by_mode ON rewrites(mode, accepted, example);

CREATE VIRTUAL TABLE rewrites_fts USING fts5(
    original, content='rewrites', content_rowid='id', tokenize='unicode61 remove_diacritics 2'
);
INSERT INTO rewrites_fts(rewrites_fts) VALUES ('rebuild');
CREATE TRIGGER rewrites_ai AFTER INSERT ON rewrites BEGIN
    INSERT INTO rewrites_fts(rowid, original) VALUES (new.id, new.original);
END;
CREATE TRIGGER rewrites_ad AFTER DELETE ON rewrites BEGIN
    INSERT INTO rewrites_fts(rewrites_fts, rowid, original) VALUES ('delete', old.id, old.original);
END;
CREATE TRIGGER rewrites_au AFTER UPDATE OF original ON rewrites BEGIN
    INSERT INTO rewrites_fts(rewrites_fts, rowid, original) VALUES ('delete', old.id, old.original);
    INSERT INTO rewrites_fts(rowid, original) VALUES (new.id, new.original);
END;
"#,
    ),
];

pub const MIGRATIONS: Migrations<'static> = Migrations::from_slice(STEPS);

/// The schema version this build writes.
pub fn latest_version() -> i64 {
    STEPS.len() as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_valid() {
        assert!(MIGRATIONS.validate().is_ok());
    }

    #[test]
    fn latest_version_matches_the_migrations() {
        let mut conn = rusqlite::Connection::open_in_memory().expect("opens");
        MIGRATIONS.to_latest(&mut conn).expect("migrates");
        let v: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .expect("version");
        assert_eq!(v, latest_version());
    }
}
