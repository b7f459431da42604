//! Saved KV states on disk: the evaluated prompt prefixes of rephrase modes
//! and conversations, so a restart or a switch of conversation restores in
//! milliseconds instead of evaluating again.
//!
//! Files are named `<key>--<model fingerprint>.kv`: a state is only ever
//! offered to the model that wrote it, and the engine compares the tokens
//! stored in it with the new prompt before using it. The folder is bounded:
//! least recently used files go first. This module owns the files; the
//! engine reads and writes their contents.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Disk space for saved states unless configured otherwise.
pub const DEFAULT_MAX_BYTES: u64 = 512 << 20;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateStore {
    pub dir: PathBuf,
    pub max_bytes: u64,
}

/// Keys become file names: letters, digits, `-` and `_` only.
fn sanitize(key: &str) -> String {
    key.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

impl StateStore {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            max_bytes: DEFAULT_MAX_BYTES,
        }
    }

    /// In the data folder: `<data>/state`.
    pub fn in_data_dir() -> Option<Self> {
        crate::paths::data_dir().map(|d| Self::new(d.join("state")))
    }

    pub fn path(&self, key: &str, model: &str) -> PathBuf {
        self.dir
            .join(format!("{}--{}.kv", sanitize(key), sanitize(model)))
    }

    /// The check file beside a state file.
    fn check_path(path: &Path) -> PathBuf {
        path.with_extension("kv.check")
    }

    /// Size and a BLAKE3 hash of the whole file. llama.cpp aborts the
    /// process on a truncated or malformed state file instead of failing,
    /// so a file is only handed to it when this matches what was written.
    /// (Hashing only its ends let a corrupted middle through; BLAKE3 reads
    /// a 32 MB state in milliseconds.)
    fn seal_of(path: &Path) -> Option<String> {
        let mut f = std::fs::File::open(path).ok()?;
        let size = f.metadata().ok()?.len();
        let mut hasher = blake3::Hasher::new();
        std::io::copy(&mut f, &mut hasher).ok()?;
        Some(format!("{size} {}", hasher.finalize().to_hex()))
    }

    /// Records what the state file `written` looks like, for when it is in
    /// place at `path` (write, seal, then rename into place).
    pub fn seal(&self, written: &Path, path: &Path) -> bool {
        let Some(seal) = Self::seal_of(written) else {
            return false;
        };
        let check = Self::check_path(path);
        let tmp = check.with_extension("check.tmp");
        std::fs::write(&tmp, seal).is_ok() && std::fs::rename(&tmp, &check).is_ok()
    }

    /// True when the state file is exactly as it was sealed.
    pub fn verify(&self, path: &Path) -> bool {
        let recorded = std::fs::read_to_string(Self::check_path(path)).ok();
        recorded.is_some() && recorded == Self::seal_of(path)
    }

    /// Deletes a state file and its check.
    pub fn remove(&self, path: &Path) {
        let _ = std::fs::remove_file(path);
        let _ = std::fs::remove_file(Self::check_path(path));
    }

    /// Marks a state as just used (for least-recently-used eviction).
    pub fn touch(&self, path: &Path) {
        if let Ok(f) = std::fs::File::options().append(true).open(path) {
            let _ = f.set_modified(SystemTime::now());
        }
    }

    /// Deletes the least recently used states until the folder fits in
    /// `max_bytes`; `keep` is never deleted.
    pub fn evict(&self, keep: &Path) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        let mut files: Vec<(SystemTime, u64, PathBuf)> = entries
            .filter_map(|e| e.ok())
            .filter(|e| e.path().extension().is_some_and(|x| x == "kv"))
            .filter_map(|e| {
                let m = e.metadata().ok()?;
                Some((m.modified().ok()?, m.len(), e.path()))
            })
            .collect();
        let mut total: u64 = files.iter().map(|f| f.1).sum();
        files.sort();
        for (_, size, path) in files {
            if total <= self.max_bytes {
                break;
            }
            if path != keep && std::fs::remove_file(&path).is_ok() {
                let _ = std::fs::remove_file(Self::check_path(&path));
                total -= size;
            }
        }
    }

    /// Deletes every model's state for `key` (a deleted conversation).
    pub fn forget(&self, key: &str) {
        let prefix = format!("{}--", sanitize(key));
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        for e in entries.filter_map(|e| e.ok()) {
            if e.file_name().to_string_lossy().starts_with(&prefix) {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }

    /// Bytes used by saved states.
    pub fn used_bytes(&self) -> u64 {
        std::fs::read_dir(&self.dir)
            .map(|it| {
                it.filter_map(|e| e.ok()?.metadata().ok())
                    .map(|m| m.len())
                    .sum()
            })
            .unwrap_or(0)
    }
}

/// The key of a conversation's state.
pub fn conversation_key(id: i64) -> String {
    format!("conversation-{id}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn write(store: &StateStore, key: &str, model: &str, bytes: usize, age_s: u64) -> PathBuf {
        std::fs::create_dir_all(&store.dir).expect("mkdir");
        let p = store.path(key, model);
        std::fs::write(&p, vec![0u8; bytes]).expect("write");
        let f = std::fs::File::options()
            .append(true)
            .open(&p)
            .expect("open");
        f.set_modified(SystemTime::now() - Duration::from_secs(age_s))
            .expect("mtime");
        p
    }

    #[test]
    fn the_least_recently_used_states_go_first_when_over_the_bound() {
        let dir = tempfile::tempdir().expect("tmp");
        let store = StateStore {
            dir: dir.path().to_path_buf(),
            max_bytes: 250,
        };
        let old = write(&store, "conversation-1", "m", 100, 300);
        let used = write(&store, "conversation-2", "m", 100, 200);
        let newest = write(&store, "rephrase-proofread", "m", 100, 100);
        store.touch(&used); // used again just now
        store.evict(&newest);
        assert!(!old.exists(), "oldest evicted");
        assert!(used.exists() && newest.exists());
        assert_eq!(store.used_bytes(), 200);
        // The file just written survives even when it alone is over the bound.
        let tiny = StateStore {
            max_bytes: 10,
            ..store.clone()
        };
        tiny.evict(&newest);
        assert!(newest.exists() && !used.exists());
    }

    #[test]
    fn forgetting_a_conversation_removes_its_states_for_every_model() {
        let dir = tempfile::tempdir().expect("tmp");
        let store = StateStore::new(dir.path());
        let a = write(&store, "conversation-4", "model-a", 10, 0);
        let b = write(&store, "conversation-4", "model-b", 10, 0);
        let other = write(&store, "conversation-42", "model-a", 10, 0);
        store.forget(&conversation_key(4));
        assert!(!a.exists() && !b.exists());
        assert!(other.exists(), "conversation-42 is another conversation");
        // Forgetting in a folder that does not exist is a no-op.
        StateStore::new(dir.path().join("absent")).forget("x");
    }

    #[test]
    fn only_a_file_exactly_as_sealed_is_trusted() {
        let dir = tempfile::tempdir().expect("tmp");
        let store = StateStore::new(dir.path());
        let p = store.path("conversation-1", "m");
        std::fs::write(&p, vec![7u8; 300_000]).expect("write");
        assert!(!store.verify(&p), "never sealed");
        assert!(store.seal(&p, &p));
        assert!(store.verify(&p));
        let mut bytes = std::fs::read(&p).expect("read");
        bytes.truncate(150_000);
        std::fs::write(&p, &bytes).expect("truncate");
        assert!(!store.verify(&p), "truncated");
        assert!(store.seal(&p, &p));
        bytes[10] ^= 1;
        std::fs::write(&p, &bytes).expect("corrupt");
        assert!(!store.verify(&p), "header changed");
        // Before: only the first and last 64 KiB were hashed, so a file
        // corrupted in the middle was handed to llama.cpp.
        bytes[10] ^= 1;
        std::fs::write(&p, &bytes).expect("restore");
        assert!(store.verify(&p), "as sealed");
        bytes[75_000] ^= 1;
        std::fs::write(&p, &bytes).expect("corrupt the middle");
        assert!(!store.verify(&p), "middle changed");
        store.remove(&p);
        assert!(!p.exists() && !p.with_extension("kv.check").exists());
    }

    #[test]
    fn keys_cannot_escape_the_folder() {
        let store = StateStore::new("/data/state");
        let p = store.path("../../etc/passwd", "m/../x");
        assert_eq!(p.parent(), Some(Path::new("/data/state")));
    }
}
