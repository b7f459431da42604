//! `pith extract --schema SCHEMA.json [FILE|-]`: a JSON value for the
//! schema from a document, valid by construction and checked against the
//! text. A value that still fails after the larger model tried is not
//! printed as a result: the problems go to standard error and the exit
//! status is 3 (with --json, the value and its problems, `"ok": false`).

use crate::jobs::{cancel_on_ctrl_c, document_source, AttemptLog};
use crate::{Failure, ModelArgs, OrFail};
use pith_core::documents::Limits;
use pith_core::engine::{Priority, Worker};
use pith_core::flows::extract::{extract_routed, order};
use pith_core::flows::summary;
use pith_core::tasks::extract::DEFAULT_MAX_TOKENS;
use pith_core::Error;
use pith_llama::ModelPool;
use std::path::Path;
use std::process::ExitCode;

pub fn run(
    args: &ModelArgs,
    schema_path: &Path,
    file: Option<&Path>,
    max_tokens: Option<usize>,
    json: bool,
    verbose: bool,
) -> Result<ExitCode, Failure> {
    let schema = read_schema(schema_path).or_fail(json)?;
    pith_core::structured::schema::check(&schema).or_fail(json)?;
    let limits = Limits::default();
    let source = document_source(file, &limits).or_fail(json)?;
    let text = summary::read(source, &limits).or_fail(json)?.doc.text;
    let pool = crate::serve::pool(args).or_fail(json)?;
    let pinned = match pool.models().first() {
        Some(m) if args.model.is_some() => Some(m.id.clone()),
        _ => None,
    };
    let order = order(&pool.candidates(), pinned.as_deref());
    let worker = Worker::spawn(move || Ok(pool)).or_fail(json)?;
    let max_tokens = max_tokens.unwrap_or(DEFAULT_MAX_TOKENS);
    let ticket = worker.submit(Priority::Normal, move |pool: &mut ModelPool, cancel| {
        let mut log = AttemptLog::new(verbose);
        let got = extract_routed(
            pool,
            &order,
            &schema,
            &text,
            max_tokens,
            cancel,
            &mut |attempt, piece| log.piece(attempt, piece),
        );
        log.end();
        got
    });
    cancel_on_ctrl_c(ticket.cancel_token());
    let got = ticket.wait().or_fail(json)?.or_fail(json)?;
    if got.escalated {
        eprintln!(
            "pith: the smaller model's values failed the checks; {} wrote this one",
            got.model
        );
    }
    if json {
        let value = serde_json::json!({
            "ok": got.ok(),
            "value": got.value,
            "problems": got.problems,
            "model": got.model,
            "attempts": got.attempts,
            "escalated": got.escalated,
        });
        println!("{value}");
    } else if got.ok() {
        let pretty = serde_json::to_string_pretty(&got.value).unwrap_or_default();
        println!("{pretty}");
    }
    if got.ok() {
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!(
        "pith: the extracted value failed Pith's check after {} attempts (last by {}), so it is \
         not given as a result:",
        got.attempts, got.model
    );
    for p in &got.problems {
        eprintln!("  {p}");
    }
    if !json {
        eprintln!("  the value: {}", got.value);
        eprintln!(
            "Mark fields the model should work out rather than copy with \"x-derived\": true, \
             or try a larger model (pith models list)."
        );
    }
    Ok(ExitCode::from(3))
}

/// The schema file, parsed, with where it is wrong when it is not JSON.
fn read_schema(path: &Path) -> pith_core::Result<serde_json::Value> {
    const MAX_SCHEMA_BYTES: u64 = 1 << 20;
    let size = std::fs::metadata(path)
        .map_err(|e| Error::io(format!("could not read the schema {}", path.display()), e))?
        .len();
    if size > MAX_SCHEMA_BYTES {
        return Err(Error::InvalidInput(format!(
            "the schema {} is {size} bytes; a schema may take at most 1 MiB",
            path.display()
        )));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::io(format!("could not read the schema {}", path.display()), e))?;
    serde_json::from_str(&text)
        .map_err(|e| Error::InvalidInput(format!("the schema {} is not JSON: {e}", path.display())))
}
