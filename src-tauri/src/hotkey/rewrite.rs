//! Running the popup's rewrite: the core's routed rephrase on the hotkey's
//! worker, starting from the model in use and escalating as the settings
//! say, with the result kept in the session. Generic over the engine, so
//! it is tested here on the scripted one.

use super::Hotkey;
use crate::state::{lock, AppState, Reply};
use pith_core::engine::Engine;
use pith_core::error::ErrorCode;
use pith_core::flows::rephrase::InstalledCandidate;
use pith_core::flows::rephrase::{
    examples_for, rephrase_routed, RephraseRequest, Start, WithOthers,
};
use pith_core::flows::session::Finished;
use pith_core::flows::summary::model_name;
use pith_core::routing;
use pith_core::tasks::rephrase::RephraseMode;
use serde::Serialize;
use std::cell::OnceCell;
use std::path::Path;

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum RephraseEvent {
    /// A new attempt starts: what was shown is replaced.
    Attempt {
        n: usize,
    },
    Piece {
        text: String,
    },
}

#[derive(Debug, Serialize, ts_rs::TS)]
pub struct RephraseDone {
    pub text: String,
    pub mode: RephraseMode,
    /// Proofreading found nothing to change.
    pub unchanged: bool,
    /// The model that wrote it.
    pub model: String,
    /// A larger model took over after the first one failed the check.
    pub escalated: bool,
}

/// A stream callback (`on_piece(attempt, piece)`) as popup events: a new
/// attempt's number first, then its pieces.
pub fn events(send: impl Fn(RephraseEvent)) -> impl FnMut(usize, &str) {
    let mut shown = 0;
    move |n, piece| {
        if n != shown {
            shown = n;
            send(RephraseEvent::Attempt { n });
        }
        send(RephraseEvent::Piece {
            text: piece.to_string(),
        });
    }
}

/// Where a rewrite may go besides the model in use.
pub struct Escalation<I, F> {
    pub settings: routing::Settings,
    /// The installed models: looked up only when a rewrite fails the
    /// check (reading their headers takes a noticeable part of a second,
    /// which the first token must not wait for).
    pub installed: I,
    /// Loads an installed model's file.
    pub load: F,
    /// Show the model the user's accepted rewrites like this text.
    pub learn: bool,
}

