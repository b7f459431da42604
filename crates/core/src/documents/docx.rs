//! Word documents (.docx): the paragraphs of `word/document.xml`.
//!
//! A DOCX is a ZIP archive; the one entry read is decompressed through a
//! byte bound, whatever size the archive claims, so a zip bomb stops at the
//! limit. Paragraphs styled as headings or titles mark sections; page breaks
//! (explicit, or the ones Word records when it saves) mark pages.

use super::{Document, Format, Limits, MarkerKind, TextBuilder};
use crate::error::{Error, Result};
use quick_xml::events::Event;
use std::io::{Cursor, Read};
use std::time::Instant;
use zip::ZipArchive;

const BODY: &str = "word/document.xml";

fn open(bytes: &[u8]) -> Result<ZipArchive<Cursor<&[u8]>>> {
    ZipArchive::new(Cursor::new(bytes)).map_err(|e| {
        Error::UnsupportedDocument(format!("this ZIP archive is damaged or incomplete ({e})"))
    })
}

/// Accepts a ZIP that is a Word document; names what other ZIPs are.
pub fn is_docx(bytes: &[u8]) -> Result<()> {
    let archive = open(bytes)?;
    let has = |name: &str| archive.index_for_name(name).is_some();
    if has(BODY) {
        return Ok(());
    }
    let what = if has("content.xml") {
        "an OpenDocument file (.odt/.ods); save it as .docx or PDF"
    } else if has("xl/workbook.xml") {
        "an Excel workbook, not a text document"
    } else if has("ppt/presentation.xml") {
        "a PowerPoint presentation; save it as PDF"
    } else {
        "a ZIP archive, not a document"
    };
    Err(Error::UnsupportedDocument(format!("this file is {what}")))
}

pub fn extract(bytes: &[u8], limits: &Limits, deadline: Instant) -> Result<Document> {
    let mut archive = open(bytes)?;
    let entry = archive.by_name(BODY).map_err(|e| {
        Error::UnsupportedDocument(format!("the document body is unreadable ({e})"))
    })?;
    let bomb = || {
        Error::UnsupportedDocument(format!(
            "the document decompresses to more than {}; it looks like a zip bomb",
            crate::models::estimate::human_bytes(limits.max_unzipped_bytes)
        ))
    };
    if entry.size() > limits.max_unzipped_bytes {
        return Err(bomb());
    }
    let mut xml = Vec::new();
    entry
        .take(limits.max_unzipped_bytes + 1)
        .read_to_end(&mut xml)
        .map_err(|e| Error::UnsupportedDocument(format!("the document body is damaged ({e})")))?;
    if xml.len() as u64 > limits.max_unzipped_bytes {
        return Err(bomb());
    }
    let xml = String::from_utf8(xml).map_err(|_| {
        Error::UnsupportedDocument("the document body is not valid UTF-8 XML".into())
    })?;
    paragraphs(&xml, limits, deadline)
}

