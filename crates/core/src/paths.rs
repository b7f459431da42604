//! Where Pith keeps its files. `PITH_DATA_DIR` overrides the platform's data
//! folder so tests and CI never touch a real profile.

use std::path::{Path, PathBuf};

/// Creates `dir` (and its parents) if needed and makes it private to the
/// user (0700 on Unix): the history, settings, saved model states and
/// logs inside are the user's own words.
pub fn private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Makes an existing file readable and writable by the user only (0600).
pub fn private_file(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

pub fn data_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("PITH_DATA_DIR") {
        return Some(PathBuf::from(d));
    }
    directories::ProjectDirs::from("", "", "pith").map(|p| p.data_dir().to_path_buf())
}
