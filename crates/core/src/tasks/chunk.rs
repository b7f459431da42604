//! Splitting a long text into parts that fit a model's window, measured in
//! the model's own tokens.
//!
//! Parts end on paragraph boundaries when one is near, on sentence
//! boundaries otherwise, and inside a sentence only when one sentence alone
//! is longer than a part. Consecutive parts overlap by whole sentences, so a
//! fact split across a boundary is read whole at least once. Together the
//! parts cover every byte of the text; nothing is dropped.

use crate::error::Result;
use serde::Serialize;

/// One part: a byte range of the text and its size in tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Chunk {
    pub start: usize,
    pub end: usize,
    pub tokens: usize,
}

/// A piece no part boundary may cut (a sentence, or a slice of an
/// over-long one).
#[derive(Debug, Clone, Copy)]
struct Unit {
    start: usize,
    end: usize,
    tokens: usize,
    starts_paragraph: bool,
}

/// Splits `text` into parts of at most `max_tokens` (as counted by `count`),
/// overlapping by up to `overlap_tokens`.
pub fn chunk(
    text: &str,
    max_tokens: usize,
    overlap_tokens: usize,
    count: &mut dyn FnMut(&str) -> Result<usize>,
) -> Result<Vec<Chunk>> {
    let max_tokens = max_tokens.max(8);
    let overlap_tokens = overlap_tokens.min(max_tokens / 4);
    let units = units(text, max_tokens, count)?;
    let mut chunks = Vec::new();
    let mut first = 0;
    while first < units.len() {
        let mut last = first;
        let mut tokens = units[first].tokens;
        while last + 1 < units.len() {
            let next = units[last + 1];
            if tokens + next.tokens > max_tokens {
                break;
            }
            // Near the end of a part, a new paragraph is the better place
            // to stop than the next sentence boundary.
            if next.starts_paragraph && tokens * 4 >= max_tokens * 3 && last > first {
                break;
            }
            tokens += next.tokens;
            last += 1;
        }
        chunks.push(Chunk {
            start: units[first].start,
            end: units[last].end,
            tokens,
        });
        if last + 1 >= units.len() {
            break;
        }
        // The next part starts with the last sentences of this one.
        let mut next_first = last + 1;
        let mut overlap = 0;
        while next_first > first + 1 && overlap + units[next_first - 1].tokens <= overlap_tokens {
            overlap += units[next_first - 1].tokens;
            next_first -= 1;
        }
        first = next_first;
    }
    Ok(chunks)
}

/// Sentences with their token counts; sentences over `max_tokens` are cut
/// into slices that fit: between words, and inside a word only when one
/// word alone is over (text with no spaces: Chinese or Japanese, a long
/// URL, base64).
fn units(
    text: &str,
    max_tokens: usize,
    count: &mut dyn FnMut(&str) -> Result<usize>,
) -> Result<Vec<Unit>> {
    let mut out = Vec::new();
    for (start, end, starts_paragraph) in sentences(text) {
        let tokens = count(&text[start..end])?;
        if tokens <= max_tokens {
            out.push(Unit {
                start,
                end,
                tokens,
                starts_paragraph,
            });
            continue;
        }
        let mut paragraph = starts_paragraph;
        let mut slice_start = start;
        while slice_start < end {
            let (slice_end, tokens) = longest_fit(text, slice_start, end, max_tokens, count)?;
            out.push(Unit {
                start: slice_start,
                end: slice_end,
                tokens,
                starts_paragraph: paragraph,
            });
            paragraph = false;
            slice_start = slice_end;
        }
    }
    Ok(out)
}

/// The furthest end after `start` (up to `end`) whose slice fits
/// `max_tokens`, and its tokens: the last word boundary that fits, else
/// (one word alone is over) the last character boundary that fits, and
/// at least one character. Found by halving, so a long sentence costs a
/// few dozen counts per slice rather than one per word.
fn longest_fit(
    text: &str,
    start: usize,
    end: usize,
    max_tokens: usize,
    count: &mut dyn FnMut(&str) -> Result<usize>,
) -> Result<(usize, usize)> {
    // Cut after a word and the whitespace that follows it.
    let word_ends: Vec<usize> = words(&text[start..end])
        .into_iter()
        .map(|(_, e)| start + e)
        .map(|e| {
            let rest = &text[e..end];
            e + (rest.len() - rest.trim_start().len())
        })
        .collect();
    if let Some(found) = last_fitting(text, start, &word_ends, max_tokens, count)? {
        return Ok(found);
    }
    let chars: Vec<usize> = text[start..end]
        .char_indices()
        .map(|(i, c)| start + i + c.len_utf8())
        .collect();
    match last_fitting(text, start, &chars, max_tokens, count)? {
        Some(found) => Ok(found),
        None => {
            let one = chars.first().copied().unwrap_or(end);
            Ok((one, count(&text[start..one])?))
        }
    }
}

