//! LoRA adapters: one per mode or command, for one model file. They live
//! in the install folder's `adapters/`, named `<model file stem>--<mode>.gguf`,
//! so a model's adapters are found from its file name alone, and an
//! adapter never meets another model.

use super::gguf;
use super::synthetic::{put_str, Metadata};
use crate::error::{Error, Result};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// An installed adapter and what it is for.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Adapter {
    /// The mode or command it answers for (`proofread`).
    pub mode: String,
    pub path: PathBuf,
}

/// Modes and command names: lowercase letters, digits and dashes.
pub fn check_mode(mode: &str) -> Result<()> {
    let ok = !mode.is_empty()
        && mode.len() <= 40
        && mode
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidInput(format!(
            "{mode:?} is not a mode or command name (lowercase letters, digits and dashes)"
        )))
    }
}

fn stem(model: &Path) -> String {
    model
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The adapters installed for `model` in the `adapters/` folder of each of
/// `dirs`, by mode (the first folder wins for a mode).
pub fn installed_for(model: &Path, dirs: &[PathBuf]) -> Vec<Adapter> {
    let prefix = format!("{}--", stem(model));
    let mut out: Vec<Adapter> = Vec::new();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(dir.join("adapters")) else {
            continue;
        };
        let mut found: Vec<Adapter> = entries
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                let mode = name.strip_prefix(&prefix)?.strip_suffix(".gguf")?;
                check_mode(mode).ok()?;
                Some(Adapter {
                    mode: mode.to_string(),
                    path: e.path(),
                })
            })
            .filter(|a| !out.iter().any(|o| o.mode == a.mode))
            .collect();
        found.sort_by(|a, b| a.mode.cmp(&b.mode));
        out.extend(found);
    }
    out
}

/// Refuses what is not a LoRA adapter for a model of `architecture`: a
/// damaged file, a model, an adapter made for another architecture.
/// llama.cpp checks the shapes when it loads it.
pub fn check(path: &Path, architecture: &str) -> Result<()> {
    let refuse = |reason: String| Error::InvalidModel {
        path: path.to_path_buf(),
        reason,
    };
    let summary =
        gguf::inspect(path).map_err(|e| refuse(format!("the adapter is not usable: {e}")))?;
    if !summary.is_adapter {
        return Err(refuse(
            "it is a model, not an adapter (import it with `pith models import FILE`)".into(),
        ));
    }
    let made_for = summary.architecture.unwrap_or_default();
    if made_for != architecture {
        return Err(refuse(format!(
            "the adapter was made for a \"{made_for}\" model, not a \"{architecture}\" one"
        )));
    }
    Ok(())
}

/// Installs `src` as `model`'s adapter for `mode` under `install_dir`,
/// replacing the one it had: checked first as a GGUF file, as an adapter
/// (not a model), and as made for the model's architecture. llama.cpp
/// checks the shapes when it loads it.
pub fn import(src: &Path, mode: &str, model: &Path, install_dir: &Path) -> Result<PathBuf> {
    check_mode(mode)?;
    if !src.is_file() {
        return Err(Error::NotFound(format!("adapter file {}", src.display())));
    }
    let base = super::check_model_file(model)?;
    check(src, base.architecture.as_deref().unwrap_or_default())?;
    let dir = install_dir.join("adapters");
    std::fs::create_dir_all(&dir)
        .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
    let dest = dir.join(format!("{}--{mode}.gguf", stem(model)));
    let tmp = dir.join(format!(".{}--{mode}.import", stem(model)));
    super::store::copy_in(src, &tmp, &dest)?;
    Ok(dest)
}

/// One weight's LoRA pair: `a` is rank × cols (in), `b` rows (out) × rank,
/// row-major; the model's weight becomes W + b·a.
#[derive(Debug, Clone, PartialEq)]
pub struct LoraTensor {
    /// The model tensor it changes (`blk.0.attn_q.weight`).
    pub name: String,
    pub rank: usize,
    pub rows: usize,
    pub cols: usize,
    pub a: Vec<f32>,
    pub b: Vec<f32>,
}