fn paragraphs(xml: &str, limits: &Limits, deadline: Instant) -> Result<Document> {
    let mut out = TextBuilder::new(limits, deadline);
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut in_text = false;
    let mut heading: Option<usize> = None;
    let mut paragraph_start = 0;
    let mut page = 1;
    let mut paged = false;
    let mut events = 0u32;
    let damaged = |e: quick_xml::Error| {
        Error::UnsupportedDocument(format!("the document XML is damaged ({e})"))
    };
    loop {
        events += 1;
        if events.is_multiple_of(4096) {
            out.check_time()?;
        }
        let event = reader.read_event().map_err(damaged)?;
        match event {
            Event::Start(e) | Event::Empty(e) => match e.local_name().as_ref() {
                "p" => paragraph_start = out.text.len(),
                "t" => in_text = true,
                "tab" => out.push("\t")?,
                "br" | "cr" => {
                    let page_break = e
                        .try_get_attribute("w:type")
                        .ok()
                        .flatten()
                        .is_some_and(|a| a.value == "page");
                    if page_break {
                        out.paragraph();
                        page = next_page(&mut out, page, &mut paged);
                    } else {
                        out.push("\n")?;
                    }
                }
                "lastRenderedPageBreak" => page = next_page(&mut out, page, &mut paged),
                "pStyle" => {
                    let style = e
                        .try_get_attribute("w:val")
                        .ok()
                        .flatten()
                        .map(|a| a.value.to_lowercase())
                        .unwrap_or_default();
                    if style.starts_with("heading") || style == "title" {
                        heading = Some(paragraph_start);
                    }
                }
                _ => {}
            },
            Event::Text(t) if in_text => out.push(&t.xml10_content())?,
            Event::GeneralRef(r) if in_text => {
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    _ => quick_xml::escape::unescape(&format!("&{};", &*r))
                        .map(|s| s.into_owned())
                        .unwrap_or_default(),
                };
                out.push(&resolved)?;
            }
            Event::End(e) => match e.local_name().as_ref() {
                "t" => in_text = false,
                "p" => {
                    if let Some(offset) = heading.take() {
                        // A page break in the heading ends a paragraph,
                        // which trims trailing white space: possibly from
                        // before where the heading began.
                        let offset = offset.min(out.text.len());
                        let title = out.text.get(offset..).unwrap_or("").trim().to_string();
                        if !title.is_empty() {
                            out.markers.push(super::Marker {
                                offset,
                                kind: MarkerKind::Section { title },
                            });
                        }
                    }
                    out.paragraph();
                }
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    if paged {
        out.markers.insert(
            0,
            super::Marker {
                offset: 0,
                kind: MarkerKind::Page { number: 1 },
            },
        );
    }
    out.markers.sort_by_key(|m| m.offset);
    Ok(out.finish(Format::Docx, paged.then_some(page)))
}

fn next_page(out: &mut TextBuilder, page: usize, paged: &mut bool) -> usize {
    *paged = true;
    out.mark(MarkerKind::Page { number: page + 1 });
    page + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(body: &str) -> Result<Document> {
        let xml = format!(r#"<w:document xmlns:w="w"><w:body>{body}</w:body></w:document>"#);
        paragraphs(
            &xml,
            &Limits::default(),
            Instant::now() + std::time::Duration::from_secs(10),
        )
    }

    #[test]
    fn a_page_break_inside_a_heading_keeps_the_heading_and_the_page() {
        let doc = run(concat!(
            r#"<w:p><w:r><w:t>Intro text </w:t></w:r></w:p>"#,
            r#"<w:p><w:pPr><w:pStyle w:val="Heading1"/></w:pPr><w:r><w:t xml:space="preserve">  </w:t><w:br w:type="page"/><w:t>Results</w:t></w:r></w:p>"#,
            r#"<w:p><w:r><w:t>Body.</w:t></w:r></w:p>"#,
        ))
        .expect("extracted");
        assert!(doc.text.contains("Results"), "{:?}", doc.text);
        assert_eq!(doc.pages, Some(2));
    }

    #[test]
    fn a_heading_that_is_only_a_page_break_after_stray_white_space_is_no_panic() {
        // Before: the page break trimmed the stray tab before the heading's
        // start, and taking the heading's text panicked on the byte index.
        let doc = run(concat!(
            r#"<w:p><w:r><w:t>Intro</w:t></w:r></w:p>"#,
            r#"<w:r><w:tab/></w:r>"#,
            r#"<w:p><w:pPr><w:pStyle w:val="Heading1"/></w:pPr><w:r><w:br w:type="page"/></w:r></w:p>"#,
            r#"<w:p><w:r><w:t>Body.</w:t></w:r></w:p>"#,
        ))
        .expect("extracted");
        assert!(doc.text.contains("Intro") && doc.text.contains("Body."));
        assert_eq!(doc.pages, Some(2));
    }
}
