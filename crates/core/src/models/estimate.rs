//! The cost model: what one model takes, at one context, on one machine
//! (memory: weights + KV cache + compute buffers + llama.cpp's runtime +
//! the app; speed: generation reads every weight once per token, prompt
//! evaluation costs about 2 x parameters operations per token). Pure
//! functions over plain data; [`super::plan`] chooses with them. The
//! constants were measured with `pith bench --planner` (synthetic models
//! with the catalog's real shapes; `docs/performance.md` has the table).

use super::catalog::CatalogModel;
use crate::hardware::HardwareProfile;
use crate::tasks::TaskNeeds;
use serde::{Deserialize, Serialize};

pub(crate) const MIB: u64 = 1 << 20;
const GB: f64 = 1e9;

/// Weights held in memory per byte of file when the file is read (Pith's
/// default; memory-mapped files stay at ~1.6x on Linux).
pub const RESIDENT_FACTOR: f64 = 1.05;
/// llama.cpp's own memory beside weights, cache and compute buffers, plus
/// the process running it (the `pith` command line).
pub const RUNTIME_BYTES: u64 = 20 * MIB;
/// The desktop app's webview and UI, budgeted on top when planning for it.
pub const DESKTOP_APP_BYTES: u64 = 300 * MIB;
/// Tokens evaluated per batch; compute buffers scale with it.
pub const UBATCH: u64 = 512;
/// Time per layer per generated token that is not memory traffic (thread
/// synchronisation, small kernels): why tiny models reach only part of the
/// memory bandwidth.
pub const LAYER_OVERHEAD_S: f64 = 80e-6;
/// Share of the measured read bandwidth (a plain summing loop) that
/// generation's matrix-vector products reach.
pub const BANDWIDTH_EFFICIENCY: f64 = 0.7;
/// Prompt evaluation throughput per physical core, in operations per second
/// (≈ 130 GOP/s on 2 AVX2 cores for quantizations with repacked kernels).
pub const CPU_OPS_PER_CORE: f64 = 65e9;
/// Bandwidth assumed when none was measured (a modest dual-channel laptop).
pub const ASSUMED_BANDWIDTH_GBS: f64 = 10.0;
/// VRAM kept free for the driver, CUDA context and scratch buffers.
pub const VRAM_RESERVE_BYTES: u64 = 600 * MIB;

/// A generation speed measured on this machine by `pith bench`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    pub model_bytes: u64,
    pub layers: u32,
    pub gen_tps: f64,
}

impl Calibration {
    /// The memory bandwidth generation actually reached, in GB/s, once the
    /// per-layer overhead is taken out.
    pub fn effective_bandwidth_gbs(&self) -> Option<f64> {
        let per_token = 1.0 / self.gen_tps - f64::from(self.layers) * LAYER_OVERHEAD_S;
        (self.gen_tps > 0.0 && per_token > 0.0)
            .then(|| self.model_bytes as f64 / per_token / GB / BANDWIDTH_EFFICIENCY)
    }
}

fn calibration_path() -> Option<std::path::PathBuf> {
    crate::paths::data_dir().map(|d| d.join("calibration.json"))
}

/// The generation speed `pith bench` last measured on this machine.
pub fn load_calibration() -> Option<Calibration> {
    let text = std::fs::read_to_string(calibration_path()?).ok()?;
    serde_json::from_str(&text).ok()
}

