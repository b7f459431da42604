//! `pith`: the command line over Pith's core.
//!
//! Standard output carries only results; progress and diagnostics go to
//! standard error. Exit status: 0 success, 1 error, 2 bad usage, 3 the model's
//! result failed Pith's check (the reason is on standard error), or an extracted value
//! failed it.

mod agent;
mod bench;
mod chat;
mod clipboard;
mod extract;
mod history;
mod jobs;
mod models;
mod run;
mod serve;
mod summarize;
mod tune;

use clap::{Parser, Subcommand};
use pith_core::tasks::rephrase::RephraseMode;
use pith_core::tasks::summarize::SummaryLength;
use pith_core::{Error, ErrorCode};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "pith",
    version,
    about = "Private writing help from small local language models",
    long_about = "Pith runs small language models on this computer, with no network.\n\n\
                  With no --model, the default model (SmolLM2-135M-Instruct) is looked up in \
                  $PITH_MODELS_DIR, the checkout's models/ folder, then the user data folder."
)]
struct Cli {
    /// Show what pith does on standard error (the log, and each attempt's
    /// raw model output); the log file in the data folder's logs/ is
    /// written either way.
    #[arg(long, short, global = true)]
    verbose: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Clone)]
pub struct ModelArgs {
    /// A .gguf model file to use instead of the default model.
    #[arg(long, global = true, value_name = "PATH")]
    pub model: Option<PathBuf>,
    /// CPU threads (default: the physical cores).
    #[arg(long, global = true, value_name = "N")]
    pub threads: Option<usize>,
    /// Load the model even when it looks too big for the free memory.
    #[arg(long, global = true)]
    pub force: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Rewrite text: proofread, rewrite, friendly, professional, concise, bullets.
    ///
    /// The result is checked before it is printed; if the model cannot produce a
    /// real rewrite, pith says why and exits with status 3.
    Rephrase {
        /// proofread | rewrite | friendly | professional | concise | bullets
        /// (default: proofread; with --clipboard, the mode in Settings)
        #[arg(long, short)]
        mode: Option<RephraseMode>,
        /// The text; `-` or nothing reads standard input.
        #[arg(conflicts_with = "clipboard")]
        text: Option<String>,
        /// Rewrite the clipboard's text and put the result back on the
        /// clipboard (bind this to a key where the app's shortcut cannot be
        /// registered, e.g. on Wayland). The rewrite is kept in the history.
        #[arg(long)]
        clipboard: bool,
        /// Print one JSON object instead of the text.
        #[arg(long)]
        json: bool,
        /// Use the larger installed model that fits, not the fast small one.
        #[arg(long)]
        larger: bool,
        #[command(flatten)]
        model: ModelArgs,
    },
    /// Summarize a document — PDF, DOCX, HTML, Markdown or text, however
    /// long (`-` reads standard input). Every part is read; the last line
    /// says what was covered. The summary is saved in the history.
    Summarize {
        file: PathBuf,
        /// short | medium | bullets | quotes (key points with exact quotes)
        #[arg(long, short, default_value = "short")]
        length: SummaryLength,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        model: ModelArgs,
    },
    /// Extract a JSON value that follows a JSON Schema from a document (PDF,
    /// DOCX, HTML, Markdown or text; `-` or nothing reads standard input).
    ///
    /// The output always parses and is validated against the schema; its
    /// strings and numbers must appear in the text unless the field is
    /// marked "x-derived": true. A value that fails is retried, then given to
    /// the larger installed model; if it still fails, pith prints why and
    /// exits with status 3.
    Extract {
        /// The JSON Schema file.
        #[arg(long, value_name = "SCHEMA.json")]
        schema: PathBuf,
        file: Option<PathBuf>,
        /// Most tokens the value may take (default 512).
        #[arg(long, value_name = "N")]
        max_tokens: Option<usize>,
        /// Print one JSON object: the value, whether it passed, its problems,
        /// the model and the attempts.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        model: ModelArgs,
    },
    /// Run a command: action-items (a checklist of the text's tasks), event
    /// (an .ics calendar event for the meeting it describes), reply (a reply
    /// in a tone, saved as a conversation), or one of your commands.
    ///
    /// Exit status 3: the result failed Pith's check (why is on standard
    /// error). Relative dates count from --today.
    Run(Box<run::RunArgs>),
    /// Specialize the small model for a mode, on this machine: make
    /// training pairs (by rule for proofread; with --teacher, written by a
    /// larger installed model and checked by Pith), train a LoRA adapter on
    /// the CPU, and install it only when it does better than the base model
    /// on held-out pairs. Ctrl-C stops; --resume carries on.
    Tune(Box<tune::TuneArgs>),
    /// Do a task on your files in steps with tools: list, read, summarize,
    /// to-do lists, new files, renames, the trash. Every step that changes
    /// something is shown and asked about first (--yes approves all);
    /// `pith undo` puts the run back. Exit status 3: the run ended without
    /// finishing (its changes were put back).
    Agent(Box<agent::AgentArgs>),
    /// Put the last agent run's files back exactly as they were (or run
    /// RUN, see `pith agent --runs`); refused, changing nothing, when a file
    /// changed since.
    Undo {
        run: Option<i64>,
        #[arg(long)]
        json: bool,
    },
    /// Your commands: list, export, import (the Commands page of the app).
    Commands {
        #[command(subcommand)]
        command: run::CommandsCommand,
    },
    /// Chat, saved in the history. Interactive on a terminal; otherwise each
    /// input line is one turn and each reply is printed followed by a blank line.
    Chat {
        /// Continue this conversation (see `pith history list`); without
        /// it, a new conversation starts.
        #[arg(long, value_name = "ID")]
        conversation: Option<i64>,
        #[command(flatten)]
        model: ModelArgs,
    },
    /// Stored conversations: list, show, search, export, rm.
    History {
        #[command(subcommand)]
        command: history::HistoryCommand,
    },
    /// What this machine offers: memory, cores, SIMD, GPUs, disk, bandwidth.
    Hardware {
        #[arg(long)]
        json: bool,
    },
    /// Models: list, recommend, pull, import, rm.
    Models {
        #[command(subcommand)]
        command: models::ModelsCommand,
    },
    /// Serve the installed models to other programs on this computer: an
    /// OpenAI-compatible API (/v1/chat/completions, /v1/models) on 127.0.0.1,
    /// behind a token. Prints the address and the token, then runs until
    /// stopped (Ctrl-C).
    Serve {
        #[arg(long, default_value_t = 8383)]
        port: u16,
        /// The token clients must send (default: a new random one).
        #[arg(long)]
        token: Option<String>,
        #[command(flatten)]
        model: ModelArgs,
    },
    /// Which installed model would answer a request, and why.
    Route {
        /// The question or text.
        text: String,
        /// Also print why: the signals in the text, the larger model on
        /// offer, and every installed model (without it, only the model's id).
        #[arg(long)]
        explain: bool,
        /// chat | rephrase | summarize
        #[arg(long, default_value = "chat")]
        task: pith_core::tasks::Task,
        /// Ask for the larger model.
        #[arg(long)]
        larger: bool,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        model: ModelArgs,
    },
    /// Write the manual page and the shell completions into DIR (used by
    /// the package build).
    #[command(hide = true)]
    GenerateDocs { dir: PathBuf },
    /// Measure load time, prompt and generation speed, first-token latency and
    /// memory; prints one JSON object.
    Bench {
        /// Check the fit planner: load synthetic models with real shapes
        /// (135M to 1B) and print estimated against measured memory and speed.
        #[arg(long)]
        planner: bool,
        /// Only load, prompt and generation figures (no task measurements).
        #[arg(long, hide = true)]
        raw: bool,
        /// Only the agent fixtures (tests/agent): how many the model
        /// finishes correctly, how many end safely, steps and seconds.
        #[arg(long)]
        agent: bool,
        /// Only the document figures: the map step batched and one at a
        /// time, and a 30-page PDF summarized whole against prompt speed.
        #[arg(long)]
        documents: bool,
        /// Only the tuning figures: a proofread adapter trained on
        /// rule-made pairs (minutes), its held-out pass rate against the
        /// base model's, and what switching adapters costs. Installs nothing.
        #[arg(long)]
        tune: bool,
        /// Memory-map the model instead of reading it into memory (to compare
        /// peak_rss_mb; Pith reads it by default).
        #[arg(long)]
        mmap: bool,
        #[command(flatten)]
        model: ModelArgs,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // `println!` panics when standard output cannot be written (a full
    // disk, a closed pipe): that is reported as an error, not a crash.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !is_stdout_failure(info.payload()) {
            default_hook(info);
        }
    }));
    match std::panic::catch_unwind(|| run(cli)) {
        Ok(code) => code,
        Err(payload) if is_stdout_failure(payload.as_ref()) => {
            let why = payload
                .downcast_ref::<String>()
                .and_then(|m| m.rsplit(": ").next())
                .unwrap_or("the output was closed");
            eprintln!("pith: could not write the result to standard output: {why}");
            ExitCode::FAILURE
        }
        Err(payload) => std::panic::resume_unwind(payload),
    }
}

