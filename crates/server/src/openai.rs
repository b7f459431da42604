//! The OpenAI chat-completions wire format: what requests may hold, and
//! the JSON Pith answers with. Pure conversions, no I/O.

use pith_core::engine::{
    ChatMessage, Constraint, GenerateRequest, Generation, Prompt, Role, Sampling, StopReason,
};
use pith_core::structured::toolcall::{self, Answer, Tool, ToolCall, ToolChoice, Turn};
use serde::Deserialize;
use serde_json::{json, Value};

/// An error as OpenAI clients expect it: a status and
/// `{"error": {"message", "type", "code"}}`.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: u16,
    pub kind: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self {
            status: 400,
            kind: "invalid_request_error",
            message: message.into(),
        }
    }
    pub fn unauthorized() -> Self {
        Self {
            status: 401,
            kind: "authentication_error",
            message: "missing or wrong token: send `Authorization: Bearer <token>` with the token \
                      `pith serve` printed"
                .into(),
        }
    }
    pub fn from_core(e: &pith_core::Error) -> Self {
        use pith_core::ErrorCode::*;
        let (status, kind) = match e.code() {
            ContextTooLong | EmptyInput | InvalidInput => (400, "invalid_request_error"),
            NotFound | ModelNotFound => (404, "not_found_error"),
            ResultRejected => (422, "result_rejected"),
            IncompleteOutput => (422, "incomplete_output"),
            Cancelled => (499, "cancelled"),
            _ => (500, "server_error"),
        };
        Self {
            status,
            kind,
            message: e.to_string(),
        }
    }
    pub fn body(&self) -> Value {
        json!({ "error": { "message": self.message, "type": self.kind, "code": self.status } })
    }
}

#[derive(Debug, Deserialize)]
pub struct ChatRequest {
    #[serde(default)]
    pub model: Option<String>,
    pub messages: Vec<InMessage>,
    #[serde(default)]
    pub stream: bool,
    #[serde(default)]
    pub max_tokens: Option<usize>,
    #[serde(default)]
    pub max_completion_tokens: Option<usize>,
    #[serde(default)]
    pub temperature: Option<f32>,
    #[serde(default)]
    pub top_p: Option<f32>,
    #[serde(default)]
    pub seed: Option<u32>,
    #[serde(default)]
    pub stop: Option<Stop>,
    #[serde(default)]
    pub response_format: Option<ResponseFormat>,
    #[serde(default)]
    pub tools: Option<Vec<InTool>>,
    /// `"auto"`, `"none"`, `"required"` or `{"type": "function", "function": {"name"}}`.
    #[serde(default)]
    pub tool_choice: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ResponseFormat {
    Text,
    JsonObject,
    JsonSchema { json_schema: JsonSchemaFormat },
}

#[derive(Debug, Deserialize)]
pub struct JsonSchemaFormat {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub schema: Option<Value>,
    /// Pith's output always follows the schema exactly (a grammar), so
    /// `strict` changes nothing.
    #[serde(default)]
    pub strict: Option<bool>,
}

#[derive(Debug, Deserialize)]
pub struct InTool {
    #[serde(rename = "type")]
    pub kind: String,
    pub function: InFunction,
}

#[derive(Debug, Deserialize)]
pub struct InFunction {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub parameters: Option<Value>,
}

/// A call in an earlier assistant message.
#[derive(Debug, Deserialize)]
pub struct InToolCall {
    pub id: String,
    pub function: InCallFunction,
}

#[derive(Debug, Deserialize)]
pub struct InCallFunction {
    pub name: String,
    /// A JSON object as a string, as OpenAI clients send it.
    pub arguments: String,
}

/// What the request asks beyond text: tools, or a JSON shape.
#[derive(Debug, Clone, PartialEq)]
pub struct Structured {
    pub tools: Vec<Tool>,
    pub choice: ToolChoice,
    pub schema: Option<Value>,
}

impl Structured {
    /// The model is shown tools.
    pub fn calls_tools(&self) -> bool {
        !self.tools.is_empty() && self.choice != ToolChoice::None
    }
    pub fn is_plain(&self) -> bool {
        !self.calls_tools() && self.schema.is_none()
    }
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Stop {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Deserialize)]
pub struct InMessage {
    pub role: String,
    /// `null` in an assistant message that only calls tools.
    #[serde(default)]
    pub content: Option<Content>,
    #[serde(default)]
    pub tool_calls: Option<Vec<InToolCall>>,
    #[serde(default)]
    pub tool_call_id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Content {
    Text(String),
    /// `[{"type": "text", "text": "..."}]`; other part types are refused.
    Parts(Vec<ContentPart>),
}

#[derive(Debug, Deserialize)]
pub struct ContentPart {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub text: Option<String>,
}

/// A message's text: a string, text parts, or nothing (`null`).
fn text_of(i: usize, m: &InMessage) -> Result<String, ApiError> {
    match &m.content {
        None => Ok(String::new()),
        Some(Content::Text(t)) => Ok(t.clone()),
        Some(Content::Parts(parts)) => {
            let mut text = String::new();
            for p in parts {
                match (p.kind.as_str(), &p.text) {
                    ("text", Some(t)) => text.push_str(t),
                    (kind, _) => {
                        return Err(ApiError::bad_request(format!(
                            "messages[{i}] has a {kind:?} part; Pith's models read text only"
                        )))
                    }
                }
            }
            Ok(text)
        }
    }
}

/// Parses a request body, with the reason when it is not one.
pub fn parse(body: &[u8]) -> Result<ChatRequest, ApiError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("the body is not valid JSON: {e}")))?;
    let request: ChatRequest = serde_json::from_value(value)
        .map_err(|e| ApiError::bad_request(format!("not a chat completion request: {e}")))?;
    if request.messages.is_empty() {
        return Err(ApiError::bad_request("`messages` is empty"));
    }
    Ok(request)
}

