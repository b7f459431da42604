//! Several requests decoded as parallel sequences of one context.
//!
//! On a CPU, generating a token means reading every weight from memory; a
//! batch that carries the next token of four sequences reads them once, so
//! four summaries come out in little more than the time of one.
//!
//! The batch runs in a context of its own, created for the call: one KV
//! stream per sequence (not one unified cache), so each sequence attends
//! only to its own tokens — with a unified cache every token attends over
//! all four prompts, which on SmolLM2-135M cost more than batching saved
//! (measured: 0.91× of one-at-a-time). With separate streams a sequence's
//! answer depends only on its own prompt, wherever it sits in the batch.
//! The engine's own context, and the conversation prefix cached in it, are
//! left untouched.
//!
//! The prompts' shared start (the map step's instructions and the chat
//! template around them) is read once, in the first sequence, and its
//! cache copied to the others; each then reads only its own text.
//!
//! Flash attention is off in this context: on a 2-core CPU with
//! SmolLM2-135M and four ~900-token sequences, batched generation was
//! 1.07× one-at-a-time with it and 1.34–1.44× without. (So greedy answers
//! can differ from the single-sequence path's by float rounding; tests
//! turn it back on to compare them exactly.)

use super::{backend, inference, LlamaEngine, Output};
use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::LlamaToken;
use pith_core::engine::{generate_each, CancelToken, GenerateRequest, Generation, StopReason};
use pith_core::{Error, Result};
use std::num::NonZeroU32;
use std::time::Instant;

/// Sequences decoded together. Measured on a 2-core CPU: four sequences
/// give about 1.5× the generated tokens per second of one with raw
/// llama.cpp; more add little.
pub const PARALLEL: usize = 4;

/// Tokens per `decode` call while reading the prompts.
const PROMPT_BATCH: usize = 512;

/// KV cells are allocated per sequence in steps of this many tokens.
const CELL_STEP: usize = 256;

