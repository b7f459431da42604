//! Chat: a conversation turn with a system prompt, within the window.

use super::budget_for;
use super::clean::{clean_chat, StreamCleaner};
use crate::engine::{
    CancelToken, ChatMessage, Engine, GenerateRequest, Generation, Prompt, Role, Sampling,
};
use crate::error::{Error, Result};

/// Tried on SmolLM2-135M: starting with "You are Pith," made its first-token
/// distribution so flat that even temperature 0.3 often opened in French.
pub const SYSTEM_PROMPT: &str =
    "You are a helpful assistant named Pith. You run privately on the user's computer. \
                                 Answer clearly and briefly.";

pub const DEFAULT_MAX_TOKENS: usize = 512;

pub fn build_request(history: &[ChatMessage], max_tokens: usize) -> GenerateRequest {
    let messages = history.to_vec();
    // Greedy by default: small models wander off at any temperature, and the
    // repetition penalty plus the loop cut keep greedy output from looping.
    // "Regenerate" passes its own sampling.
    GenerateRequest::new(Prompt::Chat(messages), max_tokens).with_sampling(Sampling::greedy())
}

/// Answers the last user message of `history`.
pub fn chat(
    engine: &mut dyn Engine,
    history: &[ChatMessage],
    sampling: Option<Sampling>,
    cancel: &CancelToken,
    on_piece: &mut dyn FnMut(&str),
) -> Result<Generation> {
    match history.last() {
        Some(m) if m.role == Role::User && !m.content.trim().is_empty() => {}
        Some(m) if m.role == Role::User => return Err(Error::EmptyInput),
        _ => {
            return Err(Error::InvalidInput(
                "a chat turn must end with a user message".into(),
            ))
        }
    }
    let mut request = build_request(history, DEFAULT_MAX_TOKENS);
    if let Some(s) = sampling {
        request.sampling = s;
    }
    budget_for(engine, &request)?;
    let mut cleaner = StreamCleaner::new(clean_chat);
    let mut generation = engine.generate(&request, cancel, &mut |piece| {
        let shown = cleaner.push(piece);
        if !shown.is_empty() {
            on_piece(&shown);
        }
    })?;
    let rest = cleaner.finish();
    if !rest.is_empty() {
        on_piece(&rest);
    }
    generation.text = cleaner.emitted().to_string();
    Ok(generation)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::ScriptedEngine;

    #[test]
    fn the_conversation_goes_in_as_given_with_no_system_prompt_added() {
        let req = build_request(&[ChatMessage::user("hi")], 16);
        let Prompt::Chat(m) = &req.prompt else {
            panic!("chat")
        };
        assert_eq!(m, &[ChatMessage::user("hi")]);
        let req = build_request(
            &[ChatMessage::system("custom"), ChatMessage::user("hi")],
            16,
        );
        let Prompt::Chat(m) = &req.prompt else {
            panic!("chat")
        };
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].content, "custom");
    }

    #[test]
    fn a_turn_must_end_with_a_non_empty_user_message() {
        let mut e = ScriptedEngine::new(4096);
        let c = CancelToken::new();
        let err = chat(&mut e, &[], None, &c, &mut |_| {}).expect_err("no turn");
        assert_eq!(err.code(), crate::error::ErrorCode::InvalidInput);
        let err =
            chat(&mut e, &[ChatMessage::user("  ")], None, &c, &mut |_| {}).expect_err("empty");
        assert_eq!(err.code(), crate::error::ErrorCode::EmptyInput);
    }

    #[test]
    fn streamed_pieces_make_up_the_reply() {
        use crate::engine::ScriptStep::Piece;
        let mut e = ScriptedEngine::new(4096);
        e.push_script(vec![Piece("Hel".into()), Piece("lo!".into())]);
        let mut streamed = String::new();
        let g = chat(
            &mut e,
            &[ChatMessage::user("hi")],
            None,
            &CancelToken::new(),
            &mut |p| streamed.push_str(p),
        )
        .expect("reply");
        assert_eq!(streamed, "Hello!");
        assert_eq!(g.text, "Hello!");
    }

    #[test]
    fn cancel_while_generating_returns_cancelled() {
        use crate::engine::{Priority, ScriptStep, Worker};
        let worker = Worker::spawn(|| {
            let mut e = ScriptedEngine::new(4096);
            e.push_script(vec![
                ScriptStep::Piece("partial".into()),
                ScriptStep::WaitForCancel,
            ]);
            e.push_reply("next works");
            Ok(e)
        })
        .expect("worker");
        let ticket = worker.submit(Priority::Normal, |e: &mut ScriptedEngine, c| {
            chat(e, &[ChatMessage::user("hi")], None, c, &mut |_| {})
        });
        ticket.cancel();
        let err = ticket.wait().expect("ran").expect_err("cancelled");
        assert_eq!(err.code(), crate::error::ErrorCode::Cancelled);
        let next = worker
            .run(Priority::Normal, |e: &mut ScriptedEngine, c| {
                chat(e, &[ChatMessage::user("hi")], None, c, &mut |_| {})
            })
            .expect("ran")
            .expect("works");
        assert_eq!(next.text, "next works");
    }
}