impl ChatRequest {
    /// The conversation, tool calls and results included.
    pub fn turns(&self) -> Result<Vec<Turn>, ApiError> {
        self.messages
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let text = text_of(i, m)?;
                let role = match m.role.as_str() {
                    "system" | "developer" => Role::System,
                    "user" => Role::User,
                    "assistant" => Role::Assistant,
                    "tool" => {
                        let call_id = m.tool_call_id.clone().ok_or_else(|| {
                            ApiError::bad_request(format!(
                                "messages[{i}] is a tool result without `tool_call_id`"
                            ))
                        })?;
                        let name = m.name.clone().or_else(|| self.call_name(&call_id)).unwrap_or_default();
                        return Ok(Turn::Result {
                            call_id,
                            name,
                            content: text,
                        });
                    }
                    other => {
                        return Err(ApiError::bad_request(format!(
                            "messages[{i}].role {other:?} is not system, user, assistant or tool"
                        )))
                    }
                };
                match (&m.tool_calls, role) {
                    (Some(calls), Role::Assistant) if !calls.is_empty() => {
                        let calls = calls
                            .iter()
                            .enumerate()
                            .map(|(j, c)| {
                                let arguments = serde_json::from_str(&c.function.arguments).map_err(|e| {
                                    ApiError::bad_request(format!(
                                        "messages[{i}].tool_calls[{j}].function.arguments is not JSON: {e}"
                                    ))
                                })?;
                                Ok(ToolCall {
                                    id: c.id.clone(),
                                    name: c.function.name.clone(),
                                    arguments,
                                })
                            })
                            .collect::<Result<Vec<_>, ApiError>>()?;
                        Ok(Turn::Calls {
                            content: text,
                            calls,
                        })
                    }
                    _ => Ok(Turn::Message(ChatMessage::new(role, text))),
                }
            })
            .collect()
    }

    /// The name of the tool an earlier call with `id` went to.
    fn call_name(&self, id: &str) -> Option<String> {
        self.messages
            .iter()
            .flat_map(|m| m.tool_calls.iter().flatten())
            .find(|c| c.id == id)
            .map(|c| c.function.name.clone())
    }

    /// The conversation as plain messages (tool turns written out).
    pub fn chat_messages(&self) -> Result<Vec<ChatMessage>, ApiError> {
        Ok(toolcall::plain_turns(&self.turns()?))
    }

    /// The tools and JSON shape asked for, each checked: a schema Pith
    /// cannot enforce is refused with the part named.
    pub fn structured(&self) -> Result<Structured, ApiError> {
        let tools = self
            .tools
            .iter()
            .flatten()
            .enumerate()
            .map(|(i, t)| {
                if t.kind != "function" {
                    return Err(ApiError::bad_request(format!(
                        "tools[{i}].type {:?} is not \"function\"",
                        t.kind
                    )));
                }
                let tool = Tool {
                    name: t.function.name.clone(),
                    description: t.function.description.clone().unwrap_or_default(),
                    parameters: t
                        .function
                        .parameters
                        .clone()
                        .unwrap_or_else(|| json!({"type": "object", "properties": {}})),
                };
                tool.check(&format!("tools[{i}]"))
                    .map_err(|e| ApiError::from_core(&e))?;
                Ok(tool)
            })
            .collect::<Result<Vec<_>, ApiError>>()?;
        let choice = match &self.tool_choice {
            None => ToolChoice::Auto,
            Some(Value::String(s)) => match s.as_str() {
                "auto" => ToolChoice::Auto,
                "none" => ToolChoice::None,
                "required" => ToolChoice::Required,
                other => {
                    return Err(ApiError::bad_request(format!(
                        "tool_choice {other:?} is not \"auto\", \"none\", \"required\" or a function"
                    )))
                }
            },
            Some(v) => match v.pointer("/function/name").and_then(Value::as_str) {
                Some(name) => ToolChoice::Function(name.to_string()),
                None => {
                    return Err(ApiError::bad_request(format!(
                        "tool_choice {v} names no function ({{\"type\": \"function\", \"function\": {{\"name\": ...}}}})"
                    )))
                }
            },
        };
        if tools.is_empty() && matches!(choice, ToolChoice::Required | ToolChoice::Function(_)) {
            return Err(ApiError::bad_request(
                "tool_choice asks for a call but no tools were given",
            ));
        }
        if let ToolChoice::Function(name) = &choice {
            if !tools.iter().any(|t| &t.name == name) {
                return Err(ApiError::bad_request(format!(
                    "tool_choice names {name:?}, which is not among the tools"
                )));
            }
        }
        let schema = match &self.response_format {
            None | Some(ResponseFormat::Text) => None,
            Some(ResponseFormat::JsonObject) => Some(json!({"type": "object"})),
            Some(ResponseFormat::JsonSchema { json_schema }) => {
                let schema = json_schema.schema.clone().ok_or_else(|| {
                    ApiError::bad_request("response_format.json_schema.schema is missing")
                })?;
                pith_core::structured::schema::check(&schema).map_err(|e| {
                    ApiError::bad_request(format!("response_format.json_schema.schema: {e}"))
                })?;
                Some(schema)
            }
        };
        let structured = Structured {
            tools,
            choice,
            schema,
        };
        if structured.calls_tools() && structured.schema.is_some() {
            return Err(ApiError::bad_request(
                "send either tools or a JSON response_format, not both",
            ));
        }
        Ok(structured)
    }

    /// The prompt and its constraint for `structured`, in the model's own
    /// tool format where it has one; the format to read the answer in
    /// when tools are offered.
    pub fn prompt(
        &self,
        structured: &Structured,
        template: Option<&pith_core::engine::ChatTemplate>,
    ) -> Result<(Prompt, Option<Constraint>, Option<toolcall::ToolFormat>), ApiError> {
        if structured.calls_tools() {
            let p = toolcall::prompt(
                &self.turns()?,
                &structured.tools,
                &structured.choice,
                template,
            )
            .map_err(|e| ApiError::from_core(&e))?;
            return Ok((p.prompt, p.constraint, Some(p.format)));
        }
        Ok((
            Prompt::Chat(self.chat_messages()?),
            structured.schema.clone().map(Constraint::json),
            None,
        ))
    }

    /// The engine request; `max_tokens` defaults to what is left of the
    /// window after the prompt, up to 1024.
    pub fn to_generate(
        &self,
        prompt: Prompt,
        prompt_tokens: usize,
        context: usize,
    ) -> Result<GenerateRequest, ApiError> {
        let room = context.saturating_sub(prompt_tokens);
        if room == 0 {
            return Err(ApiError::bad_request(format!(
                "the messages take {prompt_tokens} tokens; the model's window holds {context}"
            )));
        }
        let max_tokens = self
            .max_completion_tokens
            .or(self.max_tokens)
            .unwrap_or_else(|| room.min(1024));
        if max_tokens == 0 || max_tokens > room {
            return Err(ApiError::bad_request(format!(
                "max_tokens must be between 1 and {room} (the window holds {context} tokens, the \
                 messages take {prompt_tokens})"
            )));
        }
        let mut sampling = match self.temperature {
            Some(t) if t <= 0.0 => Sampling::greedy(),
            Some(t) => Sampling {
                temperature: t.min(2.0),
                ..Sampling::default()
            },
            None => Sampling::default(),
        };
        if let Some(p) = self.top_p {
            sampling.top_p = p.clamp(0.0, 1.0);
        }
        if let Some(seed) = self.seed {
            sampling.seed = seed;
        }
        let stop = match &self.stop {
            None => Vec::new(),
            Some(Stop::One(s)) => vec![s.clone()],
            Some(Stop::Many(v)) => v.clone(),
        };
        Ok(GenerateRequest::new(prompt, max_tokens)
            .with_sampling(sampling)
            .with_stop(stop))
    }
}

