//! Checks a PDF's bytes before any parser sees them, so that a small
//! hostile file cannot crash or swamp the process:
//!
//! - **Nesting.** The PDF parser recurses once per level of `[ ]` and
//!   `<< >>`; a thread's stack overflows at some depth (about 75 with the
//!   parser's frames here), and a stack overflow aborts the process, past
//!   any `catch_unwind`. Real PDFs nest a handful of levels; more than
//!   [`MAX_DEPTH`] is refused, in the file and in every stream it holds.
//! - **Decompression.** Every stream that inflates (compressed content,
//!   object streams) is inflated here with a running total, and the file is
//!   refused past the limit for decompressed bytes: a 1 MB file can hold
//!   gigabytes of zeros.
//!
//! Streams are found by their keywords, not by parsing the dictionaries,
//! so the check needs nothing it is meant to protect.

use crate::documents::Limits;
use crate::error::{Error, Result};
use std::io::Read;
use std::time::Instant;

/// The deepest nesting of arrays and dictionaries accepted.
pub const MAX_DEPTH: usize = 32;

/// What the scan found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scan {
    pub depth: usize,
    pub inflated_bytes: u64,
}

/// Checks `bytes` against the nesting limit and `limits`' bound on
/// decompressed bytes, by `deadline`.
pub fn check(bytes: &[u8], limits: &Limits, deadline: Instant) -> Result<Scan> {
    let max_inflated = limits.max_unzipped_bytes;
    let mut scan = Scan {
        depth: depth(bytes),
        inflated_bytes: 0,
    };
    refuse_deep(scan.depth)?;
    let mut rest = bytes;
    while let Some((data, after)) = next_stream(rest) {
        rest = after;
        if Instant::now() > deadline {
            return Err(crate::documents::timed_out(limits));
        }
        let left = max_inflated.saturating_sub(scan.inflated_bytes);
        let Some((inflated, d)) = inflate(data, left) else {
            continue; // not zlib data (an image, say): nothing to inflate
        };
        scan.inflated_bytes += inflated;
        if scan.inflated_bytes > max_inflated {
            return Err(Error::UnsupportedDocument(format!(
                "this PDF's streams inflate to more than {} (a decompression bomb?); \
                 it is not read",
                crate::models::estimate::human_bytes(max_inflated)
            )));
        }
        scan.depth = scan.depth.max(d);
        refuse_deep(d)?;
    }
    Ok(scan)
}

fn refuse_deep(depth: usize) -> Result<()> {
    if depth > MAX_DEPTH {
        return Err(Error::UnsupportedDocument(format!(
            "this PDF nests its objects {depth} levels deep (readable PDFs use a few, at most \
             {MAX_DEPTH} are accepted); it is damaged or made to crash readers"
        )));
    }
    Ok(())
}

