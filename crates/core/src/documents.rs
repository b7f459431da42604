//! Text out of the documents people drop on Pith: PDF, DOCX, HTML, Markdown
//! and plain text in any common encoding.
//!
//! The format is recognised from the bytes, never from the file name. Every
//! extraction is bounded — file size, extracted characters, decompressed
//! bytes (zip bombs), wall-clock time — and runs on its own thread behind
//! `catch_unwind`: parsers of hostile formats panic, and a panic must become
//! `UNSUPPORTED_DOCUMENT` with the reason, not a crashed app. Page and section
//! boundaries are kept as [`Marker`]s beside the text (not inside it, so a
//! model never copies "[page 3]" into a summary); the summary's coverage line
//! is built from them.

mod docx;
mod html;
mod pdf;
pub mod sample;
mod text;

use crate::error::{Error, Result};
use serde::Serialize;
use std::path::Path;
use std::time::{Duration, Instant};

/// What a document was recognised as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Pdf,
    Docx,
    Html,
    Markdown,
    Text,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Pdf => "PDF",
            Format::Docx => "Word document",
            Format::Html => "web page",
            Format::Markdown => "Markdown",
            Format::Text => "text",
        }
    }
}

/// A boundary in the extracted text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum MarkerKind {
    /// Page `n` (from 1) starts here.
    Page { number: usize },
    /// A heading starts here.
    Section { title: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Marker {
    /// Byte offset in [`Document::text`].
    pub offset: usize,
    #[serde(flatten)]
    pub kind: MarkerKind,
}

/// The text of a document and where its pages and sections start.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Document {
    pub format: Format,
    pub text: String,
    /// Pages in the file (PDF), whether or not each had text.
    pub pages: Option<usize>,
    pub markers: Vec<Marker>,
    /// The text encoding that was converted to UTF-8 (text formats only).
    pub encoding: Option<String>,
}

impl Document {
    /// The pages that the byte range `start..end` of the text touches.
    pub fn pages_in(&self, start: usize, end: usize) -> Option<(usize, usize)> {
        let page_at = |offset: usize| {
            self.markers.iter().rev().find_map(|m| match m.kind {
                MarkerKind::Page { number } if m.offset <= offset => Some(number),
                _ => None,
            })
        };
        let first = page_at(start)?;
        let last = page_at(end.saturating_sub(1).max(start))?;
        Some((first, last))
    }

    /// Headings in the document.
    pub fn sections(&self) -> usize {
        self.markers
            .iter()
            .filter(|m| matches!(m.kind, MarkerKind::Section { .. }))
            .count()
    }
}

/// Bounds that keep a hostile or huge file from hurting the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    pub max_file_bytes: u64,
    /// Characters of extracted text; longer documents are refused, never cut.
    pub max_chars: usize,
    /// Bytes a DOCX may decompress to.
    pub max_unzipped_bytes: u64,
    pub time_limit: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_file_bytes: 50_000_000,
            // About 250,000 tokens: a 500-page book, and an hour of reading
            // for a small model on a laptop.
            max_chars: 1_000_000,
            max_unzipped_bytes: 200 * 1024 * 1024,
            time_limit: Duration::from_secs(60),
        }
    }
}

