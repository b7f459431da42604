//! GGUF files with the real shapes of catalog models and random weights.
//!
//! Memory and speed depend only on shapes and quantization, not on what
//! the weights say, so `pith bench --planner` loads these through the real
//! engine to check the planner's estimates for sizes this machine has no
//! real file of, and the engine's tests check cache reuse on a hybrid and a
//! sliding-window model with them. The layouts are llama.cpp's `llama`,
//! `gemma3`, `lfm2` and `granitehybrid` architectures, with a SentencePiece-style vocabulary
//! of the model's size.

use super::catalog::CatalogModel;
use std::io::{self, BufWriter, Write};
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quant {
    Q4_0,
    Q8_0,
}

impl Quant {
    fn ggml_type(self) -> u32 {
        match self {
            Quant::Q4_0 => 2,
            Quant::Q8_0 => 8,
        }
    }
    /// Bytes per block of 32 weights: an f16 scale and the quants.
    fn block_bytes(self) -> u64 {
        match self {
            Quant::Q4_0 => 18,
            Quant::Q8_0 => 34,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Quant::Q4_0 => "Q4_0",
            Quant::Q8_0 => "Q8_0",
        }
    }
}

/// How the layers are built: llama.cpp's architecture and what it adds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// `llama`: attention in every layer.
    Llama,
    /// `gemma3`: sliding-window attention (`window` tokens) in all but
    /// every `pattern`-th layer, heads of `head_dim`, extra norms.
    Gemma3 {
        window: u32,
        pattern: u32,
        head_dim: u32,
    },
    /// `lfm2`: a hybrid of short-convolution layers (a state of
    /// `conv - 1` columns per sequence) and attention in the layers listed.
    Lfm2 {
        attention: &'static [u32],
        conv: u32,
    },
    /// `granitehybrid`: Mamba-2 layers (an SSM state of `state` x 2
    /// embedding per sequence, `ssm_heads` heads, a `conv`-wide
    /// convolution) and attention in the layers listed.
    GraniteHybrid {
        attention: &'static [u32],
        state: u32,
        ssm_heads: u32,
        conv: u32,
    },
}

/// A model's shape, as in its `config.json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    pub name: &'static str,
    pub layout: Layout,
    pub embedding: u32,
    pub layers: u32,
    pub heads: u32,
    pub kv_heads: u32,
    pub feed_forward: u32,
    pub vocab: u32,
    pub context: u32,
    pub quant: Quant,
}

const QWEN_05B: Shape = Shape {
    name: "Qwen2.5-0.5B",
    layout: Layout::Llama,
    embedding: 896,
    layers: 24,
    heads: 14,
    kv_heads: 2,
    feed_forward: 4864,
    vocab: 151936,
    context: 32768,
    quant: Quant::Q4_0,
};

/// The shapes `pith bench --planner` measures: 135M to 1B, a hybrid
/// (LFM2-350M: 10 convolution and 6 attention layers) and a
/// sliding-window model (Gemma 3 1B).
pub const SHAPES: &[Shape] = &[
    Shape {
        name: "SmolLM2-135M",
        layout: Layout::Llama,
        embedding: 576,
        layers: 30,
        heads: 9,
        kv_heads: 3,
        feed_forward: 1536,
        vocab: 49152,
        context: 8192,
        quant: Quant::Q4_0,
    },
    Shape {
        name: "SmolLM2-360M",
        layout: Layout::Llama,
        embedding: 960,
        layers: 32,
        heads: 15,
        kv_heads: 5,
        feed_forward: 2560,
        vocab: 49152,
        context: 8192,
        quant: Quant::Q4_0,
    },
    QWEN_05B,
    Shape {
        quant: Quant::Q8_0,
        ..QWEN_05B
    },
    Shape {
        name: "Llama-3.2-1B",
        layout: Layout::Llama,
        embedding: 2048,
        layers: 16,
        heads: 32,
        kv_heads: 8,
        feed_forward: 8192,
        vocab: 128256,
        context: 131072,
        quant: Quant::Q4_0,
    },
    Shape {
        name: "LFM2-350M",
        layout: Layout::Lfm2 {
            attention: &[2, 5, 8, 10, 12, 14],
            conv: 3,
        },
        embedding: 1024,
        layers: 16,
        heads: 16,
        kv_heads: 8,
        feed_forward: 4608,
        vocab: 65536,
        context: 128000,
        quant: Quant::Q4_0,
    },
    Shape {
        name: "Granite-4.0-H-350M",
        layout: Layout::GraniteHybrid {
            attention: &[10, 13, 17, 27],
            state: 128,
            ssm_heads: 48,
            conv: 4,
        },
        embedding: 768,
        layers: 32,
        heads: 12,
        kv_heads: 4,
        feed_forward: 2048,
        vocab: 100352,
        context: 32768,
        quant: Quant::Q4_0,
    },
    Shape {
        name: "Gemma-3-1B",
        layout: Layout::Gemma3 {
            window: 512,
            pattern: 6,
            head_dim: 256,
        },
        embedding: 1152,
        layers: 26,
        heads: 4,
        kv_heads: 1,
        feed_forward: 6912,
        vocab: 262144,
        context: 32768,
        quant: Quant::Q4_0,
    },
];