/// Writes LoRA pairs as a GGUF adapter for `architecture` that llama.cpp
/// loads (alpha = rank, so the pairs apply at scale 1). Returns its size.
pub fn write(path: &Path, architecture: &str, tensors: &[LoraTensor]) -> io::Result<u64> {
    let rank = tensors.first().map_or(1, |t| t.rank);
    let mut meta = Metadata::default();
    meta.text("general.architecture", architecture);
    meta.text("general.type", "adapter");
    meta.text("adapter.type", "lora");
    meta.put("adapter.lora.alpha", 6, &(rank as f32).to_le_bytes());
    let mut header = meta.header(tensors.len() as u64 * 2);
    let mut offset = 0u64;
    let mut add = |header: &mut Vec<u8>, name: String, dims: [u64; 2]| {
        put_str(header, &name);
        header.extend(2u32.to_le_bytes());
        for d in dims {
            header.extend(d.to_le_bytes());
        }
        header.extend(0u32.to_le_bytes());
        header.extend(offset.to_le_bytes());
        offset += (dims[0] * dims[1] * 4).div_ceil(32) * 32;
    };
    for t in tensors {
        // A is stored {in, rank}, B {rank, out}: ggml's order.
        add(
            &mut header,
            format!("{}.lora_a", t.name),
            [t.cols as u64, t.rank as u64],
        );
        add(
            &mut header,
            format!("{}.lora_b", t.name),
            [t.rank as u64, t.rows as u64],
        );
    }
    while header.len() % 32 != 0 {
        header.push(0);
    }
    let mut w = BufWriter::new(std::fs::File::create(path)?);
    w.write_all(&header)?;
    for t in tensors {
        for data in [&t.a, &t.b] {
            for x in data.iter() {
                w.write_all(&x.to_le_bytes())?;
            }
            let bytes = data.len() * 4;
            w.write_all(&vec![0u8; bytes.div_ceil(32) * 32 - bytes])?;
        }
    }
    w.flush()?;
    Ok(std::fs::metadata(path)?.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::synthetic::{write_lora, Shape};

    #[test]
    fn an_adapter_is_installed_for_its_model_and_mode_and_found_again() {
        let dir = tempfile::tempdir().expect("tmp");
        let model = dir.path().join("tiny.gguf");
        Shape::TINY.write(&model).expect("model");
        let src = dir.path().join("lora.gguf");
        write_lora(&Shape::TINY, &src, 4, 0.1, 1).expect("adapter");
        let store = dir.path().join("store");
        let dest = import(&src, "proofread", &model, &store).expect("imported");
        assert_eq!(dest, store.join("adapters/tiny--proofread.gguf"));
        import(&src, "to-french", &model, &store).expect("a command's");
        let found = installed_for(&model, std::slice::from_ref(&store));
        let modes: Vec<&str> = found.iter().map(|a| a.mode.as_str()).collect();
        assert_eq!(modes, ["proofread", "to-french"]);
        // Another model's adapters are not its.
        assert!(installed_for(&dir.path().join("other.gguf"), &[store]).is_empty());
    }

    #[test]
    fn a_model_a_foreign_adapter_a_damaged_file_and_a_bad_name_are_refused() {
        let dir = tempfile::tempdir().expect("tmp");
        let model = dir.path().join("tiny.gguf");
        Shape::TINY.write(&model).expect("model");
        let store = dir.path().join("store");
        let err = import(&model, "proofread", &model, &store).expect_err("a model");
        assert!(err.to_string().contains("a model, not an adapter"), "{err}");
        let gemma = dir.path().join("gemma-lora.gguf");
        write_lora(&Shape::TINY_SWA, &gemma, 4, 0.1, 1).expect("adapter");
        let err = import(&gemma, "proofread", &model, &store).expect_err("foreign");
        assert!(
            err.to_string().contains("made for a \"gemma3\" model"),
            "{err}"
        );
        let cut = dir.path().join("cut.gguf");
        let bytes = std::fs::read(&gemma).expect("read");
        std::fs::write(&cut, &bytes[..bytes.len() / 3]).expect("write");
        let err = import(&cut, "proofread", &model, &store).expect_err("cut");
        assert_eq!(err.code(), crate::error::ErrorCode::InvalidModel);
        assert!(import(&gemma, "Proof Read", &model, &store).is_err());
        assert!(!store.join("adapters").exists() || installed_for(&model, &[store]).is_empty());
    }
}
