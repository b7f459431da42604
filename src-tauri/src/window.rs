//! The main window's life: one app per data folder (a second start brings
//! the first window forward), the window's size and place remembered, and
//! the tray icon with Open, Rephrase clipboard and Quit.

use pith_core::window::{self, Rect};
use std::path::{Path, PathBuf};
use tauri::menu::{Menu, MenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager, PhysicalPosition, PhysicalSize, Runtime, WebviewWindow};

pub const MAIN: &str = "main";
/// The smallest window, in logical pixels (as in tauri.conf.json).
const MIN_SIZE: (f64, f64) = (640.0, 480.0);

pub fn show_main<R: Runtime>(app: &AppHandle<R>) {
    if let Some(w) = app.get_webview_window(MAIN) {
        let _ = w.unminimize();
        let _ = w.show();
        let _ = w.set_focus();
    }
}

fn geometry_file(data_dir: &Path) -> PathBuf {
    data_dir.join("window.json")
}

/// The connected monitors as plain rectangles (physical pixels).
pub fn screens(monitors: Vec<tauri::Monitor>) -> Vec<Rect> {
    monitors
        .iter()
        .map(|m| Rect {
            x: m.position().x,
            y: m.position().y,
            width: m.size().width,
            height: m.size().height,
        })
        .collect()
}

/// Puts the window where it last was (when that is still on a screen),
/// then shows it.
pub fn restore<R: Runtime>(w: &WebviewWindow<R>, data_dir: Option<&Path>) {
    let saved = data_dir.and_then(|d| window::load(&geometry_file(d)));
    let screens = screens(w.available_monitors().unwrap_or_default());
    let scale = w.scale_factor().unwrap_or(1.0);
    let min = ((MIN_SIZE.0 * scale) as u32, (MIN_SIZE.1 * scale) as u32);
    if let Some(place) = saved.and_then(|s| window::restore(s, &screens, min)) {
        let _ = w.set_size(PhysicalSize::new(place.width, place.height));
        let _ = w.set_position(PhysicalPosition::new(place.x, place.y));
    }
    let _ = w.show();
    let _ = w.set_focus();
}

/// Saves the window's place after it moved or was resized.
pub fn remember<R: Runtime>(w: &tauri::Window<R>, data_dir: &Path) {
    if w.is_minimized().unwrap_or(false) || w.is_maximized().unwrap_or(false) {
        return;
    }
    if let (Ok(pos), Ok(size)) = (w.outer_position(), w.inner_size()) {
        let rect = Rect {
            x: pos.x,
            y: pos.y,
            width: size.width,
            height: size.height,
        };
        let _ = window::save(&geometry_file(data_dir), rect);
    }
}

/// The tray icon; "Rephrase clipboard" calls `on_rephrase`. Where the desktop
/// shows no tray, its absence is only reported: the window and the
/// shortcut work without it.
pub fn tray(app: &AppHandle, on_rephrase: fn(&AppHandle)) -> tauri::Result<()> {
    let open = MenuItem::with_id(app, "open", "Open Pith", true, None::<&str>)?;
    let rephrase = MenuItem::with_id(app, "rephrase", "Rephrase clipboard", true, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", "Quit Pith", true, None::<&str>)?;
    let menu = Menu::with_items(app, &[&open, &rephrase, &quit])?;
    let mut builder = TrayIconBuilder::with_id("pith")
        .tooltip("Pith")
        .menu(&menu)
        .on_menu_event(move |app, event| match event.id().as_ref() {
            "open" => show_main(app),
            "rephrase" => on_rephrase(app),
            "quit" => app.exit(0),
            _ => {}
        });
    if let Some(icon) = app.default_window_icon() {
        builder = builder.icon(icon.clone());
    }
    builder.build(app).map(|_| ())
}

/// One app per data folder, through a Unix socket in it: the first start
/// listens; a later one asks it to show its window and exits.
#[cfg(unix)]
pub mod instance {
    use std::io::{BufRead, BufReader, Write};
    use std::os::unix::net::{UnixListener, UnixStream};
    use std::path::Path;

    pub enum Claim {
        First(UnixListener),
        AlreadyRunning,
    }

    pub fn claim(data_dir: &Path) -> std::io::Result<Claim> {
        let path = data_dir.join("desktop.sock");
        if let Ok(mut other) = UnixStream::connect(&path) {
            other.write_all(b"show\n")?;
            return Ok(Claim::AlreadyRunning);
        }
        // Nobody listens: a socket left by a crash is removed.
        let _ = std::fs::remove_file(&path);
        std::fs::create_dir_all(data_dir)?;
        UnixListener::bind(&path).map(Claim::First)
    }

    /// Calls `on_show` for each later start.
    pub fn listen(listener: UnixListener, on_show: impl Fn() + Send + 'static) {
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut line = String::new();
                if BufReader::new(stream).read_line(&mut line).is_ok() && line.trim() == "show" {
                    on_show();
                }
            }
        });
    }
}
