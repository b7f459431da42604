//! The Agent page: a task run in steps with tools (`pith-core`'s
//! `flows::agent`) on the app's worker. Each step that changes something
//! is sent to the window with its preview, and the run waits for Approve,
//! Approve all, Reject or Stop; the runs are listed with their steps and
//! undone from here. The folders the agent may use are granted with the
//! system's folder picker: the window never names a path of its own.

use crate::engine::{installed, load_for_hotkey, App};
use crate::settings::load;
use crate::state::{lock, Reply};
use pith_core::engine::{CancelToken, Priority};
use pith_core::flows::agent::{self, AgentConfig, AgentEvent, Decision, Proposal, Supervisor};
use pith_core::flows::rephrase::WithOthers;
use pith_core::flows::summary::model_name;
use pith_core::history::{AgentRun, History};
use pith_core::tools::{trash, Clipboard};
use pith_core::Error;
use pith_llama::LlamaEngine;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::mpsc;
use std::sync::Mutex;
use std::time::Duration;
use tauri::ipc::Channel;
use tauri::Manager;
use tauri_plugin_dialog::DialogExt;

/// The decision the window sends for the step waiting in the run.
#[derive(Default)]
pub struct AgentDesk {
    waiting: Mutex<Option<mpsc::Sender<Decision>>>,
}

/// What the page shows.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct AgentView {
    /// The granted folders.
    pub folders: Vec<String>,
    /// The last runs, newest first.
    pub runs: Vec<AgentRun>,
}

/// What a run sends as it goes.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AgentUpdate {
    Event {
        event: AgentEvent,
    },
    /// A changing step waits for the person.
    Proposal {
        proposal: Proposal,
    },
}

#[derive(Debug, Clone, Copy, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum AgentDecision {
    Approve,
    ApproveAll,
    Reject,
    Stop,
}

#[tauri::command]
pub fn agent_view(state: tauri::State<'_, App>) -> Reply<AgentView> {
    let settings = load()?;
    let store = state.history()?;
    let runs = lock(&store).agent_runs(20)?;
    Ok(AgentView {
        folders: shown(&settings.agent.folders),
        runs,
    })
}

fn shown(folders: &[PathBuf]) -> Vec<String> {
    folders.iter().map(|f| f.display().to_string()).collect()
}

/// Grants a folder the person picks; the granted folders.
#[tauri::command]
pub async fn agent_grant_folder(app: tauri::AppHandle) -> Reply<Vec<String>> {
    let dialog = app.dialog().file().set_title("Grant the agent a folder");
    let picked = tauri::async_runtime::spawn_blocking(move || dialog.blocking_pick_folder())
        .await
        .map_err(|e| Error::Inference(format!("the folder dialog failed: {e}")))?;
    let mut settings = load()?;
    if let Some(folder) = picked {
        let path = folder
            .into_path()
            .map_err(|e| Error::InvalidInput(format!("that folder cannot be used: {e}")))?;
        settings.agent.grant(&path)?;
        settings.save(&crate::settings::path()?)?;
    }
    Ok(shown(&settings.agent.folders))
}

/// Takes a granted folder back; the granted folders.
#[tauri::command]
pub fn agent_revoke_folder(folder: String) -> Reply<Vec<String>> {
    let mut settings = load()?;
    settings
        .agent
        .folders
        .retain(|f| f.display().to_string() != folder);
    settings.save(&crate::settings::path()?)?;
    Ok(shown(&settings.agent.folders))
}

/// The window's side of a run: updates go out on the channel, decisions
/// come back through [`AgentDesk`].
struct Window {
    updates: Channel<AgentUpdate>,
    decisions: mpsc::Receiver<Decision>,
    cancel: CancelToken,
}

impl Supervisor for Window {
    fn decide(&mut self, proposal: &Proposal) -> Decision {
        let _ = self.updates.send(AgentUpdate::Proposal {
            proposal: proposal.clone(),
        });
        loop {
            match self.decisions.recv_timeout(Duration::from_millis(100)) {
                Ok(d) => return d,
                Err(mpsc::RecvTimeoutError::Timeout) if !self.cancel.is_cancelled() => {}
                Err(_) => return Decision::Cancel,
            }
        }
    }
    fn event(&mut self, event: &AgentEvent) {
        let _ = self.updates.send(AgentUpdate::Event {
            event: event.clone(),
        });
    }
}

