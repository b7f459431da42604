//! Tool calls in the model's own format.
//!
//! A model trained for tools expects them in its chat template and
//! answers in its own syntax. The GGUF's Jinja template
//! (`tokenizer.chat_template`) is rendered with the tools through
//! `minijinja`, and the answer parsed in the format the template shows:
//!
//! | format | seen in the template | a call looks like |
//! |---|---|---|
//! | [`ToolFormat::Hermes`] | `<tool_call>` (Qwen 2.5/3, Hermes, SmolLM3) | `<tool_call>{"name": .., "arguments": {..}}</tool_call>` |
//! | [`ToolFormat::Llama3`] | `<\|python_tag\|>` or Llama 3 headers with tools | `{"name": .., "parameters": {..}}` |
//! | [`ToolFormat::Generic`] | anything else (SmolLM2, base models) | `{"tool_calls": [{"name": .., "arguments": {..}}]}` |
//!
//! The calls are constrained by a grammar built from the tools' own
//! schemas: lazily (free text until the call's opening tag) where the
//! format has a tag, from the first token where it has none. Whatever
//! comes out is still parsed and checked: a call to a tool that was not
//! offered, or arguments its schema refuses, is reported, never run or
//! guessed (Pith never runs a tool itself; the API's client does).

use crate::engine::{ChatMessage, ChatTemplate, Constraint, Prompt, Role};
use crate::error::{Error, Result};
use crate::structured::schema;
use serde::Serialize;
use serde_json::{json, Value};

/// A function the caller offers the model (OpenAI's `tools[].function`).
#[derive(Debug, Clone, PartialEq)]
pub struct Tool {
    pub name: String,
    pub description: String,
    /// JSON Schema of the arguments.
    pub parameters: Value,
}

impl Tool {
    /// Checks the name and the parameters' schema (`at` names the tool in
    /// the error: `tools[2]`).
    pub fn check(&self, at: &str) -> Result<()> {
        let name_ok = !self.name.is_empty()
            && self.name.len() <= 64
            && self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !name_ok {
            return Err(Error::InvalidInput(format!(
                "{at}.function.name {:?} must be 1-64 letters, digits, '_' or '-'",
                self.name
            )));
        }
        schema::check(&self.parameters).map_err(|e| {
            Error::InvalidInput(
                format!("{at}.function.parameters: {e}").replace("invalid input: ", ""),
            )
        })
    }
}

/// Whether and which tool the model must call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolChoice {
    /// The model answers in text or calls tools.
    Auto,
    /// No call: the tools are not shown.
    None,
    /// At least one call.
    Required,
    /// A call to this tool.
    Function(String),
}

/// A call the model made.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToolCall {
    pub id: String,
    pub name: String,
    pub arguments: Value,
}

