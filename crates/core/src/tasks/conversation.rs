//! A chat turn inside a stored conversation.
//!
//! The user's message is committed before the model runs; the reply is
//! saved as it streams and marked complete, interrupted or failed at the
//! end. The prompt always fits the window: when the conversation outgrows
//! it, the oldest exchanges are folded into a running summary written by the
//! model and stored with the conversation (visible, exported), so nothing is
//! dropped without a trace. Because the prompt keeps the same start from
//! turn to turn (system prompt, summary, earlier turns), the engine's
//! prefix cache evaluates only the new tokens.

use super::clean::{clean_chat, clean_output, StreamCleaner};
use super::validate_text;
use crate::engine::{
    CancelToken, ChatMessage, Engine, GenerateRequest, Generation, Prompt, Role, Sampling,
};
use crate::error::{Error, Result};
use crate::history::{
    title_from, ConversationId, History, Message, MessageId, MessageStats, MessageStatus,
    StreamSaver,
};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// Tokens kept free for the reply: a quarter of the window, 64 to 512.
pub fn reply_budget(context: usize) -> usize {
    (context / 4).clamp(64, 512)
}
/// Title given to conversations before their first message names them.
pub const UNTITLED: &str = "New conversation";

fn lock(store: &Mutex<History>) -> MutexGuard<'_, History> {
    store.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The prompt for a conversation: the running summary as a system message,
/// if there is one, then the turns after it. Empty replies are left out.
///
/// No system prompt otherwise. Measured on SmolLM2-135M with four questions
/// (a trip plan, a capital, three colours, boiling an egg): with no system
/// message it answered all four sensibly; every system prompt tried made it
/// worse — "You are Pith, ..." flattened the first token enough that
/// temperature 0.3 opened in French, and "You are a helpful assistant named
/// Pith ..." got the trip question answered with an echo of the prompt.
pub fn prompt_messages(summary: Option<&str>, live: &[Message]) -> Vec<ChatMessage> {
    summary
        .map(|s| ChatMessage::system(format!("Summary of the earlier conversation: {s}")))
        .into_iter()
        .chain(
            live.iter()
                .filter(|m| !m.text.trim().is_empty())
                .map(|m| ChatMessage::new(m.role, m.text.trim())),
        )
        .collect()
}

/// How many of the oldest live messages make up the first exchange: the
/// first user message and the replies up to the next user message.
fn first_exchange_len(live: &[Message]) -> usize {
    let mut n = 1;
    while n < live.len() && live[n].role != Role::User {
        n += 1;
    }
    n
}

fn fold_request(summary: Option<&str>, folded: &[Message]) -> GenerateRequest {
    let mut text = String::new();
    if let Some(s) = summary {
        text.push_str(&format!("Summary so far: {s}\n\n"));
    }
    for m in folded {
        let who = if m.role == Role::User {
            "User"
        } else {
            "Assistant"
        };
        text.push_str(&format!("{who}: {}\n", m.text.trim()));
    }
    GenerateRequest::new(
        Prompt::Chat(vec![
            ChatMessage::system(
                "Summarize the conversation in at most four sentences. Keep names, numbers, decisions and open questions.",
            ),
            ChatMessage::user(text),
        ]),
        160,
    )
}

/// A summary that never loses the folded turns, even if the model writes
/// nothing usable: the first words of each, quoted.
fn fallback_summary(summary: Option<&str>, folded: &[Message]) -> String {
    let mut parts: Vec<String> = summary.map(|s| vec![s.to_string()]).unwrap_or_default();
    for m in folded {
        let words: Vec<&str> = m.text.split_whitespace().take(24).collect();
        let who = if m.role == Role::User {
            "The user said"
        } else {
            "Pith said"
        };
        parts.push(format!("{who}: \"{}\".", words.join(" ")));
    }
    parts.join(" ")
}

