//! Structured-output figures for `pith bench`: the same 20 extraction
//! requests with and without the grammar (how often the output is valid
//! JSON that follows the schema), and generation speed under the grammar
//! on both of the engine's paths.

use pith_core::engine::{CancelToken, Engine, Generation};
use pith_core::structured::schema;
use pith_core::tasks::extract::build_request;
use pith_core::Result;
use pith_llama::LlamaEngine;
use serde_json::{json, Value};

const PEOPLE: [(&str, &str, &str); 5] = [
    ("Maria Lopez", "Acme Corp", "Lyon"),
    ("Tom Becker", "Globex", "Hamburg"),
    ("Aiko Tanaka", "Initech", "Osaka"),
    ("Sam Okafor", "Umbrella Ltd", "Lagos"),
    ("Eva Novak", "Stark Foods", "Brno"),
];

/// Twenty texts, each with the schema to extract from it.
fn requests() -> Vec<(Value, String)> {
    let contact = json!({"type": "object", "properties": {
        "name": {"type": "string"}, "company": {"type": "string"}, "city": {"type": "string"}},
        "required": ["name", "company", "city"], "additionalProperties": false});
    let invoice = json!({"type": "object", "properties": {
        "vendor": {"type": "string"}, "amount": {"type": "number"}, "due": {"type": "string"}},
        "required": ["vendor", "amount", "due"], "additionalProperties": false});
    let meeting = json!({"type": "object", "properties": {
        "with": {"type": "string"}, "day": {"enum": ["monday", "tuesday", "wednesday", "thursday", "friday"]},
        "topics": {"type": "array", "items": {"type": "string"}, "maxItems": 3}},
        "required": ["with", "day", "topics"], "additionalProperties": false});
    let tagged = json!({"type": "object", "properties": {
        "person": {"type": "string"}, "urgent": {"type": "boolean"}, "count": {"type": "integer"}},
        "required": ["person", "urgent", "count"], "additionalProperties": false});
    let days = ["monday", "tuesday", "wednesday", "thursday", "friday"];
    let mut out = Vec::new();
    for (i, (name, company, city)) in PEOPLE.iter().enumerate() {
        out.push((
            contact.clone(),
            format!("Hello, I am {name}. I work at {company} in {city}, and I would like a quote."),
        ));
        out.push((
            invoice.clone(),
            format!(
                "{company} sent invoice 1{i}7 for {} euros, due on May {}.",
                200 + 150 * i,
                3 + i
            ),
        ));
        out.push((
            meeting.clone(),
            format!(
                "Meeting with {name} on {} about the budget and the new office in {city}.",
                days[i]
            ),
        ));
        out.push((
            tagged.clone(),
            format!(
                "Urgent: {name} needs {} chairs delivered before Friday.",
                4 + i
            ),
        ));
    }
    out
}

fn decode_tps(generations: &[Generation]) -> f64 {
    let tokens: usize = generations
        .iter()
        .map(|g| g.generated_tokens.saturating_sub(1))
        .sum();
    let seconds: f64 = generations
        .iter()
        .map(|g| (g.total_s - g.ttft_s).max(0.0))
        .sum();
    if seconds > 0.0 {
        tokens as f64 / seconds
    } else {
        0.0
    }
}

/// The JSON value in a free answer: the text itself, or inside a Markdown
/// code fence, which small models like to add.
fn free_json(text: &str) -> Option<Value> {
    let t = text.trim();
    let t = t
        .strip_prefix("```json")
        .or_else(|| t.strip_prefix("```"))
        .map_or(t, |rest| rest.trim_end().trim_end_matches("```"));
    serde_json::from_str(t.trim()).ok()
}

pub fn figures(engine: &mut LlamaEngine) -> Result<Value> {
    let cancel = CancelToken::new();
    let (mut valid_constrained, mut valid_free) = (0usize, 0usize);
    let (mut constrained, mut free, mut whole) = (Vec::new(), Vec::new(), Vec::new());
    let all = requests();
    for (s, text) in &all {
        let request = build_request(s, text, 0, 256);
        match engine.generate(&request, &cancel, &mut |_| {}) {
            Ok(g) => {
                let ok = serde_json::from_str::<Value>(&g.text)
                    .ok()
                    .is_some_and(|v| schema::validate(s, &v).is_ok_and(|e| e.is_empty()));
                valid_constrained += usize::from(ok);
                constrained.push(g);
            }
            Err(e) if e.code() == pith_core::ErrorCode::IncompleteOutput => {}
            Err(e) => return Err(e),
        }
        engine.set_grammar_first(true);
        let g = engine.generate(&request, &cancel, &mut |_| {});
        engine.set_grammar_first(false);
        if let Ok(g) = g {
            whole.push(g);
        }
        let mut plain = request.clone();
        plain.constraint = None;
        let g = engine.generate(&plain, &cancel, &mut |_| {})?;
        let ok =
            free_json(&g.text).is_some_and(|v| schema::validate(s, &v).is_ok_and(|e| e.is_empty()));
        valid_free += usize::from(ok);
        free.push(g);
    }
    let n = all.len() as f64;
    let round = |x: f64| (x * 100.0).round() / 100.0;
    let constrained_tps = decode_tps(&constrained);
    let free_tps = decode_tps(&free);
    Ok(json!({
        "json_requests": all.len(),
        "json_valid_rate_constrained": round(valid_constrained as f64 / n),
        "json_valid_rate_free": round(valid_free as f64 / n),
        "constrained_gen_tps": (constrained_tps * 10.0).round() / 10.0,
        "constrained_gen_tps_grammar_first": (decode_tps(&whole) * 10.0).round() / 10.0,
        "free_json_gen_tps": (free_tps * 10.0).round() / 10.0,
        "constrained_speed_ratio": if free_tps > 0.0 { round(constrained_tps / free_tps) } else { 0.0 },
    }))
}
