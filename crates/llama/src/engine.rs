//! Loading a model and generating with it.

use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::{LlamaChatMessage, LlamaChatTemplate, LlamaModel};
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::LlamaToken;
use pith_core::engine::{
    fallback_chat_format, is_looping, CancelToken, ChatMessage, Engine, GenerateRequest,
    Generation, ModelInfo, Prompt, Sampling, StopMatcher, StopReason, StopScan, Utf8Assembler,
    FALLBACK_CHAT_STOPS,
};
use pith_core::{Error, Result};
use std::num::NonZeroU32;
use std::path::Path;
use std::sync::OnceLock;
use std::time::Instant;

/// Tokens evaluated per `decode` call while reading a prompt; cancellation
/// is checked between chunks.
pub const PROMPT_CHUNK: usize = 128;

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
}

/// llama.cpp allows one backend per process; every engine shares it.
pub(crate) fn backend() -> Result<&'static LlamaBackend> {
    static BACKEND: OnceLock<std::result::Result<LlamaBackend, String>> = OnceLock::new();
    BACKEND
        .get_or_init(|| {
            llama_cpp_2::send_logs_to_tracing(
                llama_cpp_2::LogOptions::default().with_logs_enabled(false),
            );
            LlamaBackend::init().map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| Error::Inference(format!("llama.cpp backend failed to start: {e}")))
}

type Context<'model> = LlamaContext<'model>;

self_cell::self_cell!(
    /// The model and the one context that borrows it, kept together.
    struct Loaded {
        owner: LlamaModel,
        #[covariant]
        dependent: Context,
    }
);

