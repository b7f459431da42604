//! A calendar event as iCalendar (RFC 5545), written with the `icalendar`
//! crate and parsed back before it is handed out: what the file says is
//! checked to be what was meant.

use crate::error::{Error, Result};
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use icalendar::{Calendar, CalendarDateTime, Component, DatePerhapsTime, Event, EventLike};
use serde::{Deserialize, Serialize};

/// Length of an event whose text says none: the usual meeting.
pub const DEFAULT_MINUTES: u32 = 60;

/// An event as found in a text, resolved as far as the text allows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct EventDraft {
    pub title: String,
    /// The date and the time as the text wrote them.
    pub date_text: Option<String>,
    pub time_text: Option<String>,
    pub location: Option<String>,
    /// `YYYY-MM-DD`; none when the text does not say which day (the
    /// window asks; the command line refuses).
    pub date: Option<String>,
    /// `HH:MM`; none for an all-day event, or when the text's time cannot
    /// be read (then `time_text` is set and the window asks).
    pub time: Option<String>,
    pub duration_minutes: u32,
}

impl EventDraft {
    /// What is missing before the event can be written, for the person.
    pub fn missing(&self) -> Vec<String> {
        let mut out = Vec::new();
        match (&self.date, &self.date_text) {
            (None, Some(t)) => out.push(format!(
                "the date \u{201c}{t}\u{201d} does not say which day"
            )),
            (None, None) => out.push("the text gives no date".into()),
            _ => {}
        }
        if let (None, Some(t)) = (&self.time, &self.time_text) {
            out.push(format!(
                "the time \u{201c}{t}\u{201d} does not say which hour"
            ));
        }
        out
    }

    fn day(&self) -> Result<NaiveDate> {
        let text = self.date.as_deref().ok_or_else(|| {
            Error::InvalidInput(format!(
                "the event cannot be written: {}",
                self.missing().join("; ")
            ))
        })?;
        NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
            Error::InvalidInput(format!("the date \"{text}\" is not a date (YYYY-MM-DD)"))
        })
    }

    fn clock(&self) -> Result<Option<NaiveTime>> {
        if !self.missing().is_empty() {
            return Err(Error::InvalidInput(format!(
                "the event cannot be written: {}",
                self.missing().join("; ")
            )));
        }
        self.time
            .as_deref()
            .map(|t| {
                NaiveTime::parse_from_str(t, "%H:%M").map_err(|_| {
                    Error::InvalidInput(format!("the time \"{t}\" is not a time (HH:MM)"))
                })
            })
            .transpose()
    }
}

/// The event as an `.ics` file. The start is written in UTC, converted
/// from `zone` (the system's time zone in the app and the command line);
/// an event with no time is an all-day event. The file is parsed back and
/// compared before it is returned.
pub fn to_ics<Z: TimeZone>(draft: &EventDraft, zone: &Z) -> Result<String> {
    let day = draft.day()?;
    let clock = draft.clock()?;
    let title = draft.title.trim();
    let mut event = Event::new();
    event.summary(if title.is_empty() { "Event" } else { title });
    if let Some(place) = draft.location.as_deref().filter(|l| !l.trim().is_empty()) {
        event.location(place.trim());
    }
    let start = match clock {
        Some(time) => {
            let local = day.and_time(time);
            let start = zone
                .from_local_datetime(&local)
                .earliest()
                .ok_or_else(|| {
                    Error::InvalidInput(format!(
                        "{local} does not exist in this time zone (a clock change); choose another time"
                    ))
                })?
                .with_timezone(&Utc);
            let minutes = draft.duration_minutes.max(1);
            event.starts(start);
            event.ends(start + Duration::minutes(i64::from(minutes)));
            Start::At(start)
        }
        None => {
            event.all_day(day);
            Start::Day(day)
        }
    };
    let calendar = Calendar::new().push(event.done()).done();
    let text = calendar.to_string();
    let back = read_start(&text)?;
    if back != start {
        return Err(Error::Inference(format!(
            "the calendar file reads back as {back:?}, not {start:?}"
        )));
    }
    Ok(text)
}

/// When an event starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    Day(NaiveDate),
    At(DateTime<Utc>),
}

/// The start of the first event of an `.ics` text, as a parser reads it.
pub fn read_start(ics: &str) -> Result<Start> {
    let calendar: Calendar = ics
        .parse()
        .map_err(|e| Error::InvalidInput(format!("the calendar file does not parse: {e}")))?;
    let event = calendar
        .events()
        .next()
        .ok_or_else(|| Error::InvalidInput("the calendar file holds no event".into()))?;
    match event.get_start() {
        Some(DatePerhapsTime::Date(d)) => Ok(Start::Day(d)),
        Some(DatePerhapsTime::DateTime(CalendarDateTime::Utc(t))) => Ok(Start::At(t)),
        other => Err(Error::InvalidInput(format!(
            "the calendar file's start is not one Pith writes: {other:?}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::FixedOffset;

    fn draft(date: Option<&str>, time: Option<&str>) -> EventDraft {
        EventDraft {
            title: "Launch plan".into(),
            date_text: Some("next Tuesday".into()),
            time_text: time.map(|_| "at 3".into()),
            location: Some("Blue Room".into()),
            date: date.map(Into::into),
            time: time.map(Into::into),
            duration_minutes: 30,
        }
    }

    #[test]
    fn an_event_is_written_in_utc_and_reads_back_the_same() {
        let paris = FixedOffset::east_opt(3600).expect("offset");
        let ics = to_ics(&draft(Some("2026-12-08"), Some("15:00")), &paris).expect("writes");
        assert!(
            ics.contains("BEGIN:VEVENT") && ics.contains("SUMMARY:Launch plan"),
            "{ics}"
        );
        assert!(ics.contains("DTSTART:20261208T140000Z"), "{ics}");
        assert!(ics.contains("DTEND:20261208T143000Z"), "{ics}");
        assert!(ics.contains("LOCATION:Blue Room"), "{ics}");
        let at = Utc
            .with_ymd_and_hms(2026, 12, 8, 14, 0, 0)
            .single()
            .expect("utc");
        assert_eq!(read_start(&ics).expect("parses"), Start::At(at));
    }

    #[test]
    fn no_time_is_an_all_day_event_and_no_date_is_refused() {
        let ics = to_ics(&draft(Some("2026-12-08"), None), &Utc).expect("writes");
        assert!(ics.contains("DTSTART;VALUE=DATE:20261208"), "{ics}");
        let day = NaiveDate::from_ymd_opt(2026, 12, 8).expect("day");
        assert_eq!(read_start(&ics).expect("parses"), Start::Day(day));
        let e = to_ics(&draft(None, None), &Utc)
            .expect_err("no date")
            .to_string();
        assert!(
            e.contains("\u{201c}next Tuesday\u{201d} does not say which day"),
            "{e}"
        );
        let mut vague = draft(Some("2026-12-08"), None);
        vague.time_text = Some("in the morning".into());
        let e = to_ics(&vague, &Utc).expect_err("vague time").to_string();
        assert!(e.contains("does not say which hour"), "{e}");
        assert!(read_start("BEGIN:VCALENDAR\nEND:VCALENDAR\n").is_err());
    }
}
