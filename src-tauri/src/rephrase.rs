//! The clipboard rephrase hotkey. The global shortcut (Settings; Ctrl+Alt+R
//! by default) reads the clipboard's text and opens a small always-on-top
//! popup by the pointer, which streams the rewrite in the default mode.
//! Accept puts the result on the clipboard (the text it replaced can be put
//! back from the main window); Cancel leaves the clipboard as it was. Every
//! rewrite is kept in the history. The popup names no text of its own: the
//! original and the result stay here, in Rust.

use crate::documents::{ChosenFile, DropEvent, DROP_EVENT};
use crate::state::{lock, AppState};
use crate::window::{screens, show_main, MAIN};
use pith_core::clipboard::{self, nothing_to_rewrite, Content};
use pith_core::engine::{CancelToken, Engine};
use pith_core::error::ErrorPayload;
use pith_core::history::Rewrite;
use pith_core::tasks::rephrase::{rephrase_with, RephraseMode};
use pith_core::window::popup_place;
use pith_core::Error;
use serde::Serialize;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use tauri::ipc::Channel;
use tauri::{AppHandle, Emitter, Manager, PhysicalPosition, WebviewUrl, WebviewWindowBuilder};
use tauri_plugin_global_shortcut::{GlobalShortcutExt, ShortcutState};

type Reply<T> = Result<T, ErrorPayload>;

pub const POPUP: &str = "popup";
/// The popup's size in logical pixels.
const POPUP_SIZE: (f64, f64) = (540.0, 360.0);

/// What the popup is asked to rewrite.
#[derive(Debug, Clone, Serialize)]
pub struct Pending {
    pub id: u64,
    pub original: String,
    pub mode: RephraseMode,
    pub modes: Vec<&'static str>,
    /// Why there is nothing to rewrite (an empty clipboard, an image).
    pub problem: Option<ErrorPayload>,
}

/// Whether the shortcut works, for the main window.
#[derive(Debug, Clone, Default, Serialize)]
pub struct HotkeyStatus {
    pub shortcut: String,
    pub registered: bool,
    pub message: Option<String>,
}

#[derive(Default)]
pub struct Rephraser {
    /// Kept for the app's lifetime: on X11 the clipboard's content is
    /// served by the program that set it.
    clipboard: Mutex<Option<arboard::Clipboard>>,
    pending: Mutex<Option<Pending>>,
    /// The last finished rewrite of the pending text, and its mode.
    result: Mutex<Option<(String, RephraseMode, String)>>,
    /// The clipboard's text before the last accepted rewrite.
    replaced: Mutex<Option<String>>,
    running: Mutex<Option<CancelToken>>,
    hotkey: Mutex<HotkeyStatus>,
    /// The window that had the keyboard focus when the shortcut was
    /// pressed (X11), for pasting the accepted result into it.
    focused: Mutex<Option<String>>,
    next_id: AtomicU64,
}

