//! Agent fixtures: a task, the folder it starts from, the conversations
//! the history holds, and what must be true after (`tests/agent/*/`). The
//! real-model tests and `pith bench` run them and judge each run:
//! correct, a safe failure (the folder exactly as it started), or wrong.

use crate::engine::Role;
use crate::error::{Error, Result};
use crate::history::{AgentRun, History, MessageStatus, RunStatus, StepStatus};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fixture {
    pub task: String,
    #[serde(default)]
    pub conversations: Vec<Seed>,
    pub expect: Expect,
    /// The fixture's folder (set by [`load`]).
    #[serde(skip)]
    pub dir: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seed {
    pub title: String,
    /// `[role, text]` pairs.
    pub messages: Vec<(String, String)>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// The folder's file names afterwards, compared without case.
    #[serde(default)]
    pub names: Option<Vec<String>>,
    /// Every file it started with is still there with the same bytes.
    #[serde(default)]
    pub unchanged: bool,
    /// How many files the run adds.
    #[serde(default)]
    pub new_files: Option<usize>,
    /// Words a new file holds at least `new_file_min` of.
    #[serde(default)]
    pub new_file_words: Vec<String>,
    #[serde(default)]
    pub new_file_min: usize,
    /// Words the answer or a written step result holds, all of them.
    #[serde(default)]
    pub text_words: Vec<String>,
}

/// Where the fixtures are: `$PITH_AGENT_FIXTURES`, else (a build run from
/// the checkout) its `tests/agent`. A release build never holds the path
/// of the folder it was built in.
pub fn default_root() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("PITH_AGENT_FIXTURES") {
        return Some(PathBuf::from(d));
    }
    #[cfg(debug_assertions)]
    {
        let checkout = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/agent");
        if let Ok(d) = checkout.canonicalize() {
            return Some(d);
        }
    }
    None
}

/// A folder's files: name → bytes.
pub type Snapshot = BTreeMap<String, Vec<u8>>;

pub fn snapshot(dir: &Path) -> Result<Snapshot> {
    let mut out = Snapshot::new();
    let entries = std::fs::read_dir(dir)
        .map_err(|e| Error::io(format!("could not list {}", dir.display()), e))?;
    for e in entries.flatten() {
        if e.path().is_file() {
            let bytes = std::fs::read(e.path())
                .map_err(|err| Error::io(format!("could not read {}", e.path().display()), err))?;
            out.insert(e.file_name().to_string_lossy().to_string(), bytes);
        }
    }
    Ok(out)
}

/// Every fixture under `root`, by name.
pub fn load_all(root: &Path) -> Result<Vec<Fixture>> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root)
        .map_err(|e| Error::io(format!("could not list {}", root.display()), e))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("fixture.toml").is_file())
        .collect();
    dirs.sort();
    dirs.iter().map(|d| load(d)).collect()
}

pub fn load(dir: &Path) -> Result<Fixture> {
    let path = dir.join("fixture.toml");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Error::io(format!("could not read {}", path.display()), e))?;
    let mut f: Fixture = toml::from_str(&text)
        .map_err(|e| Error::InvalidInput(format!("{} is not valid: {e}", path.display())))?;
    f.dir = dir.to_path_buf();
    Ok(f)
}

impl Fixture {
    pub fn name(&self) -> String {
        self.dir
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().to_string())
    }

    /// Copies the starting folder into `folder` (made empty) and adds the
    /// conversations to `history`.
    pub fn prepare(&self, folder: &Path, history: &mut History) -> Result<Snapshot> {
        std::fs::create_dir_all(folder)
            .map_err(|e| Error::io(format!("could not create {}", folder.display()), e))?;
        for (name, bytes) in snapshot(&self.dir.join("start"))? {
            std::fs::write(folder.join(&name), bytes)
                .map_err(|e| Error::io(format!("could not write {name}"), e))?;
        }
        for seed in &self.conversations {
            let id = history.create_conversation(&seed.title, None)?;
            for (role, text) in &seed.messages {
                let role = if role == "assistant" {
                    Role::Assistant
                } else {
                    Role::User
                };
                history.add_message(id, role, text, MessageStatus::Complete, None)?;
            }
        }
        snapshot(folder)
    }
}

/// How a run did on a fixture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Finished, and everything expected is true.
    Correct,
    /// Not done, but the folder is exactly as it started.
    SafeFailure(Vec<String>),
    /// The folder changed and is not what was expected.
    Wrong(Vec<String>),
}

