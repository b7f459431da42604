//! Pure helpers that turn a stream of token bytes into clean text pieces.

/// Collects token bytes and hands out only complete UTF-8 characters.
///
/// A token can end in the middle of a multi-byte character (emoji and CJK
/// often span tokens); those bytes wait for the next token.
#[derive(Debug, Default)]
pub struct Utf8Assembler {
    pending: Vec<u8>,
}

impl Utf8Assembler {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds bytes and returns the text that is now complete.
    pub fn push(&mut self, bytes: &[u8]) -> String {
        self.pending.extend_from_slice(bytes);
        let mut out = String::new();
        loop {
            match std::str::from_utf8(&self.pending) {
                Ok(s) => {
                    out.push_str(s);
                    self.pending.clear();
                    return out;
                }
                Err(e) => {
                    let valid = e.valid_up_to();
                    // valid_up_to() guarantees this prefix is UTF-8.
                    out.push_str(&String::from_utf8_lossy(&self.pending[..valid]));
                    match e.error_len() {
                        // Incomplete character at the end: keep it for later.
                        None => {
                            self.pending.drain(..valid);
                            return out;
                        }
                        // Invalid bytes can never complete: replace and go on.
                        Some(bad) => {
                            out.push(char::REPLACEMENT_CHARACTER);
                            self.pending.drain(..valid + bad);
                        }
                    }
                }
            }
        }
    }

    /// Whatever is left at the end of generation (an unfinished character
    /// becomes U+FFFD rather than vanishing).
    pub fn finish(&mut self) -> String {
        let out = String::from_utf8_lossy(&self.pending).into_owned();
        self.pending.clear();
        out
    }
}

/// Watches generated text for stop strings and releases only text that can
/// no longer turn into one, so a stop string is never streamed and then
/// taken back.
#[derive(Debug)]
pub struct StopMatcher {
    stops: Vec<String>,
    held: String,
}

/// What [`StopMatcher::push`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum StopScan {
    /// Text safe to emit; generation goes on.
    Continue(String),
    /// A stop string was found; this is the text before it. Generation ends.
    Stopped(String),
}

impl StopMatcher {
    pub fn new(stops: &[String]) -> Self {
        Self {
            stops: stops.iter().filter(|s| !s.is_empty()).cloned().collect(),
            held: String::new(),
        }
    }

    pub fn push(&mut self, text: &str) -> StopScan {
        self.held.push_str(text);
        if let Some(at) = self
            .stops
            .iter()
            .filter_map(|s| self.held.find(s.as_str()))
            .min()
        {
            let before = self.held[..at].to_string();
            self.held.clear();
            return StopScan::Stopped(before);
        }
        // Keep back the longest tail that is the start of some stop string.
        let keep = self
            .stops
            .iter()
            .map(|s| longest_suffix_prefix(&self.held, s))
            .max()
            .unwrap_or(0);
        let split = self.held.len() - keep;
        let out = self.held[..split].to_string();
        self.held.drain(..split);
        StopScan::Continue(out)
    }

    /// Text held back when generation ended for another reason.
    pub fn finish(&mut self) -> String {
        std::mem::take(&mut self.held)
    }
}

/// Length in bytes of the longest suffix of `text` that is a proper prefix
/// of `stop`, cut on character boundaries.
fn longest_suffix_prefix(text: &str, stop: &str) -> usize {
    let max = stop.len().saturating_sub(1).min(text.len());
    (1..=max)
        .rev()
        .find(|&n| {
            let start = text.len() - n;
            text.is_char_boundary(start) && stop.starts_with(&text[start..])
        })
        .unwrap_or(0)
}

/// True when the tail of `tokens` is one short cycle repeated: the loop small
/// models fall into ("the the the", or the same sentence again and again).
///
/// A cycle of `p` tokens counts as a loop once it has covered at least
/// `min_span` tokens and at least three full periods.
pub fn is_looping<T: PartialEq>(tokens: &[T], max_period: usize, min_span: usize) -> bool {
    let n = tokens.len();
    (1..=max_period).any(|p| {
        let span = min_span.max(3 * p);
        span <= n && (n - span..n - p).all(|i| tokens[i] == tokens[i + p])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_assembler_waits_for_a_split_emoji() {
        let bytes = "a😀b".as_bytes();
        let mut asm = Utf8Assembler::new();
        assert_eq!(asm.push(&bytes[..3]), "a");
        assert_eq!(asm.push(&bytes[3..5]), "😀");
        assert_eq!(asm.push(&bytes[5..]), "b");
        assert_eq!(asm.finish(), "");
    }

    #[test]
    fn utf8_assembler_never_splits_any_character_fed_byte_by_byte() {
        let text = "日本語のテキスト ✓ café 🎉";
        let mut asm = Utf8Assembler::new();
        let mut out = String::new();
        for b in text.as_bytes() {
            let piece = asm.push(std::slice::from_ref(b));
            out.push_str(&piece);
        }
        out.push_str(&asm.finish());
        assert_eq!(out, text);
    }

    #[test]
    fn utf8_assembler_replaces_invalid_bytes_and_continues() {
        let mut asm = Utf8Assembler::new();
        assert_eq!(asm.push(b"a\xffb"), "a\u{fffd}b");
    }

    #[test]
    fn stop_matcher_holds_back_a_partial_stop_string() {
        let mut m = StopMatcher::new(&["\n\nText:".to_string()]);
        assert_eq!(m.push("Hello"), StopScan::Continue("Hello".into()));
        assert_eq!(m.push(" world\n"), StopScan::Continue(" world".into()));
        assert_eq!(m.push("\nTe"), StopScan::Continue(String::new()));
        assert_eq!(m.push("xt: more"), StopScan::Stopped(String::new()));
    }

    #[test]
    fn stop_matcher_releases_held_text_when_it_cannot_be_a_stop() {
        let mut m = StopMatcher::new(&["\n\n".to_string()]);
        assert_eq!(m.push("a\n"), StopScan::Continue("a".into()));
        assert_eq!(m.push("b"), StopScan::Continue("\nb".into()));
        assert_eq!(m.finish(), "");
    }

    #[test]
    fn stop_matcher_cuts_at_the_earliest_stop() {
        let mut m = StopMatcher::new(&["END".to_string(), "\n".to_string()]);
        assert_eq!(m.push("one\ntwo END"), StopScan::Stopped("one".into()));
    }

    #[test]
    fn loop_detector_finds_a_repeated_phrase() {
        let mut t: Vec<u32> = (0..20).collect();
        for _ in 0..8 {
            t.extend([7, 8, 9, 10, 11]);
        }
        assert!(is_looping(&t, 32, 24));
    }

    #[test]
    fn loop_detector_ignores_varied_text_and_short_repeats() {
        let t: Vec<u32> = (0..200).collect();
        assert!(!is_looping(&t, 32, 24));
        let short = [1, 2, 1, 2, 1, 2];
        assert!(!is_looping(&short, 32, 24));
    }
}
