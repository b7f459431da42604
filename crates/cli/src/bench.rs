//! `pith bench`: one JSON object of speed and memory figures, measured
//! through the real engine path.

mod agent;
mod commands;
mod document;
mod structured;
mod tune;

use crate::{Failure, ModelArgs, OrFail};
use pith_core::engine::{CancelToken, Engine};
use pith_core::models::estimate::{self, Calibration, Preferences};
use pith_core::models::synthetic::SHAPES;
use pith_core::tasks::rephrase::{rephrase, RephraseMode};
use pith_core::tasks::Task;
use pith_llama::{LlamaEngine, LoadOptions};
use std::time::Instant;

/// A 40-word text with errors, proofread (the hotkey's default mode) for the
/// rephrase first-token figure.
const REPHRASE_TEXT: &str =
    "i wanted to let you know that the delivery of the new office chairs has been \
    moved to next tuesday because the supplier had problems with there trucks, so please keep the \
    meeting room free that morning for the unpacking.";

/// Peak resident memory of this process, from /proc/self/status (VmHWM).
fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some((kb / 1024.0 * 10.0).round() / 10.0)
}

/// Nine turns of a trip-planning conversation and a tenth question: about
/// 1,400 tokens.
fn chat_messages() -> Vec<pith_core::engine::ChatMessage> {
    use pith_core::engine::ChatMessage;
    let topics = [
        "the river walk",
        "the old market",
        "the train times",
        "the museum tickets",
        "the weather",
        "the hotel breakfast",
        "the bike rental",
        "the harbour boats",
        "the evening concert",
    ];
    let mut history = Vec::new();
    for (i, t) in topics.iter().enumerate() {
        history.push(ChatMessage::user(format!(
            "Day {}: tell me what to expect from {t}, how long it takes, what it costs, and whether              it is better in the morning or the afternoon for a family with two children who like              to walk but get tired after lunch.",
            i + 1
        )));
        history.push(ChatMessage::assistant(format!(
            "For {t}, plan about two hours and bring water. Prices are moderate and children often              pay half. Mornings are quieter and cooler, so start early, take a break before lunch,              and keep the afternoon for something calm near the hotel. Check opening times the day              before, because they change with the season and on public holidays. Bring a light \
             jacket, since the wind near the water turns cold in the evening."
        )));
    }
    history.push(ChatMessage::user(
        "Which of these should we do on the last day?",
    ));
    history
}

fn chat_prompt() -> pith_core::engine::Prompt {
    pith_core::engine::Prompt::Chat(chat_messages())
}

/// The 10th turn of a conversation with ~1,500 tokens of history: time to
/// first token with the history still in the KV cache, and after clearing it.
fn chat_ttft(engine: &mut LlamaEngine) -> pith_core::Result<serde_json::Value> {
    use pith_core::engine::{GenerateRequest, Prompt};
    let full = chat_messages();
    let nine_turns_prompt = Prompt::Chat(full[..full.len() - 2].to_vec());
    let request = GenerateRequest::new(Prompt::Chat(full), 16);
    let cancel = CancelToken::new();

    // As in a real session: turn nine's prompt is already evaluated.
    engine.clear_cache();
    engine.generate(
        &GenerateRequest::new(nine_turns_prompt, 1),
        &cancel,
        &mut |_| {},
    )?;
    let reuse = engine.generate(&request, &cancel, &mut |_| {})?;
    engine.clear_cache();
    let fresh = engine.generate(&request, &cancel, &mut |_| {})?;
    Ok(serde_json::json!({
        "chat_history_tokens": fresh.prompt_tokens,
        "chat_ttft_reuse_s": round3(reuse.ttft_s),
        "chat_ttft_full_s": round3(fresh.ttft_s),
        "chat_evaluated_reuse": reuse.evaluated_prompt_tokens,
        "chat_evaluated_full": fresh.evaluated_prompt_tokens,
    }))
}

