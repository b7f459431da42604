//! The user's settings, kept in `settings.toml` in the data folder. A
//! missing file means the defaults: nothing leaves the machine.
//!
//! ```toml
//! auto_escalate = false   # retry a failed small-model rewrite on the larger model
//!
//! [remote]                # an OpenAI-compatible endpoint; off unless enabled
//! enabled = true
//! base_url = "https://api.example.com/v1"
//! model = "some-large-model"
//! api_key_env = "EXAMPLE_API_KEY"   # the key is read from this variable
//!
//! [app]                   # the desktop app's choices (its Settings screen)
//! hotkey = "Ctrl+Alt+R"   # rephrases the clipboard from anywhere
//! rephrase_mode = "rewrite"
//! theme = "system"        # system, light or dark
//! auto_paste = false      # after Accept, paste into the window that had the focus (X11)
//! learn_from_accepted = true   # accepted rewrites become examples for new ones
//! model = "/path/to/a/model.gguf"   # the model to load; else the default
//!
//! [agent]
//! folders = ["/home/me/Documents/inbox"]   # what the agent's tools may touch
//!
//! [[commands]]            # the user's own commands (the Commands page)
//! name = "to-french"
//! instruction = "Translate into French: {text}"
//! output = "clipboard"    # popup, clipboard, folder or conversation
//! hotkey = "Ctrl+Alt+F"
//! ```

use crate::error::{Error, Result};
use crate::routing::{self, Remote};
use crate::tasks::rephrase::RephraseMode;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserSettings {
    #[serde(default)]
    pub auto_escalate: bool,
    #[serde(default)]
    pub remote: RemoteSettings,
    #[serde(default)]
    pub app: AppSettings,
    /// The user's commands, checked as a whole (`commands::validate`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub commands: Vec<crate::commands::CustomCommand>,
    #[serde(default, skip_serializing_if = "AgentSettings::is_empty")]
    pub agent: AgentSettings,
}

/// What the agent may use.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct AgentSettings {
    /// The folders the agent's tools may read and change (and nothing
    /// outside them). Empty: none until the person grants one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[ts(type = "string[]")]
    pub folders: Vec<PathBuf>,
}

impl AgentSettings {
    pub fn is_empty(&self) -> bool {
        self.folders.is_empty()
    }

    /// `folder` added (as an absolute path, once).
    pub fn grant(&mut self, folder: &Path) -> Result<()> {
        let real = std::fs::canonicalize(folder)
            .ok()
            .filter(|p| p.is_dir())
            .ok_or_else(|| Error::InvalidInput(format!("{} is not a folder", folder.display())))?;
        if !self.folders.contains(&real) {
            self.folders.push(real);
        }
        Ok(())
    }
}

/// The desktop app's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct AppSettings {
    #[serde(default = "default_hotkey")]
    pub hotkey: String,
    #[serde(default = "default_mode")]
    pub rephrase_mode: RephraseMode,
    #[serde(default)]
    pub theme: Theme,
    /// After Accept, paste the result into the window that had the
    /// keyboard focus when the shortcut was pressed (X11, with xdotool).
    #[serde(default)]
    pub auto_paste: bool,
    /// Evaluate copied text for the shortcut before it is pressed, so the
    /// rewrite starts at once (see `flows::prepare`).
    #[serde(default = "default_prepare")]
    pub prepare_copied_text: bool,
    /// Let the logs hold the text the user works on (for a bug report);
    /// off, they hold only its length (`logs::text`).
    #[serde(default)]
    pub debug_logs: bool,
    /// Start the app when the user logs in (`autostart`), so the hotkey
    /// works from the start of a session.
    #[serde(default)]
    pub open_at_login: bool,
    /// Show the model the user's accepted rewrites most like a new text
    /// as examples (`flows::rephrase::examples_for`).
    #[serde(default = "default_prepare")]
    pub learn_from_accepted: bool,
    /// The model file to load instead of the default one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<PathBuf>,
}

