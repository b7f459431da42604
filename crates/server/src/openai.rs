//! The OpenAI chat-completions wire format: what requests may hold, and
//! the JSON Pith answers with. Pure conversions, no I/O.

use pith_core::engine::{
    ChatMessage, GenerateRequest, Generation, Prompt, Role, Sampling, StopReason,
};
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
    pub content: Content,
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
    pub fn chat_messages(&self) -> Result<Vec<ChatMessage>, ApiError> {
        self.messages
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let role = match m.role.as_str() {
                    "system" | "developer" => Role::System,
                    "user" => Role::User,
                    "assistant" => Role::Assistant,
                    other => {
                        return Err(ApiError::bad_request(format!(
                            "messages[{i}].role {other:?} is not system, user or assistant"
                        )))
                    }
                };
                let text = match &m.content {
                    Content::Text(t) => t.clone(),
                    Content::Parts(parts) => {
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
                        text
                    }
                };
                Ok(ChatMessage::new(role, text))
            })
            .collect()
    }

    /// The engine request; `max_tokens` defaults to what is left of the
    /// window after the prompt, up to 1024.
    pub fn to_generate(
        &self,
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
        Ok(
            GenerateRequest::new(Prompt::Chat(self.chat_messages()?), max_tokens)
                .with_sampling(sampling)
                .with_stop(stop),
        )
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

pub fn completion(id: &str, created: u64, model: &str, g: &Generation, note: Value) -> Value {
    json!({
        "id": id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [{
            "index": 0,
            "message": { "role": "assistant", "content": g.text },
            "finish_reason": finish_reason(g.stop_reason),
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

    #[test]
    fn a_minimal_request_parses_with_defaults() {
        let r = parse(br#"{"messages":[{"role":"user","content":"Hi"}]}"#).expect("parses");
        assert!(!r.stream);
        let g = r.to_generate(10, 4096).expect("request");
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
        let g = r.to_generate(10, 4096).expect("request");
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
            .to_generate(10, 4096)
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