/// About 120 words with the slips people make, for the proofreading speed.
const PROOFREAD_TEXT: &str = "hi everyone, i wanted to give you a short update on the move to the new \
    office. the movers will arrive on monday morning at eight, so please pack you're desk the friday \
    before and label every box with your name and the floor number. the it team will disconect the \
    computers on friday afternoon and set them up again on monday, so dont take them home. the kitchen \
    on the third floor will be closed for a week while they install the new coffee machines, but their \
    will be tea and water in the meeting room. if you have any questions about parking or the new \
    badges, send them to maria untill wednesday and she will collect the answers for everyone.";

/// Generated tokens per second proofreading [`PROOFREAD_TEXT`], with and
/// without prompt lookup (same greedy output), and whether the outputs match.
fn proofread_speed(engine: &mut LlamaEngine) -> pith_core::Result<serde_json::Value> {
    use pith_core::tasks::rephrase::{build_request, Strategy};
    let n = engine.count_tokens(PROOFREAD_TEXT)?;
    let with = build_request(
        PROOFREAD_TEXT,
        RephraseMode::Proofread,
        Strategy::Completion,
        n * 2 + 48,
    );
    let plain = with.clone().with_lookup(false);
    let cancel = CancelToken::new();
    let mut tps = |req: &pith_core::engine::GenerateRequest| -> pith_core::Result<(f64, String, usize, usize)> {
        let mut best: Option<(f64, String, usize, usize)> = None;
        for _ in 0..3 {
            // The prompt stays cached: only generation is timed.
            engine.generate(&pith_core::engine::GenerateRequest::new(req.prompt.clone(), 1), &cancel, &mut |_| {})?;
            let g = engine.generate(req, &cancel, &mut |_| {})?;
            let secs = (g.total_s - g.ttft_s).max(1e-9);
            let rate = g.generated_tokens.saturating_sub(1) as f64 / secs;
            if best.as_ref().is_none_or(|b| rate > b.0) {
                best = Some((rate, g.text, g.draft_tokens, g.draft_accepted));
            }
        }
        Ok(best.unwrap_or_default())
    };
    let (plain_tps, plain_text, _, _) = tps(&plain)?;
    let (lookup_tps, lookup_text, drafted, accepted) = tps(&with)?;
    // The same with every draft verified, paying or not.
    let learned = engine.draft_policy().clone();
    engine.set_draft_policy(pith_core::engine::lookup::DraftPolicy::fixed(
        pith_core::engine::lookup::MAX_DRAFT,
    ));
    let forced = engine.generate(&with, &cancel, &mut |_| {})?;
    engine.set_draft_policy(learned);
    let forced_tps = forced.generated_tokens.saturating_sub(1) as f64
        / (forced.total_s - forced.ttft_s).max(1e-9);
    // Why drafting pays or not here: what verifying a batch costs against
    // one decode, and up to which batch the output stays exactly the same.
    let one = engine.bench_verify(1, 100, 20)?;
    let cost = |engine: &mut LlamaEngine, n| -> pith_core::Result<f64> {
        Ok((engine.bench_verify(n, 100, 20)? / one * 100.0).round() / 100.0)
    };
    let verify_cost = serde_json::json!({
        "2": cost(engine, 2)?,
        "5": cost(engine, 5)?,
        "9": cost(engine, 9)?,
    });
    let max = pith_core::engine::lookup::MAX_DRAFT + 1;
    let exact = serde_json::json!({
        "100": engine.exact_batch(100, max)?,
        "300": engine.exact_batch(300, max)?,
    });
    Ok(serde_json::json!({
        "proofread_tps_plain": (plain_tps * 10.0).round() / 10.0,
        "proofread_tps_lookup": (lookup_tps * 10.0).round() / 10.0,
        "proofread_lookup_speedup": ((lookup_tps / plain_tps) * 100.0).round() / 100.0,
        "proofread_lookup_same_output": plain_text == lookup_text,
        "proofread_draft_accepted": format!("{accepted}/{drafted}"),
        "proofread_tps_lookup_every_draft": (forced_tps * 10.0).round() / 10.0,
        "proofread_every_draft_accepted": format!("{}/{}", forced.draft_accepted, forced.draft_tokens),
        "lookup_verify_cost": verify_cost,
        "lookup_exact_batch": exact,
    }))
}

