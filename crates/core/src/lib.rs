//! Pith's core: every decision, no llama.cpp and no Tauri.
//!
//! - [`engine`]: the `Engine` trait, requests, streaming helpers, the
//!   inference worker, and the scripted fake for tests;
//! - [`flows`]: what every way in (window, hotkey, command line, API)
//!   calls: routed rephrase with escalation, the rewrite session,
//!   summarize-and-save, deleting a conversation, the machine-fit report;
//! - [`tasks`]: rephrase, summarize and chat, with their prompts, output
//!   cleaning and result checks;
//! - [`models`]: finding model files and checking GGUF headers;
//! - [`history`]: conversations in SQLite, search and export;
//! - [`hardware`]: what the machine offers;
//! - [`commands`]: the built-in workflows and the user's own commands
//!   (running them is `flows::commands`);
//! - [`settings`]: the user's `settings.toml`; [`window`]: where the
//!   desktop window opens;
//! - [`tools`]: the agent's tools, path-checked and journaled for undo
//!   (the agent loop is `flows::agent`);
//! - [`error`]: one error type with codes the UI branches on.

pub mod autostart;
pub mod clipboard;
pub mod commands;
pub mod documents;
pub mod engine;
pub mod error;
pub mod flows;
pub mod hardware;
pub mod history;
pub mod logs;
pub mod models;
pub mod paths;
pub mod routing;
pub mod settings;
pub mod structured;
pub mod tasks;
pub mod tools;
pub mod tune;
pub mod window;

pub use error::{Error, ErrorCode, Result};
