//! Cleaning small-model output before anyone sees it.
//!
//! Models of 0.1–4B parameters ramble: they open with "Sure! Here is the
//! rewritten text:", echo the label of the prompt, wrap the answer in quotes,
//! or fall into loops. These pure functions remove exactly that and nothing
//! else.

/// Labels a model may echo from the prompt at the start of its answer.
const ECHOED_LABELS: &[&str] = &[
    "text",
    "corrected",
    "corrected text",
    "rewritten",
    "rewritten text",
    "rewrite",
    "friendly",
    "professional",
    "concise",
    "bullet points",
    "summary",
    "answer",
    "output",
    "assistant",
];

/// Openers of a chatty preamble line ("Sure! Here's a friendlier version:").
const PREAMBLE_OPENERS: &[&str] = &[
    "sure",
    "certainly",
    "of course",
    "absolutely",
    "okay",
    "ok,",
    "here is",
    "here's",
    "here are",
    "below is",
    "the rewritten",
    "the corrected",
    "the revised",
    "rewritten version",
];

/// Applies every cleaning step in order.
pub fn clean_output(raw: &str) -> String {
    let text = raw.trim();
    let text = strip_preamble(text);
    let text = strip_echoed_label(text);
    let text = strip_wrapping_quotes(text);
    cut_repetition(text).trim().to_string()
}

fn strip_echoed_label(text: &str) -> &str {
    let lower = text.to_lowercase();
    for label in ECHOED_LABELS {
        if lower.starts_with(label) {
            let rest = &text[label.len()..];
            if let Some(after) = rest.strip_prefix(':') {
                return after.trim_start();
            }
        }
    }
    text
}

/// Drops a first line that only announces the answer.
fn strip_preamble(text: &str) -> &str {
    let (first, rest) = match text.split_once('\n') {
        Some((f, r)) => (f.trim(), r.trim_start()),
        None => (text, ""),
    };
    let lower = first.to_lowercase();
    let opens = PREAMBLE_OPENERS.iter().any(|o| lower.starts_with(o));
    if !opens {
        return text;
    }
    // "Sure! Here is the text: Actual answer." on one line: keep what follows the colon.
    if let Some((head, tail)) = first.split_once(':') {
        let head_words = head.split_whitespace().count();
        if head_words <= 12 && !tail.trim().is_empty() && rest.is_empty() {
            return text[text.len() - tail.trim_start().len()..].trim();
        }
        if head_words <= 12 && tail.trim().is_empty() && !rest.is_empty() {
            return rest;
        }
    }
    // "Sure!" / "Certainly." alone on the first line.
    if first.split_whitespace().count() <= 3 && !rest.is_empty() {
        return rest;
    }
    text
}

fn strip_wrapping_quotes(text: &str) -> &str {
    const PAIRS: &[(char, char)] = &[('"', '"'), ('“', '”'), ('\'', '\''), ('«', '»'), ('`', '`')];
    for &(open, close) in PAIRS {
        if let Some(inner) = text.strip_prefix(open).and_then(|t| t.strip_suffix(close)) {
            if !inner.contains(open) && !inner.contains(close) {
                return inner.trim();
            }
        }
    }
    text
}

/// Cuts the text where a sentence or line starts repeating an earlier one.
pub fn cut_repetition(text: &str) -> String {
    let mut seen: Vec<String> = Vec::new();
    let mut end = text.len();
    for (start, unit) in sentence_spans(text) {
        let key: String = unit
            .chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect();
        if key.chars().count() < 8 {
            continue;
        }
        if seen.contains(&key) {
            end = start;
            break;
        }
        seen.push(key);
    }
    text[..end].trim_end().to_string()
}

/// Sentences and lines with their byte offsets.
fn sentence_spans(text: &str) -> Vec<(usize, &str)> {
    let mut spans = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let boundary = match c {
            '\n' => true,
            '.' | '!' | '?' | '。' | '！' | '？' => {
                chars.peek().is_none_or(|&(_, n)| n.is_whitespace())
            }
            _ => false,
        };
        if boundary {
            let end = i + c.len_utf8();
            spans.push((start, &text[start..end]));
            start = end;
            while let Some(&(j, n)) = chars.peek() {
                if n.is_whitespace() {
                    chars.next();
                    start = j + n.len_utf8();
                } else {
                    break;
                }
            }
        }
    }
    if start < text.len() {
        spans.push((start, &text[start..]));
    }
    spans
}

/// Applies a cleaning function to a stream: text is released at sentence
/// and line boundaries, once cleaning can no longer change it, so the
/// streamed pieces add up to the cleaned result.
pub struct StreamCleaner {
    clean: fn(&str) -> String,
    raw: String,
    emitted: String,
}

