//! What a file operation takes to reverse, and reversing it exactly.
//!
//! Each change is journaled (in SQLite, with its run) with the content's
//! SHA-256 as it was left. Undo checks every change of a run first — the
//! file is still there with the same bytes, the old name is still free —
//! and changes nothing when one fails, saying which and why; then it
//! reverses them newest first.

use super::trash::{self, Trashed};
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Change {
    /// A new file: undone by removing it (it did not exist before).
    Created { path: PathBuf, sha256: String },
    /// Undone by renaming it back.
    Renamed {
        from: PathBuf,
        to: PathBuf,
        sha256: String,
    },
    /// Moved to the trash: undone by moving it back.
    Trashed {
        path: PathBuf,
        file: PathBuf,
        info: PathBuf,
        sha256: String,
    },
}

impl Change {
    /// One line for the person: "created todo.md".
    pub fn describe(&self) -> String {
        let name = |p: &Path| {
            p.file_name().map_or_else(
                || p.display().to_string(),
                |n| n.to_string_lossy().to_string(),
            )
        };
        match self {
            Change::Created { path, .. } => format!("created {}", name(path)),
            Change::Renamed { from, to, .. } => format!("renamed {} to {}", name(from), name(to)),
            Change::Trashed { path, .. } => format!("moved {} to the trash", name(path)),
        }
    }
}

/// The SHA-256 of a file's bytes, in hex.
pub fn sha256_file(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path)
        .map_err(|e| Error::io(format!("could not read {}", path.display()), e))?;
    Ok(sha256(&bytes))
}

pub fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Why `change` cannot be reversed as things are now; `None` when it can.
pub fn blocker(change: &Change) -> Option<String> {
    let same = |path: &Path, sha: &str| -> Option<String> {
        match sha256_file(path) {
            Ok(now) if now == sha => None,
            Ok(_) => Some(format!("{} changed since the run", path.display())),
            Err(_) => Some(format!("{} is gone", path.display())),
        }
    };
    let free = |path: &Path| -> Option<String> {
        path.symlink_metadata()
            .is_ok()
            .then(|| format!("{} exists again", path.display()))
    };
    match change {
        Change::Created { path, sha256 } => same(path, sha256),
        Change::Renamed { from, to, sha256 } => same(to, sha256).or_else(|| free(from)),
        Change::Trashed {
            path, file, sha256, ..
        } => same(file, sha256).or_else(|| free(path)),
    }
}

/// Reverses `changes` (in the order they were made): all or nothing.
pub fn undo(changes: &[Change]) -> Result<Vec<String>> {
    let blockers: Vec<String> = changes.iter().filter_map(blocker).collect();
    if !blockers.is_empty() {
        return Err(Error::InvalidInput(format!(
            "the run cannot be undone, and nothing was changed: {}",
            blockers.join("; ")
        )));
    }
    let mut done = Vec::new();
    for change in changes.iter().rev() {
        match change {
            Change::Created { path, .. } => std::fs::remove_file(path)
                .map_err(|e| Error::io(format!("could not remove {}", path.display()), e))?,
            Change::Renamed { from, to, .. } => trash::move_file(to, from)?,
            Change::Trashed {
                path, file, info, ..
            } => trash::restore(
                &Trashed {
                    file: file.clone(),
                    info: info.clone(),
                },
                path,
            )?,
        }
        done.push(format!("undid: {}", change.describe()));
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rename_and_a_new_file_are_reversed_exactly() {
        let dir = tempfile::tempdir().expect("tmp");
        let a = dir.path().join("a.txt");
        let b = dir.path().join("b.txt");
        let n = dir.path().join("new.md");
        std::fs::write(&a, "A").expect("write");
        std::fs::rename(&a, &b).expect("rename");
        std::fs::write(&n, "N").expect("write");
        let changes = vec![
            Change::Renamed {
                from: a.clone(),
                to: b.clone(),
                sha256: sha256(b"A"),
            },
            Change::Created {
                path: n.clone(),
                sha256: sha256(b"N"),
            },
        ];
        let done = undo(&changes).expect("undo");
        assert_eq!(done.len(), 2);
        assert_eq!(std::fs::read(&a).expect("a"), b"A");
        assert!(!b.exists() && !n.exists());
    }

    #[test]
    fn a_file_changed_since_blocks_the_whole_undo() {
        let dir = tempfile::tempdir().expect("tmp");
        let n = dir.path().join("new.md");
        let m = dir.path().join("other.md");
        std::fs::write(&n, "edited by the person").expect("write");
        std::fs::write(&m, "M").expect("write");
        let changes = vec![
            Change::Created {
                path: m.clone(),
                sha256: sha256(b"M"),
            },
            Change::Created {
                path: n.clone(),
                sha256: sha256(b"N"),
            },
        ];
        let e = undo(&changes).expect_err("refused").to_string();
        assert!(e.contains("new.md changed since the run"), "{e}");
        assert!(e.contains("nothing was changed"), "{e}");
        assert!(m.exists() && n.exists(), "all or nothing");
    }
}