/// About 40 words, as copied before pressing the hotkey.
const HOTKEY_TEXT: &str =
    "hey, just wanted to let you know that the meeting got moved to thursday \
    afternoon because half the team is out on wednesday, so could you update the slides and send \
    them round before then if you get a chance, thanks a lot";

/// The hotkey in the default mode (rewrite): first token and whole result
/// with the mode's instructions already evaluated, as the app keeps them,
/// from a cold cache, and with the copied text prepared before the key
/// press (with the CPU time preparing took). Best of three each.
fn hotkey_speed(engine: &mut LlamaEngine) -> pith_core::Result<serde_json::Value> {
    use pith_core::engine::{GenerateRequest, Prompt};
    use pith_core::tasks::rephrase::{build_request, completion_prefix, Strategy};
    let mode = RephraseMode::Rewrite;
    let n = engine.count_tokens(HOTKEY_TEXT)?;
    let request = build_request(HOTKEY_TEXT, mode, Strategy::Completion, n * 2 + 48);
    let warm = GenerateRequest::new(Prompt::Raw(completion_prefix(mode)), 1);
    let cancel = CancelToken::new();
    let best = |a: Option<pith_core::engine::Generation>, b: pith_core::engine::Generation| match a
    {
        Some(a) if a.ttft_s <= b.ttft_s => Some(a),
        _ => Some(b),
    };
    let (mut cached, mut cold, mut prepared) = (None, None, None);
    let mut prepare_cpu = Vec::new();
    for _ in 0..3 {
        engine.clear_cache();
        engine.generate(&warm, &cancel, &mut |_| {})?;
        cached = best(cached, engine.generate(&request, &cancel, &mut |_| {})?);
        engine.clear_cache();
        cold = best(cold, engine.generate(&request, &cancel, &mut |_| {})?);
        // The copy came a moment before the key press: the text was
        // evaluated after the cached instructions, as the app does.
        engine.clear_cache();
        engine.generate(&warm, &cancel, &mut |_| {})?;
        let cpu = process_cpu_s();
        engine.prepare(&request, &cancel)?;
        if let (Some(before), Some(after)) = (cpu, process_cpu_s()) {
            prepare_cpu.push(after - before);
        }
        prepared = best(prepared, engine.generate(&request, &cancel, &mut |_| {})?);
    }
    let (Some(cached), Some(cold), Some(prepared)) = (cached, cold, prepared) else {
        return Ok(serde_json::json!({}));
    };
    let prepare_cpu_s = (!prepare_cpu.is_empty())
        .then(|| round3(prepare_cpu.iter().sum::<f64>() / prepare_cpu.len() as f64));
    Ok(serde_json::json!({
        "hotkey_words": HOTKEY_TEXT.split_whitespace().count(),
        "hotkey_ttft_cached_s": round3(cached.ttft_s),
        "hotkey_ttft_uncached_s": round3(cold.ttft_s),
        "hotkey_total_cached_s": round3(cached.total_s),
        "hotkey_total_uncached_s": round3(cold.total_s),
        "hotkey_ttft_speedup": ((cold.ttft_s / cached.ttft_s.max(1e-9)) * 10.0).round() / 10.0,
        "hotkey_evaluated_cached": cached.evaluated_prompt_tokens,
        "hotkey_evaluated_uncached": cold.evaluated_prompt_tokens,
        "hotkey_same_output": cached.text == cold.text,
        "hotkey_ttft_prepared_s": round3(prepared.ttft_s),
        "hotkey_evaluated_prepared": prepared.evaluated_prompt_tokens,
        "hotkey_prepared_same_output": prepared.text == cached.text,
        "prepare_cpu_s": prepare_cpu_s,
    }))
}

