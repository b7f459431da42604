//! One-shot jobs: rephrase (summarize is in `summarize.rs`).

use crate::{Failure, ModelArgs, OrFail};
use pith_core::engine::{Priority, Worker};
use pith_core::flows::rephrase::{rephrase_routed, RephraseRequest, Start};
use pith_core::flows::session::Record;
use pith_core::settings::UserSettings;
use pith_core::tasks::{self, rephrase::RephraseMode};
use pith_core::{Error, Result};
use pith_llama::{LlamaEngine, LoadOptions, ModelPool};
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

/// Standard input, holding at most `limit` bytes in memory: past it, the
/// rest is only counted. Returns the bytes kept and the whole length, so
/// the caller refuses an oversized input by its real size.
pub fn read_stdin(limit: usize) -> Result<(Vec<u8>, u64)> {
    let err = |e| Error::io("could not read standard input", e);
    let mut stdin = std::io::stdin().lock();
    let mut bytes = Vec::new();
    (&mut stdin)
        .take(limit as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(err)?;
    let mut total = bytes.len() as u64;
    if bytes.len() > limit {
        total += std::io::copy(&mut stdin, &mut std::io::sink()).map_err(err)?;
    }
    Ok((bytes, total))
}

/// A document to read: the file named, or standard input for `-` or no
/// name, refused by its whole size when over the documents' limit.
pub fn document_source(
    file: Option<&std::path::Path>,
    limits: &pith_core::documents::Limits,
) -> Result<pith_core::flows::summary::Source> {
    use pith_core::flows::summary::Source;
    match file {
        Some(p) if p != std::path::Path::new("-") => Ok(Source::File(p.to_path_buf())),
        _ => {
            let limit = usize::try_from(limits.max_file_bytes).unwrap_or(usize::MAX);
            let (bytes, total) = read_stdin(limit)?;
            pith_core::documents::check_size(total, limits)?;
            Ok(Source::Bytes {
                bytes,
                name: "standard input".into(),
            })
        }
    }
}

/// Text from the argument, or standard input for `-` / no argument.
fn input_text(text: Option<String>) -> Result<String> {
    match text.as_deref() {
        Some("-") | None => {
            if text.is_none() && std::io::stdin().is_terminal() {
                return Err(Error::EmptyInput);
            }
            let (bytes, total) = read_stdin(tasks::MAX_TEXT_BYTES)?;
            if total > tasks::MAX_TEXT_BYTES as u64 {
                return Err(Error::TextTooLong {
                    bytes: usize::try_from(total).unwrap_or(usize::MAX),
                    max_bytes: tasks::MAX_TEXT_BYTES,
                });
            }
            tasks::validate_bytes(&bytes)
        }
        Some(t) => tasks::validate_text(t),
    }
}

/// `--verbose`: each attempt's raw output on standard error, under a
/// header when a new attempt starts.
pub struct AttemptLog {
    verbose: bool,
    shown: Option<usize>,
}

impl AttemptLog {
    pub fn new(verbose: bool) -> Self {
        Self {
            verbose,
            shown: None,
        }
    }

    /// A piece of attempt `number` (counted from 1).
    pub fn piece(&mut self, number: usize, piece: &str) {
        if !self.verbose {
            return;
        }
        if self.shown != Some(number) {
            eprint!("\n[attempt {number}] ");
            self.shown = Some(number);
        }
        eprint!("{piece}");
    }

    pub fn end(&self) {
        if self.verbose {
            eprintln!();
        }
    }
}

pub fn cancel_on_ctrl_c(token: pith_core::engine::CancelToken) {
    // A second handler cannot be installed; the first job's token is kept.
    let _ = ctrlc::set_handler(move || token.cancel());
}

/// Rewrites `text` through the core's routed rephrase: the router's model
/// (or `--model`, never moved), escalated to the larger installed model
/// when the settings say so, and offered otherwise.
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
    let pool = crate::serve::pool(args).or_fail(json)?;
    let candidates = pool.candidates();
    let start = match pool.models().first() {
        Some(m) if args.model.is_some() => Start::Only(m.id.clone()),
        _ => Start::Routed,
    };
    let routing = settings.routing();
    let history = crate::history::open_store().ok();
    let examples = pith_core::flows::rephrase::examples_for(
        history.as_ref(),
        settings.app.learn_from_accepted,
        mode.name(),
        &text,
    );
    drop(history);
    let worker = Worker::spawn(move || Ok(pool)).or_fail(json)?;
    let job_text = text.clone();
    let ticket = worker.submit(
        Priority::Interactive,
        move |pool: &mut ModelPool, cancel| {
            let mut log = AttemptLog::new(verbose);
            let request = RephraseRequest {
                larger,
                examples: &examples,
                ..RephraseRequest::new(&job_text, mode)
            };
            let routed = rephrase_routed(
                pool,
                &|| candidates.clone(),
                &routing,
                &start,
                &request,
                cancel,
                &mut |attempt, piece| log.piece(attempt, piece),
            );
            log.end();
            routed
        },
    );
    cancel_on_ctrl_c(ticket.cancel_token());
    let routed = ticket.wait().or_fail(json)?.or_fail(json)?;
    if routed.escalated {
        eprintln!("pith: {}", routed.route.reason);
    } else if let Some(offer) = routed.offer() {
        eprintln!(
            "pith: {}. Retry it with: pith rephrase --larger (answers with {})",
            routed.route.reason,
            offer.label()
        );
    }
    let model = routed.model;
    let route = routed.route.reason;
    let r = routed.result.or_fail(json)?;
    if from_clipboard {
        crate::clipboard::write(&r.text).or_fail(json)?;
        let record = Record {
            original: text.clone(),
            result: r.text.clone(),
            mode: r.mode,
            accepted: true,
            edited: false,
            model: model.clone(),
            command: None,
        };
        let recorded = crate::history::open_store().and_then(|mut h| record.save(&mut h));
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
            "route": route,
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
