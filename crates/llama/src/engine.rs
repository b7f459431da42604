//! Loading a model and generating with it.

use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::context::session::{LlamaStateSeqFlags, SeqState};
use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::{LlamaChatMessage, LlamaChatTemplate, LlamaLoraAdapter, LlamaModel};
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::LlamaToken;
use pith_core::engine::checkpoints::Checkpoints;
use pith_core::engine::state::StateStore;
use pith_core::engine::{
    fallback_chat_format, is_looping, lookup, CancelToken, ChatMessage, ChatTemplate, Engine,
    GenerateRequest, Generation, ModelInfo, Prompt, Sampling, StopMatcher, StopReason, StopScan,
    Utf8Assembler, FALLBACK_CHAT_STOPS,
};
use pith_core::models::architectures::Memory;
use pith_core::{Error, Result};
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

mod grammar;
mod parallel;
pub use parallel::PARALLEL;

/// Tokens evaluated per `decode` call while reading a prompt; cancellation
/// is checked between chunks.
pub const PROMPT_CHUNK: usize = 128;

/// Below this many tokens shared with the cache, a saved state is worth
/// loading from disk.
const COLD_PREFIX: usize = 16;

/// In-memory checkpoints a model whose memory cannot drop tokens keeps
/// (see `Memory`): the instructions' end and the last prompt's end, a few
/// conversations' worth, within 256 MB.
const CHECKPOINTS: usize = 4;
const CHECKPOINT_BYTES: usize = 256 << 20;

/// Largest context an engine opens unless asked for more: enough for every
/// job, and the KV cache of a small model stays in the tens of megabytes.
const DEFAULT_MAX_CONTEXT: u32 = 4096;

/// How to load a model. The default: the model's context up to 4096 tokens,
/// physical cores, CPU only, weights read into memory.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Context window; `None` takes the model's trained length up to 4096.
    pub context: Option<u32>,
    /// CPU threads; `None` uses the physical cores.
    pub threads: Option<usize>,
    /// Layers to offload to a GPU (0 = CPU only).
    pub gpu_layers: u32,
    /// Memory-map the file instead of reading it (see the crate docs).
    pub use_mmap: bool,
    /// Load even when the memory estimate exceeds what is free.
    pub force: bool,
    /// Keep KV states of prompts on disk here (`None`: never).
    pub states: Option<StateStore>,
    /// LoRA adapters (GGUF) to load with the model, each under a name a
    /// request can ask for (`GenerateRequest::adapter`).
    pub adapters: Vec<(String, PathBuf)>,
}

/// llama.cpp allows one backend per process; every engine shares it.
pub(crate) fn backend() -> Result<&'static LlamaBackend> {
    static BACKEND: OnceLock<std::result::Result<LlamaBackend, String>> = OnceLock::new();
    BACKEND
        .get_or_init(|| {
            // Into the program's log (`pith_core::logs`), which keeps
            // llama.cpp's warnings and errors.
            llama_cpp_2::send_logs_to_tracing(
                llama_cpp_2::LogOptions::default().with_logs_enabled(true),
            );
            LlamaBackend::init().map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| Error::Inference(format!("llama.cpp backend failed to start: {e}")))
}

type Context<'model> = LlamaContext<'model>;

/// A request's saved state file and the prompt bytes it keeps.
type StateFile = Option<(PathBuf, Option<usize>)>;

/// A prompt as text, its tokens, and the stop strings its format needs.
type Rendered = (String, Vec<LlamaToken>, Vec<String>);

self_cell::self_cell!(
    /// The model and this engine's context, which borrows it, kept
    /// together. The model is shared: another engine (the hotkey's) can
    /// have a context of its own over the same weights.
    struct Loaded {
        owner: Arc<LlamaModel>,
        #[covariant]
        dependent: Context,
    }
);

/// A loaded model that more engines can share: each has its own context
/// (KV cache, window, thread) over the one copy of the weights. `Send`, so
/// a worker thread can build its engine from it.
#[derive(Clone)]
pub struct SharedModel {
    model: Arc<LlamaModel>,
    path: PathBuf,
    architecture: String,
    file_size: u64,
    /// Adapters loaded with the model (llama.cpp frees them with it).
    adapters: Arc<Mutex<Vec<(String, LlamaLoraAdapter)>>>,
}

pub struct LlamaEngine {
    loaded: Loaded,
    shared: SharedModel,
    info: ModelInfo,
    template: Option<LlamaChatTemplate>,
    threads: usize,
    /// Tokens whose keys and values are in the KV cache (sequence 0), in order.
    cached: Vec<LlamaToken>,
    /// How the model keeps what it read: whether the cache can be cut back.
    memory: Memory,
    /// Saved states of sequence 0, for memory that cannot be cut back.
    checkpoints: Checkpoints<SeqState>,
    /// The adapter the context answers with now (`None`: the base model).
    adapter: Option<String>,
    states: Option<StateStore>,
    /// Identifies the model file in saved state names.
    fingerprint: String,
    /// How many drafted tokens prompt lookup verifies, learned as it runs.
    draft_policy: lookup::DraftPolicy,
    /// Filter the whole vocabulary by a request's grammar at every token
    /// instead of only when the sampled token breaks it (benchmarks).
    grammar_first: bool,
    /// Flash attention in the parallel sequences' context (off by default,
    /// for speed; on, answers match the single-sequence path exactly).
    batch_flash_attention: bool,
}

fn inference(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Inference(format!("{what}: {e}"))
}

