//! The inference contract every engine fulfils.
//!
//! `pith-core` never links llama.cpp: it owns the [`Engine`] trait, the request
//! and result types, and the pure pieces of streaming (UTF-8 assembly, stop
//! strings, repetition detection) that an engine composes. `LlamaEngine` in
//! `pith-llama` implements the trait for real; [`ScriptedEngine`] is a
//! step-by-step fake for fast logic tests.

pub mod checkpoints;
pub mod lookup;
pub mod state;
mod stream;
pub mod template;
mod worker;

#[cfg(any(test, feature = "test-support"))]
mod scripted;

#[cfg(any(test, feature = "test-support"))]
pub use scripted::{ScriptStep, ScriptedEngine};
pub use stream::{is_looping, StopMatcher, StopScan, Utf8Assembler};
pub use worker::{Priority, Ticket, Worker};

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

/// Who said a message in a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
    Assistant,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub role: Role,
    pub content: String,
}

impl ChatMessage {
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        Self {
            role,
            content: content.into(),
        }
    }
    pub fn system(content: impl Into<String>) -> Self {
        Self::new(Role::System, content)
    }
    pub fn user(content: impl Into<String>) -> Self {
        Self::new(Role::User, content)
    }
    pub fn assistant(content: impl Into<String>) -> Self {
        Self::new(Role::Assistant, content)
    }
}

/// What the model is asked to continue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prompt {
    /// A conversation, formatted with the model's own chat template (or the
    /// plain fallback for models without one).
    Chat(Vec<ChatMessage>),
    /// Text the model continues as is: completion-style few-shot prompts.
    Raw(String),
}

/// How the next token is chosen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sampling {
    /// 0 means greedy: always the most likely token, fully deterministic.
    pub temperature: f32,
    pub top_k: u32,
    pub top_p: f32,
    pub min_p: f32,
    /// Penalty on tokens seen in the last `repeat_last_n` tokens (1.0 = off).
    pub repeat_penalty: f32,
    pub repeat_last_n: u32,
    pub seed: u32,
}

impl Sampling {
    pub fn greedy() -> Self {
        Self {
            temperature: 0.0,
            ..Self::default()
        }
    }

    /// Attempt `n` of a checked job: greedy first (0), then sampled at
    /// `temperature` with a seed of its own (`seed + n`), so each retry is
    /// a different, reproducible second opinion.
    pub fn attempt(n: usize, temperature: f32, seed: u32) -> Self {
        match n {
            0 => Self::greedy(),
            n => Self {
                temperature,
                seed: seed + n as u32,
                ..Self::default()
            },
        }
    }

    /// The default sampling with a fresh seed: another answer each time
    /// (for "regenerate").
    pub fn varied() -> Self {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0x5eed, |d| d.subsec_nanos() ^ d.as_secs() as u32);
        Self {
            seed,
            ..Self::default()
        }
    }
}

