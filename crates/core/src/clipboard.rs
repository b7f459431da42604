//! How `pith rephrase --clipboard` reaches the clipboard from a terminal or
//! a desktop's own shortcut: through the desktop's clipboard programs
//! (`wl-paste`/`wl-copy` on Wayland, `xclip` or `xsel` on X11), which keep
//! serving what was copied after `pith` exits. The choice is a pure function
//! of the session; running the programs is the command line's job.
//!
//! Pith reads the clipboard (what Ctrl+C copied), never X11's primary
//! selection: the primary selection changes whenever text is highlighted,
//! so it says less about what the user meant to rewrite, and Wayland has no
//! dependable equivalent.

use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Session {
    Wayland,
    X11,
}

/// The session from `WAYLAND_DISPLAY` and `DISPLAY`; Wayland wins when
/// both are set (X11 programs then see only XWayland's clipboard).
pub fn session(wayland_display: Option<&str>, display: Option<&str>) -> Result<Session> {
    let set = |v: Option<&str>| v.is_some_and(|v| !v.trim().is_empty());
    if set(wayland_display) {
        Ok(Session::Wayland)
    } else if set(display) {
        Ok(Session::X11)
    } else {
        Err(Error::InvalidInput(
            "no desktop session to take the clipboard from (neither WAYLAND_DISPLAY nor DISPLAY is set)"
                .into(),
        ))
    }
}

/// This process's session, from its environment.
pub fn current_session() -> Result<Session> {
    session(
        std::env::var("WAYLAND_DISPLAY").ok().as_deref(),
        std::env::var("DISPLAY").ok().as_deref(),
    )
}

/// One clipboard program: how to list what the clipboard holds, read its
/// text, and replace it (the text goes to standard input).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tool {
    pub program: &'static str,
    pub types: &'static [&'static str],
    pub read: &'static [&'static str],
    pub write: &'static [&'static str],
}

/// The programs to try for a session, best first.
pub fn tools(session: Session) -> &'static [Tool] {
    const WAYLAND: &[Tool] = &[Tool {
        program: "wl-paste",
        types: &["wl-paste", "--list-types"],
        read: &["wl-paste", "--no-newline", "--type", "text"],
        write: &["wl-copy", "--type", "text/plain;charset=utf-8"],
    }];
    const X11: &[Tool] = &[
        Tool {
            program: "xclip",
            types: &["xclip", "-o", "-selection", "clipboard", "-t", "TARGETS"],
            read: &[
                "xclip",
                "-o",
                "-selection",
                "clipboard",
                "-t",
                "UTF8_STRING",
            ],
            write: &["xclip", "-selection", "clipboard", "-t", "UTF8_STRING"],
        },
        Tool {
            program: "xsel",
            types: &[],
            read: &["xsel", "--clipboard", "--output"],
            write: &["xsel", "--clipboard", "--input"],
        },
    ];
    match session {
        Session::Wayland => WAYLAND,
        Session::X11 => X11,
    }
}

/// Pasting into another window after a rewrite is accepted: on X11 with
/// `xdotool` (give the focus back to the window that had it, then Ctrl+V);
/// Wayland lets no program type into another's window.
pub fn paste_into(session: Session, window: &str) -> Option<[Vec<String>; 2]> {
    match session {
        Session::X11 if !window.is_empty() && window.bytes().all(|b| b.is_ascii_digit()) => Some([
            ["xdotool", "windowfocus", "--sync", window]
                .map(String::from)
                .to_vec(),
            ["xdotool", "key", "--clearmodifiers", "ctrl+v"]
                .map(String::from)
                .to_vec(),
        ]),
        _ => None,
    }
}

/// The command that names the window with the keyboard focus (X11).
pub const FOCUSED_WINDOW: [&str; 2] = ["xdotool", "getwindowfocus"];

/// What to install when no program is there.
pub fn missing_tool(session: Session) -> Error {
    Error::InvalidInput(match session {
        Session::Wayland => {
            "no clipboard program found: install wl-clipboard (wl-paste, wl-copy)".into()
        }
        Session::X11 => "no clipboard program found: install xclip (or xsel)".into(),
    })
}

/// What the clipboard holds, from its list of types (MIME types or X11
/// targets) and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    Text(String),
    Empty,
    /// An image (or other data) and no text.
    NotText(String),
}

pub fn classify(types: &[&str], text: Option<&str>) -> Content {
    if let Some(t) = text.filter(|t| !t.trim().is_empty()) {
        return Content::Text(t.to_string());
    }
    // Data types are MIME types; X11 also lists its own atoms (TARGETS,
    // UTF8_STRING, ...) and programs add private ones.
    let data = types.iter().find(|t| {
        t.contains('/')
            && !t.starts_with("text/")
            && !t.starts_with("x-special/")
            && !t.starts_with("chromium/")
    });
    match data {
        Some(kind) => Content::NotText((*kind).to_string()),
        None => Content::Empty,
    }
}

/// The message for a clipboard with nothing to rewrite.
pub fn nothing_to_rewrite(content: &Content) -> Option<Error> {
    match content {
        Content::Text(_) => None,
        Content::Empty => Some(Error::EmptyInput),
        Content::NotText(kind) if kind.starts_with("image/") => Some(Error::InvalidInput(format!(
            "the clipboard holds an image ({kind}), not text; copy some text and try again"
        ))),
        Content::NotText(kind) => Some(Error::InvalidInput(format!(
            "the clipboard holds {kind}, not text; copy some text and try again"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wayland_wins_over_x11_and_no_session_is_explained() {
        assert_eq!(
            session(Some("wayland-0"), Some(":0")).expect("s"),
            Session::Wayland
        );
        assert_eq!(session(None, Some(":1")).expect("s"), Session::X11);
        assert_eq!(session(Some(""), Some(":1")).expect("s"), Session::X11);
        let err = session(None, None).expect_err("none").to_string();
        assert!(err.contains("DISPLAY"), "{err}");
        assert_eq!(tools(Session::Wayland)[0].write[0], "wl-copy");
        assert_eq!(tools(Session::X11)[0].program, "xclip");
        assert!(missing_tool(Session::X11).to_string().contains("xclip"));
    }

    #[test]
    fn pasting_goes_back_to_the_focused_window_on_x11_only() {
        let [focus, keys] = paste_into(Session::X11, "4194311").expect("x11");
        assert_eq!(focus, ["xdotool", "windowfocus", "--sync", "4194311"]);
        assert_eq!(keys.last().map(String::as_str), Some("ctrl+v"));
        assert!(paste_into(Session::Wayland, "4194311").is_none());
        assert!(paste_into(Session::X11, "").is_none());
        assert!(
            paste_into(Session::X11, "1; rm -rf /").is_none(),
            "only a window number"
        );
    }

    #[test]
    fn text_images_and_empty_clipboards_are_told_apart() {
        assert_eq!(
            classify(&["UTF8_STRING", "TARGETS"], Some("hello")),
            Content::Text("hello".into())
        );
        assert_eq!(classify(&["TARGETS"], Some("")), Content::Empty);
        assert_eq!(classify(&[], None), Content::Empty);
        let image = classify(&["TARGETS", "image/png"], None);
        assert_eq!(image, Content::NotText("image/png".into()));
        let err = nothing_to_rewrite(&image).expect("an error").to_string();
        assert!(err.contains("an image (image/png)"), "{err}");
        assert_eq!(
            nothing_to_rewrite(&Content::Empty).map(|e| e.code()),
            Some(crate::ErrorCode::EmptyInput)
        );
        assert!(nothing_to_rewrite(&Content::Text("x".into())).is_none());
    }
}
