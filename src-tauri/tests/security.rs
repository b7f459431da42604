//! Keeps the window's security strict: a snapshot of the permission set and
//! checks on the Content Security Policy. Changing either is a decision that
//! should show up in review, not slip in.

mod common;

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

/// `commands.json`: each window's commands as `module::name` paths.
fn command_list() -> Vec<(String, Vec<String>)> {
    let list = json("commands.json");
    list["windows"]
        .as_object()
        .expect("windows")
        .iter()
        .map(|(window, spec)| {
            let commands = spec["commands"]
                .as_array()
                .expect("commands")
                .iter()
                .map(|c| c.as_str().expect("a path").to_string())
                .collect();
            (window.clone(), commands)
        })
        .collect()
}

fn name(path: &str) -> &str {
    path.rsplit("::").next().unwrap_or(path)
}

#[test]
fn each_window_is_allowed_exactly_the_commands_the_list_gives_it() {
    for (window, commands) in command_list() {
        let (windows, permissions) = capability(&window);
        assert_eq!(windows, std::slice::from_ref(&window));
        let mut expected = vec!["core:event:default".to_string()];
        expected.extend(
            commands
                .iter()
                .map(|c| format!("allow-{}", name(c).replace('_', "-"))),
        );
        assert_eq!(permissions, expected, "{window}");
    }
}

/// Every `#[tauri::command]` in the shell, as `module::name`.
fn defined_commands() -> Vec<String> {
    let mut out = Vec::new();
    for (module, path) in common::sources() {
        let source = std::fs::read_to_string(&path).expect("source");
        for rest in source.split("#[tauri::command]").skip(1) {
            let after = rest.split_once("fn ").expect("a fn after the attribute").1;
            let command = after
                .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .next()
                .expect("a name");
            out.push(format!("{module}::{command}"));
        }
    }
    out
}

#[test]
fn every_command_in_the_shell_is_in_the_list_and_every_listed_one_exists() {
    let mut defined = defined_commands();
    defined.sort_unstable();
    let mut listed: Vec<String> = command_list().into_iter().flat_map(|(_, c)| c).collect();
    listed.sort_unstable();
    listed.dedup();
    assert_eq!(
        defined, listed,
        "the commands defined in src/ and commands.json"
    );
}

#[test]
fn the_ui_wraps_exactly_the_listed_commands() {
    let api = std::fs::read_to_string(format!(
        "{}/../ui/src/api/index.ts",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("ui/src/api/index.ts");
    let mut invoked: Vec<String> = api
        .split("invoke<")
        .skip(1)
        .filter_map(|rest| rest.split('"').nth(1).map(str::to_string))
        .collect();
    invoked.sort_unstable();
    invoked.dedup();
    let mut listed: Vec<String> = command_list()
        .into_iter()
        .flat_map(|(_, c)| c)
        .map(|c| name(&c).to_string())
        .collect();
    listed.sort_unstable();
    listed.dedup();
    assert_eq!(invoked, listed, "the commands ui/src/api/index.ts invokes");
}

/// The popup rewrites, runs commands on the text it was given, accepts
/// (its own result to the clipboard, or a file result saved where the
/// person picks) and cancels; it never names text or a path of its own.
#[test]
fn the_rephrase_popup_may_only_rewrite_run_commands_accept_and_cancel() {
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
            "allow-command-run-pending",
            "allow-command-save-file",
        ]
    );
}
