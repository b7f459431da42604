//! Lists every app command in the app manifest, so the capability files
//! decide what the window may call (an unlisted command is refused).
fn main() {
    let manifest = tauri_build::AppManifest::new().commands(&[
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
    ]);
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(manifest))
        .unwrap_or_else(|e| panic!("tauri build step failed: {e:#}"));
}
