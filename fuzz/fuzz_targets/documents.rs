//! Any bytes, as a dropped file: PDF (with its preflight), DOCX, HTML, and
//! text in any encoding, recognised by content. Every input must give a
//! document or a clear error, within the limits, and never crash.
//! (Seeds, the hostile inputs among them: fuzz/seeds/documents.)
#![no_main]

use libfuzzer_sys::fuzz_target;
use pith_core::documents::{extract, Limits};

fuzz_target!(|data: &[u8]| {
    // The PDF reader panics on some malformed files; Pith catches that on
    // its extraction thread and reports the file as damaged. libFuzzer's
    // own hook would abort on the caught panic, so it is replaced: a
    // panic that escapes Pith still aborts (libfuzzer-sys catches it).
    static QUIET: std::sync::Once = std::sync::Once::new();
    QUIET.call_once(|| std::panic::set_hook(Box::new(|_| {})));
    let limits = Limits {
        max_file_bytes: 4 << 20,
        max_chars: 200_000,
        max_unzipped_bytes: 16 << 20,
        time_limit: std::time::Duration::from_secs(5),
    };
    let _ = extract(data.to_vec(), &limits);
});
