//! The fit planner: which catalog model to run on a machine, for a task,
//! with how much context and how many GPU layers — and why.
//!
//! A pure function over plain data ([`plan`]), so it is tested over a table
//! of named machines. Memory is estimated as weights + KV cache + compute
//! buffers + llama.cpp's runtime + the app, against what the machine can
//! give with a safety margin; a model that does not fit is never chosen.
//! Speed comes from memory bandwidth (generation reads every weight once
//! per token) and from compute (prompt evaluation costs about 2 x parameters
//! operations per token). The constants below were measured with `pith
//! bench --planner` (synthetic models with the catalog's real shapes); the
//! README has the table.

use super::catalog::{Catalog, CatalogModel};
use crate::hardware::{GpuVendor, HardwareProfile};
use serde::{Deserialize, Serialize};

const MIB: u64 = 1 << 20;
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Task {
    Rephrase,
    Summarize,
    Chat,
}

impl std::str::FromStr for Task {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "rephrase" => Ok(Task::Rephrase),
            "summarize" => Ok(Task::Summarize),
            "chat" => Ok(Task::Chat),
            _ => Err(format!("unknown task {s:?}: rephrase, summarize or chat")),
        }
    }
}

impl std::fmt::Display for Task {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Task::Rephrase => "rephrase",
            Task::Summarize => "summarize",
            Task::Chat => "chat",
        })
    }
}

/// What each task needs from a model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TaskNeeds {
    /// Context wanted, and the least that still works.
    pub context: u32,
    pub min_context: u32,
    /// Tokens of a typical prompt, for the first-token estimate.
    pub prompt_tokens: u32,
    /// Slowest acceptable generation and first token.
    pub min_gen_tps: f64,
    pub max_first_token_s: f64,
}

impl Task {
    pub fn needs(self) -> TaskNeeds {
        match self {
            // The hotkey: a short text, an answer while the user waits.
            Task::Rephrase => TaskNeeds {
                context: 2048,
                min_context: 1024,
                prompt_tokens: 200,
                min_gen_tps: 15.0,
                max_first_token_s: 1.5,
            },
            // Documents: room for big chunks; reading speed matters more.
            Task::Summarize => TaskNeeds {
                context: 8192,
                min_context: 4096,
                prompt_tokens: 2000,
                min_gen_tps: 5.0,
                max_first_token_s: 30.0,
            },
            // Conversation: faster than reading, history reused in the cache.
            Task::Chat => TaskNeeds {
                context: 4096,
                min_context: 2048,
                prompt_tokens: 150,
                min_gen_tps: 8.0,
                max_first_token_s: 3.0,
            },
        }
    }
}

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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    pub id: String,
    pub name: String,
    pub file: String,
    pub quant: String,
    pub estimate: Estimate,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rejected {
    pub id: String,
    pub reason: String,
}

/// What the machine can give, after the safety margin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Budget {
    pub ram_usable_bytes: u64,
    pub ram_budget_bytes: u64,
    /// Free VRAM of the GPU used, less the driver's reserve.
    pub vram_budget_bytes: Option<u64>,
    pub gpu: Option<String>,
    pub bandwidth_gbs: f64,
    /// Where the bandwidth figure came from: `bench`, `measured`, `assumed`.
    pub bandwidth_source: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub task: Task,
    pub choice: Option<Choice>,
    /// Why this model (or why none).
    pub reason: String,
    pub budget: Budget,
    /// Every other catalog model, with why it was not chosen.
    pub rejected: Vec<Rejected>,
    /// Facts about the machine worth telling (an unused GPU, an assumption).
    pub notes: Vec<String>,
}

/// Whether the desktop app may keep a second copy of a model of
/// `model_bytes` loaded for the hotkey (so a rewrite never waits for a chat
/// reply): only for small models, and only with room to spare — three
/// times the model still free. Otherwise the hotkey shares the main engine
/// and goes first in its queue.
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