/// CPU time this process has used, all threads (from /proc/self/stat, in
/// the kernel's 10 ms ticks).
fn process_cpu_s() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The fields after the command name, which may hold spaces.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// Bringing back a ~1,500-token conversation: from its state file against
/// evaluating it again. Best of three each.
fn restore_speed(
    engine: &mut LlamaEngine,
    prompt: &pith_core::engine::Prompt,
) -> pith_core::Result<serde_json::Value> {
    let dir = tempfile::tempdir().map_err(|e| pith_core::Error::io("temporary folder", e))?;
    let path = dir.path().join("conversation.kv");
    let (mut reeval, mut restore) = (f64::MAX, f64::MAX);
    let mut restored = 0;
    let mut tokens = 0;
    for _ in 0..3 {
        engine.clear_cache();
        let t = Instant::now();
        tokens = engine.prefill(prompt)?;
        reeval = reeval.min(t.elapsed().as_secs_f64());
        engine.save_state_file(&path)?;
        engine.clear_cache();
        let t = Instant::now();
        restored = engine.restore_state_file(&path, prompt)?;
        restore = restore.min(t.elapsed().as_secs_f64());
    }
    let state_mb = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0) as f64 / 1e6;
    Ok(serde_json::json!({
        "restore_tokens": tokens,
        "restored_tokens": restored,
        "state_file_mb": (state_mb * 10.0).round() / 10.0,
        "reeval_ms": (reeval * 1000.0).round(),
        "restore_ms": (restore * 10000.0).round() / 10.0,
        "restore_speedup": (reeval / restore).round(),
    }))
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

pub fn run(args: &ModelArgs, use_mmap: bool, raw: bool) -> Result<(), Failure> {
    let path = pith_core::models::resolve_model(args.model.as_deref()).or_fail(true)?;
    let options = LoadOptions {
        threads: args.threads,
        force: args.force,
        use_mmap,
        ..LoadOptions::default()
    };
    eprintln!("pith bench: {}", path.display());
    let t = Instant::now();
    let mut engine = LlamaEngine::load(&path, &options).or_fail(true)?;
    let load_s = t.elapsed().as_secs_f64();

    eprintln!("pith bench: prompt (512 tokens) ...");
    let prompt_tps = engine.bench_prompt(512, 3).or_fail(true)?;
    eprintln!("pith bench: generation (128 tokens) ...");
    let gen_tps = engine.bench_generation(128, 3).or_fail(true)?;
    if raw {
        let value = serde_json::json!({
            "load_s": round3(load_s),
            "prompt_tps": (prompt_tps * 10.0).round() / 10.0,
            "gen_tps": (gen_tps * 10.0).round() / 10.0,
            "peak_rss_mb": peak_rss_mb(),
            "context": engine.info().context,
        });
        println!("{value}");
        return Ok(());
    }
    let info = engine.info();
    estimate::save_calibration(&Calibration {
        model_bytes: info.size_bytes,
        layers: info.layers,
        gen_tps,
    });

    eprintln!("pith bench: rephrase first token ...");
    let mut first_piece: Option<f64> = None;
    let started = Instant::now();
    let rephrased = rephrase(
        &mut engine,
        REPHRASE_TEXT,
        RephraseMode::Proofread,
        &CancelToken::new(),
        &mut |_, _| {
            first_piece.get_or_insert_with(|| started.elapsed().as_secs_f64());
        },
    );
    let rephrase_ttft_s = first_piece.map(round3);

    eprintln!("pith bench: hotkey rewrite with and without the cached instructions ...");
    let hotkey = hotkey_speed(&mut engine).or_fail(true)?;
    eprintln!("pith bench: chat turn 10 with and without prefix reuse ...");
    let chat = chat_ttft(&mut engine).or_fail(true)?;
    eprintln!("pith bench: proofreading with and without prompt lookup ...");
    let proofread = proofread_speed(&mut engine).or_fail(true)?;
    eprintln!("pith bench: restoring a conversation from its saved state ...");
    let restore = restore_speed(&mut engine, &chat_prompt()).or_fail(true)?;
    eprintln!("pith bench: document map step and a ~10,000-token summary ...");
    let doc = document::figures(&mut engine, prompt_tps).or_fail(true)?;
    eprintln!("pith bench: 20 extractions with and without the grammar ...");
    let json_figures = structured::figures(&mut engine).or_fail(true)?;
    eprintln!("pith bench: a custom command and the three workflows ...");
    let command_figures = commands::figures(&mut engine).or_fail(true)?;
    eprintln!("pith bench: the agent fixtures ...");
    let agent_figures = agent::figures(&mut engine).or_fail(true)?;

    let info = engine.info().clone();
    let mut value = serde_json::json!({
        "model": info.name,
        "model_file": path.file_name().map(|n| n.to_string_lossy().into_owned()),
        "model_size_mb": (info.size_bytes as f64 / 1e6).round(),
        "cpu_target": env!("PITH_CPU_TARGET"),
        "cpu_features": pith_llama::cpu_features(),
        "threads": engine.threads(),
        "mmap": use_mmap,
        "context": info.context,
        "load_s": round3(load_s),
        "prompt_tps": (prompt_tps * 10.0).round() / 10.0,
        "gen_tps": (gen_tps * 10.0).round() / 10.0,
        "rephrase_ttft_s": rephrase_ttft_s,
        "rephrase_ok": rephrased.is_ok(),
        "rephrase_error": rephrased.as_ref().err().map(ToString::to_string),
        "peak_rss_mb": peak_rss_mb(),
    });
    if let Some(all) = value.as_object_mut() {
        for more in [
            &hotkey,
            &chat,
            &proofread,
            &restore,
            &doc,
            &json_figures,
            &command_figures,
            &agent_figures,
        ] {
            if let Some(more) = more.as_object() {
                all.extend(more.clone());
            }
        }
    }
    println!(
        "{}",
        serde_json::to_string_pretty(&value).unwrap_or_default()
    );
    Ok(())
}

