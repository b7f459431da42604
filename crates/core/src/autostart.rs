//! "Open at login": the desktop's autostart entry, so the hotkey works
//! from the start of a session. On Linux desktops that is a `.desktop`
//! file in `$XDG_CONFIG_HOME/autostart` (`~/.config/autostart`), written
//! when the setting is turned on and removed when it is turned off.

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// The entry's file name.
pub const FILE: &str = "pith.desktop";

/// The autostart folder: `$XDG_CONFIG_HOME/autostart`, else
/// `~/.config/autostart`.
pub fn dir() -> Option<PathBuf> {
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(config.join("autostart"))
}

/// The entry that starts `exec` at login.
pub fn entry(exec: &Path) -> String {
    // The Exec key quotes a path with spaces; `"` and `\` are escaped.
    let quoted = exec
        .display()
        .to_string()
        .replace('\\', "\\\\")
        .replace('"', "\\\"");
    format!(
        "[Desktop Entry]\nType=Application\nName=Pith\n\
         Comment=Private writing help from small local language models\n\
         Exec=\"{quoted}\"\nIcon=pith\nTerminal=false\nX-GNOME-Autostart-enabled=true\n"
    )
}

/// Writes the entry in `dir` (`on`) or removes it (`off`; nothing to
/// remove is fine).
pub fn apply(dir: &Path, on: bool, exec: &Path) -> Result<()> {
    let path = dir.join(FILE);
    if on {
        std::fs::create_dir_all(dir)
            .and_then(|()| std::fs::write(&path, entry(exec)))
            .map_err(|e| Error::io(format!("could not write {}", path.display()), e))
    } else {
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::io(format!("could not remove {}", path.display()), e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_entry_is_written_when_on_and_removed_when_off() {
        let config = tempfile::tempdir().expect("tmp");
        let dir = config.path().join("autostart");
        let exec = Path::new("/opt/My Apps/pith-desktop");
        apply(&dir, true, exec).expect("written");
        let text = std::fs::read_to_string(dir.join(FILE)).expect("reads");
        assert!(text.starts_with("[Desktop Entry]\n"), "{text}");
        assert!(
            text.contains("Exec=\"/opt/My Apps/pith-desktop\"\n"),
            "{text}"
        );
        apply(&dir, false, exec).expect("removed");
        assert!(!dir.join(FILE).exists());
        apply(&dir, false, exec).expect("removing twice is fine");
    }
}