/// Recognises the format from the first bytes.
pub fn sniff(bytes: &[u8]) -> Result<Format> {
    let head = &bytes[..bytes.len().min(1024)];
    if bytes.is_empty() {
        return Err(Error::UnsupportedDocument("the file is empty".into()));
    }
    // PDF readers accept the header anywhere in the first kilobyte.
    if find(head, b"%PDF-").is_some() {
        return Ok(Format::Pdf);
    }
    if bytes.starts_with(b"PK\x03\x04") {
        return docx::is_docx(bytes).map(|()| Format::Docx);
    }
    let image = [
        (&b"\x89PNG"[..], "a PNG image"),
        (b"\xff\xd8\xff", "a JPEG image"),
        (b"GIF8", "a GIF image"),
        (b"RIFF", "a RIFF file (image, audio or video)"),
        (b"\x7fELF", "a program"),
        (b"MZ", "a Windows program"),
        (b"\x1f\x8b", "a gzip archive"),
        (b"7z\xbc\xaf", "a 7-Zip archive"),
        (
            b"\xd0\xcf\x11\xe0",
            "an old Office document (.doc/.xls); save it as .docx or PDF",
        ),
        (b"{\\rtf", "an RTF document; save it as .docx or PDF"),
    ];
    if let Some((_, what)) = image.iter().find(|(magic, _)| bytes.starts_with(magic)) {
        return Err(Error::UnsupportedDocument(format!(
            "this file is {what}, not a document Pith can read (PDF, DOCX, HTML, Markdown or text)"
        )));
    }
    Ok(Format::Text)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Reads and extracts a file, refusing one over the size limit before
/// reading it.
pub fn extract_file(path: &Path, limits: &Limits) -> Result<Document> {
    let meta = std::fs::metadata(path)
        .map_err(|e| Error::io(format!("could not open {}", path.display()), e))?;
    if meta.is_dir() {
        return Err(Error::UnsupportedDocument(format!(
            "{} is a folder; drop a file",
            path.display()
        )));
    }
    check_size(meta.len(), limits)?;
    let bytes = std::fs::read(path)
        .map_err(|e| Error::io(format!("could not read {}", path.display()), e))?;
    extract(bytes, limits)
}

/// Refuses a document of `len` bytes over the size limit, before anything
/// else is done with it.
pub fn check_size(len: u64, limits: &Limits) -> Result<()> {
    if len > limits.max_file_bytes {
        return Err(Error::UnsupportedDocument(format!(
            "the file is {}, over the {} limit for documents",
            crate::models::estimate::human_bytes(len),
            crate::models::estimate::human_bytes(limits.max_file_bytes)
        )));
    }
    Ok(())
}

/// The extraction thread's stack: eight times the default.
const EXTRACT_STACK_BYTES: usize = 16 << 20;

/// Extracts the text, on a separate thread, within the limits.
pub fn extract(bytes: Vec<u8>, limits: &Limits) -> Result<Document> {
    check_size(bytes.len() as u64, limits)?;
    let format = sniff(&bytes)?;
    let (tx, rx) = std::sync::mpsc::channel();
    let thread_limits = limits.clone();
    let deadline = Instant::now() + limits.time_limit;
    std::thread::Builder::new()
        .name("pith-extract".into())
        // Room for the parsers' recursion at the nesting PDFs may have
        // (pdf::preflight refuses deeper files before they are parsed).
        .stack_size(EXTRACT_STACK_BYTES)
        .spawn(move || {
            let outcome = std::panic::catch_unwind(|| {
                extract_format(format, &bytes, &thread_limits, deadline)
            });
            let _ = tx.send(outcome);
        })
        .map_err(|e| Error::io("could not start the document reader", e))?;
    let document = match rx.recv_timeout(limits.time_limit + Duration::from_secs(1)) {
        Ok(Ok(result)) => result?,
        Ok(Err(panic)) => {
            let why = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown reason".into());
            return Err(Error::UnsupportedDocument(format!(
                "the {} reader failed on this file ({why}); it may be damaged",
                format.name()
            )));
        }
        // The reader thread is left to finish on its own; its result is dropped.
        Err(_) => return Err(timed_out(limits)),
    };
    finish(document, limits)
}

pub(crate) fn timed_out(limits: &Limits) -> Error {
    Error::UnsupportedDocument(format!(
        "reading the document took longer than {} s; it may be damaged or too complex",
        limits.time_limit.as_secs()
    ))
}

fn extract_format(
    format: Format,
    bytes: &[u8],
    limits: &Limits,
    deadline: Instant,
) -> Result<Document> {
    match format {
        Format::Pdf => pdf::extract(bytes, limits, deadline),
        Format::Docx => docx::extract(bytes, limits, deadline),
        _ => {
            let (decoded, encoding) = text::decode(bytes)?;
            if html::looks_like_html(&decoded) {
                let mut doc = html::extract(&decoded, limits)?;
                doc.encoding = Some(encoding);
                Ok(doc)
            } else {
                let mut doc = text::extract(decoded, limits)?;
                doc.encoding = Some(encoding);
                Ok(doc)
            }
        }
    }
}

/// Common checks on any extracted text.
fn finish(mut doc: Document, limits: &Limits) -> Result<Document> {
    // Trim trailing whitespace without moving the markers' offsets.
    doc.text.truncate(doc.text.trim_end().len());
    doc.markers.retain(|m| m.offset < doc.text.len());
    let chars = doc.text.chars().count();
    if chars > limits.max_chars {
        return Err(too_long(chars, limits));
    }
    if doc.text.trim().is_empty() {
        return Err(match (doc.format, doc.pages) {
            (Format::Pdf, Some(pages)) => Error::UnsupportedDocument(format!(
                "this PDF has {pages} page(s) but no text layer: it looks scanned. \
                 Run it through OCR first (for example `ocrmypdf`), then drop it again"
            )),
            _ => Error::UnsupportedDocument("the document contains no text".into()),
        });
    }
    let control = doc
        .text
        .chars()
        .filter(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t' | '\x0c'))
        .count();
    if control * 20 > chars {
        return Err(Error::UnsupportedDocument(
            "the file looks like binary data, not text".into(),
        ));
    }
    Ok(doc)
}

fn too_long(chars: usize, limits: &Limits) -> Error {
    Error::UnsupportedDocument(format!(
        "the document has more than {} characters of text (found {chars}{}); \
         Pith summarizes documents up to {} characters. Split it and summarize the parts",
        limits.max_chars,
        if chars > limits.max_chars {
            ""
        } else {
            " so far"
        },
        limits.max_chars
    ))
}

/// Appends text while collecting a document, refusing to grow past the limit.
struct TextBuilder<'a> {
    text: String,
    /// Characters in `text`, kept as it grows: counting the whole text on
    /// each push was quadratic wherever characters take several bytes
    /// (1.8 MB of short CJK lines took 27 s).
    chars: usize,
    pushes: u32,
    markers: Vec<Marker>,
    limits: &'a Limits,
    deadline: Instant,
}

impl<'a> TextBuilder<'a> {
    fn new(limits: &'a Limits, deadline: Instant) -> Self {
        Self {
            text: String::new(),
            chars: 0,
            pushes: 0,
            markers: Vec::new(),
            limits,
            deadline,
        }
    }

    fn push(&mut self, s: &str) -> Result<()> {
        self.text.push_str(s);
        self.chars += s.chars().count();
        if self.chars > self.limits.max_chars {
            return Err(too_long(self.chars, self.limits));
        }
        // The reader stops at its deadline wherever it is pushing text.
        self.pushes = self.pushes.wrapping_add(1);
        if self.pushes.is_multiple_of(1024) {
            self.check_time()?;
        }
        Ok(())
    }

    /// Ends the current paragraph (at most one blank line between them).
    fn paragraph(&mut self) {
        // Only ASCII white space is trimmed or added: a byte is a character.
        let trimmed = self.text.trim_end_matches([' ', '\t']).len();
        self.chars -= self.text.len() - trimmed;
        self.text.truncate(trimmed);
        if self.text.is_empty() || self.text.ends_with("\n\n") {
            return;
        }
        let end = if self.text.ends_with('\n') {
            "\n"
        } else {
            "\n\n"
        };
        self.text.push_str(end);
        self.chars += end.len();
    }

    fn mark(&mut self, kind: MarkerKind) {
        self.markers.push(Marker {
            offset: self.text.len(),
            kind,
        });
    }

    fn check_time(&self) -> Result<()> {
        if Instant::now() > self.deadline {
            return Err(timed_out(self.limits));
        }
        Ok(())
    }

    fn finish(self, format: Format, pages: Option<usize>) -> Document {
        Document {
            format,
            text: self.text,
            pages,
            markers: self.markers,
            encoding: None,
        }
    }
}

#[cfg(test)]
mod tests;
