use super::*;
use crate::engine::{Engine, ScriptStep, ScriptedEngine, SingleModel};
use crate::tools::MemoryClipboard;
use std::collections::BTreeMap;
use std::path::Path;

struct Setup {
    _dir: tempfile::TempDir,
    folder: PathBuf,
    outside: PathBuf,
    config: AgentConfig,
    history: History,
    models: SingleModel<ScriptedEngine>,
    clipboard: MemoryClipboard,
}

fn setup(replies: &[&str]) -> Setup {
    let dir = tempfile::tempdir().expect("tmp");
    let folder = dir.path().join("papers");
    std::fs::create_dir(&folder).expect("mkdir");
    std::fs::write(
        folder.join("a.txt"),
        "Budget review\nThe numbers for March.\n",
    )
    .expect("write");
    std::fs::write(folder.join("b.txt"), "Team offsite\nWe meet in Porto.\n").expect("write");
    let outside = dir.path().join("outside");
    std::fs::create_dir(&outside).expect("mkdir");
    std::fs::write(outside.join("secret.txt"), "not yours").expect("write");
    let mut engine = ScriptedEngine::new(20_000);
    for r in replies {
        engine.push_reply(r);
    }
    let mut config = AgentConfig::new(
        // Names no tool: every tool is on offer.
        "sort out the papers",
        folder.clone(),
        vec![folder.clone()],
        dir.path().join("Trash"),
    );
    config.max_steps = 8;
    Setup {
        folder,
        outside,
        config,
        history: History::open_in_memory().expect("db"),
        models: SingleModel {
            id: "small".into(),
            engine,
        },
        clipboard: MemoryClipboard::default(),
        _dir: dir,
    }
}

/// Every file under `dir`: name → bytes.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .expect("list")
        .map(|e| e.expect("entry"))
        .map(|e| {
            (
                e.file_name().to_string_lossy().to_string(),
                std::fs::read(e.path()).unwrap_or_default(),
            )
        })
        .collect()
}

/// Decides from a list, and records what it was shown.
struct Person {
    decisions: Vec<Decision>,
    shown: Vec<Proposal>,
    events: Vec<AgentEvent>,
    cancel_at_step: Option<(usize, CancelToken)>,
}

impl Person {
    fn new(decisions: &[Decision]) -> Self {
        Self {
            decisions: decisions.to_vec(),
            shown: Vec::new(),
            events: Vec::new(),
            cancel_at_step: None,
        }
    }
}

impl Supervisor for Person {
    fn decide(&mut self, proposal: &Proposal) -> Decision {
        self.shown.push(proposal.clone());
        if self.decisions.is_empty() {
            Decision::Cancel
        } else {
            self.decisions.remove(0)
        }
    }
    fn event(&mut self, event: &AgentEvent) {
        if let (AgentEvent::Thinking { n }, Some((at, token))) = (event, &self.cancel_at_step) {
            if n == at {
                token.cancel();
            }
        }
        self.events.push(event.clone());
    }
}

fn go(s: &mut Setup, person: &mut Person, cancel: &CancelToken) -> AgentRun {
    run(
        &mut s.models,
        "small",
        "small",
        &mut s.history,
        &mut s.clipboard,
        &s.config,
        person,
        cancel,
    )
    .expect("the run is stored")
}

const LIST: &str = r#"{"tool": "list_folder", "arguments": {}}"#;
const READ_A: &str = r#"{"tool": "read_document", "arguments": {"path": "a.txt"}}"#;
const RENAME_A: &str =
    r#"{"tool": "rename_file", "arguments": {"path": "a.txt", "new_name": "Budget review"}}"#;
const DONE: &str = r#"{"tool": "finish", "arguments": {"answer": "Renamed a.txt."}}"#;