fn is_stdout_failure(payload: &(dyn std::any::Any + Send)) -> bool {
    payload
        .downcast_ref::<String>()
        .is_some_and(|m| m.starts_with("failed printing to stdout"))
}

fn run(cli: Cli) -> ExitCode {
    let verbose = cli.verbose;
    let _logging = pith_core::logs::init("pith", verbose.then_some(tracing::Level::DEBUG));
    let outcome = match cli.command {
        Command::Extract {
            schema,
            file,
            max_tokens,
            json,
            model,
        } => {
            return extract::run(&model, &schema, file.as_deref(), max_tokens, json, verbose)
                .unwrap_or_else(Failure::report)
        }
        Command::Run(args) => return run::run(&args, verbose).unwrap_or_else(Failure::report),
        Command::Agent(args) => return agent::run(&args).unwrap_or_else(Failure::report),
        Command::Undo { run, json } => {
            return agent::undo(run, json).unwrap_or_else(Failure::report)
        }
        Command::Commands { command } => run::commands(command),
        Command::Rephrase {
            mode,
            text,
            clipboard,
            json,
            larger,
            model,
        } => jobs::rephrase(&model, mode, text, clipboard, json, verbose, larger),
        Command::Summarize {
            file,
            length,
            json,
            model,
        } => summarize::run(&model, &file, length, json),
        Command::Chat {
            conversation,
            model,
        } => chat::run(&model, conversation),
        Command::Tune(args) => tune::run(&args),
        Command::History { command } => history::run(command),
        Command::Serve { port, token, model } => serve::serve(&model, port, token),
        Command::Route {
            text,
            explain,
            task,
            larger,
            json,
            model,
        } => serve::route(&model, &text, task, larger, explain, json),
        Command::Hardware { json } => models::hardware(json),
        Command::Models { command } => models::run(command),
        Command::GenerateDocs { dir } => generate_docs(&dir),
        Command::Bench { planner: true, .. } => bench::planner(),
        Command::Bench {
            planner: false,
            agent: true,
            model,
            ..
        } => bench::agent_only(&model),
        Command::Bench {
            planner: false,
            agent: false,
            documents: true,
            model,
            ..
        } => bench::documents_only(&model),
        Command::Bench {
            planner: false,
            agent: false,
            documents: false,
            tune: true,
            model,
            ..
        } => bench::tune_only(&model),
        Command::Bench {
            planner: false,
            agent: false,
            documents: false,
            tune: false,
            raw,
            mmap,
            model,
        } => bench::run(&model, mmap, raw),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report(),
    }
}

