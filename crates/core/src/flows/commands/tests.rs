use super::*;
use crate::engine::{Prompt, ScriptedEngine};
use crate::ErrorCode;
use serde_json::json;

const EMAIL: &str = "Hi team,\n\nThanks for the meeting today. To recap what we agreed:\n\
Maria will send the revised budget to the client by Friday.\n\
Tom needs to book the conference room for the workshop.\n\
I will update the project plan before December 10.\n\nBest,\nAnna";

fn options() -> RunOptions {
    RunOptions {
        // A Thursday.
        today: NaiveDate::from_ymd_opt(2026, 12, 3).expect("a day"),
        zone: Zone::Fixed(FixedOffset::east_opt(3600).expect("UTC+1")),
        tone: Tone::Friendly,
    }
}

fn run(engine: &mut ScriptedEngine, target: &Target, text: &str) -> Result<CommandResult> {
    run_on(
        engine,
        target,
        text,
        &options(),
        &CancelToken::new(),
        &mut |_, _| {},
    )
}

fn prompt(engine: &ScriptedEngine, i: usize) -> String {
    match &engine.requests[i].prompt {
        Prompt::Raw(p) => p.clone(),
        Prompt::Chat(m) => m.iter().map(|m| m.content.clone()).collect(),
    }
}

#[test]
fn action_items_are_asked_one_sentence_at_a_time_and_checked_against_it() {
    let mut engine = ScriptedEngine::new(4096)
        .reply(" none")
        // Made of other words than the sentence's: no item.
        .reply(" {\"task\": \"Summarize the agreement\", \"owner\": \"none\", \"due\": \"none\"}")
        .reply(" {\"task\": \"send the revised budget to the client\", \"owner\": \"Maria\", \"due\": \"Friday\"}")
        // An owner the sentence does not name is left out.
        .reply(" {\"task\": \"Book the conference room\", \"owner\": \"Ireland\", \"due\": \"none\"}")
        .reply(" {\"task\": \"Update the project plan\", \"owner\": \"I\", \"due\": \"December 10\"}");
    let got = run(&mut engine, &Target::Workflow(Workflow::ActionItems), EMAIL).expect("runs");
    assert!(got.ok());
    assert_eq!(
        engine.requests.len(),
        5,
        "one request a sentence, greetings skipped"
    );
    assert!(prompt(&engine, 2)
        .ends_with("Sentence: Maria will send the revised budget to the client by Friday.\nTask:"));
    let constraint = engine.requests[0].constraint.as_ref().expect("a grammar");
    assert_eq!(constraint.triggers, ["{"]);
    assert_eq!(
        got.text,
        "- [ ] Send the revised budget to the client (Maria, due Friday)\n\
         - [ ] Book the conference room\n\
         - [ ] Update the project plan (me, due December 10)\n"
    );
    assert_eq!(
        got.todo_txt.as_deref(),
        Some(
            "Send the revised budget to the client @Maria due:2026-12-04\n\
             Book the conference room\n\
             Update the project plan @me due:2026-12-10\n"
        )
    );
    assert_eq!(got.notes.len(), 1, "{:?}", got.notes);
    assert!(got.notes[0].contains("\u{201c}Ireland\u{201d} was left out"));
    assert_eq!(
        got.value.expect("items")["items"].as_array().map(Vec::len),
        Some(3)
    );
}

#[test]
fn an_event_picks_among_the_texts_own_dates_and_resolves_them_from_today() {
    let text = "Hi Sam, can we meet next Tuesday at 3 in the Blue Room to go over the launch plan? Thanks, Priya";
    let mut engine = ScriptedEngine::new(4096).reply(
        "{\"title\": \"Launch plan\", \"date\": \"next Tuesday\", \"time\": \"at 3\", \"location\": \"Blue Room\"}",
    );
    let got = run(&mut engine, &Target::Workflow(Workflow::Event), text).expect("runs");
    let schema = &engine.requests[0]
        .constraint
        .as_ref()
        .expect("grammar")
        .schema;
    assert_eq!(
        schema["properties"]["date"]["enum"],
        json!(["next Tuesday", "none"])
    );
    assert_eq!(
        schema["properties"]["time"]["enum"],
        json!(["at 3", "none"])
    );
    let event = got.event.clone().expect("an event");
    assert_eq!(
        (event.date.as_deref(), event.time.as_deref()),
        (Some("2026-12-08"), Some("15:00"))
    );
    assert!(
        got.text.contains("DTSTART:20261208T140000Z"),
        "{}",
        got.text
    );
    assert!(got.text.contains("LOCATION:Blue Room"), "{}", got.text);
    assert!(got.ok() && got.notes.is_empty(), "{:?}", got.notes);
}

