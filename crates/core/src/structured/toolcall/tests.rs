//! Rendering each format's template with tools, and parsing what models of
//! each family answer (outputs recorded in their documented formats).

use super::*;
use crate::ErrorCode;

const QWEN: &str = include_str!("../../../tests/fixtures/templates/qwen2.5-instruct.jinja");
const LLAMA3: &str =
    include_str!("../../../tests/fixtures/templates/llama3.1-instruct-tools.jinja");
const SMOLLM2: &str = include_str!("../../../tests/fixtures/templates/smollm2-instruct.jinja");

fn template(source: &str, bos: &str, eos: &str) -> ChatTemplate {
    ChatTemplate {
        source: source.to_string(),
        bos_token: bos.to_string(),
        eos_token: eos.to_string(),
    }
}

fn qwen() -> ChatTemplate {
    template(QWEN, "", "<|im_end|>")
}

fn llama3() -> ChatTemplate {
    template(LLAMA3, "<|begin_of_text|>", "<|eot_id|>")
}

fn weather() -> Tool {
    Tool {
        name: "get_weather".into(),
        description: "Current weather in a city.".into(),
        parameters: json!({
            "type": "object",
            "properties": {"city": {"type": "string"}, "unit": {"enum": ["c", "f"]}},
            "required": ["city"],
        }),
    }
}

fn time() -> Tool {
    Tool {
        name: "get_time".into(),
        description: "Current time in a time zone.".into(),
        parameters: json!({"type": "object", "properties": {"zone": {"type": "string"}}, "required": ["zone"]}),
    }
}

fn ask(text: &str) -> Vec<Turn> {
    vec![Turn::Message(ChatMessage::user(text))]
}

#[test]
fn the_format_comes_from_the_template() {
    assert_eq!(format_of(Some(&qwen())), ToolFormat::Hermes);
    assert_eq!(format_of(Some(&llama3())), ToolFormat::Llama3);
    assert_eq!(
        format_of(Some(&template(SMOLLM2, "", ""))),
        ToolFormat::Generic
    );
    assert_eq!(format_of(None), ToolFormat::Generic);
}

#[test]
fn hermes_templates_get_the_tools_and_a_lazy_grammar_for_auto() {
    let p = prompt(
        &ask("Weather in Paris?"),
        &[weather(), time()],
        &ToolChoice::Auto,
        Some(&qwen()),
    )
    .expect("as written");
    let Prompt::Raw(text) = &p.prompt else {
        panic!("expected a rendered prompt")
    };
    // As Python's `json.dumps` writes it (keys in order), which the model
    // saw in training.
    assert!(text.contains("<tools>\n{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"description\": \"Current weather in a city.\""), "{text}");
    assert!(text.contains("\"name\": \"get_time\""), "{text}");
    assert!(
        text.ends_with("<|im_start|>user\nWeather in Paris?<|im_end|>\n<|im_start|>assistant\n"),
        "{text}"
    );
    let c = p.constraint.expect("as written");
    assert_eq!(c.triggers, vec!["<tool_call>".to_string()]);
    assert_eq!(
        (c.before.as_str(), c.after.as_str()),
        ("<tool_call>", "</tool_call>")
    );
    assert_eq!(
        c.schema["anyOf"][0]["properties"]["name"]["const"],
        "get_weather"
    );
    assert_eq!(
        c.schema["anyOf"][1]["properties"]["arguments"],
        time().parameters
    );
}

#[test]
fn a_required_or_named_call_is_constrained_from_the_first_token() {
    let p = prompt(
        &ask("x"),
        &[weather(), time()],
        &ToolChoice::Required,
        Some(&qwen()),
    )
    .expect("as written");
    assert!(!p.constraint.expect("as written").is_lazy());
    let p = prompt(
        &ask("x"),
        &[weather(), time()],
        &ToolChoice::Function("get_time".into()),
        Some(&qwen()),
    )
    .expect("as written");
    let c = p.constraint.expect("as written");
    assert!(!c.is_lazy());
    assert_eq!(c.schema["properties"]["name"]["const"], "get_time");
}