/// `pith.1` and the bash, zsh and fish completions, from the clap
/// definitions, so they never disagree with `--help`.
fn generate_docs(dir: &std::path::Path) -> Result<(), Failure> {
    use clap::CommandFactory;
    let io = |what: &str, e| Error::io(format!("writing {what} in {}", dir.display()), e);
    std::fs::create_dir_all(dir)
        .map_err(|e| io("the folder", e))
        .or_fail(false)?;
    let mut man = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut man)
        .map_err(|e| io("pith.1", e))
        .or_fail(false)?;
    std::fs::write(dir.join("pith.1"), man)
        .map_err(|e| io("pith.1", e))
        .or_fail(false)?;
    for (shell, name) in [
        (clap_complete::Shell::Bash, "pith.bash"),
        (clap_complete::Shell::Zsh, "_pith"),
        (clap_complete::Shell::Fish, "pith.fish"),
    ] {
        let mut out = Vec::new();
        clap_complete::generate(shell, &mut Cli::command(), "pith", &mut out);
        std::fs::write(dir.join(name), out)
            .map_err(|e| io(name, e))
            .or_fail(false)?;
    }
    Ok(())
}

/// A command's failure: the error and whether to print it as JSON.
pub struct Failure {
    pub error: Error,
    pub json: bool,
}

impl Failure {
    fn report(self) -> ExitCode {
        eprintln!("pith: {}", self.error);
        if self.json {
            let payload = serde_json::json!({ "error": self.error.to_payload() });
            println!("{payload}");
        }
        match self.error.code() {
            ErrorCode::ResultRejected => ExitCode::from(3),
            _ => ExitCode::FAILURE,
        }
    }
}

pub trait OrFail<T> {
    fn or_fail(self, json: bool) -> Result<T, Failure>;
}

impl<T> OrFail<T> for Result<T, Error> {
    fn or_fail(self, json: bool) -> Result<T, Failure> {
        self.map_err(|error| Failure { error, json })
    }
}
