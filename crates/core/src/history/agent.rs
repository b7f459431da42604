//! The agent's runs in the store: each run, its steps, and the journal of
//! its file operations, so a run can be reviewed and undone later.

use super::store::{db_err, now_ms, History, MessageId};
use crate::error::{Error, Result};
use crate::tools::journal::Change;
use crate::tools::Effect;
use rusqlite::{params, OptionalExtension};
use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Running,
    /// The model gave its answer.
    Finished,
    /// Ended without finishing (no valid step, a limit, an error); its
    /// changes were put back.
    Failed,
    Cancelled,
    /// Undone afterwards.
    Undone,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Finished => "finished",
            RunStatus::Failed => "failed",
            RunStatus::Cancelled => "cancelled",
            RunStatus::Undone => "undone",
        }
    }
    fn parse(s: &str) -> Self {
        match s {
            "finished" => RunStatus::Finished,
            "failed" => RunStatus::Failed,
            "cancelled" => RunStatus::Cancelled,
            "undone" => RunStatus::Undone,
            _ => RunStatus::Running,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    Done,
    /// The person said no: it did not run.
    Rejected,
    /// The tool refused or failed: nothing changed.
    Failed,
}

impl StepStatus {
    fn as_str(self) -> &'static str {
        match self {
            StepStatus::Done => "done",
            StepStatus::Rejected => "rejected",
            StepStatus::Failed => "failed",
        }
    }
    fn parse(s: &str) -> Self {
        match s {
            "rejected" => StepStatus::Rejected,
            "failed" => StepStatus::Failed,
            _ => StepStatus::Done,
        }
    }
}

/// One step of a run, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct AgentStep {
    /// 1-based.
    pub n: usize,
    pub tool: String,
    #[ts(type = "unknown")]
    pub arguments: Value,
    pub effect: Effect,
    pub status: StepStatus,
    /// One line: what the step does.
    pub summary: String,
    /// What came of it (the tool's result, or why it failed).
    pub output: String,
    /// The model that proposed it.
    pub model: String,
    /// The model's proposals for this step that Pith refused first, and
    /// why (a name the file does not hold, a call already made).
    pub refused: Vec<String>,
}

/// A run, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct AgentRun {
    #[ts(type = "number")]
    pub id: i64,
    pub task: String,
    pub folder: String,
    pub status: RunStatus,
    pub answer: Option<String>,
    /// Why it ended when it did not finish; what undo did.
    pub message: Option<String>,
    /// The model that chose the steps, and the one that did their work.
    pub planner: String,
    pub worker: String,
    #[ts(type = "number")]
    pub created_at: i64,
    pub steps: Vec<AgentStep>,
    /// The file operations still in place, in words.
    pub changes: Vec<String>,
}

impl History {
    pub fn agent_start(
        &mut self,
        task: &str,
        folder: &str,
        planner: &str,
        worker: &str,
    ) -> Result<i64> {
        let now = now_ms();
        self.conn
            .execute(
                "INSERT INTO agent_runs (task, folder, status, planner, worker, created_at, updated_at)
                 VALUES (?1, ?2, 'running', ?3, ?4, ?5, ?5)",
                params![task, folder, planner, worker, now],
            )
            .map_err(db_err)?;
        Ok(self.conn.last_insert_rowid())
    }