/// A shared start shorter than this is read in every sequence (a copy
/// costs a pass over the whole cache buffer).
const MIN_SHARED: usize = 8;

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
        // One request keeps the prefix cache and saved states; constrained
        // requests take the grammar's path.
        if requests.len() <= 1
            || requests.iter().any(|r| r.constraint.is_some())
            || requests.iter().any(|r| r.adapter != requests[0].adapter)
        {
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
        let mut longest = 0;
        for request in requests {
            // Each sequence gets what one request may have: the window.
            let (_, tokens, format_stops) = self.prompt_for(request)?;
            longest = longest.max(tokens.len() + request.max_tokens);
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
        let per_sequence = longest.div_ceil(CELL_STEP) * CELL_STEP;
        let n = seqs.len();
        let cells = u32::try_from(per_sequence * n).map_err(|e| inference("context size", e))?;
        let threads = i32::try_from(self.threads).unwrap_or(i32::MAX);
        let params = LlamaContextParams::default()
            .with_n_ctx(NonZeroU32::new(cells))
            .with_n_batch(PROMPT_BATCH as u32)
            .with_n_ubatch(PROMPT_BATCH as u32)
            .with_n_seq_max(n as u32)
            .with_kv_unified(false)
            .with_swa_full(false)
            .with_n_threads(threads)
            .with_n_threads_batch(threads)
            // Flash attention off (llama.cpp's LLAMA_FLASH_ATTN_TYPE_DISABLED):
            // its CPU kernel handles one query per stream poorly; measured
            // with four ~900-token sequences, batched generation went from
            // 1.07× to 1.25–1.44× of one at a time.
            .with_flash_attention_policy(if self.batch_flash_attention { -1 } else { 0 });
        let model = self.loaded.borrow_owner();
        let mut ctx = model.new_context(backend()?, params).map_err(|e| {
            inference(
                &format!("could not create a context for {n} sequences of {per_sequence} tokens"),
                e,
            )
        })?;
        if let Some(name) = requests[0].adapter.as_deref() {
            // Every sequence of a batch answers with the first one's adapter.
            let mut adapters = super::lock(&self.shared.adapters)?;
            super::set_adapter(&mut ctx, &mut adapters, Some(name))?;
        }
        self.run(&mut ctx, &mut seqs, cancel, on_piece)?;
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
        &self,
        ctx: &mut LlamaContext,
        seqs: &mut [Sequence],
        cancel: &CancelToken,
        on_piece: &mut dyn FnMut(usize, &str),
    ) -> Result<()> {
        // The prompts, packed together into batches; each sequence's first
        // token is sampled right after the batch that holds its last prompt
        // token (logits live only until the next decode).
        let n_seq = i32::try_from(seqs.len()).map_err(|e| inference("sequences", e))?;
        let mut batch = LlamaBatch::new(PROMPT_BATCH, n_seq);
        let shared = shared_start(seqs);
        if shared > 0 {
            for part in seqs[0].tokens[..shared].chunks(PROMPT_BATCH).enumerate() {
                if cancel.is_cancelled() {
                    return Err(Error::Cancelled);
                }
                batch.clear();
                let (c, chunk) = part;
                for (j, &t) in chunk.iter().enumerate() {
                    add(&mut batch, t, c * PROMPT_BATCH + j, 0, false)?;
                }
                ctx.decode(&mut batch)
                    .map_err(|e| inference("llama.cpp decode failed", e))?;
            }
            for s in 1..n_seq {
                ctx.copy_kv_cache_seq(0, s, None, None)
                    .map_err(|e| inference("cache copy", e))?;
            }
        }
        let flat: Vec<(usize, usize)> = seqs
            .iter()
            .enumerate()
            .flat_map(|(s, seq)| (shared..seq.tokens.len()).map(move |i| (s, i)))
            .collect();
        for part in flat.chunks(PROMPT_BATCH) {
            if cancel.is_cancelled() {
                return Err(Error::Cancelled);
            }
            batch.clear();
            for &(s, i) in part {
                let last = i + 1 == seqs[s].tokens.len();
                add(&mut batch, seqs[s].tokens[i], i, s, last)?;
                if last {
                    seqs[s].logits = Some(batch.n_tokens() - 1);
                }
            }
            ctx.decode(&mut batch)
                .map_err(|e| inference("llama.cpp decode failed", e))?;
            sample_all(ctx, seqs);
        }

        let mut batch = LlamaBatch::new(seqs.len(), n_seq);
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
                let mut emit = |p: &str| on_piece(s, p);
                if let Some(reason) = seq.output.take(token, eog, &bytes, &mut emit) {
                    seq.done = Some(reason);
                    seq.output.finish(reason, &mut emit);
                    continue;
                }
                let pos = seq.tokens.len() + seq.output.generated() - 1;
                add(&mut batch, token, pos, s, true)?;
                seq.logits = Some(batch.n_tokens() - 1);
            }
            if batch.n_tokens() == 0 {
                return Ok(());
            }
            ctx.decode(&mut batch)
                .map_err(|e| inference("llama.cpp decode failed", e))?;
            sample_all(ctx, seqs);
        }
    }
}

/// Tokens every sequence's prompt starts with, leaving each at least one
/// of its own (its last token's logits start its answer); 0 when too few
/// to pay for the copy.
fn shared_start(seqs: &[Sequence]) -> usize {
    let Some((first, rest)) = seqs.split_first() else {
        return 0;
    };
    let mut n = first.tokens.len();
    for seq in rest {
        n = n.min(
            first
                .tokens
                .iter()
                .zip(&seq.tokens)
                .take_while(|(a, b)| a == b)
                .count(),
        );
    }
    let shortest = seqs.iter().map(|s| s.tokens.len()).min().unwrap_or(0);
    let n = n.min(shortest.saturating_sub(1));
    if n >= MIN_SHARED && seqs.len() > 1 {
        n
    } else {
        0
    }
}

fn add(
    batch: &mut LlamaBatch,
    token: LlamaToken,
    pos: usize,
    seq: usize,
    logits: bool,
) -> Result<()> {
    let pos = i32::try_from(pos).map_err(|e| inference("position", e))?;
    let seq = i32::try_from(seq).map_err(|e| inference("sequence", e))?;
    batch
        .add(token, pos, &[seq], logits)
        .map_err(|e| inference("batch", e))
}

/// Samples the next token of every sequence whose logits the last decode
/// produced.
fn sample_all(ctx: &LlamaContext, seqs: &mut [Sequence]) {
    for seq in seqs.iter_mut().filter(|s| s.done.is_none()) {
        if let Some(index) = seq.logits.take() {
            seq.next = Some(seq.sampler.sample(ctx, index));
        }
    }
}
