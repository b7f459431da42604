//! Installed models: every `.gguf` in the models folders, with what its
//! header says; importing a file from anywhere; removing one.

use super::catalog::Catalog;
use super::gguf::{self, GgufSummary};
use crate::error::{Error, Result};
use serde::Serialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct InstalledModel {
    /// The file stem, which `pith models rm` and `--model` accept.
    pub id: String,
    pub path: PathBuf,
    pub size_bytes: u64,
    /// The catalog entry for this file, when it is one.
    pub catalog_id: Option<String>,
    /// The header's metadata; `None` when the file is not usable.
    pub summary: Option<GgufSummary>,
    /// Why the file cannot be used.
    pub problem: Option<String>,
}

/// Where new models are written: `PITH_MODELS_DIR`, else the data folder's
/// `models/`.
pub fn install_dir() -> Result<PathBuf> {
    if let Some(d) = std::env::var_os("PITH_MODELS_DIR") {
        return Ok(PathBuf::from(d));
    }
    crate::paths::data_dir()
        .map(|d| d.join("models"))
        .ok_or_else(|| {
            Error::InvalidInput("no data folder on this system; set PITH_DATA_DIR".into())
        })
}

/// Every `.gguf` file in `dirs` (the first folder wins for a name seen
/// twice), each with its header checked.
pub fn list_installed(dirs: &[PathBuf]) -> Vec<InstalledModel> {
    let catalog = Catalog::builtin();
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "gguf") && p.is_file())
            .collect();
        files.sort();
        for path in files {
            let file = path
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default();
            if !seen.insert(file.clone()) {
                continue;
            }
            let (summary, problem) = match gguf::inspect(&path) {
                Ok(s) => (Some(s), None),
                Err(e) => (None, Some(e.to_string())),
            };
            out.push(InstalledModel {
                id: file.trim_end_matches(".gguf").to_string(),
                size_bytes: std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0),
                catalog_id: catalog.by_file(&file).map(|m| m.id.clone()),
                path,
                summary,
                problem,
            });
        }
    }
    out
}

/// Copies a GGUF file into `dest_dir` after checking its header. The copy
/// is written under a temporary name and renamed when complete.
pub fn import(src: &Path, dest_dir: &Path) -> Result<PathBuf> {
    super::check_model_file(src)?;
    let name = src
        .file_name()
        .filter(|n| Path::new(n).extension().is_some_and(|e| e == "gguf"))
        .ok_or_else(|| {
            Error::InvalidInput(format!(
                "{} does not end in .gguf; rename it so Pith can list it",
                src.display()
            ))
        })?;
    std::fs::create_dir_all(dest_dir)
        .map_err(|e| Error::io(format!("creating {}", dest_dir.display()), e))?;
    let dest = dest_dir.join(name);
    if dest.exists() {
        return Err(Error::InvalidInput(format!(
            "{} is already installed at {}",
            name.to_string_lossy(),
            dest.display()
        )));
    }
    let tmp = dest_dir.join(format!(".{}.import", name.to_string_lossy()));
    let copy = std::fs::copy(src, &tmp).and_then(|_| std::fs::rename(&tmp, &dest));
    if let Err(e) = copy {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::io(
            format!("copying {} to {}", src.display(), dest.display()),
            e,
        ));
    }
    Ok(dest)
}

/// Removes the installed model named by its id (file stem), file name or
/// catalog id. Returns the removed path.
pub fn remove(name: &str, dirs: &[PathBuf]) -> Result<PathBuf> {
    let installed = list_installed(dirs);
    let found = installed.iter().find(|m| {
        m.id == name
            || m.path.file_name().is_some_and(|f| f == name)
            || m.catalog_id.as_deref() == Some(name)
    });
    let Some(m) = found else {
        let names: Vec<&str> = installed.iter().map(|m| m.id.as_str()).collect();
        return Err(Error::NotFound(format!(
            "model {name:?} (installed: {})",
            if names.is_empty() {
                "none".to_string()
            } else {
                names.join(", ")
            }
        )));
    };
    std::fs::remove_file(&m.path)
        .map_err(|e| Error::io(format!("removing {}", m.path.display()), e))?;
    Ok(m.path.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;
    use crate::models::gguf::tests::tiny_gguf;

    #[test]
    fn lists_imports_and_removes() {
        let src = tempfile::tempdir().expect("tmp");
        let store = tempfile::tempdir().expect("tmp");
        let good = src.path().join("tiny-q4.gguf");
        std::fs::write(&good, tiny_gguf()).expect("write");
        let bad = src.path().join("broken.gguf");
        std::fs::write(&bad, &tiny_gguf()[..40]).expect("write");

        let dest = import(&good, store.path()).expect("import");
        assert_eq!(dest, store.path().join("tiny-q4.gguf"));
        let err = import(&good, store.path()).expect_err("twice");
        assert!(err.to_string().contains("already installed"), "{err}");
        let err = import(&bad, store.path()).expect_err("broken");
        assert_eq!(err.code(), ErrorCode::InvalidModel);
        assert!(!store.path().join("broken.gguf").exists());
        let err = import(&src.path().join("absent.gguf"), store.path()).expect_err("absent");
        assert_eq!(err.code(), ErrorCode::ModelNotFound);

        // A broken file dropped in the folder by hand is listed with its problem.
        std::fs::copy(&bad, store.path().join("broken.gguf")).expect("copy");
        std::fs::write(store.path().join("notes.txt"), "x").expect("write");
        let dirs = [store.path().to_path_buf()];
        let listed = list_installed(&dirs);
        assert_eq!(listed.len(), 2, "{listed:?}");
        assert_eq!(listed[0].id, "broken");
        assert!(listed[0]
            .problem
            .as_deref()
            .is_some_and(|p| p.contains("truncated")));
        assert_eq!(listed[1].id, "tiny-q4");
        assert_eq!(
            listed[1]
                .summary
                .as_ref()
                .and_then(|s| s.architecture.as_deref()),
            Some("llama")
        );

        assert_eq!(remove("tiny-q4", &dirs).expect("rm"), dest);
        let err = remove("tiny-q4", &dirs).expect_err("gone");
        assert_eq!(err.code(), ErrorCode::NotFound);
        assert!(err.to_string().contains("installed: broken"), "{err}");
    }

    #[test]
    fn a_file_not_named_gguf_is_refused_on_import() {
        let src = tempfile::tempdir().expect("tmp");
        let p = src.path().join("model.bin");
        std::fs::write(&p, tiny_gguf()).expect("write");
        let err = import(&p, src.path()).expect_err("name");
        assert!(err.to_string().contains(".gguf"), "{err}");
    }
}
