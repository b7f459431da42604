//! The clipboard rephrase hotkey. The global shortcut (Settings; Ctrl+Alt+R
//! by default) reads the clipboard's text and opens a small always-on-top
//! popup by the pointer, which streams the rewrite in the default mode.
//! Accept puts the result on the clipboard (the text it replaced can be put
//! back from the main window); Cancel leaves the clipboard as it was. Every
//! rewrite is kept in the history. The popup names no text of its own: the
//! original and the result stay here, in Rust.
//!
//! The session itself is plain state in `pith-core`
//! (`flows::session::RewriteSession`) and the rewrite is the core's routed
//! rephrase, escalation included. The files here move text between them
//! and the desktop, one job each:
//!
//! - [`clipboard`]: reading and writing the system clipboard;
//! - [`shortcut`]: registering the shortcut, and what a key press does;
//! - [`popup`]: the popup window;
//! - [`paste`]: pasting an accepted result into the window it came from;
//! - [`prepare`]: copied text evaluated before the key press;
//! - [`rewrite`]: running the rewrite on the engine (tested on the scripted one);
//! - [`commands`]: what the popup and the main window call.

pub mod clipboard;
pub mod commands;
pub mod paste;
pub mod popup;
pub mod prepare;
pub mod rewrite;
pub mod shortcut;

use crate::state::lock;
use pith_core::engine::CancelToken;
use pith_core::flows::session::RewriteSession;
use std::sync::Mutex;

/// The hotkey's part of the app's state.
#[derive(Default)]
pub struct Hotkey {
    pub clipboard: clipboard::Clipboard,
    pub session: Mutex<RewriteSession>,
    /// The cancel token of the rewrite being written.
    pub running: Mutex<Option<CancelToken>>,
    pub status: Mutex<shortcut::HotkeyStatus>,
    /// The window that had the keyboard focus when the shortcut was
    /// pressed (X11), for pasting the accepted result into it.
    pub focused: Mutex<Option<String>>,
}

impl Hotkey {
    /// Stops the rewrite being written, if one is.
    pub fn stop(&self) {
        if let Some(token) = lock(&self.running).as_ref() {
            token.cancel();
        }
    }
}