pub struct LlamaEngine {
    loaded: Loaded,
    info: ModelInfo,
    template: Option<LlamaChatTemplate>,
    threads: usize,
    /// Tokens whose keys and values are in the KV cache (sequence 0), in order.
    cached: Vec<LlamaToken>,
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
            let hw = pith_core::hardware::probe(None);
            let prefs = pith_core::models::plan::Preferences {
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
        let model = LlamaModel::load_from_file(backend, path, &params).map_err(|e| {
            Error::ModelLoadFailed {
                path: path.to_path_buf(),
                reason: e.to_string(),
            }
        })?;

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
        let ctx_params = LlamaContextParams::default()
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
            architecture: summary.architecture.unwrap_or_default(),
            parameters: model.n_params(),
            size_bytes: summary.file_size,
            layers: model.n_layer(),
            trained_context: trained,
            context,
            has_chat_template: template.is_some(),
        };
        let loaded =
            Loaded::try_new(model, |m| m.new_context(backend, ctx_params)).map_err(|e| {
                Error::ModelLoadFailed {
                    path: path.to_path_buf(),
                    reason: format!("could not create a context of {context} tokens: {e}"),
                }
            })?;
        Ok(Self {
            loaded,
            info,
            template,
            threads,
            cached: Vec::new(),
        })
    }

    pub fn threads(&self) -> usize {
        self.threads
    }

    fn model(&self) -> &LlamaModel {
        self.loaded.borrow_owner()
    }

    /// The prompt as text, plus stop strings its format needs.
    fn render(&self, prompt: &Prompt) -> Result<(String, Vec<String>)> {
        match prompt {
            Prompt::Raw(text) => Ok((text.clone(), Vec::new())),
            Prompt::Chat(messages) => {
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
    /// it already shares with them, leaving at least one token to evaluate
    /// (the last one's logits are needed). Returns `n`.
    fn reuse_prefix(&mut self, tokens: &[LlamaToken]) -> Result<usize> {
        let common = self
            .cached
            .iter()
            .zip(tokens)
            .take_while(|(a, b)| a == b)
            .count()
            .min(tokens.len().saturating_sub(1));
        if common < self.cached.len() {
            let from = u32::try_from(common).map_err(|e| inference("cache position", e))?;
            let removed = self
                .loaded
                .with_dependent_mut(|_, ctx| ctx.clear_kv_cache_seq(Some(0), Some(from), None))
                .map_err(|e| inference("cache trim", e))?;
            if !removed {
                self.clear_cache();
                return Ok(0);
            }
            self.cached.truncate(common);
        }
        Ok(common)
    }

    pub(crate) fn loaded_vocab_size(&self) -> i32 {
        self.model().n_vocab()
    }

    pub(crate) fn decode_raw(&mut self, batch: &mut LlamaBatch) -> Result<()> {
        self.loaded
            .with_dependent_mut(|_, ctx| ctx.decode(batch))
            .map_err(|e| inference("llama.cpp decode failed", e))
    }

    /// Forgets the evaluated prefix: the next request evaluates its whole
    /// prompt (benchmarks compare with and without reuse).
    pub fn clear_cache(&mut self) {
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
                self.clear_cache();
                return Err(inference("llama.cpp decode failed", e));
            }
            self.cached.extend_from_slice(chunk);
            last_index = batch.n_tokens() - 1;
        }
        Ok(last_index)
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

        let reused = self.reuse_prefix(&tokens)?;
        let mut logits_index = self.evaluate(&tokens[reused..], cancel)?;

        let mut stops: Vec<String> = request.stop.clone();
        stops.extend(format_stops);
        let mut matcher = StopMatcher::new(&stops);
        let mut utf8 = Utf8Assembler::new();
        let mut sampler = self.sampler(&request.sampling);
        let mut out = String::new();
        let mut generated: Vec<LlamaToken> = Vec::new();
        let mut stop_reason = StopReason::MaxTokens;
        let mut ttft = None;
        let mut batch = LlamaBatch::new(1, 1);

        while generated.len() < request.max_tokens {
            if cancel.is_cancelled() {
                return Err(Error::Cancelled);
            }
            let token = self
                .loaded
                .with_dependent(|_, ctx| sampler.sample(ctx, logits_index));
            let vocab = self.model().vocab();
            if vocab.is_eog(token) {
                stop_reason = StopReason::EndOfText;
                break;
            }
            let bytes = vocab.token_to_piece(token, false, None);
            generated.push(token);
            let piece = utf8.push(&bytes);
            match matcher.push(&piece) {
                StopScan::Continue(t) => {
                    if !t.is_empty() {
                        ttft.get_or_insert_with(|| started.elapsed().as_secs_f64());
                        on_piece(&t);
                        out.push_str(&t);
                    }
                }
                StopScan::Stopped(t) => {
                    if !t.is_empty() {
                        on_piece(&t);
                        out.push_str(&t);
                    }
                    stop_reason = StopReason::StopString;
                    break;
                }
            }
            if is_looping(&generated, 32, 48) {
                stop_reason = StopReason::Repetition;
                break;
            }
            if generated.len() == request.max_tokens {
                break;
            }
            batch.clear();
            let pos = i32::try_from(self.cached.len()).map_err(|e| inference("position", e))?;
            batch
                .add(token, pos, &[0], true)
                .map_err(|e| inference("batch", e))?;
            if let Err(e) = self
                .loaded
                .with_dependent_mut(|_, ctx| ctx.decode(&mut batch))
            {
                self.clear_cache();
                return Err(inference("llama.cpp decode failed", e));
            }
            self.cached.push(token);
            logits_index = 0;
        }
        if stop_reason != StopReason::StopString {
            let (StopScan::Continue(mut rest) | StopScan::Stopped(mut rest)) =
                matcher.push(&utf8.finish());
            rest.push_str(&matcher.finish());
            if !rest.is_empty() {
                on_piece(&rest);
                out.push_str(&rest);
            }
        }
        Ok(Generation {
            text: out,
            stop_reason,
            prompt_tokens: tokens.len(),
            evaluated_prompt_tokens: tokens.len() - reused,
            generated_tokens: generated.len(),
            ttft_s: ttft.unwrap_or_else(|| started.elapsed().as_secs_f64()),
            total_s: started.elapsed().as_secs_f64(),
        })
    }
}
