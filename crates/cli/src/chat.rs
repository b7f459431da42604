//! `pith chat`: conversations stored in the history database.
//!
//! Interactive on a terminal (Ctrl-C stops a reply, which is kept and marked
//! interrupted; `/exit` or end of input quits); otherwise each input line is
//! one user turn and each reply is printed followed by a blank line.

use crate::history::open_store;
use crate::jobs::start;
use crate::{Failure, ModelArgs, OrFail};
use pith_core::engine::{CancelToken, Priority};
use pith_core::history::ConversationId;
use pith_core::tasks::conversation::{chat_turn, UNTITLED};
use pith_core::ErrorCode;
use pith_llama::LlamaEngine;
use std::io::{BufRead, IsTerminal, Write};
use std::sync::{Arc, Mutex, PoisonError};

pub fn run(args: &ModelArgs, conversation: Option<i64>) -> Result<(), Failure> {
    let store = Arc::new(Mutex::new(open_store().or_fail(false)?));
    let conversation = {
        let mut h = store.lock().unwrap_or_else(PoisonError::into_inner);
        match conversation {
            Some(id) => h.conversation(ConversationId(id)).or_fail(false)?.id,
            None => h.create_conversation(UNTITLED, None).or_fail(false)?,
        }
    };
    let (worker, path) = start(args).or_fail(false)?;
    let interactive = std::io::stdin().is_terminal();
    // Ctrl-C cancels the reply in progress; at the prompt it quits.
    let current: Arc<Mutex<Option<CancelToken>>> = Arc::new(Mutex::new(None));
    let handler_slot = Arc::clone(&current);
    let _ = ctrlc::set_handler(move || {
        match handler_slot
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
        {
            Some(token) => token.cancel(),
            None => std::process::exit(130),
        }
    });
    if interactive {
        eprintln!(
            "pith chat with {} — conversation {conversation}; /exit quits, Ctrl-C stops a reply",
            path.file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default()
        );
    }
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    loop {
        if interactive {
            eprint!("> ");
            let _ = std::io::stderr().flush();
        }
        let Some(line) = lines.next() else { break };
        let line = line
            .map_err(|e| pith_core::Error::io("could not read input", e))
            .or_fail(false)?;
        let line = line.trim().to_string();
        match line.as_str() {
            "" => continue,
            "/exit" | "/quit" => break,
            _ => {}
        }
        let turn_store = Arc::clone(&store);
        let ticket = worker.submit(Priority::Normal, move |engine: &mut LlamaEngine, cancel| {
            let mut out = std::io::stdout();
            chat_turn(
                engine,
                &turn_store,
                conversation,
                &line,
                None,
                cancel,
                &mut |piece| {
                    let _ = out.write_all(piece.as_bytes());
                    let _ = out.flush();
                },
            )
        });
        *current.lock().unwrap_or_else(PoisonError::into_inner) = Some(ticket.cancel_token());
        let outcome = ticket.wait().or_fail(false)?;
        *current.lock().unwrap_or_else(PoisonError::into_inner) = None;
        match outcome {
            Ok(turn) => {
                println!("\n");
                if turn.folded > 0 && interactive {
                    eprintln!("(older turns were folded into the conversation's running summary)");
                }
            }
            Err(e) if e.code() == ErrorCode::Cancelled => {
                println!("\n");
                eprintln!("(stopped; the partial reply is kept)");
            }
            Err(e) if interactive && e.code() == ErrorCode::ContextTooLong => {
                eprintln!("pith: {e}")
            }
            Err(e) => {
                return Err(Failure {
                    error: e,
                    json: false,
                })
            }
        }
    }
    Ok(())
}
