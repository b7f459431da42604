//! Pasting an accepted rewrite into the window the text was copied from
//! (Settings: "Paste after Accept"; X11 only, through `xdotool`: Wayland
//! lets no program type into another's window).

use pith_core::clipboard;

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

/// The window with the keyboard focus now (X11), to paste into later.
pub fn focused_window() -> Option<String> {
    if clipboard::current_session().ok()? != clipboard::Session::X11 {
        return None;
    }
    run_quietly(&clipboard::FOCUSED_WINDOW.map(String::from))
}

/// Gives the focus back to `window` and presses Ctrl+V.
pub fn paste_into(window: Option<String>) {
    let commands = clipboard::current_session()
        .ok()
        .zip(window)
        .and_then(|(s, w)| clipboard::paste_into(s, &w));
    let Some(commands) = commands else {
        tracing::warn!("pasting into another window needs X11 and xdotool");
        return;
    };
    std::thread::spawn(move || {
        // Let the popup go first, so the focus can return.
        std::thread::sleep(std::time::Duration::from_millis(150));
        for argv in &commands {
            if run_quietly(argv).is_none() {
                tracing::warn!("could not paste ({} failed)", argv.join(" "));
                return;
            }
        }
    });
}
