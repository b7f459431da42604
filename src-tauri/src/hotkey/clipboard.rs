//! The system clipboard, opened once and kept for the app's lifetime: on
//! X11 the clipboard's content is served by the program that set it.

use crate::state::lock;
use pith_core::clipboard::{nothing_to_rewrite, Content};
use pith_core::{Error, Result};
use std::sync::Mutex;

#[derive(Default)]
pub struct Clipboard(Mutex<Option<arboard::Clipboard>>);

impl Clipboard {
    fn with<T>(&self, f: impl FnOnce(&mut arboard::Clipboard) -> Result<T>) -> Result<T> {
        let mut slot = lock(&self.0);
        if slot.is_none() {
            let opened = arboard::Clipboard::new().map_err(|e| {
                Error::InvalidInput(format!("the clipboard cannot be reached: {e}"))
            })?;
            *slot = Some(opened);
        }
        match slot.as_mut() {
            Some(clipboard) => f(clipboard),
            None => Err(Error::InvalidInput(
                "the clipboard cannot be reached".into(),
            )),
        }
    }

    /// The clipboard's text; an empty clipboard and an image each get
    /// their own error.
    pub fn read(&self) -> Result<String> {
        self.with(|c| match c.get_text() {
            Ok(text) if !text.trim().is_empty() => Ok(text),
            Ok(_) => Err(Error::EmptyInput),
            // An image answers the request for text with "not available"
            // or, on X11, with data of the wrong type.
            Err(_) if c.get_image().is_ok() => {
                Err(nothing_to_rewrite(&Content::NotText("image/png".into()))
                    .unwrap_or(Error::EmptyInput))
            }
            Err(arboard::Error::ContentNotAvailable) => Err(Error::EmptyInput),
            Err(e) => Err(Error::InvalidInput(format!(
                "the clipboard could not be read: {e}"
            ))),
        })
    }

    pub fn write(&self, text: &str) -> Result<()> {
        self.with(|c| {
            c.set_text(text.to_string()).map_err(|e| {
                Error::InvalidInput(format!("the clipboard could not be written: {e}"))
            })
        })
    }
}
