//! PDF: the text layer of each page, through `pdf-extract` over `lopdf`.
//!
//! Pages are read one at a time, each behind its own `catch_unwind` (the
//! parser panics on some malformed content streams) and with the deadline
//! checked between them, so one bad page costs that page only. A PDF that
//! opens only with a password is refused by name; one whose pages hold no
//! text (a scan) is refused by [`super::finish`]. Before the parser sees
//! the file, [`preflight`] bounds its nesting and what its streams inflate
//! to.

pub mod preflight;

use super::{Document, Format, Limits, MarkerKind, TextBuilder};
use crate::error::{Error, Result};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Instant;

pub fn extract(bytes: &[u8], limits: &Limits, deadline: Instant) -> Result<Document> {
    preflight::check(bytes, limits, deadline)?;
    let doc = lopdf::Document::load_mem(bytes)
        .map_err(|e| Error::UnsupportedDocument(format!("this PDF is damaged ({e})")))?;
    // lopdf decrypts on load when the empty user password opens the file
    // (owner-restricted PDFs); otherwise the state stays unset.
    if doc.is_encrypted() && doc.encryption_state.is_none() {
        return Err(Error::UnsupportedDocument(
            "this PDF is password-protected; open it, save a copy without the password, \
             and summarize that"
                .into(),
        ));
    }
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    if pages.is_empty() {
        return Err(Error::UnsupportedDocument("this PDF has no pages".into()));
    }
    let mut out = TextBuilder::new(limits, deadline);
    let mut unreadable = Vec::new();
    for &number in &pages {
        out.check_time()?;
        out.paragraph();
        out.mark(MarkerKind::Page {
            number: number as usize,
        });
        let mut page = String::new();
        let read = catch_unwind(AssertUnwindSafe(|| {
            let mut output = pdf_extract::PlainTextOutput::new(&mut page);
            pdf_extract::output_doc_page(&doc, &mut output, number)
        }));
        match read {
            Ok(Ok(())) => out.push(&tidy(&page))?,
            _ => unreadable.push(number),
        }
    }
    if unreadable.len() == pages.len() {
        return Err(Error::UnsupportedDocument(format!(
            "none of this PDF's {} page(s) could be read; it may be damaged",
            pages.len()
        )));
    }
    Ok(out.finish(Format::Pdf, Some(pages.len())))
}

/// Joins the lines of a page into paragraphs: PDF text comes out one line
/// per visual line, with blank lines between blocks.
fn tidy(page: &str) -> String {
    let mut out = String::new();
    for block in page.split("\n\n") {
        let joined = block
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        if !joined.is_empty() {
            out.push_str(&joined);
            out.push_str("\n\n");
        }
    }
    out
}