/// Folds turns out of the window until the prompt fits with room to spare;
/// returns how many messages were folded.
fn fit_window(
    engine: &mut dyn Engine,
    store: &Mutex<History>,
    conversation: ConversationId,
    cancel: &CancelToken,
) -> Result<(Vec<ChatMessage>, usize)> {
    let context = engine.info().context as usize;
    let budget = reply_budget(context);
    let room = context.saturating_sub(budget);
    let conv = lock(store).conversation(conversation)?;
    let all = lock(store).messages(conversation)?;
    let mut summary = conv.summary;
    let start = conv.summary_through.map_or(0, |through| {
        all.iter()
            .position(|m| m.id.0 > through.0)
            .unwrap_or(all.len())
    });
    let mut live: &[Message] = &all[start..];
    let mut folded_total = 0;
    // Once folding starts, fold down to three quarters of the room, so it is
    // not needed again on the very next turn.
    let mut target = room;
    loop {
        let messages = prompt_messages(summary.as_deref(), live);
        let tokens = engine.prompt_tokens(&Prompt::Chat(messages.clone()))?;
        // The newest message (the user's turn) is never folded.
        let n = first_exchange_len(live).min(live.len().saturating_sub(1));
        if tokens <= target || (n == 0 && tokens <= room) {
            return Ok((messages, folded_total));
        }
        if n == 0 {
            return Err(Error::ContextTooLong {
                prompt_tokens: tokens,
                reserved_tokens: budget,
                context_tokens: context,
            });
        }
        target = room * 3 / 4;
        let (folded, rest) = live.split_at(n);
        let request = fold_request(summary.as_deref(), folded);
        let written = match super::budget_for(engine, &request) {
            Ok(_) => clean_output(&engine.generate(&request, cancel, &mut |_| {})?.text),
            Err(Error::ContextTooLong { .. }) => String::new(),
            Err(e) => return Err(e),
        };
        let new_summary = if written.split_whitespace().count() >= 3 {
            written
        } else {
            fallback_summary(summary.as_deref(), folded)
        };
        let through: MessageId = folded[folded.len() - 1].id;
        lock(store).set_summary(conversation, &new_summary, through)?;
        summary = Some(new_summary);
        live = rest;
        folded_total += n;
    }
}

/// What one turn produced.
#[derive(Debug, Clone)]
pub struct Turn {
    pub user_message: MessageId,
    pub reply_message: MessageId,
    pub reply: String,
    pub generation: Generation,
    /// Messages folded into the running summary during this turn.
    pub folded: usize,
}

