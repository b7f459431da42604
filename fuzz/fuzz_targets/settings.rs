//! Any text as settings.toml (the user edits it by hand).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(s) = toml::from_str::<pith_core::settings::UserSettings>(text) {
            let _ = pith_core::settings::normalize_hotkey(&s.app.hotkey);
            let _ = s.routing();
        }
    }
});
