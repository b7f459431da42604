//! A remote OpenAI-compatible endpoint, called only when the user has
//! configured it and switched it on ([`pith_core::routing::Settings::remote`]).

use super::openai::ApiError;
use pith_core::engine::{ChatMessage, Generation, StopReason};
use pith_core::routing::Remote;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

fn failed(remote: &Remote, why: impl std::fmt::Display) -> ApiError {
    ApiError {
        status: 502,
        kind: "remote_error",
        message: format!("the remote endpoint {} failed: {why}", remote.base_url),
    }
}

/// Sends the conversation to `{base_url}/chat/completions` and returns its
/// answer as a generation.
pub fn complete(
    remote: &Remote,
    api_key: Option<&str>,
    messages: &[ChatMessage],
    max_tokens: Option<usize>,
    temperature: Option<f32>,
) -> Result<Generation, ApiError> {
    let started = Instant::now();
    let url = format!("{}/chat/completions", remote.base_url.trim_end_matches('/'));
    let mut body = json!({
        "model": remote.model,
        "messages": messages.iter().map(|m| json!({"role": m.role.as_str(), "content": m.content})).collect::<Vec<_>>(),
        "stream": false,
    });
    if let Some(obj) = body.as_object_mut() {
        if let Some(n) = max_tokens {
            obj.insert("max_tokens".into(), n.into());
        }
        if let Some(t) = temperature {
            obj.insert("temperature".into(), t.into());
        }
    }
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_connect(Some(Duration::from_secs(15)))
        .timeout_global(Some(Duration::from_secs(300)))
        .build()
        .into();
    let mut request = agent.post(&url).header("Content-Type", "application/json");
    if let Some(key) = api_key {
        request = request.header("Authorization", &format!("Bearer {key}"));
    }
    let mut response = request
        .send(body.to_string())
        .map_err(|e| failed(remote, e))?;
    let status = response.status().as_u16();
    let text = response
        .body_mut()
        .read_to_string()
        .map_err(|e| failed(remote, e))?;
    if status != 200 {
        let detail: String = text.chars().take(300).collect();
        return Err(failed(remote, format!("HTTP {status}: {detail}")));
    }
    let v: Value =
        serde_json::from_str(&text).map_err(|e| failed(remote, format!("not JSON: {e}")))?;
    let content = v["choices"][0]["message"]["content"]
        .as_str()
        .ok_or_else(|| failed(remote, "the answer has no choices[0].message.content"))?;
    let usage = |k: &str| v["usage"][k].as_u64().unwrap_or(0) as usize;
    let total_s = started.elapsed().as_secs_f64();
    Ok(Generation {
        text: content.to_string(),
        stop_reason: if v["choices"][0]["finish_reason"] == "length" {
            StopReason::MaxTokens
        } else {
            StopReason::EndOfText
        },
        prompt_tokens: usage("prompt_tokens"),
        evaluated_prompt_tokens: usage("prompt_tokens"),
        generated_tokens: usage("completion_tokens"),
        draft_tokens: 0,
        draft_accepted: 0,
        restored_prompt_tokens: 0,
        ttft_s: total_s,
        total_s,
    })
}
