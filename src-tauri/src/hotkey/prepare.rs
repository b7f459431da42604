//! Copied text prepared for the shortcut while the app runs
//! (`pith_core::flows::prepare`): the clipboard is looked at a few times a
//! second, and new text the shortcut would take is evaluated on the
//! hotkey's engine as background work, so the key press's rewrite starts
//! at once. Settings are read only when the clipboard changes. A password
//! manager's entry, which it marks as concealed, is never prepared.

use crate::engine::App;
use pith_core::flows::prepare::{Copied, CopyWatch};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tauri::{AppHandle, Manager};

/// How often the clipboard is looked at: well under the time from a copy
/// to a key press.
const POLL: Duration = Duration::from_millis(250);

/// Starts watching the clipboard for the app's lifetime.
pub fn watch(app: AppHandle) {
    let started = std::thread::Builder::new()
        .name("pith-copy-watch".into())
        .spawn(move || {
            let Ok(mut clipboard) = arboard::Clipboard::new() else {
                tracing::warn!("the clipboard cannot be watched; copied text is not prepared");
                return;
            };
            let mut watch = CopyWatch::default();
            loop {
                std::thread::sleep(POLL);
                // An image or files answer the request for text with an
                // error: nothing to prepare.
                let text = clipboard.get_text();
                let copied = match &text {
                    Ok(t) => Copied::Text(t),
                    Err(_) => Copied::Other,
                };
                let Some(text) = watch.copied(copied, true) else {
                    continue;
                };
                if concealed() {
                    continue;
                }
                let settings = crate::settings::load().map(|s| s.app).unwrap_or_default();
                if !settings.prepare_copied_text {
                    continue;
                }
                if let Some(token) = app
                    .state::<App>()
                    .prepare_copy(text, settings.rephrase_mode)
                {
                    watch.preparing(token);
                }
            }
        });
    if let Err(e) = started {
        tracing::warn!("copied text is not prepared ({e})");
    }
}

/// The target a password manager (KeePassXC, KDE's tools) adds to mark
/// a clipboard entry as a secret.
const CONCEALED_TARGET: &str = "x-kde-passwordManagerHint";

/// Whether the clipboard's owner offers the concealed target, asked of
/// `xclip` on X11 (a second at most). Where it cannot be asked (no X11,
/// no xclip), no entry is known to be concealed.
fn concealed() -> bool {
    if std::env::var_os("DISPLAY").is_none() {
        return false;
    }
    let Ok(mut child) = Command::new("xclip")
        .args(["-selection", "clipboard", "-t", "TARGETS", "-o"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
    else {
        return false;
    };
    let deadline = Instant::now() + Duration::from_secs(1);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            let mut out = String::new();
            if let Some(mut stdout) = child.stdout.take() {
                let _ = std::io::Read::read_to_string(&mut stdout, &mut out);
            }
            return offers_concealed(&out);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    let _ = child.wait();
    false
}

/// Whether a list of clipboard targets, one per line, marks a secret.
fn offers_concealed(targets: &str) -> bool {
    targets.lines().any(|t| t.trim() == CONCEALED_TARGET)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_managers_mark_is_found_among_the_targets() {
        assert!(offers_concealed(
            "TIMESTAMP\nTARGETS\nUTF8_STRING\nx-kde-passwordManagerHint\n"
        ));
        assert!(!offers_concealed(
            "TIMESTAMP\nTARGETS\nUTF8_STRING\ntext/plain\n"
        ));
        assert!(!offers_concealed(""));
    }
}
