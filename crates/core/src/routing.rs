//! Which model answers a request, and why.
//!
//! Small models do rephrasing, summaries and ordinary conversation well and
//! fast; a complex question is better served by a larger model. [`route`]
//! is a pure function over the installed models (each with whether the
//! planner says it fits this machine), the request, and the user's
//! settings. It prefers the smallest model that fits, moves to the largest
//! one that fits when the request is hard (judged from its task, length and
//! [`signals`] such as code, math or several steps), or when the user asks
//! for it, or when the small model's rewrite failed Pith's check. A remote
//! OpenAI-compatible endpoint is used only when the user has configured and
//! switched it on; nothing leaves the machine otherwise.

use crate::error::{Error, Result};
use crate::tasks::Task;
use serde::{Deserialize, Serialize};

/// A document longer than this many tokens goes to the larger model.
pub const LONG_DOCUMENT_TOKENS: usize = 6000;
/// A chat message longer than this is itself a signal of a harder request.
pub const LONG_QUESTION_WORDS: usize = 120;
/// A larger model must have at least this many times the parameters to be
/// worth its slower answers.
pub const LARGER_FACTOR: f64 = 1.5;

/// An installed model as the router sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    pub id: String,
    pub parameters: u64,
    /// The planner's verdict for this machine.
    pub fits: bool,
}

/// A remote OpenAI-compatible endpoint the user configured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Remote {
    /// e.g. `https://api.example.com/v1`
    pub base_url: String,
    pub model: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// `Some` only when the user switched the remote endpoint on.
    pub remote: Option<Remote>,
    /// Escalate a failed small-model rewrite to the larger model without
    /// asking.
    pub auto_escalate: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request<'a> {
    pub task: Task,
    pub text: &'a str,
    /// Tokens of the document (summaries); 0 when unknown or not a document.
    pub document_tokens: usize,
    /// The user asked for the larger model ("retry with the larger model").
    pub larger: bool,
    /// The small model's rewrite of this text failed the result check.
    pub small_failed_check: bool,
}

impl<'a> Request<'a> {
    pub fn new(task: Task, text: &'a str) -> Self {
        Self {
            task,
            text,
            document_tokens: 0,
            larger: false,
            small_failed_check: false,
        }
    }
}

/// Where a request goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Target {
    Local {
        id: String,
    },
    /// Answers from here are marked as remote wherever they are shown.
    Remote {
        base_url: String,
        model: String,
    },
}

impl Target {
    pub fn label(&self) -> String {
        match self {
            Target::Local { id } => id.clone(),
            Target::Remote { model, base_url } => format!("{model} (remote, {base_url})"),
        }
    }
}

/// Something in a request that suggests a harder question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Signal {
    Code,
    Math,
    MultiStep,
    Long,
    SeveralQuestions,
}