impl LlamaEngine {
    /// Checks the file's header, then loads it with llama.cpp.
    pub fn load(path: &Path, options: &LoadOptions) -> Result<Self> {
        let missing = crate::bench::missing_cpu_features();
        if !missing.is_empty() {
            return Err(Error::UnsupportedCpu { missing });
        }
        let summary = pith_core::models::check_model_file(path)?;
        if !options.force {
            // Refuse before llama.cpp allocates: a model that does not fit
            // would swap the machine to a halt or be killed half-loaded.
            let trained = u32::try_from(summary.context_length.unwrap_or(2048)).unwrap_or(u32::MAX);
            let context = options
                .context
                .unwrap_or_else(|| trained.min(DEFAULT_MAX_CONTEXT));
            // GPUs only matter when layers are to be offloaded.
            let hw = if options.gpu_layers > 0 {
                pith_core::hardware::probe(None)
            } else {
                pith_core::hardware::probe_memory()
            };
            let prefs = pith_core::models::estimate::Preferences {
                gpu_offload: options.gpu_layers > 0,
                app_bytes: 0,
                ..Default::default()
            };
            pith_core::models::check_memory(path, &summary, &hw, context, &prefs)?;
        }
        let backend = backend()?;
        let params = LlamaModelParams::default()
            .with_use_mmap(options.use_mmap)
            .with_n_gpu_layers(options.gpu_layers);
        let mut model = LlamaModel::load_from_file(backend, path, &params).map_err(|e| {
            Error::ModelLoadFailed {
                path: path.to_path_buf(),
                reason: e.to_string(),
            }
        })?;
        let architecture = summary.architecture.unwrap_or_default();
        // Before the model is shared: llama.cpp attaches adapters to it.
        let mut adapters = load_adapters(&mut model, &architecture, &options.adapters)?;
        if options.adapters.is_empty() {
            // The ones installed for this file (`pith models import
            // --adapter`); one that fails is left out, the model still runs.
            let dirs = pith_core::models::search_dirs();
            for a in pith_core::models::adapters::installed_for(path, &dirs) {
                match load_adapters(&mut model, &architecture, &[(a.mode.clone(), a.path)]) {
                    Ok(loaded) => adapters.extend(loaded),
                    Err(e) => tracing::warn!(mode = %a.mode, "adapter left out: {e}"),
                }
            }
        }
        let shared = SharedModel {
            model: Arc::new(model),
            path: path.to_path_buf(),
            architecture,
            file_size: summary.file_size,
            adapters: Arc::new(Mutex::new(adapters)),
        };
        let engine = Self::with_model(&shared, options)?;
        tracing::info!(
            model = %path.file_name().map(|f| f.to_string_lossy()).unwrap_or_default(),
            architecture = %shared.architecture,
            context = engine.info().context,
            threads = engine.threads(),
            "model loaded"
        );
        Ok(engine)
    }

    /// This engine's model, to give another engine a context over it.
    pub fn share(&self) -> SharedModel {
        self.shared.clone()
    }

    /// An engine with a context of its own over an already loaded model:
    /// only its KV cache and compute buffers take new memory. `options`
    /// says the context's size, threads and saved states (the loading
    /// options do not apply).
    pub fn with_model(shared: &SharedModel, options: &LoadOptions) -> Result<Self> {
        let backend = backend()?;
        let model = &shared.model;
        let path = shared.path.as_path();
        let trained = model.n_ctx_train();
        let context = options
            .context
            .unwrap_or_else(|| trained.min(DEFAULT_MAX_CONTEXT))
            .clamp(256, trained.max(256));
        let threads = options
            .threads
            .unwrap_or_else(pith_core::hardware::physical_cores)
            .max(1);
        let threads_i32 = i32::try_from(threads).unwrap_or(i32::MAX);
        let memory = memory_of(model, &shared.architecture);
        let ctx_params = LlamaContextParams::default()
            // Sliding-window layers keep their window (plus a batch), not the
            // whole context: the memory the planner counts. Reuse checks what
            // is still held (`Memory::can_keep`).
            .with_swa_full(false)
            .with_n_ctx(NonZeroU32::new(context))
            .with_n_batch(512)
            .with_n_ubatch(512)
            .with_n_threads(threads_i32)
            .with_n_threads_batch(threads_i32);

        let template = model.chat_template(None).ok();
        // The file name says what users chose (model, size, quantization);
        // `general.name` is often a training-run label.
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .or_else(|| model.meta_val_str("general.name").ok())
            .unwrap_or_default();
        let info = ModelInfo {
            path: path.display().to_string(),
            name,
            architecture: shared.architecture.clone(),
            parameters: model.n_params(),
            size_bytes: shared.file_size,
            layers: model.n_layer(),
            trained_context: trained,
            context,
            has_chat_template: template.is_some(),
        };
        let loaded = Loaded::try_new(Arc::clone(model), |m| m.new_context(backend, ctx_params))
            .map_err(|e| Error::ModelLoadFailed {
                path: path.to_path_buf(),
                reason: format!("could not create a context of {context} tokens: {e}"),
            })?;
        let fingerprint = match &options.states {
            Some(_) => pith_core::models::fingerprint(path)?,
            None => String::new(),
        };
        Ok(Self {
            loaded,
            shared: shared.clone(),
            info,
            template,
            threads,
            cached: Vec::new(),
            memory,
            checkpoints: Checkpoints::new(CHECKPOINTS, CHECKPOINT_BYTES),
            adapter: None,
            states: options.states.clone(),
            fingerprint,
            draft_policy: lookup::DraftPolicy::default(),
            grammar_first: false,
            batch_flash_attention: false,
        })
    }

    pub fn threads(&self) -> usize {
        self.threads
    }

