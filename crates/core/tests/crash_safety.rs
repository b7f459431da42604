//! Kill -9 at random moments: every message whose id was printed (its
//! transaction had committed) is still there, and the database is intact.

use pith_core::history::{History, MessageId};
use std::collections::HashSet;
use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

fn writer_binary() -> PathBuf {
    // Tests run from target/<profile>/deps; cargo builds examples beside it.
    let exe = std::env::current_exe().expect("test binary path");
    let dir = exe.parent().and_then(|d| d.parent()).expect("target dir");
    let bin = dir.join("examples").join("history_writer");
    assert!(bin.is_file(), "{} is built by `cargo test`", bin.display());
    bin
}

#[test]
fn committed_messages_survive_two_hundred_kill_nines() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("history.sqlite3");
    let bin = writer_binary();
    let mut printed: HashSet<i64> = HashSet::new();
    let mut rng: u64 = 0x9e37_79b9_7f4a_7c15;
    for round in 0..200 {
        let mut child = Command::new(&bin)
            .arg(&db)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("writer starts");
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        std::thread::sleep(Duration::from_micros(2_000 + rng % 40_000));
        child.kill().expect("SIGKILL");
        child.wait().expect("reaped");
        let mut out = String::new();
        child
            .stdout
            .take()
            .expect("stdout")
            .read_to_string(&mut out)
            .expect("reads");
        // A line cut mid-write has no newline: only whole lines were committed ids.
        for line in out.split_inclusive('\n').filter(|l| l.ends_with('\n')) {
            printed.insert(
                line.trim()
                    .parse()
                    .unwrap_or_else(|_| panic!("round {round}: bad line {line:?}")),
            );
        }
    }
    let (history, _) = History::open(&db).expect("reopens");
    assert_eq!(history.integrity_check().expect("check"), "ok");
    let conversation = history.conversations().expect("list")[0].id;
    let stored: HashSet<MessageId> = history
        .messages(conversation)
        .expect("messages")
        .iter()
        .map(|m| m.id)
        .collect();
    let missing: Vec<_> = printed
        .iter()
        .filter(|id| !stored.contains(&MessageId(**id)))
        .collect();
    assert!(missing.is_empty(), "committed but lost: {missing:?}");
    assert!(
        printed.len() > 100,
        "the writer got to write: {} ids",
        printed.len()
    );
}
