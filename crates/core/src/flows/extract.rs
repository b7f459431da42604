//! Extract with escalation, the same from every way in: the smallest
//! installed model that fits tries first (or the one the user pinned);
//! when its value still fails the schema or the text after its attempts,
//! the next larger one tries; a value that fails there too comes back
//! flagged with its problems (`pith extract` exits with status 3), never as
//! a success.

use crate::engine::{Backend, CancelToken};
use crate::error::Result;
use crate::routing::Candidate;
use crate::tasks::extract::{extract, ATTEMPTS};
use serde::Serialize;
use serde_json::Value;

/// What the flow produced.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Extracted {
    pub value: Value,
    /// Why the value fails the schema or the text; empty when it passed.
    pub problems: Vec<String>,
    /// The model that wrote `value`.
    pub model: String,
    /// Attempts over every model tried.
    pub attempts: usize,
    /// A larger model took over.
    pub escalated: bool,
}

impl Extracted {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// The models to try, in turn: the smallest that fits, then the next
/// larger one. A pinned model is tried alone.
pub fn order(candidates: &[Candidate], pinned: Option<&str>) -> Vec<String> {
    if let Some(id) = pinned {
        return vec![id.to_string()];
    }
    let mut fitting: Vec<&Candidate> = candidates.iter().filter(|c| c.fits).collect();
    fitting.sort_by_key(|c| c.parameters);
    let mut ids: Vec<String> = Vec::new();
    for c in fitting {
        if ids.len() == 2 {
            break;
        }
        // A second file of the same size is no escalation.
        let larger = ids.is_empty()
            || candidates
                .iter()
                .find(|k| k.id == ids[0])
                .is_some_and(|first| c.parameters > first.parameters);
        if larger {
            ids.push(c.id.clone());
        }
    }
    ids
}

/// Extracts `schema` from `text` with the models of `order` in turn, as
/// described in the module's introduction. `on_piece` receives each
/// attempt's stream with its number, from 1 and counted over all models.
pub fn extract_routed(
    models: &mut dyn Backend,
    order: &[String],
    schema: &Value,
    text: &str,
    max_tokens: usize,
    cancel: &CancelToken,
    on_piece: &mut dyn FnMut(usize, &str),
) -> Result<Extracted> {
    let mut last: Option<Extracted> = None;
    for (i, id) in order.iter().enumerate() {
        let (engine, _swap) = models.engine(id)?;
        let offset = i * ATTEMPTS;
        let got = extract(engine, schema, text, max_tokens, cancel, &mut |a, p| {
            on_piece(a + offset, p)
        });
        let got = match got {
            Ok(g) => g,
            // A larger model may finish what this one could not.
            Err(e) if i + 1 < order.len() && e.code() == crate::ErrorCode::IncompleteOutput => {
                continue
            }
            Err(e) => return Err(e),
        };
        let extracted = Extracted {
            value: got.value,
            problems: got.problems,
            model: id.clone(),
            attempts: offset + got.attempts,
            escalated: i > 0,
        };
        if extracted.ok() {
            return Ok(extracted);
        }
        last = Some(extracted);
    }
    last.ok_or_else(|| crate::Error::NotFound("an installed model to extract with".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Engine, ScriptedEngine};
    use crate::{Error, ErrorCode};
    use serde_json::json;

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

    fn schema() -> Value {
        json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]})
    }

    const TEXT: &str = "The meeting moved to Lyon.";

    fn candidates() -> Vec<Candidate> {
        let c = |id: &str, parameters, fits| Candidate {
            id: id.into(),
            parameters,
            fits,
        };
        vec![
            c("large", 270_000_000, true),
            c("small", 135_000_000, true),
            c("same", 135_000_000, true),
            c("huge", 7_000_000_000, false),
        ]
    }

    #[test]
    fn the_order_is_the_smallest_fitting_then_the_next_larger() {
        assert_eq!(order(&candidates(), None), vec!["small", "large"]);
        assert_eq!(order(&candidates(), Some("huge")), vec!["huge"]);
        assert!(order(&[], None).is_empty());
    }

    #[test]
    fn the_larger_model_takes_over_when_the_small_ones_values_fail() {
        let mut small = ScriptedEngine::new(4096);
        for _ in 0..ATTEMPTS {
            small.push_reply("{\"city\": \"Paris\"}");
        }
        let large = ScriptedEngine::new(4096).reply("{\"city\": \"Lyon\"}");
        let mut models = Two { small, large };
        let mut attempts = Vec::new();
        let got = extract_routed(
            &mut models,
            &order(&candidates(), None),
            &schema(),
            TEXT,
            64,
            &CancelToken::new(),
            &mut |a, _| attempts.push(a),
        )
        .expect("as written");
        assert!(got.ok());
        assert_eq!(got.value, json!({"city": "Lyon"}));
        assert_eq!(
            (got.model.as_str(), got.escalated, got.attempts),
            ("large", true, 4)
        );
        assert_eq!(attempts, vec![1, 2, 3, 4]);
    }

    #[test]
    fn a_value_failing_on_every_model_comes_back_flagged() {
        let mut small = ScriptedEngine::new(4096);
        let mut large = ScriptedEngine::new(4096);
        for _ in 0..ATTEMPTS {
            small.push_reply("{\"city\": \"Paris\"}");
            large.push_reply("{\"city\": \"Rome\"}");
        }
        let mut models = Two { small, large };
        let got = extract_routed(
            &mut models,
            &["small".into(), "large".into()],
            &schema(),
            TEXT,
            64,
            &CancelToken::new(),
            &mut |_, _| {},
        )
        .expect("as written");
        assert!(!got.ok());
        assert_eq!(got.model, "large");
        assert!(
            got.problems[0].contains("\u{201c}Rome\u{201d} is not in the text"),
            "{:?}",
            got.problems
        );
    }

    #[test]
    fn a_pinned_model_is_never_moved_and_cancel_ends_the_flow() {
        let mut small = ScriptedEngine::new(4096);
        for _ in 0..ATTEMPTS {
            small.push_reply("{\"city\": \"Paris\"}");
        }
        let mut models = Two {
            small,
            large: ScriptedEngine::new(4096),
        };
        let got = extract_routed(
            &mut models,
            &order(&candidates(), Some("small")),
            &schema(),
            TEXT,
            64,
            &CancelToken::new(),
            &mut |_, _| {},
        )
        .expect("as written");
        assert_eq!((got.model.as_str(), got.escalated), ("small", false));
        assert!(models.large.requests.is_empty());

        let cancel = CancelToken::new();
        cancel.cancel();
        let mut models = Two {
            small: ScriptedEngine::new(4096).reply("{}"),
            large: ScriptedEngine::new(4096),
        };
        let e = extract_routed(
            &mut models,
            &["small".into(), "large".into()],
            &schema(),
            TEXT,
            64,
            &cancel,
            &mut |_, _| {},
        )
        .expect_err("refused");
        assert_eq!(e.code(), ErrorCode::Cancelled);
    }
}
