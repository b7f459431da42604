//! The fit planner: which catalog model to run on a machine, for a task,
//! with how much context and how many GPU layers — and why.
//!
//! A pure function over plain data ([`plan`]), so it is tested over a table
//! of named machines. Every candidate is costed by [`super::estimate`]
//! against what the machine can give with a safety margin; a model that
//! does not fit is never chosen, and every one not chosen is named with
//! the reason.

use super::catalog::{Catalog, CatalogModel};
use super::estimate::{
    bandwidth, estimate, human_bytes, offload_target, Estimate, Preferences, Target,
    ASSUMED_BANDWIDTH_GBS, MIB,
};
use crate::hardware::{GpuVendor, HardwareProfile};
use crate::tasks::Task;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct Choice {
    pub id: String,
    pub name: String,
    pub file: String,
    pub quant: String,
    /// The file's size, what a download fetches.
    pub size_bytes: u64,
    pub estimate: Estimate,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct Rejected {
    pub id: String,
    pub reason: String,
}

/// What the machine can give, after the safety margin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
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

fn quant_bonus(quant: &str) -> f64 {
    match quant {
        q if q.starts_with("Q8") || q == "F16" || q == "BF16" => 2.0,
        q if q.starts_with("Q6") => 1.5,
        q if q.starts_with("Q5") => 1.0,
        q if q.starts_with("Q4_K") => 0.0,
        _ => -0.5,
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
            size_bytes: best.size_bytes,
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
    use crate::models::estimate::Calibration;

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
                Some("lfm2-350m-q8_0"),
                2048,
                0,
            ),
            (
                "4 GB laptop, no GPU",
                Summarize,
                Some("lfm2-700m-q8_0"),
                8192,
                0,
            ),
            (
                "4 GB laptop, no GPU",
                Chat,
                Some("lfm2-1.2b-q4_k_m"),
                4096,
                0,
            ),
            (
                "8 GB laptop, no GPU",
                Rephrase,
                Some("lfm2-700m-q8_0"),
                2048,
                0,
            ),
            (
                "8 GB laptop, no GPU",
                Chat,
                Some("falcon-h1-1.5b-instruct-q8_0"),
                4096,
                0,
            ),
            (
                "16 GB RAM + 8 GB NVIDIA",
                Chat,
                Some("phi-4-mini-instruct-q8_0"),
                4096,
                33,
            ),
            // Phi-4 mini's 8 KV heads keep 8192 tokens in 1 GB: all of it fits.
            (
                "16 GB RAM + 8 GB NVIDIA",
                Summarize,
                Some("phi-4-mini-instruct-q8_0"),
                8192,
                33,
            ),
            (
                "32 GB desktop + 6 GB NVIDIA",
                Chat,
                Some("phi-4-mini-instruct-q8_0"),
                4096,
                33,
            ),
            (
                "the same desktop, CPU-only build",
                Chat,
                Some("phi-4-mini-instruct-q4_k_m"),
                4096,
                0,
            ),
            (
                "the same desktop, CPU-only build",
                Rephrase,
                Some("falcon-h1-1.5b-instruct-q8_0"),
                2048,
                0,
            ),
            (
                "16 GB Apple silicon",
                Chat,
                Some("phi-4-mini-instruct-q8_0"),
                4096,
                33,
            ),
            (
                "2 GB container on a 64 GB host",
                Rephrase,
                Some("lfm2-350m-q8_0"),
                2048,
                0,
            ),
            (
                "2 GB container on a 64 GB host",
                Chat,
                Some("lfm2-1.2b-q4_k_m"),
                4096,
                0,
            ),
            (
                "8 GB laptop, integrated GPU",
                Chat,
                Some("falcon-h1-1.5b-instruct-q8_0"),
                4096,
                0,
            ),
            ("1 GB board", Rephrase, None, 0, 0),
            (
                "64 GB workstation + 24 GB NVIDIA",
                Summarize,
                Some("phi-4-mini-instruct-q8_0"),
                8192,
                33,
            ),
        ];
        let catalog = Catalog::builtin();
        let all = machines();
        let wrong: Vec<String> = expected
            .iter()
            .filter_map(|&(name, task, id, ctx, layers)| {
                let (_, hw, prefs) = all.iter().find(|m| m.0 == name).expect(name);
                let p = plan(hw, &catalog, task, prefs);
                (pick(&p) != (id, ctx, layers))
                    .then(|| format!("{name} / {task}: {:?}: {}", pick(&p), p.reason))
            })
            .collect();
        assert!(wrong.is_empty(), "{wrong:#?}");
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
}
