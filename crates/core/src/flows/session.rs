//! The hotkey's rewrite as plain state, with no window and no clipboard.
//!
//! A key press [`begin`](RewriteSession::begin)s a session with what the
//! clipboard held; the popup runs the rewrite (any number of times, in any
//! mode) and the last finished one is kept; Accept hands it out for the
//! clipboard and remembers the text it replaced, Cancel drops it. Each
//! ending says what to record in the rewrite history. A result that comes
//! back after a newer key press is stale and refused. The shell only moves
//! text between this and the clipboard, the popup and the history.

use crate::error::{Error, ErrorPayload};
use crate::tasks::rephrase::RephraseMode;
use serde::Serialize;

type Result<T> = std::result::Result<T, ErrorPayload>;

/// What the popup is asked to rewrite.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct Pending {
    /// Grows with every key press: a result for an older id is stale.
    pub id: u64,
    pub original: String,
    pub mode: RephraseMode,
    pub modes: Vec<RephraseMode>,
    /// Why there is nothing to rewrite (an empty clipboard, an image).
    pub problem: Option<ErrorPayload>,
    /// The commands the popup offers beside the modes.
    pub commands: Vec<String>,
    /// The command to run at once (its own shortcut was pressed).
    pub command: Option<String>,
}

/// A finished rewrite of the pending text.
#[derive(Debug, Clone, PartialEq)]
pub struct Finished {
    pub text: String,
    pub mode: RephraseMode,
    /// The model that wrote it.
    pub model: String,
    /// The command that wrote it, when not a mode.
    pub command: Option<String>,
}

/// A line of the rewrite history.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub original: String,
    pub result: String,
    pub mode: RephraseMode,
    /// The result went to the clipboard.
    pub accepted: bool,
    /// The user changed the result before accepting it.
    pub edited: bool,
    pub model: String,
    /// The command that wrote it, when not a mode.
    pub command: Option<String>,
}

#[derive(Debug, Default)]
pub struct RewriteSession {
    pending: Option<Pending>,
    finished: Option<Finished>,
    /// The clipboard's text before the last accepted rewrite.
    replaced: Option<String>,
    last_id: u64,
}

impl RewriteSession {
    /// A key press: `read` is the clipboard's text or why there is none.
    /// Whatever was pending before is dropped (its result is not recorded:
    /// it was neither accepted nor refused).
    pub fn begin(&mut self, read: crate::Result<String>, mode: RephraseMode) -> Pending {
        self.begin_with(read, mode, Vec::new(), None)
    }

    /// [`begin`](Self::begin) with the commands the popup offers, and the
    /// one to run at once when its own shortcut was pressed.
    pub fn begin_with(
        &mut self,
        read: crate::Result<String>,
        mode: RephraseMode,
        commands: Vec<String>,
        command: Option<String>,
    ) -> Pending {
        self.last_id += 1;
        let (original, problem) = match read {
            Ok(text) => (text, None),
            Err(e) => (String::new(), Some(e.to_payload())),
        };
        let pending = Pending {
            id: self.last_id,
            original,
            mode,
            modes: RephraseMode::ALL.to_vec(),
            problem,
            commands,
            command,
        };
        self.pending = Some(pending.clone());
        self.finished = None;
        pending
    }

    pub fn pending(&self) -> Option<&Pending> {
        self.pending.as_ref()
    }

    /// The id and text to rewrite now, or why not.
    pub fn to_run(&self) -> Result<(u64, String)> {
        let p = self.pending.as_ref().ok_or_else(|| {
            Error::InvalidInput("there is nothing to rewrite".into()).to_payload()
        })?;
        match &p.problem {
            Some(problem) => Err(problem.clone()),
            None => Ok((p.id, p.original.clone())),
        }
    }

    /// Keeps a finished rewrite of session `id`; refuses it when a newer
    /// key press replaced the text meanwhile.
    pub fn finish(&mut self, id: u64, finished: Finished) -> Result<()> {
        if self.pending.as_ref().map(|p| p.id) != Some(id) {
            return Err(Error::Cancelled.to_payload());
        }
        self.finished = Some(finished);
        Ok(())
    }

