//! The folders the person granted, and every path checked against them.
//!
//! A tool's path is relative to the run's folder. It is refused when it
//! has a `..` component, or resolves (symlinks followed) outside every
//! granted folder; a new file's folder is resolved the same way. The
//! refusal names the path and the folders, so the person sees why.

use crate::error::{Error, Result};
use std::path::{Component, Path, PathBuf};

/// The granted folders (resolved) and the run's own folder among them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grants {
    folders: Vec<PathBuf>,
    /// Where relative paths start.
    pub root: PathBuf,
}

impl Grants {
    /// `root` must be one of `granted` or inside one.
    pub fn new(granted: &[PathBuf], root: &Path) -> Result<Self> {
        let mut folders = Vec::new();
        for g in granted {
            match std::fs::canonicalize(g) {
                Ok(p) if p.is_dir() => folders.push(p),
                _ => {
                    return Err(Error::InvalidInput(format!(
                        "the granted folder {} does not exist or is not a folder",
                        g.display()
                    )))
                }
            }
        }
        let root_real = std::fs::canonicalize(root).map_err(|_| {
            Error::InvalidInput(format!("the folder {} does not exist", root.display()))
        })?;
        if !root_real.is_dir() {
            return Err(Error::InvalidInput(format!(
                "{} is not a folder",
                root.display()
            )));
        }
        let grants = Self {
            folders,
            root: root_real.clone(),
        };
        if !grants.inside(&root_real) {
            return Err(grants.outside(root));
        }
        Ok(grants)
    }

    pub fn folders(&self) -> &[PathBuf] {
        &self.folders
    }

    fn inside(&self, real: &Path) -> bool {
        self.folders.iter().any(|f| real.starts_with(f))
    }

