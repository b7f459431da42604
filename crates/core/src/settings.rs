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
//! ```

use crate::error::{Error, Result};
use crate::routing::{self, Remote};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserSettings {
    #[serde(default)]
    pub auto_escalate: bool,
    #[serde(default)]
    pub remote: RemoteSettings,
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
        let settings: Self = toml::from_str(&text)
            .map_err(|e| Error::InvalidInput(format!("{} is not valid: {e}", path.display())))?;
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