impl Default for Sampling {
    fn default() -> Self {
        Self {
            temperature: 0.7,
            top_k: 40,
            top_p: 0.95,
            min_p: 0.05,
            repeat_penalty: 1.1,
            repeat_last_n: 64,
            seed: 0x5eed,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct GenerateRequest {
    pub prompt: Prompt,
    pub sampling: Sampling,
    pub max_tokens: usize,
    /// Generation ends before any of these strings; they are not returned.
    pub stop: Vec<String>,
    /// Draft tokens from the context and verify them in one batch
    /// (prompt-lookup decoding): the same output, faster when the answer
    /// copies the input, as rewrites do. See [`lookup`].
    pub lookup: bool,
    /// Keep the KV state of (part of) this prompt on disk; see [`state`].
    pub saved_state: Option<SavedState>,
    /// Restrict the output to a grammar, so a program can read it.
    pub constraint: Option<Constraint>,
    /// The LoRA adapter to answer with, by the name it was loaded under
    /// (a mode: `proofread`); the base model when `None` or when no
    /// adapter of that name is loaded.
    pub adapter: Option<String>,
}

/// Output that holds one JSON value valid against `schema`, made valid by
/// construction: llama.cpp samples only tokens its grammar allows (the
/// engine converts the schema with llama.cpp's own converter). Callers
/// check the schema first ([`crate::structured::schema::check`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Constraint {
    pub schema: serde_json::Value,
    /// Literal text around the JSON value: a tool call's tags.
    pub before: String,
    pub after: String,
    /// A lazy grammar: the output is free text until one of these appears
    /// (it must start `before`), and constrained from there. Empty: the
    /// whole output is constrained from its first token.
    pub triggers: Vec<String>,
}

impl Constraint {
    /// The whole output is one JSON value valid against `schema`.
    pub fn json(schema: serde_json::Value) -> Self {
        Self {
            schema,
            before: String::new(),
            after: String::new(),
            triggers: Vec::new(),
        }
    }

    /// The JSON value between `before` and `after`.
    pub fn wrapped(mut self, before: &str, after: &str) -> Self {
        self.before = before.to_string();
        self.after = after.to_string();
        self
    }

    /// Free text until `before` appears; constrained from there.
    pub fn lazy(mut self) -> Self {
        self.triggers = vec![self.before.clone()];
        self
    }

    pub fn is_lazy(&self) -> bool {
        !self.triggers.is_empty()
    }
}

/// Which KV state to keep on disk for a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedState {
    /// Names the state: `rephrase-proofread`, `conversation-42`.
    pub key: String,
    /// Keep only the first this-many bytes of a raw prompt (its fixed
    /// instructions); `None` keeps the whole prompt and the reply.
    pub prefix_bytes: Option<usize>,
}

impl GenerateRequest {
    pub fn new(prompt: Prompt, max_tokens: usize) -> Self {
        Self {
            prompt,
            sampling: Sampling::greedy(),
            max_tokens,
            stop: Vec::new(),
            lookup: false,
            saved_state: None,
            constraint: None,
            adapter: None,
        }
    }
    pub fn with_adapter(mut self, name: impl Into<String>) -> Self {
        self.adapter = Some(name.into());
        self
    }
    pub fn with_constraint(mut self, constraint: Constraint) -> Self {
        self.constraint = Some(constraint);
        self
    }
    pub fn with_lookup(mut self, lookup: bool) -> Self {
        self.lookup = lookup;
        self
    }
    pub fn with_saved_state(mut self, key: impl Into<String>, prefix_bytes: Option<usize>) -> Self {
        self.saved_state = Some(SavedState {
            key: key.into(),
            prefix_bytes,
        });
        self
    }
    pub fn with_sampling(mut self, sampling: Sampling) -> Self {
        self.sampling = sampling;
        self
    }
    pub fn with_stop<I, S>(mut self, stop: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.stop = stop.into_iter().map(Into::into).collect();
        self
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// The model produced an end-of-generation token.
    EndOfText,
    /// A stop string appeared.
    StopString,
    /// `max_tokens` were generated. A constrained request that stops here
    /// fails instead ([`crate::Error::Incomplete`]): its output is cut.
    MaxTokens,
    /// The output started repeating itself in a loop and was cut.
    Repetition,
}

/// The result of one generation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Generation {
    pub text: String,
    pub stop_reason: StopReason,
    /// Tokens in the full prompt.
    pub prompt_tokens: usize,
    /// Prompt tokens actually evaluated: fewer than `prompt_tokens` when the
    /// start of the prompt was still in the KV cache from the last request.
    pub evaluated_prompt_tokens: usize,
    pub generated_tokens: usize,
    /// Tokens proposed by prompt lookup, and how many of them the model
    /// confirmed (each confirmed token skipped one decode).
    pub draft_tokens: usize,
    pub draft_accepted: usize,
    /// Prompt tokens restored from a saved state file instead of evaluated.
    pub restored_prompt_tokens: usize,
    /// Seconds from the request to the first generated piece.
    pub ttft_s: f64,
    pub total_s: f64,
}

/// What an engine knows about the loaded model.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct ModelInfo {
    pub path: String,
    pub name: String,
    pub architecture: String,
    pub parameters: u64,
    pub size_bytes: u64,
    pub layers: u32,
    /// Context length the model was trained with.
    pub trained_context: u32,
    /// Context window of the running engine.
    pub context: u32,
    pub has_chat_template: bool,
}

