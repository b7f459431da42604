//! Checking a summary's details against its source.
//!
//! Small models invent details: a 135M model's summary of a six-page
//! document added two numbers the document never states. Every number,
//! date and name in a summary must appear in the source, and every quote
//! must be verbatim; a sentence that fails is removed rather than kept.

/// Source text prepared once for many look-ups: lowercased, with quotes
/// and whitespace normalized.
pub struct Source {
    normalized: String,
}

impl Source {
    pub fn new(text: &str) -> Self {
        Self {
            normalized: normalize(text),
        }
    }

    pub(crate) fn contains(&self, needle: &str) -> bool {
        self.normalized.contains(&normalize(needle))
    }

    /// `number` as written, not as part of a longer number (`12` is not
    /// in `1200`).
    pub(crate) fn contains_number(&self, number: &str) -> bool {
        let number = normalize(number);
        self.normalized.match_indices(&number).any(|(i, _)| {
            let before = self.normalized[..i].chars().next_back();
            let after = self.normalized[i + number.len()..].chars().next();
            !before.is_some_and(|c| c.is_ascii_digit())
                && !after.is_some_and(|c| c.is_ascii_digit())
        })
    }

    pub(crate) fn contains_word(&self, word: &str) -> bool {
        let word = normalize(word);
        self.normalized.match_indices(&word).any(|(i, _)| {
            let before = self.normalized[..i].chars().next_back();
            let after = self.normalized[i + word.len()..].chars().next();
            !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
        })
    }
}

fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.chars() {
        let c = match c {
            '\u{2018}' | '\u{2019}' | '\u{201b}' | '`' => '\'',
            '\u{201c}' | '\u{201d}' | '\u{201e}' | '\u{ab}' | '\u{bb}' => '"',
            '\u{2013}' | '\u{2014}' => '-',
            c => c,
        };
        if c.is_whitespace() {
            space = true;
            continue;
        }
        if space && !out.is_empty() {
            out.push(' ');
        }
        space = false;
        out.extend(c.to_lowercase());
    }
    out
}

/// The first detail of `summary` that `source` does not support, described
/// for the person reading.
pub fn unsupported_detail(source: &Source, summary: &str) -> Option<String> {
    unsupported_in(source, summary, "summary")
}

/// [`unsupported_detail`] for any text `what` names ("reply", "summary").
pub fn unsupported_in(source: &Source, summary: &str, what: &str) -> Option<String> {
    if let Some(q) = quotes(summary).into_iter().find(|q| !source.contains(q)) {
        return Some(format!("the quote \u{201c}{q}\u{201d} is not in the text"));
    }
    if let Some(n) = numbers(summary).into_iter().find(|n| !source.contains(n)) {
        return Some(format!("the {what} states {n}, which the text does not"));
    }
    if let Some(name) = names(summary)
        .into_iter()
        .find(|n| !source.contains_word(n))
    {
        return Some(format!(
            "the {what} names \u{201c}{name}\u{201d}, which the text does not mention"
        ));
    }
    None
}

/// Numbers (digits, with inner `.,:/-`), as written.
fn numbers(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | ',' | ':' | '/' | '-')))
        .map(|t| t.trim_matches(|c: char| !c.is_ascii_digit()))
        .filter(|t| t.chars().any(|c| c.is_ascii_digit()))
        .map(str::to_string)
        .collect()
}

/// Capitalised words that do not start a sentence, a line or a list item:
/// names of people, places, months, organisations.
fn names(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut sentence_start = true;
    for raw in text.split_whitespace() {
        let word = raw.trim_matches(|c: char| !c.is_alphanumeric());
        let word = word
            .strip_suffix("'s")
            .or_else(|| word.strip_suffix("\u{2019}s"))
            .unwrap_or(word);
        let capitalised = word.chars().next().is_some_and(char::is_uppercase)
            && word.chars().count() > 1
            && word.chars().skip(1).any(char::is_lowercase);
        if capitalised && !sentence_start && !raw.starts_with(['"', '\u{201c}', '(']) {
            out.push(word.to_string());
        }
        sentence_start = matches!(raw, "-" | "*" | "•")
            || raw.ends_with(['.', '!', '?', ':', ';'])
            || word.is_empty() && !raw.is_empty() && !raw.ends_with(',');
    }
    out
}