/// The last of the increasing `ends` whose slice from `start` fits, with
/// its tokens; `None` when even the first does not.
fn last_fitting(
    text: &str,
    start: usize,
    ends: &[usize],
    max_tokens: usize,
    count: &mut dyn FnMut(&str) -> Result<usize>,
) -> Result<Option<(usize, usize)>> {
    let (mut lo, mut hi) = (0usize, ends.len());
    let mut best = None;
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let tokens = count(&text[start..ends[mid]])?;
        if tokens <= max_tokens {
            best = Some((ends[mid], tokens));
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    Ok(best)
}

/// Byte ranges of the words of `s` (runs of non-whitespace).
pub(crate) fn words(s: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in s.char_indices() {
        match (c.is_whitespace(), start) {
            (false, None) => start = Some(i),
            (true, Some(st)) => {
                out.push((st, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(st) = start {
        out.push((st, s.len()));
    }
    out
}

/// Sentence ranges `(start, end, starts_paragraph)` covering all of `text`:
/// each range runs to the start of the next, so the whitespace between
/// sentences belongs to the sentence before it.
pub fn sentences(text: &str) -> Vec<(usize, usize, bool)> {
    let mut starts: Vec<(usize, bool)> = vec![(0, true)];
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let boundary_after = match b {
            b'.' | b'!' | b'?' => {
                // The end of a sentence: punctuation (and closing quotes or
                // brackets), whitespace, then no lowercase letter.
                let mut j = i + 1;
                while j < bytes.len() && matches!(bytes[j], b'"' | b'\'' | b')' | b']') {
                    j += 1;
                }
                let ws_start = j;
                while j < bytes.len() && bytes[j].is_ascii_whitespace() {
                    j += 1;
                }
                let next_lower = text[j..].chars().next().is_some_and(char::is_lowercase);
                (j > ws_start && j < bytes.len() && !next_lower).then_some(j)
            }
            b'\n' => {
                let mut j = i + 1;
                while j < bytes.len() && bytes[j].is_ascii_whitespace() {
                    j += 1;
                }
                (j < bytes.len()).then_some(j)
            }
            _ => None,
        };
        if let Some(j) = boundary_after {
            let paragraph = text[i..j].matches('\n').count() >= 2
                || b == b'\n' && {
                    // A single line break starts a new paragraph only in lists
                    // and headings; otherwise it is a wrapped line.
                    let rest = &text[j..];
                    rest.starts_with(['-', '*', '#', '•'])
                        || rest.starts_with(|c: char| c.is_ascii_digit())
                };
            starts.push((j, paragraph));
            i = j;
        } else {
            i += 1;
        }
    }
    starts.dedup_by_key(|s| s.0);
    let mut out = Vec::with_capacity(starts.len());
    for (k, &(start, paragraph)) in starts.iter().enumerate() {
        let end = starts.get(k + 1).map_or(text.len(), |s| s.0);
        if end > start {
            out.push((start, end, paragraph));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One token per word: what the tests reason in.
    fn words_count(s: &str) -> Result<usize> {
        Ok(s.split_whitespace().count())
    }

    fn split(text: &str, max: usize, overlap: usize) -> Vec<Chunk> {
        chunk(text, max, overlap, &mut words_count).expect("chunks")
    }

    fn sentence(i: usize) -> String {
        format!("Sentence number {i} has six words. ")
    }

    #[test]
    fn parts_cover_every_byte_and_respect_the_limit() {
        let text: String = (0..200).map(sentence).collect();
        let chunks = split(&text, 40, 8);
        assert!(chunks.len() > 20);
        assert_eq!(chunks[0].start, 0);
        assert_eq!(chunks.last().map(|c| c.end), Some(text.len()));
        for pair in chunks.windows(2) {
            assert!(pair[1].start <= pair[0].end, "a gap between parts");
            assert!(pair[1].start > pair[0].start, "no progress");
        }
        for c in &chunks {
            assert!(c.tokens <= 40, "{c:?}");
            assert_eq!(c.tokens, text[c.start..c.end].split_whitespace().count());
        }
    }

    #[test]
    fn parts_end_on_sentence_boundaries_and_overlap_by_whole_sentences() {
        let text: String = (0..30).map(sentence).collect();
        let chunks = split(&text, 24, 6);
        assert_eq!(chunks.len(), 10);
        for c in &chunks {
            assert!(
                text[c.start..c.end].trim_end().ends_with('.'),
                "{:?}",
                &text[c.start..c.end]
            );
            assert!(text[c.start..].starts_with("Sentence"));
        }
        // 6-word sentences and a 6-token overlap: each part repeats the
        // previous part's last sentence.
        for pair in chunks.windows(2) {
            let prev = text[pair[0].start..pair[0].end].trim_end();
            let last_sentence = &prev[prev.rfind("Sentence").expect("sentence")..];
            assert!(text[pair[1].start..pair[1].end].starts_with(last_sentence));
        }
    }

    #[test]
    fn a_near_paragraph_break_is_preferred_to_a_sentence_break() {
        let para = |n: usize, tag: &str| -> String {
            (0..n)
                .map(|i| format!("{tag} sentence {i} here. "))
                .collect::<String>()
                + "\n\n"
        };
        // 4-word sentences; the first paragraph takes 32 of the 40 tokens.
        let text = para(8, "First") + &para(8, "Second");
        let chunks = split(&text, 40, 0);
        assert_eq!(&text[chunks[1].start..chunks[1].start + 6], "Second");
    }

    #[test]
    fn a_sentence_longer_than_a_part_is_cut_between_words() {
        let long = "word ".repeat(95) + "end.";
        let chunks = split(&long, 30, 0);
        assert_eq!(chunks.len(), 4);
        assert!(chunks.iter().all(|c| c.tokens <= 30));
        let words: usize = chunks
            .iter()
            .map(|c| long[c.start..c.end].split_whitespace().count())
            .sum();
        assert_eq!(words, 96);
    }

    #[test]
    fn sentence_splitting_keeps_abbreviations_and_decimals_together() {
        let text =
            "Prices rose 2.5 percent. e.g. apples cost more. Then \"Stop!\" he said.\nNext line";
        let found: Vec<&str> = sentences(text)
            .iter()
            .map(|&(s, e, _)| text[s..e].trim())
            .collect();
        assert_eq!(
            found,
            [
                "Prices rose 2.5 percent. e.g. apples cost more.",
                "Then \"Stop!\" he said.",
                "Next line"
            ]
        );
    }

    /// One token per character: how a tokenizer sees Chinese, roughly.
    fn chars_count(s: &str) -> Result<usize> {
        Ok(s.chars().count())
    }

    fn assert_covers_within(
        text: &str,
        chunks: &[Chunk],
        max: usize,
        count: fn(&str) -> Result<usize>,
    ) {
        assert_eq!(chunks.first().map(|c| c.start), Some(0));
        assert_eq!(chunks.last().map(|c| c.end), Some(text.len()));
        for pair in chunks.windows(2) {
            assert!(pair[1].start <= pair[0].end, "a gap: {pair:?}");
        }
        for c in chunks {
            assert!(c.tokens <= max, "{c:?} over {max}");
            assert_eq!(
                count(&text[c.start..c.end]).expect("count"),
                c.tokens,
                "{c:?}"
            );
        }
    }

    #[test]
    fn text_without_spaces_or_ascii_sentence_ends_holds_the_limit() {
        // Chinese prose: no spaces, and its full stop is not ASCII.
        let cjk = "今天我们讨论了新的项目计划，大家都同意下周开始工作。".repeat(40);
        let chunks = chunk(&cjk, 100, 10, &mut chars_count).expect("chunks");
        assert!(chunks.len() >= 10, "{}", chunks.len());
        assert_covers_within(&cjk, &chunks, 100, chars_count);
        // A long URL and a base64 blob among words.
        let url = format!(
            "See https://example.com/{} for details.",
            "a1b2c3".repeat(200)
        );
        let base64 = format!("Attached: {} end", "QUJDRA==".repeat(300));
        for text in [url, base64] {
            let chunks = chunk(&text, 64, 8, &mut chars_count).expect("chunks");
            assert_covers_within(&text, &chunks, 64, chars_count);
            // Whole words stay whole where they fit.
            assert!(text[chunks[0].start..chunks[0].end].starts_with(&text[..4]));
        }
    }

    #[test]
    fn a_long_unpunctuated_text_takes_a_few_counts_per_part_not_one_per_word() {
        let text = "word ".repeat(20_000);
        let mut calls = 0usize;
        let chunks = chunk(&text, 500, 0, &mut |s| {
            calls += 1;
            words_count(s)
        })
        .expect("chunks");
        assert_eq!(chunks.len(), 40);
        assert!(calls < 40 * 40, "{calls} counts");
    }

    #[test]
    fn short_and_empty_texts() {
        assert_eq!(split("One sentence.", 40, 8).len(), 1);
        assert!(split("", 40, 8).is_empty());
    }
}
