//! `pith agent "TASK"` and `pith undo`: the agent from the command line.
//!
//! Each step that changes something is printed — the names before and
//! after, a new file's content — and asked about (`y` yes, `n` no, `a` yes
//! to this and the rest, `q` stop: the run's changes are put back), read
//! from standard input, so a script can answer too; `--yes` approves every
//! step. The run is stored; `pith undo` puts the last run back exactly.

use crate::{Failure, ModelArgs, OrFail};
use chrono::NaiveDate;
use pith_core::engine::{Priority, Worker};
use pith_core::flows::agent::{
    self, AgentConfig, AgentEvent, ApproveAll, Decision, Proposal, Supervisor,
};
use pith_core::flows::commands::RunOptions;
use pith_core::history::{AgentRun, RunStatus, StepStatus};
use pith_core::settings::UserSettings;
use pith_core::tools::{trash, Clipboard, Effect};
use pith_core::{Error, Result};
use pith_llama::ModelPool;
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct AgentArgs {
    /// What to do, in words ("rename the PDFs after their titles").
    #[arg(required_unless_present = "runs")]
    pub task: Option<String>,
    /// The folder to work in; naming it grants it for this run (default:
    /// the first folder granted in Settings).
    #[arg(long, value_name = "DIR")]
    pub folder: Option<PathBuf>,
    /// Approve every step without asking.
    #[arg(long, short)]
    pub yes: bool,
    /// At most this many steps.
    #[arg(long, value_name = "N", default_value_t = 12)]
    pub max_steps: usize,
    /// The day relative dates count from (default: today).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub today: Option<NaiveDate>,
    /// List the last runs with their steps instead.
    #[arg(long, conflicts_with = "task")]
    pub runs: bool,
    /// Print the run as one JSON object.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub model: ModelArgs,
}

/// The command line's clipboard (xclip, xsel or wl-clipboard).
struct SystemClipboard;

impl Clipboard for SystemClipboard {
    fn read(&mut self) -> Result<String> {
        crate::clipboard::read()
    }
    fn write(&mut self, text: &str) -> Result<()> {
        crate::clipboard::write(text)
    }
}

/// Asks on standard error, reads the answer from standard input.
struct Ask {
    json: bool,
}

impl Supervisor for Ask {
    fn decide(&mut self, p: &Proposal) -> Decision {
        eprintln!("\nStep {}: {}", p.n, p.preview.summary);
        if let Some(content) = &p.preview.content {
            for line in content.lines().take(40) {
                eprintln!("  | {line}");
            }
        }
        let stdin = std::io::stdin();
        loop {
            eprint!("Approve? [y]es, [n]o, [a]ll remaining, [q]uit: ");
            let _ = std::io::stderr().flush();
            let mut line = String::new();
            match stdin.lock().read_line(&mut line) {
                Ok(0) | Err(_) => return Decision::Cancel,
                Ok(_) => {}
            }
            match line.trim().to_ascii_lowercase().as_str() {
                "y" | "yes" => return Decision::Approve,
                "n" | "no" => return Decision::Reject,
                "a" | "all" => return Decision::ApproveAll,
                "q" | "quit" => return Decision::Cancel,
                _ => eprintln!("Answer y, n, a or q."),
            }
        }
    }
    fn event(&mut self, event: &AgentEvent) {
        if !self.json {
            print_event(event);
        }
    }
}

fn print_event(event: &AgentEvent) {
    match event {
        AgentEvent::Started { run } => eprintln!("pith: agent run {run}"),
        AgentEvent::Thinking { .. } => {}
        AgentEvent::Step { step } => {
            let mark = match step.status {
                StepStatus::Done => "✓",
                StepStatus::Rejected => "✗ rejected",
                StepStatus::Failed => "! failed",
            };
            eprintln!("{}. {} {mark}", step.n, step.summary);
            for why in &step.refused {
                eprintln!("   (refused first: {why})");
            }
            if step.effect == Effect::Read || step.status != StepStatus::Done {
                for line in pith_core::tools::bounded(&step.output, 300).lines().take(6) {
                    eprintln!("   {line}");
                }
            }
        }
    }
}

struct Quiet(bool);

impl Supervisor for Quiet {
    fn decide(&mut self, p: &Proposal) -> Decision {
        ApproveAll.decide(p)
    }
    fn event(&mut self, event: &AgentEvent) {
        if !self.0 {
            print_event(event);
        }
    }
}

