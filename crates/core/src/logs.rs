//! Logs: what the app and the command line did, as structured events
//! (`tracing`), written to a file a day in the data folder's `logs/`
//! (`pith.2026-12-03.log`, `pith-desktop.2026-12-03.log`; two weeks kept),
//! with llama.cpp's own messages from warnings up. Nothing the user wrote
//! goes into them unless the user turns on the debug switch (`debug_logs`
//! in Settings, or `PITH_DEBUG_LOGS=1`): log [`text`] of it, which is
//! otherwise only its length.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter, Layer};

static USER_TEXT: AtomicBool = AtomicBool::new(false);

/// Days of log files kept.
pub const KEEP_DAYS: usize = 14;

/// The folder the log files go to.
pub fn dir() -> Option<PathBuf> {
    crate::paths::data_dir().map(|d| d.join("logs"))
}

/// Turns the debug switch on or off: user text in the logs.
pub fn set_user_text(on: bool) {
    USER_TEXT.store(on, Ordering::Relaxed);
}

/// Text the user wrote, as a log may show it: whole with the debug switch
/// on, otherwise only its length.
pub fn text(t: &str) -> String {
    if USER_TEXT.load(Ordering::Relaxed) {
        format!("{t:?}")
    } else {
        format!("[{} characters]", t.chars().count())
    }
}

/// What stays alive while the program logs: dropping it writes what is
/// buffered.
pub struct Logging {
    _file: Option<tracing_appender::non_blocking::WorkerGuard>,
}

/// Starts logging for `program` ("pith", "pith-desktop"): to the day's
/// file, and to standard error at `stderr` and above (`None`: not at all).
/// `PITH_LOG` replaces the file's filter (`debug`, `pith_core=trace`, …).
/// A folder that cannot be written leaves logging to standard error only.
pub fn init(program: &str, stderr: Option<tracing::Level>) -> Logging {
    if std::env::var_os("PITH_DEBUG_LOGS").is_some_and(|v| v == "1") {
        set_user_text(true);
    }
    let filter = || {
        EnvFilter::try_from_env("PITH_LOG")
            .unwrap_or_else(|_| EnvFilter::new("info,llama_cpp_2=warn"))
    };
    let file = dir().and_then(|dir| {
        crate::paths::private_dir(&dir).ok()?;
        tracing_appender::rolling::Builder::new()
            .rotation(tracing_appender::rolling::Rotation::DAILY)
            .filename_prefix(program)
            .filename_suffix("log")
            .max_log_files(KEEP_DAYS)
            .build(&dir)
            .ok()
    });
    let (file_layer, guard) = match file {
        Some(appender) => {
            let (writer, guard) = tracing_appender::non_blocking(appender);
            let layer = fmt::layer()
                .with_ansi(false)
                .with_writer(writer)
                .with_filter(filter());
            (Some(layer), Some(guard))
        }
        None => (None, None),
    };
    let stderr_layer = stderr.map(|level| {
        fmt::layer()
            .with_writer(std::io::stderr)
            .with_target(false)
            .without_time()
            .with_filter(EnvFilter::new(format!(
                "{},llama_cpp_2=warn",
                level.as_str().to_ascii_lowercase()
            )))
    });
    let _ = tracing_subscriber::registry()
        .with(file_layer)
        .with(stderr_layer)
        .try_init();
    tracing::info!(version = env!("CARGO_PKG_VERSION"), program, "started");
    Logging { _file: guard }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_text_is_only_its_length_unless_the_switch_is_on() {
        assert_eq!(text("my secret plan"), "[14 characters]");
        set_user_text(true);
        assert_eq!(text("my secret plan"), "\"my secret plan\"");
        set_user_text(false);
    }
}