    /// How the model keeps what it has read.
    pub fn memory(&self) -> Memory {
        self.memory
    }

    /// The names of the adapters loaded with the model.
    pub fn adapters(&self) -> Vec<String> {
        self.shared
            .adapters
            .lock()
            .map(|a| a.iter().map(|(n, _)| n.clone()).collect())
            .unwrap_or_default()
    }

    /// Makes the context answer with the adapter a request names (the base
    /// model when it names none, or one not loaded). The cache and the
    /// checkpoints were computed with the other weights: a switch empties
    /// them, and saved states are kept per adapter.
    fn use_adapter(&mut self, wanted: Option<&str>) -> Result<()> {
        let adapters = Arc::clone(&self.shared.adapters);
        let mut adapters = lock(&adapters)?;
        let wanted = wanted.filter(|w| adapters.iter().any(|(n, _)| n == w));
        if wanted == self.adapter.as_deref() {
            return Ok(());
        }
        self.loaded
            .with_dependent_mut(|_, ctx| set_adapter(ctx, &mut adapters, wanted))?;
        self.adapter = wanted.map(str::to_string);
        drop(adapters);
        self.clear_cache();
        Ok(())
    }

    /// Replaces the learned drafting policy (tests use a fixed one).
    pub fn set_draft_policy(&mut self, policy: lookup::DraftPolicy) {
        self.draft_policy = policy;
    }

    pub fn draft_policy(&self) -> &lookup::DraftPolicy {
        &self.draft_policy
    }

    /// Applies a request's grammar to the whole vocabulary at every token
    /// (the slower path, for the benchmark's comparison).
    pub fn set_grammar_first(&mut self, on: bool) {
        self.grammar_first = on;
    }

    /// Runs the parallel sequences with the single-sequence path's
    /// attention kernel, so their answers can be compared exactly (tests).
    pub fn set_batch_flash_attention(&mut self, on: bool) {
        self.batch_flash_attention = on;
    }

    fn model(&self) -> &LlamaModel {
        self.loaded.borrow_owner()
    }

    /// The prompt as text, plus stop strings its format needs.
    fn render(&self, prompt: &Prompt) -> Result<(String, Vec<String>)> {
        match prompt {
            Prompt::Raw(text) => Ok((text.clone(), Vec::new())),
            Prompt::Chat(messages) => {
                // A template with a thinking switch is rendered from its own
                // source (llama.cpp's copy would leave thinking on), or refused.
                if let Some(template) = self.chat_template() {
                    if pith_core::engine::template::has_thinking_switch(&template.source) {
                        let text = pith_core::engine::template::render_chat(&template, messages)?;
                        return Ok((text, Vec::new()));
                    }
                }
                if let Some(text) = self.apply_template(messages) {
                    return Ok((text, Vec::new()));
                }
                Ok((
                    fallback_chat_format(messages),
                    FALLBACK_CHAT_STOPS
                        .iter()
                        .map(|s| (*s).to_string())
                        .collect(),
                ))
            }
        }
    }

    /// The model's own chat template, when it has one llama.cpp can apply.
    fn apply_template(&self, messages: &[ChatMessage]) -> Option<String> {
        let template = self.template.as_ref()?;
        let chat: Vec<LlamaChatMessage> = messages
            .iter()
            .map(|m| LlamaChatMessage::new(m.role.as_str().to_string(), m.content.clone()))
            .collect::<std::result::Result<_, _>>()
            .ok()?;
        self.model().apply_chat_template(template, &chat, true).ok()
    }

    fn tokenize_prompt(&self, text: &str) -> Vec<LlamaToken> {
        let vocab = self.model().vocab();
        let mut tokens = vocab.tokenize(text.as_bytes(), true, true);
        // Templates that write the BOS token themselves would get it twice.
        let bos = vocab.bos();
        if tokens.len() >= 2 && tokens[0] == bos && tokens[1] == bos {
            tokens.remove(0);
        }
        tokens
    }

    fn sampler(&self, s: &Sampling) -> LlamaSampler {
        let n_vocab = self.model().n_vocab();
        let top_k = i32::try_from(s.top_k.max(1)).unwrap_or(40);
        let last_n = i32::try_from(s.repeat_last_n).unwrap_or(64);
        let penalties = LlamaSampler::penalties(n_vocab, last_n, s.repeat_penalty, 0.0, 0.0);
        if s.temperature <= 0.0 {
            LlamaSampler::chain_simple([
                LlamaSampler::top_k(top_k),
                penalties,
                LlamaSampler::greedy(),
            ])
        } else {
            LlamaSampler::chain_simple([
                LlamaSampler::top_k(top_k),
                penalties,
                LlamaSampler::top_p(s.top_p, 1),
                LlamaSampler::min_p(s.min_p, 1),
                LlamaSampler::temp(s.temperature),
                LlamaSampler::dist(s.seed),
            ])
        }
    }

    /// Brings the KV cache to hold exactly `tokens[..n]` for the longest `n`
    /// it can, leaving at least one token to evaluate (the last one's
    /// logits are needed): what it shares with the cache when the cache can
    /// be cut back there, else the longest checkpoint the prompt starts
    /// with. Returns `n`.
    fn reuse_prefix(&mut self, tokens: &[LlamaToken]) -> Result<usize> {
        let common = self
            .cached
            .iter()
            .zip(tokens)
            .take_while(|(a, b)| a == b)
            .count()
            .min(tokens.len().saturating_sub(1));
        if common == self.cached.len() || self.cut(common)? {
            return Ok(common);
        }
        Ok(self.restore_checkpoint(tokens))
    }