impl AppSettings {
    /// Settings as the window sent them, with what the window may not
    /// choose kept as `stored` has it: the model file is changed only by
    /// picking an installed model (the window never names a path).
    pub fn from_window(self, stored: &AppSettings) -> AppSettings {
        AppSettings {
            model: stored.model.clone(),
            ..self
        }
    }
}

pub const DEFAULT_HOTKEY: &str = "Ctrl+Alt+R";

fn default_hotkey() -> String {
    DEFAULT_HOTKEY.to_string()
}

fn default_prepare() -> bool {
    true
}

fn default_mode() -> RephraseMode {
    RephraseMode::Rewrite
}

impl Default for AppSettings {
    fn default() -> Self {
        Self {
            hotkey: default_hotkey(),
            rephrase_mode: default_mode(),
            theme: Theme::System,
            auto_paste: false,
            prepare_copied_text: true,
            debug_logs: false,
            open_at_login: false,
            learn_from_accepted: true,
            model: None,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Theme {
    /// Light or dark as the desktop is.
    #[default]
    System,
    Light,
    Dark,
}

/// Keys a global shortcut may end in, besides letters and digits.
const NAMED_KEYS: &[&str] = &[
    "Space", "Enter", "Tab", "Insert", "Home", "End", "PageUp", "PageDown",
];

/// Checks a shortcut such as `ctrl+alt+r` and writes it the one way the
/// app stores and shows it (`Ctrl+Alt+R`). It needs Ctrl, Alt or Super (a
/// shortcut with Shift alone would steal ordinary typing) and one key: a
/// letter, a digit, F1–F24, or a named key.
pub fn normalize_hotkey(text: &str) -> Result<String> {
    let bad = |why: &str| Error::InvalidInput(format!("the shortcut \"{}\" {why}", text.trim()));
    let mut mods = [false; 4]; // ctrl, alt, shift, super
    let mut key: Option<String> = None;
    for part in text.split('+').map(str::trim) {
        let slot = match part.to_ascii_lowercase().as_str() {
            "" => return Err(bad("has an empty part")),
            "ctrl" | "control" => Some(0),
            "alt" | "option" => Some(1),
            "shift" => Some(2),
            "super" | "meta" | "cmd" | "command" | "win" => Some(3),
            _ => None,
        };
        if let Some(i) = slot {
            if mods[i] {
                return Err(bad("repeats a modifier"));
            }
            mods[i] = true;
            continue;
        }
        if key.is_some() {
            return Err(bad("has more than one key; use modifiers and one key"));
        }
        key = Some(key_name(part).ok_or_else(|| {
            bad("ends in a key that cannot be used; use a letter, a digit, F1-F24 or Space")
        })?);
    }
    let key = key.ok_or_else(|| bad("has no key, only modifiers"))?;
    if !(mods[0] || mods[1] || mods[3]) {
        return Err(bad("needs Ctrl, Alt or Super"));
    }
    let names = ["Ctrl", "Alt", "Shift", "Super"];
    let mut out: Vec<&str> = names
        .iter()
        .zip(mods)
        .filter(|(_, on)| *on)
        .map(|(n, _)| *n)
        .collect();
    out.push(&key);
    Ok(out.join("+"))
}

fn key_name(part: &str) -> Option<String> {
    let mut chars = part.chars();
    if let (Some(c), None) = (chars.next(), chars.next()) {
        return c
            .is_ascii_alphanumeric()
            .then(|| c.to_ascii_uppercase().to_string());
    }
    let upper = part.to_ascii_uppercase();
    if let Some(n) = upper.strip_prefix('F').and_then(|n| n.parse::<u8>().ok()) {
        return (1..=24).contains(&n).then(|| format!("F{n}"));
    }
    NAMED_KEYS
        .iter()
        .find(|k| k.eq_ignore_ascii_case(part))
        .map(|k| k.to_string())
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoteSettings {
    #[serde(default)]
    pub enabled: bool,
    #[serde(default)]
    pub base_url: String,
    #[serde(default)]
    pub model: String,
    #[serde(default)]
    pub api_key_env: Option<String>,
}

/// `fresh` (the settings as written from scratch) laid out as `old` was:
/// each value of `fresh` replaces the same key's value in `old` with the
/// comments and spacing around it kept, keys `fresh` lacks are removed, and
/// new ones added at the end of their table. `None` when `old` does not
/// parse (it is then written anew).
fn keep_layout(old: &str, fresh: &str) -> Option<String> {
    let mut doc: toml_edit::DocumentMut = old.parse().ok()?;
    let fresh: toml_edit::DocumentMut = fresh.parse().ok()?;
    merge_table(doc.as_table_mut(), fresh.as_table());
    Some(doc.to_string())
}

fn merge_table(old: &mut toml_edit::Table, fresh: &toml_edit::Table) {
    let gone: Vec<String> = old
        .iter()
        .map(|(k, _)| k.to_string())
        .filter(|k| !fresh.contains_key(k))
        .collect();
    for k in gone {
        old.remove(&k);
    }
    for (key, item) in fresh.iter() {
        match (old.get_mut(key), item) {
            (Some(toml_edit::Item::Table(o)), toml_edit::Item::Table(f)) => merge_table(o, f),
            (Some(toml_edit::Item::Value(o)), toml_edit::Item::Value(f)) => {
                let decor = o.decor().clone();
                *o = f.clone();
                *o.decor_mut() = decor;
            }
            _ => {
                old.insert(key, item.clone());
            }
        }
    }
}

/// `settings.toml` in the data folder.
pub fn default_path() -> Option<PathBuf> {
    crate::paths::data_dir().map(|d| d.join("settings.toml"))
}

impl UserSettings {
    /// Reads the settings; a missing file gives the defaults, a broken one
    /// an error that names it (never silently ignored: it may hold a
    /// remote endpoint the user meant to switch off).
    pub fn load(path: &Path) -> Result<Self> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => return Err(Error::io(format!("could not read {}", path.display()), e)),
        };
        let mut settings: Self = toml::from_str(&text)
            .map_err(|e| Error::InvalidInput(format!("{} is not valid: {e}", path.display())))?;
        settings.commands = crate::commands::validate(&settings.commands, &settings.app.hotkey)
            .map_err(|e| Error::InvalidInput(format!("{}: {e}", path.display())))?;
        if settings.remote.enabled
            && (settings.remote.base_url.trim().is_empty()
                || settings.remote.model.trim().is_empty())
        {
            return Err(Error::InvalidInput(format!(
                "{}: [remote] is enabled but base_url or model is empty",
                path.display()
            )));
        }
        Ok(settings)
    }

    pub fn load_default() -> Result<Self> {
        default_path().map_or_else(|| Ok(Self::default()), |p| Self::load(&p))
    }

    /// Writes the settings (to a temporary file, then renamed over the old
    /// one, so a crash never leaves half a file). The shortcut is checked
    /// and stored in its normal form. What the user wrote in the file
    /// around the values (comments, blank lines, order) is kept.
    pub fn save(&self, path: &Path) -> Result<()> {
        let mut checked = self.clone();
        checked.app.hotkey = normalize_hotkey(&self.app.hotkey)?;
        checked.commands = crate::commands::validate(&self.commands, &checked.app.hotkey)?;
        let fresh = toml::to_string_pretty(&checked)
            .map_err(|e| Error::InvalidInput(format!("the settings cannot be written: {e}")))?;
        let text = match std::fs::read_to_string(path) {
            Ok(old) => keep_layout(&old, &fresh).unwrap_or(fresh),
            Err(_) => fresh,
        };
        if let Some(dir) = path.parent() {
            crate::paths::private_dir(dir)
                .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
        }
        let tmp = path.with_extension("toml.tmp");
        std::fs::write(&tmp, text)
            .and_then(|()| std::fs::rename(&tmp, path))
            .map_err(|e| Error::io(format!("could not write {}", path.display()), e))
    }

    /// What the router needs: the remote endpoint only when enabled.
    pub fn routing(&self) -> routing::Settings {
        routing::Settings {
            remote: self.remote.enabled.then(|| Remote {
                base_url: self.remote.base_url.trim().to_string(),
                model: self.remote.model.trim().to_string(),
            }),
            auto_escalate: self.auto_escalate,
        }
    }

    /// The remote API key, from the environment variable the settings name.
    pub fn remote_api_key(&self) -> Option<String> {
        self.remote
            .api_key_env
            .as_deref()
            .and_then(|v| std::env::var(v).ok())
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_granted_folder_is_kept_once_and_a_file_is_refused() {
        use super::*;
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("settings.toml");
        let mut s = UserSettings::default();
        s.agent.grant(dir.path()).expect("a folder");
        s.agent.grant(dir.path()).expect("again");
        assert_eq!(s.agent.folders.len(), 1);
        std::fs::write(dir.path().join("f.txt"), "x").expect("write");
        let e = s
            .agent
            .grant(&dir.path().join("f.txt"))
            .expect_err("a file");
        assert!(e.to_string().contains("is not a folder"), "{e}");
        s.save(&path).expect("save");
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(text.contains("[agent]"), "{text}");
        assert_eq!(UserSettings::load(&path).expect("load").agent, s.agent);
        // None granted: no [agent] table at all.
        UserSettings::default().save(&path).expect("save");
        assert!(!std::fs::read_to_string(&path)
            .expect("read")
            .contains("[agent]"));
    }

    #[test]
    fn saving_keeps_the_users_comments_and_layout() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("settings.toml");
        let written = "# My Pith settings\n\n\
            # Escalate rewrites the small model gets wrong.\n\
            auto_escalate = true\n\n\
            [app]\n\
            hotkey = \"Ctrl+Alt+R\" # the default\n\
            # proofread is what I use most\n\
            rephrase_mode = \"proofread\"\n";
        std::fs::write(&path, written).expect("writes");
        let mut settings = UserSettings::load(&path).expect("loads");
        settings.app.hotkey = "ctrl+shift+p".into();
        settings.app.prepare_copied_text = false;
        settings.save(&path).expect("saves");
        let saved = std::fs::read_to_string(&path).expect("reads");
        for kept in [
            "# My Pith settings\n",
            "# Escalate rewrites the small model gets wrong.\nauto_escalate = true",
            "hotkey = \"Ctrl+Shift+P\" # the default\n",
            "# proofread is what I use most\nrephrase_mode = \"proofread\"",
        ] {
            assert!(saved.contains(kept), "{kept:?} in:\n{saved}");
        }
        assert!(saved.contains("prepare_copied_text = false"), "{saved}");
        let again = UserSettings::load(&path).expect("loads again");
        let mut expected = settings.clone();
        expected.app.hotkey = "Ctrl+Shift+P".into();
        assert_eq!(again, expected);
        // A file that does not parse is written anew.
        std::fs::write(&path, "[app\nbroken").expect("writes");
        settings.save(&path).expect("saves over it");
        assert!(UserSettings::load(&path).is_ok());
    }

    use super::*;

    #[test]
    fn a_missing_file_means_remote_off() {
        let dir = tempfile::tempdir().expect("tmp");
        let s = UserSettings::load(&dir.path().join("settings.toml")).expect("defaults");
        assert_eq!(s, UserSettings::default());
        assert_eq!(s.routing().remote, None);
    }

    #[test]
    fn remote_is_on_only_when_enabled() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("settings.toml");
        std::fs::write(
            &path,
            "[remote]\nenabled = false\nbase_url = \"http://127.0.0.1:9/v1\"\nmodel = \"big\"\n",
        )
        .expect("write");
        assert_eq!(
            UserSettings::load(&path).expect("load").routing().remote,
            None
        );
        std::fs::write(
            &path,
            "auto_escalate = true\n[remote]\nenabled = true\nbase_url = \"http://127.0.0.1:9/v1\"\nmodel = \"big\"\n",
        )
        .expect("write");
        let s = UserSettings::load(&path).expect("load").routing();
        assert_eq!(s.remote.map(|r| r.model), Some("big".to_string()));
        assert!(s.auto_escalate);
    }

    #[test]
    fn app_settings_round_trip_and_keep_the_remote_section() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("settings.toml");
        std::fs::write(
            &path,
            "[remote]\nenabled = true\nbase_url = \"http://127.0.0.1:9/v1\"\nmodel = \"big\"\n",
        )
        .expect("write");
        let mut s = UserSettings::load(&path).expect("load");
        assert_eq!(s.app, AppSettings::default());
        s.app.hotkey = "alt+shift+p".into();
        s.app.theme = Theme::Dark;
        s.app.rephrase_mode = RephraseMode::Concise;
        s.save(&path).expect("save");
        let again = UserSettings::load(&path).expect("load again");
        assert_eq!(again.app.hotkey, "Alt+Shift+P");
        assert_eq!(again.app.theme, Theme::Dark);
        assert_eq!(again.app.rephrase_mode, RephraseMode::Concise);
        assert_eq!(again.remote, s.remote, "the remote section is kept");
        // A bad shortcut is refused and the file is left as it was.
        s.app.hotkey = "Shift+R".into();
        assert!(s.save(&path).is_err());
        assert_eq!(
            UserSettings::load(&path).expect("load").app.hotkey,
            "Alt+Shift+P"
        );
    }

