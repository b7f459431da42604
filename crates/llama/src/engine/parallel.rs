//! Several requests decoded as parallel sequences of the one context.
//!
//! On a CPU, generating a token means reading every weight from memory;
//! a batch that carries the next token of four sequences reads them once,
//! so four summaries come out in little more than the time of one. The
//! context is created with [`PARALLEL`] sequences over one unified KV
//! cache, so any single request can still use the whole window.

use super::{inference, LlamaEngine, Output};
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::LlamaToken;
use pith_core::engine::{generate_each, CancelToken, GenerateRequest, Generation, StopReason};
use pith_core::{Error, Result};
use std::time::Instant;

/// Sequences one context decodes together. Measured on a 2-core CPU with
/// SmolLM2-135M: four sequences give about 1.5× the tokens per second of
/// one; more add little and split the window further.
pub const PARALLEL: usize = 4;

/// Tokens per `decode` call while reading the prompts.
const PROMPT_BATCH: usize = 512;

struct Sequence {
    tokens: Vec<LlamaToken>,
    sampler: LlamaSampler,
    output: Output,
    /// The token sampled and not yet decoded.
    next: Option<LlamaToken>,
    /// Index of this sequence's logits in the last decoded batch.
    logits: Option<i32>,
    done: Option<StopReason>,
}

impl LlamaEngine {
    pub(super) fn generate_parallel(
        &mut self,
        requests: &[GenerateRequest],
        cancel: &CancelToken,
        on_piece: &mut dyn FnMut(usize, &str),
    ) -> Result<Vec<Generation>> {
        if requests.len() <= 1 {
            // One request keeps the prefix cache and saved states.
            return generate_each(self, requests, cancel, on_piece);
        }
        if requests.len() > PARALLEL {
            let mut out = Vec::with_capacity(requests.len());
            for (g, group) in requests.chunks(PARALLEL).enumerate() {
                let offset = g * PARALLEL;
                out.extend(
                    self.generate_parallel(group, cancel, &mut |i, p| on_piece(offset + i, p))?,
                );
            }
            return Ok(out);
        }
        let started = Instant::now();
        let mut seqs = Vec::with_capacity(requests.len());
        let (mut prompt_total, mut reserved) = (0, 0);
        for request in requests {
            let (text, format_stops) = self.render(&request.prompt)?;
            let tokens = self.tokenize_prompt(&text);
            if tokens.is_empty() {
                return Err(Error::EmptyInput);
            }
            prompt_total += tokens.len();
            reserved += request.max_tokens;
            let mut stops = request.stop.clone();
            stops.extend(format_stops);
            seqs.push(Sequence {
                tokens,
                sampler: self.sampler(&request.sampling),
                output: Output::new(&stops, request.max_tokens, started),
                next: None,
                logits: None,
                done: None,
            });
        }
        let context = self.info.context as usize;
        if prompt_total + reserved > context {
            return Err(Error::ContextTooLong {
                prompt_tokens: prompt_total,
                reserved_tokens: reserved,
                context_tokens: context,
            });
        }
        // Sequence 0's cached prefix is overwritten; every sequence starts
        // from an empty cache.
        self.clear_cache();
        let result = self.run(&mut seqs, cancel, on_piece);
        self.clear_cache();
        result?;
        Ok(seqs
            .into_iter()
            .map(|s| {
                let prompt_tokens = s.tokens.len();
                let reason = s.done.unwrap_or(StopReason::MaxTokens);
                s.output.generation(reason, prompt_tokens)
            })
            .collect())
    }

    fn run(
        &mut self,
        seqs: &mut [Sequence],
        cancel: &CancelToken,
        on_piece: &mut dyn FnMut(usize, &str),
    ) -> Result<()> {
        // The prompts, packed together into batches; each sequence's first
        // token is sampled right after the batch that holds its last prompt
        // token (logits live only until the next decode).
        let mut batch = LlamaBatch::new(PROMPT_BATCH, PARALLEL as i32);
        let flat: Vec<(usize, usize)> = seqs
            .iter()
            .enumerate()
            .flat_map(|(s, seq)| (0..seq.tokens.len()).map(move |i| (s, i)))
            .collect();
        for part in flat.chunks(PROMPT_BATCH) {
            if cancel.is_cancelled() {
                return Err(Error::Cancelled);
            }
            batch.clear();
            for &(s, i) in part {
                let last = i + 1 == seqs[s].tokens.len();
                let pos = i32::try_from(i).map_err(|e| inference("position", e))?;
                let seq_id = i32::try_from(s).map_err(|e| inference("sequence", e))?;
                batch
                    .add(seqs[s].tokens[i], pos, &[seq_id], last)
                    .map_err(|e| inference("batch", e))?;
                if last {
                    seqs[s].logits = Some(batch.n_tokens() - 1);
                }
            }
            self.decode_raw(&mut batch)?;
            self.sample_all(seqs);
        }

        let mut batch = LlamaBatch::new(PARALLEL, PARALLEL as i32);
        loop {
            if cancel.is_cancelled() {
                return Err(Error::Cancelled);
            }
            batch.clear();
            for (s, seq) in seqs.iter_mut().enumerate() {
                let Some(token) = seq.next.take() else {
                    continue;
                };
                let (eog, bytes) = self.piece(token);
                if let Some(reason) = seq.output.take(token, eog, &bytes, &mut |p| on_piece(s, p)) {
                    seq.done = Some(reason);
                    seq.output.finish(reason, &mut |p| on_piece(s, p));
                    continue;
                }
                let pos = seq.tokens.len() + seq.output.generated() - 1;
                let pos = i32::try_from(pos).map_err(|e| inference("position", e))?;
                let seq_id = i32::try_from(s).map_err(|e| inference("sequence", e))?;
                batch
                    .add(token, pos, &[seq_id], true)
                    .map_err(|e| inference("batch", e))?;
                seq.logits = Some(batch.n_tokens() - 1);
            }
            if batch.n_tokens() == 0 {
                return Ok(());
            }
            self.decode_raw(&mut batch)?;
            self.sample_all(seqs);
        }
    }

    /// Samples the next token of every sequence whose logits the last
    /// decode produced.
    fn sample_all(&mut self, seqs: &mut [Sequence]) {
        for seq in seqs.iter_mut().filter(|s| s.done.is_none()) {
            if let Some(index) = seq.logits.take() {
                let token = self
                    .loaded
                    .with_dependent(|_, ctx| seq.sampler.sample(ctx, index));
                seq.next = Some(token);
            }
        }
    }
}