    /// Cuts the cache back to its first `n` tokens where the memory allows
    /// it; false, the cache untouched, where it does not or llama.cpp
    /// refuses.
    fn cut(&mut self, n: usize) -> Result<bool> {
        if !self.can_cut(n) {
            return Ok(false);
        }
        let from = u32::try_from(n).map_err(|e| inference("cache position", e))?;
        let removed = self
            .loaded
            .with_dependent_mut(|_, ctx| ctx.clear_kv_cache_seq(Some(0), Some(from), None))
            .map_err(|e| inference("cache trim", e))?;
        if removed {
            self.cached.truncate(n);
        }
        Ok(removed)
    }

    /// Whether the cache can be cut back to its first `keep` tokens: never
    /// for recurrent layers, for a sliding window only while it still holds
    /// the tokens the next one must see.
    fn can_cut(&self, keep: usize) -> bool {
        let oldest = self
            .loaded
            .with_dependent(|_, ctx| ctx.kv_cache_seq_pos_min(0));
        self.memory.can_keep(keep, i64::from(oldest))
    }

    /// Restores the longest checkpoint `tokens` starts with; returns the
    /// tokens it holds (0, cache empty, when there is none).
    fn restore_checkpoint(&mut self, tokens: &[LlamaToken]) -> usize {
        self.drop_cache();
        let ids: Vec<i32> = tokens.iter().map(|t| t.0).collect();
        let Self {
            checkpoints,
            loaded,
            ..
        } = self;
        let Some(checkpoint) = checkpoints.best(&ids) else {
            return 0;
        };
        let restored = loaded.with_dependent_mut(|_, ctx| ctx.state_seq_set(&checkpoint.state, 0));
        let held: Vec<LlamaToken> = checkpoint.tokens.iter().map(|&t| LlamaToken(t)).collect();
        if restored.is_err() {
            self.drop_cache();
            return 0;
        }
        self.cached = held;
        self.cached.len()
    }

    /// Keeps the cache's state as a checkpoint, for memory that cannot be
    /// cut back (attention-only models need none).
    fn checkpoint(&mut self) {
        if self.memory == Memory::Attention || self.cached.is_empty() {
            return;
        }
        let ids: Vec<i32> = self.cached.iter().map(|t| t.0).collect();
        if self.checkpoints.has(&ids) {
            return;
        }
        let state = self
            .loaded
            .with_dependent(|_, ctx| ctx.state_seq_get(0, LlamaStateSeqFlags::empty()));
        if let Ok(state) = state {
            let bytes = state.byte_len();
            self.checkpoints.add(ids, state, bytes);
        }
    }

    pub(crate) fn loaded_vocab_size(&self) -> i32 {
        self.model().n_vocab()
    }

    /// The logits of the `i`-th token of the last decoded batch.
    pub(crate) fn logits_of(&self, i: i32) -> Vec<f32> {
        self.loaded
            .with_dependent(|_, ctx| ctx.get_logits_ith(i).to_vec())
    }

    pub(crate) fn decode_raw(&mut self, batch: &mut LlamaBatch) -> Result<()> {
        self.loaded
            .with_dependent_mut(|_, ctx| ctx.decode(batch))
            .map_err(|e| inference("llama.cpp decode failed", e))
    }

    /// Forgets the evaluated prefix and the checkpoints: the next request
    /// evaluates its whole prompt (benchmarks compare with and without reuse).
    pub fn clear_cache(&mut self) {
        self.drop_cache();
        self.checkpoints.clear();
    }

    /// Empties the cache (checkpoints stay).
    fn drop_cache(&mut self) {
        self.loaded
            .with_dependent_mut(|_, ctx| ctx.clear_kv_cache());
        self.cached.clear();
    }

    /// Evaluates `tokens` after what is cached, in chunks; the last token
    /// gets logits. Returns the batch index of those logits.
    fn evaluate(&mut self, tokens: &[LlamaToken], cancel: &CancelToken) -> Result<i32> {
        let mut batch = LlamaBatch::new(PROMPT_CHUNK, 1);
        let mut last_index = 0;
        for (c, chunk) in tokens.chunks(PROMPT_CHUNK).enumerate() {
            if cancel.is_cancelled() {
                return Err(Error::Cancelled);
            }
            batch.clear();
            let is_final_chunk = (c + 1) * PROMPT_CHUNK >= tokens.len();
            for (i, &t) in chunk.iter().enumerate() {
                let pos =
                    i32::try_from(self.cached.len() + i).map_err(|e| inference("position", e))?;
                let logits = is_final_chunk && i + 1 == chunk.len();
                batch
                    .add(t, pos, &[0], logits)
                    .map_err(|e| inference("batch", e))?;
            }
            let decoded = self
                .loaded
                .with_dependent_mut(|_, ctx| ctx.decode(&mut batch));
            if let Err(e) = decoded {
                self.drop_cache();
                return Err(inference("llama.cpp decode failed", e));
            }
            self.cached.extend_from_slice(chunk);
            last_index = batch.n_tokens() - 1;
        }
        Ok(last_index)
    }
    /// A token's bytes, and whether it ends generation.
    fn piece(&self, token: LlamaToken) -> (bool, Vec<u8>) {
        let vocab = self.model().vocab();
        if vocab.is_eog(token) {
            return (true, Vec::new());
        }
        (false, vocab.token_to_piece(token, false, None))
    }

    pub(crate) fn truncate_for_bench(&mut self, n: usize) -> Result<()> {
        let from = u32::try_from(n).map_err(|e| inference("cache position", e))?;
        self.loaded
            .with_dependent_mut(|_, ctx| ctx.clear_kv_cache_seq(Some(0), Some(from), None))
            .map_err(|e| inference("cache trim", e))?;
        Ok(())
    }