/// A model's chat template as its GGUF file stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatTemplate {
    /// `tokenizer.chat_template`: Jinja source.
    pub source: String,
    pub bos_token: String,
    pub eos_token: String,
}

/// Shared flag that stops a request at the next check (every token, and
/// between prompt chunks). Cheap to clone. A token may also watch a
/// [`PauseGate`]: while the gate is held, the request waits at those same
/// checks, its state untouched, and then goes on.
#[derive(Debug, Clone, Default)]
pub struct CancelToken {
    cancelled: Arc<AtomicBool>,
    pause: Option<PauseGate>,
}

impl CancelToken {
    pub fn new() -> Self {
        Self::default()
    }
    /// A token whose request waits while `gate` is held.
    pub fn paused_by(gate: PauseGate) -> Self {
        Self {
            pause: Some(gate),
            ..Self::default()
        }
    }
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::SeqCst);
    }
    /// True once cancelled; first waits while the token's gate is held.
    pub fn is_cancelled(&self) -> bool {
        if let Some(gate) = &self.pause {
            while gate.is_held() && !self.cancelled.load(Ordering::SeqCst) {
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
        }
        self.cancelled.load(Ordering::SeqCst)
    }
}

/// Lets urgent work (the hotkey's rewrite, on its own engine) go ahead of
/// long work on another engine (a chat reply, a document): while any
/// [`PauseHold`] lives, requests whose token watches the gate wait between
/// tokens, so the CPU is the urgent work's.
#[derive(Debug, Clone, Default)]
pub struct PauseGate(Arc<AtomicUsize>);

/// Holds a [`PauseGate`] until dropped.
#[derive(Debug)]
pub struct PauseHold(Arc<AtomicUsize>);

impl PauseGate {
    pub fn hold(&self) -> PauseHold {
        self.0.fetch_add(1, Ordering::SeqCst);
        PauseHold(self.0.clone())
    }
    pub fn is_held(&self) -> bool {
        self.0.load(Ordering::SeqCst) > 0
    }
}

impl Drop for PauseHold {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A language model that can count tokens and generate text.
///
/// Engines are not `Send`: one worker thread owns each (see [`Worker`]).
pub trait Engine {
    fn info(&self) -> &ModelInfo;

    /// Tokens `text` takes with this model's tokenizer (no special tokens).
    fn count_tokens(&self, text: &str) -> Result<usize>;

    /// Tokens the whole prompt takes once formatted.
    fn prompt_tokens(&self, prompt: &Prompt) -> Result<usize>;

    /// Generates a continuation. `on_piece` receives the text as it is
    /// produced, in pieces that never split a UTF-8 character; the pieces
    /// concatenate to `Generation::text`.
    fn generate(
        &mut self,
        request: &GenerateRequest,
        cancel: &CancelToken,
        on_piece: &mut dyn FnMut(&str),
    ) -> Result<Generation>;

    /// Evaluates `request`'s prompt into the cache without generating, up
    /// to its last token, so a later request with the same prompt starts
    /// almost at once (the hotkey prepares copied text this way). Returns
    /// the tokens evaluated. Engines without a prompt cache do nothing.
    fn prepare(&mut self, request: &GenerateRequest, cancel: &CancelToken) -> Result<usize> {
        let _ = (request, cancel);
        Ok(0)
    }

    /// Whether an adapter of this name is loaded (`GenerateRequest::adapter`).
    fn has_adapter(&self, name: &str) -> bool {
        let _ = name;
        false
    }

    /// A training example in this model's tokens: `request`'s prompt as
    /// it is evaluated, then `answer` as the model should write it (for a
    /// chat prompt, the end of its turn after it). Tokens that overlap
    /// `hidden` (byte ranges of the rendered raw prompt) are not taught.
    fn training_tokens(
        &self,
        request: &GenerateRequest,
        answer: &str,
        hidden: &[std::ops::Range<usize>],
    ) -> Result<crate::tune::Example> {
        let _ = (request, answer, hidden);
        Err(Error::InvalidInput(format!(
            "{} cannot make training examples",
            self.info().name
        )))
    }

