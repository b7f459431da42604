//! Moving a file to the desktop's trash (the freedesktop.org Trash
//! specification: `files/NAME` and `info/NAME.trashinfo` under
//! `$XDG_DATA_HOME/Trash`), and back. The agent never deletes.

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// The home trash: `$XDG_DATA_HOME/Trash`, else `~/.local/share/Trash`.
pub fn home_trash() -> Result<PathBuf> {
    let data = std::env::var_os("XDG_DATA_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .ok_or_else(|| Error::InvalidInput("no home folder to keep a trash in".into()))?;
    Ok(data.join("Trash"))
}

/// Where a file went in the trash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trashed {
    pub file: PathBuf,
    pub info: PathBuf,
}

/// Moves `path` (a file) into `trash`, under a name not taken there.
pub fn put(trash: &Path, path: &Path) -> Result<Trashed> {
    let files = trash.join("files");
    let infos = trash.join("info");
    for dir in [&files, &infos] {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::io(format!("could not create {}", dir.display()), e))?;
    }
    let name = path
        .file_name()
        .ok_or_else(|| Error::InvalidInput(format!("{} has no name", path.display())))?
        .to_string_lossy()
        .to_string();
    let (stem, ext) = match name.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() => (s.to_string(), format!(".{e}")),
        _ => (name.clone(), String::new()),
    };
    for n in 1..1000 {
        let candidate = if n == 1 {
            name.clone()
        } else {
            format!("{stem}.{n}{ext}")
        };
        let info = infos.join(format!("{candidate}.trashinfo"));
        // The info file is made first and exclusively: it reserves the name.
        let made = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&info);
        let mut f = match made {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(Error::io(format!("could not write {}", info.display()), e)),
        };
        let file = files.join(&candidate);
        if file.symlink_metadata().is_ok() {
            drop(f);
            let _ = std::fs::remove_file(&info);
            continue;
        }
        let body = format!(
            "[Trash Info]\nPath={}\nDeletionDate={}\n",
            encode(path),
            chrono::Local::now().format("%Y-%m-%dT%H:%M:%S")
        );
        use std::io::Write;
        f.write_all(body.as_bytes())
            .map_err(|e| Error::io(format!("could not write {}", info.display()), e))?;
        if let Err(e) = move_file(path, &file) {
            let _ = std::fs::remove_file(&info);
            return Err(e);
        }
        return Ok(Trashed { file, info });
    }
    Err(Error::InvalidInput(format!(
        "the trash already holds 999 files named {name}"
    )))
}

/// Puts a trashed file back at `to` (which must be free).
pub fn restore(trashed: &Trashed, to: &Path) -> Result<()> {
    if to.symlink_metadata().is_ok() {
        return Err(Error::InvalidInput(format!(
            "{} exists again; it is left as it is",
            to.display()
        )));
    }
    move_file(&trashed.file, to)?;
    let _ = std::fs::remove_file(&trashed.info);
    Ok(())
}

/// Renames, or copies and removes across file systems.
pub fn move_file(from: &Path, to: &Path) -> Result<()> {
    match std::fs::rename(from, to) {
        Ok(()) => Ok(()),
        Err(e) if e.raw_os_error() == Some(18) => {
            // EXDEV: another file system.
            std::fs::copy(from, to)
                .and_then(|_| std::fs::remove_file(from))
                .map_err(|e| Error::io(format!("could not move {}", from.display()), e))
        }
        Err(e) => Err(Error::io(
            format!("could not move {} to {}", from.display(), to.display()),
            e,
        )),
    }
}

/// The `Path=` value: the absolute path, percent-encoded as a URI path.
fn encode(path: &Path) -> String {
    let mut out = String::new();
    for b in path.to_string_lossy().bytes() {
        if b.is_ascii_alphanumeric() || b"/-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trashed_file_has_its_info_and_comes_back_byte_for_byte() {
        let dir = tempfile::tempdir().expect("tmp");
        let trash = dir.path().join("Trash");
        let file = dir.path().join("a b.txt");
        std::fs::write(&file, "bytes\n").expect("write");
        let t = put(&trash, &file).expect("trash");
        assert!(!file.exists());
        let info = std::fs::read_to_string(&t.info).expect("info");
        assert!(info.starts_with("[Trash Info]\nPath="), "{info}");
        assert!(info.contains("a%20b.txt"), "{info}");
        // A second file of the same name gets a name of its own.
        std::fs::write(&file, "other").expect("write");
        let t2 = put(&trash, &file).expect("trash");
        assert_ne!(t.file, t2.file);
        restore(&t, &file).expect("restore");
        assert_eq!(std::fs::read(&file).expect("read"), b"bytes\n");
        assert!(!t.info.exists());
        assert!(restore(&t2, &file).is_err(), "never over a file");
    }
}