impl Shape {
    /// A two-layer model of a few hundred kilobytes, for tests.
    pub const TINY: Shape = Shape {
        name: "tiny",
        layout: Layout::Llama,
        embedding: 64,
        layers: 2,
        heads: 4,
        kv_heads: 2,
        feed_forward: 128,
        vocab: 300,
        context: 512,
        quant: Quant::Q8_0,
    };

    /// A tiny hybrid: convolution layers 0 and 2, attention in 1 and 3.
    pub const TINY_HYBRID: Shape = Shape {
        name: "tiny-hybrid",
        layout: Layout::Lfm2 {
            attention: &[1, 3],
            conv: 3,
        },
        layers: 4,
        context: 4096,
        ..Shape::TINY
    };

    /// A tiny Mamba-2 hybrid: SSM layers 0 and 2, attention in 1 and 3.
    pub const TINY_MAMBA: Shape = Shape {
        name: "tiny-mamba",
        layout: Layout::GraniteHybrid {
            attention: &[1, 3],
            state: 16,
            ssm_heads: 4,
            conv: 4,
        },
        layers: 4,
        context: 4096,
        ..Shape::TINY
    };

    /// A tiny sliding-window model: layers 0 and 2 see the last 32 tokens,
    /// 1 and 3 all of them.
    pub const TINY_SWA: Shape = Shape {
        name: "tiny-swa",
        layout: Layout::Gemma3 {
            window: 32,
            pattern: 2,
            head_dim: 16,
        },
        layers: 4,
        context: 4096,
        ..Shape::TINY
    };

