//! Checks a rewrite before Pith hands it over as one.
//!
//! A small model asked to make "please send the invoice" friendlier will often
//! reply to it instead ("I'm sorry for the delay, I'll send it right away").
//! That is not a rewrite, and passing it off as one is worse than saying so.
//! The checks are deliberately simple and explainable: the input's content
//! words must mostly survive (allowing corrected spelling), the result must
//! not speak as an assistant where the input did not, and it must have the
//! mode's form.

use super::rephrase::RephraseMode;
use serde::Serialize;

/// Why a result was refused, in words a user can read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "detail", rename_all = "snake_case")]
pub enum Rejection {
    Empty,
    /// It answered or addressed the text instead of rewriting it.
    AnsweredInstead(String),
    /// Too few of the input's content words are left.
    LostMeaning {
        kept_percent: u32,
    },
    /// It added far more than it was given.
    AddedContent,
    /// Bullet points that are not a list, concise that is not shorter...
    WrongForm(String),
    /// Proofreading rewrote instead of correcting.
    ChangedTooMuch {
        changed_percent: u32,
    },
    Unchanged,
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Rejection::Empty => write!(f, "the model returned nothing"),
            Rejection::AnsweredInstead(phrase) => write!(
                f,
                "the model answered the text instead of rewriting it (it wrote \"{phrase}\")"
            ),
            Rejection::LostMeaning { kept_percent } => write!(
                f,
                "the result lost the meaning: only {kept_percent}% of the original's key words are left"
            ),
            Rejection::AddedContent => write!(f, "the result adds far more than the original says"),
            Rejection::WrongForm(what) => write!(f, "{what}"),
            Rejection::ChangedTooMuch { changed_percent } => write!(
                f,
                "proofreading changed {changed_percent}% of the words instead of only fixing errors"
            ),
            Rejection::Unchanged => write!(f, "the model returned the text unchanged"),
        }
    }
}

/// Phrases of an assistant talking, not of a rewritten text.
const ASSISTANT_PHRASES: &[&str] = &[
    "i'm sorry",
    "i am sorry",
    "i apologize",
    "as an ai",
    "as a language model",
    "i'll make sure",
    "i will make sure",
    "i'd be happy",
    "i would be happy",
    "i can help",
    "i can't help",
    "i cannot help",
    "happy to help",
    "thank you for your message",
    "thank you for reaching out",
    "thank you for sharing",
    "thanks for reaching out",
    "let me know if",
    "how can i help",
    "how can i assist",
    "i understand your",
    "here is the rewritten",
    "here's the rewritten",
    "rewrite the text",
    "the text says",
];

const STOPWORDS: &[&str] = &[
    "the", "and", "for", "are", "but", "not", "you", "your", "all", "any", "can", "had", "her",
    "was", "one", "our", "out", "has", "his", "him", "how", "its", "may", "who", "did", "get",
    "got", "let", "say", "she", "too", "use", "that", "with", "have", "this", "will", "from",
    "they", "them", "then", "than", "been", "were", "what", "when", "where", "which", "would",
    "could", "should", "there", "their", "these", "those", "into", "just", "also", "very", "some",
    "about", "after", "before", "because", "while", "being", "does", "doing", "here", "more",
    "most", "much", "such", "only", "over", "under", "again", "please", "really",
];

fn normalize(text: &str) -> String {
    text.to_lowercase().replace(['’', '‘'], "'")
}

/// Lowercase words of letters and digits.
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .map(|w| w.trim_matches('\'').to_lowercase())
        .filter(|w| !w.is_empty())
        .collect()
}

fn content_words(text: &str) -> Vec<String> {
    let mut out: Vec<String> = words(text)
        .into_iter()
        .filter(|w| w.chars().count() >= 3 && !STOPWORDS.contains(&w.as_str()))
        .collect();
    out.dedup();
    out
}