/// Keeps a measured speed for later plans (best effort).
pub fn save_calibration(c: &Calibration) {
    if let Some(p) = calibration_path() {
        let _ = p.parent().map(std::fs::create_dir_all);
        let _ = std::fs::write(p, serde_json::to_string(c).unwrap_or_default());
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Preferences {
    /// This build of llama.cpp can offload layers to a GPU.
    pub gpu_offload: bool,
    /// Memory the rest of the app needs beside the model.
    pub app_bytes: u64,
    /// A context size the user asked for, instead of the task's.
    pub context: Option<u32>,
    /// From `pith bench` on this machine; beats the bandwidth estimate.
    pub calibration: Option<Calibration>,
}

impl Default for Preferences {
    fn default() -> Self {
        Preferences {
            gpu_offload: false,
            app_bytes: DESKTOP_APP_BYTES,
            context: None,
            calibration: None,
        }
    }
}

/// Memory and speed of one model at one context on one machine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct Estimate {
    pub context: u32,
    /// Layers on the GPU (the output layer counts as one more).
    pub gpu_layers: u32,
    pub weights_bytes: u64,
    pub kv_cache_bytes: u64,
    pub compute_bytes: u64,
    pub runtime_bytes: u64,
    pub app_bytes: u64,
    /// Everything counted against system RAM.
    pub ram_bytes: u64,
    /// Everything counted against the GPU's own memory.
    pub vram_bytes: u64,
    pub gen_tps: f64,
    pub prompt_tps: f64,
    pub first_token_s: f64,
}

impl Estimate {
    /// What the model itself takes (weights, cache, compute, runtime) in
    /// system RAM and VRAM together: what `pith bench --planner` measures.
    pub fn model_bytes(&self) -> u64 {
        self.ram_bytes + self.vram_bytes - self.app_bytes
    }
}

/// Whether the desktop app may give the hotkey a worker of its own for a
/// model of `model_bytes` (so a rewrite never waits for a chat reply): a
/// second context over the same weights, whose KV cache and buffers are
/// small next to a small model. Only for small models (on a CPU two larger
/// ones decoding at once halve each other's speed), and only with room to
/// spare: three times the model still free. Otherwise the hotkey shares
/// the main engine and goes first in its queue.
pub fn hotkey_engine_fits(model_bytes: u64, available_bytes: Option<u64>) -> bool {
    const SMALL: u64 = 1_500_000_000;
    model_bytes <= SMALL
        && available_bytes.is_some_and(|free| free >= model_bytes.saturating_mul(3))
}

/// Megabytes or gigabytes, for reasons people read.
pub fn human_bytes(b: u64) -> String {
    let b = b as f64;
    if b >= GB {
        format!("{:.1} GB", b / GB)
    } else {
        format!("{:.0} MB", b / 1e6)
    }
}

/// Compute buffers llama.cpp touches while evaluating a prompt batch (the
/// activations of one batch, the output over the vocabulary), and, for a
/// Q4_0 model whose output matrix is the token embedding, the second,
/// repacked copy of that matrix that the CPU kernels use. Fitted to
/// `pith bench --planner`.
pub fn compute_bytes(m: &CatalogModel) -> u64 {
    let activations = u64::from(m.embedding) * 9_000 + u64::from(m.vocab) * 171;
    let repacked_output = if m.quant == "Q4_0" {
        let bytes_per_weight = m.size_bytes as f64 / m.parameters.max(1) as f64;
        (f64::from(m.vocab) * f64::from(m.embedding) * bytes_per_weight) as u64
    } else {
        0
    };
    activations + repacked_output
}

/// Relative prompt speed of a quantization's CPU kernels: llama.cpp repacks
/// Q4_0, Q4_K and IQ4_NL into interleaved layouts; Q8_0 is close; Q4_1,
/// Q5 and Q6 run at under half the speed (measured: Q4_1 SmolLM2 135M
/// reads prompts at 186 tokens/s where the Q4_0 shape reaches 399).
fn prompt_kernel_speed(quant: &str) -> f64 {
    match quant {
        "Q4_0" | "IQ4_NL" => 1.0,
        q if q.starts_with("Q4_K") => 1.0,
        q if q.starts_with("Q8") => 0.85,
        _ => 0.45,
    }
}

/// Memory and speed of `m` at `context` tokens on `hw`.
pub fn estimate(
    m: &CatalogModel,
    hw: &HardwareProfile,
    prefs: &Preferences,
    context: u32,
    needs: &TaskNeeds,
) -> Estimate {
    let weights = (m.size_bytes as f64 * RESIDENT_FACTOR) as u64;
    let kv = m.kv_cache_bytes(context);
    let compute = compute_bytes(m);
    let layers = m.layers;
    let (bandwidth, _) = bandwidth(hw, prefs);

    let gpu = offload_target(hw, prefs);
    let (gpu_layers, ram, vram) = match gpu {
        Some(Target::Unified) => (layers + 1, weights + kv + compute, 0),
        Some(Target::Discrete { budget, .. }) => {
            let all = weights + kv + compute;
            if all <= budget {
                (layers + 1, 0, all)
            } else {
                let per_layer = m.layer_bytes(context);
                let n = (budget.saturating_sub(compute) / per_layer.max(1)).min(u64::from(layers));
                let on_gpu = per_layer * n;
                let n = u32::try_from(n).unwrap_or(0);
                if n == 0 {
                    (0, all, 0)
                } else {
                    (n, all - on_gpu, on_gpu + compute)
                }
            }
        }
        None => (0, weights + kv + compute, 0),
    };

    // Generation: the share of weights in each memory, read once per token.
    let bytes = m.size_bytes as f64;
    let gpu_share = f64::from(gpu_layers.min(layers)) / f64::from(layers.max(1));
    let cpu_layers = f64::from(layers - gpu_layers.min(layers));
    let mut per_token = 0.0;
    let mut prompt_s_per_token = 0.0;
    let ops = 2.0 * m.parameters as f64;
    let cpu_rate = CPU_OPS_PER_CORE * hw.cores() as f64 * prompt_kernel_speed(&m.quant);
    match gpu {
        Some(Target::Unified) => {
            // One memory: the GPU reads it at the machine's bandwidth.
            per_token += bytes / (bandwidth * GB * BANDWIDTH_EFFICIENCY)
                + f64::from(layers) * LAYER_OVERHEAD_S / 3.0;
            prompt_s_per_token += ops / (cpu_rate * 8.0);
        }
        Some(Target::Discrete { bandwidth_gbs, .. }) if gpu_layers > 0 => {
            per_token += bytes * gpu_share / (bandwidth_gbs * GB * 0.8)
                + f64::from(gpu_layers.min(layers)) * 10e-6;
            per_token += bytes * (1.0 - gpu_share) / (bandwidth * GB * BANDWIDTH_EFFICIENCY)
                + cpu_layers * LAYER_OVERHEAD_S;
            prompt_s_per_token += ops * gpu_share / 50e12 + ops * (1.0 - gpu_share) / cpu_rate;
        }
        _ => {
            per_token += bytes / (bandwidth * GB * BANDWIDTH_EFFICIENCY)
                + f64::from(layers) * LAYER_OVERHEAD_S;
            prompt_s_per_token += ops / cpu_rate;
        }
    }
    let gen_tps = 1.0 / per_token;
    let prompt_tps = 1.0 / prompt_s_per_token;
    let round = |x: f64| (x * 10.0).round() / 10.0;
    Estimate {
        context,
        gpu_layers,
        weights_bytes: weights,
        kv_cache_bytes: kv,
        compute_bytes: compute,
        runtime_bytes: RUNTIME_BYTES,
        app_bytes: prefs.app_bytes,
        ram_bytes: ram + RUNTIME_BYTES + prefs.app_bytes,
        vram_bytes: vram,
        gen_tps: round(gen_tps),
        prompt_tps: round(prompt_tps),
        first_token_s: (f64::from(needs.prompt_tokens) / prompt_tps * 100.0).round() / 100.0
            + (1.0 / gen_tps * 100.0).round() / 100.0,
    }
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum Target {
    Unified,
    Discrete { budget: u64, bandwidth_gbs: f64 },
}

/// Where layers can go: a unified-memory GPU, the discrete GPU with the
/// most free VRAM, or nowhere (CPU only).
pub(crate) fn offload_target(hw: &HardwareProfile, prefs: &Preferences) -> Option<Target> {
    if !prefs.gpu_offload {
        return None;
    }
    if let Some(g) = hw
        .gpus
        .iter()
        .filter(|g| !g.unified_memory)
        .filter_map(|g| g.free_vram_bytes.map(|f| (g, f)))
        .max_by_key(|(_, f)| *f)
    {
        let budget = g.1.saturating_sub(VRAM_RESERVE_BYTES.max(g.1 / 10));
        return Some(Target::Discrete {
            budget,
            bandwidth_gbs: g.0.memory_bandwidth_gbs.unwrap_or(300.0),
        });
    }
    hw.unified_memory().then_some(Target::Unified)
}

pub(crate) fn bandwidth(hw: &HardwareProfile, prefs: &Preferences) -> (f64, &'static str) {
    if let Some(b) = prefs.calibration.and_then(|c| c.effective_bandwidth_gbs()) {
        return (b, "bench");
    }
    match hw.memory_bandwidth_gbs {
        Some(b) if b > 0.0 => (b, "measured"),
        _ => (ASSUMED_BANDWIDTH_GBS, "assumed"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hotkey_gets_its_own_engine_only_for_small_models_with_room_to_spare() {
        const MB: u64 = 1_000_000;
        assert!(hotkey_engine_fits(98 * MB, Some(8_000 * MB)));
        assert!(!hotkey_engine_fits(98 * MB, Some(250 * MB)), "tight memory");
        assert!(!hotkey_engine_fits(98 * MB, None), "unknown memory");
        assert!(
            !hotkey_engine_fits(2_500 * MB, Some(64_000 * MB)),
            "a 4B model"
        );
    }
}
