//! Dates and times as people write them, found in a text and resolved
//! against a given day — never guessed.
//!
//! [`find_dates`] and [`find_times`] list the phrases a text holds, as
//! written ("next Tuesday", "Dec 12", "at 3", "2:30 pm"), so that a model
//! choosing among them can only pick what the text says. [`resolve_date`]
//! and [`resolve_time`] turn one phrase into a date or a time, or `None`
//! when the phrase does not say which ("next week", "in the morning"); the
//! caller then asks the user.
//!
//! The rules, so that a reader can predict them:
//! - a weekday ("Tuesday", "on Tuesday", "next Tuesday") is the first one
//!   after today (1 to 7 days ahead); "this Tuesday" may be today;
//! - a month and day without a year is the next such day from today on;
//! - a bare hour ("at 3") is in working hours: 8 to 11 in the morning,
//!   12 at noon, 1 to 7 in the afternoon or evening; 13 to 23 as written.

use chrono::{Datelike, Duration, NaiveDate, NaiveTime, Weekday};
use regex::Regex;
use std::sync::LazyLock;

// Not "sat", "sun" or "wed": they are words too.
const WEEKDAYS: &str =
    "monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tues|tue|thurs|thur|thu|fri";
const MONTHS: &str = "january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec";

static DATE: LazyLock<Regex> = LazyLock::new(|| {
    let pattern = format!(
        r"(?ix)\b(?:
            (?:the\ day\ after\ tomorrow|today|tonight|tomorrow)
          | (?:(?:next|this|on|coming)\s+)?(?:{WEEKDAYS})\b
          | (?:{MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?
          | \d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:{MONTHS})\b(?:,?\s+\d{{4}})?
          | \d{{4}}-\d{{2}}-\d{{2}}
          | in\s+(?:\d{{1,2}}|a|an|one|two|three|four)\s+(?:days?|weeks?)
          | next\s+(?:week|month)|end\ of\ (?:the\ )?(?:week|month)
        )\b"
    );
    Regex::new(&pattern).expect("the date pattern is valid")
});

static TIME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ix)\b(?:
            \d{1,2}:\d{2}(?:\s*(?:am|pm|a\.m\.|p\.m\.))?
          | \d{1,2}\s*(?:am|pm|a\.m\.|p\.m\.)
          | (?:at|@)\s+\d{1,2}(?::\d{2})?\b(?:\s*(?:am|pm|a\.m\.|p\.m\.|o'clock))?
          | noon|midday|midnight
        )",
    )
    .expect("the time pattern is valid")
});

/// The date phrases of `text`, as written, first to last, each once.
pub fn find_dates(text: &str) -> Vec<String> {
    unique(DATE.find_iter(text).map(|m| m.as_str()))
}

/// The time phrases of `text`, as written, first to last, each once.
pub fn find_times(text: &str) -> Vec<String> {
    unique(TIME.find_iter(text).map(|m| m.as_str()))
}

fn unique<'a>(found: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for f in found {
        let f = f.trim();
        if !out.iter().any(|o| o.eq_ignore_ascii_case(f)) {
            out.push(f.to_string());
        }
    }
    out
}

fn weekday(word: &str) -> Option<Weekday> {
    let w = word.to_ascii_lowercase();
    let days = [
        ("mon", Weekday::Mon),
        ("tue", Weekday::Tue),
        ("wed", Weekday::Wed),
        ("thu", Weekday::Thu),
        ("fri", Weekday::Fri),
        ("sat", Weekday::Sat),
        ("sun", Weekday::Sun),
    ];
    days.iter()
        .find(|(prefix, _)| w.starts_with(prefix))
        .map(|(_, d)| *d)
}

fn month(word: &str) -> Option<u32> {
    let w = word.to_ascii_lowercase();
    let w = w.trim_end_matches('.');
    let names = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    if w.len() < 3 {
        return None;
    }
    names
        .iter()
        .position(|m| w.starts_with(m))
        .map(|i| i as u32 + 1)
}