    /// The model's own chat template (the GGUF's Jinja source) and its
    /// special tokens, for prompts llama.cpp's built-in templates cannot
    /// render (tools). `None` for models without one.
    fn chat_template(&self) -> Option<ChatTemplate> {
        None
    }

    /// How many requests [`Engine::generate_batch`] runs at once.
    fn parallel_sequences(&self) -> usize {
        1
    }

    /// Generates several independent requests; `on_piece` receives each
    /// piece with the index of its request. Engines that can decode
    /// requests as parallel sequences of one context do so (on a CPU,
    /// generation is bound by memory bandwidth: one pass over the weights
    /// serves every sequence); the default runs them one after another.
    /// Each request must fit the context window on its own; callers keep
    /// the total within one window too, which bounds the memory a batch
    /// takes.
    fn generate_batch(
        &mut self,
        requests: &[GenerateRequest],
        cancel: &CancelToken,
        on_piece: &mut dyn FnMut(usize, &str),
    ) -> Result<Vec<Generation>> {
        generate_each(self, requests, cancel, on_piece)
    }
}

/// The models a worker can answer with: one engine, or several installed
/// models loaded on demand (`ModelPool` in `pith-llama`). Flows that may
/// move a request to another model (routing, escalation) take this.
pub trait Backend {
    /// The engine for model `id`, loading it if needed. The string says
    /// what was unloaded to make room, when something was.
    fn engine(&mut self, id: &str) -> Result<(&mut dyn Engine, Option<String>)>;
}

/// One engine, always loaded, known by `id`.
pub struct SingleModel<E> {
    pub id: String,
    pub engine: E,
}

impl<E: Engine> Backend for SingleModel<E> {
    fn engine(&mut self, id: &str) -> Result<(&mut dyn Engine, Option<String>)> {
        if id != self.id {
            return Err(crate::Error::NotFound(format!("model {id:?}")));
        }
        Ok((&mut self.engine, None))
    }
}

/// Runs requests one after another: the default
/// [`Engine::generate_batch`].
pub fn generate_each<E: Engine + ?Sized>(
    engine: &mut E,
    requests: &[GenerateRequest],
    cancel: &CancelToken,
    on_piece: &mut dyn FnMut(usize, &str),
) -> Result<Vec<Generation>> {
    requests
        .iter()
        .enumerate()
        .map(|(i, r)| engine.generate(r, cancel, &mut |p| on_piece(i, p)))
        .collect()
}

/// The format used for models without a chat template (base models): plain
/// labelled turns that any pretrained model continues sensibly, ending with
/// the assistant's label. Generation should stop at `"\nUser:"`.
pub fn fallback_chat_format(messages: &[ChatMessage]) -> String {
    let mut out = String::new();
    for m in messages {
        let label = match m.role {
            Role::System => "",
            Role::User => "User: ",
            Role::Assistant => "Assistant: ",
        };
        out.push_str(label);
        out.push_str(m.content.trim());
        out.push_str("\n\n");
    }
    out.push_str("Assistant:");
    out
}

/// Stop strings every chat generation with the fallback format needs.
pub const FALLBACK_CHAT_STOPS: &[&str] = &["\nUser:", "\n\nUser", "\nAssistant:", "\n\nAssistant"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fallback_format_labels_turns_and_ends_with_assistant() {
        let text =
            fallback_chat_format(&[ChatMessage::system("Be brief."), ChatMessage::user(" Hi ")]);
        assert_eq!(text, "Be brief.\n\nUser: Hi\n\nAssistant:");
    }

    #[test]
    fn cancel_token_is_shared_between_clones() {
        let a = CancelToken::new();
        let b = a.clone();
        assert!(!b.is_cancelled());
        a.cancel();
        assert!(b.is_cancelled());
    }
}
