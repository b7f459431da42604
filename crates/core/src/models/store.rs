//! Installed models: every `.gguf` in the models folders, with what its
//! header says; importing a file from anywhere; removing one.

use super::catalog::Catalog;
use super::elsewhere;
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
    /// The other tool that keeps this file, and its name there ("Ollama
    /// (llama3.2:1b)"): Pith uses it read-only and never removes it.
    pub found_in: Option<String>,
    /// The modes and commands it has a LoRA adapter for.
    pub adapters: Vec<String>,
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
/// twice), then the ones other tools keep (`elsewhere`), each with its
/// header checked.
pub fn list_installed(dirs: &[PathBuf]) -> Vec<InstalledModel> {
    list_all(dirs, &elsewhere::Places::system())
}

/// [`list_installed`] with the other tools' folders given.
pub fn list_all(dirs: &[PathBuf], places: &elsewhere::Places) -> Vec<InstalledModel> {
    let catalog = Catalog::builtin();
    let mut out = own_files(dirs, &catalog);
    for found in elsewhere::find(places) {
        if out.iter().any(|m| m.id == found.id || m.path == found.path) {
            continue;
        }
        let entry = found
            .sha256
            .as_deref()
            .and_then(|sha| {
                catalog.models.iter().find(|m| {
                    m.sha256
                        .as_deref()
                        .is_some_and(|c| c.eq_ignore_ascii_case(sha))
                })
            })
            .or_else(|| {
                found
                    .path
                    .file_name()
                    .and_then(|f| catalog.by_file(&f.to_string_lossy()))
            });
        let (summary, problem) = match gguf::inspect(&found.path) {
            Ok(s) => (Some(s), None),
            Err(e) => (None, Some(e.to_string())),
        };
        out.push(InstalledModel {
            id: found.id.clone(),
            size_bytes: std::fs::metadata(&found.path).map(|m| m.len()).unwrap_or(0),
            catalog_id: entry.map(|m| m.id.clone()),
            path: found.path,
            summary,
            problem,
            found_in: Some(format!("{} ({})", found.tool.label(), found.name)),
            adapters: Vec::new(),
        });
    }
    out
}

fn own_files(dirs: &[PathBuf], catalog: &Catalog) -> Vec<InstalledModel> {
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
            let adapters = super::adapters::installed_for(&path, dirs)
                .into_iter()
                .map(|a| a.mode)
                .collect();
            out.push(InstalledModel {
                id: file.trim_end_matches(".gguf").to_string(),
                size_bytes: std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0),
                catalog_id: catalog.by_file(&file).map(|m| m.id.clone()),
                path,
                summary,
                problem,
                found_in: None,
                adapters,
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
    copy_in(src, &tmp, &dest)?;
    Ok(dest)
}

/// Removes the installed model named by its id (file stem), file name or
/// catalog id. Returns the removed path.
pub fn remove(name: &str, dirs: &[PathBuf]) -> Result<PathBuf> {
    remove_from(name, dirs, &elsewhere::Places::system())
}

/// [`remove`] with the other tools' folders given (whose files are never
/// removed).
pub fn remove_from(name: &str, dirs: &[PathBuf], places: &elsewhere::Places) -> Result<PathBuf> {
    let installed = list_all(dirs, places);
    // An exact id first: a file another tool keeps may share its name
    // with a catalog id of a file in Pith's own folder.
    let found = installed.iter().find(|m| m.id == name).or_else(|| {
        installed.iter().find(|m| {
            m.path.file_name().is_some_and(|f| f == name) || m.catalog_id.as_deref() == Some(name)
        })
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
    if let Some(tool) = &m.found_in {
        return Err(Error::InvalidInput(format!(
            "{} belongs to {tool}: Pith only reads it; remove it with that tool",
            m.id
        )));
    }
    std::fs::remove_file(&m.path)
        .map_err(|e| Error::io(format!("removing {}", m.path.display()), e))?;
    Ok(m.path.clone())
}

/// Copies `src` to `dest` through `tmp` beside it, so `dest` is never a
/// partial file; the temporary copy is removed when the copy fails.
pub(crate) fn copy_in(src: &Path, tmp: &Path, dest: &Path) -> Result<()> {
    let copy = std::fs::copy(src, tmp).and_then(|_| std::fs::rename(tmp, dest));
    if let Err(e) = copy {
        let _ = std::fs::remove_file(tmp);
        return Err(Error::io(
            format!("copying {} to {}", src.display(), dest.display()),
            e,
        ));
    }
    Ok(())
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
    fn models_other_tools_keep_are_listed_read_only_and_matched_by_checksum() {
        let store = tempfile::tempdir().expect("tmp");
        let home = tempfile::tempdir().expect("tmp");
        let ollama = home.path().join(".ollama/models");
        let sha = crate::models::catalog::Catalog::builtin()
            .by_file(crate::models::DEFAULT_MODEL_FILE)
            .and_then(|m| m.sha256.clone())
            .expect("the default model has a checksum");
        std::fs::create_dir_all(ollama.join("blobs")).expect("mkdir");
        std::fs::write(
            ollama.join("blobs").join(format!("sha256-{sha}")),
            tiny_gguf(),
        )
        .expect("blob");
        let manifest = ollama.join("manifests/registry.ollama.ai/library/smollm2/135m");
        std::fs::create_dir_all(manifest.parent().expect("parent")).expect("mkdir");
        std::fs::write(
            &manifest,
            format!("{{\"layers\":[{{\"mediaType\":\"application/vnd.ollama.image.model\",\"digest\":\"sha256:{sha}\"}}]}}"),
        )
        .expect("manifest");
        let places = elsewhere::Places::new(home.path(), |_| None);
        let dirs = [store.path().to_path_buf()];
        let listed = list_all(&dirs, &places);
        assert_eq!(listed.len(), 1, "{listed:?}");
        let m = &listed[0];
        assert_eq!(m.id, "ollama-smollm2-135m");
        assert_eq!(m.found_in.as_deref(), Some("Ollama (smollm2:135m)"));
        assert!(
            m.catalog_id.is_some(),
            "matched by the digest, without reading the file"
        );
        assert!(m.problem.is_none());
        // Never removed by Pith.
        let e = remove_from("ollama-smollm2-135m", &dirs, &places).expect_err("read-only");
        assert!(e.to_string().contains("belongs to Ollama"), "{e}");
        assert!(ollama.join("blobs").join(format!("sha256-{sha}")).exists());
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