    pub fn architecture(&self) -> &'static str {
        match self.layout {
            Layout::Llama => "llama",
            Layout::Gemma3 { .. } => "gemma3",
            Layout::Lfm2 { .. } => "lfm2",
            Layout::GraniteHybrid { .. } => "granitehybrid",
        }
    }

    pub fn head_dim(&self) -> u32 {
        match self.layout {
            Layout::Gemma3 { head_dim, .. } => head_dim,
            _ => self.embedding / self.heads,
        }
    }

    fn is_attention(&self, layer: u32) -> bool {
        match self.layout {
            Layout::Lfm2 { attention, .. } | Layout::GraniteHybrid { attention, .. } => {
                attention.contains(&layer)
            }
            _ => true,
        }
    }

    /// (name, dims, quantized) of every tensor, in file order. The output
    /// matrix is tied to the token embedding, as in these models.
    fn tensors(&self) -> Vec<(String, Vec<u64>, bool)> {
        let e = u64::from(self.embedding);
        let hd = u64::from(self.head_dim());
        let q = u64::from(self.heads) * hd;
        let kv = u64::from(self.kv_heads) * hd;
        let ff = u64::from(self.feed_forward);
        let output_norm = match self.layout {
            // llama.cpp's name for LFM2's final norm.
            Layout::Lfm2 { .. } => "token_embd_norm.weight",
            _ => "output_norm.weight",
        };
        let mut t = vec![
            (
                "token_embd.weight".to_string(),
                vec![e, u64::from(self.vocab)],
                true,
            ),
            (output_norm.to_string(), vec![e], false),
        ];
        for i in 0..self.layers {
            let b = |n: &str| format!("blk.{i}.{n}.weight");
            t.push((b("attn_norm"), vec![e], false));
            if self.is_attention(i) {
                t.push((b("attn_q"), vec![e, q], true));
                t.push((b("attn_k"), vec![e, kv], true));
                t.push((b("attn_v"), vec![e, kv], true));
                t.push((b("attn_output"), vec![q, e], true));
                if matches!(self.layout, Layout::Gemma3 { .. } | Layout::Lfm2 { .. }) {
                    t.push((b("attn_q_norm"), vec![hd], false));
                    t.push((b("attn_k_norm"), vec![hd], false));
                }
            } else if let Layout::Lfm2 { conv, .. } = self.layout {
                t.push((b("shortconv.conv"), vec![u64::from(conv), e], false));
                t.push((b("shortconv.in_proj"), vec![e, 3 * e], true));
                t.push((b("shortconv.out_proj"), vec![e, e], true));
            } else if let Layout::GraniteHybrid {
                state,
                ssm_heads,
                conv,
                ..
            } = self.layout
            {
                // Mamba-2 with one group and an inner size of twice the width.
                let inner = 2 * e;
                let (state, heads) = (u64::from(state), u64::from(ssm_heads));
                let plain = |n: &str| format!("blk.{i}.{n}");
                t.push((b("ssm_in"), vec![e, 2 * inner + 2 * state + heads], true));
                t.push((
                    b("ssm_conv1d"),
                    vec![u64::from(conv), inner + 2 * state],
                    false,
                ));
                t.push((plain("ssm_conv1d.bias"), vec![inner + 2 * state], false));
                t.push((plain("ssm_dt.bias"), vec![heads], false));
                t.push((plain("ssm_a"), vec![1, heads], false));
                t.push((plain("ssm_d"), vec![1, heads], false));
                t.push((b("ssm_norm"), vec![inner, 1], false));
                t.push((b("ssm_out"), vec![inner, e], true));
            }
            if matches!(self.layout, Layout::Gemma3 { .. }) {
                t.push((b("post_attention_norm"), vec![e], false));
            }
            t.push((b("ffn_norm"), vec![e], false));
            t.push((b("ffn_gate"), vec![e, ff], true));
            t.push((b("ffn_down"), vec![ff, e], true));
            t.push((b("ffn_up"), vec![e, ff], true));
            if matches!(self.layout, Layout::Gemma3 { .. }) {
                t.push((b("post_ffw_norm"), vec![e], false));
            }
        }
        t
    }

    pub fn parameters(&self) -> u64 {
        self.tensors()
            .iter()
            .map(|(_, d, _)| d.iter().product::<u64>())
            .sum()
    }

    /// File name: `synthetic-<name>-<quant>.gguf`.
    pub fn file_name(&self) -> String {
        format!(
            "synthetic-{}-{}.gguf",
            self.name.to_lowercase(),
            self.quant.name().to_lowercase()
        )
    }

    /// The planner's view of this file.
    pub fn as_catalog_model(&self, size_bytes: u64) -> CatalogModel {
        let (sliding_window, swa_pattern) = match self.layout {
            Layout::Gemma3 {
                window, pattern, ..
            } => (Some(window), Some(pattern)),
            _ => (None, None),
        };
        let (attention_layers, state_bytes) = match self.layout {
            Layout::Lfm2 { attention, conv } => {
                let recurrent = u64::from(self.layers) - attention.len() as u64;
                (
                    Some(attention.len() as u32),
                    // f32 columns of the convolution's window, per layer.
                    recurrent * u64::from(conv - 1) * u64::from(self.embedding) * 4,
                )
            }
            Layout::GraniteHybrid {
                attention,
                state,
                conv,
                ..
            } => {
                let recurrent = u64::from(self.layers) - attention.len() as u64;
                let inner = 2 * u64::from(self.embedding);
                let state = u64::from(state);
                // f32: the convolution's window over x, B and C, and the SSM state.
                let per_layer = u64::from(conv - 1) * (inner + 2 * state) * 4 + state * inner * 4;
                (Some(attention.len() as u32), recurrent * per_layer)
            }
            _ => (None, 0),
        };
        CatalogModel {
            id: self.file_name().trim_end_matches(".gguf").to_string(),
            name: format!("{} shape", self.name),
            repo: None,
            file: self.file_name(),
            quant: self.quant.name().into(),
            size_bytes,
            sha256: None,
            architecture: self.architecture().into(),
            parameters: self.parameters(),
            layers: self.layers,
            kv_heads: self.kv_heads,
            head_dim: self.head_dim(),
            embedding: self.embedding,
            vocab: self.vocab,
            context_length: self.context,
            sliding_window,
            swa_pattern,
            attention_layers,
            state_bytes,
            rank: 0,
            chat_template: false,
            license: String::new(),
            default: false,
            pypi: Vec::new(),
        }
    }

    /// Writes the GGUF file; returns its size.
    pub fn write(&self, path: &Path) -> io::Result<u64> {
        self.write_with_template(path, None)
    }

    /// Writes the GGUF file with a chat template in its metadata.
    pub fn write_with_template(&self, path: &Path, template: Option<&str>) -> io::Result<u64> {
        self.write_with(path, template, DEFAULT_SCALE, 1.0)
    }

    /// Writes the GGUF file with quantized weights of `scale` (their
    /// blocks' f16 scale). Larger weights make each token's output depend
    /// more on the tokens before it, which reuse tests need to tell a
    /// wrong cache from a right one.
    pub fn write_with(
        &self,
        path: &Path,
        template: Option<&str>,
        scale: f32,
        sharpness: f32,
    ) -> io::Result<u64> {
        let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
        let mut meta = Metadata::default();
        let arch = self.architecture();
        meta.text("general.architecture", arch);
        meta.text("general.name", &format!("{} synthetic", self.name));
        for (key, v) in [
            ("context_length", self.context),
            ("embedding_length", self.embedding),
            ("block_count", self.layers),
            ("feed_forward_length", self.feed_forward),
            ("attention.head_count", self.heads),
        ] {
            meta.put(&format!("{arch}.{key}"), 4, &v.to_le_bytes());
        }
        // Per layer, for hybrids: zero KV heads mark a recurrent layer.
        let mut heads = Vec::new();
        heads.extend(4u32.to_le_bytes());
        heads.extend(u64::from(self.layers).to_le_bytes());
        for i in 0..self.layers {
            let n = if self.is_attention(i) {
                self.kv_heads
            } else {
                0
            };
            heads.extend(n.to_le_bytes());
        }
        match self.layout {
            Layout::Lfm2 { conv, .. } => {
                meta.put(&format!("{arch}.attention.head_count_kv"), 9, &heads);
                meta.put(&format!("{arch}.shortconv.l_cache"), 4, &conv.to_le_bytes());
            }
            Layout::GraniteHybrid {
                state,
                ssm_heads,
                conv,
                ..
            } => {
                meta.put(&format!("{arch}.attention.head_count_kv"), 9, &heads);
                for (key, v) in [
                    ("ssm.conv_kernel", conv),
                    ("ssm.inner_size", 2 * self.embedding),
                    ("ssm.state_size", state),
                    ("ssm.time_step_rank", ssm_heads),
                    ("ssm.group_count", 1),
                ] {
                    meta.put(&format!("{arch}.{key}"), 4, &v.to_le_bytes());
                }
            }
            Layout::Gemma3 {
                window,
                pattern,
                head_dim,
            } => {
                for (key, v) in [
                    ("attention.head_count_kv", self.kv_heads),
                    ("attention.key_length", head_dim),
                    ("attention.value_length", head_dim),
                    ("attention.sliding_window", window),
                    ("attention.sliding_window_pattern", pattern),
                ] {
                    meta.put(&format!("{arch}.{key}"), 4, &v.to_le_bytes());
                }
            }
            Layout::Llama => meta.put(
                &format!("{arch}.attention.head_count_kv"),
                4,
                &self.kv_heads.to_le_bytes(),
            ),
        }
        meta.put(
            &format!("{arch}.attention.layer_norm_rms_epsilon"),
            6,
            &1e-5f32.to_le_bytes(),
        );
        meta.put(
            &format!("{arch}.rope.freq_base"),
            6,
            &10000f32.to_le_bytes(),
        );
        meta.text("tokenizer.ggml.model", "llama");
        let (tokens, scores, types) = self.vocabulary();
        meta.put("tokenizer.ggml.tokens", 9, &tokens);
        meta.put("tokenizer.ggml.scores", 9, &scores);
        meta.put("tokenizer.ggml.token_type", 9, &types);
        meta.put("tokenizer.ggml.unknown_token_id", 4, &0u32.to_le_bytes());
        meta.put("tokenizer.ggml.bos_token_id", 4, &1u32.to_le_bytes());
        meta.put("tokenizer.ggml.eos_token_id", 4, &2u32.to_le_bytes());
        if let Some(t) = template {
            meta.text("tokenizer.chat_template", t);
        }

        let tensors = self.tensors();
        let mut header = meta.header(tensors.len() as u64);
        let mut offset = 0u64;
        let mut sizes = Vec::new();
        for (name, dims, quantized) in &tensors {
            put_str(&mut header, name);
            header.extend((dims.len() as u32).to_le_bytes());
            for d in dims {
                header.extend(d.to_le_bytes());
            }
            let elements: u64 = dims.iter().product();
            let (ty, bytes) = if *quantized {
                (
                    self.quant.ggml_type(),
                    elements / 32 * self.quant.block_bytes(),
                )
            } else {
                (0, elements * 4)
            };
            header.extend(ty.to_le_bytes());
            header.extend(offset.to_le_bytes());
            // Queries and keys `sharpness` times larger: attention then picks
            // out a few earlier tokens instead of averaging over all of them.
            // (Through the per-head norms where the layout has them, which
            // would undo a larger weight.)
            let sharp = if matches!(self.layout, Layout::Llama | Layout::GraniteHybrid { .. }) {
                name.ends_with("attn_q.weight") || name.ends_with("attn_k.weight")
            } else {
                name.ends_with("attn_q_norm.weight") || name.ends_with("attn_k_norm.weight")
            };
            let post_norm = name.contains("post_");
            let decay = name.ends_with("ssm_a");
            sizes.push((bytes, *quantized, sharp, post_norm, decay));
            offset += bytes.div_ceil(32) * 32;
        }
        while header.len() % 32 != 0 {
            header.push(0);
        }
        w.write_all(&header)?;

        let mut rng = 0x9E37_79B9_7F4A_7C15u64;
        let mut block = vec![0u8; self.quant.block_bytes() as usize];
        for (bytes, quantized, sharp, post_norm, decay) in sizes {
            let scale = f16_bits(if sharp { scale * sharpness } else { scale }).to_le_bytes();
            if quantized {
                for _ in 0..bytes / self.quant.block_bytes() {
                    block[..2].copy_from_slice(&scale);
                    for chunk in block[2..].chunks_mut(8) {
                        rng ^= rng << 13;
                        rng ^= rng >> 7;
                        rng ^= rng << 17;
                        let r = rng.to_le_bytes();
                        chunk.copy_from_slice(&r[..chunk.len()]);
                    }
                    w.write_all(&block)?;
                }
            } else {
                let value = if sharp {
                    sharpness
                } else if decay {
                    // A = -exp(A_log): a state that decays, never grows.
                    -1.0
                } else if post_norm {
                    // Gemma scales the token embedding by √embedding: layer
                    // outputs this much larger weigh as much against it.
                    (self.embedding as f32).sqrt()
                } else {
                    1.0f32
                };
                for _ in 0..bytes / 4 {
                    w.write_all(&value.to_le_bytes())?;
                }
            }
            let pad = bytes.div_ceil(32) * 32 - bytes;
            w.write_all(&vec![0u8; pad as usize])?;
        }
        w.flush()?;
        Ok(std::fs::metadata(path)?.len())
    }

    /// Array values for tokens, scores and token types: unknown, BOS, EOS,
    /// the 256 byte tokens SentencePiece falls back to, then plain pieces.
    fn vocabulary(&self) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
        let n = u64::from(self.vocab);
        let (mut tokens, mut scores, mut types) = (Vec::new(), Vec::new(), Vec::new());
        tokens.extend(8u32.to_le_bytes());
        tokens.extend(n.to_le_bytes());
        scores.extend(6u32.to_le_bytes());
        scores.extend(n.to_le_bytes());
        types.extend(5u32.to_le_bytes());
        types.extend(n.to_le_bytes());
        for i in 0..self.vocab {
            let (text, ty) = match i {
                0 => ("<unk>".to_string(), 2i32),
                1 => ("<s>".to_string(), 3),
                2 => ("</s>".to_string(), 3),
                3..=258 => (format!("<0x{:02X}>", i - 3), 6),
                _ => (format!("\u{2581}w{i}"), 1),
            };
            put_str(&mut tokens, &text);
            scores.extend((-(i as f32)).to_le_bytes());
            types.extend(ty.to_le_bytes());
        }
        (tokens, scores, types)
    }
}