/// `pith bench --documents`: prompt speed, then the document figures.
pub fn documents_only(args: &ModelArgs) -> Result<(), Failure> {
    only(args, |engine| {
        let prompt_tps = engine.bench_prompt(512, 3)?;
        let mut value = document::figures(engine, prompt_tps)?;
        value["prompt_tps"] = ((prompt_tps * 10.0).round() / 10.0).into();
        Ok(value)
    })
}

/// `pith bench --tune`: a proofread tuning run and its figures.
pub fn tune_only(args: &ModelArgs) -> Result<(), Failure> {
    let path = pith_core::models::resolve_model(args.model.as_deref()).or_fail(true)?;
    let options = LoadOptions {
        threads: args.threads,
        force: args.force,
        ..LoadOptions::default()
    };
    only(args, |engine| tune::figures(engine, &path, &options))
}

/// `pith bench --agent`: the agent fixtures alone.
pub fn agent_only(args: &ModelArgs) -> Result<(), Failure> {
    only(args, agent::figures)
}

/// Loads the model and prints one group of figures, with the model's name.
fn only(
    args: &ModelArgs,
    figures: impl FnOnce(&mut LlamaEngine) -> pith_core::Result<serde_json::Value>,
) -> Result<(), Failure> {
    let path = pith_core::models::resolve_model(args.model.as_deref()).or_fail(true)?;
    let options = LoadOptions {
        threads: args.threads,
        force: args.force,
        ..LoadOptions::default()
    };
    let mut engine = LlamaEngine::load(&path, &options).or_fail(true)?;
    let mut value = figures(&mut engine).or_fail(true)?;
    value["model"] = engine.info().name.clone().into();
    println!(
        "{}",
        serde_json::to_string_pretty(&value).unwrap_or_default()
    );
    Ok(())
}