    fn outside(&self, path: &Path) -> Error {
        let granted = if self.folders.is_empty() {
            "none yet: grant one in Settings, or pass --folder".to_string()
        } else {
            self.folders
                .iter()
                .map(|f| f.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        Error::InvalidInput(format!(
            "{} is outside the folders the agent may use (granted: {granted})",
            path.display()
        ))
    }

    fn joined(&self, path: &str) -> Result<PathBuf> {
        let path = path.trim();
        if path.is_empty() {
            return Err(Error::InvalidInput("the path is empty".into()));
        }
        let p = Path::new(path);
        if p.components().any(|c| matches!(c, Component::ParentDir)) {
            return Err(Error::InvalidInput(format!(
                "{path} goes up a folder (..); the agent's paths stay inside its folder"
            )));
        }
        Ok(if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.root.join(p)
        })
    }

    /// An existing file or folder, resolved (symlinks followed) and inside
    /// a granted folder.
    pub fn existing(&self, path: &str) -> Result<PathBuf> {
        let joined = self.joined(path)?;
        let real = std::fs::canonicalize(&joined)
            .map_err(|_| Error::NotFound(format!("{path} (in {})", self.root.display())))?;
        if !self.inside(&real) {
            return Err(self.outside(&joined));
        }
        Ok(real)
    }

    /// A path for a new file: its folder resolved and granted, the name
    /// itself not a link (nothing exists there yet).
    pub fn new_file(&self, path: &str) -> Result<PathBuf> {
        let joined = self.joined(path)?;
        let name = joined
            .file_name()
            .ok_or_else(|| Error::InvalidInput(format!("{path} has no file name")))?
            .to_owned();
        let parent = joined.parent().unwrap_or(&self.root);
        let real_parent = std::fs::canonicalize(parent).map_err(|_| {
            Error::NotFound(format!("the folder of {path} (in {})", self.root.display()))
        })?;
        if !self.inside(&real_parent) {
            return Err(self.outside(&joined));
        }
        let target = real_parent.join(name);
        if target.symlink_metadata().is_ok() {
            return Err(Error::InvalidInput(format!(
                "{path} already exists; the agent never writes over a file"
            )));
        }
        Ok(target)
    }

    /// `real` as the model sees it: relative to the run's folder.
    pub fn shown(&self, real: &Path) -> String {
        real.strip_prefix(&self.root)
            .unwrap_or(real)
            .display()
            .to_string()
    }
}

/// A file name the agent may give: one component, no control characters,
/// not hidden, at most 200 bytes.
pub fn check_name(name: &str) -> Result<()> {
    let bad = |why: &str| Err(Error::InvalidInput(format!("the name {name:?} {why}")));
    if name.trim().is_empty() {
        return bad("is empty");
    }
    if name.contains('/') || name.contains('\\') {
        return bad("holds a folder separator; give a name, not a path");
    }
    if name.starts_with('.') {
        return bad("starts with a dot (a hidden file)");
    }
    if name.chars().any(char::is_control) {
        return bad("holds control characters");
    }
    if name.len() > 200 {
        return bad("is longer than 200 bytes");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> (tempfile::TempDir, Grants) {
        let dir = tempfile::tempdir().expect("tmp");
        let granted = dir.path().join("granted");
        std::fs::create_dir(&granted).expect("mkdir");
        std::fs::write(granted.join("a.txt"), "a").expect("write");
        std::fs::write(dir.path().join("secret.txt"), "s").expect("write");
        let grants = Grants::new(std::slice::from_ref(&granted), &granted).expect("grants");
        (dir, grants)
    }

    #[test]
    fn a_file_inside_resolves_and_shows_relative() {
        let (_d, g) = setup();
        let p = g.existing("a.txt").expect("inside");
        assert_eq!(g.shown(&p), "a.txt");
    }

    #[test]
    fn going_up_is_refused_before_the_file_system_is_asked() {
        let (_d, g) = setup();
        let e = g
            .existing("../secret.txt")
            .expect_err("refused")
            .to_string();
        assert!(e.contains("goes up a folder"), "{e}");
        assert!(g.new_file("sub/../../x.txt").is_err());
    }

    #[test]
    fn an_absolute_path_outside_is_refused_naming_the_granted_folders() {
        let (d, g) = setup();
        let outside = d.path().join("secret.txt");
        let e = g
            .existing(outside.to_str().expect("utf8"))
            .expect_err("refused")
            .to_string();
        assert!(e.contains("outside the folders"), "{e}");
        assert!(e.contains("granted"), "{e}");
    }

    #[test]
    fn a_symlink_out_of_the_granted_folder_is_refused() {
        let (d, g) = setup();
        std::os::unix::fs::symlink(d.path().join("secret.txt"), g.root.join("link.txt"))
            .expect("link");
        std::os::unix::fs::symlink(d.path(), g.root.join("up")).expect("link");
        assert!(g
            .existing("link.txt")
            .expect_err("refused")
            .to_string()
            .contains("outside"));
        assert!(g
            .new_file("up/new.txt")
            .expect_err("refused")
            .to_string()
            .contains("outside"));
    }

    #[test]
    fn a_new_file_never_replaces_one() {
        let (_d, g) = setup();
        assert!(g
            .new_file("a.txt")
            .expect_err("refused")
            .to_string()
            .contains("already exists"));
        assert!(g.new_file("b.txt").is_ok());
    }

    #[test]
    fn a_root_outside_the_grants_is_refused() {
        let (d, _g) = setup();
        let e = Grants::new(&[d.path().join("granted")], d.path()).expect_err("refused");
        assert!(e.to_string().contains("outside"), "{e}");
        let e = Grants::new(&[], &d.path().join("granted")).expect_err("refused");
        assert!(e.to_string().contains("none yet"), "{e}");
    }

    #[test]
    fn names_are_one_plain_component() {
        assert!(check_name("Budget review.pdf").is_ok());
        for bad in ["", "a/b.pdf", ".hidden", "a\u{7}b"] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }
}