impl Rephraser {
    fn with_clipboard<T>(
        &self,
        f: impl FnOnce(&mut arboard::Clipboard) -> pith_core::Result<T>,
    ) -> pith_core::Result<T> {
        let mut slot = lock(&self.clipboard);
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

    fn read(&self) -> pith_core::Result<String> {
        self.with_clipboard(|c| match c.get_text() {
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

    fn write(&self, text: &str) -> pith_core::Result<()> {
        self.with_clipboard(|c| {
            c.set_text(text.to_string()).map_err(|e| {
                Error::InvalidInput(format!("the clipboard could not be written: {e}"))
            })
        })
    }
}

/// Registers `shortcut` (replacing the previous one) and tells the main
/// window whether it worked.
pub fn register(app: &AppHandle, shortcut: &str) -> HotkeyStatus {
    let shortcuts = app.global_shortcut();
    let _ = shortcuts.unregister_all();
    let result = shortcuts.on_shortcut(shortcut, |app, _, event| {
        if event.state() == ShortcutState::Pressed {
            start(app);
        }
    });
    let status = match result {
        Ok(()) => HotkeyStatus {
            shortcut: shortcut.to_string(),
            registered: true,
            message: None,
        },
        Err(e) => HotkeyStatus {
            shortcut: shortcut.to_string(),
            registered: false,
            message: Some(format!(
                "The shortcut {shortcut} could not be registered ({e}). Another program may use it: \
                 choose another in Settings, or bind `pith rephrase --clipboard` to a key in your \
                 desktop's keyboard settings (the way on Wayland)."
            )),
        },
    };
    *lock(&app.state::<Rephraser>().hotkey) = status.clone();
    let _ = app.emit_to(MAIN, "hotkey-status", &status);
    status
}

/// The hotkey (or the tray's "Rephrase clipboard"): read the clipboard and
/// open the popup.
pub fn start(app: &AppHandle) {
    let app = app.clone();
    std::thread::spawn(move || {
        let r = app.state::<Rephraser>();
        *lock(&r.focused) = focused_window();
        let mode = crate::settings::load()
            .map(|s| s.app.rephrase_mode)
            .unwrap_or(RephraseMode::Rewrite);
        let read = r.read();
        let pending = Pending {
            id: r.next_id.fetch_add(1, Ordering::Relaxed) + 1,
            original: read.as_deref().unwrap_or_default().to_string(),
            mode,
            modes: RephraseMode::ALL.iter().map(|m| m.name()).collect(),
            problem: read.err().map(|e| e.to_payload()),
        };
        stop_running(&r);
        *lock(&r.result) = None;
        *lock(&r.pending) = Some(pending.clone());
        if let Err(e) = show_popup(&app) {
            eprintln!("pith-desktop: the rephrase popup could not open: {e}");
        }
        let _ = app.emit_to(POPUP, "rephrase-request", &pending);
    });
}

fn run_quietly(argv: &[String]) -> Option<String> {
    let (program, args) = argv.split_first()?;
    let out = std::process::Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn focused_window() -> Option<String> {
    if clipboard::current_session().ok()? != clipboard::Session::X11 {
        return None;
    }
    run_quietly(&clipboard::FOCUSED_WINDOW.map(String::from))
}

/// Gives the focus back to the window that had it and presses Ctrl+V.
fn paste_into(window: Option<String>) {
    let commands = clipboard::current_session()
        .ok()
        .zip(window)
        .and_then(|(s, w)| clipboard::paste_into(s, &w));
    let Some(commands) = commands else {
        eprintln!("pith-desktop: pasting into another window needs X11 and xdotool");
        return;
    };
    std::thread::spawn(move || {
        // Let the popup go first, so the focus can return.
        std::thread::sleep(std::time::Duration::from_millis(150));
        for argv in &commands {
            if run_quietly(argv).is_none() {
                eprintln!("pith-desktop: could not paste ({} failed)", argv.join(" "));
                return;
            }
        }
    });
}

fn stop_running(r: &Rephraser) {
    if let Some(token) = lock(&r.running).as_ref() {
        token.cancel();
    }
}

/// Shows the popup by the pointer, creating it the first time, and gives
/// it the keyboard.
fn show_popup(app: &AppHandle) -> tauri::Result<()> {
    let window = match app.get_webview_window(POPUP) {
        Some(w) => w,
        None => WebviewWindowBuilder::new(app, POPUP, WebviewUrl::App("index.html#popup".into()))
            .title("Pith — Rephrase")
            .inner_size(POPUP_SIZE.0, POPUP_SIZE.1)
            .min_inner_size(420.0, 260.0)
            .always_on_top(true)
            .skip_taskbar(true)
            .visible(false)
            .build()?,
    };
    let scale = window.scale_factor().unwrap_or(1.0);
    let size = ((POPUP_SIZE.0 * scale) as u32, (POPUP_SIZE.1 * scale) as u32);
    if let Ok(p) = app.cursor_position() {
        let (x, y) = popup_place(
            (p.x as i32, p.y as i32),
            size,
            &screens(app.available_monitors().unwrap_or_default()),
        );
        window.set_position(PhysicalPosition::new(x, y))?;
    }
    window.show()?;
    window.set_focus()
}

fn hide_popup(app: &AppHandle) {
    if let Some(w) = app.get_webview_window(POPUP) {
        let _ = w.hide();
    }
}

/// The text the popup is to rewrite, if any.
#[tauri::command]
pub fn rephrase_pending(r: tauri::State<'_, Rephraser>) -> Option<Pending> {
    lock(&r.pending).clone()
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum RephraseEvent {
    /// A new attempt starts: what was shown is replaced.
    Attempt {
        n: usize,
    },
    Piece {
        text: String,
    },
}

#[derive(Debug, Serialize)]
pub struct RephraseDone {
    pub text: String,
    pub mode: RephraseMode,
    /// Proofreading found nothing to change.
    pub unchanged: bool,
}

/// Rewrites the pending text in `mode`, streaming through `on_event`;
/// `again` asks for a different version (Retry). It goes ahead of queued
/// chat and document work.
#[tauri::command]
pub async fn rephrase_run(
    app: AppHandle,
    mode: String,
    again: bool,
    on_event: Channel<RephraseEvent>,
) -> Reply<RephraseDone> {
    let mode: RephraseMode = mode.parse().map_err(|e: Error| e.to_payload())?;
    let r = app.state::<Rephraser>();
    let pending = lock(&r.pending)
        .clone()
        .ok_or_else(|| Error::InvalidInput("there is nothing to rewrite".into()).to_payload())?;
    if let Some(problem) = pending.problem {
        return Err(problem);
    }
    stop_running(&r);
    let text = pending.original.clone();
    let state = app.state::<AppState>();
    let done = state
        .run_rephrase(&r.running, move |engine, cancel| {
            let mut shown = 0;
            let result = rephrase_with(engine, &text, mode, again, cancel, &mut |n, piece| {
                if n != shown {
                    shown = n;
                    let _ = on_event.send(RephraseEvent::Attempt { n });
                }
                let _ = on_event.send(RephraseEvent::Piece {
                    text: piece.to_string(),
                });
            });
            let model = Path::new(&engine.info().path)
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            result.map(|r| (r, model))
        })
        .await?
        .map_err(|e| e.to_payload())?;
    let (rephrased, model) = done;
    // A newer hotkey press replaced the text meanwhile: this result is stale.
    if lock(&r.pending).as_ref().map(|p| p.id) != Some(pending.id) {
        return Err(Error::Cancelled.to_payload());
    }
    *lock(&r.result) = Some((rephrased.text.clone(), rephrased.mode, model));
    Ok(RephraseDone {
        text: rephrased.text,
        mode: rephrased.mode,
        unchanged: rephrased.unchanged,
    })
}

fn record(
    app: &AppHandle,
    original: &str,
    result: &(String, RephraseMode, String),
    accepted: bool,
) {
    let Ok(store) = app.state::<AppState>().history() else {
        return;
    };
    let saved = store
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .record_rewrite(
            original,
            &result.0,
            result.1.name(),
            accepted,
            Some(&result.2),
        );
    if let Err(e) = saved {
        eprintln!("pith-desktop: the rewrite was not saved in the history: {e}");
    }
}

/// Accept: the finished rewrite goes to the clipboard (the text it
/// replaces is kept, to be put back from the main window), is recorded as
/// accepted, and the popup closes.
#[tauri::command]
pub fn rephrase_accept(app: AppHandle) -> Reply<()> {
    let r = app.state::<Rephraser>();
    let result = lock(&r.result).clone().ok_or_else(|| {
        Error::InvalidInput("the rewrite is not finished yet".into()).to_payload()
    })?;
    let original = lock(&r.pending)
        .as_ref()
        .map(|p| p.original.clone())
        .unwrap_or_default();
    r.write(&result.0).map_err(|e| e.to_payload())?;
    *lock(&r.replaced) = Some(original.clone());
    record(&app, &original, &result, true);
    *lock(&r.pending) = None;
    *lock(&r.result) = None;
    hide_popup(&app);
    if crate::settings::load().is_ok_and(|s| s.app.auto_paste) {
        paste_into(lock(&r.focused).take());
    }
    let _ = app.emit_to(MAIN, "rewrites-changed", ());
    Ok(())
}

/// Stops a rewrite being written, keeping the popup open (switching modes).
#[tauri::command]
pub fn rephrase_stop(r: tauri::State<'_, Rephraser>) {
    stop_running(&r);
}

/// Cancel: stops, records a finished but refused rewrite, closes the popup.
/// The clipboard is not touched.
#[tauri::command]
pub fn rephrase_cancel(app: AppHandle) {
    let r = app.state::<Rephraser>();
    stop_running(&r);
    let pending = lock(&r.pending).take();
    if let (Some(p), Some(result)) = (pending, lock(&r.result).take()) {
        record(&app, &p.original, &result, false);
        let _ = app.emit_to(MAIN, "rewrites-changed", ());
    }
    hide_popup(&app);
}

/// Text too long to rewrite: summarize it instead, in the main window.
#[tauri::command]
pub fn rephrase_summarize(app: AppHandle) -> Reply<()> {
    let r = app.state::<Rephraser>();
    let text = lock(&r.pending)
        .take()
        .map(|p| p.original)
        .ok_or_else(|| Error::InvalidInput("there is nothing to summarize".into()).to_payload())?;
    let dir = pith_core::paths::data_dir().ok_or_else(|| {
        Error::InvalidInput("no data folder; set PITH_DATA_DIR".into()).to_payload()
    })?;
    let path = dir.join("clipboard.txt");
    std::fs::write(&path, text)
        .map_err(|e| Error::io(format!("could not write {}", path.display()), e).to_payload())?;
    let name = "the clipboard's text".to_string();
    let token = app.state::<AppState>().keep_file(path, name.clone());
    hide_popup(&app);
    show_main(&app);
    let file = ChosenFile { token, name };
    let _ = app.emit_to(MAIN, DROP_EVENT, DropEvent::Dropped { file });
    Ok(())
}

/// The latest rewrites, for the main window's history.
#[tauri::command]
pub fn rewrites(state: tauri::State<'_, AppState>) -> Reply<Vec<Rewrite>> {
    let store = state.history()?;
    let list = store
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .rewrites(100);
    list.map_err(|e| e.to_payload())
}

/// Puts back the clipboard text that the last accepted rewrite replaced.
#[tauri::command]
pub fn restore_clipboard(r: tauri::State<'_, Rephraser>) -> Reply<()> {
    let original = lock(&r.replaced).clone().ok_or_else(|| {
        Error::InvalidInput("no rewrite has replaced the clipboard yet".into()).to_payload()
    })?;
    r.write(&original).map_err(|e| e.to_payload())
}

/// The main window's "Rephrase clipboard" button: the same as the hotkey.
#[tauri::command]
pub fn rephrase_clipboard(app: AppHandle) {
    start(&app);
}

#[tauri::command]
pub fn hotkey_status(r: tauri::State<'_, Rephraser>) -> HotkeyStatus {
    lock(&r.hotkey).clone()
}
