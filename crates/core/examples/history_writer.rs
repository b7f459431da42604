//! Writes messages to a history store as fast as it can, printing each id
//! once its transaction has committed. The crash-safety test kills it with
//! SIGKILL at random moments.
//!
//!     history_writer DB_PATH

use pith_core::engine::Role;
use pith_core::history::{History, MessageStats, MessageStatus};
use std::io::Write;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: history_writer DB_PATH")?;
    let (mut history, _) = History::open(std::path::Path::new(&path))?;
    let conversation = match history.conversations()?.first() {
        Some(c) => c.id,
        None => history.create_conversation("crash test", None)?,
    };
    let mut out = std::io::stdout().lock();
    for i in 0u64.. {
        let id = history.add_message(
            conversation,
            Role::User,
            &format!("message {i}"),
            MessageStatus::Complete,
            None,
        )?;
        writeln!(out, "{}", id.0)?;
        out.flush()?;
        let reply = history.add_message(
            conversation,
            Role::Assistant,
            "",
            MessageStatus::Streaming,
            None,
        )?;
        history.save_partial(reply, "partial reply")?;
        history.finish_message(
            reply,
            &format!("reply {i}"),
            MessageStatus::Complete,
            MessageStats::default(),
        )?;
        writeln!(out, "{}", reply.0)?;
        out.flush()?;
    }
    Ok(())
}
