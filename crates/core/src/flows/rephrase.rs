//! Routed rephrase with escalation, the same from every way in.
//!
//! The first model is the router's pick (the smallest that fits), the
//! model the user is running (the app's loaded model), or one the user
//! pinned (`--model`), which is never moved. When its rewrite fails the
//! result check, the router decides what follows: with `auto_escalate` the
//! larger installed model rewrites it at once; otherwise the failure comes
//! back with the larger model offered in one action (`larger_available`).

use crate::engine::{Backend, CancelToken};
use crate::error::{Error, ErrorCode, Result};
use crate::routing::{self, Candidate, Route, Target};
use crate::tasks::rephrase::{rephrase_with, Example, RephraseMode, Rephrased, STRATEGIES};
use crate::tasks::Task;
use std::path::PathBuf;

/// Which model starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Start {
    /// The router's choice among the installed models.
    Routed,
    /// The model the user is running (the app's): a failed check may still
    /// move the rewrite to a larger one.
    Model(String),
    /// A model the user pinned (`--model`): nothing else is tried.
    Only(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RephraseRequest<'a> {
    pub text: &'a str,
    pub mode: RephraseMode,
    /// The user's accepted rewrites most like this text ([`examples_for`]).
    pub examples: &'a [Example],
    /// Another version than last time (Retry).
    pub again: bool,
    /// The user asked for the larger model.
    pub larger: bool,
}

impl<'a> RephraseRequest<'a> {
    pub fn new(text: &'a str, mode: RephraseMode) -> Self {
        Self {
            text,
            mode,
            examples: &[],
            again: false,
            larger: false,
        }
    }
}

/// What the flow did.
#[derive(Debug)]
pub struct Routed {
    /// The rewrite, or why the last model's rewrite was rejected.
    pub result: Result<Rephrased>,
    /// The id of the model that wrote `result`.
    pub model: String,
    /// The final route: after an escalation, the escalation's; after a
    /// failure without one, the offer of the larger model, if there is one.
    pub route: Route,
    /// The larger model took over after the first one failed the check.
    pub escalated: bool,
}

impl Routed {
    /// The larger model a failed rewrite may be retried with.
    pub fn offer(&self) -> Option<&Target> {
        match &self.result {
            Err(e) if e.code() == ErrorCode::ResultRejected => self.route.larger_available.as_ref(),
            _ => None,
        }
    }
}

/// Rewrites `request.text` as described in the module's introduction.
/// `candidates` gives the installed models as the router sees them; it is
/// asked only when they matter (routing, or a rejected rewrite to
/// escalate), since reading every model's header takes a noticeable part
/// of a second and the hotkey's model in use needs none of it to start.
/// `on_piece` receives each attempt's stream with its number; a larger
/// model's attempts go on numbering after the first model's, so a new
/// number always means "start over".
pub fn rephrase_routed(
    models: &mut dyn Backend,
    candidates: &dyn Fn() -> Vec<Candidate>,
    settings: &routing::Settings,
    start: &Start,
    request: &RephraseRequest,
    cancel: &CancelToken,
    on_piece: &mut dyn FnMut(usize, &str),
) -> Result<Routed> {
    let mut ask = routing::Request::new(Task::Rephrase, request.text);
    ask.larger = request.larger;
    let (first, route, pool) = match start {
        Start::Only(id) => (
            id.clone(),
            pinned(id, "the model chosen with --model"),
            None,
        ),
        // The installed models are looked up only if the rewrite fails.
        Start::Model(id) if !request.larger => (id.clone(), pinned(id, "the model in use"), None),
        Start::Model(id) => {
            let pool = from_model(id, &candidates());
            let route = routing::route_locally(&ask, &pool, settings, "rewrites")?;
            (local_id(&route)?, route, Some(pool))
        }
        Start::Routed => {
            let pool = candidates();
            let route = routing::route_locally(&ask, &pool, settings, "rewrites")?;
            (local_id(&route)?, route, Some(pool))
        }
    };
    let result = run(models, &first, request, 0, cancel, on_piece)?;
    let failed = matches!(&result, Err(e) if e.code() == ErrorCode::ResultRejected);
    let pool = match (start, pool) {
        (Start::Only(_), _) => None,
        _ if !failed || request.larger => None,
        (_, Some(pool)) => Some(pool),
        (Start::Model(id), None) => Some(from_model(id, &candidates())),
        (Start::Routed, None) => None,
    };
    let Some(pool) = pool else {
        return Ok(Routed {
            result,
            model: first,
            route,
            escalated: false,
        });
    };
    ask.small_failed_check = true;
    // The first model is the "small" one the router escalates from.
    let pool: Vec<Candidate> = match pool.iter().find(|c| c.id == first) {
        Some(f) => pool
            .iter()
            .filter(|c| c.id == first || c.parameters > f.parameters)
            .cloned()
            .collect(),
        None => pool,
    };
    let escalation = routing::route(&ask, &pool, settings)?;
    match &escalation.target {
        Target::Local { id } if *id != first => {
            let result = run(models, id, request, STRATEGIES.len(), cancel, on_piece)?;
            Ok(Routed {
                result,
                model: id.clone(),
                route: escalation,
                escalated: true,
            })
        }
        // No larger local model, or only the remote endpoint, which answers
        // chat through the API and never a rewrite: the failure stands,
        // with whatever the router offers.
        _ => Ok(Routed {
            result,
            model: first,
            route: escalation,
            escalated: false,
        }),
    }
}