/// The next stream's data in `bytes` (between `stream` and `endstream`),
/// and what follows it.
fn next_stream(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let start = find(bytes, b"stream")?;
    // `endstream` contains `stream`: a match right after "end" is not a start.
    if start >= 3 && &bytes[start - 3..start] == b"end" {
        return next_stream(&bytes[start + 6..]);
    }
    let mut data = &bytes[start + 6..];
    if data.starts_with(b"\r\n") {
        data = &data[2..];
    } else if data.starts_with(b"\n") || data.starts_with(b"\r") {
        data = &data[1..];
    }
    let end = find(data, b"endstream").unwrap_or(data.len());
    Some((&data[..end], &data[end..]))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Inflates zlib data in pieces, never holding more than one, and returns
/// how many bytes came out (stopping once past `limit`) and the deepest
/// nesting in them; `None` when the data is not zlib at all.
fn inflate(data: &[u8], limit: u64) -> Option<(u64, usize)> {
    // A zlib header: CM = 8 (deflate), and the check bits.
    let zlib = data.len() >= 2
        && data[0] & 0x0f == 8
        && (u16::from(data[0]) << 8 | u16::from(data[1])) % 31 == 0;
    if !zlib {
        return None;
    }
    let mut decoder = flate2::read::ZlibDecoder::new(data).take(limit.saturating_add(1));
    let mut depth = Depth::default();
    let mut piece = vec![0u8; 64 << 10];
    let mut total = 0u64;
    // A truncated or damaged stream still counts what it gave.
    while let Ok(n) = decoder.read(&mut piece) {
        if n == 0 {
            break;
        }
        total += n as u64;
        depth.feed(&piece[..n]);
    }
    Some((total, depth.deepest))
}

/// The nesting of `[ ]` and `<< >>` in PDF syntax fed piece by piece,
/// skipping comments and strings.
#[derive(Default)]
struct Depth {
    depth: usize,
    deepest: usize,
    state: Lexer,
}

#[derive(Default, Clone, Copy, PartialEq, Eq)]
enum Lexer {
    #[default]
    Syntax,
    /// After a `<` or a `>`: the next byte says what it was.
    Angle(u8),
    Comment,
    /// In a literal string, this many parentheses deep.
    Literal(usize),
    LiteralEscape(usize),
    Hex,
}

impl Depth {
    fn feed(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.state = match (self.state, b) {
                (Lexer::Angle(b'<'), b'<') => {
                    self.open();
                    Lexer::Syntax
                }
                (Lexer::Angle(b'>'), b'>') => {
                    self.depth = self.depth.saturating_sub(1);
                    Lexer::Syntax
                }
                (Lexer::Angle(b'<'), b'>') => Lexer::Syntax,
                (Lexer::Angle(b'<'), _) => Lexer::Hex,
                (Lexer::Angle(_), b) | (Lexer::Syntax, b) => self.syntax(b),
                (Lexer::Comment, b'\n' | b'\r') => Lexer::Syntax,
                (Lexer::Comment, _) => Lexer::Comment,
                (Lexer::Literal(n), b'\\') => Lexer::LiteralEscape(n),
                (Lexer::Literal(n), b'(') => Lexer::Literal(n + 1),
                (Lexer::Literal(1), b')') => Lexer::Syntax,
                (Lexer::Literal(n), b')') => Lexer::Literal(n - 1),
                (Lexer::Literal(n), _) | (Lexer::LiteralEscape(n), _) => Lexer::Literal(n),
                (Lexer::Hex, b'>') => Lexer::Syntax,
                (Lexer::Hex, _) => Lexer::Hex,
            };
        }
    }

    fn syntax(&mut self, b: u8) -> Lexer {
        match b {
            b'%' => Lexer::Comment,
            b'(' => Lexer::Literal(1),
            b'[' => {
                self.open();
                Lexer::Syntax
            }
            b']' => {
                self.depth = self.depth.saturating_sub(1);
                Lexer::Syntax
            }
            b'<' | b'>' => Lexer::Angle(b),
            _ => Lexer::Syntax,
        }
    }

    fn open(&mut self) {
        self.depth += 1;
        self.deepest = self.deepest.max(self.depth);
    }
}

