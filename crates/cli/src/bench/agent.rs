//! Agent figures for `pith bench`: each fixture of `tests/agent` run on
//! the default model with every step approved, judged as correct, a safe
//! failure (the folder exactly as it started) or wrong, with its steps and
//! seconds.

use pith_core::engine::{Backend, CancelToken, Engine};
use pith_core::flows::agent::fixture::{self, snapshot, Verdict};
use pith_core::flows::agent::{self, AgentConfig, ApproveAll};
use pith_core::flows::commands::{RunOptions, Tone, Zone};
use pith_core::history::History;
use pith_core::tools::MemoryClipboard;
use pith_core::{Error, Result};
use pith_llama::LlamaEngine;
use serde_json::{json, Value};
use std::time::Instant;

/// The bench's one engine as the planner and the step model.
struct One<'a>(&'a mut LlamaEngine);

impl Backend for One<'_> {
    fn engine(&mut self, _id: &str) -> Result<(&mut dyn Engine, Option<String>)> {
        Ok((&mut *self.0, None))
    }
}

pub fn figures(engine: &mut LlamaEngine) -> Result<Value> {
    let Some(root) = fixture::default_root() else {
        return Ok(
            json!({"agent_fixtures_total": 0, "agent_fixtures_note": "no fixtures: set PITH_AGENT_FIXTURES to the checkout's tests/agent"}),
        );
    };
    let fixtures = fixture::load_all(&root)?;
    let model = engine.info().name.clone();
    let (mut ok, mut safe) = (0, 0);
    let mut each = serde_json::Map::new();
    for f in &fixtures {
        let tmp = tempfile::tempdir().map_err(|e| Error::io("a temporary folder", e))?;
        let folder = tmp.path().join(f.name());
        let mut history = History::open_in_memory()?;
        let before = f.prepare(&folder, &mut history)?;
        let mut config = AgentConfig::new(
            &f.task,
            folder.clone(),
            vec![folder.clone()],
            tmp.path().join("Trash"),
        );
        config.options = RunOptions {
            today: chrono::NaiveDate::from_ymd_opt(2026, 12, 3).unwrap_or_default(),
            zone: Zone::Local,
            tone: Tone::Friendly,
        };
        let started = Instant::now();
        let run = agent::run(
            &mut One(engine),
            &model,
            &model,
            &mut history,
            &mut MemoryClipboard::default(),
            &config,
            &mut ApproveAll,
            &CancelToken::new(),
        )?;
        let seconds = started.elapsed().as_secs_f64();
        let after = snapshot(&folder)?;
        let (verdict, problems) = match fixture::judge(f, &before, &after, &run) {
            Verdict::Correct => {
                ok += 1;
                ("correct", Vec::new())
            }
            Verdict::SafeFailure(p) => {
                safe += 1;
                ("safe_failure", p)
            }
            Verdict::Wrong(p) => ("wrong", p),
        };
        each.insert(
            f.name(),
            json!({
                "verdict": verdict,
                "steps": run.steps.len(),
                "seconds": (seconds * 100.0).round() / 100.0,
                "problems": problems,
                "trace": run.steps.iter().map(|s| format!("{} [{:?}]", s.summary, s.status)).collect::<Vec<_>>(),
            }),
        );
    }
    Ok(json!({
        "agent_fixtures_ok": ok,
        "agent_fixtures_safe_fail": safe,
        "agent_fixtures_total": fixtures.len(),
        "agent_fixtures": each,
    }))
}