/// How many of the user's accepted rewrites join a prompt.
pub const EXAMPLES: usize = 3;

/// The accepted rewrites of `mode` (a mode or command name) most like
/// `text`, when learning from them is on (`learn`). A history that cannot
/// be read gives none: a rewrite never fails for want of examples.
pub fn examples_for(
    history: Option<&crate::history::History>,
    learn: bool,
    mode: &str,
    text: &str,
) -> Vec<Example> {
    match history {
        Some(h) if learn => h
            .similar_accepted(mode, text, EXAMPLES)
            .unwrap_or_else(|e| {
                tracing::warn!("accepted rewrites could not be searched: {e}");
                Vec::new()
            }),
        _ => Vec::new(),
    }
}

fn run(
    models: &mut dyn Backend,
    id: &str,
    request: &RephraseRequest,
    offset: usize,
    cancel: &CancelToken,
    on_piece: &mut dyn FnMut(usize, &str),
) -> Result<Result<Rephrased>> {
    let (engine, _swap) = models.engine(id)?;
    let result = rephrase_with(
        engine,
        request.text,
        request.mode,
        request.again,
        request.examples,
        cancel,
        &mut |attempt, piece| on_piece(attempt + offset, piece),
    );
    match result {
        // Only the check's verdict is an answer; anything else (cancelled,
        // too long, a failing engine) ends the flow.
        Err(e) if e.code() != ErrorCode::ResultRejected => Err(e),
        other => Ok(other),
    }
}

fn pinned(id: &str, why: &str) -> Route {
    Route {
        target: Target::Local { id: id.to_string() },
        reason: format!("{why}: {id}"),
        signals: Vec::new(),
        larger_available: None,
    }
}

/// The candidates a model in use escalates among: itself and the others.
/// A model the router does not know (an imported file of unknown size)
/// joins as the smallest.
fn from_model(id: &str, candidates: &[Candidate]) -> Vec<Candidate> {
    let mut pool = candidates.to_vec();
    if !pool.iter().any(|c| c.id == id) {
        pool.push(Candidate {
            id: id.to_string(),
            parameters: 0,
            fits: true,
        });
    }
    pool
}

fn local_id(route: &Route) -> Result<String> {
    match &route.target {
        Target::Local { id } => Ok(id.clone()),
        Target::Remote { .. } => Err(Error::NotFound(
            "an installed model that fits this machine (see `pith models recommend`)".into(),
        )),
    }
}

/// An installed model the router can send work to, with its file.
#[derive(Debug, Clone)]
pub struct InstalledCandidate {
    pub candidate: Candidate,
    pub path: PathBuf,
    /// The planner's estimate of what the loaded model takes.
    pub bytes: u64,
}

/// The installed models as the router sees them: each checked, shaped
/// (the catalog's entry, else the header's), and estimated at `context`
/// tokens against `budget_bytes`. Unusable files are left out.
pub fn installed_candidates(
    files: &[(String, PathBuf)],
    hw: &crate::hardware::HardwareProfile,
    budget_bytes: u64,
    context: u32,
) -> Vec<InstalledCandidate> {
    let prefs = crate::models::estimate::Preferences {
        app_bytes: 0,
        ..Default::default()
    };
    files
        .iter()
        .filter_map(|(id, path)| {
            let summary = crate::models::check_model_file(path).ok()?;
            let shape = crate::models::shape_of(path, &summary);
            let needs = Task::Chat.needs();
            let e = crate::models::estimate::estimate(&shape, hw, &prefs, context, &needs);
            Some(InstalledCandidate {
                candidate: Candidate {
                    id: id.clone(),
                    parameters: shape.parameters,
                    fits: e.model_bytes() <= budget_bytes,
                },
                path: path.clone(),
                bytes: e.model_bytes(),
            })
        })
        .collect()
}

/// The engine in use under `id`, and another installed model loaded on
/// demand by `load` (an escalation); the other is dropped with this value,
/// so its memory is held only while it works.
pub struct WithOthers<'a, E, F> {
    pub id: String,
    pub engine: &'a mut E,
    pub load: F,
    other: Option<(String, E)>,
}

impl<'a, E, F> WithOthers<'a, E, F> {
    pub fn new(id: impl Into<String>, engine: &'a mut E, load: F) -> Self {
        Self {
            id: id.into(),
            engine,
            load,
            other: None,
        }
    }
}

impl<E, F> Backend for WithOthers<'_, E, F>
where
    E: crate::engine::Engine,
    F: FnMut(&str) -> Result<E>,
{
    fn engine(&mut self, id: &str) -> Result<(&mut dyn crate::engine::Engine, Option<String>)> {
        if id == self.id {
            return Ok((&mut *self.engine, None));
        }
        if self.other.as_ref().is_none_or(|(o, _)| o != id) {
            self.other = None;
            self.other = Some((id.to_string(), (self.load)(id)?));
        }
        match self.other.as_mut() {
            Some((_, e)) => Ok((e, None)),
            None => Err(Error::NotFound(format!("model {id:?}"))),
        }
    }
}

#[cfg(test)]
mod tests;
