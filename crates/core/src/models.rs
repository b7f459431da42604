//! Where model files are, and which one to use.
//!
//! Where models are looked for: `PITH_MODELS_DIR` when it is set (it
//! replaces the defaults, so tests and scripts control exactly what is
//! seen); otherwise the checkout's `models/` folder, then the user data
//! folder's `models/`. The hardware-aware planner and downloader build on
//! this.

pub mod gguf;

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// The model Pith ships with and fetches on set-up.
pub const DEFAULT_MODEL_FILE: &str = "SmolLM2-135M-Instruct.Q4_1.gguf";
pub const DEFAULT_MODEL_SHA256: &str =
    "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53";

/// The folders searched for models, in order, from the environment.
pub fn search_dirs() -> Vec<PathBuf> {
    if let Some(d) = std::env::var_os("PITH_MODELS_DIR") {
        return vec![PathBuf::from(d)];
    }
    let mut dirs = Vec::new();
    // A checkout run with cargo: the repository's own models/ folder.
    let checkout = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models");
    if let Ok(d) = checkout.canonicalize() {
        dirs.push(d);
    }
    if let Some(d) = crate::paths::data_dir() {
        dirs.push(d.join("models"));
    }
    dirs.dedup();
    dirs
}

/// The default model in the first folder that has it.
pub fn find_default_model(dirs: &[PathBuf]) -> Result<PathBuf> {
    dirs.iter()
        .map(|d| d.join(DEFAULT_MODEL_FILE))
        .find(|p| p.is_file())
        .ok_or_else(|| Error::NoModelInstalled {
            searched: dirs.to_vec(),
        })
}

/// Resolves `--model`: an explicit path must exist; otherwise the default.
pub fn resolve_model(explicit: Option<&Path>) -> Result<PathBuf> {
    match explicit {
        Some(p) if p.is_file() => Ok(p.to_path_buf()),
        Some(p) => Err(Error::ModelNotFound {
            path: p.to_path_buf(),
        }),
        None => find_default_model(&search_dirs()),
    }
}

/// Checks the file's GGUF header, mapping problems to `INVALID_MODEL`.
pub fn check_model_file(path: &Path) -> Result<gguf::GgufSummary> {
    if !path.is_file() {
        return Err(Error::ModelNotFound {
            path: path.to_path_buf(),
        });
    }
    gguf::inspect(path).map_err(|e| Error::InvalidModel {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_folder_with_the_default_model_wins() {
        let a = tempfile::tempdir().expect("tmp");
        let b = tempfile::tempdir().expect("tmp");
        let c = tempfile::tempdir().expect("tmp");
        std::fs::write(b.path().join(DEFAULT_MODEL_FILE), b"x").expect("write");
        std::fs::write(c.path().join(DEFAULT_MODEL_FILE), b"x").expect("write");
        let dirs = [
            a.path().to_path_buf(),
            b.path().to_path_buf(),
            c.path().to_path_buf(),
        ];
        assert_eq!(
            find_default_model(&dirs).ok(),
            Some(b.path().join(DEFAULT_MODEL_FILE))
        );
    }

    #[test]
    fn no_model_anywhere_names_the_folders_and_how_to_get_one() {
        let a = tempfile::tempdir().expect("tmp");
        let err = find_default_model(&[a.path().to_path_buf()]).expect_err("none");
        let msg = err.to_string();
        assert!(msg.contains(&a.path().display().to_string()), "{msg}");
        assert!(msg.contains("fetch-model"), "{msg}");
        assert_eq!(err.code(), crate::error::ErrorCode::ModelNotFound);
    }

    #[test]
    fn a_missing_explicit_model_is_model_not_found() {
        let err = resolve_model(Some(Path::new("/nonexistent/m.gguf"))).expect_err("missing");
        assert_eq!(err.code(), crate::error::ErrorCode::ModelNotFound);
    }

    #[test]
    fn a_non_gguf_file_is_invalid_model() {
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("fake.gguf");
        std::fs::write(&p, b"PK\x03\x04 this is a zip").expect("write");
        let err = check_model_file(&p).expect_err("invalid");
        assert_eq!(err.code(), crate::error::ErrorCode::InvalidModel);
        assert!(err.to_string().contains("not a GGUF file"), "{err}");
    }

    #[test]
    fn a_valid_header_passes() {
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("tiny.gguf");
        std::fs::write(&p, gguf::tests::tiny_gguf()).expect("write");
        assert!(check_model_file(&p).is_ok());
    }
}