/// Rewrites the pending text in `mode` (`again`: another version, for
/// Retry), streaming through `on_event`.
pub async fn run<E, I, F>(
    state: &AppState<E>,
    hotkey: &Hotkey,
    mode: RephraseMode,
    again: bool,
    escalation: Escalation<I, F>,
    on_event: impl Fn(RephraseEvent) + Send + 'static,
) -> Reply<RephraseDone>
where
    E: Engine + 'static,
    I: FnOnce() -> Vec<InstalledCandidate> + Send + 'static,
    F: Fn(&Path) -> pith_core::Result<E> + Send + 'static,
{
    let (id, text) = lock(&hotkey.session).to_run()?;
    hotkey.stop();
    let Escalation {
        settings,
        installed,
        load,
        learn,
    } = escalation;
    let examples = match state.history() {
        Ok(store) => examples_for(Some(&lock(&store)), learn, mode.name(), &text),
        Err(_) => Vec::new(),
    };
    let routed = state
        .run_rephrase(&hotkey.running, move |engine: &mut E, cancel| {
            let found = OnceCell::new();
            let installed = std::cell::Cell::new(Some(installed));
            let list = || found.get_or_init(|| installed.take().map(|f| f()).unwrap_or_default());
            let candidates = || list().iter().map(|c| c.candidate.clone()).collect();
            let load_id = |id: &str| {
                let path = list()
                    .iter()
                    .find(|c| c.candidate.id == id)
                    .map(|c| c.path.clone())
                    .ok_or_else(|| pith_core::Error::NotFound(format!("installed model {id:?}")))?;
                load(&path)
            };
            let model = model_name(engine);
            let mut models = WithOthers::new(model.clone(), engine, load_id);
            let request = RephraseRequest {
                again,
                examples: &examples,
                ..RephraseRequest::new(&text, mode)
            };
            rephrase_routed(
                &mut models,
                &candidates,
                &settings,
                &Start::Model(model),
                &request,
                cancel,
                &mut events(&on_event),
            )
        })
        .await??;
    let rephrased = match routed.result {
        Ok(r) => r,
        Err(e) => {
            let mut payload = e.to_payload();
            if let (ErrorCode::ResultRejected, Some(_)) =
                (payload.code, &routed.route.larger_available)
            {
                payload.message = format!("{} ({})", payload.message, routed.route.reason);
            }
            return Err(payload);
        }
    };
    lock(&hotkey.session).finish(
        id,
        Finished {
            text: rephrased.text.clone(),
            mode: rephrased.mode,
            model: routed.model.clone(),
            command: None,
        },
    )?;
    Ok(RephraseDone {
        text: rephrased.text,
        mode: rephrased.mode,
        unchanged: rephrased.unchanged,
        model: routed.model,
        escalated: routed.escalated,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::EngineStatus;
    use pith_core::engine::{ScriptedEngine, Worker};
    use pith_core::routing::Candidate;
    use pith_core::Error;
    use std::sync::{Arc, Mutex};

    const TEXT: &str = "Send the invoice by Friday.";
    const BAD: &str = "I'm sorry about that.";
    const GOOD: &str = "Hi! Could you send the invoice by Friday? Thanks!";

    /// The app with a small scripted model loaded that fails every rewrite,
    /// and a key press on TEXT.
    fn app() -> (AppState<ScriptedEngine>, Hotkey) {
        let state = AppState::with_history(Err(Error::History("none".into())));
        let engine = ScriptedEngine::new(2048).reply(BAD).reply(BAD).reply(BAD);
        let model = engine.info().clone();
        let worker = Worker::spawn(move || Ok(engine)).expect("worker");
        state.set(EngineStatus::Ready { model, threads: 1 }, Some(worker));
        let hotkey = Hotkey::default();
        lock(&hotkey.session).begin(Ok(TEXT.into()), RephraseMode::Friendly);
        (state, hotkey)
    }

    /// The installed models: the one in use and a larger one, which passes.
    /// The installed models, as the shell finds them when asked: the one
    /// in use and a larger one, which passes.
    type Installed = Vec<InstalledCandidate>;

    fn escalation(
        auto: bool,
        loads: Arc<Mutex<Vec<String>>>,
    ) -> Escalation<impl FnOnce() -> Installed, impl Fn(&Path) -> pith_core::Result<ScriptedEngine>>
    {
        let model = |id: &str, parameters: u64| InstalledCandidate {
            candidate: Candidate {
                id: id.into(),
                parameters,
                fits: true,
            },
            path: format!("/models/{id}.gguf").into(),
            bytes: 0,
        };
        Escalation {
            settings: routing::Settings {
                remote: None,
                auto_escalate: auto,
            },
            learn: true,
            installed: move || {
                vec![
                    model("scripted", 135_000_000),
                    model("larger", 1_500_000_000),
                ]
            },
            load: move |path: &Path| {
                let id = path.file_stem().map(|s| s.to_string_lossy().into_owned());
                lock(&loads).push(id.unwrap_or_default());
                Ok(ScriptedEngine::new(2048).reply(GOOD))
            },
        }
    }

    fn rewrite(auto: bool) -> (Reply<RephraseDone>, Hotkey, Vec<String>) {
        let (state, hotkey) = app();
        let loads = Arc::new(Mutex::new(Vec::new()));
        let done = tauri::async_runtime::block_on(run(
            &state,
            &hotkey,
            RephraseMode::Friendly,
            false,
            escalation(auto, Arc::clone(&loads)),
            |_| {},
        ));
        let loaded = lock(&loads).clone();
        (done, hotkey, loaded)
    }

    #[test]
    fn with_auto_escalate_the_hotkey_rewrite_comes_from_the_larger_model() {
        let (done, hotkey, loads) = rewrite(true);
        let done = done.expect("the larger model's rewrite passes");
        assert_eq!(done.text, GOOD);
        assert!(done.escalated);
        assert_eq!(done.model, "larger");
        assert_eq!(loads, ["larger"]);
        // Accept hands out what the larger model wrote.
        let record = lock(&hotkey.session).accept(|_| Ok(())).expect("accepted");
        assert_eq!(
            (record.result.as_str(), record.model.as_str()),
            (GOOD, "larger")
        );
    }

    #[test]
    fn without_auto_escalate_the_hotkey_says_the_larger_model_can_try() {
        let (done, hotkey, loads) = rewrite(false);
        let err = done.expect_err("rejected");
        assert_eq!(err.code, ErrorCode::ResultRejected);
        assert!(err.message.contains("larger can try it"), "{}", err.message);
        assert!(loads.is_empty(), "nothing else was loaded");
        assert!(lock(&hotkey.session).accept(|_| Ok(())).is_err());
    }

    #[test]
    fn nothing_pending_runs_nothing() {
        let (state, _) = app();
        let hotkey = Hotkey::default();
        let loads = Arc::new(Mutex::new(Vec::new()));
        let r = tauri::async_runtime::block_on(run(
            &state,
            &hotkey,
            RephraseMode::Rewrite,
            false,
            escalation(true, loads),
            |_| {},
        ));
        assert_eq!(r.expect_err("nothing").code, ErrorCode::InvalidInput);
    }
}
