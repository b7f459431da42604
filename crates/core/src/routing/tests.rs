use super::*;

fn model(id: &str, millions: u64, fits: bool) -> Candidate {
    Candidate {
        id: id.into(),
        parameters: millions * 1_000_000,
        fits,
    }
}

fn small_only() -> Vec<Candidate> {
    vec![model("smollm2-135m", 135, true)]
}

fn small_and_large() -> Vec<Candidate> {
    vec![
        model("qwen2.5-1.5b", 1540, true),
        model("smollm2-135m", 135, true),
        model("llama-3.2-3b", 3210, false),
    ]
}

fn remote_on() -> Settings {
    Settings {
        remote: Some(Remote {
            base_url: "http://127.0.0.1:9/v1".into(),
            model: "big".into(),
        }),
        auto_escalate: false,
    }
}

fn local(id: &str) -> Target {
    Target::Local { id: id.into() }
}

fn go(task: Task, text: &str, installed: &[Candidate], settings: &Settings) -> Route {
    route(&Request::new(task, text), installed, settings).expect("routed")
}

#[test]
fn simple_work_goes_to_the_smallest_model_that_fits() {
    let s = Settings::default();
    for task in [Task::Rephrase, Task::Summarize, Task::Chat] {
        let r = go(task, "Hi, how are you today", &small_and_large(), &s);
        assert_eq!(r.target, local("smollm2-135m"), "{task}");
        assert_eq!(r.larger_available, Some(local("qwen2.5-1.5b")), "{task}");
    }
}

#[test]
fn complex_questions_go_to_the_largest_model_that_fits() {
    let s = Settings::default();
    let cases = [
        (
            "Why does this fail?\n```rust\nfn main() { let x: u8 = 300; }\n```",
            Signal::Code,
        ),
        ("Solve 3x + 7 = 22 for x.", Signal::Math),
        ("What is 1234 * 5678?", Signal::Math),
    ];
    for (text, signal) in cases {
        let r = go(Task::Chat, text, &small_and_large(), &s);
        assert_eq!(r.target, local("qwen2.5-1.5b"), "{text}");
        assert!(r.signals.contains(&signal), "{text}: {:?}", r.signals);
        assert!(r.reason.contains("larger local model"), "{}", r.reason);
    }
    // Two softer signals together also count; one alone does not.
    let two = "Compare trains and planes for a trip to Rome. Which is cheaper? Which is faster?";
    assert_eq!(
        go(Task::Chat, two, &small_and_large(), &s).target,
        local("qwen2.5-1.5b")
    );
    let one = "Compare tea and coffee.";
    assert_eq!(
        go(Task::Chat, one, &small_and_large(), &s).target,
        local("smollm2-135m")
    );
}

#[test]
fn a_model_that_does_not_fit_is_never_chosen() {
    let installed = vec![
        model("smollm2-135m", 135, true),
        model("llama-3.2-3b", 3210, false),
    ];
    let r = go(
        Task::Chat,
        "Solve x^2 = 16 step by step.",
        &installed,
        &Settings::default(),
    );
    assert_eq!(r.target, local("smollm2-135m"));
    assert!(
        r.reason.contains("no larger installed model fits"),
        "{}",
        r.reason
    );
    assert_eq!(r.larger_available, None);
}

#[test]
fn long_documents_go_to_the_larger_model() {
    let mut req = Request::new(Task::Summarize, "");
    req.document_tokens = 12_000;
    let r = route(&req, &small_and_large(), &Settings::default()).expect("routed");
    assert_eq!(r.target, local("qwen2.5-1.5b"));
    assert!(r.reason.contains("12000 tokens"), "{}", r.reason);
    req.document_tokens = 2_000;
    let r = route(&req, &small_and_large(), &Settings::default()).expect("routed");
    assert_eq!(r.target, local("smollm2-135m"));
}

#[test]
fn the_user_can_ask_for_the_larger_model() {
    let mut req = Request::new(Task::Rephrase, "fix this sentence");
    req.larger = true;
    let r = route(&req, &small_and_large(), &Settings::default()).expect("routed");
    assert_eq!(r.target, local("qwen2.5-1.5b"));
    let r = route(&req, &small_only(), &Settings::default()).expect("routed");
    assert_eq!(r.target, local("smollm2-135m"));
    assert!(r.reason.contains("largest installed model"), "{}", r.reason);
}

#[test]
fn a_failed_rewrite_escalates_only_when_allowed_and_is_offered_otherwise() {
    let mut req = Request::new(Task::Rephrase, "teh cat sat");
    req.small_failed_check = true;
    let offered = route(&req, &small_and_large(), &Settings::default()).expect("routed");
    assert_eq!(offered.target, local("smollm2-135m"));
    assert_eq!(offered.larger_available, Some(local("qwen2.5-1.5b")));
    let auto = Settings {
        auto_escalate: true,
        ..Settings::default()
    };
    let escalated = route(&req, &small_and_large(), &auto).expect("routed");
    assert_eq!(escalated.target, local("qwen2.5-1.5b"));
    assert!(
        escalated.reason.contains("escalated"),
        "{}",
        escalated.reason
    );
}

#[test]
fn remote_is_used_only_when_switched_on_and_no_larger_local_model_exists() {
    let hard = "Prove that the square root of 2 is irrational.";
    // Off by default: the small local model answers.
    let r = go(Task::Chat, hard, &small_only(), &Settings::default());
    assert_eq!(r.target, local("smollm2-135m"));
    // On: the remote endpoint answers the hard question, not the easy one.
    let r = go(Task::Chat, hard, &small_only(), &remote_on());
    assert!(matches!(r.target, Target::Remote { .. }), "{r:?}");
    assert!(r.target.label().contains("remote"));
    let easy = go(Task::Chat, "Hello!", &small_only(), &remote_on());
    assert_eq!(easy.target, local("smollm2-135m"));
    // A larger local model is preferred to remote.
    let r = go(Task::Chat, hard, &small_and_large(), &remote_on());
    assert_eq!(r.target, local("qwen2.5-1.5b"));
}

#[test]
fn with_nothing_that_fits_the_error_says_what_to_do() {
    let none = vec![model("llama-3.2-3b", 3210, false)];
    let err =
        route(&Request::new(Task::Chat, "hi"), &none, &Settings::default()).expect_err("none");
    assert!(err.to_string().contains("fits this machine"), "{err}");
    let err = route(&Request::new(Task::Chat, "hi"), &[], &Settings::default()).expect_err("none");
    assert!(err.to_string().contains("models pull"), "{err}");
    let r = route(&Request::new(Task::Chat, "hi"), &none, &remote_on()).expect("remote");
    assert!(matches!(r.target, Target::Remote { .. }));
}

#[test]
fn signals_table() {
    let cases: &[(&str, &[Signal])] = &[
        ("Hello there", &[]),
        ("def add(a, b): return a + b", &[Signal::Code]),
        ("What is 12 + 30?", &[Signal::Math]),
        (
            "Explain why the sky is blue, step by step.",
            &[Signal::MultiStep],
        ),
        ("Where is it? When is it?", &[Signal::SeveralQuestions]),
    ];
    for (text, expected) in cases {
        assert_eq!(&signals(text), expected, "{text}");
    }
    assert!(signals(&"word ".repeat(200)).contains(&Signal::Long));
}

#[test]
fn two_models_stay_loaded_only_when_both_fit() {
    assert!(keep_both(300, 1_200, 2_000));
    assert!(!keep_both(300, 1_800, 2_000));
}