/// Writes a LoRA adapter in GGUF for a model of `shape` (llama layout):
/// rank-`rank` A and B matrices for every layer's query and value
/// projections, random f32 of `scale`, as llama.cpp loads them.
pub fn write_lora(shape: &Shape, path: &Path, rank: u32, scale: f32, seed: u64) -> io::Result<u64> {
    let e = shape.embedding as usize;
    let kv = shape.kv_heads as usize * shape.head_dim() as usize;
    let r = rank as usize;
    let mut rng = seed | 1;
    let mut random = |n: usize| -> Vec<f32> {
        (0..n)
            .map(|_| {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                // Uniform in [-scale, scale].
                let unit = (rng >> 11) as f32 / (1u64 << 53) as f32;
                (unit * 2.0 - 1.0) * scale
            })
            .collect()
    };
    let mut tensors = Vec::new();
    for i in 0..shape.layers {
        for (name, out) in [("attn_q", e), ("attn_v", kv)] {
            tensors.push(super::adapters::LoraTensor {
                name: format!("blk.{i}.{name}.weight"),
                rank: r,
                rows: out,
                cols: e,
                a: random(r * e),
                b: random(out * r),
            });
        }
    }
    super::adapters::write(path, shape.architecture(), &tensors)
}

/// A small f16 block scale (~0.01) keeps activations finite through the
/// layers of a large shape.
pub const DEFAULT_SCALE: f32 = 0.01;