/// One turn of a conversation with tools.
#[derive(Debug, Clone, PartialEq)]
pub enum Turn {
    Message(ChatMessage),
    /// The assistant's calls (with any text it wrote).
    Calls {
        content: String,
        calls: Vec<ToolCall>,
    },
    /// What the caller's tool returned.
    Result {
        call_id: String,
        name: String,
        content: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolFormat {
    Hermes,
    Llama3,
    Generic,
}

/// The format a chat template shows its model was trained on.
pub fn format_of(template: Option<&ChatTemplate>) -> ToolFormat {
    let Some(t) = template else {
        return ToolFormat::Generic;
    };
    let source = t.source.as_str();
    if source.contains("<tool_call>") {
        ToolFormat::Hermes
    } else if source.contains("<|python_tag|>")
        || (source.contains("<|start_header_id|>") && source.contains("tools"))
    {
        ToolFormat::Llama3
    } else {
        ToolFormat::Generic
    }
}

/// A prompt with tools: what to send the engine and how to read the answer.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolPrompt {
    pub prompt: Prompt,
    pub constraint: Option<Constraint>,
    pub format: ToolFormat,
}

/// Builds the prompt for `turns` with `tools` offered.
pub fn prompt(
    turns: &[Turn],
    tools: &[Tool],
    choice: &ToolChoice,
    template: Option<&ChatTemplate>,
) -> Result<ToolPrompt> {
    for (i, t) in tools.iter().enumerate() {
        t.check(&format!("tools[{i}]"))?;
    }
    let offered: Vec<&Tool> = match choice {
        ToolChoice::None => Vec::new(),
        ToolChoice::Function(name) => {
            let tool = tools.iter().find(|t| &t.name == name).ok_or_else(|| {
                Error::InvalidInput(format!(
                    "tool_choice names {name:?}, which is not among the tools ({})",
                    names(tools)
                ))
            })?;
            vec![tool]
        }
        ToolChoice::Auto | ToolChoice::Required => tools.iter().collect(),
    };
    if offered.is_empty() && matches!(choice, ToolChoice::Required) {
        return Err(Error::InvalidInput(
            "tool_choice is \"required\" but no tools were given".into(),
        ));
    }
    let format = format_of(template);
    let must_call = !matches!(choice, ToolChoice::Auto);
    match (format, template) {
        (ToolFormat::Hermes | ToolFormat::Llama3, Some(t)) if !offered.is_empty() => {
            let text = render(t, turns, &offered)?;
            let constraint = match format {
                ToolFormat::Hermes => {
                    let c = Constraint::json(calls_schema(&offered, "arguments"))
                        .wrapped("<tool_call>", "</tool_call>");
                    if must_call {
                        c
                    } else {
                        c.lazy()
                    }
                }
                _ => {
                    let mut c = Constraint::json(calls_schema(&offered, "parameters"));
                    if !must_call {
                        // The grammar reads from the trigger on, so the
                        // trigger is the call's own start; a
                        // `<|python_tag|>` before it stays free text.
                        c.triggers = vec!["{\"name\"".into()];
                    }
                    c
                }
            };
            Ok(ToolPrompt {
                prompt: Prompt::Raw(text),
                constraint: Some(constraint),
                format,
            })
        }
        _ if offered.is_empty() => Ok(ToolPrompt {
            prompt: Prompt::Chat(plain_turns(turns)),
            constraint: None,
            format: ToolFormat::Generic,
        }),
        _ => {
            let mut messages = plain_turns(turns);
            let guide = generic_guide(&offered, must_call);
            match messages.first_mut() {
                Some(m) if m.role == Role::System => {
                    m.content = format!("{}\n\n{guide}", m.content.trim_end());
                }
                _ => messages.insert(0, ChatMessage::system(guide)),
            }
            let calls = json!({
                "type": "object",
                "properties": {"tool_calls": {
                    "type": "array", "items": calls_schema(&offered, "arguments"), "minItems": 1,
                }},
                "required": ["tool_calls"],
            });
            let schema = if must_call {
                calls
            } else {
                json!({"anyOf": [calls, {
                    "type": "object",
                    "properties": {"response": {"type": "string"}},
                    "required": ["response"],
                }]})
            };
            Ok(ToolPrompt {
                prompt: Prompt::Chat(messages),
                constraint: Some(Constraint::json(schema)),
                format: ToolFormat::Generic,
            })
        }
    }
}

fn names(tools: &[Tool]) -> String {
    tools
        .iter()
        .map(|t| t.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// One call to any of `tools`: `{"name": <the tool>, <args_key>: <its schema>}`.
fn calls_schema(tools: &[&Tool], args_key: &str) -> Value {
    let branches: Vec<Value> = tools
        .iter()
        .map(|t| {
            json!({
                "type": "object",
                "properties": {"name": {"const": t.name}, args_key: t.parameters},
                "required": ["name", args_key],
            })
        })
        .collect();
    match branches.len() {
        1 => branches.into_iter().next().unwrap_or_default(),
        _ => json!({ "anyOf": branches }),
    }
}

/// The instructions for models without a tool format of their own.
fn generic_guide(tools: &[&Tool], must_call: bool) -> String {
    let list: Vec<String> = tools
        .iter()
        .map(|t| {
            format!(
                "- {}: {} Arguments (JSON Schema): {}",
                t.name,
                t.description.trim(),
                t.parameters
            )
        })
        .collect();
    let answer = if must_call {
        "Answer with JSON only: {\"tool_calls\": [{\"name\": \"<tool>\", \"arguments\": {...}}]}."
    } else {
        "Answer with JSON only: {\"tool_calls\": [{\"name\": \"<tool>\", \"arguments\": {...}}]} \
         to call tools, or {\"response\": \"<your answer>\"} to answer directly."
    };
    format!("You can call these tools:\n{}\n{answer}", list.join("\n"))
}

/// The turns as plain messages: calls as the JSON the generic format
/// writes, results as user messages that name the tool.
pub fn plain_turns(turns: &[Turn]) -> Vec<ChatMessage> {
    turns
        .iter()
        .map(|t| match t {
            Turn::Message(m) => m.clone(),
            Turn::Calls { calls, .. } => {
                let calls: Vec<Value> = calls
                    .iter()
                    .map(|c| json!({"name": c.name, "arguments": c.arguments}))
                    .collect();
                ChatMessage::assistant(json!({ "tool_calls": calls }).to_string())
            }
            Turn::Result { name, content, .. } => {
                ChatMessage::user(format!("Result of the tool {name}: {content}"))
            }
        })
        .collect()
}

/// Renders the model's own template with the tools, as its trainers did
/// (OpenAI-shaped messages and tools; `arguments` as objects).
fn render(template: &ChatTemplate, turns: &[Turn], tools: &[&Tool]) -> Result<String> {
    let env = crate::engine::template::environment(template)?;
    let messages: Vec<Value> = turns
        .iter()
        .map(|t| match t {
            Turn::Message(m) => json!({"role": m.role.as_str(), "content": m.content}),
            Turn::Calls { content, calls } => json!({
                "role": "assistant",
                "content": content,
                "tool_calls": calls.iter().map(|c| json!({
                    "id": c.id, "type": "function",
                    "function": {"name": c.name, "arguments": c.arguments},
                })).collect::<Vec<_>>(),
            }),
            Turn::Result {
                call_id,
                name,
                content,
            } => json!({"role": "tool", "tool_call_id": call_id, "name": name, "content": content}),
        })
        .collect();
    let tools: Vec<Value> = tools
        .iter()
        .map(|t| {
            json!({"type": "function", "function": {
                "name": t.name, "description": t.description, "parameters": t.parameters,
            }})
        })
        .collect();
    let chat = env
        .get_template("chat")
        .map_err(|e| Error::Inference(e.to_string()))?;
    chat.render(minijinja::context! {
        messages => minijinja::Value::from(minijinja::value::Serde(&messages)),
        tools => minijinja::Value::from(minijinja::value::Serde(&tools)),
        add_generation_prompt => true,
        bos_token => template.bos_token.as_str(),
        eos_token => template.eos_token.as_str(),
    })
    .map_err(|e| Error::Inference(format!("the model's chat template failed with tools: {e}")))
}

/// What the model answered: its text and its calls.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Answer {
    pub content: String,
    pub calls: Vec<ToolCall>,
}

/// Reads `output` in `format`, and checks each call against `tools`.
pub fn parse(format: ToolFormat, output: &str, tools: &[Tool]) -> Result<Answer> {
    let raw = match format {
        ToolFormat::Hermes => parse_hermes(output)?,
        ToolFormat::Llama3 => parse_llama3(output)?,
        ToolFormat::Generic => parse_generic(output)?,
    };
    let (content, calls) = raw;
    let calls = calls
        .into_iter()
        .enumerate()
        .map(|(i, (name, arguments))| {
            check_call(&name, &arguments, tools)?;
            Ok(ToolCall {
                id: format!("call_{i}"),
                name,
                arguments,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Answer { content, calls })
}

type Raw = (String, Vec<(String, Value)>);

fn rejected(reason: String) -> Error {
    Error::ResultRejected {
        reason,
        suggestion: "Nothing was run; ask again or offer the tool differently.".into(),
    }
}

fn check_call(name: &str, arguments: &Value, tools: &[Tool]) -> Result<()> {
    let tool = tools.iter().find(|t| t.name == name).ok_or_else(|| {
        rejected(format!(
            "the model called {name:?}, which is not one of the tools offered ({})",
            names(tools)
        ))
    })?;
    let errors = schema::validate(&tool.parameters, arguments)?;
    if !errors.is_empty() {
        return Err(rejected(format!(
            "the arguments of the call to {name} do not match its schema: {}",
            errors.join("; ")
        )));
    }
    Ok(())
}

/// A call object: `name` and its arguments under `args_keys`' first key
/// present (a JSON string holding an object is read too).
fn call_of(value: &Value, args_keys: &[&str]) -> Result<(String, Value)> {
    let name = value
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| rejected(format!("a tool call without a name: {value}")))?;
    let args = args_keys
        .iter()
        .find_map(|k| value.get(*k))
        .cloned()
        .unwrap_or_else(|| json!({}));
    let args = match args {
        Value::String(s) => serde_json::from_str(&s)
            .map_err(|e| rejected(format!("the arguments of {name} are not JSON: {e}")))?,
        other => other,
    };
    Ok((name.to_string(), args))
}

fn json_value(text: &str) -> Result<Value> {
    serde_json::from_str(text.trim()).map_err(|e| {
        rejected(format!(
            "a tool call is not valid JSON ({e}): {}",
            text.trim()
        ))
    })
}

fn parse_hermes(output: &str) -> Result<Raw> {
    let mut content = String::new();
    let mut calls = Vec::new();
    let mut rest = output;
    while let Some(start) = rest.find("<tool_call>") {
        content.push_str(&rest[..start]);
        let body = &rest[start + "<tool_call>".len()..];
        let (inner, after) = match body.find("</tool_call>") {
            Some(end) => (&body[..end], &body[end + "</tool_call>".len()..]),
            None => (body, ""),
        };
        calls.push(call_of(&json_value(inner)?, &["arguments", "parameters"])?);
        rest = after;
    }
    content.push_str(rest);
    Ok((content.trim().to_string(), calls))
}

fn parse_llama3(output: &str) -> Result<Raw> {
    let text = output.trim();
    let text = text.strip_prefix("<|python_tag|>").unwrap_or(text).trim();
    if !text.starts_with('{') {
        return Ok((output.trim().to_string(), Vec::new()));
    }
    // One call, or several one after another.
    let mut calls = Vec::new();
    let stream = serde_json::Deserializer::from_str(text).into_iter::<Value>();
    let mut consumed = 0;
    for value in stream {
        let value = value.map_err(|e| rejected(format!("a tool call is not valid JSON ({e})")))?;
        calls.push(call_of(&value, &["parameters", "arguments"])?);
        consumed += 1;
    }
    if consumed == 0 {
        return Err(rejected("an empty tool call".into()));
    }
    Ok((String::new(), calls))
}

fn parse_generic(output: &str) -> Result<Raw> {
    let value = json_value(output)?;
    if let Some(text) = value.get("response").and_then(Value::as_str) {
        return Ok((text.to_string(), Vec::new()));
    }
    let calls = value
        .get("tool_calls")
        .and_then(Value::as_array)
        .ok_or_else(|| rejected(format!("neither tool calls nor a response: {value}")))?;
    let calls = calls
        .iter()
        .map(|c| call_of(c, &["arguments", "parameters"]))
        .collect::<Result<Vec<_>>>()?;
    Ok((String::new(), calls))
}

#[cfg(test)]
mod tests;