/// `pith bench --planner`: for each synthetic shape, the planner's memory and
/// speed estimates against what the real engine measures in a fresh
/// process (peak RSS is per process).
pub fn planner() -> Result<(), Failure> {
    let hw = crate::models::full_profile();
    let exe = std::env::current_exe()
        .map_err(|e| pith_core::Error::io("finding the pith executable", e))
        .or_fail(true)?;
    let dir = tempfile::tempdir()
        .map_err(|e| pith_core::Error::io("creating a temporary folder", e))
        .or_fail(true)?;
    // The command line's own overhead only: no desktop app in this process.
    let prefs = Preferences {
        app_bytes: 0,
        ..Preferences::default()
    };
    eprintln!(
        "pith bench --planner: {} cores, {} GB/s measured bandwidth",
        hw.cores(),
        hw.memory_bandwidth_gbs.unwrap_or(0.0)
    );
    // Synthetic shapes first, then the real catalog files installed here
    // (which the constants were not fitted on).
    let mut jobs: Vec<(
        String,
        std::path::PathBuf,
        pith_core::models::catalog::CatalogModel,
        bool,
    )> = Vec::new();
    for shape in SHAPES {
        let path = dir.path().join(shape.file_name());
        let size = shape
            .write(&path)
            .map_err(|e| pith_core::Error::io("writing a synthetic model", e))
            .or_fail(true)?;
        jobs.push((
            format!("{} shape", shape.name),
            path,
            shape.as_catalog_model(size),
            true,
        ));
    }
    let catalog = pith_core::models::catalog::Catalog::builtin();
    for m in pith_core::models::store::list_installed(&pith_core::models::search_dirs()) {
        if let Some(entry) = m.catalog_id.as_deref().and_then(|id| catalog.get(id)) {
            jobs.push((entry.name.clone(), m.path.clone(), entry.clone(), false));
        }
    }
    let mut rows = Vec::new();
    for (label, path, model, synthetic) in jobs {
        let size = model.size_bytes;
        let needs = Task::Chat.needs();
        let estimate = estimate::estimate(&model, &hw, &prefs, 4096, &needs);
        eprintln!(
            "pith bench --planner: {label} {} ({:.0} MB) ...",
            model.quant,
            size as f64 / 1e6
        );
        let out = std::process::Command::new(&exe)
            .args(["bench", "--raw", "--force", "--model"])
            .arg(&path)
            .stderr(std::process::Stdio::null())
            .output()
            .map_err(|e| pith_core::Error::io("running pith bench", e))
            .or_fail(true)?;
        if synthetic {
            let _ = std::fs::remove_file(&path);
        }
        let measured: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        let mem = measured["peak_rss_mb"].as_f64().unwrap_or(0.0);
        let gen = measured["gen_tps"].as_f64().unwrap_or(0.0);
        let prompt = measured["prompt_tps"].as_f64().unwrap_or(0.0);
        let est_mem = estimate.model_bytes() as f64 / (1 << 20) as f64;
        let pct = |est: f64, real: f64| {
            if real > 0.0 {
                ((est / real - 1.0) * 1000.0).round() / 10.0
            } else {
                f64::NAN
            }
        };
        rows.push(serde_json::json!({
            "model": label,
            "synthetic": synthetic,
            "quant": model.quant,
            "parameters_m": (model.parameters as f64 / 1e6).round(),
            "file_mb": (size as f64 / 1e6).round(),
            "context": measured["context"],
            "est_mem_mb": est_mem.round(),
            "measured_mem_mb": mem,
            "mem_error_pct": pct(est_mem, mem),
            "est_gen_tps": estimate.gen_tps,
            "measured_gen_tps": gen,
            "gen_error_pct": pct(estimate.gen_tps, gen),
            "est_prompt_tps": estimate.prompt_tps,
            "measured_prompt_tps": prompt,
            "prompt_error_pct": pct(estimate.prompt_tps, prompt),
        }));
    }
    let value = serde_json::json!({
        "cpu": hw.cpu.model,
        "cores": hw.cores(),
        "bandwidth_gbs": hw.memory_bandwidth_gbs,
        "rows": rows,
    });
    println!(
        "{}",
        serde_json::to_string_pretty(&value).unwrap_or_default()
    );
    Ok(())
}