    /// Drops cached tokens from position `n` on; an error where the memory
    /// cannot be cut back there (callers check first).
    fn truncate_cache(&mut self, n: usize) -> Result<()> {
        if n >= self.cached.len() {
            return Ok(());
        }
        if !self.can_cut(n) {
            return Err(Error::Inference(format!(
                "this model's {} memory cannot be cut back to {n} tokens",
                self.memory.label()
            )));
        }
        if !self.cut(n)? {
            self.drop_cache();
        }
        Ok(())
    }

    /// Where this request's saved state lives, when states are kept.
    fn saved_state_path(&self, request: &GenerateRequest) -> StateFile {
        let s = request.saved_state.as_ref()?;
        let store = self.states.as_ref()?;
        // A state is the base model's or one adapter's, never shared.
        let model = match &self.adapter {
            Some(a) => format!("{}-{a}", self.fingerprint),
            None => self.fingerprint.clone(),
        };
        Some((store.path(&s.key, &model), s.prefix_bytes))
    }

    /// Tokens of the prompt's first `bytes` bytes that the full prompt's
    /// tokens start with (a word split across the boundary is left out).
    fn fixed_prefix_len(&self, text: &str, bytes: usize, tokens: &[LlamaToken]) -> usize {
        if bytes > text.len() || !text.is_char_boundary(bytes) {
            return 0;
        }
        let prefix = self.tokenize_prompt(&text[..bytes]);
        let common = prefix
            .iter()
            .zip(tokens)
            .take_while(|(a, b)| a == b)
            .count();
        // The last prefix token may merge with the text after it.
        common
            .min(prefix.len().saturating_sub(1))
            .min(tokens.len().saturating_sub(1))
    }

    /// Writes the cached tokens' KV state to `path` (atomically) and keeps
    /// the folder within its bound. Failing to save only costs speed.
    fn save_state(&mut self, path: &Path) {
        let Some(store) = self.states.clone() else {
            return;
        };
        if self.cached.is_empty() || std::fs::create_dir_all(&store.dir).is_err() {
            return;
        }
        let tmp = path.with_extension("kv.tmp");
        let cached = self.cached.clone();
        let saved = self
            .loaded
            .with_dependent(|_, ctx| ctx.state_seq_save_file(&tmp, 0, &cached));
        // The check is written with the file, and the file renamed into
        // place only then: a crash in between leaves a mismatch, never a
        // trusted partial file.
        if saved.is_ok() && store.seal(&tmp, path) && std::fs::rename(&tmp, path).is_ok() {
            store.evict(path);
            return;
        }
        let _ = std::fs::remove_file(&tmp);
    }

    /// Loads a saved state into the cache and keeps the part the prompt
    /// starts with. `None` (cache cleared) when the file is unreadable,
    /// from another context size, or for a different prompt.
    fn restore_state(&mut self, path: &Path, tokens: &[LlamaToken]) -> Option<usize> {
        self.drop_cache();
        let max = self.info.context as usize;
        let loaded = self
            .loaded
            .with_dependent_mut(|_, ctx| ctx.state_seq_load_file(path, 0, max));
        let Ok((stored, _)) = loaded else {
            self.drop_cache();
            return None;
        };
        let common = stored
            .iter()
            .zip(tokens)
            .take_while(|(a, b)| a == b)
            .count()
            .min(tokens.len().saturating_sub(1));
        if common == 0 || common * 2 < stored.len() {
            self.drop_cache();
            return None;
        }
        self.cached = stored;
        if self.truncate_cache(common).is_err() {
            self.drop_cache();
            return None;
        }
        if let Some(store) = &self.states {
            store.touch(path);
        }
        Some(self.cached.len())
    }

    /// Saves the current cache as a state file (for benchmarks and tests).
    pub fn save_state_file(&mut self, path: &Path) -> Result<usize> {
        let cached = self.cached.clone();
        self.loaded
            .with_dependent(|_, ctx| ctx.state_seq_save_file(path, 0, &cached))
            .map_err(|e| inference("saving the state", e))
    }

    /// Restores a state file saved for `prompt`; returns the tokens restored
    /// (0 when the file does not match).
    pub fn restore_state_file(&mut self, path: &Path, prompt: &Prompt) -> Result<usize> {
        let (text, _) = self.render(prompt)?;
        let tokens = self.tokenize_prompt(&text);
        Ok(self.restore_state(path, &tokens).unwrap_or(0))
    }

    /// The request's prompt tokens and the stop strings its format needs;
    /// refuses an empty prompt and one that leaves no room for the answer.
    fn prompt_for(&self, request: &GenerateRequest) -> Result<Rendered> {
        let (text, format_stops) = self.render(&request.prompt)?;
        let tokens = self.tokenize_prompt(&text);
        let context = self.info.context as usize;
        if tokens.is_empty() {
            return Err(Error::EmptyInput);
        }
        if tokens.len() + request.max_tokens > context {
            return Err(Error::ContextTooLong {
                prompt_tokens: tokens.len(),
                reserved_tokens: request.max_tokens,
                context_tokens: context,
            });
        }
        Ok((text, tokens, format_stops))
    }

