//! `pith chat`: interactive on a terminal, line-per-turn otherwise.
//!
//! History is kept for the session. On a terminal, Ctrl-C stops a reply
//! being written (the partial reply is kept); `/reset` starts over; `/exit`
//! or end of input quits.

use crate::jobs::start;
use crate::{Failure, ModelArgs, OrFail};
use pith_core::engine::{CancelToken, ChatMessage, Priority};
use pith_core::{tasks, ErrorCode};
use pith_llama::LlamaEngine;
use std::io::{BufRead, IsTerminal, Write};
use std::sync::{Arc, Mutex, PoisonError};

pub fn run(args: &ModelArgs) -> Result<(), Failure> {
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
            "pith chat with {} — /reset starts over, /exit quits, Ctrl-C stops a reply",
            path.file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default()
        );
    }
    let mut history: Vec<ChatMessage> = Vec::new();
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
            "/reset" => {
                history.clear();
                eprintln!("(conversation cleared)");
                continue;
            }
            _ => {}
        }
        history.push(ChatMessage::user(line));
        let turn = history.clone();
        let ticket = worker.submit(Priority::Normal, move |engine: &mut LlamaEngine, cancel| {
            let mut out = std::io::stdout();
            tasks::chat::chat(engine, &turn, None, cancel, &mut |piece| {
                let _ = out.write_all(piece.as_bytes());
                let _ = out.flush();
            })
        });
        *current.lock().unwrap_or_else(PoisonError::into_inner) = Some(ticket.cancel_token());
        let outcome = ticket.wait().or_fail(false)?;
        *current.lock().unwrap_or_else(PoisonError::into_inner) = None;
        match outcome {
            Ok(reply) => {
                println!("\n");
                history.push(ChatMessage::assistant(reply.text));
            }
            Err(e) if e.code() == ErrorCode::Cancelled => {
                println!("\n");
                eprintln!("(stopped)");
                history.pop();
            }
            Err(e) if e.code() == ErrorCode::ContextTooLong => {
                history.pop();
                eprintln!("pith: {e}. Type /reset to start a new conversation.");
                if !interactive {
                    return Err(Failure {
                        error: e,
                        json: false,
                    });
                }
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
