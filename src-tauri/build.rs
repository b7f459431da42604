//! Derives everything that names the app's commands from `commands.json`,
//! the one list: the app manifest (so the capability files decide what a
//! window may call, and an unlisted command is refused), the capability
//! file of each window, and the handler list `main.rs` registers.

use serde_json::{json, Value};
use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=commands.json");
    let list: Value = serde_json::from_str(
        &std::fs::read_to_string("commands.json").expect("commands.json is readable"),
    )
    .expect("commands.json is JSON");
    let windows = list["windows"].as_object().expect("a \"windows\" object");
    let mut paths: Vec<String> = Vec::new();
    for (window, spec) in windows {
        let commands: Vec<&str> = spec["commands"]
            .as_array()
            .expect("a \"commands\" list")
            .iter()
            .map(|c| c.as_str().expect("module::command"))
            .collect();
        let mut permissions = vec!["core:event:default".to_string()];
        for path in &commands {
            permissions.push(format!("allow-{}", name(path).replace('_', "-")));
            if !paths.iter().any(|p| p == path) {
                paths.push(path.to_string());
            }
        }
        let capability = json!({
            "identifier": window,
            "description": spec["description"],
            "windows": [window],
            "permissions": permissions,
        });
        write_if_changed(
            &Path::new("capabilities").join(format!("{window}.json")),
            &format!(
                "{}\n",
                serde_json::to_string_pretty(&capability).expect("serializes")
            ),
        );
    }
    // The manifest keeps its list for the whole build script.
    let names: &'static [&'static str] = Vec::leak(
        paths
            .iter()
            .map(|p| &*String::leak(name(p).to_string()))
            .collect(),
    );
    let handler = format!(
        "/// Every command in commands.json, for `invoke_handler`.\n\
         macro_rules! pith_commands {{\n    () => {{\n        tauri::generate_handler![\n{}        ]\n    }};\n}}\n",
        paths
            .iter()
            .map(|p| format!("            {p},\n"))
            .collect::<String>()
    );
    let out = std::env::var("OUT_DIR").expect("OUT_DIR");
    write_if_changed(&Path::new(&out).join("commands.rs"), &handler);
    let manifest = tauri_build::AppManifest::new().commands(names);
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(manifest))
        .unwrap_or_else(|e| panic!("tauri build step failed: {e:#}"));
}

fn name(path: &str) -> &str {
    path.rsplit("::").next().unwrap_or(path)
}

/// Writes only a changed file: tauri-build watches the capability folder,
/// and a rewritten file would start the build again.
fn write_if_changed(path: &Path, text: &str) {
    if std::fs::read_to_string(path).ok().as_deref() != Some(text) {
        std::fs::write(path, text)
            .unwrap_or_else(|e| panic!("could not write {}: {e}", path.display()));
    }
}
