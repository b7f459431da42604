//! Keeps the window's security strict: a snapshot of the permission set and
//! checks on the Content Security Policy. Changing either is a decision that
//! should show up in review, not slip in.

use serde_json::Value;

fn json(path: &str) -> Value {
    let full = format!("{}/{path}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{full}: {e}"))
}

fn csp() -> String {
    json("tauri.conf.json")["app"]["security"]["csp"]
        .as_str()
        .expect("a CSP string")
        .to_string()
}

fn directive(csp: &str, name: &str) -> Vec<String> {
    csp.split(';')
        .map(str::trim)
        .find_map(|d| {
            d.strip_prefix(name)
                .map(|rest| rest.split_whitespace().map(String::from).collect())
        })
        .unwrap_or_default()
}

#[test]
fn the_csp_allows_no_eval_no_inline_script_and_no_remote_source() {
    let csp = csp();
    assert!(!csp.contains("unsafe-eval"), "{csp}");
    assert!(
        !directive(&csp, "script-src")
            .iter()
            .any(|s| s == "'unsafe-inline'"),
        "{csp}"
    );
    for source in csp.split_whitespace() {
        let s = source.trim_end_matches(';');
        assert!(
            !(s.starts_with("http:")
                || s.starts_with("https:")
                || s.starts_with("ws:")
                || s == "*")
                || s == "http://ipc.localhost",
            "remote source {s} in {csp}"
        );
    }
    assert_eq!(directive(&csp, "default-src"), ["'self'"]);
    // Images only from the app itself: an image URL in a model's answer never loads.
    assert_eq!(directive(&csp, "img-src"), ["'self'", "data:"]);
    assert_eq!(directive(&csp, "object-src"), ["'none'"]);
}

/// The windows a capability file names and the permissions it grants.
fn capability(name: &str) -> (Vec<String>, Vec<String>) {
    let cap = json(&format!("capabilities/{name}.json"));
    let strings = |key: &str| -> Vec<String> {
        cap[key]
            .as_array()
            .unwrap_or_else(|| panic!("{name}: {key}"))
            .iter()
            .map(|p| p.as_str().expect("plain names").to_string())
            .collect()
    };
    (strings("windows"), strings("permissions"))
}

#[test]
fn the_main_window_has_exactly_the_permissions_in_this_snapshot() {
    let (windows, permissions) = capability("main");
    assert_eq!(windows, ["main"]);
    assert_eq!(
        permissions,
        [
            "core:event:default",
            "allow-app-status",
            "allow-conversations",
            "allow-conversation-messages",
            "allow-chat-send",
            "allow-chat-stop",
            "allow-machine-fit",
            "allow-search-conversations",
            "allow-delete-conversation",
            "allow-export-conversation",
            "allow-open-file",
            "allow-summarize-file",
            "allow-get-settings",
            "allow-save-settings",
            "allow-download-model",
            "allow-cancel-download",
            "allow-import-model",
            "allow-use-model",
            "allow-rewrites",
            "allow-restore-clipboard",
            "allow-rephrase-clipboard",
            "allow-hotkey-status",
        ]
    );
}

#[test]
fn every_app_command_is_in_the_manifest_and_allowed() {
    let build = std::fs::read_to_string(format!("{}/build.rs", env!("CARGO_MANIFEST_DIR")))
        .expect("build.rs");
    let cap = format!(
        "{}{}",
        json("capabilities/main.json"),
        json("capabilities/popup.json")
    );
    let main = std::fs::read_to_string(format!("{}/src/main.rs", env!("CARGO_MANIFEST_DIR")))
        .expect("main.rs");
    let listed = [
        "app_status",
        "conversations",
        "conversation_messages",
        "chat_send",
        "chat_stop",
        "machine_fit",
        "search_conversations",
        "delete_conversation",
        "export_conversation",
        "open_file",
        "summarize_file",
        "get_settings",
        "save_settings",
        "download_model",
        "cancel_download",
        "import_model",
        "use_model",
        "rephrase_pending",
        "rephrase_run",
        "rephrase_accept",
        "rephrase_stop",
        "rephrase_cancel",
        "rephrase_summarize",
        "rewrites",
        "restore_clipboard",
        "rephrase_clipboard",
        "hotkey_status",
    ];
    // Every #[tauri::command] in the shell is one of these: a new command
    // cannot slip in without the manifest and capability entries below.
    let src = format!("{}/src", env!("CARGO_MANIFEST_DIR"));
    let mut defined: Vec<(String, String)> = Vec::new();
    for entry in std::fs::read_dir(&src).expect("src folder") {
        let path = entry.expect("entry").path();
        let module = path
            .file_stem()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let source = std::fs::read_to_string(&path).expect("source");
        for rest in source.split("#[tauri::command]").skip(1) {
            let after = rest.split_once("fn ").expect("a fn after the attribute").1;
            let name = after
                .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .next()
                .expect("a name");
            defined.push((name.to_string(), module.clone()));
        }
    }
    let mut names: Vec<&str> = defined.iter().map(|(n, _)| n.as_str()).collect();
    names.sort_unstable();
    let mut expected = listed.to_vec();
    expected.sort_unstable();
    assert_eq!(names, expected, "the commands defined in src/");
    for (command, module) in &defined {
        assert!(
            build.contains(&format!("\"{command}\"")),
            "{command} in the app manifest"
        );
        assert!(
            cap.contains(&format!("allow-{}", command.replace('_', "-"))),
            "{command} allowed"
        );
        assert!(
            main.contains(&format!("{module}::{command}")),
            "{command} registered"
        );
    }
}

#[test]
fn the_rephrase_popup_may_only_rewrite_accept_and_cancel() {
    let (windows, permissions) = capability("popup");
    assert_eq!(windows, ["popup"]);
    assert_eq!(
        permissions,
        [
            "core:event:default",
            "allow-rephrase-pending",
            "allow-rephrase-run",
            "allow-rephrase-accept",
            "allow-rephrase-stop",
            "allow-rephrase-cancel",
            "allow-rephrase-summarize",
        ]
    );
}