/// Same word, a corrected spelling of it, or the same stem.
fn similar(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    let (la, lb) = (a.chars().count(), b.chars().count());
    let prefix = a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count();
    if prefix >= 5 || (prefix >= 4 && la.min(lb) <= 5) {
        return true;
    }
    la.min(lb) >= 4 && edit_distance(a, b) <= if la.max(lb) >= 8 { 2 } else { 1 }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Content words of the input, and how many of them appear (or a near
/// spelling of them) in the output.
pub fn kept_words(input: &str, output: &str) -> (usize, usize) {
    let want = content_words(input);
    let have = words(output);
    let kept = want
        .iter()
        .filter(|w| have.iter().any(|h| similar(w, h)))
        .count();
    (kept, want.len())
}

/// Word-level edit distance as a share of the input's words.
fn changed_fraction(input: &str, output: &str) -> f64 {
    let a = words(input);
    let b = words(output);
    if a.is_empty() {
        return 0.0;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, wa) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, wb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(!similar(wa, wb));
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()] as f64 / a.len() as f64
}

fn bullet_lines(text: &str) -> usize {
    text.lines()
        .map(str::trim_start)
        .filter(|l| {
            l.starts_with("- ")
                || l.starts_with("* ")
                || l.starts_with("• ")
                || l.split_once(". ")
                    .is_some_and(|(n, _)| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
        })
        .count()
}

fn clauses(text: &str) -> usize {
    text.split(['.', ';', '!', '?', ',', '\n'])
        .filter(|s| s.split_whitespace().count() >= 2)
        .count()
}

/// Checks `output` as a `mode` rewrite of `input`.
/// The first phrase of an assistant talking that `output` has and
/// `input` has not.
pub fn assistant_phrase(input: &str, output: &str) -> Option<&'static str> {
    let (input_n, output_n) = (normalize(input), normalize(output));
    ASSISTANT_PHRASES
        .iter()
        .find(|p| output_n.contains(*p) && !input_n.contains(*p))
        .copied()
}

pub fn check_rephrase(input: &str, output: &str, mode: RephraseMode) -> Result<(), Rejection> {
    let out = output.trim();
    if out.is_empty() {
        return Err(Rejection::Empty);
    }
    if let Some(phrase) = assistant_phrase(input, out) {
        return Err(Rejection::AnsweredInstead(phrase.to_string()));
    }

    let in_words = words(input).len();
    let out_words = words(out).len();
    let (kept, total) = kept_words(input, out);
    let min_kept = match mode {
        RephraseMode::Proofread => 0.8,
        RephraseMode::Bullets => 0.5,
        RephraseMode::Concise => 0.35,
        RephraseMode::Rewrite | RephraseMode::Friendly | RephraseMode::Professional => 0.4,
    };
    // One changed word is always allowed: in a short text a single
    // correction ("goed" -> "went") is a large share.
    let allowed_missing = (((1.0 - min_kept) * total as f64).floor() as usize).max(1);
    if total - kept > allowed_missing {
        return Err(Rejection::LostMeaning {
            kept_percent: (kept * 100 / total.max(1)) as u32,
        });
    }
    if out_words > in_words * 5 / 2 + 12 {
        return Err(Rejection::AddedContent);
    }

    match mode {
        RephraseMode::Proofread => {
            let changed = changed_fraction(input, out);
            if changed > 0.35 {
                return Err(Rejection::ChangedTooMuch {
                    changed_percent: (changed * 100.0).round() as u32,
                });
            }
        }
        RephraseMode::Concise => {
            if in_words >= 8 && out_words >= in_words {
                return Err(Rejection::WrongForm(format!(
                    "the concise version is not shorter ({out_words} words for {in_words})"
                )));
            }
        }
        RephraseMode::Bullets => {
            let need = if clauses(input) >= 2 { 2 } else { 1 };
            let have = bullet_lines(out);
            if have < need {
                return Err(Rejection::WrongForm(format!(
                    "bullet points were asked for but the result has {have} list item(s)"
                )));
            }
        }
        RephraseMode::Rewrite | RephraseMode::Friendly | RephraseMode::Professional => {
            if words(input) == words(out) {
                return Err(Rejection::Unchanged);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use RephraseMode::*;

    #[test]
    fn accepts_good_rewrites() {
        let cases = [
            (Proofread, "i has went to the store yesterday and buyed some apple.", "I went to the store yesterday and bought some apples."),
            (Proofread, "The report is ready.", "The report is ready."),
            (Rewrite, "The weather was bad so we stayed inside all day.", "Because the weather was poor, we stayed indoors all day."),
            (Friendly, "Send me the files today.", "Hey! Could you send me the files today? Thanks so much!"),
            (Professional, "hey the numbers are wrong fix them asap", "Hello, the numbers appear to be wrong. Could you please fix them as soon as possible?"),
            (Concise, "I wanted to let you know that I will not be able to attend the meeting tomorrow because I have a doctor's appointment.", "I can't attend tomorrow's meeting due to a doctor's appointment."),
            (Bullets, "We need milk, eggs and bread. Also call the plumber about the sink.", "- Buy milk, eggs and bread\n- Call the plumber about the sink"),
        ];
        for (mode, input, output) in cases {
            assert_eq!(
                check_rephrase(input, output, mode),
                Ok(()),
                "{mode:?}: {output:?}"
            );
        }
    }

    #[test]
    fn rejects_answers_instead_of_rewrites() {
        let r = check_rephrase(
            "Please send the invoice by Friday.",
            "I'm sorry for the delay! I'll make sure to send the invoice by Friday.",
            Friendly,
        );
        assert!(matches!(r, Err(Rejection::AnsweredInstead(p)) if p == "i'm sorry"));
        let r = check_rephrase(
            "The server is down again.",
            "As an AI, I cannot fix servers, but the server is down again.",
            Professional,
        );
        assert!(matches!(r, Err(Rejection::AnsweredInstead(_))));
    }

    #[test]
    fn an_apology_in_the_input_may_stay_in_the_output() {
        let r = check_rephrase(
            "I'm sorry i missed you're call yesterday.",
            "I'm sorry I missed your call yesterday.",
            Proofread,
        );
        assert_eq!(r, Ok(()));
    }

    #[test]
    fn rejects_lost_meaning() {
        let r = check_rephrase(
            "The quarterly budget review moves to Thursday afternoon in room four.",
            "Have a great day everyone!",
            Rewrite,
        );
        assert!(matches!(r, Err(Rejection::LostMeaning { .. })), "{r:?}");
    }

    #[test]
    fn rejects_wrong_form() {
        let r = check_rephrase(
            "We need milk and eggs. Also call the plumber about the sink.",
            "We need milk, eggs and a plumber for the sink.",
            Bullets,
        );
        assert!(matches!(r, Err(Rejection::WrongForm(_))), "{r:?}");
        let r = check_rephrase(
            "Please remember to bring the signed forms to the office tomorrow morning.",
            "Please remember to bring all of the signed forms with you to the office tomorrow morning, thanks.",
            Concise,
        );
        assert!(matches!(r, Err(Rejection::WrongForm(_))), "{r:?}");
    }

    #[test]
    fn proofread_that_rewrites_is_rejected() {
        let r = check_rephrase(
            "The meeting starts at nine and ends at noon.",
            "Our session begins in the morning and finishes around lunchtime as planned.",
            Proofread,
        );
        assert!(r.is_err(), "{r:?}");
    }

    #[test]
    fn unchanged_rewrite_is_rejected_but_unchanged_proofread_is_fine() {
        let t = "The train leaves at six.";
        assert_eq!(check_rephrase(t, t, Rewrite), Err(Rejection::Unchanged));
        assert_eq!(check_rephrase(t, t, Proofread), Ok(()));
    }

    #[test]
    fn rejection_reasons_read_as_sentences() {
        let text = Rejection::AnsweredInstead("i'm sorry".into()).to_string();
        assert_eq!(
            text,
            "the model answered the text instead of rewriting it (it wrote \"i'm sorry\")"
        );
    }

    #[test]
    fn similar_words_allow_corrected_spelling() {
        assert!(similar("tomorow", "tomorrow"));
        assert!(similar("anounce", "announce"));
        assert!(similar("apple", "apples"));
        assert!(!similar("cat", "dog"));
    }
}