fn small_number(word: &str) -> Option<i64> {
    match word.to_ascii_lowercase().as_str() {
        "a" | "an" | "one" => Some(1),
        "two" => Some(2),
        "three" => Some(3),
        "four" => Some(4),
        n => n.parse().ok(),
    }
}

/// The next `month`/`day` from `today` on (this year or the next), or in
/// `year` when given.
fn month_day(today: NaiveDate, month: u32, day: u32, year: Option<i32>) -> Option<NaiveDate> {
    if let Some(y) = year {
        return NaiveDate::from_ymd_opt(y, month, day);
    }
    let this_year = NaiveDate::from_ymd_opt(today.year(), month, day);
    match this_year {
        Some(d) if d >= today => Some(d),
        _ => NaiveDate::from_ymd_opt(today.year() + 1, month, day),
    }
}

/// The date `phrase` names, counted from `today`; `None` when it does not
/// name one day.
pub fn resolve_date(phrase: &str, today: NaiveDate) -> Option<NaiveDate> {
    let p = phrase.trim().to_ascii_lowercase();
    let words: Vec<&str> = p
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| !w.is_empty())
        .collect();
    match words.as_slice() {
        ["today"] | ["tonight"] => return Some(today),
        ["tomorrow"] => return Some(today + Duration::days(1)),
        ["the", "day", "after", "tomorrow"] => return Some(today + Duration::days(2)),
        ["in", n, unit] => {
            let n = small_number(n)?;
            let days = if unit.starts_with("week") { n * 7 } else { n };
            return Some(today + Duration::days(days));
        }
        _ => {}
    }
    if let Ok(d) = NaiveDate::parse_from_str(&p, "%Y-%m-%d") {
        return Some(d);
    }
    let (prefix, day_word) = match words.as_slice() {
        [day] => (None, *day),
        [prefix, day] => (Some(*prefix), *day),
        _ => (None, ""),
    };
    if !day_word.is_empty() && month(day_word).is_none() {
        if let Some(target) = weekday(day_word) {
            let ahead = (target.num_days_from_monday() as i64
                - today.weekday().num_days_from_monday() as i64)
                .rem_euclid(7);
            let ahead = match prefix {
                Some("this") => ahead,
                Some("next" | "on" | "coming") | None => {
                    if ahead == 0 {
                        7
                    } else {
                        ahead
                    }
                }
                Some(_) => return None,
            };
            return Some(today + Duration::days(ahead));
        }
    }
    // "December 8", "Dec. 8th, 2026", "8 December", "8th of Dec 2026".
    let cleaned: Vec<&str> = words.iter().copied().filter(|w| *w != "of").collect();
    let number = |w: &str| -> Option<u32> {
        w.trim_end_matches(|c: char| c.is_ascii_alphabetic())
            .parse()
            .ok()
    };
    let (m, d, y) = match cleaned.as_slice() {
        [a, b] if month(a).is_some() => (month(a)?, number(b)?, None),
        [a, b, c] if month(a).is_some() => (month(a)?, number(b)?, Some(c.parse().ok()?)),
        [a, b] if month(b).is_some() => (month(b)?, number(a)?, None),
        [a, b, c] if month(b).is_some() => (month(b)?, number(a)?, Some(c.parse().ok()?)),
        _ => return None,
    };
    month_day(today, m, d, y)
}