#[test]
fn an_event_whose_day_the_text_does_not_say_is_left_to_the_person() {
    let text = "Let's get together next week to talk about the budget.";
    let mut engine = ScriptedEngine::new(4096).reply(
        "{\"title\": \"Budget talk\", \"date\": \"next week\", \"time\": \"none\", \"location\": \"Luigi's\"}",
    );
    let got = run(&mut engine, &Target::Workflow(Workflow::Event), text).expect("runs");
    let mut draft = got.event.clone().expect("a draft");
    assert_eq!(
        (draft.date.as_deref(), draft.date_text.as_deref()),
        (None, Some("next week"))
    );
    assert!(got.text.is_empty(), "no .ics without a day");
    assert!(
        got.notes
            .iter()
            .any(|n| n.contains("does not say which day")),
        "{:?}",
        got.notes
    );
    assert!(
        got.notes.iter().any(|n| n.contains("Luigi's")),
        "an invented place is left out"
    );
    // The window asks; the answer completes it.
    draft.date = Some("2026-12-09".into());
    draft.time = Some("10:30".into());
    let ics = event::complete(&draft, options().zone).expect("writes");
    assert!(ics.contains("DTSTART:20261209T093000Z"), "{ics}");
}

#[test]
fn a_reply_that_moves_a_date_is_tried_again_and_flagged_when_every_try_does() {
    let text = "Can we meet next Tuesday at 3 to go over the launch plan?";
    let mut engine = ScriptedEngine::new(4096)
        .reply(" Sure, see you tomorrow at 3!")
        .reply(" Sounds good, next Tuesday at 3 works for me!");
    let got = run(&mut engine, &Target::Workflow(Workflow::Reply), text).expect("runs");
    assert!(got.ok());
    assert_eq!(got.text, "Sounds good, next Tuesday at 3 works for me!");
    assert!(prompt(&engine, 0).ends_with(&format!("Message: {text}\nFriendly reply:")));
    assert!(engine.requests[1].sampling.temperature > 0.0);

    let mut engine = ScriptedEngine::new(4096)
        .reply(" See you on the 14th!")
        .reply(" As an AI, I cannot meet.")
        .reply("");
    let got = run(&mut engine, &Target::Workflow(Workflow::Reply), text).expect("runs");
    assert_eq!(got.problems, ["the model returned nothing"]);
    let first = reply::check(text, "See you on the 14th!").expect("refused");
    assert!(first.contains("14"), "{first}");
}

fn custom(name: &str) -> CustomCommand {
    CustomCommand::new(name, "Translate into French: {text}")
}

#[test]
fn a_custom_command_renders_its_instruction_and_is_checked_like_a_rewrite() {
    let mut engine = ScriptedEngine::new(4096)
        .reply("I'm sorry, I can help with that.")
        .reply("Bonjour tout le monde");
    let target = Target::Custom(custom("to-french"));
    let got = run(&mut engine, &target, "Hello everyone").expect("runs");
    assert_eq!(
        (got.text.as_str(), got.ok()),
        ("Bonjour tout le monde", true)
    );
    assert!(prompt(&engine, 0).contains("Translate into French: Hello everyone"));
    // Each request names the command's adapter (the base model answers
    // when none is installed for it).
    assert!(engine
        .requests
        .iter()
        .all(|r| r.adapter.as_deref() == Some("to-french")));

    let mut with_schema = custom("people");
    with_schema.instruction = "The people in: {text}".into();
    with_schema.schema =
        Some("{\"type\": \"object\", \"properties\": {\"name\": {\"type\": \"string\"}}}".into());
    let mut engine = ScriptedEngine::new(4096)
        .reply("{\"name\": \"Ada\"}")
        .reply("{\"name\": \"Ada\"}")
        .reply("{\"name\": \"Ada\"}");
    let got = run(&mut engine, &Target::Custom(with_schema), "Grace wrote it.").expect("runs");
    assert!(!got.ok(), "an invented name is flagged");
    assert!(got.problems[0].contains("Ada"), "{:?}", got.problems);
    assert!(engine.requests[0].constraint.is_some());
}

