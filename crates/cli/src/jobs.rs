//! One-shot jobs: rephrase (summarize is in `summarize.rs`).

use crate::{Failure, ModelArgs, OrFail};
use pith_core::engine::{Priority, Worker};
use pith_core::models::plan::Task;
use pith_core::routing::Request;
use pith_core::settings::UserSettings;
use pith_core::tasks::{self, rephrase::RephraseMode};
use pith_core::{Error, ErrorCode, Result};
use pith_llama::{LlamaEngine, LoadOptions};
use std::io::{IsTerminal, Read};

/// Starts the inference worker with the chosen model; Ctrl-C cancels the
/// running job.
pub fn start(args: &ModelArgs) -> Result<(Worker<LlamaEngine>, std::path::PathBuf)> {
    let path = pith_core::models::resolve_model(args.model.as_deref())?;
    let options = LoadOptions {
        threads: args.threads,
        force: args.force,
        states: pith_core::engine::state::StateStore::in_data_dir(),
        ..LoadOptions::default()
    };
    let load_path = path.clone();
    let worker = Worker::spawn(move || LlamaEngine::load(&load_path, &options))?;
    Ok((worker, path))
}

pub fn read_stdin() -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io("could not read standard input", e))?;
    Ok(bytes)
}

/// Text from the argument, or standard input for `-` / no argument.
fn input_text(text: Option<String>) -> Result<String> {
    match text.as_deref() {
        Some("-") | None => {
            if text.is_none() && std::io::stdin().is_terminal() {
                return Err(Error::EmptyInput);
            }
            tasks::validate_bytes(&read_stdin()?)
        }
        Some(t) => tasks::validate_text(t),
    }
}

pub fn cancel_on_ctrl_c(token: pith_core::engine::CancelToken) {
    // A second handler cannot be installed; the first job's token is kept.
    let _ = ctrlc::set_handler(move || token.cancel());
}

/// Rewrites `text` with the model the router picks (the larger one with
/// `--larger`). When the small model's rewrite fails the check, a larger
/// installed model takes over if the settings allow it (`auto_escalate`),
/// and is offered otherwise.
pub fn rephrase(
    args: &ModelArgs,
    mode: Option<RephraseMode>,
    text: Option<String>,
    from_clipboard: bool,
    json: bool,
    verbose: bool,
    larger: bool,
) -> Result<(), Failure> {
    let settings = UserSettings::load_default().or_fail(json)?;
    let text = if from_clipboard {
        crate::clipboard::read().and_then(|t| tasks::validate_text(&t))
    } else {
        input_text(text)
    }
    .or_fail(json)?;
    let mode = mode.unwrap_or(if from_clipboard {
        settings.app.rephrase_mode
    } else {
        RephraseMode::Proofread
    });
    let mut request = Request::new(Task::Rephrase, &text);
    request.larger = larger;
    let (path, mut route) = crate::serve::choose(args, &request, &settings).or_fail(json)?;
    let (mut result, mut model) = rephrase_with(args, &path, mode, &text, verbose).or_fail(json)?;
    let failed_check = matches!(&result, Err(e) if e.code() == ErrorCode::ResultRejected);
    if failed_check && args.model.is_none() && !larger {
        request.small_failed_check = true;
        if let Ok((bigger, escalation)) = crate::serve::choose(args, &request, &settings) {
            if bigger != path {
                eprintln!("pith: {}", escalation.reason);
                (result, model) =
                    rephrase_with(args, &bigger, mode, &text, verbose).or_fail(json)?;
                route = escalation;
            } else if let Some(offer) = &escalation.larger_available {
                eprintln!(
                    "pith: {}. Retry it with: pith rephrase --larger (answers with {})",
                    escalation.reason,
                    offer.label()
                );
            }
        }
    }
    let r = result.or_fail(json)?;
    if from_clipboard {
        crate::clipboard::write(&r.text).or_fail(json)?;
        let recorded = crate::history::open_store()
            .and_then(|mut h| h.record_rewrite(&text, &r.text, r.mode.name(), true, Some(&model)));
        if let Err(e) = recorded {
            eprintln!("pith: the rewrite was not saved in the history: {e}");
        }
    }
    if json {
        let value = serde_json::json!({
            "text": r.text,
            "mode": r.mode,
            "unchanged": r.unchanged,
            "attempts": r.attempts,
            "model": model,
            "route": route.reason,
            "prompt_tokens": r.generation.prompt_tokens,
            "generated_tokens": r.generation.generated_tokens,
            "ttft_s": r.generation.ttft_s,
            "total_s": r.generation.total_s,
        });
        println!("{value}");
    } else {
        println!("{}", r.text);
        if r.unchanged {
            eprintln!("pith: no changes needed");
        }
    }
    Ok(())
}

type Rephrased = (Result<tasks::rephrase::Rephrased>, String);

fn rephrase_with(
    args: &ModelArgs,
    path: &std::path::Path,
    mode: RephraseMode,
    text: &str,
    verbose: bool,
) -> Result<Rephrased> {
    let with_model = ModelArgs {
        model: Some(path.to_path_buf()),
        ..args.clone()
    };
    let (worker, _) = start(&with_model)?;
    let text = text.to_string();
    let ticket = worker.submit(
        Priority::Interactive,
        move |engine: &mut LlamaEngine, cancel| {
            let mut shown = 0;
            let result =
                tasks::rephrase::rephrase(engine, &text, mode, cancel, &mut |attempt, piece| {
                    if verbose {
                        if attempt != shown {
                            eprint!("\n[attempt {attempt}] ");
                            shown = attempt;
                        }
                        eprint!("{piece}");
                    }
                });
            if verbose {
                eprintln!();
            }
            (result, pith_core::engine::Engine::info(engine).name.clone())
        },
    );
    cancel_on_ctrl_c(ticket.cancel_token());
    ticket.wait()
}