    /// Brings the cache to the longest prefix of `tokens` it can have
    /// without evaluating the prompt's variable part: what it already
    /// holds, the request's saved instructions restored from disk, or
    /// those instructions evaluated (and saved). Returns the tokens now
    /// cached, how many came from disk, and the request's state file.
    fn load_prefix(
        &mut self,
        request: &GenerateRequest,
        text: &str,
        tokens: &[LlamaToken],
        cancel: &CancelToken,
    ) -> Result<(usize, usize, StateFile)> {
        let mut reused = self.reuse_prefix(tokens)?;
        let mut restored = 0;
        let saved = self.saved_state_path(request);
        let fixed = request
            .saved_state
            .as_ref()
            .and_then(|s| s.prefix_bytes)
            .map(|b| self.fixed_prefix_len(text, b, tokens));
        // A cold cache: bring the saved prefix back from disk.
        if let Some((path, _)) = &saved {
            if reused < COLD_PREFIX && path.is_file() {
                // llama.cpp aborts on a malformed state file: only one
                // exactly as it was sealed after writing is read.
                let sealed = self.states.as_ref().is_some_and(|s| s.verify(path));
                match sealed.then(|| self.restore_state(path, tokens)).flatten() {
                    Some(n) => {
                        restored = n.saturating_sub(reused);
                        reused = n;
                        self.checkpoint();
                    }
                    // Another prompt, a damaged file: rebuilt below.
                    None => {
                        if let Some(store) = &self.states {
                            store.remove(path);
                        }
                    }
                }
            }
        }
        // The fixed instructions, read on their own: saved to disk where
        // states are kept, and kept as a checkpoint where the memory cannot
        // be cut back (without a state file the next request with the same
        // instructions restores it instead of reading them again).
        if saved.is_some() || self.memory != Memory::Attention {
            if let Some(fixed) = fixed.filter(|&f| f > reused) {
                self.evaluate(&tokens[reused..fixed], cancel)?;
                reused = fixed;
                if let Some((path, _)) = &saved {
                    self.save_state(path);
                }
                self.checkpoint();
            }
        }
        Ok((reused, restored, saved))
    }

    /// Evaluates a prompt into the cache without generating (benchmarks).
    pub fn prefill(&mut self, prompt: &Prompt) -> Result<usize> {
        let (text, _) = self.render(prompt)?;
        let tokens = self.tokenize_prompt(&text);
        let reused = self.reuse_prefix(&tokens)?;
        self.evaluate(&tokens[reused..], &CancelToken::new())?;
        Ok(tokens.len() - reused)
    }
}

/// What one generation has produced so far: the text after stop strings,
/// the tokens, and when the first piece came.
pub(crate) struct Output {
    matcher: StopMatcher,
    utf8: Utf8Assembler,
    text: String,
    generated: Vec<LlamaToken>,
    ttft: Option<f64>,
    max_tokens: usize,
    started: Instant,
}

impl Output {
    pub(crate) fn new(stops: &[String], max_tokens: usize, started: Instant) -> Self {
        Self {
            matcher: StopMatcher::new(stops),
            utf8: Utf8Assembler::new(),
            text: String::new(),
            generated: Vec::new(),
            ttft: None,
            max_tokens,
            started,
        }
    }

    /// Takes one token the model chose; says why generation ends, if it does.
    pub(crate) fn take(
        &mut self,
        token: LlamaToken,
        eog: bool,
        bytes: &[u8],
        on_piece: &mut dyn FnMut(&str),
    ) -> Option<StopReason> {
        if eog {
            return Some(StopReason::EndOfText);
        }
        self.generated.push(token);
        let piece = self.utf8.push(bytes);
        match self.matcher.push(&piece) {
            StopScan::Continue(t) => {
                if !t.is_empty() {
                    let started = self.started;
                    self.ttft
                        .get_or_insert_with(|| started.elapsed().as_secs_f64());
                    on_piece(&t);
                    self.text.push_str(&t);
                }
            }
            StopScan::Stopped(t) => {
                if !t.is_empty() {
                    on_piece(&t);
                    self.text.push_str(&t);
                }
                return Some(StopReason::StopString);
            }
        }
        if is_looping(&self.generated, 32, 48) {
            return Some(StopReason::Repetition);
        }
        (self.generated.len() == self.max_tokens).then_some(StopReason::MaxTokens)
    }

    /// Emits what the stop matcher held back, unless a stop string ended it.
    pub(crate) fn finish(&mut self, reason: StopReason, on_piece: &mut dyn FnMut(&str)) {
        if reason == StopReason::StopString {
            return;
        }
        let (StopScan::Continue(mut rest) | StopScan::Stopped(mut rest)) =
            self.matcher.push(&self.utf8.finish());
        rest.push_str(&self.matcher.finish());
        if !rest.is_empty() {
            on_piece(&rest);
            self.text.push_str(&rest);
        }
    }

    pub(crate) fn generated(&self) -> usize {
        self.generated.len()
    }

    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    pub(crate) fn generation(self, stop_reason: StopReason, prompt_tokens: usize) -> Generation {
        Generation {
            text: self.text,
            stop_reason,
            prompt_tokens,
            evaluated_prompt_tokens: prompt_tokens,
            generated_tokens: self.generated.len(),
            draft_tokens: 0,
            draft_accepted: 0,
            restored_prompt_tokens: 0,
            ttft_s: self
                .ttft
                .unwrap_or_else(|| self.started.elapsed().as_secs_f64()),
            total_s: self.started.elapsed().as_secs_f64(),
        }
    }
}

impl Engine for LlamaEngine {
    fn info(&self) -> &ModelInfo {
        &self.info
    }

    fn count_tokens(&self, text: &str) -> Result<usize> {
        Ok(self
            .model()
            .vocab()
            .tokenize(text.as_bytes(), false, false)
            .len())
    }

    fn prompt_tokens(&self, prompt: &Prompt) -> Result<usize> {
        let (text, _) = self.render(prompt)?;
        Ok(self.tokenize_prompt(&text).len())
    }

