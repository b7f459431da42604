//! What the shell's source tests share.

use std::path::{Path, PathBuf};

/// Every source file of the shell with its module path (`hotkey::commands`
/// for `src/hotkey/commands.rs`; `hotkey` for `src/hotkey.rs`).
pub fn sources() -> Vec<(String, PathBuf)> {
    fn walk(dir: &Path, module: &str, out: &mut Vec<(String, PathBuf)>) {
        for entry in std::fs::read_dir(dir).expect("source folder") {
            let path = entry.expect("entry").path();
            let stem = path
                .file_stem()
                .expect("name")
                .to_string_lossy()
                .into_owned();
            let here = if module.is_empty() {
                stem
            } else {
                format!("{module}::{stem}")
            };
            if path.is_dir() {
                walk(&path, &here, out);
            } else {
                out.push((here, path));
            }
        }
    }
    let mut out = Vec::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        "",
        &mut out,
    );
    out
}