/// Text between double quotes, three words or longer (shorter quoted bits
/// are usually terms, not quotations).
pub fn quotes(text: &str) -> Vec<String> {
    let normalized: String = text
        .chars()
        .map(|c| match c {
            '\u{201c}' | '\u{201d}' | '\u{201e}' => '"',
            c => c,
        })
        .collect();
    normalized
        .split('"')
        .skip(1)
        .step_by(2)
        .map(|q| {
            q.trim()
                .trim_end_matches(['.', ',', ';'])
                .trim()
                .to_string()
        })
        .filter(|q| q.split_whitespace().count() >= 3)
        .collect()
}

/// `summary` without its unsupported sentences (or list items), and the
/// reasons for each removal.
pub fn remove_unsupported(source: &Source, summary: &str) -> (String, Vec<String>) {
    let mut kept = String::new();
    let mut removed = Vec::new();
    for line in summary.lines() {
        let mut kept_line = String::new();
        for (start, end, _) in super::chunk::sentences(line) {
            let sentence = &line[start..end];
            match unsupported_detail(source, sentence) {
                Some(why) => removed.push(why),
                None => kept_line.push_str(sentence),
            }
        }
        let kept_line = kept_line.trim_end();
        let is_bare_bullet = matches!(kept_line.trim(), "-" | "*" | "•");
        if !kept_line.trim().is_empty() && !is_bare_bullet {
            kept.push_str(kept_line);
            kept.push('\n');
        }
    }
    (kept.trim().to_string(), removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "In March 2021 the Riverside library lent 1,240 books. \
                       Maria Lopez led the reading club. The mayor said: \u{201c}Reading is \
                       for everyone, at every age.\u{201d}";

    fn check(summary: &str) -> Option<String> {
        unsupported_detail(&Source::new(DOC), summary)
    }

    #[test]
    fn supported_details_pass() {
        assert_eq!(check("The library lent 1,240 books in March 2021."), None);
        assert_eq!(check("The reading club was led by Maria Lopez."), None);
        assert_eq!(
            check("The mayor said \"reading is for everyone, at every age\"."),
            None
        );
        // Sentence-initial capitals and list items are not names.
        assert_eq!(check("Overall, the library did well.\n- Busy month."), None);
    }

    #[test]
    fn invented_numbers_names_and_quotes_are_caught() {
        let n = check("The library lent 1,500 books.").expect("number");
        assert!(n.contains("1,500"), "{n}");
        let d = check("The library lent books in 2022.").expect("year");
        assert!(d.contains("2022"), "{d}");
        let name = check("The club was led by John Smith.").expect("name");
        assert!(name.contains("John"), "{name}");
        let month = check("The library lent books in April.").expect("month");
        assert!(month.contains("April"), "{month}");
        let q =
            check("The mayor said \u{201c}books are for children only\u{201d}.").expect("quote");
        assert!(q.contains("not in the text"), "{q}");
    }

    #[test]
    fn unsupported_sentences_are_removed_and_reported() {
        let summary = "The library lent 1,240 books. It also sold 300 cakes.\n\
                       - Maria Lopez led the club.\n- Peter Pan led the choir.";
        let (kept, removed) = remove_unsupported(&Source::new(DOC), summary);
        assert_eq!(
            kept,
            "The library lent 1,240 books.\n- Maria Lopez led the club."
        );
        assert_eq!(removed.len(), 2, "{removed:?}");
        assert!(removed[0].contains("300"));
        assert!(removed[1].contains("Pan"));
    }
}
