//! Copied text prepared for the hotkey.
//!
//! People copy first and press the shortcut a moment later. When the
//! clipboard changes to text the hotkey would take, its rewrite's first
//! prompt (the default mode's cached instructions, then the text) is
//! evaluated at once, as `Background` work on the hotkey's own engine: any
//! request cancels it, the next copy replaces it, and the main worker's
//! jobs (a chat reply, a summary) pause it. At the key press the same
//! prompt finds itself evaluated up to its last token and the first token
//! comes at once; another text or another mode simply evaluates as
//! before. Nothing is written to disk: the saved instruction states hold
//! no user text, and the text itself is kept only by the job preparing it
//! (the watch keeps a hash to tell a new copy from the same one).

use crate::engine::{CancelToken, Engine};
use crate::error::Result;
use crate::tasks::rephrase::{first_request, RephraseMode};
use crate::tasks::MAX_TEXT_BYTES;
use std::hash::{Hash, Hasher};

/// What the clipboard holds after a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Copied<'a> {
    Text(&'a str),
    /// An image, files, a password manager's concealed entry, or nothing
    /// readable: nothing to prepare.
    Other,
}

/// Tells what each clipboard change starts and cancels.
#[derive(Debug, Default)]
pub struct CopyWatch {
    /// A hash of the last copy seen, never its text.
    last: Option<u64>,
    preparing: Option<CancelToken>,
}

fn hash(text: &str) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut h);
    h.finish()
}

impl CopyWatch {
    /// The clipboard holds `copied` (polled, so often the same as before).
    /// A new copy cancels the one being prepared; returns the text to
    /// prepare, when it is new text the hotkey would take and preparing
    /// is switched on.
    pub fn copied(&mut self, copied: Copied, enabled: bool) -> Option<String> {
        let text = match copied {
            Copied::Text(t) => t,
            Copied::Other => {
                self.replace(None);
                return None;
            }
        };
        let h = hash(text);
        if self.last == Some(h) {
            return None;
        }
        self.replace(Some(h));
        let worth = !text.trim().is_empty() && text.len() <= MAX_TEXT_BYTES;
        (enabled && worth).then(|| text.to_string())
    }

    /// The job preparing the last copy, cancelled by the next one.
    pub fn preparing(&mut self, cancel: CancelToken) {
        self.preparing = Some(cancel);
    }

    fn replace(&mut self, last: Option<u64>) {
        if let Some(token) = self.preparing.take() {
            token.cancel();
        }
        self.last = last;
    }
}