#[test]
fn an_approved_run_changes_the_folder_and_undo_puts_it_back_byte_for_byte() {
    let mut s = setup(&[LIST, READ_A, RENAME_A, DONE]);
    let before = snapshot(&s.folder);
    let mut person = Person::new(&[Decision::Approve]);
    let r = go(&mut s, &mut person, &CancelToken::new());
    assert_eq!(r.status, RunStatus::Finished, "{r:?}");
    // A run that changed files answers with Pith's account of them.
    assert_eq!(
        r.answer.as_deref(),
        Some("Done: renamed a.txt to Budget review.txt.")
    );
    assert!(s.folder.join("Budget review.txt").exists());
    assert_eq!(r.steps.len(), 3);
    assert_eq!(r.changes, ["renamed a.txt to Budget review.txt"]);
    // The person saw the names before and after, before anything moved.
    let shown = &person.shown[0].preview;
    assert_eq!(shown.before.as_deref(), Some("a.txt"));
    assert_eq!(shown.after.as_deref(), Some("Budget review.txt"));
    // The tools were offered with the listed files as a choice.
    let schema = s.models.engine.requests[1]
        .constraint
        .as_ref()
        .expect("a grammar")
        .schema
        .to_string();
    assert!(schema.contains(r#""enum":["a.txt","b.txt"]"#), "{schema}");
    // After reading a.txt for a per-file task, only its change or a skip
    // is offered: no finish, no other file.
    let pending = s.models.engine.requests[2]
        .constraint
        .as_ref()
        .expect("a grammar")
        .schema
        .to_string();
    assert!(
        pending.contains("skip_file") && !pending.contains("finish"),
        "{pending}"
    );
    assert!(!pending.contains("b.txt"), "{pending}");

    let undone = undo_last(&mut s.history).expect("undo");
    assert_eq!(undone.status, RunStatus::Undone);
    assert_eq!(snapshot(&s.folder), before);
    assert!(undo_last(&mut s.history).is_err(), "nothing left to undo");
}

#[test]
fn a_rejected_step_does_not_run_and_the_model_is_told() {
    let mut s = setup(&[LIST, READ_A, RENAME_A, DONE]);
    let before = snapshot(&s.folder);
    let mut person = Person::new(&[Decision::Reject]);
    let r = go(&mut s, &mut person, &CancelToken::new());
    assert_eq!(r.status, RunStatus::Finished);
    assert_eq!(r.steps[2].status, StepStatus::Rejected);
    assert_eq!(snapshot(&s.folder), before);
    assert!(s
        .models
        .engine
        .last_prompt_text()
        .contains("the person rejected this step"));
}

#[test]
fn a_tool_error_is_a_failed_step_the_model_reads_and_nothing_changes() {
    // The clipboard is empty: the tool says so.
    let clip = r#"{"tool": "read_clipboard", "arguments": {}}"#;
    let mut s = setup(&[LIST, clip, DONE]);
    let before = snapshot(&s.folder);
    let r = go(&mut s, &mut Person::new(&[]), &CancelToken::new());
    assert_eq!(r.status, RunStatus::Finished);
    assert_eq!(r.steps[1].status, StepStatus::Failed, "{:?}", r.steps[1]);
    assert!(
        r.steps[1].output.contains("the clipboard holds no text"),
        "{}",
        r.steps[1].output
    );
    assert!(s
        .models
        .engine
        .last_prompt_text()
        .contains("Result: error:"));
    assert_eq!(snapshot(&s.folder), before);
}

#[test]
fn the_step_limit_ends_the_run_and_puts_its_changes_back() {
    let write =
        r#"{"tool": "write_file", "arguments": {"name": "notes", "content": "Budget review"}}"#;
    let mut s = setup(&[write, LIST, READ_A]);
    s.config.max_steps = 2;
    let before = snapshot(&s.folder);
    let r = go(
        &mut s,
        &mut Person::new(&[Decision::Approve]),
        &CancelToken::new(),
    );
    assert_eq!(r.status, RunStatus::Failed);
    let message = r.message.unwrap_or_default();
    assert!(message.contains("step limit of 2"), "{message}");
    assert!(message.contains("put back"), "{message}");
    assert_eq!(snapshot(&s.folder), before, "notes.md was removed again");
}

#[test]
fn a_cancel_while_the_model_thinks_ends_the_run_with_no_side_effect() {
    let write = r#"{"tool": "write_file", "arguments": {"name": "notes.md", "content": "x"}}"#;
    let mut s = setup(&[write]);
    s.models.engine.push_script(vec![ScriptStep::WaitForCancel]);
    let before = snapshot(&s.folder);
    let cancel = CancelToken::new();
    let mut person = Person::new(&[Decision::Approve]);
    person.cancel_at_step = Some((2, cancel.clone()));
    let r = go(&mut s, &mut person, &cancel);
    assert_eq!(r.status, RunStatus::Cancelled);
    assert_eq!(snapshot(&s.folder), before);
}

#[test]
fn undo_is_refused_when_a_file_changed_since_and_changes_nothing() {
    let write = r#"{"tool": "write_file", "arguments": {"name": "todo.md", "content": "- [ ] Budget review"}}"#;
    let done = r#"{"tool": "finish", "arguments": {"answer": "Saved."}}"#;
    let mut s = setup(&[write, done]);
    let r = go(
        &mut s,
        &mut Person::new(&[Decision::Approve]),
        &CancelToken::new(),
    );
    assert_eq!(r.status, RunStatus::Finished);
    std::fs::write(s.folder.join("todo.md"), "edited by the person\n").expect("edit");
    let after_edit = snapshot(&s.folder);
    let e = undo_last(&mut s.history).expect_err("refused").to_string();
    assert!(e.contains("todo.md changed since the run"), "{e}");
    assert_eq!(snapshot(&s.folder), after_edit);
    assert_eq!(
        s.history.agent_run(r.id).expect("run").status,
        RunStatus::Finished
    );
}

#[test]
fn a_path_out_of_the_granted_folder_is_never_touched() {
    let escape =
        r#"{"tool": "write_file", "arguments": {"name": "../outside/x.md", "content": "x"}}"#;
    let mut s = setup(&[LIST, escape, escape, escape]);
    // A link inside the folder that points out of it.
    std::os::unix::fs::symlink(s.outside.join("secret.txt"), s.folder.join("link.txt"))
        .expect("link");
    let outside_before = snapshot(&s.outside);
    let r = go(
        &mut s,
        &mut Person::new(&[Decision::Approve]),
        &CancelToken::new(),
    );
    assert_eq!(r.status, RunStatus::Failed);
    let message = r.message.unwrap_or_default();
    assert!(
        message.contains("could not propose a valid step 2"),
        "{message}"
    );
    assert!(message.contains("folder separator"), "{message}");
    assert_eq!(snapshot(&s.outside), outside_before);

    // Reading through the link is refused by the tool, and said.
    let read_link = r#"{"tool": "read_document", "arguments": {"path": "link.txt"}}"#;
    let mut s2 = setup(&[LIST, read_link, DONE]);
    std::os::unix::fs::symlink(s2.outside.join("secret.txt"), s2.folder.join("link.txt"))
        .expect("link");
    let r = go(&mut s2, &mut Person::new(&[]), &CancelToken::new());
    assert_eq!(r.steps[1].status, StepStatus::Failed);
    assert!(
        r.steps[1].output.contains("outside the folders"),
        "{}",
        r.steps[1].output
    );
    assert!(!s2.models.engine.last_prompt_text().contains("not yours"));
}

#[test]
fn an_invented_name_or_a_repeated_call_is_asked_again_and_then_ends_the_run() {
    let invented =
        r#"{"tool": "rename_file", "arguments": {"path": "a.txt", "new_name": "Holiday photos"}}"#;
    let search = r#"{"tool": "search_history", "arguments": {"query": "papers"}}"#;
    let mut s = setup(&[LIST, search, search, invented, LIST]);
    let before = snapshot(&s.folder);
    let r = go(
        &mut s,
        &mut Person::new(&[Decision::Approve]),
        &CancelToken::new(),
    );
    assert_eq!(r.status, RunStatus::Failed);
    let message = r.message.unwrap_or_default();
    assert!(
        message.contains("could not propose a valid step 3"),
        "{message}"
    );
    assert!(
        message.contains("step 2 already called search_history"),
        "{message}"
    );
    assert!(
        message.contains("words the file does not hold (holiday, photos)"),
        "{message}"
    );
    // A tool without arguments that ran is not offered again.
    assert!(message.contains("does not fit the tools"), "{message}");
    assert_eq!(snapshot(&s.folder), before);
    // The second and third proposals were sampled, not greedy again.
    assert!(s.models.engine.requests[3].sampling.temperature > 0.0);
}

#[test]
fn approve_all_runs_the_rest_without_asking_and_trash_is_undone_too() {
    let trash = r#"{"tool": "trash_file", "arguments": {"path": "b.txt"}}"#;
    let mut s = setup(&[LIST, READ_A, RENAME_A, trash, DONE]);
    let before = snapshot(&s.folder);
    let mut person = Person::new(&[Decision::ApproveAll]);
    let r = go(&mut s, &mut person, &CancelToken::new());
    assert_eq!(r.status, RunStatus::Finished, "{r:?}");
    assert_eq!(person.shown.len(), 1, "asked once");
    assert!(!s.folder.join("b.txt").exists());
    assert!(s.config.trash.join("files/b.txt").exists());
    undo_last(&mut s.history).expect("undo");
    assert_eq!(snapshot(&s.folder), before);
    assert!(!s.config.trash.join("files/b.txt").exists());
}

#[test]
fn runs_and_steps_are_stored_for_review() {
    let mut s = setup(&[LIST, DONE]);
    let r = go(&mut s, &mut Person::new(&[]), &CancelToken::new());
    let stored = s.history.agent_runs(10).expect("runs");
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0], r);
    assert_eq!(r.steps[0].tool, "list_folder");
    assert_eq!(r.steps[0].output, "a.txt\nb.txt");
    assert_eq!(r.planner, "small");
}