struct Two {
    small: ScriptedEngine,
    large: ScriptedEngine,
}

impl Backend for Two {
    fn engine(&mut self, id: &str) -> Result<(&mut dyn Engine, Option<String>)> {
        match id {
            "small" => Ok((&mut self.small, None)),
            "large" => Ok((&mut self.large, None)),
            _ => Err(Error::NotFound(id.into())),
        }
    }
}

#[test]
fn a_flagged_result_goes_to_the_larger_model_and_a_commands_own_model_is_kept() {
    let mut small = ScriptedEngine::new(4096);
    for _ in 0..3 {
        small.push_reply("As an AI, I cannot translate.");
    }
    let large = ScriptedEngine::new(4096).reply("Bonjour");
    let mut models = Two { small, large };
    let target = Target::Custom(custom("to-french"));
    let mut numbers = Vec::new();
    let got = run_routed(
        &mut models,
        &["small".into(), "large".into()],
        &target,
        "Hello",
        &options(),
        &CancelToken::new(),
        &mut |n, _| numbers.push(n),
    )
    .expect("runs");
    assert_eq!(
        (got.model.as_str(), got.escalated, got.text.as_str()),
        ("large", true, "Bonjour")
    );
    assert_eq!(
        numbers.last(),
        Some(&4),
        "the larger model's attempt is numbered after the small one's"
    );

    let c = |id: &str, parameters| Candidate {
        id: id.into(),
        parameters,
        fits: true,
    };
    let candidates = [c("large", 270_000_000), c("small", 135_000_000)];
    assert_eq!(target.order(&candidates, None), ["small", "large"]);
    let mut own = custom("own");
    own.model = Some("large".into());
    assert_eq!(Target::Custom(own).order(&candidates, None), ["large"]);
    assert_eq!(next_larger("small", &candidates).as_deref(), Some("large"));
    assert_eq!(next_larger("large", &candidates), None);

    let e = Target::find("nope", &[custom("to-french")]).expect_err("unknown");
    assert_eq!(e.code(), ErrorCode::NotFound);
    assert!(
        e.to_string()
            .contains("action-items, event, reply, to-french"),
        "{e}"
    );
}

#[test]
fn results_are_saved_as_a_conversation_or_a_new_file() {
    let dir = tempfile::tempdir().expect("tmp");
    let (mut history, _) = History::open(&dir.path().join("h.db")).expect("opens");
    let mut result = CommandResult::new("reply", "Sounds good!".into());
    result.model = "scripted".into();
    let id = save_conversation(&mut history, &result, "Draft a friendly reply to: lunch?")
        .expect("saved");
    let messages = history.messages(id).expect("messages");
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[1].text, "Sounds good!");

    let first = write_to_folder(dir.path(), &result).expect("written");
    let second = write_to_folder(dir.path(), &result).expect("written");
    assert_ne!(first, second, "never over an earlier result");
    assert_eq!(
        std::fs::read_to_string(&first).expect("reads"),
        "Sounds good!"
    );
    assert!(first.extension().is_some_and(|e| e == "md"));
    let e = write_to_folder(&dir.path().join("gone"), &result).expect_err("missing");
    assert_eq!(e.code(), ErrorCode::InvalidInput);
}

#[test]
fn an_owner_is_a_name_not_a_phrase_of_the_sentence() {
    let mut engine = ScriptedEngine::new(4096).reply(
        " {\"task\": \"Get together\", \"owner\": \"Let's get together\", \"due\": \"none\"}",
    );
    let got = run(
        &mut engine,
        &Target::Workflow(Workflow::ActionItems),
        "Let's get together next week in the Blue Room.",
    )
    .expect("runs");
    assert_eq!(got.text, "- [ ] Get together\n");
    assert!(
        got.notes[0].contains("was left out as who does"),
        "{:?}",
        got.notes
    );
}
