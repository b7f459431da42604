//! Kill -9 at random moments: every message whose id was printed (its
//! transaction had committed) is still there, and the database is intact.
//!
//! The writer is this same test binary started again with `PITH_CRASH_WRITER`
//! set: it then writes messages as fast as it can, printing each id once its
//! transaction has committed, until it is killed.

use pith_core::engine::Role;
use pith_core::history::{History, MessageId, MessageStats, MessageStatus};
use std::collections::HashSet;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

const TEST_NAME: &str = "committed_messages_survive_two_hundred_kill_nines";

/// The child's side: write until killed.
fn write_until_killed(db: &Path) -> ! {
    let (mut history, _) = History::open(db).expect("opens");
    let conversation = match history.conversations().expect("list").first() {
        Some(c) => c.id,
        None => history
            .create_conversation("crash test", None)
            .expect("create"),
    };
    let mut out = std::io::stdout().lock();
    for i in 0u64.. {
        let id = history
            .add_message(
                conversation,
                Role::User,
                &format!("message {i}"),
                MessageStatus::Complete,
                None,
            )
            .expect("add");
        writeln!(out, "{}", id.0).expect("print");
        out.flush().expect("flush");
        let reply = history
            .add_message(
                conversation,
                Role::Assistant,
                "",
                MessageStatus::Streaming,
                None,
            )
            .expect("add");
        history.save_partial(reply, "partial reply").expect("save");
        history
            .finish_message(
                reply,
                &format!("reply {i}"),
                MessageStatus::Complete,
                MessageStats::default(),
            )
            .expect("finish");
        writeln!(out, "{}", reply.0).expect("print");
        out.flush().expect("flush");
    }
    unreachable!("the loop runs until the process is killed")
}

#[test]
fn committed_messages_survive_two_hundred_kill_nines() {
    if let Some(db) = std::env::var_os("PITH_CRASH_WRITER") {
        write_until_killed(Path::new(&db));
    }
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("history.sqlite3");
    let me = std::env::current_exe().expect("test binary");
    let mut printed: HashSet<i64> = HashSet::new();
    let mut rng: u64 = 0x9e37_79b9_7f4a_7c15;
    for _round in 0..200 {
        let mut child = Command::new(&me)
            .args([TEST_NAME, "--exact", "--nocapture", "--test-threads=1"])
            .env("PITH_CRASH_WRITER", &db)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("writer starts");
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        std::thread::sleep(Duration::from_micros(5_000 + rng % 40_000));
        child.kill().expect("SIGKILL");
        child.wait().expect("reaped");
        let mut out = String::new();
        child
            .stdout
            .take()
            .expect("stdout")
            .read_to_string(&mut out)
            .expect("reads");
        // Whole lines only (a line cut by the kill has no newline), and only
        // ids: the test harness prints its own lines too.
        printed.extend(
            out.split_inclusive('\n')
                .filter(|l| l.ends_with('\n'))
                .filter_map(|l| l.trim().parse::<i64>().ok()),
        );
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