/// Evaluates the first prompt a rewrite of `text` in `mode` would send;
/// returns the tokens evaluated. Text the hotkey would refuse (empty,
/// binary, too long) prepares nothing and says why.
pub fn prepare(
    engine: &mut dyn Engine,
    text: &str,
    mode: RephraseMode,
    cancel: &CancelToken,
) -> Result<usize> {
    let (_, request) = first_request(engine, text, mode)?;
    engine.prepare(&request, cancel)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Priority, ScriptedEngine, Worker};
    use crate::tasks::rephrase::rephrase;
    use crate::ErrorCode;

    const TEXT: &str = "their going to anounce the new schedule tomorow morning";

    #[test]
    fn a_new_copy_of_text_is_prepared_and_the_same_copy_only_once() {
        let mut watch = CopyWatch::default();
        assert_eq!(
            watch.copied(Copied::Text(TEXT), true).as_deref(),
            Some(TEXT)
        );
        assert_eq!(watch.copied(Copied::Text(TEXT), true), None, "polled again");
        assert_eq!(watch.copied(Copied::Other, true), None, "an image");
        assert_eq!(
            watch.copied(Copied::Text(TEXT), true).as_deref(),
            Some(TEXT),
            "copied again after the image"
        );
        assert_eq!(watch.copied(Copied::Text("  \n"), true), None, "blank");
        assert_eq!(
            watch.copied(Copied::Text("other words"), false),
            None,
            "switched off"
        );
        let huge = "word ".repeat(MAX_TEXT_BYTES / 5 + 1);
        assert_eq!(
            watch.copied(Copied::Text(&huge), true),
            None,
            "over the limit"
        );
    }

    #[test]
    fn a_copy_starts_background_evaluation_of_the_key_presss_first_prompt() {
        let worker = Worker::spawn(|| Ok(ScriptedEngine::new(4096))).expect("spawn");
        let mut watch = CopyWatch::default();
        let text = watch.copied(Copied::Text(TEXT), true).expect("prepared");
        let ticket = worker.submit(
            Priority::Background,
            move |e: &mut ScriptedEngine, cancel| {
                prepare(e, &text, RephraseMode::Proofread, cancel).map(|n| (n, e.prepared.clone()))
            },
        );
        let (evaluated, prepared) = ticket.wait().expect("ran").expect("prepared");
        let (_, first) = first_request(&ScriptedEngine::new(4096), TEXT, RephraseMode::Proofread)
            .expect("request");
        assert_eq!(prepared, vec![first]);
        assert!(evaluated > 10);
    }

    #[test]
    fn any_request_on_the_worker_cancels_the_preparation() {
        let mut engine = ScriptedEngine::new(4096).reply("hello");
        engine.slow_prepare = true;
        let worker = Worker::spawn(move || Ok(engine)).expect("spawn");
        let prepared = worker.submit(Priority::Background, |e: &mut ScriptedEngine, cancel| {
            prepare(e, TEXT, RephraseMode::Proofread, cancel)
        });
        let chat = worker.submit(Priority::Normal, |e: &mut ScriptedEngine, cancel| {
            e.generate(
                &crate::engine::GenerateRequest::new(crate::engine::Prompt::Raw("Hi".into()), 8),
                cancel,
                &mut |_| {},
            )
            .map(|g| g.text)
        });
        let e = prepared.wait().expect("ran").expect_err("cancelled");
        assert_eq!(e.code(), ErrorCode::Cancelled);
        assert_eq!(chat.wait().expect("ran").expect("answered"), "hello");
    }

    #[test]
    fn the_next_copy_cancels_the_one_being_prepared() {
        let mut engine = ScriptedEngine::new(4096);
        engine.slow_prepare = true;
        let worker = Worker::spawn(move || Ok(engine)).expect("spawn");
        let mut watch = CopyWatch::default();
        let text = watch.copied(Copied::Text(TEXT), true).expect("first copy");
        let first = worker.submit(
            Priority::Background,
            move |e: &mut ScriptedEngine, cancel| {
                prepare(e, &text, RephraseMode::Proofread, cancel)
            },
        );
        watch.preparing(first.cancel_token());
        assert!(watch
            .copied(Copied::Text("a second copy of other text"), true)
            .is_some());
        assert_eq!(
            first.wait().expect("ran").expect_err("replaced").code(),
            ErrorCode::Cancelled
        );
    }

    #[test]
    fn the_key_press_reuses_the_preparation_only_for_the_same_text_and_mode() {
        let prepared = || {
            let mut e = ScriptedEngine::new(4096);
            prepare(&mut e, TEXT, RephraseMode::Proofread, &CancelToken::new()).expect("prepared");
            e
        };
        // The key press: the routed rewrite's first attempt.
        let mut e =
            prepared().reply("They're going to announce the new schedule tomorrow morning.");
        let r = rephrase(
            &mut e,
            TEXT,
            RephraseMode::Proofread,
            &CancelToken::new(),
            &mut |_, _| {},
        )
        .expect("rewritten");
        assert_eq!(
            r.generation.evaluated_prompt_tokens, 1,
            "only the last token is evaluated"
        );
        assert!(r.generation.prompt_tokens > 50);
        // Another text, or another mode: evaluated as without preparation.
        for (text, mode) in [
            (
                "the meeting is moved too thursday afternoon",
                RephraseMode::Proofread,
            ),
            (TEXT, RephraseMode::Concise),
        ] {
            let mut e = prepared();
            let (_, request) = first_request(&e, text, mode).expect("request");
            let g = e
                .generate(&request, &CancelToken::new(), &mut |_| {})
                .expect("generates");
            assert!(g.evaluated_prompt_tokens > 1, "{mode}: {g:?}");
        }
    }

    #[test]
    fn text_the_hotkey_would_refuse_prepares_nothing() {
        let mut e = ScriptedEngine::new(64);
        let long = "word ".repeat(200);
        let err = prepare(&mut e, &long, RephraseMode::Proofread, &CancelToken::new())
            .expect_err("too long");
        assert_eq!(err.code(), ErrorCode::ContextTooLong);
        assert!(e.prepared.is_empty());
    }
}