    fn prepare(&mut self, request: &GenerateRequest, cancel: &CancelToken) -> Result<usize> {
        if cancel.is_cancelled() {
            return Err(Error::Cancelled);
        }
        self.use_adapter(request.adapter.as_deref())?;
        let (text, tokens, _) = self.prompt_for(request)?;
        let (reused, _, _) = self.load_prefix(request, &text, &tokens, cancel)?;
        // All but the last token: the request's own evaluation of it gives
        // the logits its first token is sampled from.
        let end = tokens.len().saturating_sub(1);
        if end > reused {
            self.evaluate(&tokens[reused..end], cancel)?;
            self.checkpoint();
        }
        Ok(end.saturating_sub(reused))
    }

    fn has_adapter(&self, name: &str) -> bool {
        self.adapters().iter().any(|a| a == name)
    }

    fn training_tokens(
        &self,
        request: &GenerateRequest,
        answer: &str,
        hidden: &[std::ops::Range<usize>],
    ) -> Result<pith_core::tune::Example> {
        let (text, _) = self.render(&request.prompt)?;
        let mut tokens = self.tokenize_prompt(&format!("{text}{answer}"));
        if matches!(request.prompt, Prompt::Chat(_)) {
            tokens.push(self.model().vocab().eos());
        }
        // Each token's bytes in the text (a special token the text does not
        // spell, such as BOS, takes none), to find the hidden ones.
        let full = format!("{text}{answer}");
        let vocab = self.model().vocab();
        let mut at = 0usize;
        let taught = tokens
            .iter()
            .map(|&t| {
                let piece = vocab.token_to_piece(t, false, None);
                let start = at;
                if full.as_bytes()[at..].starts_with(&piece) {
                    at += piece.len();
                }
                !hidden.iter().any(|r| r.start < at && start < r.end)
            })
            .collect();
        Ok(pith_core::tune::Example {
            tokens: tokens.into_iter().map(|t| t.0).collect(),
            taught,
        })
    }

    fn chat_template(&self) -> Option<ChatTemplate> {
        let source = self.model().meta_val_str("tokenizer.chat_template").ok()?;
        let vocab = self.model().vocab();
        let text = |t: LlamaToken| {
            String::from_utf8_lossy(&vocab.token_to_piece(t, true, None)).into_owned()
        };
        Some(ChatTemplate {
            source,
            bos_token: text(vocab.bos()),
            eos_token: text(vocab.eos()),
        })
    }

    fn parallel_sequences(&self) -> usize {
        PARALLEL
    }

    fn generate_batch(
        &mut self,
        requests: &[GenerateRequest],
        cancel: &CancelToken,
        on_piece: &mut dyn FnMut(usize, &str),
    ) -> Result<Vec<Generation>> {
        self.generate_parallel(requests, cancel, on_piece)
    }

