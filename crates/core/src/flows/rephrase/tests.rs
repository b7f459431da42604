use super::*;
use crate::engine::{Engine, ScriptedEngine};

const TEXT: &str = "Send the invoice by Friday.";
const BAD: &str = "I'm sorry about that.";
const GOOD: &str = "Hi! Could you send the invoice by Friday? Thanks!";

/// Installed models by id, each a scripted engine.
struct Models(Vec<(String, ScriptedEngine)>);

impl Backend for Models {
    fn engine(&mut self, id: &str) -> Result<(&mut dyn Engine, Option<String>)> {
        self.0
            .iter_mut()
            .find(|(m, _)| m == id)
            .map(|(_, e)| (e as &mut dyn Engine, None))
            .ok_or_else(|| Error::NotFound(id.into()))
    }
}

fn failing() -> ScriptedEngine {
    ScriptedEngine::new(4096).reply(BAD).reply(BAD).reply(BAD)
}

fn models(small: ScriptedEngine, large: ScriptedEngine) -> Models {
    Models(vec![("small".into(), small), ("large".into(), large)])
}

fn candidates() -> Vec<Candidate> {
    vec![
        Candidate {
            id: "small".into(),
            parameters: 135_000_000,
            fits: true,
        },
        Candidate {
            id: "large".into(),
            parameters: 1_500_000_000,
            fits: true,
        },
    ]
}

fn escalating(on: bool) -> routing::Settings {
    routing::Settings {
        remote: None,
        auto_escalate: on,
    }
}

fn run(models: &mut Models, settings: &routing::Settings, start: Start) -> (Routed, Vec<usize>) {
    let mut attempts = Vec::new();
    let routed = rephrase_routed(
        models,
        &candidates,
        settings,
        &start,
        &RephraseRequest::new(TEXT, RephraseMode::Friendly),
        &CancelToken::new(),
        &mut |n, _| attempts.push(n),
    )
    .expect("the flow runs");
    (routed, attempts)
}

#[test]
fn a_routed_rewrite_goes_to_the_smallest_model_and_offers_nothing_when_it_passes() {
    let mut m = models(
        ScriptedEngine::new(4096).reply(GOOD),
        ScriptedEngine::new(4096),
    );
    let (r, _) = run(&mut m, &escalating(true), Start::Routed);
    assert!(r.offer().is_none());
    assert_eq!(r.result.expect("passes").text, GOOD);
    assert_eq!(r.model, "small");
    assert!(!r.escalated);
    assert!(m.0[1].1.requests.is_empty(), "the large model never ran");
}

#[test]
fn with_auto_escalate_a_rejected_small_rewrite_is_written_again_by_the_larger_model() {
    let mut m = models(failing(), ScriptedEngine::new(4096).reply(GOOD));
    let (r, attempts) = run(&mut m, &escalating(true), Start::Routed);
    assert_eq!(r.result.expect("the larger one passes").text, GOOD);
    assert_eq!(r.model, "large");
    assert!(r.escalated);
    assert!(
        r.route.reason.contains("escalated to large"),
        "{}",
        r.route.reason
    );
    // The larger model's attempt numbers go on after the small model's three.
    assert_eq!(attempts, vec![1, 2, 3, 4]);
}

#[test]
fn without_auto_escalate_the_rejection_stands_and_the_larger_model_is_offered() {
    let mut m = models(failing(), ScriptedEngine::new(4096).reply(GOOD));
    let (r, _) = run(&mut m, &escalating(false), Start::Routed);
    let err = r.result.as_ref().expect_err("rejected");
    assert_eq!(err.code(), ErrorCode::ResultRejected);
    assert_eq!(r.offer(), Some(&Target::Local { id: "large".into() }));
    assert!(!r.escalated);
    assert!(m.0[1].1.requests.is_empty());
}

#[test]
fn the_model_in_use_escalates_like_a_routed_one() {
    // The app's (and so the hotkey's) path: the loaded model starts.
    let mut m = models(failing(), ScriptedEngine::new(4096).reply(GOOD));
    let (r, _) = run(&mut m, &escalating(true), Start::Model("small".into()));
    assert!(r.escalated);
    assert_eq!(r.model, "large");
    assert_eq!(r.result.expect("passes").text, GOOD);
}

