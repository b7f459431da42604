//! Where Pith keeps its files. `PITH_DATA_DIR` overrides the platform's data
//! folder so tests and CI never touch a real profile.

use std::path::PathBuf;

pub fn data_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("PITH_DATA_DIR") {
        return Some(PathBuf::from(d));
    }
    directories::ProjectDirs::from("", "", "pith").map(|p| p.data_dir().to_path_buf())
}
