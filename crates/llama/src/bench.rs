//! Raw throughput, measured the way llama.cpp's `llama-bench` measures it, so
//! the figures compare directly: prompt = one batch of N tokens, generation =
//! N single-token decodes (no sampling), each after a warm-up run.

use crate::engine::LlamaEngine;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::token::LlamaToken;
use pith_core::{Error, Result};
use std::time::Instant;

impl LlamaEngine {
    /// Deterministic token ids spread over the vocabulary.
    fn bench_tokens(&self, n: usize) -> Vec<LlamaToken> {
        let vocab = i64::from(self.loaded_vocab_size().max(2));
        (0..n)
            .map(|i| {
                let id = (i as i64 * 7919 + 13) % (vocab - 1) + 1;
                LlamaToken(i32::try_from(id).unwrap_or(1))
            })
            .collect()
    }

    fn decode_batch(
        &mut self,
        tokens: &[LlamaToken],
        start: usize,
        all_logits: bool,
    ) -> Result<()> {
        let mut batch = LlamaBatch::new(tokens.len().max(1), 1);
        for (i, &t) in tokens.iter().enumerate() {
            let pos = i32::try_from(start + i).map_err(|e| Error::Inference(e.to_string()))?;
            batch
                .add(t, pos, &[0], all_logits || i + 1 == tokens.len())
                .map_err(|e| Error::Inference(e.to_string()))?;
        }
        self.decode_raw(&mut batch)
    }

    /// Prompt-evaluation tokens per second for one batch of `n` (≤ 512) tokens.
    pub fn bench_prompt(&mut self, n: usize, repetitions: usize) -> Result<f64> {
        let tokens = self.bench_tokens(n);
        self.clear_cache();
        self.decode_batch(&tokens, 0, false)?; // warm-up
        let mut total = 0.0;
        for _ in 0..repetitions.max(1) {
            self.clear_cache();
            let t = Instant::now();
            self.decode_batch(&tokens, 0, false)?;
            total += t.elapsed().as_secs_f64();
        }
        self.clear_cache();
        Ok((n * repetitions.max(1)) as f64 / total)
    }

    /// Seconds per decode of a batch of `n` tokens, each with logits, after
    /// `context` tokens (what verifying an `n - 1`-token draft costs).
    pub fn bench_verify(&mut self, n: usize, context: usize, repetitions: usize) -> Result<f64> {
        let tokens = self.bench_tokens(context + n);
        self.clear_cache();
        self.decode_batch(&tokens[..context], 0, false)?;
        let mut total = 0.0;
        for _ in 0..repetitions.max(1) {
            let t = Instant::now();
            self.decode_batch(&tokens[context..], context, true)?;
            total += t.elapsed().as_secs_f64();
            self.truncate_for_bench(context)?;
        }
        self.clear_cache();
        Ok(total / repetitions.max(1) as f64)
    }

    /// The largest batch (2 to `max`) whose every size gives, bit for bit,
    /// the logits that decoding its tokens one at a time gives, after
    /// `context` tokens; 1 when even a batch of 2 differs. Prompt lookup's
    /// greedy output equals plain decoding exactly only within that size:
    /// llama.cpp picks its kernels by batch size and context length (on the
    /// CPU, attention over 512 or more cache cells is split across threads
    /// for a single token only; repacked Q4_0/Q4_K weights multiply four
    /// tokens at a time), and the roundings differ.
    pub fn exact_batch(&mut self, context: usize, max: usize) -> Result<usize> {
        let tokens = self.bench_tokens(context + max);
        self.clear_cache();
        self.decode_batch(&tokens[..context], 0, false)?;
        let mut single = Vec::with_capacity(max);
        for (i, t) in tokens[context..].iter().enumerate() {
            self.decode_batch(std::slice::from_ref(t), context + i, true)?;
            single.push(self.logits_of(0));
        }
        let mut exact = 1;
        for n in 2..=max {
            self.truncate_for_bench(context)?;
            self.decode_batch(&tokens[context..context + n], context, true)?;
            let same = (0..n).all(|j| self.logits_of(i32::try_from(j).unwrap_or(0)) == single[j]);
            if !same {
                break;
            }
            exact = n;
        }
        self.clear_cache();
        Ok(exact)
    }