/// The time of day `phrase` names; `None` when it does not name one.
pub fn resolve_time(phrase: &str) -> Option<NaiveTime> {
    let p = phrase
        .trim()
        .to_ascii_lowercase()
        .replace('.', "")
        .replace("o'clock", "");
    let p = p.trim();
    match p {
        "noon" | "midday" => return NaiveTime::from_hms_opt(12, 0, 0),
        "midnight" => return NaiveTime::from_hms_opt(0, 0, 0),
        _ => {}
    }
    let p = p
        .strip_prefix("at ")
        .or_else(|| p.strip_prefix('@'))
        .unwrap_or(p)
        .trim();
    let (clock, half) = if let Some(c) = p.strip_suffix("am") {
        (c.trim(), Some(false))
    } else if let Some(c) = p.strip_suffix("pm") {
        (c.trim(), Some(true))
    } else {
        (p, None)
    };
    let (hour, minute) = match clock.split_once(':') {
        Some((h, m)) => (h.parse::<u32>().ok()?, m.parse::<u32>().ok()?),
        None => (clock.parse::<u32>().ok()?, 0),
    };
    let hour = match (half, hour) {
        (Some(_), 0) | (Some(_), 13..) => return None,
        (Some(false), 12) => 0,
        (Some(false), h) => h,
        (Some(true), 12) => 12,
        (Some(true), h) => h + 12,
        // Working hours, as the module's introduction says.
        (None, h @ 1..=7) if !clock.contains(':') => h + 12,
        (None, h) => h,
    };
    NaiveTime::from_hms_opt(hour, minute, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("a date")
    }

    #[test]
    fn phrases_are_found_as_written() {
        let text = "Can we meet next Tuesday at 3 in the Blue Room? If not, Dec. 12th at 2:30 pm, \
                    or on 2026-12-20 at noon. The report is due in two weeks.";
        assert_eq!(
            find_dates(text),
            ["next Tuesday", "Dec. 12th", "2026-12-20", "in two weeks"]
        );
        assert_eq!(find_times(text), ["at 3", "at 2:30 pm", "noon"]);
        assert!(find_dates("Mayday! We sat in the sun.").is_empty());
    }

    #[test]
    fn relative_dates_are_counted_from_today() {
        // A Thursday.
        let today = day("2026-12-03");
        for (phrase, want) in [
            ("today", "2026-12-03"),
            ("tomorrow", "2026-12-04"),
            ("the day after tomorrow", "2026-12-05"),
            ("next Tuesday", "2026-12-08"),
            ("Tuesday", "2026-12-08"),
            ("on tue", "2026-12-08"),
            ("Thursday", "2026-12-10"),
            ("this Thursday", "2026-12-03"),
            ("in two weeks", "2026-12-17"),
            ("in 3 days", "2026-12-06"),
            ("December 8", "2026-12-08"),
            ("Dec. 12th, 2027", "2027-12-12"),
            ("8th of January", "2027-01-08"),
            ("2 March 2027", "2027-03-02"),
            ("2026-12-24", "2026-12-24"),
        ] {
            assert_eq!(resolve_date(phrase, today), Some(day(want)), "{phrase}");
        }
        for vague in [
            "next week",
            "end of the month",
            "soon",
            "February 30",
            "last Tuesday",
        ] {
            assert_eq!(resolve_date(vague, today), None, "{vague}");
        }
    }

    #[test]
    fn times_follow_working_hours_when_no_half_of_the_day_is_said() {
        let t = |h, m| NaiveTime::from_hms_opt(h, m, 0);
        for (phrase, want) in [
            ("at 3", t(15, 0)),
            ("at 9", t(9, 0)),
            ("3pm", t(15, 0)),
            ("2:30 p.m.", t(14, 30)),
            ("12 am", t(0, 0)),
            ("12pm", t(12, 0)),
            ("15:45", t(15, 45)),
            ("9:30 am", t(9, 30)),
            ("noon", t(12, 0)),
            ("at 4 o'clock", t(16, 0)),
            ("at 2:30 pm", t(14, 30)),
        ] {
            assert_eq!(resolve_time(phrase), want, "{phrase}");
        }
        for vague in ["in the morning", "13pm", "25:00", "later"] {
            assert_eq!(resolve_time(vague), None, "{vague}");
        }
    }
}