#[test]
fn a_larger_model_in_use_does_not_escalate_to_a_smaller_one() {
    let mut m = models(ScriptedEngine::new(4096).reply(GOOD), failing());
    let (r, _) = run(&mut m, &escalating(true), Start::Model("large".into()));
    assert!(!r.escalated);
    assert_eq!(r.model, "large");
    assert!(r.offer().is_none());
    assert!(r.result.is_err());
    assert!(m.0[0].1.requests.is_empty(), "the small model never ran");
}

#[test]
fn a_pinned_model_is_never_moved() {
    let mut m = models(failing(), ScriptedEngine::new(4096).reply(GOOD));
    let (r, _) = run(&mut m, &escalating(true), Start::Only("small".into()));
    assert!(r.result.is_err());
    assert!(!r.escalated);
    assert!(r.offer().is_none());
    assert!(m.0[1].1.requests.is_empty());
}

#[test]
fn asking_for_the_larger_model_goes_there_first() {
    let mut m = models(
        ScriptedEngine::new(4096),
        ScriptedEngine::new(4096).reply(GOOD),
    );
    let mut attempts = Vec::new();
    let r = rephrase_routed(
        &mut m,
        &candidates,
        &escalating(false),
        &Start::Routed,
        &RephraseRequest {
            larger: true,
            ..RephraseRequest::new(TEXT, RephraseMode::Friendly)
        },
        &CancelToken::new(),
        &mut |n, _| attempts.push(n),
    )
    .expect("runs");
    assert_eq!(r.model, "large");
    assert_eq!(attempts, vec![1]);
}

#[test]
fn a_cancelled_rewrite_ends_the_flow_without_escalating() {
    let cancel = CancelToken::new();
    cancel.cancel();
    let mut m = models(
        ScriptedEngine::new(4096).reply(GOOD),
        ScriptedEngine::new(4096).reply(GOOD),
    );
    let err = rephrase_routed(
        &mut m,
        &candidates,
        &escalating(true),
        &Start::Routed,
        &RephraseRequest::new(TEXT, RephraseMode::Friendly),
        &cancel,
        &mut |_, _| {},
    )
    .expect_err("cancelled");
    assert_eq!(err.code(), ErrorCode::Cancelled);
    assert!(m.0[1].1.requests.is_empty());
}

#[test]
fn the_installed_models_are_looked_up_only_when_a_rewrite_of_the_model_in_use_fails() {
    // Reading every model's header takes a noticeable part of a second:
    // the hotkey's first token must not wait for it.
    let asked = std::cell::Cell::new(0);
    let counted = || {
        asked.set(asked.get() + 1);
        candidates()
    };
    let in_use = |mut m: Models| {
        rephrase_routed(
            &mut m,
            &counted,
            &escalating(true),
            &Start::Model("small".into()),
            &RephraseRequest::new(TEXT, RephraseMode::Friendly),
            &CancelToken::new(),
            &mut |_, _| {},
        )
        .expect("runs")
    };
    in_use(models(
        ScriptedEngine::new(4096).reply(GOOD),
        ScriptedEngine::new(4096),
    ));
    assert_eq!(asked.get(), 0, "a passing rewrite never asks");
    let r = in_use(models(failing(), ScriptedEngine::new(4096).reply(GOOD)));
    assert!(r.escalated);
    assert_eq!(asked.get(), 1, "a failing one asks once");
}

#[test]
fn the_engine_in_use_loads_another_model_only_when_asked_and_once() {
    let mut loads = Vec::new();
    let mut main = ScriptedEngine::new(4096);
    {
        let mut b = WithOthers::new("main", &mut main, |id: &str| {
            loads.push(id.to_string());
            Ok(ScriptedEngine::new(2048))
        });
        assert_eq!(b.engine("main").expect("in use").0.info().context, 4096);
        assert_eq!(b.engine("other").expect("loaded").0.info().context, 2048);
        assert!(b.engine("other").is_ok());
    }
    assert_eq!(loads, vec!["other".to_string()]);
}
