//! `pith history`: list, show, search, export and delete conversations.

use crate::{Failure, OrFail};
use pith_core::history::{self, ConversationId, ExportFormat, History};
use pith_core::{Error, Result};
use std::path::PathBuf;

/// Opens the history database in the data folder, telling the user about
/// any recovery on standard error.
pub fn open_store() -> Result<History> {
    let path = history::default_path()
        .ok_or_else(|| Error::History("no data folder could be found; set PITH_DATA_DIR".into()))?;
    let (store, report) = History::open(&path)?;
    if let Some(aside) = report.moved_aside {
        eprintln!(
            "pith: the history database was damaged; it was moved to {} and a new one was started",
            aside.display()
        );
    }
    if report.interrupted > 0 {
        eprintln!(
            "pith: {} reply(ies) cut off earlier are marked interrupted",
            report.interrupted
        );
    }
    Ok(store)
}

#[derive(clap::Subcommand)]
pub enum HistoryCommand {
    /// Conversations, pinned first, most recent first.
    List {
        #[arg(long)]
        json: bool,
    },
    /// One conversation with its messages.
    Show {
        id: i64,
        #[arg(long)]
        json: bool,
    },
    /// Messages containing every word of QUERY (the last may be a prefix).
    Search {
        query: String,
        #[arg(long)]
        json: bool,
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Write a conversation as Markdown or JSON (to standard output, or FILE).
    Export {
        id: i64,
        /// md | json
        #[arg(long, default_value = "md")]
        format: ExportFormat,
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Delete a conversation and its messages.
    Rm { id: i64 },
}

fn json_line<T: serde::Serialize>(value: &T) -> Result<()> {
    let text = serde_json::to_string(value).map_err(|e| Error::InvalidInput(e.to_string()))?;
    println!("{text}");
    Ok(())
}

pub fn run(command: HistoryCommand) -> std::result::Result<(), Failure> {
    let json = matches!(
        command,
        HistoryCommand::List { json: true }
            | HistoryCommand::Show { json: true, .. }
            | HistoryCommand::Search { json: true, .. }
    );
    run_inner(command).or_fail(json)
}

fn run_inner(command: HistoryCommand) -> Result<()> {
    let mut store = open_store()?;
    match command {
        HistoryCommand::List { json } => {
            let list = store.conversations()?;
            if json {
                return json_line(&list);
            }
            for c in list {
                let pin = if c.pinned { " (pinned)" } else { "" };
                println!("{:>5}  {}{pin}", c.id, c.title);
            }
        }
        HistoryCommand::Show { id, json } => {
            let export = store.export(ConversationId(id))?;
            if json {
                return json_line(&export);
            }
            print!(
                "{}",
                store.export_to(ConversationId(id), ExportFormat::Markdown)?
            );
        }
        HistoryCommand::Search { query, json, limit } => {
            let hits = store.search(&query, limit)?;
            if json {
                return json_line(&hits);
            }
            if hits.is_empty() {
                eprintln!("pith: nothing found for \"{query}\"");
            }
            for h in hits {
                println!(
                    "{:>5}  {}: {}",
                    h.conversation_id,
                    h.conversation_title,
                    h.snippet.replace('\n', " ")
                );
            }
        }
        HistoryCommand::Export { id, format, output } => {
            let text = store.export_to(ConversationId(id), format)?;
            match output {
                Some(path) => std::fs::write(&path, text)
                    .map_err(|e| Error::io(format!("could not write {}", path.display()), e))?,
                None => print!("{text}"),
            }
        }
        HistoryCommand::Rm { id } => {
            let states = pith_core::engine::state::StateStore::in_data_dir();
            pith_core::flows::conversations::delete(
                &mut store,
                states.as_ref(),
                ConversationId(id),
            )?;
            eprintln!("pith: conversation {id} deleted");
        }
    }
    Ok(())
}