pub fn run(args: &AgentArgs) -> std::result::Result<ExitCode, Failure> {
    let json = args.json;
    if args.runs {
        return list(json);
    }
    let task = args.task.clone().unwrap_or_default();
    let settings = UserSettings::load_default().or_fail(json)?;
    let mut granted = settings.agent.folders.clone();
    let folder = match &args.folder {
        Some(f) => {
            let real = std::fs::canonicalize(f)
                .map_err(|_| {
                    Error::InvalidInput(format!("the folder {} does not exist", f.display()))
                })
                .or_fail(json)?;
            granted.push(real.clone());
            real
        }
        None => granted.first().cloned().ok_or_else(|| Failure {
            error: Error::InvalidInput(
                "no folder to work in: give --folder DIR, or grant a folder in Settings".into(),
            ),
            json,
        })?,
    };
    let mut config = AgentConfig::new(&task, folder, granted, trash::home_trash().or_fail(json)?);
    config.max_steps = args.max_steps;
    config.options = RunOptions {
        today: args.today.unwrap_or_else(|| RunOptions::now().today),
        ..RunOptions::now()
    };
    let pool = crate::serve::pool(&args.model).or_fail(json)?;
    let (planner, worker_model) = roles(&pool, args.model.model.is_some());
    let mut history = crate::history::open_store().or_fail(json)?;
    let worker = Worker::spawn(move || Ok(pool)).or_fail(json)?;
    let yes = args.yes;
    let ticket = worker.submit(Priority::Normal, move |pool: &mut ModelPool, cancel| {
        let mut ask = Ask { json };
        let mut quiet = Quiet(json);
        let supervisor: &mut dyn Supervisor = if yes { &mut quiet } else { &mut ask };
        agent::run(
            pool,
            &planner,
            &worker_model,
            &mut history,
            &mut SystemClipboard,
            &config,
            supervisor,
            cancel,
        )
    });
    crate::jobs::cancel_on_ctrl_c(ticket.cancel_token());
    let run = ticket.wait().or_fail(json)?.or_fail(json)?;
    report(&run, json)
}

/// The planner and the step model ([`agent::roles`]): with --model, that
/// model alone.
pub fn roles(pool: &ModelPool, pinned: bool) -> (String, String) {
    let pinned_id = pool
        .models()
        .first()
        .filter(|_| pinned)
        .map(|m| m.id.clone());
    let order = pith_core::flows::extract::order(&pool.candidates(), pinned_id.as_deref());
    let instruct: Vec<String> = pool
        .models()
        .iter()
        .filter(|m| pith_core::models::gguf::inspect(&m.path).is_ok_and(|g| g.has_chat_template))
        .map(|m| m.id.clone())
        .collect();
    agent::roles(&order, &instruct).unwrap_or_default()
}

fn report(run: &AgentRun, json: bool) -> std::result::Result<ExitCode, Failure> {
    if json {
        let mut value = serde_json::to_value(run).unwrap_or_default();
        value["ok"] = (run.status == RunStatus::Finished).into();
        println!("{value}");
    } else {
        if let Some(answer) = &run.answer {
            println!("{answer}");
        }
        if !run.changes.is_empty() {
            eprintln!(
                "pith: changed: {} (undo with `pith undo`)",
                run.changes.join("; ")
            );
        }
        if run.planner != run.worker {
            eprintln!(
                "pith: {} chose the steps; {} did their writing",
                run.planner, run.worker
            );
        }
    }
    match run.status {
        RunStatus::Finished => Ok(ExitCode::SUCCESS),
        _ => {
            eprintln!(
                "pith: the run ended without finishing: {}",
                run.message.as_deref().unwrap_or("")
            );
            Ok(ExitCode::from(3))
        }
    }
}

fn list(json: bool) -> std::result::Result<ExitCode, Failure> {
    let history = crate::history::open_store().or_fail(json)?;
    let runs = history.agent_runs(20).or_fail(json)?;
    if json {
        println!("{}", serde_json::to_value(&runs).unwrap_or_default());
        return Ok(ExitCode::SUCCESS);
    }
    for r in &runs {
        println!(
            "{}  {}  {}  ({})",
            r.id,
            r.status.as_str(),
            r.task,
            r.folder
        );
        for s in &r.steps {
            println!("    {}. {} [{:?}]", s.n, s.summary, s.status);
        }
        if let Some(m) = &r.message {
            println!("    {m}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `pith undo [RUN]`.
pub fn undo(run: Option<i64>, json: bool) -> std::result::Result<ExitCode, Failure> {
    let mut history = crate::history::open_store().or_fail(json)?;
    let undone = match run {
        Some(id) => agent::undo_run(&mut history, id),
        None => agent::undo_last(&mut history),
    }
    .or_fail(json)?;
    if json {
        println!("{}", serde_json::to_value(&undone).unwrap_or_default());
    } else {
        println!(
            "Undid agent run {} ({}): {}",
            undone.id,
            undone.task,
            undone.message.as_deref().unwrap_or("")
        );
    }
    Ok(ExitCode::SUCCESS)
}
