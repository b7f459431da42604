//! The model architectures the linked llama.cpp runs, and how each keeps
//! what it has read: a KV cache per token (attention), a window of recent
//! tokens in some layers (sliding-window attention), or a fixed-size state
//! per sequence (recurrent, state-space layers), alone or mixed with
//! attention (hybrid). Pure data, checked before llama.cpp sees a file.

use serde::{Deserialize, Serialize};

/// The `llama-cpp-2` release Pith is built on, which fixes the llama.cpp
/// (and so the architectures) it runs.
pub const LLAMA_CPP_2: &str = "0.1.160";

/// `general.architecture` values of the pinned llama.cpp (its
/// `LLM_ARCH_NAMES`), less `clip` (an image encoder, not a language model).
/// A test reads the list back from llama.cpp's own source when it is there.
pub const KNOWN: &[&str] = &[
    "llama",
    "llama4",
    "deci",
    "falcon",
    "grok",
    "gpt2",
    "gptj",
    "gptneox",
    "mpt",
    "baichuan",
    "starcoder",
    "refact",
    "bert",
    "modern-bert",
    "nomic-bert",
    "nomic-bert-moe",
    "neo-bert",
    "jina-bert-v2",
    "jina-bert-v3",
    "eurobert",
    "bloom",
    "stablelm",
    "qwen",
    "qwen2",
    "qwen2moe",
    "qwen2vl",
    "qwen3",
    "qwen3moe",
    "qwen3next",
    "qwen3vl",
    "qwen3vlmoe",
    "qwen35",
    "qwen35moe",
    "clef",
    "qwen4exp",
    "phi2",
    "phi3",
    "phimoe",
    "plamo",
    "plamo2",
    "plamo3",
    "codeshell",
    "orion",
    "internlm2",
    "minicpm",
    "minicpm3",
    "gemma",
    "gemma2",
    "gemma3",
    "gemma3n",
    "gemma4",
    "gemma4-assistant",
    "gemma-embedding",
    "starcoder2",
    "mamba",
    "mamba2",
    "maple",
    "jamba",
    "falcon-h1",
    "xverse",
    "command-r",
    "cohere2",
    "cohere2moe",
    "dbrx",
    "olmo",
    "olmo2",
    "olmoe",
    "muse-glimmer",
    "openelm",
    "arctic",
    "deepseek",
    "deepseek2",
    "deepseek2-ocr",
    "deepseek32",
    "deepseek4",
    "chatglm",
    "glm4",
    "glm4moe",
    "glm-dsa",
    "bitnet",
    "t5",
    "t5encoder",
    "jais",
    "jais2",
    "nemotron",
    "nemotron_h",
    "nemotron_h_moe",
    "exaone",
    "exaone4",
    "exaone-moe",
    "rwkv6",
    "rwkv6qwen2",
    "rwkv7",
    "arwkv7",
    "granite",
    "granitemoe",
    "granitehybrid",
    "graniteswitch",
    "granite_swa",
    "chameleon",
    "wavtokenizer-dec",
    "plm",
    "bailingmoe",
    "bailingmoe2",
    "bailingmoe3",
    "dots1",
    "dots3note",
    "arcee",
    "afmoe",
    "laguna",
    "ernie4_5",
    "ernie4_5-moe",
    "hunyuan-moe",
    "hunyuan-dense",
    "hunyuan_vl",
    "hy_v3",
    "hy_v4",
    "smollm3",
    "gpt-oss",
    "lfm2",
    "lfm2moe",
    "dream",
    "smallthinker",
    "llada",
    "llada-moe",
    "seed_oss",
    "grovemoe",
    "apertus",
    "minimax-01",
    "hrm_text",
    "minimax-m2",
    "minimax-m3",
    "cogvlm",
    "rnd1",
    "pangu-embedded",
    "mistral3",
    "eagle3",
    "dflash",
    "mistral4",
    "paddleocr",
    "mimo2",
    "step35",
    "spark2_5",
    "llama-embed",
    "maincoder",
    "kimi-linear",
    "kimi-k3",
    "glm5-next",
    "talkie",
    "mellum",
    "nanbeige",
    "qwen3tts",
    "pockettts",
];

/// Architectures whose every layer is recurrent (llama.cpp's
/// `llm_arch_is_recurrent`).
const RECURRENT: &[&str] = &["mamba", "mamba2", "rwkv6", "rwkv6qwen2", "rwkv7", "arwkv7"];

/// Attention and recurrent layers mixed (llama.cpp's `llm_arch_is_hybrid`).
const HYBRID: &[&str] = &[
    "jamba",
    "falcon-h1",
    "plamo2",
    "granitehybrid",
    "lfm2",
    "lfm2moe",
    "nemotron_h",
    "nemotron_h_moe",
    "qwen3next",
    "kimi-linear",
    "bailingmoe3",
    "kimi-k3",
    "glm5-next",
    "qwen35",
    "qwen35moe",
    "qwen4exp",
    "deepseek4",
    "minimax-01",
];

/// How a model keeps the tokens it has read, which decides what of a
/// cached prompt can be reused and rolled back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Memory {
    /// A KV cache entry per token: any tail can be dropped.
    Attention,
    /// Some layers keep only the last `window` tokens: a tail can be
    /// dropped while the tokens before the new end are still held.
    SlidingWindow { window: u32 },
    /// Every layer keeps one running state per sequence: no token can be
    /// taken back, only a saved state restored.
    Recurrent,
    /// Recurrent layers beside attention layers: as recurrent for rollback.
    Hybrid,
}

