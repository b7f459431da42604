//! `pith agent` and `pith undo` on the real default model: the fixtures of
//! `tests/agent` (each run finishes correctly or leaves its folder exactly
//! as it started), undo putting a run back byte for byte, steps rejected
//! from standard input, and the refusals that need no model.

mod common;

use common::{pith_env, stderr as err, stdout as out};
use pith_core::flows::agent::fixture::{self, snapshot, Fixture, Verdict};
use pith_core::history::History;
use std::path::PathBuf;
use std::process::Output;

const MODEL: &str = "--model=../../models/SmolLM2-135M-Instruct.Q4_1.gguf";

/// A data folder, a trash and a working folder of the test's own.
struct Place {
    _tmp: tempfile::TempDir,
    data: PathBuf,
    xdg: PathBuf,
    folder: PathBuf,
}

impl Place {
    fn new(name: &str) -> Self {
        let tmp = tempfile::tempdir().expect("tmp");
        let data = tmp.path().join("data");
        let xdg = tmp.path().join("xdg");
        std::fs::create_dir_all(&data).expect("data");
        std::fs::create_dir_all(&xdg).expect("xdg");
        let folder = tmp.path().join(name);
        Self {
            data,
            xdg,
            folder,
            _tmp: tmp,
        }
    }

    fn pith(&self, args: &[&str], stdin: &[u8]) -> Output {
        let xdg = self.xdg.to_str().expect("utf8");
        pith_env(
            &self.data,
            args,
            stdin,
            &[("XDG_DATA_HOME", xdg), ("TZ", "UTC")],
        )
    }

    fn history(&self) -> History {
        History::open(&self.data.join("history.sqlite3"))
            .expect("history")
            .0
    }

    /// Sets up `f`'s folder and conversations; the folder as it starts.
    fn prepare(&self, f: &Fixture) -> fixture::Snapshot {
        f.prepare(&self.folder, &mut self.history())
            .expect("prepare")
    }

    fn agent(&self, task: &str, extra: &[&str], stdin: &[u8]) -> Output {
        let folder = self.folder.to_str().expect("utf8");
        let mut args = vec![
            "agent",
            task,
            "--folder",
            folder,
            "--today",
            "2026-12-03",
            MODEL,
        ];
        args.extend_from_slice(extra);
        self.pith(&args, stdin)
    }
}

fn fixtures() -> Vec<Fixture> {
    fixture::load_all(&fixture::default_root().expect("the checkout's fixtures")).expect("load")
}

fn named(name: &str) -> Fixture {
    fixtures()
        .into_iter()
        .find(|f| f.name() == name)
        .expect("fixture")
}

fn run_id(o: &Output) -> i64 {
    let v: serde_json::Value = serde_json::from_str(out(o).trim()).expect("one JSON run");
    v["id"].as_i64().expect("id")
}

#[test]
fn every_fixture_finishes_correctly_or_leaves_its_folder_as_it_was() {
    let mut verdicts = Vec::new();
    for f in fixtures() {
        let place = Place::new(&f.name());
        let before = place.prepare(&f);
        let o = place.agent(&f.task, &["--yes", "--json"], b"");
        assert!(
            o.status.code() == Some(0) || o.status.code() == Some(3),
            "{}: {}",
            f.name(),
            err(&o)
        );
        let run = place.history().agent_run(run_id(&o)).expect("stored run");
        let after = snapshot(&place.folder).expect("after");
        let verdict = fixture::judge(&f, &before, &after, &run);
        assert!(
            !matches!(verdict, Verdict::Wrong(_)),
            "{} changed its folder without doing the task: {verdict:?}\n{run:#?}",
            f.name()
        );
        // A run that ended without its answer left nothing behind.
        if run.status != pith_core::history::RunStatus::Finished {
            assert_eq!(after, before, "{}", f.name());
        }
        verdicts.push((f.name(), verdict));
    }
    eprintln!("{verdicts:?}");
}

#[test]
fn undo_is_refused_after_an_edit_then_puts_the_run_back_byte_for_byte() {
    let f = named("rename-pdfs");
    let place = Place::new("papers");
    let before = place.prepare(&f);
    let o = place.agent(&f.task, &["--yes", "--json"], b"");
    let run = place.history().agent_run(run_id(&o)).expect("run");
    assert!(!run.changes.is_empty(), "the run renamed files: {run:#?}");
    let renamed = snapshot(&place.folder).expect("after");
    assert_ne!(renamed, before);

    // The run is there to review, with its steps.
    let o = place.pith(&["agent", "--runs", "--json"], b"");
    let runs: serde_json::Value = serde_json::from_str(&out(&o)).expect("json");
    assert_eq!(runs[0]["task"], f.task.as_str());
    assert_eq!(
        runs[0]["steps"].as_array().map(Vec::len),
        Some(run.steps.len())
    );

    // A renamed file edited since: undo refuses and changes nothing.
    let (name, bytes) = renamed.iter().next().expect("a file");
    std::fs::write(place.folder.join(name), "edited since").expect("edit");
    let edited = snapshot(&place.folder).expect("edited");
    let o = place.pith(&["undo"], b"");
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("changed since the run"), "{}", err(&o));
    assert!(err(&o).contains("nothing was changed"), "{}", err(&o));
    assert_eq!(snapshot(&place.folder).expect("as it was"), edited);

    // Put back as the run left it, undo restores the start exactly.
    std::fs::write(place.folder.join(name), bytes).expect("restore");
    let o = place.pith(&["undo"], b"");
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).contains("Undid agent run"), "{}", out(&o));
    assert_eq!(snapshot(&place.folder).expect("undone"), before);

    let o = place.pith(&["undo"], b"");
    assert_eq!(o.status.code(), Some(1));
    assert!(
        err(&o).contains("no agent run has changes to undo"),
        "{}",
        err(&o)
    );
}

#[test]
fn steps_asked_on_the_terminal_are_shown_first_and_a_no_changes_nothing() {
    let f = named("rename-pdfs");
    let place = Place::new("papers");
    let before = place.prepare(&f);
    let o = place.agent(&f.task, &[], b"n\nn\nn\nn\nn\n");
    let e = err(&o);
    assert!(e.contains("Approve? [y]es, [n]o"), "{e}");
    assert!(
        e.contains("Step 3: Rename "),
        "the names before and after are shown: {e}"
    );
    assert!(e.contains("rejected"), "{e}");
    assert_eq!(snapshot(&place.folder).expect("after"), before);
}

#[test]
fn without_a_folder_the_agent_says_how_to_give_one() {
    let place = Place::new("none");
    let o = place.pith(&["agent", "tidy up"], b"");
    assert_eq!(o.status.code(), Some(1));
    assert!(
        err(&o).contains("give --folder DIR, or grant a folder in Settings"),
        "{}",
        err(&o)
    );
    let o = place.pith(&["agent", "tidy up", "--folder", "/no/such/folder"], b"");
    assert!(err(&o).contains("does not exist"), "{}", err(&o));
}
