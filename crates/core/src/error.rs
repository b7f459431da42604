//! One error type for the core, with a stable machine-readable code.
//!
//! The desktop shell sends `{code, message}` to the UI and the UI branches on
//! `code`; the command line maps codes to exit statuses. Messages are written
//! for the person reading them: what went wrong, the numbers, what to do.

use serde::Serialize;
use std::path::PathBuf;

/// What the UI and scripts branch on. Serialized as `SCREAMING_SNAKE_CASE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    ModelNotFound,
    InvalidModel,
    ModelLoadFailed,
    OutOfMemory,
    DiskFull,
    Download,
    UnsupportedCpu,
    ContextTooLong,
    EmptyInput,
    InvalidInput,
    UnsupportedDocument,
    ResultRejected,
    IncompleteOutput,
    NotFound,
    History,
    DatabaseTooNew,
    Cancelled,
    Inference,
    Io,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("no model file at {}", path.display())]
    ModelNotFound { path: PathBuf },

    #[error(
        "no model found. Looked in: {}. Fetch the default model with `npm run fetch-model` \
         (or `scripts/fetch-models.sh`), or pass --model PATH to a .gguf file",
        searched.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
    )]
    NoModelInstalled { searched: Vec<PathBuf> },

    #[error("{} is not a usable GGUF model: {reason}", path.display())]
    InvalidModel { path: PathBuf, reason: String },

    #[error("llama.cpp could not load {}: {reason}", path.display())]
    ModelLoadFailed { path: PathBuf, reason: String },

    #[error(
        "{model} needs about {} of memory with a {context}-token context, but only {} is free. \
         Close other programs, choose a smaller model (`pith models recommend`), \
         or load it anyway with --force",
        crate::models::estimate::human_bytes(*needed),
        crate::models::estimate::human_bytes(*available)
    )]
    OutOfMemory {
        model: String,
        needed: u64,
        available: u64,
        context: u32,
    },

    #[error(
        "not enough disk space in {}: the download needs {} more and {} is free",
        dir.display(),
        crate::models::estimate::human_bytes(*needed),
        crate::models::estimate::human_bytes(*free)
    )]
    DiskFull {
        dir: PathBuf,
        needed: u64,
        free: u64,
    },

    #[error("download failed: {0}")]
    Download(String),

    #[error(
        "the prompt needs {prompt_tokens} tokens plus {reserved_tokens} for the answer, \
         but the model's context window holds {context_tokens}"
    )]
    ContextTooLong {
        prompt_tokens: usize,
        reserved_tokens: usize,
        context_tokens: usize,
    },

    #[error(
        "the text is {} and a model is given at most {} at once; summarize it instead \
         (`pith summarize`, or drop it on the window)",
        text_size(*bytes),
        text_size(*max_bytes)
    )]
    TextTooLong { bytes: usize, max_bytes: usize },

    #[error(
        "this build of Pith needs CPU features this processor lacks ({}); \
         build it on this machine with ./pith.sh start to match its CPU",
        missing.join(", ")
    )]
    UnsupportedCpu { missing: Vec<String> },

    #[error("the input is empty: give some text to work on")]
    EmptyInput,

    #[error("invalid input: {0}")]
    InvalidInput(String),

    #[error("unsupported document: {0}")]
    UnsupportedDocument(String),

    #[error("the model's result was rejected: {reason}. {suggestion}")]
    ResultRejected { reason: String, suggestion: String },

    #[error(
        "the model did not finish its structured output within {max_tokens} tokens, and a cut \
         JSON value is never returned; allow more tokens or ask for less"
    )]
    Incomplete { max_tokens: usize },

    #[error("{0} does not exist")]
    NotFound(String),

    #[error("history database: {0}")]
    History(String),

    #[error(
        "{} was written by a newer version of Pith (schema {found}; this version reads up to {supported}); \
         it was left untouched. Update Pith, or set PITH_DATA_DIR to use another folder",
        path.display()
    )]
    DatabaseTooNew {
        path: PathBuf,
        found: i64,
        supported: i64,
    },

    #[error("cancelled")]
    Cancelled,

    #[error("inference failed: {0}")]
    Inference(String),

    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::ModelNotFound { .. } | Error::NoModelInstalled { .. } => {
                ErrorCode::ModelNotFound
            }
            Error::InvalidModel { .. } => ErrorCode::InvalidModel,
            Error::ModelLoadFailed { .. } => ErrorCode::ModelLoadFailed,
            Error::OutOfMemory { .. } => ErrorCode::OutOfMemory,
            Error::DiskFull { .. } => ErrorCode::DiskFull,
            Error::Download(_) => ErrorCode::Download,
            Error::ContextTooLong { .. } | Error::TextTooLong { .. } => ErrorCode::ContextTooLong,
            Error::UnsupportedCpu { .. } => ErrorCode::UnsupportedCpu,
            Error::EmptyInput => ErrorCode::EmptyInput,
            Error::InvalidInput(_) => ErrorCode::InvalidInput,
            Error::UnsupportedDocument(_) => ErrorCode::UnsupportedDocument,
            Error::ResultRejected { .. } => ErrorCode::ResultRejected,
            Error::Incomplete { .. } => ErrorCode::IncompleteOutput,
            Error::NotFound(_) => ErrorCode::NotFound,
            Error::History(_) => ErrorCode::History,
            Error::DatabaseTooNew { .. } => ErrorCode::DatabaseTooNew,
            Error::Cancelled => ErrorCode::Cancelled,
            Error::Inference(_) => ErrorCode::Inference,
            Error::Io { .. } => ErrorCode::Io,
        }
    }

    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    /// The `{code, message}` shape the UI and `--json` output receive.
    pub fn to_payload(&self) -> ErrorPayload {
        ErrorPayload {
            code: self.code(),
            message: self.to_string(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct ErrorPayload {
    pub code: ErrorCode,
    pub message: String,
}

/// Kilobytes for text sizes, megabytes past one.
fn text_size(bytes: usize) -> String {
    if bytes >= 1_000_000 {
        crate::models::estimate::human_bytes(bytes as u64)
    } else {
        format!("{} KB", bytes.div_ceil(1000))
    }
}

impl From<Error> for ErrorPayload {
    fn from(e: Error) -> Self {
        e.to_payload()
    }
}

impl From<&Error> for ErrorPayload {
    fn from(e: &Error) -> Self {
        e.to_payload()
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_json_shape_is_pinned() {
        let e = Error::ContextTooLong {
            prompt_tokens: 3000,
            reserved_tokens: 256,
            context_tokens: 2048,
        };
        let json = serde_json::to_value(e.to_payload()).expect("serializes");
        assert_eq!(json["code"], "CONTEXT_TOO_LONG");
        assert_eq!(
            json["message"],
            "the prompt needs 3000 tokens plus 256 for the answer, but the model's context window holds 2048"
        );
        assert_eq!(json.as_object().map(|o| o.len()), Some(2));
    }

    #[test]
    fn cancelled_has_its_own_code() {
        assert_eq!(
            serde_json::to_value(Error::Cancelled.code()).expect("serializes"),
            "CANCELLED"
        );
    }
}