impl StreamCleaner {
    pub fn new(clean: fn(&str) -> String) -> Self {
        Self {
            clean,
            raw: String::new(),
            emitted: String::new(),
        }
    }

    /// Adds raw text; returns the cleaned text that is now safe to show.
    pub fn push(&mut self, piece: &str) -> String {
        self.raw.push_str(piece);
        // A leading quote may be a wrapping quote: wait for the end.
        let text = self.raw.trim_start();
        if text.starts_with(['"', '“', '\'', '«', '`']) {
            return String::new();
        }
        // A first line that may be a preamble is only cleaned as a whole,
        // together with what follows it.
        let first_line_end = if self.emitted.is_empty() && may_open_with_preamble(text) {
            match self.raw.find('\n') {
                Some(i) => i + 1,
                None => return String::new(),
            }
        } else {
            0
        };
        let cut = sentence_spans(&self.raw)
            .into_iter()
            .map(|(start, unit)| start + unit.len())
            .filter(|&end| end < self.raw.len() || self.raw.ends_with(['\n', '.', '!', '?']))
            .nth_back(1) // the last complete unit may still be a repeat being written
            .unwrap_or(0);
        if cut <= first_line_end {
            return String::new();
        }
        let cleaned = (self.clean)(&self.raw[..cut]);
        self.advance(cleaned)
    }

    /// The rest, once generation has ended.
    pub fn finish(&mut self) -> String {
        let cleaned = (self.clean)(&self.raw);
        self.advance(cleaned)
    }

    /// Everything released so far.
    pub fn emitted(&self) -> &str {
        &self.emitted
    }

    fn advance(&mut self, cleaned: String) -> String {
        match cleaned.strip_prefix(self.emitted.as_str()) {
            Some(delta) if !delta.is_empty() => {
                let delta = delta.to_string();
                self.emitted = cleaned;
                delta
            }
            _ => String::new(),
        }
    }
}

/// True when `start` begins (or could still grow into) a preamble opener or
/// an echoed label.
fn may_open_with_preamble(start: &str) -> bool {
    let lower = start.to_lowercase();
    PREAMBLE_OPENERS
        .iter()
        .chain(ECHOED_LABELS)
        .any(|o| lower.starts_with(o) || o.starts_with(lower.as_str()))
}

/// Cleaning for chat replies: trim and cut loops, keep the rest as said.
pub fn clean_chat(raw: &str) -> String {
    cut_repetition(raw.trim()).trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleaning_table() {
        let cases = [
            (
                "Sure! Here is the rewritten text:\nThe cat sat.",
                "The cat sat.",
            ),
            (
                "Here's a more concise version: The cat sat.",
                "The cat sat.",
            ),
            ("Certainly.\nThe cat sat.", "The cat sat."),
            ("Corrected: The cat sat.", "The cat sat."),
            ("\"The cat sat.\"", "The cat sat."),
            ("“The cat sat.”", "The cat sat."),
            (
                "The cat sat on the mat. The dog barked loudly. The cat sat on the mat. The dog",
                "The cat sat on the mat. The dog barked loudly.",
            ),
            (
                "- one item here\n- two item here\n- one item here",
                "- one item here\n- two item here",
            ),
            ("  plain answer stays  ", "plain answer stays"),
            // A quote inside is not a wrapping quote.
            ("\"Yes\" she said, \"no\"", "\"Yes\" she said, \"no\""),
            // Text that merely starts with a preamble word is kept.
            (
                "Sure enough, the train was late.",
                "Sure enough, the train was late.",
            ),
        ];
        for (raw, want) in cases {
            assert_eq!(clean_output(raw), want, "cleaning {raw:?}");
        }
    }

    #[test]
    fn streamed_cleaning_adds_up_to_the_cleaned_text() {
        let raw = "Sure! Here is a summary:\nThe plan has three steps. First we test it. Then we ship it. Then we ship it.";
        for size in [1, 3, 7, 50] {
            let mut s = StreamCleaner::new(clean_output);
            let mut out = String::new();
            let chars: Vec<char> = raw.chars().collect();
            for chunk in chars.chunks(size) {
                out.push_str(&s.push(&chunk.iter().collect::<String>()));
            }
            out.push_str(&s.finish());
            assert_eq!(out, clean_output(raw), "chunk size {size}");
            assert!(!out.contains("Sure"));
        }
    }

    #[test]
    fn a_wrapping_quote_is_held_until_the_end() {
        let mut s = StreamCleaner::new(clean_output);
        assert_eq!(s.push("\"Hello there. "), "");
        assert_eq!(s.push("Bye.\""), "");
        assert_eq!(s.finish(), "Hello there. Bye.");
    }

    #[test]
    fn cjk_and_emoji_survive_cleaning() {
        let text = "東京は日本の首都です。🎉 Party time!";
        assert_eq!(clean_output(text), text);
    }
}
