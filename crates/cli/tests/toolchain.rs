//! The Rust version Pith declares is the one its dependency tree needs:
//! the workspace's `rust-version` equals the highest any dependency
//! declares, and the set-up script checks for that same version.

use std::process::Command;

fn version(v: &str) -> Vec<u32> {
    v.split('.').map(|p| p.parse().unwrap_or(0)).collect()
}

#[test]
fn the_declared_rust_version_is_what_the_dependencies_need() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--offline"])
        .current_dir(root)
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let packages = meta["packages"].as_array().expect("packages");
    let ours = packages
        .iter()
        .find(|p| p["name"] == "pith-core")
        .and_then(|p| p["rust_version"].as_str())
        .expect("pith-core declares a rust-version");
    let (needed, by) = packages
        .iter()
        .filter_map(|p| Some((p["rust_version"].as_str()?, p["name"].as_str()?)))
        .max_by_key(|(v, _)| version(v))
        .expect("some dependency declares one");
    assert_eq!(
        version(ours),
        version(needed),
        "the workspace declares Rust {ours}; {by} needs {needed}"
    );
    let script = std::fs::read_to_string(format!("{root}/pith.sh")).expect("pith.sh");
    let minimum = format!("{}.0", ours.trim_end_matches(".0"));
    assert!(
        script.contains(&format!("Pith needs {ours} or newer")) && script.contains(&minimum),
        "pith.sh checks for Rust {ours}"
    );
}