/// The deepest nesting of `[ ]` and `<< >>` in PDF syntax, skipping
/// comments, strings and stream data (streams are inflated and scanned
/// on their own, by [`Depth`]).
fn depth(bytes: &[u8]) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
            }
            b'(' => {
                // A literal string: balanced parentheses, `\` escapes.
                let mut open = 1usize;
                i += 1;
                while i < bytes.len() && open > 0 {
                    match bytes[i] {
                        b'\\' => i += 1,
                        b'(' => open += 1,
                        b')' => open -= 1,
                        _ => {}
                    }
                    i += 1;
                }
                continue;
            }
            b'[' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b']' => depth = depth.saturating_sub(1),
            b'<' if bytes.get(i + 1) == Some(&b'<') => {
                depth += 1;
                deepest = deepest.max(depth);
                i += 1;
            }
            b'>' if bytes.get(i + 1) == Some(&b'>') => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            b'<' => {
                // A hex string.
                while i < bytes.len() && bytes[i] != b'>' {
                    i += 1;
                }
            }
            b's' if bytes[i..].starts_with(b"stream") => {
                let preceded_by_end = i >= 3 && &bytes[i - 3..i] == b"end";
                if !preceded_by_end {
                    i += find(&bytes[i + 6..], b"endstream").map_or(bytes.len(), |e| e + 6 + 9);
                    continue;
                }
            }
            _ => {}
        }
        i += 1;
    }
    deepest
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::time::Duration;

    fn later() -> Instant {
        Instant::now() + Duration::from_secs(30)
    }

    fn inflating(max: u64) -> Limits {
        Limits {
            max_unzipped_bytes: max,
            ..Limits::default()
        }
    }

    fn zlib(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(data).expect("compress");
        e.finish().expect("compress")
    }

    #[test]
    fn ordinary_nesting_passes_and_strings_and_comments_do_not_count() {
        let pdf =
            b"%PDF-1.4\n% [[[[[[\n1 0 obj << /Kids [2 0 R] /T ([[[[(x)]]) /H <5b5b> >> endobj";
        let scan = check(pdf, &inflating(1 << 20), later()).expect("passes");
        assert_eq!(scan.depth, 2);
    }

    #[test]
    fn the_piecewise_scan_of_inflated_data_agrees_with_the_whole_one() {
        let sample: &[u8] =
            b"<< /A [1 [2 (a [[ \\) b) <5b5d> [3]] % [[[[\n<< /B <<>> >> ] >> [[[[]]]]";
        let whole = {
            let mut d = Depth::default();
            d.feed(sample);
            d.deepest
        };
        assert_eq!(whole, depth(sample));
        assert_eq!(whole, 4);
        let mut bytewise = Depth::default();
        for b in sample {
            bytewise.feed(std::slice::from_ref(b));
        }
        assert_eq!(bytewise.deepest, whole);
    }

    #[test]
    fn arrays_or_dictionaries_nested_100_deep_are_refused() {
        for (open, close) in [("[", "]"), ("<< /A ", ">>")] {
            let pdf = format!(
                "%PDF-1.4\n1 0 obj\n{}{}\nendobj\n",
                open.repeat(100),
                close.repeat(100)
            );
            let err = check(pdf.as_bytes(), &inflating(1 << 20), later()).expect_err("too deep");
            assert!(err.to_string().contains("100 levels deep"), "{err}");
        }
    }

    #[test]
    fn nesting_hidden_in_a_compressed_stream_is_refused_too() {
        let content = zlib(&b"[".repeat(200));
        let mut pdf = b"%PDF-1.4\n4 0 obj << /Filter /FlateDecode >>\nstream\n".to_vec();
        pdf.extend_from_slice(&content);
        pdf.extend_from_slice(b"\nendstream\nendobj\n");
        let err = check(&pdf, &inflating(1 << 20), later()).expect_err("too deep");
        assert!(err.to_string().contains("200 levels deep"), "{err}");
    }

    #[test]
    fn streams_that_inflate_past_the_limit_are_refused() {
        let zeros = zlib(&vec![0u8; 8 << 20]);
        let mut pdf = b"%PDF-1.4\n".to_vec();
        for _ in 0..4 {
            pdf.extend_from_slice(b"5 0 obj << /Filter /FlateDecode >>\nstream\r\n");
            pdf.extend_from_slice(&zeros);
            pdf.extend_from_slice(b"\r\nendstream\nendobj\n");
        }
        assert!(
            check(&pdf, &inflating(64 << 20), later()).is_ok(),
            "32 MB inflated is within 64 MB"
        );
        let err = check(&pdf, &inflating(16 << 20), later()).expect_err("a bomb");
        assert!(err.to_string().contains("decompression bomb"), "{err}");
    }
}
