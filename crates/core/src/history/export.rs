//! Export a conversation to Markdown (to read) or JSON (to keep, and to
//! import again).

use super::store::{Conversation, ConversationId, History, Message, MessageStatus};
use crate::engine::Role;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Markdown,
    Json,
}

impl FromStr for ExportFormat {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_lowercase().as_str() {
            "md" | "markdown" => Ok(ExportFormat::Markdown),
            "json" => Ok(ExportFormat::Json),
            other => Err(Error::InvalidInput(format!(
                "unknown export format '{other}'; use md or json"
            ))),
        }
    }
}

/// A whole conversation as plain data: what JSON export writes and import reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationExport {
    pub format: String,
    pub conversation: Conversation,
    pub messages: Vec<Message>,
}

const FORMAT_TAG: &str = "pith-conversation/1";

impl History {
    pub fn export(&self, id: ConversationId) -> Result<ConversationExport> {
        Ok(ConversationExport {
            format: FORMAT_TAG.into(),
            conversation: self.conversation(id)?,
            messages: self.messages(id)?,
        })
    }

    pub fn export_to(&self, id: ConversationId, format: ExportFormat) -> Result<String> {
        let export = self.export(id)?;
        Ok(match format {
            ExportFormat::Json => serde_json::to_string_pretty(&export)
                .map_err(|e| Error::History(format!("could not write JSON: {e}")))?,
            ExportFormat::Markdown => to_markdown(&export),
        })
    }

    /// Imports an exported conversation as a new one; returns its id.
    pub fn import(&mut self, export: &ConversationExport) -> Result<ConversationId> {
        if export.format != FORMAT_TAG {
            return Err(Error::InvalidInput(format!(
                "not a Pith conversation export (format '{}')",
                export.format
            )));
        }
        let c = &export.conversation;
        let id = self.create_conversation(&c.title, c.model.as_deref())?;
        for m in &export.messages {
            let mid = self.add_message(id, m.role, &m.text, m.status, m.model.as_deref())?;
            self.finish_message(mid, &m.text, m.status, m.stats)?;
        }
        if c.pinned {
            self.set_pinned(id, true)?;
        }
        Ok(id)
    }
}

fn to_markdown(e: &ConversationExport) -> String {
    let mut out = format!("# {}\n\n", e.conversation.title);
    if let Some(model) = &e.conversation.model {
        out.push_str(&format!("_Model: {model}_\n\n"));
    }
    if let Some(summary) = &e.conversation.summary {
        out.push_str(&format!("> **Summary of earlier turns:** {summary}\n\n"));
    }
    for m in &e.messages {
        let who = match m.role {
            Role::User => "You",
            Role::Assistant => "Pith",
            Role::System => "System",
        };
        let note = match m.status {
            MessageStatus::Complete => "",
            MessageStatus::Streaming => " (being written)",
            MessageStatus::Interrupted => " (interrupted)",
            MessageStatus::Error => " (failed)",
        };
        out.push_str(&format!("## {who}{note}\n\n{}\n\n", m.text.trim()));
    }
    out
}