    #[test]
    fn the_window_cannot_name_a_model_file() {
        // Before: saving settings from the window could set any file as
        // the model, loaded at the next start.
        let stored = AppSettings {
            model: Some(PathBuf::from("/models/chosen.gguf")),
            ..AppSettings::default()
        };
        let sent = AppSettings {
            model: Some(PathBuf::from("/etc/passwd")),
            auto_paste: true,
            ..AppSettings::default()
        };
        let saved = sent.from_window(&stored);
        assert_eq!(saved.model, stored.model);
        assert!(saved.auto_paste, "the rest is taken from the window");
    }

    #[test]
    fn shortcuts_are_checked_and_written_one_way() {
        for (given, stored) in [
            ("ctrl+alt+r", "Ctrl+Alt+R"),
            (" Alt + Ctrl + r ", "Ctrl+Alt+R"),
            ("super+space", "Super+Space"),
            ("control+shift+f5", "Ctrl+Shift+F5"),
            ("cmd+1", "Super+1"),
        ] {
            assert_eq!(normalize_hotkey(given).expect(given), stored);
        }
        for (bad, why) in [
            ("r", "needs Ctrl"),
            ("shift+r", "needs Ctrl"),
            ("ctrl+alt", "no key"),
            ("ctrl+a+b", "more than one key"),
            ("ctrl+ctrl+a", "repeats"),
            ("ctrl++a", "empty part"),
            ("ctrl+f25", "cannot be used"),
            ("ctrl+é", "cannot be used"),
        ] {
            let err = normalize_hotkey(bad).expect_err(bad).to_string();
            assert!(err.contains(why), "{bad}: {err}");
        }
    }

