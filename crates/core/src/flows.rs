//! What every way in calls. The window, the hotkey, the command line and
//! the local API are adapters: they parse what they were given, make one
//! call here, and print, emit or answer the result. A behaviour that one
//! way in has and another lacks is a bug, so each flow lives once, here,
//! tested on the scripted engine.
//!
//! - [`rephrase`]: the router's model, the result check, and escalation to
//!   the larger installed model (`auto_escalate`) or the offer of it;
//! - [`session`]: the hotkey's rewrite as plain state (what is pending,
//!   the finished result, the clipboard text it replaced, what to record);
//! - [`summary`]: read a document, summarize it, save it as a conversation;
//! - [`extract`]: a JSON value for a schema, escalated to the larger model
//!   when the small one's fails the schema or the text;
//! - [`commands`]: the built-in workflows (action items, a calendar
//!   event, a reply) and the user's commands, routed and checked;
//! - [`conversations`]: delete a conversation with its saved model state;
//! - [`prepare`]: copied text evaluated for the hotkey before the key press;
//! - [`machine`]: the machine-fit report of the model panel and
//!   `pith models recommend`.

pub mod agent;
pub mod commands;
pub mod conversations;
pub mod extract;
pub mod machine;
pub mod prepare;
pub mod rephrase;
pub mod session;
pub mod summary;
pub mod tune;
