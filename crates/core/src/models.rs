//! Model files: where they are, what they are, which one fits.
//!
//! - [`catalog`]: the curated list (`models/catalog.toml`);
//! - [`estimate`]: the cost model: memory and speed of a model on a machine;
//! - [`plan`]: the fit planner, a pure function of hardware and catalog;
//! - [`gguf`]: the header check every file passes before llama.cpp;
//! - [`store`]: installed models: list, import, remove;
//! - [`elsewhere`]: models other tools keep (the Hugging Face cache, LM
//!   Studio, Ollama, llama.cpp's cache), used read-only;
//! - [`download`]: resumable, checked downloads;
//! - [`synthetic`]: GGUF files with real shapes and random weights, for
//!   measuring the planner's estimates.
//!
//! Where models are looked for: `PITH_MODELS_DIR` when it is set (it
//! replaces the defaults, so tests and scripts control exactly what is
//! seen); otherwise the checkout's `models/` folder, then the user data
//! folder's `models/`, then the other tools' folders.

pub mod adapters;
pub mod architectures;
pub mod catalog;
pub mod download;
pub mod elsewhere;
pub mod estimate;
pub mod gguf;
pub mod plan;
pub mod store;
pub mod synthetic;

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
    // A checkout run with cargo (debug builds: the tests, `./pith.sh
    // start`): the repository's own models/ folder. A release build never
    // looks at the folder it was built in, nor holds its path.
    #[cfg(debug_assertions)]
    {
        let checkout = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models");
        if let Ok(d) = checkout.canonicalize() {
            dirs.push(d);
        }
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
    let summary = gguf::inspect(path).map_err(|e| Error::InvalidModel {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    // llama.cpp only logs an unknown architecture and fails; say which.
    if let Some(reason) = architectures::unsupported(summary.architecture.as_deref()) {
        return Err(Error::InvalidModel {
            path: path.to_path_buf(),
            reason,
        });
    }
    Ok(summary)
}

/// A short identity of a model file (its size and first and last MiB,
/// hashed): saved states are only ever offered to the file that wrote them.
pub fn fingerprint(path: &Path) -> Result<String> {
    use sha2::{Digest, Sha256};
    use std::io::{Read, Seek, SeekFrom};
    let err = |e| Error::io(format!("reading {}", path.display()), e);
    let mut f = std::fs::File::open(path).map_err(err)?;
    let size = f.metadata().map_err(err)?.len();
    let mut hasher = Sha256::new();
    hasher.update(size.to_le_bytes());
    let mut buf = vec![0u8; 1 << 20];
    let n = f.read(&mut buf).map_err(err)?;
    hasher.update(&buf[..n]);
    f.seek(SeekFrom::Start(size.saturating_sub(1 << 20)))
        .map_err(err)?;
    let n = f.read(&mut buf).map_err(err)?;
    hasher.update(&buf[..n]);
    Ok(format!("{:x}", hasher.finalize())[..16].to_string())
}

/// The planner's view of a model file, from its header (and the catalog
/// entry for the file, when there is one, for what headers omit).
pub fn shape_of(path: &Path, summary: &gguf::GgufSummary) -> catalog::CatalogModel {
    let file = path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    if let Some(known) = catalog::Catalog::builtin().by_file(&file) {
        return known.clone();
    }
    let layers = summary.block_count.unwrap_or(1).max(1);
    let embedding = summary.embedding_length.unwrap_or(0);
    let heads = summary.head_count.unwrap_or(1).max(1);
    let kv_heads = summary.head_count_kv.unwrap_or(heads).max(1);
    let head_dim = summary.key_length.unwrap_or(embedding / heads).max(1);
    let small = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
    catalog::CatalogModel {
        id: file.trim_end_matches(".gguf").to_lowercase(),
        name: summary.name.clone().unwrap_or_else(|| file.clone()),
        repo: None,
        quant: String::new(),
        size_bytes: summary.file_size,
        sha256: None,
        architecture: summary.architecture.clone().unwrap_or_default(),
        // Weights are what the file holds; at ~4.5 bits per weight.
        parameters: summary.file_size * 16 / 9,
        layers: small(layers),
        kv_heads: small(kv_heads),
        head_dim: small(head_dim),
        embedding: small(embedding),
        vocab: small(summary.vocab_size.unwrap_or(0)),
        context_length: small(summary.context_length.unwrap_or(2048)),
        // Sliding-window layouts differ by architecture; counting every layer
        // in full overestimates, which is the safe side.
        sliding_window: None,
        swa_pattern: None,
        attention_layers: None,
        state_bytes: 0,
        rank: 0,
        chat_template: summary.has_chat_template,
        license: String::new(),
        default: false,
        pypi: Vec::new(),
        file,
    }
}

/// Refuses a model whose estimated memory at `context` tokens exceeds what
/// the machine has free, before anything is loaded.
pub fn check_memory(
    path: &Path,
    summary: &gguf::GgufSummary,
    hw: &crate::hardware::HardwareProfile,
    context: u32,
    prefs: &estimate::Preferences,
) -> Result<estimate::Estimate> {
    let shape = shape_of(path, summary);
    let needs = crate::tasks::Task::Chat.needs();
    let e = estimate::estimate(&shape, hw, prefs, context, &needs);
    match hw.usable_ram_bytes() {
        Some(free) if e.ram_bytes > free => Err(Error::OutOfMemory {
            model: shape.name,
            needed: e.ram_bytes,
            available: free,
            context,
        }),
        _ => Ok(e),
    }
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
    fn an_architecture_this_llama_cpp_does_not_know_is_named_before_loading() {
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("future.gguf");
        // The same header with a five-letter architecture of the future.
        let bytes = gguf::tests::tiny_gguf();
        let at = bytes
            .windows(5)
            .position(|w| w == b"llama")
            .expect("architecture value");
        let mut future = bytes.clone();
        future[at..at + 5].copy_from_slice(b"zeta9");
        std::fs::write(&p, &future).expect("write");
        let err = check_model_file(&p).expect_err("unknown architecture");
        assert_eq!(err.code(), crate::error::ErrorCode::InvalidModel);
        let msg = err.to_string();
        assert!(msg.contains("\"zeta9\""), "{msg}");
        assert!(msg.contains(env!("CARGO_PKG_VERSION")), "{msg}");
        std::fs::write(&p, &bytes).expect("write");
        assert!(check_model_file(&p).is_ok());
    }

    #[test]
    fn a_model_bigger_than_free_memory_is_refused_with_the_numbers() {
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("big.gguf");
        std::fs::write(&p, gguf::tests::tiny_gguf()).expect("write");
        let mut summary = check_model_file(&p).expect("valid");
        summary.file_size = 3_000_000_000;
        summary.block_count = Some(28);
        summary.embedding_length = Some(3072);
        summary.head_count = Some(24);
        summary.head_count_kv = Some(8);
        let mut hw = crate::hardware::HardwareProfile::default();
        hw.memory.available_bytes = Some(2_200_000_000);
        let prefs = estimate::Preferences {
            app_bytes: 0,
            ..estimate::Preferences::default()
        };
        let err = check_memory(&p, &summary, &hw, 4096, &prefs).expect_err("too big");
        assert_eq!(err.code(), crate::error::ErrorCode::OutOfMemory);
        let msg = err.to_string();
        assert!(msg.contains("2.2 GB is free"), "{msg}");
        assert!(msg.contains("needs about 3."), "{msg}");
        assert!(msg.contains("--force"), "{msg}");
        hw.memory.available_bytes = Some(16_000_000_000);
        let e = check_memory(&p, &summary, &hw, 4096, &prefs).expect("fits");
        // 2 x 28 layers x 4096 x 8 heads x 128 x 2 bytes
        assert_eq!(e.kv_cache_bytes, 2 * 28 * 4096 * 8 * 128 * 2);
    }

    #[test]
    fn a_valid_header_passes() {
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("tiny.gguf");
        std::fs::write(&p, gguf::tests::tiny_gguf()).expect("write");
        assert!(check_model_file(&p).is_ok());
    }
}