    /// Accept: `write` puts the finished text on the clipboard; only when it
    /// succeeds does the session end, keeping the text it replaced. A
    /// failed write loses nothing: the popup can try again.
    pub fn accept(&mut self, write: impl FnOnce(&str) -> crate::Result<()>) -> Result<Record> {
        self.accept_as(None, write)
    }

    /// Accept with the result as the user edited it in the popup (`None`
    /// or the same text: as written). The edited text is what goes out and
    /// what is recorded, marked edited; an empty one is refused, losing
    /// nothing.
    pub fn accept_as(
        &mut self,
        edited: Option<&str>,
        write: impl FnOnce(&str) -> crate::Result<()>,
    ) -> Result<Record> {
        let mut finished = self.finished.clone().ok_or_else(|| {
            Error::InvalidInput("the rewrite is not finished yet".into()).to_payload()
        })?;
        let mut was_edited = false;
        if let Some(text) = edited.filter(|t| *t != finished.text) {
            if text.trim().is_empty() {
                return Err(Error::InvalidInput(
                    "the edited rewrite is empty: type the text to accept, or Cancel".into(),
                )
                .to_payload());
            }
            finished.text = text.to_string();
            was_edited = true;
        }
        let original = self
            .pending
            .as_ref()
            .map(|p| p.original.clone())
            .unwrap_or_default();
        write(&finished.text).map_err(ErrorPayload::from)?;
        self.replaced = Some(original.clone());
        self.pending = None;
        self.finished = None;
        let mut record = record(original, finished, true);
        record.edited = was_edited;
        Ok(record)
    }

    /// The finished result's text (a file to save), or why there is none.
    pub fn finished_text(&self) -> Result<String> {
        self.finished
            .as_ref()
            .map(|f| f.text.clone())
            .ok_or_else(|| {
                Error::InvalidInput("the result is not finished yet".into()).to_payload()
            })
    }

    /// Cancel: the session ends; a finished rewrite is recorded as refused.
    pub fn cancel(&mut self) -> Option<Record> {
        let pending = self.pending.take();
        let finished = self.finished.take();
        pending
            .zip(finished)
            .map(|(p, f)| record(p.original, f, false))
    }

    /// "Summarize instead" (a text too long to rewrite): ends the session
    /// and hands out its text.
    pub fn take_text(&mut self) -> Result<String> {
        self.finished = None;
        self.pending
            .take()
            .map(|p| p.original)
            .ok_or_else(|| Error::InvalidInput("there is nothing to summarize".into()).to_payload())
    }

    /// The clipboard text the last accepted rewrite replaced.
    pub fn replaced(&self) -> Result<String> {
        self.replaced.clone().ok_or_else(|| {
            Error::InvalidInput("no rewrite has replaced the clipboard yet".into()).to_payload()
        })
    }
}

fn record(original: String, f: Finished, accepted: bool) -> Record {
    Record {
        original,
        result: f.text,
        mode: f.mode,
        accepted,
        edited: false,
        model: f.model,
        command: f.command,
    }
}