fn quant_bonus(quant: &str) -> f64 {
    match quant {
        q if q.starts_with("Q8") || q == "F16" || q == "BF16" => 2.0,
        q if q.starts_with("Q6") => 1.5,
        q if q.starts_with("Q5") => 1.0,
        q if q.starts_with("Q4_K") => 0.0,
        _ => -0.5,
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
enum Target {
    Unified,
    Discrete { budget: u64, bandwidth_gbs: f64 },
}

/// Where layers can go: a unified-memory GPU, the discrete GPU with the
/// most free VRAM, or nowhere (CPU only).
fn offload_target(hw: &HardwareProfile, prefs: &Preferences) -> Option<Target> {
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

fn bandwidth(hw: &HardwareProfile, prefs: &Preferences) -> (f64, &'static str) {
    if let Some(b) = prefs.calibration.and_then(|c| c.effective_bandwidth_gbs()) {
        return (b, "bench");
    }
    match hw.memory_bandwidth_gbs {
        Some(b) if b > 0.0 => (b, "measured"),
        _ => (ASSUMED_BANDWIDTH_GBS, "assumed"),
    }
}

/// The safety margin kept free: a tenth of what is usable, at least 256 MB.
fn ram_budget(usable: u64) -> u64 {
    usable.saturating_sub((usable / 10).max(256 * MIB))
}

/// Chooses the model for `task` on `hw` from `catalog`.
pub fn plan(hw: &HardwareProfile, catalog: &Catalog, task: Task, prefs: &Preferences) -> Plan {
    let needs = task.needs();
    let mut notes = Vec::new();
    let usable = match hw.usable_ram_bytes() {
        Some(u) => u,
        None => {
            notes.push(
                "available memory is unknown; planning for 2 GB to stay on the safe side".into(),
            );
            2_000 * 1_000_000
        }
    };
    let budget_ram = ram_budget(usable);
    let (bw, bw_source) = bandwidth(hw, prefs);
    if bw_source == "assumed" {
        notes.push(format!(
            "memory bandwidth not measured; assuming {ASSUMED_BANDWIDTH_GBS} GB/s (`pith hardware` measures it)"
        ));
    }
    let target = offload_target(hw, prefs);
    let (vram_budget, gpu_name) = match target {
        Some(Target::Discrete { budget, .. }) => (
            Some(budget),
            hw.gpus
                .iter()
                .filter(|g| !g.unified_memory)
                .max_by_key(|g| g.free_vram_bytes)
                .map(|g| g.name.clone()),
        ),
        Some(Target::Unified) => (
            None,
            hw.gpus
                .iter()
                .find(|g| g.unified_memory)
                .map(|g| g.name.clone()),
        ),
        None => (None, None),
    };
    for g in &hw.gpus {
        if !prefs.gpu_offload && (g.vendor == GpuVendor::Nvidia || !g.unified_memory) {
            notes.push(format!(
                "{} found, but this build of Pith runs models on the CPU only \
                 (build it with a GPU backend, e.g. `--features cuda`, to use it)",
                g.name
            ));
        } else if prefs.gpu_offload && !g.unified_memory && g.free_vram_bytes.is_none() {
            notes.push(format!(
                "{}: free memory unknown, so no layers are placed on it",
                g.name
            ));
        }
        if g.unified_memory {
            notes.push(format!(
                "{} shares system RAM: its memory is counted once, as RAM",
                g.name
            ));
        }
    }

    let mut scored: Vec<(f64, &CatalogModel, Estimate)> = Vec::new();
    let mut rejected = Vec::new();
    for m in &catalog.models {
        if !m.chat_template {
            rejected.push(Rejected {
                id: m.id.clone(),
                reason: format!(
                    "{} is a base model without a chat template: it continues text instead of following instructions",
                    m.name
                ),
            });
            continue;
        }
        let wanted = prefs.context.unwrap_or(needs.context).min(m.context_length);
        let least = needs.min_context.min(wanted);
        // The largest context that fits, halving down to the task's least.
        let mut ctx = wanted;
        let mut fits = None;
        loop {
            let e = estimate(m, hw, prefs, ctx, &needs);
            let ram_ok = e.ram_bytes <= budget_ram;
            let vram_ok = vram_budget.is_none_or(|v| e.vram_bytes <= v);
            if ram_ok && vram_ok {
                fits = Some(e);
                break;
            }
            if ctx / 2 < least {
                let need = if ram_ok {
                    format!(
                        "needs {} of GPU memory, {} free",
                        human_bytes(e.vram_bytes),
                        human_bytes(vram_budget.unwrap_or(0))
                    )
                } else {
                    format!(
                        "needs {} with a {}-token context; {} free, {} usable after the safety margin",
                        human_bytes(e.ram_bytes),
                        ctx,
                        human_bytes(usable),
                        human_bytes(budget_ram)
                    )
                };
                rejected.push(Rejected {
                    id: m.id.clone(),
                    reason: format!("{} {}: {need}", m.name, m.quant),
                });
                break;
            }
            ctx /= 2;
        }
        let Some(e) = fits else { continue };
        if e.gen_tps < needs.min_gen_tps {
            rejected.push(Rejected {
                id: m.id.clone(),
                reason: format!(
                    "{} {} fits but is too slow for {task}: about {:.1} tokens/s, {task} needs {:.0}",
                    m.name, m.quant, e.gen_tps, needs.min_gen_tps
                ),
            });
            continue;
        }
        if e.first_token_s > needs.max_first_token_s {
            rejected.push(Rejected {
                id: m.id.clone(),
                reason: format!(
                    "{} {} fits but answers too late for {task}: first token after about {:.1} s, {task} needs under {:.1} s",
                    m.name, m.quant, e.first_token_s, needs.max_first_token_s
                ),
            });
            continue;
        }
        let mut score = f64::from(m.rank) + quant_bonus(&m.quant);
        // A reduced context is a real loss for documents.
        if e.context < wanted {
            score -= 5.0;
        }
        scored.push((score, m, e));
    }
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));

    let budget = Budget {
        ram_usable_bytes: usable,
        ram_budget_bytes: budget_ram,
        vram_budget_bytes: vram_budget,
        gpu: gpu_name,
        bandwidth_gbs: (bw * 10.0).round() / 10.0,
        bandwidth_source: bw_source.into(),
    };
    let Some((_, best, est)) = scored.first().cloned() else {
        let smallest = catalog
            .models
            .iter()
            .filter(|m| m.chat_template)
            .min_by_key(|m| m.size_bytes);
        let reason = match smallest {
            Some(m) => {
                let e = estimate(
                    m,
                    hw,
                    prefs,
                    needs.min_context.min(m.context_length),
                    &needs,
                );
                format!(
                    "no catalog model suits {task} on this machine: the smallest, {} {}, needs {}, \
                     more than the {} Pith can use of the {} free (the rest is a safety margin)",
                    m.name,
                    m.quant,
                    human_bytes(e.ram_bytes),
                    human_bytes(budget_ram),
                    human_bytes(usable)
                )
            }
            None => "the catalog has no instruct model".into(),
        };
        return Plan {
            task,
            choice: None,
            reason,
            budget,
            rejected,
            notes,
        };
    };
    for (_, m, e) in scored.iter().skip(1) {
        rejected.push(Rejected {
            id: m.id.clone(),
            reason: format!(
                "{} {} fits ({}, ~{:.0} tokens/s) but {} {} ranks higher",
                m.name,
                m.quant,
                human_bytes(e.ram_bytes + e.vram_bytes),
                e.gen_tps,
                best.name,
                best.quant
            ),
        });
    }
    let place = match (est.gpu_layers, target) {
        (0, _) => "on the CPU".to_string(),
        (_, Some(Target::Unified)) => "on the GPU, in shared memory".to_string(),
        (n, _) if n > best.layers => {
            format!("entirely on the {}", budget.gpu.as_deref().unwrap_or("GPU"))
        }
        (n, _) => format!("with {n} of {} layers on the GPU", best.layers),
    };
    let memory = if est.vram_bytes > 0 {
        format!(
            "{} of GPU memory ({} free) and {} of RAM",
            human_bytes(est.vram_bytes),
            human_bytes(vram_budget.unwrap_or(0)),
            human_bytes(est.ram_bytes)
        )
    } else {
        format!(
            "{} of {} free",
            human_bytes(est.ram_bytes),
            human_bytes(usable)
        )
    };
    let reason = format!(
        "{} {}: the best-ranked model that fits and is fast enough for {task}; \
         needs {memory} with a {}-token context, runs {place} at about {:.0} tokens/s, \
         first token after about {:.1} s",
        best.name, best.quant, est.context, est.gen_tps, est.first_token_s
    );
    Plan {
        task,
        choice: Some(Choice {
            id: best.id.clone(),
            name: best.name.clone(),
            file: best.file.clone(),
            quant: best.quant.clone(),
            estimate: est,
        }),
        reason,
        budget,
        rejected,
        notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hardware::{Cpu, Gpu, Memory};

    const GB_: u64 = 1_000_000_000;

    fn machine(cores: usize, total: u64, available: u64, bandwidth: f64) -> HardwareProfile {
        HardwareProfile {
            os: "linux".into(),
            arch: "x86_64".into(),
            cpu: Cpu {
                model: None,
                physical_cores: Some(cores),
                logical_cores: cores * 2,
                features: vec!["AVX2".into()],
            },
            memory: Memory {
                total_bytes: Some(total),
                available_bytes: Some(available),
                cgroup_limit_bytes: None,
                cgroup_usage_bytes: None,
            },
            gpus: Vec::new(),
            disk: None,
            memory_bandwidth_gbs: Some(bandwidth),
        }
    }

    fn gpu(vendor: GpuVendor, name: &str, vram: Option<u64>, bandwidth: f64) -> Gpu {
        Gpu {
            vendor,
            name: name.into(),
            total_vram_bytes: vram,
            free_vram_bytes: vram.map(|v| v - v / 20),
            unified_memory: vram.is_none(),
            memory_bandwidth_gbs: Some(bandwidth),
            source: "test".into(),
        }
    }

    fn cpu_only() -> Preferences {
        Preferences::default()
    }

    fn with_gpu() -> Preferences {
        Preferences {
            gpu_offload: true,
            ..Preferences::default()
        }
    }

    /// Ten named machines, from a container to a workstation.
    fn machines() -> Vec<(&'static str, HardwareProfile, Preferences)> {
        let mut v = Vec::new();
        v.push((
            "4 GB laptop, no GPU",
            machine(2, 4 * GB_, 2_400_000_000, 12.0),
            cpu_only(),
        ));
        v.push((
            "8 GB laptop, no GPU",
            machine(4, 8 * GB_, 5 * GB_, 20.0),
            cpu_only(),
        ));
        let mut m = machine(6, 16 * GB_, 11 * GB_, 40.0);
        m.gpus.push(gpu(
            GpuVendor::Nvidia,
            "GeForce RTX 4060",
            Some(8 * GB_),
            272.0,
        ));
        v.push(("16 GB RAM + 8 GB NVIDIA", m, with_gpu()));
        let mut m = machine(8, 32 * GB_, 26 * GB_, 40.0);
        m.gpus.push(gpu(
            GpuVendor::Nvidia,
            "GeForce GTX 1060 6GB",
            Some(6 * GB_),
            192.0,
        ));
        v.push(("32 GB desktop + 6 GB NVIDIA", m.clone(), with_gpu()));
        v.push(("the same desktop, CPU-only build", m, cpu_only()));
        let mut m = machine(8, 16 * GB_, 10 * GB_, 100.0);
        m.arch = "aarch64".into();
        m.gpus
            .push(gpu(GpuVendor::Apple, "Apple M2 GPU", None, 100.0));
        v.push(("16 GB Apple silicon", m, with_gpu()));
        let mut m = machine(2, 64 * GB_, 60 * GB_, 20.0);
        m.memory.cgroup_limit_bytes = Some(2 << 30);
        m.memory.cgroup_usage_bytes = Some(150 << 20);
        v.push(("2 GB container on a 64 GB host", m, cpu_only()));
        let mut m = machine(4, 8 * GB_, 5 * GB_, 20.0);
        m.gpus
            .push(gpu(GpuVendor::Intel, "Intel integrated GPU", None, 20.0));
        v.push(("8 GB laptop, integrated GPU", m, cpu_only()));
        v.push(("1 GB board", machine(4, GB_, 600_000_000, 4.0), cpu_only()));
        let mut m = machine(16, 64 * GB_, 50 * GB_, 60.0);
        m.gpus.push(gpu(
            GpuVendor::Nvidia,
            "GeForce RTX 4090",
            Some(24 * GB_),
            1008.0,
        ));
        v.push(("64 GB workstation + 24 GB NVIDIA", m, with_gpu()));
        v
    }

    fn pick(p: &Plan) -> (Option<&str>, u32, u32) {
        p.choice.as_ref().map_or((None, 0, 0), |c| {
            (
                Some(c.id.as_str()),
                c.estimate.context,
                c.estimate.gpu_layers,
            )
        })
    }

    /// (machine, task) -> (model id, context, GPU layers); `None` = nothing fits.
    #[test]
    fn ten_machines_get_the_model_that_fits_them() {
        use Task::*;
        let expected: &[(&str, Task, Option<&str>, u32, u32)] = &[
            (
                "4 GB laptop, no GPU",
                Rephrase,
                Some("smollm2-360m-instruct-q8_0"),
                2048,
                0,
            ),
            (
                "4 GB laptop, no GPU",
                Summarize,
                Some("qwen2.5-0.5b-instruct-q8_0"),
                8192,
                0,
            ),
            (
                "4 GB laptop, no GPU",
                Chat,
                Some("llama-3.2-1b-instruct-q4_k_m"),
                4096,
                0,
            ),
            (
                "8 GB laptop, no GPU",
                Rephrase,
                Some("qwen2.5-0.5b-instruct-q8_0"),
                2048,
                0,
            ),
            (
                "8 GB laptop, no GPU",
                Chat,
                Some("qwen2.5-1.5b-instruct-q8_0"),
                4096,
                0,
            ),
            (
                "16 GB RAM + 8 GB NVIDIA",
                Chat,
                Some("phi-3.5-mini-instruct-q8_0"),
                4096,
                33,
            ),
            // 8192 tokens of Phi-3.5's cache (3.2 GB) no longer fit beside the
            // weights: most layers go to the GPU, the rest stay in RAM.
            (
                "16 GB RAM + 8 GB NVIDIA",
                Summarize,
                Some("phi-3.5-mini-instruct-q8_0"),
                8192,
                29,
            ),
            (
                "32 GB desktop + 6 GB NVIDIA",
                Chat,
                Some("phi-3.5-mini-instruct-q8_0"),
                4096,
                28,
            ),
            (
                "the same desktop, CPU-only build",
                Chat,
                Some("phi-3.5-mini-instruct-q4_k_m"),
                4096,
                0,
            ),
            (
                "the same desktop, CPU-only build",
                Rephrase,
                Some("qwen2.5-1.5b-instruct-q8_0"),
                2048,
                0,
            ),
            (
                "16 GB Apple silicon",
                Chat,
                Some("phi-3.5-mini-instruct-q8_0"),
                4096,
                33,
            ),
            (
                "2 GB container on a 64 GB host",
                Rephrase,
                Some("smollm2-360m-instruct-q8_0"),
                2048,
                0,
            ),
            (
                "2 GB container on a 64 GB host",
                Chat,
                Some("llama-3.2-1b-instruct-q4_k_m"),
                4096,
                0,
            ),
            (
                "8 GB laptop, integrated GPU",
                Chat,
                Some("qwen2.5-1.5b-instruct-q8_0"),
                4096,
                0,
            ),
            ("1 GB board", Rephrase, None, 0, 0),
            (
                "64 GB workstation + 24 GB NVIDIA",
                Summarize,
                Some("phi-3.5-mini-instruct-q8_0"),
                8192,
                33,
            ),
        ];
        let catalog = Catalog::builtin();
        let all = machines();
        for &(name, task, id, ctx, layers) in expected {
            let (_, hw, prefs) = all.iter().find(|m| m.0 == name).expect(name);
            let p = plan(hw, &catalog, task, prefs);
            assert_eq!(pick(&p), (id, ctx, layers), "{name} / {task}: {}", p.reason);
        }
    }

    #[test]
    fn every_plan_fits_and_accounts_for_every_catalog_model() {
        let catalog = Catalog::builtin();
        for (name, hw, prefs) in machines() {
            for task in [Task::Rephrase, Task::Summarize, Task::Chat] {
                let p = plan(&hw, &catalog, task, &prefs);
                let chosen = usize::from(p.choice.is_some());
                assert_eq!(p.rejected.len() + chosen, catalog.models.len(), "{name}");
                assert!(p.rejected.iter().all(|r| !r.reason.is_empty()));
                let Some(c) = &p.choice else { continue };
                let e = &c.estimate;
                assert!(
                    e.ram_bytes <= p.budget.ram_budget_bytes,
                    "{name} / {task}: RAM"
                );
                assert!(
                    e.vram_bytes <= p.budget.vram_budget_bytes.unwrap_or(0),
                    "{name} / {task}: VRAM"
                );
                assert!(
                    e.gen_tps >= task.needs().min_gen_tps,
                    "{name} / {task}: speed"
                );
                assert!(p.reason.contains(&c.name), "{}", p.reason);
            }
        }
    }

    #[test]
    fn reasons_name_the_numbers() {
        let catalog = Catalog::builtin();
        let all = machines();
        let laptop = &all[0];
        let p = plan(&laptop.1, &catalog, Task::Chat, &laptop.2);
        assert!(p.reason.contains("of 2.4 GB free"), "{}", p.reason);
        let qwen3b = p
            .rejected
            .iter()
            .find(|r| r.id == "qwen2.5-3b-instruct-q8_0")
            .expect("3B rejected");
        assert!(
            qwen3b
                .reason
                .starts_with("Qwen2.5 3B Instruct Q8_0: needs 3.9 GB with a 2048-token context")
                && qwen3b.reason.contains("2.4 GB free"),
            "{}",
            qwen3b.reason
        );
        let base = p
            .rejected
            .iter()
            .find(|r| r.id == "gemma-3-270m-q4_k_m")
            .expect("base");
        assert!(base.reason.contains("base model"), "{}", base.reason);
        assert!(
            p.rejected
                .iter()
                .any(|r| r.reason.contains("fits but is too slow for chat: about ")),
            "{:?}",
            p.rejected
        );

        let board = &all.iter().find(|m| m.0 == "1 GB board").expect("board");
        let p = plan(&board.1, &catalog, Task::Rephrase, &board.2);
        assert!(p.reason.contains("SmolLM2 135M"), "{}", p.reason);
        assert!(p.reason.contains("safety margin"), "{}", p.reason);
    }

    #[test]
    fn an_integrated_gpu_is_never_counted_as_extra_memory() {
        let catalog = Catalog::builtin();
        let all = machines();
        let plain = &all
            .iter()
            .find(|m| m.0 == "8 GB laptop, no GPU")
            .expect("plain");
        let igpu = &all
            .iter()
            .find(|m| m.0 == "8 GB laptop, integrated GPU")
            .expect("igpu");
        for task in [Task::Rephrase, Task::Summarize, Task::Chat] {
            let a = plan(&plain.1, &catalog, task, &plain.2);
            let b = plan(&igpu.1, &catalog, task, &igpu.2);
            assert_eq!(a.choice, b.choice);
            assert_eq!(b.budget.vram_budget_bytes, None);
            // With a GPU backend too, shared memory is counted once, as RAM.
            let c = plan(&igpu.1, &catalog, task, &with_gpu());
            assert_eq!(c.budget.ram_budget_bytes, a.budget.ram_budget_bytes);
            assert!(c.choice.is_some_and(|c| c.estimate.vram_bytes == 0));
        }
    }

    #[test]
    fn a_gpu_the_build_cannot_use_is_named_in_the_notes() {
        let catalog = Catalog::builtin();
        let all = machines();
        let m = &all
            .iter()
            .find(|m| m.0 == "the same desktop, CPU-only build")
            .expect("m");
        let p = plan(&m.1, &catalog, Task::Chat, &m.2);
        assert!(p
            .notes
            .iter()
            .any(|n| n.contains("GTX 1060") && n.contains("CPU only")));
        assert_eq!(p.budget.vram_budget_bytes, None);
    }

    #[test]
    fn a_bench_calibration_replaces_the_bandwidth_estimate() {
        let catalog = Catalog::builtin();
        let hw = machine(2, 8 * GB_, 5 * GB_, 20.0);
        let measured = Calibration {
            model_bytes: 98_362_432,
            layers: 30,
            gen_tps: 50.0,
        };
        let slow = Preferences {
            calibration: Some(measured),
            ..Preferences::default()
        };
        let p = plan(&hw, &catalog, Task::Chat, &slow);
        assert_eq!(p.budget.bandwidth_source, "bench");
        assert!(p.budget.bandwidth_gbs < 20.0, "{}", p.budget.bandwidth_gbs);
        // The model the bench ran is predicted at the speed it measured.
        let smol = catalog.get("smollm2-135m-instruct-q4_1").expect("smol");
        let e = estimate(smol, &hw, &slow, 4096, &Task::Chat.needs());
        assert!((e.gen_tps - 50.0).abs() < 1.0, "{}", e.gen_tps);
        let unknown = Preferences::default();
        let mut bare = hw.clone();
        bare.memory_bandwidth_gbs = None;
        let p = plan(&bare, &catalog, Task::Chat, &unknown);
        assert_eq!(p.budget.bandwidth_source, "assumed");
        assert!(p.notes.iter().any(|n| n.contains("not measured")));
    }

    #[test]
    fn tasks_parse_from_their_names() {
        assert_eq!("summarize".parse::<Task>(), Ok(Task::Summarize));
        assert!("translate".parse::<Task>().is_err());
    }

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
