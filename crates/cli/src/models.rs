//! `pith hardware` and `pith models`: what the machine offers, which model
//! fits it, and the installed models.

use crate::{Failure, OrFail};
use clap::Subcommand;
use pith_core::engine::CancelToken;
use pith_core::flows::machine;
use pith_core::hardware::{self, HardwareProfile};
use pith_core::models::catalog::Catalog;
use pith_core::models::estimate::human_bytes;
use pith_core::models::plan::Plan;
use pith_core::models::{download, store};
use pith_core::tasks::Task;
use pith_core::Error;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum ModelsCommand {
    /// Installed models, with what each file's header says.
    List {
        #[arg(long)]
        json: bool,
    },
    /// The catalog model that fits this machine best, per task, and why.
    Recommend {
        /// rephrase | summarize | chat (default: all three)
        #[arg(long)]
        task: Option<Task>,
        #[arg(long)]
        json: bool,
    },
    /// Models Pith can download.
    Catalog {
        #[arg(long)]
        json: bool,
    },
    /// Download a catalog model by id; an interrupted download resumes.
    /// HF_ENDPOINT replaces https://huggingface.co (for mirrors).
    Pull { id: String },
    /// Copy a .gguf file from anywhere into the models folder.
    ///
    /// With `--adapter FILE --for MODE`: install a LoRA adapter (GGUF) for
    /// the model in use (or `--model`), used for that mode or command.
    Import {
        path: Option<PathBuf>,
        /// A LoRA adapter file instead of a model.
        #[arg(
            long,
            value_name = "FILE",
            requires = "for_mode",
            conflicts_with = "path"
        )]
        adapter: Option<PathBuf>,
        /// The mode or command the adapter is for (`proofread`, `to-french`).
        #[arg(long = "for", value_name = "MODE")]
        for_mode: Option<String>,
        /// The model the adapter is for (default: the model in use).
        #[arg(long, value_name = "PATH")]
        model: Option<PathBuf>,
    },
    /// Remove an installed model (id, file name or catalog id).
    Rm { id: String },
}

/// The probe, llama.cpp's GPUs and the measured bandwidth.
pub fn full_profile() -> HardwareProfile {
    let dir = store::install_dir().ok();
    pith_llama::machine_profile(dir.as_deref())
}

pub fn hardware(json: bool) -> Result<(), Failure> {
    let hw = full_profile();
    if json {
        println!("{}", serde_json::to_string_pretty(&hw).unwrap_or_default());
        return Ok(());
    }
    let gb = |b: Option<u64>| b.map_or("unknown".to_string(), human_bytes);
    println!("OS:        {} ({})", hw.os, hw.arch);
    println!(
        "CPU:       {} — {} physical cores, {} logical",
        hw.cpu.model.as_deref().unwrap_or("unknown model"),
        hw.cpu
            .physical_cores
            .map_or("unknown".into(), |c| c.to_string()),
        hw.cpu.logical_cores
    );
    println!("SIMD:      {}", hw.cpu.features.join(" "));
    println!(
        "Memory:    {} total, {} available",
        gb(hw.memory.total_bytes),
        gb(hw.memory.available_bytes)
    );
    if let Some(limit) = hw.memory.cgroup_limit_bytes {
        println!(
            "Container: limited to {} ({} used)",
            human_bytes(limit),
            gb(hw.memory.cgroup_usage_bytes)
        );
    }
    if let Some(b) = hw.memory_bandwidth_gbs {
        println!("Bandwidth: {b} GB/s (measured, memory read)");
    }
    if hw.gpus.is_empty() {
        println!("GPU:       none found");
    }
    for g in &hw.gpus {
        let memory = if g.unified_memory {
            "shares system RAM".to_string()
        } else {
            format!(
                "{} VRAM, {} free",
                gb(g.total_vram_bytes),
                gb(g.free_vram_bytes)
            )
        };
        println!("GPU:       {} — {memory} (from {})", g.name, g.source);
    }
    if let Some(d) = &hw.disk {
        println!(
            "Disk:      {} free in {}",
            gb(d.free_bytes),
            d.path.display()
        );
    }
    Ok(())
}

fn print_plan(p: &Plan) {
    match &p.choice {
        Some(c) => println!("{}: {} ({})", p.task, c.id, c.file),
        None => println!("{}: nothing fits", p.task),
    }
    println!("  why: {}", p.reason);
    for n in &p.notes {
        println!("  note: {n}");
    }
    if !p.rejected.is_empty() {
        println!("  not chosen:");
        for r in &p.rejected {
            println!("    - {}", r.reason);
        }
    }
}