    pub fn agent_step(&mut self, run: i64, step: &AgentStep) -> Result<()> {
        let effect = match step.effect {
            Effect::Read => "read",
            Effect::Change => "change",
        };
        self.conn
            .execute(
                "INSERT OR REPLACE INTO agent_steps
                 (run_id, n, tool, arguments, effect, status, summary, output, model, refused, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                params![
                    run,
                    step.n as i64,
                    step.tool,
                    step.arguments.to_string(),
                    effect,
                    step.status.as_str(),
                    step.summary,
                    step.output,
                    step.model,
                    serde_json::to_string(&step.refused).unwrap_or_else(|_| "[]".into()),
                    now_ms()
                ],
            )
            .map_err(db_err)?;
        Ok(())
    }

    /// Journals a change right after it was made.
    pub fn agent_change(&mut self, run: i64, step: usize, change: &Change) -> Result<()> {
        let json = serde_json::to_string(change)
            .map_err(|e| Error::History(format!("could not journal a change: {e}")))?;
        self.conn
            .execute(
                "INSERT INTO agent_journal (run_id, step, change) VALUES (?1, ?2, ?3)",
                params![run, step as i64, json],
            )
            .map_err(db_err)?;
        Ok(())
    }

    pub fn agent_finish(
        &mut self,
        run: i64,
        status: RunStatus,
        answer: Option<&str>,
        message: Option<&str>,
    ) -> Result<()> {
        self.conn
            .execute(
                "UPDATE agent_runs SET status = ?2, answer = ?3, message = ?4, updated_at = ?5 WHERE id = ?1",
                params![run, status.as_str(), answer, message, now_ms()],
            )
            .map_err(db_err)?;
        Ok(())
    }

    /// The changes of `run` still in place, in the order they were made.
    pub fn agent_changes(&self, run: i64) -> Result<Vec<Change>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT change FROM agent_journal WHERE run_id = ?1 AND undone = 0 ORDER BY id",
            )
            .map_err(db_err)?;
        let rows = stmt
            .query_map(params![run], |r| r.get::<_, String>(0))
            .map_err(db_err)?;
        let mut out = Vec::new();
        for row in rows {
            let json = row.map_err(db_err)?;
            out.push(
                serde_json::from_str(&json)
                    .map_err(|e| Error::History(format!("a journal entry does not read: {e}")))?,
            );
        }
        Ok(out)
    }

    /// Marks `run`'s changes reversed, and the run with `status`.
    pub fn agent_mark_undone(&mut self, run: i64, status: RunStatus, message: &str) -> Result<()> {
        let tx = self.conn.transaction().map_err(db_err)?;
        tx.execute(
            "UPDATE agent_journal SET undone = 1 WHERE run_id = ?1",
            params![run],
        )
        .map_err(db_err)?;
        tx.execute(
            "UPDATE agent_runs SET status = ?2, message = ?3, updated_at = ?4 WHERE id = ?1",
            params![run, status.as_str(), message, now_ms()],
        )
        .map_err(db_err)?;
        tx.commit().map_err(db_err)
    }

    /// The newest run with changes still in place.
    pub fn agent_last_undoable(&self) -> Result<Option<i64>> {
        self.conn
            .query_row(
                "SELECT run_id FROM agent_journal WHERE undone = 0 ORDER BY id DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(db_err)
    }

    pub fn agent_run(&self, id: i64) -> Result<AgentRun> {
        let mut run = self
            .conn
            .query_row(
                "SELECT id, task, folder, status, answer, message, planner, worker, created_at
                 FROM agent_runs WHERE id = ?1",
                params![id],
                |r| {
                    Ok(AgentRun {
                        id: r.get(0)?,
                        task: r.get(1)?,
                        folder: r.get(2)?,
                        status: RunStatus::parse(&r.get::<_, String>(3)?),
                        answer: r.get(4)?,
                        message: r.get(5)?,
                        planner: r.get(6)?,
                        worker: r.get(7)?,
                        created_at: r.get(8)?,
                        steps: Vec::new(),
                        changes: Vec::new(),
                    })
                },
            )
            .optional()
            .map_err(db_err)?
            .ok_or_else(|| Error::NotFound(format!("agent run {id}")))?;
        let mut stmt = self
            .conn
            .prepare(
                "SELECT n, tool, arguments, effect, status, summary, output, model, refused
                 FROM agent_steps WHERE run_id = ?1 ORDER BY n",
            )
            .map_err(db_err)?;
        let steps = stmt
            .query_map(params![id], |r| {
                Ok(AgentStep {
                    n: r.get::<_, i64>(0)? as usize,
                    tool: r.get(1)?,
                    arguments: serde_json::from_str(&r.get::<_, String>(2)?).unwrap_or(Value::Null),
                    effect: if r.get::<_, String>(3)? == "change" {
                        Effect::Change
                    } else {
                        Effect::Read
                    },
                    status: StepStatus::parse(&r.get::<_, String>(4)?),
                    summary: r.get(5)?,
                    output: r.get(6)?,
                    model: r.get(7)?,
                    refused: serde_json::from_str(&r.get::<_, String>(8)?).unwrap_or_default(),
                })
            })
            .map_err(db_err)?;
        run.steps = steps.collect::<rusqlite::Result<_>>().map_err(db_err)?;
        run.changes = self
            .agent_changes(id)?
            .iter()
            .map(Change::describe)
            .collect();
        Ok(run)
    }

    /// The newest runs first.
    pub fn agent_runs(&self, limit: usize) -> Result<Vec<AgentRun>> {
        let ids: Vec<i64> = {
            let mut stmt = self
                .conn
                .prepare("SELECT id FROM agent_runs ORDER BY id DESC LIMIT ?1")
                .map_err(db_err)?;
            let rows = stmt
                .query_map(params![limit as i64], |r| r.get(0))
                .map_err(db_err)?;
            rows.collect::<rusqlite::Result<_>>().map_err(db_err)?
        };
        ids.into_iter().map(|id| self.agent_run(id)).collect()
    }

    /// The text of one message (a search hit's whole message).
    pub fn message_text(&self, id: MessageId) -> Result<String> {
        self.conn
            .query_row(
                "SELECT text FROM messages WHERE id = ?1",
                params![id.0],
                |r| r.get(0),
            )
            .optional()
            .map_err(db_err)?
            .ok_or_else(|| Error::NotFound(format!("message {}", id.0)))
    }
}