/// The system clipboard, as the hotkey reaches it.
struct AppClipboard(tauri::AppHandle);

impl Clipboard for AppClipboard {
    fn read(&mut self) -> pith_core::Result<String> {
        self.0.state::<crate::hotkey::Hotkey>().clipboard.read()
    }
    fn write(&mut self, text: &str) -> pith_core::Result<()> {
        self.0
            .state::<crate::hotkey::Hotkey>()
            .clipboard
            .write(text)
    }
}

/// Runs `task` in the granted folder `folder`; the run as stored.
#[tauri::command]
pub async fn agent_run(
    app: tauri::AppHandle,
    state: tauri::State<'_, App>,
    desk: tauri::State<'_, AgentDesk>,
    task: String,
    folder: String,
    updates: Channel<AgentUpdate>,
) -> Reply<AgentRun> {
    let settings = load()?;
    let granted = settings.agent.folders.clone();
    let root = granted
        .iter()
        .find(|f| f.display().to_string() == folder)
        .cloned()
        .ok_or_else(|| {
            Error::InvalidInput(format!(
                "{folder} is not a granted folder; grant it with \"Grant a folder…\""
            ))
        })?;
    let config = AgentConfig::new(&task, root, granted, trash::home_trash()?);
    let (send, decisions) = mpsc::channel();
    *lock(&desk.waiting) = Some(send);
    // The run keeps a connection of its own: the window's other pages use
    // the store while it waits for the person.
    let db = pith_core::history::default_path()
        .ok_or_else(|| Error::History("no data folder; set PITH_DATA_DIR".into()))?;
    let result = state
        .run(
            Priority::Interactive,
            move |engine: &mut LlamaEngine, cancel| {
                let (mut history, _) = History::open(&db)?;
                let current = model_name(engine);
                let models = installed();
                let order = pith_core::flows::extract::order(
                    &models
                        .iter()
                        .map(|m| m.candidate.clone())
                        .collect::<Vec<_>>(),
                    None,
                );
                let instruct: Vec<String> = models
                    .iter()
                    .filter(|m| {
                        pith_core::models::gguf::inspect(&m.path).is_ok_and(|g| g.has_chat_template)
                    })
                    .map(|m| m.candidate.id.clone())
                    .collect();
                let (planner, worker) = agent::roles(&order, &instruct)
                    .unwrap_or_else(|| (current.clone(), current.clone()));
                let path_of = |id: &str| {
                    models
                        .iter()
                        .find(|m| m.candidate.id == id)
                        .map(|m| m.path.clone())
                        .ok_or_else(|| Error::NotFound(format!("the installed model {id:?}")))
                };
                let mut backend =
                    WithOthers::new(current, engine, |id: &str| load_for_hotkey(&path_of(id)?));
                let mut window = Window {
                    updates,
                    decisions,
                    cancel: cancel.clone(),
                };
                agent::run(
                    &mut backend,
                    &planner,
                    &worker,
                    &mut history,
                    &mut AppClipboard(app),
                    &config,
                    &mut window,
                    cancel,
                )
            },
        )
        .await;
    *lock(&desk.waiting) = None;
    Ok(result??)
}

/// The person's answer to the step waiting in the run.
#[tauri::command]
pub fn agent_decide(
    state: tauri::State<'_, App>,
    desk: tauri::State<'_, AgentDesk>,
    decision: AgentDecision,
) -> Reply<()> {
    let d = match decision {
        AgentDecision::Approve => Decision::Approve,
        AgentDecision::ApproveAll => Decision::ApproveAll,
        AgentDecision::Reject => Decision::Reject,
        AgentDecision::Stop => {
            state.stop();
            Decision::Cancel
        }
    };
    if let Some(send) = lock(&desk.waiting).as_ref() {
        let _ = send.send(d);
    }
    Ok(())
}

/// Puts run `run` back exactly, or says why it cannot (nothing changes).
#[tauri::command]
pub fn agent_undo(state: tauri::State<'_, App>, run: i64) -> Reply<AgentRun> {
    let store = state.history()?;
    let mut history = lock(&store);
    Ok(agent::undo_run(&mut history, run)?)
}