/// Adds `user_text` to `conversation`, answers it, and stores the reply.
pub fn chat_turn(
    engine: &mut dyn Engine,
    store: &Mutex<History>,
    conversation: ConversationId,
    user_text: &str,
    sampling: Option<Sampling>,
    cancel: &CancelToken,
    on_piece: &mut dyn FnMut(&str),
) -> Result<Turn> {
    let text = validate_text(user_text)?;
    let model = engine.info().name.clone();
    let user_message = {
        let mut h = lock(store);
        let id = h.add_message(
            conversation,
            Role::User,
            &text,
            MessageStatus::Complete,
            None,
        )?;
        if h.conversation(conversation)?.title == UNTITLED {
            h.rename(conversation, &title_from(&text))?;
        }
        id
    };
    let (messages, folded) = fit_window(engine, store, conversation, cancel)?;
    let reply_message = lock(store).add_message(
        conversation,
        Role::Assistant,
        "",
        MessageStatus::Streaming,
        Some(&model),
    )?;

    let budget = reply_budget(engine.info().context as usize);
    let mut request = GenerateRequest::new(Prompt::Chat(messages), budget)
        .with_sampling(Sampling::greedy())
        .with_saved_state(crate::engine::state::conversation_key(conversation.0), None);
    if let Some(s) = sampling {
        request.sampling = s;
    }
    let mut saver = StreamSaver::new(reply_message);
    let mut cleaner = StreamCleaner::new(clean_chat);
    let mut save_error = None;
    let mut show = |piece: &str, saver: &mut StreamSaver| {
        if piece.is_empty() {
            return;
        }
        on_piece(piece);
        if let Err(e) = saver.push(&mut lock(store), piece) {
            save_error.get_or_insert(e);
        }
    };
    let outcome = engine.generate(&request, cancel, &mut |piece| {
        let shown = cleaner.push(piece);
        show(&shown, &mut saver);
    });
    match outcome {
        Ok(generation) => {
            let rest = cleaner.finish();
            show(&rest, &mut saver);
            if let Some(e) = save_error {
                return Err(e);
            }
            let reply = cleaner.emitted().to_string();
            lock(store).finish_message(
                reply_message,
                &reply,
                MessageStatus::Complete,
                MessageStats::from(&generation),
            )?;
            Ok(Turn {
                user_message,
                reply_message,
                reply,
                generation,
                folded,
            })
        }
        Err(e) => {
            let status = if e.code() == crate::error::ErrorCode::Cancelled {
                MessageStatus::Interrupted
            } else {
                MessageStatus::Error
            };
            // Keep everything written so far, including text the cleaner
            // was still holding back.
            cleaner.finish();
            lock(store).finish_message(
                reply_message,
                cleaner.emitted(),
                status,
                MessageStats::default(),
            )?;
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{ScriptStep, ScriptedEngine};

    fn store() -> (Mutex<History>, ConversationId) {
        let mut h = History::open_in_memory().expect("opens");
        let c = h.create_conversation(UNTITLED, None).expect("create");
        (Mutex::new(h), c)
    }

    #[test]
    fn a_turn_stores_the_question_and_the_complete_reply_and_names_the_conversation() {
        let (s, c) = store();
        let mut e = ScriptedEngine::new(4096).reply("Lisbon has many museums.");
        let mut streamed = String::new();
        let t = chat_turn(
            &mut e,
            &s,
            c,
            "Tell me about Lisbon museums",
            None,
            &CancelToken::new(),
            &mut |p| streamed.push_str(p),
        )
        .expect("turn");
        assert_eq!(t.reply, "Lisbon has many museums.");
        assert_eq!(streamed, t.reply);
        let h = lock(&s);
        let msgs = h.messages(c).expect("messages");
        assert_eq!(msgs.len(), 2);
        assert_eq!(
            (msgs[0].role, msgs[0].text.as_str()),
            (Role::User, "Tell me about Lisbon museums")
        );
        assert_eq!(
            (msgs[1].status, msgs[1].text.as_str()),
            (MessageStatus::Complete, "Lisbon has many museums.")
        );
        assert!(msgs[1].stats.generated_tokens.is_some());
        assert_eq!(
            h.conversation(c).expect("c").title,
            "Tell me about Lisbon museums"
        );
    }

    #[test]
    fn the_users_message_is_committed_before_generation_and_a_cancel_marks_the_reply_interrupted() {
        let (s, c) = store();
        let mut e = ScriptedEngine::new(4096);
        e.push_script(vec![
            ScriptStep::Piece("Half an answer. ".into()),
            ScriptStep::Piece("More".into()),
            ScriptStep::WaitForCancel,
        ]);
        let cancel = CancelToken::new();
        let trigger = cancel.clone();
        let err = chat_turn(&mut e, &s, c, "question", None, &cancel, &mut |_| {
            trigger.cancel()
        })
        .expect_err("cancelled");
        assert_eq!(err.code(), crate::error::ErrorCode::Cancelled);
        let msgs = lock(&s).messages(c).expect("messages");
        assert_eq!(msgs[0].text, "question");
        assert_eq!(msgs[1].status, MessageStatus::Interrupted);
        assert_eq!(msgs[1].text, "Half an answer. More");
    }

    #[test]
    fn cancelling_through_the_worker_mid_reply_keeps_it_interrupted_and_the_next_turn_works() {
        use crate::engine::{Priority, Worker};
        use std::sync::Arc;
        let (s, c) = store();
        let s = Arc::new(s);
        let worker = Worker::spawn(|| {
            let mut e = ScriptedEngine::new(4096);
            e.push_script(vec![
                ScriptStep::Piece("Partial words here.".into()),
                ScriptStep::WaitForCancel,
            ]);
            e.push_reply("The next reply works.");
            Ok(e)
        })
        .expect("worker");
        let turn_store = Arc::clone(&s);
        let ticket = worker.submit(Priority::Normal, move |e: &mut ScriptedEngine, cancel| {
            chat_turn(e, &turn_store, c, "first", None, cancel, &mut |_| {})
        });
        ticket.cancel();
        let err = ticket.wait().expect("ran").expect_err("cancelled");
        assert_eq!(err.code(), crate::error::ErrorCode::Cancelled);
        let next_store = Arc::clone(&s);
        let next = worker
            .run(Priority::Normal, move |e: &mut ScriptedEngine, cancel| {
                chat_turn(e, &next_store, c, "second", None, cancel, &mut |_| {})
            })
            .expect("ran")
            .expect("works");
        assert_eq!(next.reply, "The next reply works.");
        let statuses: Vec<_> = lock(&s)
            .messages(c)
            .expect("m")
            .iter()
            .map(|m| m.status)
            .collect();
        assert_eq!(
            statuses,
            [
                MessageStatus::Complete,
                MessageStatus::Interrupted,
                MessageStatus::Complete,
                MessageStatus::Complete
            ]
        );
    }

    #[test]
    fn a_failed_generation_is_stored_as_an_error_not_lost() {
        let (s, c) = store();
        let mut e = ScriptedEngine::new(4096);
        e.push_script(vec![ScriptStep::Fail(Error::Inference(
            "decode failed".into(),
        ))]);
        assert!(chat_turn(
            &mut e,
            &s,
            c,
            "question",
            None,
            &CancelToken::new(),
            &mut |_| {}
        )
        .is_err());
        let msgs = lock(&s).messages(c).expect("messages");
        assert_eq!((msgs.len(), msgs[1].status), (2, MessageStatus::Error));
    }

    #[test]
    fn an_outgrown_window_folds_the_oldest_turns_into_a_stored_summary() {
        let (s, c) = store();
        // 400-word window, 100 kept for the reply: room for about five turns.
        let mut e = ScriptedEngine::new(400);
        for _ in 0..40 {
            e.push_reply("A short reply of a few words.");
        }
        for i in 0..8 {
            let q = format!("Question {i}: {}", "filler ".repeat(40));
            chat_turn(&mut e, &s, c, &q, None, &CancelToken::new(), &mut |_| {})
                .expect("turn fits");
        }
        let conv = lock(&s).conversation(c).expect("c");
        assert!(conv.summary.is_some(), "a running summary is stored");
        assert!(conv.summary_through.is_some());
        for r in &e.requests {
            let tokens = e.prompt_tokens(&r.prompt).expect("count");
            assert!(
                tokens + r.max_tokens <= 400,
                "every prompt fits: {tokens} + {}",
                r.max_tokens
            );
        }
        // Nothing is deleted: every message is still in the store.
        assert_eq!(lock(&s).messages(c).expect("m").len(), 16);
    }

    #[test]
    fn a_single_message_larger_than_the_window_is_refused_with_the_numbers() {
        let (s, c) = store();
        let mut e = ScriptedEngine::new(600);
        let err = chat_turn(
            &mut e,
            &s,
            c,
            &"word ".repeat(800),
            None,
            &CancelToken::new(),
            &mut |_| {},
        )
        .expect_err("too long");
        assert_eq!(err.code(), crate::error::ErrorCode::ContextTooLong);
        assert_eq!(
            lock(&s).messages(c).expect("m").len(),
            1,
            "the question itself is kept"
        );
    }

    #[test]
    fn the_fallback_summary_keeps_a_trace_of_every_folded_turn() {
        let (s, c) = store();
        let mut h = lock(&s);
        h.add_message(
            c,
            Role::User,
            "Book the train to Porto",
            MessageStatus::Complete,
            None,
        )
        .expect("m");
        let msgs = h.messages(c).expect("m");
        let text = fallback_summary(Some("Earlier they met."), &msgs);
        assert!(text.starts_with("Earlier they met."));
        assert!(text.contains("Book the train to Porto"));
    }
}