/// The f16 bit pattern of a positive normal `x` (truncated mantissa).
fn f16_bits(x: f32) -> u16 {
    let b = x.to_bits();
    let exp = ((b >> 23) & 0xff) as i32 - 127 + 15;
    let exp = exp.clamp(1, 30) as u16;
    (exp << 10) | ((b >> 13) & 0x3ff) as u16
}

/// GGUF key-value pairs, as a header holds them.
#[derive(Default)]
pub(crate) struct Metadata {
    bytes: Vec<u8>,
    count: u64,
}

impl Metadata {
    pub(crate) fn put(&mut self, key: &str, ty: u32, value: &[u8]) {
        put_str(&mut self.bytes, key);
        self.bytes.extend(ty.to_le_bytes());
        self.bytes.extend(value);
        self.count += 1;
    }

    pub(crate) fn text(&mut self, key: &str, value: &str) {
        let mut v = Vec::new();
        put_str(&mut v, value);
        self.put(key, 8, &v);
    }

    /// The file's start: magic, version, counts, then the pairs.
    pub(crate) fn header(self, tensors: u64) -> Vec<u8> {
        let mut h = Vec::new();
        h.extend(b"GGUF");
        h.extend(3u32.to_le_bytes());
        h.extend(tensors.to_le_bytes());
        h.extend(self.count.to_le_bytes());
        h.extend(self.bytes);
        h
    }
}

