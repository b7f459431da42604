//! The rephrase popup: the `#popup` view of the same page in a window of
//! its own (its own capability file), always on top, placed by the pointer
//! and kept on its screen.

use crate::window::screens;
use pith_core::window::popup_place;
use tauri::{AppHandle, Manager, PhysicalPosition, WebviewUrl, WebviewWindowBuilder};

pub const POPUP: &str = "popup";
/// The popup's size in logical pixels.
const POPUP_SIZE: (f64, f64) = (540.0, 360.0);

/// Shows the popup by the pointer, creating it the first time, and gives
/// it the keyboard.
pub fn show(app: &AppHandle) -> tauri::Result<()> {
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

pub fn hide(app: &AppHandle) {
    if let Some(w) = app.get_webview_window(POPUP) {
        let _ = w.hide();
    }
}