pub fn finish_reason(reason: StopReason) -> &'static str {
    match reason {
        StopReason::MaxTokens => "length",
        _ => "stop",
    }
}

/// Says which model answered and why, in every response.
pub fn pith_note(model: &str, remote: bool, reason: &str) -> Value {
    json!({ "model": model, "remote": remote, "route": reason })
}

/// The calls as OpenAI's `tool_calls`, arguments as JSON strings; ids
/// unique within the completion `id`.
pub fn tool_calls(id: &str, calls: &[ToolCall], streamed: bool) -> Vec<Value> {
    calls
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let mut call = json!({
                "id": format!("call_{}_{i}", id.trim_start_matches("chatcmpl-")),
                "type": "function",
                "function": {"name": c.name, "arguments": c.arguments.to_string()},
            });
            if let (true, Some(obj)) = (streamed, call.as_object_mut()) {
                obj.insert("index".into(), i.into());
            }
            call
        })
        .collect()
}

/// Why the answer ended: its calls, or how generation stopped.
pub fn finish(g: &Generation, answer: Option<&Answer>) -> &'static str {
    match answer {
        Some(a) if !a.calls.is_empty() => "tool_calls",
        _ => finish_reason(g.stop_reason),
    }
}

/// The assistant's message: text, or tool calls.
pub fn message(g: &Generation, answer: Option<&Answer>, id: &str) -> Value {
    match answer {
        Some(a) if !a.calls.is_empty() => {
            let content = (!a.content.is_empty()).then(|| a.content.clone());
            json!({"role": "assistant", "content": content, "tool_calls": tool_calls(id, &a.calls, false)})
        }
        Some(a) => json!({"role": "assistant", "content": a.content}),
        None => json!({"role": "assistant", "content": g.text}),
    }
}

