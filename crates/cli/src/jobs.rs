//! One-shot jobs: rephrase and summarize.

use crate::{Failure, ModelArgs, OrFail};
use pith_core::engine::{Priority, Worker};
use pith_core::tasks::{self, rephrase::RephraseMode, summarize::SummaryLength};
use pith_core::{Error, Result};
use pith_llama::{LlamaEngine, LoadOptions};
use std::io::{IsTerminal, Read, Write};
use std::path::Path;

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

fn read_stdin() -> Result<Vec<u8>> {
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

fn cancel_on_ctrl_c(token: pith_core::engine::CancelToken) {
    // A second handler cannot be installed; the first job's token is kept.
    let _ = ctrlc::set_handler(move || token.cancel());
}

pub fn rephrase(
    args: &ModelArgs,
    mode: RephraseMode,
    text: Option<String>,
    json: bool,
    verbose: bool,
) -> Result<(), Failure> {
    let text = input_text(text).or_fail(json)?;
    let (worker, _) = start(args).or_fail(json)?;
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
    let (result, model) = ticket.wait().or_fail(json)?;
    let r = result.or_fail(json)?;
    if json {
        let value = serde_json::json!({
            "text": r.text,
            "mode": r.mode,
            "unchanged": r.unchanged,
            "attempts": r.attempts,
            "model": model,
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

pub fn summarize(
    args: &ModelArgs,
    file: &Path,
    length: SummaryLength,
    json: bool,
) -> Result<(), Failure> {
    let bytes = if file == Path::new("-") {
        read_stdin().or_fail(json)?
    } else {
        std::fs::read(file)
            .map_err(|e| Error::io(format!("could not read {}", file.display()), e))
            .or_fail(json)?
    };
    let text = tasks::document_text(&bytes).or_fail(json)?;
    let (worker, _) = start(args).or_fail(json)?;
    // On a terminal the summary streams as it is written; into a pipe only
    // the checked result is printed, so a refused attempt never reaches it.
    let stream = !json && std::io::stdout().is_terminal();
    let ticket = worker.submit(Priority::Normal, move |engine: &mut LlamaEngine, cancel| {
        let mut stdout = std::io::stdout();
        let mut shown = 1;
        tasks::summarize::summarize(engine, &text, length, cancel, &mut |attempt, piece| {
            if !stream {
                return;
            }
            if attempt != shown {
                // The earlier attempt failed its check: say so and start over.
                shown = attempt;
                let _ = stdout.flush();
                eprintln!("\npith: that was not a usable summary; trying another prompt");
            }
            let _ = stdout.write_all(piece.as_bytes());
            let _ = stdout.flush();
        })
    });
    cancel_on_ctrl_c(ticket.cancel_token());
    let summary = ticket.wait().or_fail(json)?.or_fail(json)?;
    if json {
        let value = serde_json::json!({
            "summary": summary.text,
            "length": summary.length,
            "source_tokens": summary.source_tokens,
            "generated_tokens": summary.generation.generated_tokens,
            "total_s": summary.generation.total_s,
        });
        println!("{value}");
    } else if stream {
        println!();
    } else {
        println!("{}", summary.text);
    }
    Ok(())
}