impl Memory {
    /// From the header's architecture and sliding window.
    pub fn of(architecture: &str, sliding_window: Option<u64>) -> Memory {
        if RECURRENT.contains(&architecture) {
            Memory::Recurrent
        } else if HYBRID.contains(&architecture) {
            Memory::Hybrid
        } else {
            match sliding_window.and_then(|w| u32::try_from(w).ok()) {
                Some(window) if window > 0 => Memory::SlidingWindow { window },
                _ => Memory::Attention,
            }
        }
    }

    /// Whether a cache holding positions from `oldest` on (llama.cpp's
    /// `seq_pos_min`) can be cut back to its first `keep` tokens and go on:
    /// the next token must still see the window before it.
    pub fn can_keep(self, keep: usize, oldest: i64) -> bool {
        match self {
            Memory::Attention => true,
            Memory::SlidingWindow { window } => {
                oldest <= 0 || oldest <= keep as i64 - i64::from(window)
            }
            Memory::Recurrent | Memory::Hybrid => false,
        }
    }

    /// Whether prompt lookup may verify drafts (cutting off the ones the
    /// model rejects) in a sequence that will hold `total` tokens: with a
    /// sliding window, only while its cells (the window plus a batch of
    /// 512) are never reused, so a cut never needs a token already gone.
    pub fn lookup_safe(self, total: usize) -> bool {
        match self {
            Memory::Attention => true,
            Memory::SlidingWindow { window } => total <= window as usize + 512,
            Memory::Recurrent | Memory::Hybrid => false,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Memory::Attention => "attention",
            Memory::SlidingWindow { .. } => "sliding-window attention",
            Memory::Recurrent => "recurrent",
            Memory::Hybrid => "hybrid attention and recurrent",
        }
    }
}

/// Why this build cannot run a file of this architecture, or `None` when it can.
pub fn unsupported(architecture: Option<&str>) -> Option<String> {
    let version = env!("CARGO_PKG_VERSION");
    match architecture {
        None | Some("") => Some("the header names no architecture (general.architecture)".into()),
        Some("clip") => {
            Some("it is an image encoder (architecture \"clip\"), not a language model".into())
        }
        Some(a) if KNOWN.contains(&a) => None,
        Some(a) => Some(format!(
            "its architecture \"{a}\" is not one this Pith runs: Pith {version} is built on \
             llama-cpp-2 {LLAMA_CPP_2}, whose llama.cpp does not know it; a Pith release newer \
             than {version}, built on a llama.cpp that added \"{a}\", is needed"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_current_small_models_are_known_with_their_memory() {
        for a in [
            "qwen3",
            "qwen35",
            "lfm2",
            "granitehybrid",
            "falcon-h1",
            "smollm3",
            "gemma3n",
            "phi3",
        ] {
            assert!(unsupported(Some(a)).is_none(), "{a}");
        }
        assert_eq!(Memory::of("lfm2", None), Memory::Hybrid);
        assert_eq!(Memory::of("granitehybrid", None), Memory::Hybrid);
        assert_eq!(Memory::of("mamba2", None), Memory::Recurrent);
        assert_eq!(
            Memory::of("gemma3", Some(512)),
            Memory::SlidingWindow { window: 512 }
        );
        assert_eq!(Memory::of("llama", None), Memory::Attention);
        assert_eq!(Memory::of("qwen3", Some(0)), Memory::Attention);
    }

    #[test]
    fn rollback_is_allowed_only_where_the_memory_still_holds_what_follows_needs() {
        assert!(Memory::Attention.can_keep(10, 0));
        assert!(!Memory::Hybrid.can_keep(10, 0));
        assert!(!Memory::Recurrent.can_keep(10, 0));
        let swa = Memory::SlidingWindow { window: 512 };
        // Nothing pruned yet: any cut is fine.
        assert!(swa.can_keep(100, 0));
        assert!(swa.can_keep(100, -1));
        // Positions before 600 pruned: the end may be cut back to 1112, not 1000.
        assert!(swa.can_keep(1112, 600));
        assert!(!swa.can_keep(1000, 600));
        assert!(Memory::Attention.lookup_safe(100_000));
        assert!(swa.lookup_safe(1000) && !swa.lookup_safe(1100));
        assert!(!Memory::Hybrid.lookup_safe(10));
    }

    #[test]
    fn an_unknown_architecture_is_named_with_the_version_that_cannot_run_it() {
        let why = unsupported(Some("mamba9")).expect("unknown");
        assert!(why.contains("\"mamba9\""), "{why}");
        assert!(
            why.contains(env!("CARGO_PKG_VERSION")) && why.contains(LLAMA_CPP_2),
            "{why}"
        );
        assert!(unsupported(None).expect("none").contains("no architecture"));
        assert!(unsupported(Some("clip"))
            .expect("clip")
            .contains("image encoder"));
    }

    #[test]
    fn the_list_matches_the_linked_llama_cpp_where_its_source_is_at_hand() {
        // The pinned llama-cpp-sys-2 source in cargo's registry, when present.
        let Some(home) = std::env::var_os("CARGO_HOME")
            .map(std::path::PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".cargo")))
        else {
            return;
        };
        let Ok(index) = std::fs::read_dir(home.join("registry/src")) else {
            return;
        };
        for dir in index.flatten() {
            let arch = dir
                .path()
                .join("llama-cpp-sys-2-0.1.161/llama.cpp/src/llama-arch.cpp");
            let Ok(src) = std::fs::read_to_string(&arch) else {
                continue;
            };
            let start = src.find("LLM_ARCH_NAMES = {").expect("names table");
            let table = &src[start..start + src[start..].find("};").expect("end")];
            let names: Vec<&str> = table
                .split('"')
                .skip(1)
                .step_by(2)
                .filter(|n| *n != "(unknown)" && *n != "clip")
                .collect();
            assert_eq!(names, KNOWN);
        }
    }
}
