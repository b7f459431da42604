//! `pith run` and `pith commands` as a user or a script runs them, on the
//! real default model: the built-in workflows, a custom command from the
//! settings on standard input, and the commands' TOML round trip.

mod common;

use common::{pith_env, stderr as err, stdout as out};
use std::path::Path;
use std::process::Output;

/// In UTC, so the event's times read the same on every machine.
fn pith_in(data: &Path, args: &[&str], stdin: &[u8]) -> Output {
    pith_env(data, args, stdin, &[("TZ", "UTC")])
}

const MODEL: &str = "--model=../../models/SmolLM2-135M-Instruct.Q4_1.gguf";

#[test]
fn an_event_is_an_ics_on_standard_output_with_the_relative_date_resolved() {
    let data = tempfile::tempdir().expect("tmp");
    let text = b"Hi Sam, can we meet next Tuesday at 3 in the Blue Room to go over the launch plan? Thanks, Priya";
    let o = pith_in(
        data.path(),
        &["run", "event", "--today", "2026-12-03", MODEL],
        text,
    );
    assert!(o.status.success(), "{}", err(&o));
    let ics = out(&o);
    assert!(ics.starts_with("BEGIN:VCALENDAR"), "{ics}");
    assert!(ics.contains("DTSTART:20261208T150000Z"), "{ics}");

    // A day the text does not give is an error that says how to give it.
    let o = pith_in(
        data.path(),
        &["run", "event", "--today", "2026-12-03", MODEL],
        b"Let's get together next week in the Blue Room to talk about the budget.",
    );
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert!(
        err(&o).contains("\u{201c}next week\u{201d} does not say which day"),
        "{}",
        err(&o)
    );
    assert!(err(&o).contains("--date"), "{}", err(&o));
    assert!(out(&o).is_empty());
    let file = data.path().join("budget.ics");
    let o = pith_in(
        data.path(),
        &[
            "run",
            "event",
            "--today",
            "2026-12-03",
            "--date",
            "2026-12-09",
            "--time",
            "10:30",
            "--out",
            file.to_str().expect("utf-8"),
            MODEL,
        ],
        b"Let's get together next week in the Blue Room to talk about the budget.",
    );
    assert!(o.status.success(), "{}", err(&o));
    let ics = std::fs::read_to_string(&file).expect("written");
    assert!(ics.contains("DTSTART:20261209T103000Z"), "{ics}");
}

#[test]
fn action_items_come_as_a_checklist_or_json_with_only_the_texts_names_and_dates() {
    let data = tempfile::tempdir().expect("tmp");
    let email = "Hi team,\n\nThanks for the meeting today. To recap what we agreed:\n\
                 Maria will send the revised budget to the client by Friday.\n\
                 Tom needs to book the conference room for the workshop.\n\nBest,\nAnna";
    let o = pith_in(
        data.path(),
        &[
            "run",
            "action-items",
            "--json",
            "--today",
            "2026-12-03",
            MODEL,
        ],
        email.as_bytes(),
    );
    assert!(o.status.success(), "{}", err(&o));
    let v: serde_json::Value = serde_json::from_str(&out(&o)).expect("json");
    assert_eq!(v["ok"], true);
    let items = v["value"]["items"].as_array().expect("items");
    assert!(!items.is_empty(), "{v}");
    for item in items {
        for key in ["owner", "due"] {
            if let Some(s) = item[key].as_str() {
                assert!(
                    s == "me" || email.contains(s),
                    "{key} {s:?} is not in the text"
                );
            }
        }
    }
    let text = v["text"].as_str().expect("text");
    assert!(text.lines().all(|l| l.starts_with("- [ ] ")), "{text}");
}

#[test]
fn a_custom_command_runs_on_standard_input_and_commands_round_trip_through_toml() {
    let data = tempfile::tempdir().expect("tmp");
    let notes = tempfile::tempdir().expect("tmp");
    let settings = format!(
        "# mine\n[[commands]]\nname = \"to-french\"\ninstruction = \"Translate into French: {{text}}\"\n\
         output = \"folder\"\nfolder = \"{}\"\nhotkey = \"ctrl+alt+f\"\n",
        notes.path().display()
    );
    std::fs::write(data.path().join("settings.toml"), &settings).expect("settings");
    let o = pith_in(
        data.path(),
        &["run", "to-french", "-", MODEL],
        b"Good morning, everyone.",
    );
    assert!(o.status.success(), "{}", err(&o));
    assert!(!out(&o).trim().is_empty());
    assert!(err(&o).contains("saved to"), "{}", err(&o));
    let written: Vec<_> = std::fs::read_dir(notes.path()).expect("folder").collect();
    assert_eq!(written.len(), 1, "one new file in the command's folder");

    let o = pith_in(data.path(), &["commands", "list"], b"");
    assert!(o.status.success(), "{}", err(&o));
    for name in ["action-items", "event", "reply", "to-french"] {
        assert!(out(&o).contains(name), "{name} in {}", out(&o));
    }
    let o = pith_in(data.path(), &["commands", "export"], b"");
    assert!(o.status.success(), "{}", err(&o));
    let exported = out(&o);
    assert!(
        exported.contains("[[commands]]") && exported.contains("name = \"to-french\""),
        "{exported}"
    );

    // Into another profile, and again: the same names are replaced.
    let other = tempfile::tempdir().expect("tmp");
    let file = other.path().join("commands.toml");
    std::fs::write(&file, &exported).expect("writes");
    for _ in 0..2 {
        let o = pith_in(
            other.path(),
            &["commands", "import", file.to_str().expect("utf-8")],
            b"",
        );
        assert!(o.status.success(), "{}", err(&o));
    }
    let o = pith_in(other.path(), &["commands", "export"], b"");
    assert_eq!(out(&o), exported, "the round trip changes nothing");

    // A file with an unknown key is refused and nothing changes.
    std::fs::write(
        &file,
        "[[commands]]\nname = \"x\"\ninstruction = \"{text}\"\ncolor = 1\n",
    )
    .expect("writes");
    let before = std::fs::read_to_string(other.path().join("settings.toml")).expect("saved");
    let o = pith_in(
        other.path(),
        &["commands", "import", file.to_str().expect("utf-8")],
        b"",
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("unknown field `color`"), "{}", err(&o));
    assert!(err(&o).contains("nothing was imported"), "{}", err(&o));
    let after = std::fs::read_to_string(other.path().join("settings.toml")).expect("saved");
    assert_eq!(before, after);

    let o = pith_in(data.path(), &["run", "nope", MODEL], b"text");
    assert_eq!(o.status.code(), Some(1));
    assert!(
        err(&o).contains("there are: action-items, event, reply, to-french"),
        "{}",
        err(&o)
    );
}

#[test]
fn a_reply_is_drafted_and_kept_as_a_conversation() {
    let data = tempfile::tempdir().expect("tmp");
    let message = b"Hi Sam, can we meet next Tuesday at 3 in the Blue Room to go over the launch plan? Thanks, Priya";
    let o = pith_in(
        data.path(),
        &["run", "reply", "--tone", "professional", MODEL],
        message,
    );
    assert!(o.status.success(), "{}", err(&o));
    assert!(!out(&o).trim().is_empty());
    assert!(err(&o).contains("saved as conversation 1"), "{}", err(&o));
    let o = pith_in(data.path(), &["history", "show", "1", "--json"], b"");
    let v: serde_json::Value = serde_json::from_str(&out(&o)).expect("json");
    assert_eq!(v["messages"].as_array().map(Vec::len), Some(2), "{v}");
}
