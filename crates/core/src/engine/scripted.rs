//! A fake [`Engine`] driven step by step, for fast logic tests.
//!
//! Each call to `generate` plays the next queued script: pieces of text, a
//! failure, or a wait until the request is cancelled. Every request is
//! recorded so tests can assert the prompts that tasks build. Tokens are
//! counted as whitespace-separated words, which keeps budget arithmetic easy
//! to follow in tests.

use super::{
    fallback_chat_format, CancelToken, Engine, GenerateRequest, Generation, ModelInfo, Prompt,
    StopMatcher, StopReason,
};
use crate::engine::stream::StopScan;
use crate::error::{Error, Result};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

#[derive(Debug)]
pub enum ScriptStep {
    /// Stream this text as one piece.
    Piece(String),
    /// Fail the request with this error.
    Fail(Error),
    /// Block until the request's token is cancelled (at most 10 s).
    WaitForCancel,
}

#[derive(Debug)]
pub struct ScriptedEngine {
    info: ModelInfo,
    scripts: VecDeque<Vec<ScriptStep>>,
    /// Every request received, in order.
    pub requests: Vec<GenerateRequest>,
    /// The size of every `generate_batch` call, in order.
    pub batches: Vec<usize>,
    parallel: usize,
    /// Every request prepared ([`Engine::prepare`]), in order.
    pub prepared: Vec<GenerateRequest>,
    /// `prepare` waits until its request is cancelled (a long text).
    pub slow_prepare: bool,
    /// The words of the last prepared prompt, as a prompt cache: the next
    /// request evaluates only what it does not share with them.
    cache: Vec<String>,
}

impl ScriptedEngine {
    pub fn new(context: u32) -> Self {
        Self {
            info: ModelInfo {
                path: "scripted".into(),
                name: "scripted".into(),
                architecture: "scripted".into(),
                parameters: 0,
                size_bytes: 0,
                layers: 0,
                trained_context: context,
                context,
                has_chat_template: false,
            },
            scripts: VecDeque::new(),
            requests: Vec::new(),
            batches: Vec::new(),
            parallel: 1,
            prepared: Vec::new(),
            slow_prepare: false,
            cache: Vec::new(),
        }
    }

    /// Reports `n` parallel sequences (batches still run one by one).
    pub fn with_parallel(mut self, n: usize) -> Self {
        self.parallel = n;
        self
    }

    /// Queues the answer to the next request as one piece of text.
    pub fn reply(mut self, text: &str) -> Self {
        self.push_reply(text);
        self
    }

    pub fn push_reply(&mut self, text: &str) {
        self.scripts
            .push_back(vec![ScriptStep::Piece(text.to_string())]);
    }

    pub fn push_script(&mut self, steps: Vec<ScriptStep>) {
        self.scripts.push_back(steps);
    }

    /// The text of the last prompt, however it was given.
    pub fn last_prompt_text(&self) -> String {
        match self.requests.last().map(|r| &r.prompt) {
            Some(Prompt::Raw(t)) => t.clone(),
            Some(Prompt::Chat(m)) => fallback_chat_format(m),
            None => String::new(),
        }
    }
}

fn words(text: &str) -> usize {
    text.split_whitespace().count()
}

fn prompt_words(prompt: &Prompt) -> Vec<String> {
    let text = match prompt {
        Prompt::Raw(t) => t.clone(),
        Prompt::Chat(m) => fallback_chat_format(m),
    };
    text.split_whitespace().map(str::to_string).collect()
}

impl Engine for ScriptedEngine {
    fn info(&self) -> &ModelInfo {
        &self.info
    }

    fn count_tokens(&self, text: &str) -> Result<usize> {
        Ok(words(text))
    }

    fn prompt_tokens(&self, prompt: &Prompt) -> Result<usize> {
        Ok(match prompt {
            Prompt::Raw(t) => words(t),
            Prompt::Chat(m) => words(&fallback_chat_format(m)),
        })
    }

    fn parallel_sequences(&self) -> usize {
        self.parallel
    }