    fn generate(
        &mut self,
        request: &GenerateRequest,
        cancel: &CancelToken,
        on_piece: &mut dyn FnMut(&str),
    ) -> Result<Generation> {
        let started = Instant::now();
        if cancel.is_cancelled() {
            return Err(Error::Cancelled);
        }
        self.use_adapter(request.adapter.as_deref())?;
        let (text, tokens, format_stops) = self.prompt_for(request)?;
        let context = self.info.context as usize;

        let (reused, restored, saved) = self.load_prefix(request, &text, &tokens, cancel)?;
        let mut start = reused;
        let end = tokens.len() - 1;
        if self.memory != Memory::Attention && end > start {
            // A checkpoint before the last token: the next prompt that
            // starts the same way (another answer, an edited last line)
            // restores it instead of reading everything again.
            self.evaluate(&tokens[start..end], cancel)?;
            self.checkpoint();
            start = end;
        }
        let mut logits_index = self.evaluate(&tokens[start..], cancel)?;

        let constraint = request.constraint.as_ref();
        let mut stops: Vec<String> = request.stop.clone();
        stops.extend(format_stops);
        // A grammar decides where constrained output ends: a stop string
        // inside a JSON string would cut it.
        if constraint.is_some_and(|c| !c.is_lazy()) {
            stops.clear();
        }
        let mut output = Output::new(&stops, request.max_tokens, started);
        let mut sampler = grammar::Sampler::new(
            self.model(),
            self.sampler(&request.sampling),
            request.sampling.temperature <= 0.0,
            constraint,
            self.grammar_first,
        )?;
        let max_tokens = request.max_tokens;

        // Drafts are verified by cutting rejected ones off the cache: only
        // where the memory allows it for the whole answer.
        let lookup = request.lookup
            && self
                .memory
                .lookup_safe(tokens.len() + max_tokens + lookup::MAX_DRAFT);
        // Prompt and generated ids, where prompt lookup looks for drafts.
        let mut history: Vec<i32> = tokens.iter().map(|t| t.0).collect();
        let mut count = 0usize;
        let mut next: Option<LlamaToken> = None;
        let mut stop_reason = StopReason::MaxTokens;
        let (mut drafted, mut accepted) = (0usize, 0usize);
        let mut batch = LlamaBatch::new(1 + lookup::MAX_DRAFT, 1);

        'generation: while count < max_tokens {
            if cancel.is_cancelled() {
                return Err(Error::Cancelled);
            }
            let token = match next.take() {
                Some(t) => t,
                None => self
                    .loaded
                    .with_dependent(|_, ctx| sampler.sample(ctx, logits_index))?,
            };
            let (eog, bytes) = self.piece(token);
            if let Some(reason) = output.take(token, eog, &bytes, on_piece) {
                stop_reason = reason;
                break;
            }
            count += 1;
            history.push(token.0);

            // Decode the token, with a draft of what may follow it.
            let room = (max_tokens - count).min(context.saturating_sub(self.cached.len() + 2));
            let draft: Vec<LlamaToken> = if lookup {
                let mut d = lookup::draft(&history, tokens.len(), room.min(lookup::MAX_DRAFT));
                d.truncate(self.draft_policy.choose(d.len()));
                d.into_iter().map(LlamaToken).collect()
            } else {
                Vec::new()
            };
            let pos = self.cached.len();
            batch.clear();
            for (j, &t) in std::iter::once(&token).chain(&draft).enumerate() {
                let p = i32::try_from(pos + j).map_err(|e| inference("position", e))?;
                batch
                    .add(t, p, &[0], true)
                    .map_err(|e| inference("batch", e))?;
            }
            let decode_started = Instant::now();
            if let Err(e) = self
                .loaded
                .with_dependent_mut(|_, ctx| ctx.decode(&mut batch))
            {
                self.drop_cache();
                return Err(inference("llama.cpp decode failed", e));
            }
            self.draft_policy
                .record_decode(1 + draft.len(), decode_started.elapsed().as_secs_f64());
            self.cached.push(token);
            self.cached.extend_from_slice(&draft);
            drafted += draft.len();
            logits_index = 0;

            // Keep each drafted token the model itself chooses at its place;
            // the first it does not choose is replaced by the model's choice.
            for (j, &d) in draft.iter().enumerate() {
                let chosen = self
                    .loaded
                    .with_dependent(|_, ctx| sampler.sample(ctx, i32::try_from(j).unwrap_or(0)))?;
                if chosen != d {
                    self.draft_policy.record_verify(draft.len(), j);
                    self.truncate_cache(pos + 1 + j)?;
                    next = Some(chosen);
                    continue 'generation;
                }
                accepted += 1;
                let (eog, bytes) = self.piece(d);
                if let Some(reason) = output.take(d, eog, &bytes, on_piece) {
                    self.truncate_cache(pos + 2 + j)?;
                    stop_reason = reason;
                    break 'generation;
                }
                count += 1;
                history.push(d.0);
                logits_index = i32::try_from(j + 1).unwrap_or(0);
            }
            if !draft.is_empty() {
                self.draft_policy.record_verify(draft.len(), draft.len());
            }
        }
        output.finish(stop_reason, on_piece);
        if let Some(c) = constraint {
            let started_constrained = !c.is_lazy() || output.text().contains(c.before.as_str());
            if started_constrained
                && matches!(stop_reason, StopReason::MaxTokens | StopReason::Repetition)
            {
                return Err(Error::Incomplete {
                    max_tokens: request.max_tokens,
                });
            }
        }
        if let Some((path, None)) = &saved {
            // A conversation: keep the prompt and the reply for its next turn.
            self.save_state(path);
        }
        let mut generation = output.generation(stop_reason, tokens.len());
        generation.evaluated_prompt_tokens = tokens.len() - reused;
        generation.draft_tokens = drafted;
        generation.draft_accepted = accepted;
        generation.restored_prompt_tokens = restored;
        Ok(generation)
    }
}

/// How the model keeps what it read: llama.cpp's own verdict on recurrent
/// and hybrid layers, the header's sliding window otherwise.
fn memory_of(model: &LlamaModel, architecture: &str) -> Memory {
    if model.is_recurrent() {
        return Memory::Recurrent;
    }
    if model.is_hybrid() {
        return Memory::Hybrid;
    }
    let window = model
        .meta_val_str(&format!("{architecture}.attention.sliding_window"))
        .ok()
        .and_then(|w| w.parse::<u64>().ok());
    Memory::of(architecture, window)
}

/// Loads each adapter file onto the model: checked as a GGUF file first,
/// then by llama.cpp, which refuses one made for another model.
fn load_adapters(
    model: &mut LlamaModel,
    architecture: &str,
    files: &[(String, PathBuf)],
) -> Result<Vec<(String, LlamaLoraAdapter)>> {
    let mut out = Vec::new();
    for (name, path) in files {
        pith_core::models::adapters::check(path, architecture)?;
        let adapter = model
            .lora_adapter_init(path)
            .map_err(|_| Error::InvalidModel {
                path: path.clone(),
                reason: format!(
                    "the {name} adapter does not fit this model: its layers have other shapes \
                     (made for another model?)"
                ),
            })?;
        out.push((name.clone(), adapter));
    }
    Ok(out)
}

/// The adapters, locked for a context to use one.
pub(crate) fn lock(
    adapters: &Mutex<Vec<(String, LlamaLoraAdapter)>>,
) -> Result<std::sync::MutexGuard<'_, Vec<(String, LlamaLoraAdapter)>>> {
    adapters
        .lock()
        .map_err(|_| Error::Inference("the adapters' lock was poisoned".into()))
}

/// Makes `ctx` answer with the adapter named `name` (none: the base model;
/// a name not loaded changes nothing).
pub(crate) fn set_adapter(
    ctx: &mut LlamaContext,
    adapters: &mut [(String, LlamaLoraAdapter)],
    name: Option<&str>,
) -> Result<()> {
    let set = match name {
        Some(name) => adapters
            .iter_mut()
            .find(|(n, _)| n == name)
            .map_or(Ok(()), |(_, a)| {
                ctx.lora_adapter_set(a, 1.0).map_err(|e| e.to_string())
            }),
        None => adapters.first_mut().map_or(Ok(()), |(_, a)| {
            ctx.lora_adapter_remove(a).map_err(|e| e.to_string())
        }),
    };
    set.map_err(|e| inference("switching the adapter", e))
}