pub(crate) fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend((s.len() as u64).to_le_bytes());
    out.extend(s.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_synthetic_file_passes_the_header_check_with_its_shape() {
        let dir = tempfile::tempdir().expect("tmp");
        let shape = Shape::TINY;
        let path = dir.path().join(shape.file_name());
        let size = shape.write(&path).expect("write");
        let s = super::super::gguf::inspect(&path).expect("valid gguf");
        assert_eq!(s.file_size, size);
        assert_eq!(s.block_count, Some(2));
        assert_eq!(s.head_count_kv, Some(2));
        assert_eq!(s.vocab_size, Some(300));
        assert_eq!(s.tensor_count, 2 + 9 * 2);
        let m = shape.as_catalog_model(size);
        assert_eq!(m.head_dim, 16);
        assert_eq!(
            shape.parameters(),
            64 * 300 + 64 + 2 * (64 * 2 + 64 * 64 * 2 + 64 * 32 * 2 + 64 * 128 * 3)
        );
    }

    #[test]
    fn block_scales_are_written_as_f16() {
        assert_eq!(f16_bits(0.01), 0x211E);
        assert_eq!(f16_bits(1.0), 0x3C00);
        assert_eq!(f16_bits(0.5), 0x3800);
    }

    #[test]
    fn the_bench_shapes_have_the_published_parameter_counts() {
        // Within 2% of the model cards (the tied output counted once).
        let published = [135e6, 362e6, 494e6, 494e6, 1236e6, 354e6, 340e6, 1000e6];
        for (shape, want) in SHAPES.iter().zip(published) {
            let got = shape.parameters() as f64;
            assert!(
                (got / want - 1.0).abs() < 0.02,
                "{}: {got} vs {want}",
                shape.name
            );
        }
    }
}