    /// One token per byte: enough for the training plans' logic.
    fn training_tokens(
        &self,
        request: &GenerateRequest,
        answer: &str,
        hidden: &[std::ops::Range<usize>],
    ) -> Result<crate::tune::Example> {
        let prompt = match &request.prompt {
            Prompt::Raw(t) => t.clone(),
            Prompt::Chat(m) => fallback_chat_format(m),
        };
        let tokens: Vec<i32> = format!("{prompt}{answer}").bytes().map(i32::from).collect();
        let taught = (0..tokens.len())
            .map(|i| !hidden.iter().any(|r| r.contains(&i)))
            .collect();
        Ok(crate::tune::Example { tokens, taught })
    }

    fn prepare(&mut self, request: &GenerateRequest, cancel: &CancelToken) -> Result<usize> {
        self.prepared.push(request.clone());
        self.cache.clear();
        if self.slow_prepare {
            let deadline = Instant::now() + Duration::from_secs(10);
            while !cancel.is_cancelled() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(2));
            }
        }
        if cancel.is_cancelled() {
            return Err(Error::Cancelled);
        }
        let mut prompt = prompt_words(&request.prompt);
        prompt.pop();
        self.cache = prompt;
        Ok(self.cache.len())
    }

    fn generate_batch(
        &mut self,
        requests: &[GenerateRequest],
        cancel: &CancelToken,
        on_piece: &mut dyn FnMut(usize, &str),
    ) -> Result<Vec<Generation>> {
        self.batches.push(requests.len());
        super::generate_each(self, requests, cancel, on_piece)
    }

    fn generate(
        &mut self,
        request: &GenerateRequest,
        cancel: &CancelToken,
        on_piece: &mut dyn FnMut(&str),
    ) -> Result<Generation> {
        let started = Instant::now();
        self.requests.push(request.clone());
        let prompt_tokens = self.prompt_tokens(&request.prompt)?;
        let context = self.info.context as usize;
        if prompt_tokens + request.max_tokens > context {
            return Err(Error::ContextTooLong {
                prompt_tokens,
                reserved_tokens: request.max_tokens,
                context_tokens: context,
            });
        }
        // What a prepared prompt left in the cache is not evaluated again.
        let prompt = prompt_words(&request.prompt);
        let shared = self
            .cache
            .iter()
            .zip(&prompt)
            .take_while(|(a, b)| a == b)
            .count()
            .min(prompt_tokens.saturating_sub(1));
        self.cache.clear();
        let steps = self.scripts.pop_front().unwrap_or_default();
        let mut stops = StopMatcher::new(&request.stop);
        let mut text = String::new();
        let mut generated = 0;
        let mut stop_reason = StopReason::EndOfText;
        let mut ttft = None;
        for step in steps {
            if cancel.is_cancelled() {
                return Err(Error::Cancelled);
            }
            match step {
                ScriptStep::Piece(piece) => {
                    generated += words(&piece).max(1);
                    let (out, stopped) = match stops.push(&piece) {
                        StopScan::Continue(t) => (t, false),
                        StopScan::Stopped(t) => (t, true),
                    };
                    if !out.is_empty() {
                        ttft.get_or_insert_with(|| started.elapsed().as_secs_f64());
                        on_piece(&out);
                        text.push_str(&out);
                    }
                    if stopped {
                        stop_reason = StopReason::StopString;
                        break;
                    }
                    if generated >= request.max_tokens {
                        stop_reason = StopReason::MaxTokens;
                        break;
                    }
                }
                ScriptStep::Fail(e) => return Err(e),
                ScriptStep::WaitForCancel => {
                    let deadline = Instant::now() + Duration::from_secs(10);
                    while !cancel.is_cancelled() && Instant::now() < deadline {
                        std::thread::sleep(Duration::from_millis(2));
                    }
                    return Err(Error::Cancelled);
                }
            }
        }
        if stop_reason != StopReason::StopString {
            let rest = stops.finish();
            if !rest.is_empty() {
                on_piece(&rest);
                text.push_str(&rest);
            }
        }
        Ok(Generation {
            text,
            stop_reason,
            prompt_tokens,
            evaluated_prompt_tokens: prompt_tokens - shared,
            generated_tokens: generated,
            ttft_s: ttft.unwrap_or_default(),
            total_s: started.elapsed().as_secs_f64(),
            draft_tokens: 0,
            draft_accepted: 0,
            restored_prompt_tokens: 0,
        })
    }
}
