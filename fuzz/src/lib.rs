//! What the fuzz targets share.

use pith_core::documents::Limits;

/// The document limits for fuzzing: smaller than Pith's, so each input
/// runs fast, with the same kinds of bound.
pub fn limits() -> Limits {
    Limits {
        max_file_bytes: 4 << 20,
        max_chars: 200_000,
        max_unzipped_bytes: 16 << 20,
        time_limit: std::time::Duration::from_secs(5),
    }
}

/// The PDF reader panics on some malformed files; Pith catches that on its
/// extraction thread and reports the file as damaged. libFuzzer's own hook
/// would abort on the caught panic, so it is replaced: a panic that
/// escapes Pith still aborts (libfuzzer-sys catches it).
pub fn quiet_caught_panics() {
    static QUIET: std::sync::Once = std::sync::Once::new();
    QUIET.call_once(|| std::panic::set_hook(Box::new(|_| {})));
}