#[test]
fn earlier_calls_and_their_results_render_in_the_models_own_way() {
    let turns = vec![
        Turn::Message(ChatMessage::user("Weather in Paris?")),
        Turn::Calls {
            content: String::new(),
            calls: vec![ToolCall {
                id: "call_0".into(),
                name: "get_weather".into(),
                arguments: json!({"city": "Paris"}),
            }],
        },
        Turn::Result {
            call_id: "call_0".into(),
            name: "get_weather".into(),
            content: "{\"temp\": 18}".into(),
        },
    ];
    let p = prompt(&turns, &[weather()], &ToolChoice::Auto, Some(&qwen())).expect("as written");
    let Prompt::Raw(text) = p.prompt else {
        panic!()
    };
    assert!(text.contains("<|im_start|>assistant\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call><|im_end|>"), "{text}");
    assert!(
        text.contains(
            "<|im_start|>user\n<tool_response>\n{\"temp\": 18}\n</tool_response><|im_end|>"
        ),
        "{text}"
    );

    let p = prompt(&turns, &[weather()], &ToolChoice::Auto, Some(&llama3())).expect("as written");
    let Prompt::Raw(text) = p.prompt else {
        panic!()
    };
    assert!(
        text.starts_with(
            "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nEnvironment: ipython"
        ),
        "{text}"
    );
    assert!(text.contains("\"name\": \"get_weather\""), "{text}");
    assert!(
        text.contains("<|start_header_id|>ipython<|end_header_id|>\n\n{\"temp\": 18}<|eot_id|>"),
        "{text}"
    );
    assert!(
        text.ends_with("<|start_header_id|>assistant<|end_header_id|>\n\n"),
        "{text}"
    );
    let c = p.constraint.expect("as written");
    // The lazy grammar reads from its trigger on: the trigger must be the
    // start of what the grammar matches.
    assert_eq!(c.triggers, vec!["{\"name\"".to_string()]);
    assert_eq!(c.schema["properties"]["parameters"], weather().parameters);
}

#[test]
fn models_without_a_tool_format_get_instructions_and_a_whole_grammar() {
    let p = prompt(
        &[
            Turn::Message(ChatMessage::system("Be brief.")),
            Turn::Message(ChatMessage::user("Weather in Paris?")),
        ],
        &[weather()],
        &ToolChoice::Auto,
        Some(&template(SMOLLM2, "", "")),
    )
    .expect("as written");
    assert_eq!(p.format, ToolFormat::Generic);
    let Prompt::Chat(messages) = &p.prompt else {
        panic!()
    };
    assert_eq!(messages.len(), 2);
    assert!(
        messages[0].content.starts_with(
            "Be brief.\n\nYou can call these tools:\n- get_weather: Current weather in a city."
        ),
        "{}",
        messages[0].content
    );
    let c = p.constraint.expect("as written");
    assert!(!c.is_lazy());
    assert_eq!(c.schema["anyOf"][1]["required"], json!(["response"]));
    // `none` shows no tools and constrains nothing.
    let p = prompt(&ask("hi"), &[weather()], &ToolChoice::None, Some(&qwen())).expect("as written");
    assert_eq!(p.constraint, None);
    assert_eq!(p.prompt, Prompt::Chat(vec![ChatMessage::user("hi")]));
}

#[test]
fn recorded_hermes_answers_parse_with_their_text() {
    // Qwen2.5-7B-Instruct, two parallel calls after a sentence.
    let out = "Let me check both.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"unit\": \"c\"}}\n</tool_call>\n<tool_call>\n{\"name\": \"get_time\", \"arguments\": {\"zone\": \"Europe/Paris\"}}\n</tool_call>";
    let a = parse(ToolFormat::Hermes, out, &[weather(), time()]).expect("as written");
    assert_eq!(a.content, "Let me check both.");
    assert_eq!(a.calls.len(), 2);
    assert_eq!(a.calls[0].name, "get_weather");
    assert_eq!(a.calls[0].arguments, json!({"city": "Paris", "unit": "c"}));
    assert_eq!(
        (a.calls[1].id.as_str(), a.calls[1].name.as_str()),
        ("call_1", "get_time")
    );
    // A plain answer has no calls.
    let a = parse(ToolFormat::Hermes, "It is sunny.", &[weather()]).expect("as written");
    assert_eq!((a.content.as_str(), a.calls.len()), ("It is sunny.", 0));
}