pub fn run(command: ModelsCommand) -> Result<(), Failure> {
    match command {
        ModelsCommand::List { json } => {
            let installed = store::list_installed(&pith_core::models::search_dirs());
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&installed).unwrap_or_default()
                );
                return Ok(());
            }
            if installed.is_empty() {
                println!("no models installed (pith models recommend; pith models pull ID)");
            }
            for m in installed {
                let from = m
                    .found_in
                    .as_deref()
                    .map(|t| format!("  (kept by {t}, used read-only)"))
                    .unwrap_or_default();
                match (&m.summary, &m.problem) {
                    (Some(s), _) => println!(
                        "{:<40} {:>9}  {} ctx {}{}  {}{from}",
                        m.id,
                        human_bytes(m.size_bytes),
                        s.architecture.as_deref().unwrap_or("?"),
                        s.context_length.unwrap_or(0),
                        if s.has_chat_template {
                            ", chat"
                        } else {
                            ", base"
                        },
                        m.path.display()
                    ),
                    (None, problem) => println!(
                        "{:<40} {:>9}  UNUSABLE: {}  {}{from}",
                        m.id,
                        human_bytes(m.size_bytes),
                        problem.as_deref().unwrap_or("?"),
                        m.path.display()
                    ),
                }
                if !m.adapters.is_empty() {
                    println!("{:<40} adapters for {}", "", m.adapters.join(", "));
                }
            }
            Ok(())
        }
        ModelsCommand::Catalog { json } => {
            let catalog = Catalog::builtin();
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&catalog.models).unwrap_or_default()
                );
                return Ok(());
            }
            for m in &catalog.models {
                println!(
                    "{:<36} {:>8}  {:>5} params  ctx {:>6}  {}",
                    m.id,
                    human_bytes(m.size_bytes),
                    m.size_label(),
                    m.context_length,
                    m.license
                );
            }
            Ok(())
        }
        ModelsCommand::Recommend { task, json } => {
            let hw = full_profile();
            let prefs = pith_llama::preferences();
            let catalog = Catalog::builtin();
            let tasks = task.map_or(machine::TASKS.to_vec(), |t| vec![t]);
            let plans = machine::plans(&hw, &catalog, &tasks, &prefs);
            if json {
                let value = if plans.len() == 1 {
                    serde_json::to_value(&plans[0])
                } else {
                    serde_json::to_value(&plans)
                };
                println!(
                    "{}",
                    serde_json::to_string_pretty(&value.unwrap_or_default()).unwrap_or_default()
                );
            } else {
                let b = &plans[0].budget;
                println!(
                    "memory for models: {} of {} usable (a safety margin stays free); bandwidth {} GB/s ({})\n",
                    human_bytes(b.ram_budget_bytes),
                    human_bytes(b.ram_usable_bytes),
                    b.bandwidth_gbs,
                    b.bandwidth_source
                );
                for p in &plans {
                    print_plan(p);
                    println!();
                }
            }
            Ok(())
        }
        ModelsCommand::Pull { id } => pull(&id),
        ModelsCommand::Import {
            path,
            adapter,
            for_mode,
            model,
        } => {
            let dir = store::install_dir().or_fail(false)?;
            let dest = match (path, adapter, for_mode) {
                (_, Some(file), Some(mode)) => {
                    let model =
                        pith_core::models::resolve_model(model.as_deref()).or_fail(false)?;
                    pith_core::models::adapters::import(&file, &mode, &model, &dir)
                        .or_fail(false)?
                }
                (Some(path), None, _) => store::import(&path, &dir).or_fail(false)?,
                _ => {
                    return Err(Error::InvalidInput(
                        "give a model file, or --adapter FILE --for MODE".into(),
                    ))
                    .or_fail(false)
                }
            };
            println!("{}", dest.display());
            Ok(())
        }
        ModelsCommand::Rm { id } => {
            let removed = store::remove(&id, &pith_core::models::search_dirs()).or_fail(false)?;
            println!("removed {}", removed.display());
            Ok(())
        }
    }
}

fn pull(id: &str) -> Result<(), Failure> {
    let catalog = Catalog::builtin();
    let Some(entry) = catalog.get(id) else {
        return Err(Error::NotFound(format!(
            "catalog model {id:?} (see `pith models catalog`)"
        )))
        .or_fail(false);
    };
    let dir = store::install_dir().or_fail(false)?;
    let request = download::catalog_request(entry, &dir).or_fail(false)?;
    let cancel = CancelToken::new();
    let on_ctrl_c = cancel.clone();
    let _ = ctrlc::set_handler(move || on_ctrl_c.cancel());
    let tty = std::io::stderr().is_terminal();
    let mut last_percent = u64::MAX;
    eprintln!("pith: downloading {} to {}", entry.file, dir.display());
    let result = download::download(&request, &cancel, &hardware::free_disk_bytes, &mut |p| {
        if p.resumed_from > 0 && p.downloaded == p.resumed_from {
            eprintln!("pith: resuming after {}", human_bytes(p.resumed_from));
        }
        let Some(total) = p.total.filter(|&t| t > 0) else {
            return;
        };
        let percent = p.downloaded * 100 / total;
        if percent != last_percent && (tty || percent % 10 == 0) {
            last_percent = percent;
            let filled = (percent / 4) as usize;
            let line = format!(
                "[{}{}] {percent:>3}%  {} of {}",
                "#".repeat(filled),
                "-".repeat(25 - filled),
                human_bytes(p.downloaded),
                human_bytes(total)
            );
            if tty {
                eprint!("\r{line}");
            } else {
                eprintln!("{line}");
            }
            let _ = std::io::stderr().flush();
        }
    });
    if tty {
        eprintln!();
    }
    match result {
        Ok(path) => {
            println!("{}", path.display());
            Ok(())
        }
        Err(Error::Cancelled) => {
            eprintln!("pith: cancelled; the partial file is kept, run the same command to resume");
            Err(Error::Cancelled).or_fail(false)
        }
        Err(e) => Err(e).or_fail(false),
    }
}
