//! `LlamaEngine`: Pith's [`Engine`] on llama.cpp, through `llama-cpp-2`.
//!
//! This is the only crate that links llama.cpp. Decisions (prompts, budgets,
//! checks) live in `pith-core`; this crate turns requests into tokens, runs
//! them, and streams text back.
//!
//! Choices made here, and why:
//! - **Weights are read into memory, not memory-mapped.** On x86 llama.cpp
//!   repacks Q4 weights for the CPU; with mmap the mapped pages stay resident
//!   beside the repacked copy (~1.6–1.7x the file size), without it ~1.05x,
//!   at the same load time. `pith bench` reports `peak_rss_mb`.
//! - **Threads = physical cores.** llama.cpp's default of 4 oversubscribes a
//!   2-core laptop.
//! - **top-k first** in the sampler chain, so later samplers see 40
//!   candidates instead of the whole vocabulary.
//! - **The prompt is evaluated in chunks** of [`PROMPT_CHUNK`] tokens, with a
//!   cancel check between chunks; llama.cpp splits batches the same way
//!   internally, so this costs no speed.
//! - **Prefix reuse.** The tokens in the KV cache are remembered; a request
//!   that starts with them evaluates only the rest (follow-up chat turns, the
//!   fixed part of rephrase prompts).

mod bench;
mod engine;
mod machine;
mod pool;
pub mod tune;

pub use bench::{cpu_features, missing_cpu_features};
pub use engine::{LlamaEngine, LoadOptions, SharedModel, PARALLEL, PROMPT_CHUNK};
pub use machine::{gpu_devices, gpu_offload_supported, machine_profile, preferences};
pub use pool::{ModelPool, PoolModel, Swap};