impl Signal {
    pub fn describe(self) -> &'static str {
        match self {
            Signal::Code => "contains code",
            Signal::Math => "asks for math",
            Signal::MultiStep => "asks for several steps of reasoning",
            Signal::Long => "is long",
            Signal::SeveralQuestions => "asks several questions",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Route {
    pub target: Target,
    /// The whole explanation, for people.
    pub reason: String,
    pub signals: Vec<Signal>,
    /// A larger model that could answer instead, offered in one action.
    pub larger_available: Option<Target>,
}

/// The signals of a harder request in `text`.
pub fn signals(text: &str) -> Vec<Signal> {
    let lower = text.to_lowercase();
    let mut out = Vec::new();
    let code = text.contains("```")
        || [
            "fn ",
            "def ",
            "class ",
            "#include",
            "import ",
            "function(",
            "=>",
            "();",
            "{\n",
        ]
        .iter()
        .any(|k| text.contains(k))
        || [
            "stack trace",
            "compile error",
            "segfault",
            "regex",
            "sql query",
        ]
        .iter()
        .any(|k| lower.contains(k));
    if code {
        out.push(Signal::Code);
    }
    let math_words = [
        "solve",
        "equation",
        "integral",
        "derivative",
        "prove",
        "probability",
        "calculate",
        "compute",
        "percent of",
        "square root",
        "matrix",
    ];
    let has_expression = text
        .as_bytes()
        .windows(3)
        .any(|w| w[0].is_ascii_digit() && b"+-*/^=".contains(&w[1]) && w[2].is_ascii_digit())
        || text
            .split_whitespace()
            .collect::<Vec<_>>()
            .windows(3)
            .any(|w| {
                w[0].chars().all(|c| c.is_ascii_digit() || c == '.')
                    && ["+", "-", "*", "/", "×", "÷", "^", "="].contains(&w[1])
                    && w[2].chars().any(|c| c.is_ascii_digit())
            });
    if has_expression || math_words.iter().any(|w| lower.contains(w)) {
        out.push(Signal::Math);
    }
    let steps = [
        "step by step",
        "step-by-step",
        "explain why",
        "compare",
        "pros and cons",
        "trade-off",
        "tradeoff",
        "plan for",
        "first,",
        "and then",
        "analy",
    ];
    if steps.iter().any(|w| lower.contains(w)) {
        out.push(Signal::MultiStep);
    }
    if text.split_whitespace().count() > LONG_QUESTION_WORDS {
        out.push(Signal::Long);
    }
    if text.matches('?').count() >= 2 {
        out.push(Signal::SeveralQuestions);
    }
    out
}

/// The router's choice among the local models only, for work a remote
/// endpoint cannot take (`what`: "rewrites", "tools and JSON formats"):
/// where the router would send it there, the smallest local model answers
/// and the reason says so.
pub fn route_locally(
    ask: &Request,
    candidates: &[Candidate],
    settings: &Settings,
    what: &str,
) -> Result<Route> {
    let mut chosen = route(ask, candidates, settings)?;
    if matches!(chosen.target, Target::Remote { .. }) {
        let local = route(ask, candidates, &Settings::default())?;
        chosen
            .reason
            .push_str(&format!("; {what} are answered locally"));
        chosen.target = local.target;
    }
    Ok(chosen)
}

/// Picks the model for `request` among `installed`.
pub fn route(request: &Request, installed: &[Candidate], settings: &Settings) -> Result<Route> {
    let mut fitting: Vec<&Candidate> = installed.iter().filter(|c| c.fits).collect();
    fitting.sort_by_key(|c| (c.parameters, c.id.clone()));
    let remote = settings.remote.as_ref().map(|r| Target::Remote {
        base_url: r.base_url.clone(),
        model: r.model.clone(),
    });
    let signals = match request.task {
        Task::Chat => signals(request.text),
        _ => Vec::new(),
    };
    let Some(small) = fitting.first() else {
        return match remote {
            Some(target) => Ok(Route {
                reason: "no installed model fits this machine; the remote endpoint you switched \
                         on answers instead"
                    .into(),
                target,
                signals,
                larger_available: None,
            }),
            None => Err(Error::NotFound(if installed.is_empty() {
                "an installed model (run `pith models recommend`, then `pith models pull ID`)"
                    .into()
            } else {
                "an installed model that fits this machine's memory (see `pith models recommend`)"
                    .into()
            })),
        };
    };
    let large = fitting
        .iter()
        .rev()
        .find(|c| c.parameters as f64 >= small.parameters as f64 * LARGER_FACTOR);
    let local = |c: &Candidate| Target::Local { id: c.id.clone() };
    // The larger target: a larger local model, else the remote endpoint.
    let larger = large.map(|c| local(c)).or_else(|| remote.clone());
    let larger_name = |t: &Target| t.label();

    let small_route = |reason: String, offer: bool| Route {
        target: local(small),
        reason,
        signals: signals.clone(),
        larger_available: if offer { larger.clone() } else { None },
    };
    let larger_route = |target: Target, reason: String| Route {
        target,
        reason,
        signals: signals.clone(),
        larger_available: None,
    };

    if request.larger {
        return Ok(match &larger {
            Some(t) => larger_route(
                t.clone(),
                format!("you asked for the larger model: {}", larger_name(t)),
            ),
            None => small_route(
                format!(
                    "you asked for a larger model, but {} is the largest installed model that fits \
                     this machine",
                    small.id
                ),
                false,
            ),
        });
    }
    if request.small_failed_check {
        return Ok(match (&larger, settings.auto_escalate) {
            (Some(t), true) => larger_route(
                t.clone(),
                format!(
                    "{}'s rewrite failed the result check; escalated to {}",
                    small.id,
                    larger_name(t)
                ),
            ),
            (Some(t), false) => small_route(
                format!(
                    "{}'s rewrite failed the result check; {} can try it (one action)",
                    small.id,
                    larger_name(t)
                ),
                true,
            ),
            (None, _) => small_route(
                format!(
                    "{}'s rewrite failed the result check, and no larger installed model fits",
                    small.id
                ),
                false,
            ),
        });
    }
    let fast = format!("{} is the smallest model that fits: fast", small.id);
    match request.task {
        Task::Rephrase => Ok(small_route(
            format!("a rewrite is quick, frequent work; {fast}"),
            true,
        )),
        Task::Summarize if request.document_tokens > LONG_DOCUMENT_TOKENS => Ok(match large {
            Some(c) => larger_route(
                local(c),
                format!(
                    "a long document ({} tokens) is read more faithfully by the larger {}",
                    request.document_tokens, c.id
                ),
            ),
            None => small_route(
                format!(
                    "a long document ({} tokens), but no larger installed model fits; {fast}",
                    request.document_tokens
                ),
                false,
            ),
        }),
        Task::Summarize => Ok(small_route(format!("a short document; {fast}"), true)),
        Task::Chat => {
            let described: Vec<&str> = signals.iter().map(|s| s.describe()).collect();
            // Code and math are hard for small models on their own; the
            // other signals count when two come together.
            let hard = signals
                .iter()
                .any(|s| matches!(s, Signal::Code | Signal::Math))
                || signals.len() >= 2;
            if !hard {
                let why = if described.is_empty() {
                    "a simple message".to_string()
                } else {
                    format!("the message {}", described.join(" and "))
                };
                return Ok(small_route(format!("{why}; {fast}"), true));
            }
            let why = format!("the message {}", described.join(" and "));
            Ok(match (large, &remote) {
                (Some(c), _) => larger_route(
                    local(c),
                    format!("{why}: the larger local model {} answers", c.id),
                ),
                (None, Some(t)) => larger_route(
                    t.clone(),
                    format!(
                        "{why}, and no larger local model is installed: the remote endpoint \
                         you switched on answers"
                    ),
                ),
                (None, None) => small_route(
                    format!(
                        "{why}, but no larger installed model fits (install one with \
                         `pith models pull`); {} answers",
                        small.id
                    ),
                    false,
                ),
            })
        }
    }
}

/// Whether a second model may stay loaded beside the first: only when
/// both fit the memory budget together; otherwise the first is unloaded
/// (a swap, whose cost is a model load).
pub fn keep_both(first_bytes: u64, second_bytes: u64, budget_bytes: u64) -> bool {
    first_bytes.saturating_add(second_bytes) <= budget_bytes
}

#[cfg(test)]
mod tests;