    #[test]
    fn commands_are_kept_with_the_settings_and_checked_when_read() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("settings.toml");
        std::fs::write(
            &path,
            "[[commands]]\nname = \"to-french\"\ninstruction = \"Translate: {text}\"\nhotkey = \"ctrl+alt+f\"\n",
        )
        .expect("write");
        let mut s = UserSettings::load(&path).expect("load");
        assert_eq!(s.commands[0].hotkey.as_deref(), Some("Ctrl+Alt+F"));
        s.app.theme = Theme::Dark;
        s.save(&path).expect("save");
        assert_eq!(UserSettings::load(&path).expect("again"), s);
        // A command that takes the rephrase shortcut is refused, naming the file.
        std::fs::write(
            &path,
            "[[commands]]\nname = \"x\"\ninstruction = \"{text}\"\nhotkey = \"Ctrl+Alt+R\"\n",
        )
        .expect("write");
        let e = UserSettings::load(&path).expect_err("clash").to_string();
        assert!(
            e.contains("settings.toml") && e.contains("rephrase shortcut"),
            "{e}"
        );
    }

    #[test]
    fn broken_settings_are_an_error_that_names_the_file() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("settings.toml");
        for bad in ["[remote\n", "colour = 3\n", "[remote]\nenabled = true\n"] {
            std::fs::write(&path, bad).expect("write");
            let err = UserSettings::load(&path).expect_err("refused");
            assert!(err.to_string().contains("settings.toml"), "{bad}: {err}");
        }
    }
}
