//! `pith serve` (the local OpenAI-compatible API) and `pith route` (which
//! model would answer, and why).

use crate::{Failure, ModelArgs, OrFail};
use pith_core::engine::{Priority, Worker};
use pith_core::routing::{self, Request, Target};
use pith_core::settings::UserSettings;
use pith_core::tasks::Task;
use pith_core::{Error, Result};
use pith_llama::{LoadOptions, ModelPool};
use pith_server::{self as api, Server, ServerOptions};
use std::io::Write;
use std::sync::Arc;

/// The installed models (or only `--model`), with the planner's verdicts
/// and the saved instruction states. No usable model is an error that
/// says where Pith looked and how to fetch one.
pub fn pool(args: &ModelArgs) -> Result<ModelPool> {
    let paths: Vec<(String, std::path::PathBuf)> = match &args.model {
        Some(p) => {
            // A bad --model file gets its own message, not "none found".
            pith_core::models::check_model_file(p)?;
            vec![(
                p.file_stem()
                    .map_or_else(|| "model".into(), |s| s.to_string_lossy().into_owned()),
                p.clone(),
            )]
        }
        None => pith_core::models::store::list_installed(&pith_core::models::search_dirs())
            .into_iter()
            .filter(|m| m.problem.is_none())
            .map(|m| (m.id, m.path))
            .collect(),
    };
    let hw = pith_core::hardware::probe_memory();
    let budget = hw.usable_ram_bytes().unwrap_or(u64::MAX);
    let options = LoadOptions {
        threads: args.threads,
        force: args.force,
        states: pith_core::engine::state::StateStore::in_data_dir(),
        ..LoadOptions::default()
    };
    let pool = ModelPool::new(&paths, &hw, budget, options);
    if pool.models().is_empty() {
        pith_core::models::resolve_model(None)?;
    }
    Ok(pool)
}

pub fn serve(args: &ModelArgs, port: u16, token: Option<String>) -> Result<(), Failure> {
    let settings = UserSettings::load_default().or_fail(false)?;
    let pool = pool(args).or_fail(false)?;
    let candidates = pool.candidates();
    // The model a simple request goes to is loaded before the first request.
    let first = routing::route(
        &Request::new(Task::Chat, "hello"),
        &candidates,
        &settings.routing(),
    )
    .or_fail(false)?;
    let worker = Worker::spawn(move || Ok(pool)).or_fail(false)?;
    if let Target::Local { id } = &first.target {
        let id = id.clone();
        worker
            .run(Priority::Interactive, move |p: &mut ModelPool, _| {
                pith_core::engine::Backend::engine(p, &id).map(|_| ())
            })
            .and_then(|r| r)
            .or_fail(false)?;
    }
    let token = match token {
        Some(t) if t.trim().len() >= 8 => t.trim().to_string(),
        Some(_) => {
            return Err(Failure {
                error: Error::InvalidInput("--token must be at least 8 characters".into()),
                json: false,
            })
        }
        None => api::generate_token().or_fail(false)?,
    };
    let mut options = ServerOptions::new(token.clone(), candidates.clone());
    options.port = port;
    options.settings = settings.routing();
    options.remote_api_key = settings.remote_api_key();
    options.commands = settings.commands.clone();
    options.history = settings
        .app
        .learn_from_accepted
        .then(pith_core::history::default_path)
        .flatten();
    let server = Server::start(Arc::new(worker), options).or_fail(false)?;
    let models: Vec<&str> = candidates
        .iter()
        .filter(|c| c.fits)
        .map(|c| c.id.as_str())
        .collect();
    println!("Pith API listening on {}", server.base_url());
    println!("token: {token}");
    println!("models: {}", models.join(", "));
    println!(
        "remote: {}",
        settings
            .routing()
            .remote
            .map_or("off".to_string(), |r| format!(
                "on ({} at {})",
                r.model, r.base_url
            ))
    );
    let _ = std::io::stdout().flush();
    server.wait();
    Ok(())
}

pub fn route(
    args: &ModelArgs,
    text: &str,
    task: Task,
    larger: bool,
    explain: bool,
    json: bool,
) -> Result<(), Failure> {
    let settings = UserSettings::load_default().or_fail(json)?;
    let candidates = pool(args).or_fail(json)?.candidates();
    let mut request = Request::new(task, text);
    request.larger = larger;
    if task == Task::Summarize {
        // The text stands for the document; tokens are estimated from words.
        request.document_tokens = text.split_whitespace().count() * 4 / 3;
    }
    let route = routing::route(&request, &candidates, &settings.routing()).or_fail(json)?;
    if json {
        let value = serde_json::json!({
            "target": route.target,
            "reason": route.reason,
            "signals": route.signals,
            "larger_available": route.larger_available,
            "candidates": candidates,
        });
        println!("{value}");
        return Ok(());
    }
    println!("{}", route.target.label());
    if !explain {
        return Ok(());
    }
    println!("  why: {}", route.reason);
    if !route.signals.is_empty() {
        let s: Vec<&str> = route.signals.iter().map(|s| s.describe()).collect();
        println!("  signals: the message {}", s.join(", "));
    }
    if let Some(larger) = &route.larger_available {
        println!(
            "  larger model on request: {} (pith route --larger)",
            larger.label()
        );
    }
    for c in &candidates {
        println!(
            "  installed: {} ({:.0}M parameters){}",
            c.id,
            c.parameters as f64 / 1e6,
            if c.fits {
                ""
            } else {
                " — does not fit this machine's free memory"
            }
        );
    }
    Ok(())
}