#[test]
fn recorded_llama3_answers_parse() {
    // Llama-3.1-8B-Instruct: bare JSON, and after <|python_tag|>.
    for out in [
        "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\"}}",
        "<|python_tag|>{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\"}}",
    ] {
        let a = parse(ToolFormat::Llama3, out, &[weather()]).expect("as written");
        assert_eq!(a.calls.len(), 1, "{out}");
        assert_eq!(a.calls[0].arguments, json!({"city": "Paris"}));
        assert_eq!(a.content, "");
    }
    let a = parse(ToolFormat::Llama3, "Paris is sunny today.", &[weather()]).expect("as written");
    assert!(a.calls.is_empty());
}

#[test]
fn recorded_generic_answers_parse() {
    // SmolLM2-135M-Instruct under the generic grammar.
    let out =
        "{\"tool_calls\": [{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}]}";
    let a = parse(ToolFormat::Generic, out, &[weather()]).expect("as written");
    assert_eq!(a.calls[0].arguments, json!({"city": "Paris"}));
    let a = parse(
        ToolFormat::Generic,
        "{\"response\": \"Hello!\"}",
        &[weather()],
    )
    .expect("as written");
    assert_eq!((a.content.as_str(), a.calls.len()), ("Hello!", 0));
}

#[test]
fn unknown_tools_and_wrong_arguments_are_reported_not_run() {
    let e = parse(
        ToolFormat::Hermes,
        "<tool_call>{\"name\": \"delete_files\", \"arguments\": {}}</tool_call>",
        &[weather()],
    )
    .expect_err("refused");
    assert_eq!(e.code(), ErrorCode::ResultRejected);
    assert!(
        e.to_string()
            .contains("\"delete_files\", which is not one of the tools offered (get_weather)"),
        "{e}"
    );
    let e = parse(
        ToolFormat::Generic,
        "{\"tool_calls\": [{\"name\": \"get_weather\", \"arguments\": {\"unit\": \"k\"}}]}",
        &[weather()],
    )
    .expect_err("refused")
    .to_string();
    assert!(e.contains("do not match its schema"), "{e}");
    assert!(e.contains("/unit"), "{e}");
    assert!(e.contains("\"city\" is a required property"), "{e}");
    let e = parse(
        ToolFormat::Hermes,
        "<tool_call>{\"name\": \"get_weather\", \"argu",
        &[weather()],
    )
    .expect_err("refused");
    assert!(e.to_string().contains("not valid JSON"), "{e}");
}

#[test]
fn bad_tools_and_choices_are_invalid_input_naming_the_part() {
    let mut bad = time();
    bad.parameters = json!({"type": "object", "properties": {"n": {"not": {}}}});
    let e = prompt(&ask("x"), &[weather(), bad], &ToolChoice::Auto, None).expect_err("refused");
    assert_eq!(e.code(), ErrorCode::InvalidInput);
    assert!(
        e.to_string().contains("tools[1].function.parameters"),
        "{e}"
    );
    assert!(e.to_string().contains("/properties/n/not"), "{e}");
    let mut bad = weather();
    bad.name = "get weather!".into();
    let e = prompt(&ask("x"), &[bad], &ToolChoice::Auto, None).expect_err("refused");
    assert!(e.to_string().contains("tools[0].function.name"), "{e}");
    let e = prompt(
        &ask("x"),
        &[weather()],
        &ToolChoice::Function("nope".into()),
        None,
    )
    .expect_err("refused");
    assert!(
        e.to_string()
            .contains("\"nope\", which is not among the tools (get_weather)"),
        "{e}"
    );
    let e = prompt(&ask("x"), &[], &ToolChoice::Required, None).expect_err("refused");
    assert_eq!(e.code(), ErrorCode::InvalidInput);
}