#[test]
fn a_folder_not_granted_is_refused_before_the_run_starts() {
    let mut s = setup(&[]);
    s.config.granted = vec![s.outside.clone()];
    let e = run(
        &mut s.models,
        "small",
        "small",
        &mut s.history,
        &mut s.clipboard,
        &s.config,
        &mut ApproveAll,
        &CancelToken::new(),
    )
    .expect_err("refused");
    assert!(e.to_string().contains("outside the folders"), "{e}");
    assert!(s.history.agent_runs(10).expect("runs").is_empty());
}

#[test]
fn the_token_budget_ends_the_run_before_the_model_is_asked_past_it() {
    let mut s = setup(&[LIST, READ_A, RENAME_A, DONE]);
    // The first prompt fits; the second, longer by the listing, does not.
    let first = {
        let offered = vec![(FINISH, "end", json!({}))];
        let p = prompt::build(&s.config.task, &s.folder, &offered, &[], 1);
        s.models.engine.prompt_tokens(&p).expect("count")
    };
    s.config.token_budget = first + 200;
    let before = snapshot(&s.folder);
    let r = go(
        &mut s,
        &mut Person::new(&[Decision::Approve]),
        &CancelToken::new(),
    );
    assert_eq!(r.status, RunStatus::Failed);
    let message = r.message.unwrap_or_default();
    assert!(message.contains("token budget"), "{message}");
    assert_eq!(snapshot(&s.folder), before);
}