impl Record {
    /// Writes this line into the rewrite history.
    pub fn save(&self, history: &mut crate::history::History) -> crate::Result<()> {
        history.record_rewrite(
            &self.original,
            &self.result,
            self.command.as_deref().unwrap_or(self.mode.name()),
            self.accepted,
            self.edited,
            Some(&self.model),
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    fn done(text: &str) -> Finished {
        Finished {
            text: text.into(),
            mode: RephraseMode::Rewrite,
            model: "m".into(),
            command: None,
        }
    }

    #[test]
    fn an_accepted_rewrite_goes_out_once_and_keeps_the_text_it_replaced() {
        let mut s = RewriteSession::default();
        let p = s.begin(Ok("hello wrld".into()), RephraseMode::Rewrite);
        assert_eq!(s.to_run().expect("runs"), (p.id, "hello wrld".into()));
        s.finish(p.id, done("Hello, world.")).expect("current");
        let mut written = String::new();
        let record = s
            .accept(|t| {
                written = t.to_string();
                Ok(())
            })
            .expect("accepted");
        assert_eq!(written, "Hello, world.");
        assert!(record.accepted);
        assert_eq!(record.original, "hello wrld");
        assert_eq!(s.replaced().expect("kept"), "hello wrld");
        assert!(s.pending().is_none());
        assert!(s.accept(|_| Ok(())).is_err(), "nothing left to accept");
    }

    #[test]
    fn an_edited_rewrite_goes_out_as_edited_and_is_recorded_so() {
        let mut s = RewriteSession::default();
        let p = s.begin(Ok("i has a cat".into()), RephraseMode::Proofread);
        s.finish(p.id, done("I has a cat.")).expect("current");
        let err = s.accept_as(Some("  "), |_| Ok(())).expect_err("empty");
        assert!(err.message.contains("empty"), "{}", err.message);
        let mut written = String::new();
        let record = s
            .accept_as(Some("I have a cat."), |t| {
                written = t.to_string();
                Ok(())
            })
            .expect("accepted");
        assert_eq!(written, "I have a cat.");
        assert_eq!(
            (record.result.as_str(), record.edited),
            ("I have a cat.", true)
        );
        // The same text as written is not an edit.
        let p = s.begin(Ok("x".into()), RephraseMode::Proofread);
        s.finish(p.id, done("X.")).expect("current");
        assert!(
            !s.accept_as(Some("X."), |_| Ok(()))
                .expect("accepted")
                .edited
        );
    }

    #[test]
    fn a_failed_clipboard_write_loses_nothing() {
        let mut s = RewriteSession::default();
        let p = s.begin(Ok("a".into()), RephraseMode::Rewrite);
        s.finish(p.id, done("A.")).expect("current");
        let err = s
            .accept(|_| Err(Error::InvalidInput("no clipboard".into())))
            .expect_err("write failed");
        assert_eq!(err.code, ErrorCode::InvalidInput);
        assert!(s.replaced().is_err());
        assert!(s.accept(|_| Ok(())).is_ok(), "the result is still there");
    }

    #[test]
    fn a_result_for_an_older_key_press_is_stale() {
        let mut s = RewriteSession::default();
        let first = s.begin(Ok("one".into()), RephraseMode::Rewrite);
        let second = s.begin(Ok("two".into()), RephraseMode::Rewrite);
        assert!(second.id > first.id);
        let err = s.finish(first.id, done("One.")).expect_err("stale");
        assert_eq!(err.code, ErrorCode::Cancelled);
        assert!(s.accept(|_| Ok(())).is_err());
    }

    #[test]
    fn cancel_records_a_finished_rewrite_as_refused_and_nothing_otherwise() {
        let mut s = RewriteSession::default();
        s.begin(Ok("x".into()), RephraseMode::Rewrite);
        assert_eq!(s.cancel(), None);
        let p = s.begin(Ok("y".into()), RephraseMode::Rewrite);
        s.finish(p.id, done("Y.")).expect("current");
        let r = s.cancel().expect("recorded");
        assert!(!r.accepted);
        assert_eq!((r.original.as_str(), r.result.as_str()), ("y", "Y."));
        assert!(s.pending().is_none());
    }

    #[test]
    fn nothing_to_rewrite_keeps_its_reason() {
        let mut s = RewriteSession::default();
        assert_eq!(
            s.to_run().expect_err("nothing pending").code,
            ErrorCode::InvalidInput
        );
        let p = s.begin(Err(Error::EmptyInput), RephraseMode::Proofread);
        assert_eq!(
            p.problem.as_ref().map(|e| e.code),
            Some(ErrorCode::EmptyInput)
        );
        assert_eq!(s.to_run().expect_err("empty").code, ErrorCode::EmptyInput);
    }

    #[test]
    fn summarize_instead_takes_the_text_and_ends_the_session() {
        let mut s = RewriteSession::default();
        s.begin(Ok("long text".into()), RephraseMode::Rewrite);
        assert_eq!(s.take_text().expect("text"), "long text");
        assert!(s.take_text().is_err());
    }
}