    /// Generation tokens per second over `n` single-token decodes.
    pub fn bench_generation(&mut self, n: usize, repetitions: usize) -> Result<f64> {
        let tokens = self.bench_tokens(n);
        self.clear_cache();
        self.decode_batch(&tokens[..1], 0, true)?; // warm-up
        let mut total = 0.0;
        for _ in 0..repetitions.max(1) {
            self.clear_cache();
            let t = Instant::now();
            for (i, tok) in tokens.iter().enumerate() {
                self.decode_batch(std::slice::from_ref(tok), i, true)?;
            }
            total += t.elapsed().as_secs_f64();
        }
        self.clear_cache();
        Ok((n * repetitions.max(1)) as f64 / total)
    }
}

/// The CPU features llama.cpp was compiled with, as it reports them
/// (e.g. `["AVX", "AVX2", "F16C", "FMA"]`).
pub fn cpu_features() -> Vec<String> {
    parse_system_info(&system_info())
}

#[allow(unsafe_code)]
fn system_info() -> String {
    // SAFETY: llama_print_system_info takes no arguments and returns a
    // pointer to a static NUL-terminated string owned by llama.cpp.
    unsafe {
        let ptr = llama_cpp_sys_2::llama_print_system_info();
        if ptr.is_null() {
            return String::new();
        }
        std::ffi::CStr::from_ptr(ptr).to_string_lossy().into_owned()
    }
}

/// SIMD extensions the linked llama.cpp was compiled to use (recorded by
/// build.rs) that this CPU lacks. Checked before any call into llama.cpp:
/// its start-up code already uses them, so an older CPU would otherwise die
/// with an illegal instruction.
pub fn missing_cpu_features() -> Vec<String> {
    missing_from(env!("PITH_LLAMA_CPU_REQUIRES"), cpu_has)
}

fn missing_from(required: &str, has: impl Fn(&str) -> bool) -> Vec<String> {
    required
        .split(',')
        .filter(|f| !f.is_empty() && !has(f))
        .map(str::to_uppercase)
        .collect()
}

#[cfg(target_arch = "x86_64")]
fn cpu_has(feature: &str) -> bool {
    use std::arch::is_x86_feature_detected as has;
    match feature {
        "sse3" => has!("sse3"),
        "ssse3" => has!("ssse3"),
        "sse4.1" => has!("sse4.1"),
        "sse4.2" => has!("sse4.2"),
        "avx" => has!("avx"),
        "avx2" => has!("avx2"),
        "fma" => has!("fma"),
        "f16c" => has!("f16c"),
        "bmi2" => has!("bmi2"),
        "avx512f" => has!("avx512f"),
        "avx512bw" => has!("avx512bw"),
        "avx512vl" => has!("avx512vl"),
        "avx512vnni" => has!("avx512vnni"),
        "avx512vbmi" => has!("avx512vbmi"),
        "avx512bf16" => has!("avx512bf16"),
        "avxvnni" => has!("avxvnni"),
        _ => true,
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn cpu_has(_feature: &str) -> bool {
    true
}

/// Features marked `= 1` in llama.cpp's system-info line.
fn parse_system_info(info: &str) -> Vec<String> {
    let mut features: Vec<String> = info
        .split('|')
        .filter_map(|part| {
            let (name, value) = part.split_once('=')?;
            let name = name.rsplit(':').next().unwrap_or(name).trim();
            (value.trim() == "1" && !name.is_empty()).then(|| name.to_string())
        })
        .collect();
    features.dedup();
    features
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_cpu_runs_what_llama_cpp_was_built_for() {
        assert_eq!(missing_cpu_features(), Vec::<String>::new());
    }

    #[test]
    fn features_the_cpu_lacks_are_named() {
        let old_cpu = |f: &str| matches!(f, "sse3" | "avx");
        assert_eq!(missing_from("avx,avx2,fma,sse3", old_cpu), ["AVX2", "FMA"]);
        assert!(missing_from("", old_cpu).is_empty());
    }

    #[test]
    fn the_requirement_names_avx2_when_llama_cpp_uses_it() {
        let required = env!("PITH_LLAMA_CPU_REQUIRES");
        assert_eq!(
            cfg!(target_feature = "avx2") || !required.is_empty(),
            required.contains("avx2")
        );
    }

    #[test]
    fn system_info_features_are_parsed() {
        let line = "CPU : SSE3 = 1 | SSSE3 = 1 | AVX = 1 | AVX2 = 1 | AVX512 = 0 | F16C = 1 | FMA = 1 | OPENMP = 1 | REPACK = 1 |";
        assert_eq!(
            parse_system_info(line),
            ["SSE3", "SSSE3", "AVX", "AVX2", "F16C", "FMA", "OPENMP", "REPACK"]
        );
    }
}