/// Judges `run` on `fixture` from the folder before and after.
pub fn judge(fixture: &Fixture, before: &Snapshot, after: &Snapshot, run: &AgentRun) -> Verdict {
    let mut problems = Vec::new();
    if run.status != RunStatus::Finished {
        problems.push(format!(
            "the run ended {}: {}",
            run.status.as_str(),
            run.message.as_deref().unwrap_or("")
        ));
    }
    let e = &fixture.expect;
    if let Some(names) = &e.names {
        let mut want: Vec<String> = names.iter().map(|n| n.to_lowercase()).collect();
        let mut got: Vec<String> = after.keys().map(|n| n.to_lowercase()).collect();
        want.sort();
        got.sort();
        if want != got {
            problems.push(format!("the files are {got:?}, not {want:?}"));
        }
    }
    if e.unchanged {
        for (name, bytes) in before {
            if after.get(name) != Some(bytes) {
                problems.push(format!("{name} changed or is gone"));
            }
        }
    }
    let new: Vec<(&String, &Vec<u8>)> = after
        .iter()
        .filter(|(n, _)| !before.contains_key(*n))
        .collect();
    if let Some(count) = e.new_files {
        if new.len() != count {
            problems.push(format!("{} new file(s), not {count}", new.len()));
        }
    }
    if !e.new_file_words.is_empty() {
        let best = new
            .iter()
            .map(|(_, bytes)| {
                let text = String::from_utf8_lossy(bytes).to_lowercase();
                e.new_file_words
                    .iter()
                    .filter(|w| text.contains(&w.to_lowercase()))
                    .count()
            })
            .max()
            .unwrap_or(0);
        if best < e.new_file_min {
            problems.push(format!(
                "no new file names {} of {:?} ({best} at best)",
                e.new_file_min, e.new_file_words
            ));
        }
    }
    if !e.text_words.is_empty() {
        let mut written: Vec<String> = run.answer.iter().cloned().collect();
        written.extend(
            run.steps
                .iter()
                .filter(|s| s.status == StepStatus::Done && WRITERS.contains(&s.tool.as_str()))
                .map(|s| s.output.clone()),
        );
        let ok = written.iter().any(|t| {
            let t = t.to_lowercase();
            e.text_words.iter().all(|w| t.contains(&w.to_lowercase()))
        });
        if !ok {
            problems.push(format!("nothing written holds all of {:?}", e.text_words));
        }
    }
    if problems.is_empty() {
        Verdict::Correct
    } else if after == before {
        Verdict::SafeFailure(problems)
    } else {
        Verdict::Wrong(problems)
    }
}

/// Tools whose result is text the model wrote for the person.
pub const WRITERS: &[&str] = &["draft_email", "summarize", "rephrase", "make_todo"];

#[cfg(test)]
mod tests {
    use super::*;

    fn fixtures() -> Vec<Fixture> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/agent");
        load_all(&root).expect("the fixtures load")
    }

    fn run(status: RunStatus, answer: Option<&str>) -> AgentRun {
        AgentRun {
            id: 1,
            task: String::new(),
            folder: String::new(),
            status,
            answer: answer.map(str::to_string),
            message: None,
            planner: String::new(),
            worker: String::new(),
            created_at: 0,
            steps: Vec::new(),
            changes: Vec::new(),
        }
    }

    #[test]
    fn the_three_fixtures_load_with_their_folders() {
        let all = fixtures();
        let names: Vec<String> = all.iter().map(Fixture::name).collect();
        assert_eq!(
            names,
            ["email-from-history", "rename-pdfs", "todo-from-notes"]
        );
        for f in &all {
            assert!(
                !snapshot(&f.dir.join("start")).expect("start").is_empty(),
                "{}",
                f.name()
            );
        }
    }

    #[test]
    fn a_rename_is_judged_by_the_names_and_an_untouched_folder_is_a_safe_failure() {
        let f = fixtures()
            .into_iter()
            .find(|f| f.name() == "rename-pdfs")
            .expect("fixture");
        let before = snapshot(&f.dir.join("start")).expect("start");
        let mut after = Snapshot::new();
        for (i, name) in f
            .expect
            .names
            .clone()
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            after.insert(name.clone(), vec![i as u8]);
        }
        assert_eq!(
            judge(&f, &before, &after, &run(RunStatus::Finished, None)),
            Verdict::Correct
        );
        assert!(matches!(
            judge(&f, &before, &before, &run(RunStatus::Failed, None)),
            Verdict::SafeFailure(_)
        ));
        let mut half = before.clone();
        let first = half.keys().next().cloned().expect("a file");
        let bytes = half.remove(&first).expect("bytes");
        half.insert("Wrong name.pdf".into(), bytes);
        assert!(matches!(
            judge(&f, &before, &half, &run(RunStatus::Finished, None)),
            Verdict::Wrong(_)
        ));
    }

    #[test]
    fn an_email_must_carry_the_facts() {
        let f = fixtures()
            .into_iter()
            .find(|f| f.name() == "email-from-history")
            .expect("fixture");
        let start = snapshot(&f.dir.join("start")).expect("start");
        let good = run(
            RunStatus::Finished,
            Some("Hi all, the offsite is in Porto on March 12."),
        );
        assert_eq!(judge(&f, &start, &start, &good), Verdict::Correct);
        let vague = run(RunStatus::Finished, Some("Hi all, see you at the offsite."));
        assert!(matches!(
            judge(&f, &start, &start, &vague),
            Verdict::SafeFailure(_)
        ));
    }
}