#[test]
fn planning_goes_to_the_largest_instruct_model_and_the_writing_to_the_smallest() {
    let order = ["small".to_string(), "large".to_string()];
    let both = ["small".to_string(), "large".to_string()];
    assert_eq!(
        roles(&order, &both),
        Some(("large".to_string(), "small".to_string()))
    );
    // A base model (no chat template) does not plan.
    assert_eq!(
        roles(&order, &["small".to_string()]),
        Some(("small".to_string(), "small".to_string()))
    );
    assert_eq!(roles(&[], &both), None);
}

#[test]
fn a_proposal_refused_before_the_step_that_ran_is_kept_with_the_step() {
    let invented =
        r#"{"tool": "rename_file", "arguments": {"path": "a.txt", "new_name": "Holiday photos"}}"#;
    let mut s = setup(&[LIST, READ_A, invented, RENAME_A, DONE]);
    let r = go(
        &mut s,
        &mut Person::new(&[Decision::Approve]),
        &CancelToken::new(),
    );
    assert_eq!(r.status, RunStatus::Finished);
    let step = &r.steps[2];
    assert_eq!(step.tool, "rename_file");
    assert_eq!(step.refused.len(), 1, "{step:?}");
    assert!(step.refused[0].contains("holiday, photos"), "{step:?}");
    assert!(r.steps[1].refused.is_empty());
}