pub fn completion(
    id: &str,
    created: u64,
    model: &str,
    g: &Generation,
    answer: Option<&Answer>,
    note: Value,
) -> Value {
    json!({
        "id": id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [{
            "index": 0,
            "message": message(g, answer, id),
            "finish_reason": finish(g, answer),
        }],
        "usage": {
            "prompt_tokens": g.prompt_tokens,
            "completion_tokens": g.generated_tokens,
            "total_tokens": g.prompt_tokens + g.generated_tokens,
        },
        "pith": note,
    })
}

/// One server-sent event of a streamed completion; the first carries the
/// note on which model answered.
pub fn chunk(
    id: &str,
    created: u64,
    model: &str,
    delta: Value,
    finish: Option<&str>,
    note: Option<&Value>,
) -> String {
    let mut value = json!({
        "id": id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [{ "index": 0, "delta": delta, "finish_reason": finish }],
    });
    if let (Some(note), Some(obj)) = (note, value.as_object_mut()) {
        obj.insert("pith".into(), note.clone());
    }
    format!("data: {value}\n\n")
}

pub fn models(ids: &[String], created: u64) -> Value {
    json!({
        "object": "list",
        "data": ids.iter().map(|id| json!({
            "id": id, "object": "model", "created": created, "owned_by": "pith",
        })).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(r: &ChatRequest) -> Prompt {
        Prompt::Chat(r.chat_messages().expect("messages"))
    }

    const WEATHER: &str = r#"{"type":"function","function":{"name":"get_weather","description":"Weather.",
        "parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}"#;

    #[test]
    fn response_formats_become_schemas() {
        let r = parse(br#"{"messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_object"}}"#).expect("as written");
        let st = r.structured().expect("as written");
        assert_eq!(st.schema, Some(json!({"type": "object"})));
        let (_, constraint, format) = r.prompt(&st, None).expect("as written");
        assert_eq!(
            constraint,
            Some(Constraint::json(json!({"type": "object"})))
        );
        assert_eq!(format, None);
        let r = parse(br#"{"messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema",
            "json_schema":{"name":"p","strict":true,"schema":{"type":"object","properties":{"n":{"type":"integer"}}}}}}"#).expect("as written");
        assert_eq!(
            r.structured()
                .expect("as written")
                .schema
                .expect("as written")["properties"]["n"]["type"],
            "integer"
        );
        let r = parse(
            br#"{"messages":[{"role":"user","content":"x"}],"response_format":{"type":"text"}}"#,
        )
        .expect("as written");
        assert!(r.structured().expect("as written").is_plain());
    }

    #[test]
    fn bad_structure_requests_get_a_400_naming_the_part() {
        let cases: &[(&str, &str)] = &[
            (
                r#""response_format":{"type":"json_schema","json_schema":{"name":"p","schema":{"type":"object","properties":{"a":{"type":"string","not":{}}}}}}"#,
                "/properties/a/not",
            ),
            (
                r#""response_format":{"type":"json_schema","json_schema":{"name":"p"}}"#,
                "schema is missing",
            ),
            (
                r#""response_format":{"type":"xml"}"#,
                "not a chat completion request",
            ),
            (
                r#""tools":[{"type":"retrieval","function":{"name":"x"}}]"#,
                "tools[0].type",
            ),
            (
                r#""tools":[{"type":"function","function":{"name":"bad name"}}]"#,
                "tools[0].function.name",
            ),
            (r#""tool_choice":"required""#, "no tools were given"),
            (r#""tool_choice":"always","tools":[WEATHER]"#, "\"always\""),
            (
                r#""tool_choice":{"type":"function","function":{"name":"nope"}},"tools":[WEATHER]"#,
                "\"nope\"",
            ),
            (
                r#""tools":[WEATHER],"response_format":{"type":"json_object"}"#,
                "not both",
            ),
        ];
        for (extra, expected) in cases {
            let body = format!(
                r#"{{"messages":[{{"role":"user","content":"x"}}],{}}}"#,
                extra.replace("WEATHER", WEATHER)
            );
            let e = parse(body.as_bytes())
                .and_then(|r| r.structured())
                .expect_err(extra);
            assert_eq!(e.status, 400, "{extra}");
            assert!(e.message.contains(expected), "{extra}: {}", e.message);
        }
    }

    #[test]
    fn a_tool_conversation_reads_its_calls_and_results() {
        let body = format!(
            r#"{{"tools":[{WEATHER}],"tool_choice":"auto","messages":[
              {{"role":"user","content":"Weather in Paris?"}},
              {{"role":"assistant","content":null,"tool_calls":[{{"id":"call_9","type":"function",
                 "function":{{"name":"get_weather","arguments":"{{\"city\":\"Paris\"}}"}}}}]}},
              {{"role":"tool","tool_call_id":"call_9","content":"18 C"}}]}}"#
        );
        let r = parse(body.as_bytes()).expect("as written");
        let turns = r.turns().expect("as written");
        assert_eq!(turns.len(), 3);
        assert!(
            matches!(&turns[1], Turn::Calls { calls, .. } if calls[0].arguments == json!({"city": "Paris"}))
        );
        assert!(matches!(&turns[2], Turn::Result { name, .. } if name == "get_weather"));
        let st = r.structured().expect("as written");
        assert!(st.calls_tools());
        let (prompt, constraint, format) = r.prompt(&st, None).expect("as written");
        assert_eq!(format, Some(toolcall::ToolFormat::Generic));
        assert!(constraint.is_some());
        let Prompt::Chat(m) = prompt else { panic!() };
        assert!(m[0].content.contains("get_weather"));
        assert_eq!(m[3].content, "Result of the tool get_weather: 18 C");
    }

    #[test]
    fn tool_calls_answer_as_openai_clients_expect() {
        let g = Generation {
            text: String::new(),
            stop_reason: StopReason::EndOfText,
            prompt_tokens: 5,
            evaluated_prompt_tokens: 5,
            generated_tokens: 9,
            draft_tokens: 0,
            draft_accepted: 0,
            restored_prompt_tokens: 0,
            ttft_s: 0.0,
            total_s: 0.0,
        };
        let answer = Answer {
            content: String::new(),
            calls: vec![ToolCall {
                id: "call_0".into(),
                name: "get_weather".into(),
                arguments: json!({"city": "Paris"}),
            }],
        };
        let c = completion("chatcmpl-7", 1, "m", &g, Some(&answer), json!({}));
        let choice = &c["choices"][0];
        assert_eq!(choice["finish_reason"], "tool_calls");
        assert_eq!(choice["message"]["content"], Value::Null);
        let call = &choice["message"]["tool_calls"][0];
        assert_eq!(call["id"], "call_7_0");
        assert_eq!(call["type"], "function");
        assert_eq!(call["function"]["name"], "get_weather");
        assert_eq!(call["function"]["arguments"], "{\"city\":\"Paris\"}");
        assert_eq!(tool_calls("chatcmpl-7", &answer.calls, true)[0]["index"], 0);
    }

    #[test]
    fn a_minimal_request_parses_with_defaults() {
        let r = parse(br#"{"messages":[{"role":"user","content":"Hi"}]}"#).expect("parses");
        assert!(!r.stream);
        let g = r.to_generate(plain(&r), 10, 4096).expect("request");
        assert_eq!(g.max_tokens, 1024);
        assert_eq!(g.prompt, Prompt::Chat(vec![ChatMessage::user("Hi")]));
    }

    #[test]
    fn options_map_onto_the_engine_request() {
        let r = parse(
            br#"{"model":"x","stream":true,"max_tokens":20,"temperature":0,"seed":7,"stop":"\n",
                 "messages":[{"role":"system","content":"Be brief."},
                             {"role":"user","content":[{"type":"text","text":"Hi"}]}]}"#,
        )
        .expect("parses");
        assert!(r.stream);
        let g = r.to_generate(plain(&r), 10, 4096).expect("request");
        assert_eq!(g.max_tokens, 20);
        assert_eq!(g.sampling.temperature, 0.0);
        assert_eq!(g.sampling.seed, 7);
        assert_eq!(g.stop, vec!["\n".to_string()]);
    }

    #[test]
    fn malformed_requests_get_a_400_with_the_reason() {
        let cases: &[(&[u8], &str)] = &[
            (b"{not json", "not valid JSON"),
            (b"{\"messages\": []}", "empty"),
            (b"{\"messages\": \"hi\"}", "not a chat completion request"),
            (b"{\"prompt\": \"hi\"}", "messages"),
        ];
        for (body, why) in cases {
            let e = parse(body).expect_err("refused");
            assert_eq!(e.status, 400);
            assert!(
                e.message.contains(why),
                "{}: {}",
                String::from_utf8_lossy(body),
                e.message
            );
        }
        let r = parse(br#"{"messages":[{"role":"tool","content":"x"}]}"#).expect("parses");
        assert!(r
            .chat_messages()
            .expect_err("role")
            .message
            .contains("tool"));
        let r = parse(br#"{"messages":[{"role":"user","content":[{"type":"image_url"}]}]}"#)
            .expect("parses");
        assert!(r
            .chat_messages()
            .expect_err("image")
            .message
            .contains("text only"));
        let r = parse(br#"{"max_tokens":5000,"messages":[{"role":"user","content":"x"}]}"#)
            .expect("parses");
        assert!(r
            .to_generate(plain(&r), 10, 4096)
            .expect_err("too long")
            .message
            .contains("between 1 and 4086"));
    }

    #[test]
    fn stream_chunks_are_server_sent_events() {
        let c = chunk("id1", 5, "m", json!({"content": "Hi"}), None, None);
        assert!(c.starts_with("data: {") && c.ends_with("}\n\n"));
        let v: Value = serde_json::from_str(c.trim_start_matches("data: ").trim()).expect("json");
        assert_eq!(v["choices"][0]["delta"]["content"], "Hi");
        assert_eq!(v["object"], "chat.completion.chunk");
    }
}
