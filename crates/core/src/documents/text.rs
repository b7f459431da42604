//! Plain text and Markdown in any common encoding.
//!
//! A byte-order mark decides first; UTF-16 without one is recognised by its
//! pattern of zero bytes; valid UTF-8 is taken as UTF-8; anything else is
//! left to `chardetng` (the detector Firefox uses for unlabeled pages), and
//! `encoding_rs` converts it.

use super::{Document, Format, Limits, MarkerKind, TextBuilder};
use crate::error::{Error, Result};
use encoding_rs::{Encoding, UTF_16BE, UTF_16LE, UTF_8};
use std::time::Instant;

/// Converts the bytes to UTF-8; returns the text and the encoding's name.
pub fn decode(bytes: &[u8]) -> Result<(String, String)> {
    let encoding = detect(bytes)?;
    let (text, used, _had_errors) = encoding.decode(bytes);
    Ok((text.into_owned(), used.name().to_string()))
}

fn detect(bytes: &[u8]) -> Result<&'static Encoding> {
    if let Some((encoding, _)) = Encoding::for_bom(bytes) {
        return Ok(encoding);
    }
    let sample = &bytes[..bytes.len().min(4096)];
    if sample.contains(&0) {
        // UTF-16 text is mostly ASCII: every other byte is zero.
        let zeros_at = |parity: usize| {
            sample
                .iter()
                .skip(parity)
                .step_by(2)
                .filter(|&&b| b == 0)
                .count()
        };
        let half = sample.len() / 2;
        let (even, odd) = (zeros_at(0), zeros_at(1));
        if odd * 10 > half * 6 && even * 10 < half {
            return Ok(UTF_16LE);
        }
        if even * 10 > half * 6 && odd * 10 < half {
            return Ok(UTF_16BE);
        }
        return Err(Error::UnsupportedDocument(
            "the file looks like binary data (it contains NUL bytes), not text".into(),
        ));
    }
    if std::str::from_utf8(bytes).is_ok() {
        return Ok(UTF_8);
    }
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    detector.feed(bytes, true);
    Ok(detector.guess(None, chardetng::Utf8Detection::Allow))
}

/// ATX headings (`# Title`) mark sections; a form feed starts a new page.
pub fn extract(decoded: String, limits: &Limits) -> Result<Document> {
    let text = decoded.replace("\r\n", "\n").replace('\r', "\n");
    let mut out = TextBuilder::new(limits, Instant::now() + limits.time_limit);
    let paged = text.contains('\x0c');
    let mut page = 1;
    if paged {
        out.mark(MarkerKind::Page { number: 1 });
    }
    let mut headings = 0;
    let mut in_code = false;
    for line in text.split_inclusive('\n') {
        let mut line = line;
        while let Some((before, after)) = line.split_once('\x0c') {
            out.push(before)?;
            out.paragraph();
            page += 1;
            out.mark(MarkerKind::Page { number: page });
            line = after;
        }
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            in_code = !in_code;
        }
        if !in_code {
            if let Some(title) = atx_heading(line) {
                headings += 1;
                out.paragraph();
                out.mark(MarkerKind::Section {
                    title: title.to_string(),
                });
            }
        }
        out.push(line)?;
    }
    let markdown = headings > 0 || looks_like_markdown(&text);
    let format = if markdown {
        Format::Markdown
    } else {
        Format::Text
    };
    Ok(out.finish(format, paged.then_some(page)))
}

fn atx_heading(line: &str) -> Option<&str> {
    let hashes = line.bytes().take_while(|&b| b == b'#').count();
    if !(1..=6).contains(&hashes) {
        return None;
    }
    let rest = &line[hashes..];
    if !rest.starts_with(' ') {
        return None;
    }
    let title = rest.trim().trim_end_matches('#').trim();
    (!title.is_empty()).then_some(title)
}

fn looks_like_markdown(text: &str) -> bool {
    text.lines().any(|l| {
        let l = l.trim_start();
        l.starts_with("```") || (l.starts_with('[') && l.contains("](")) || l.starts_with("> ")
    })
}
