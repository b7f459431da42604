//! Grammar-constrained sampling: output valid by construction.
//!
//! A [`Constraint`]'s JSON Schema becomes a GBNF grammar through
//! llama.cpp's own converter (`json_schema_to_grammar`), wrapped in the
//! constraint's literal text (a tool call's tags) when it has some.
//!
//! Applying a grammar to every candidate of a 49 152-token vocabulary is
//! what makes grammar sampling slow in llama.cpp. [`Sampler`] takes the
//! faster path llama.cpp's own `common_sampler` takes: sample as usual,
//! ask the grammar about that one token, and only when the grammar refuses
//! it, filter the whole vocabulary and sample again. The result is the
//! same distribution restricted to the grammar; `pith bench` measures both
//! paths (`constrained_gen_tps`, `constrained_gen_tps_grammar_first`).

use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::data::LlamaTokenData;
use llama_cpp_2::token::data_array::LlamaTokenDataArray;
use llama_cpp_2::token::LlamaToken;
use pith_core::engine::Constraint;
use pith_core::{Error, Result};

/// The converter lets a number's exponent take 16 digits, and a model
/// wrote `2.5E+1962768619285871`: valid by the grammar, beyond what a
/// double (and so `serde_json` and most JSON readers) can hold. Two digits
/// keep every number within range.
const UNBOUNDED_EXPONENT: &str = "([eE] [-+]? integral-part)?";
const BOUNDED_EXPONENT: &str = "([eE] [-+]? [0-9]{1,2})?";

/// The start rule of a wrapped grammar; the converter's own is `root`.
const WRAPPED_ROOT: &str = "pith-root";

/// The GBNF grammar and its start rule for `constraint`.
pub(crate) fn gbnf(constraint: &Constraint) -> Result<(String, &'static str)> {
    let schema = constraint.schema.to_string();
    let grammar = llama_cpp_2::json_schema_to_grammar(&schema).map_err(|e| {
        Error::InvalidInput(format!(
            "llama.cpp cannot turn the JSON Schema into a grammar ({e})"
        ))
    })?;
    let grammar = grammar.replace(UNBOUNDED_EXPONENT, BOUNDED_EXPONENT);
    if constraint.before.is_empty() && constraint.after.is_empty() {
        return Ok((grammar, "root"));
    }
    // One call or several in a row (parallel tool calls), nothing else.
    let call: Vec<String> = [
        literal(&constraint.before),
        Some("pith-ws root pith-ws".to_string()),
        literal(&constraint.after),
    ]
    .into_iter()
    .flatten()
    .collect();
    let wrapped = format!(
        "{WRAPPED_ROOT} ::= pith-call (pith-ws pith-call)*\n\
         pith-call ::= {}\n\
         pith-ws ::= [ \\t\\n]{{0,4}}\n\
         {grammar}",
        call.join(" "),
    );
    Ok((wrapped, WRAPPED_ROOT))
}

/// `text` as a GBNF string literal; none for empty text.
fn literal(text: &str) -> Option<String> {
    if text.is_empty() {
        return None;
    }
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    Some(out)
}

/// Samples tokens, within a grammar when the request has one.
pub(crate) struct Sampler {
    chain: LlamaSampler,
    grammar: Option<LlamaSampler>,
    /// Filter the whole vocabulary by the grammar at every token (slow;
    /// kept for the benchmark's comparison).
    grammar_first: bool,
    /// The chain picks the most likely token (temperature 0).
    greedy: bool,
}

impl Sampler {
    pub(crate) fn new(
        model: &LlamaModel,
        chain: LlamaSampler,
        greedy: bool,
        constraint: Option<&Constraint>,
        grammar_first: bool,
    ) -> Result<Self> {
        let grammar = match constraint {
            None => None,
            Some(c) => {
                let (grammar, root) = gbnf(c)?;
                let sampler = if c.is_lazy() {
                    LlamaSampler::grammar_lazy(model, &grammar, root, &c.triggers, &[])
                } else {
                    LlamaSampler::grammar(model, &grammar, root)
                };
                Some(sampler.map_err(|e| {
                    Error::InvalidInput(format!("llama.cpp refused the grammar ({e})"))
                })?)
            }
        };
        Ok(Self {
            chain,
            grammar,
            grammar_first,
            greedy,
        })
    }

    /// Chooses the token after the `idx`-th logits of the last batch and
    /// records it, as `LlamaSampler::sample` does.
    pub(crate) fn sample(&mut self, ctx: &LlamaContext<'_>, idx: i32) -> Result<LlamaToken> {
        let Some(grammar) = self.grammar.as_mut() else {
            return Ok(self.chain.sample(ctx, idx));
        };
        let mut token = None;
        if !self.grammar_first {
            let mut candidates = ctx.token_data_array_ith(idx);
            self.chain.apply(&mut candidates);
            token = candidates.selected_token().filter(|&t| allows(grammar, t));
            if token.is_none() && self.greedy {
                // The most likely token the grammar allows among the chain's
                // top-k: what filtering everything first would choose,
                // without filtering everything.
                let mut ranked: Vec<(f32, LlamaToken)> = candidates
                    .data
                    .iter()
                    .map(|d| (d.logit(), d.id()))
                    .collect();
                ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
                token = ranked
                    .into_iter()
                    .map(|(_, t)| t)
                    .find(|&t| allows(grammar, t));
            }
        }
        let token = match token {
            Some(t) => t,
            None => {
                let mut candidates = ctx.token_data_array_ith(idx);
                grammar.apply(&mut candidates);
                self.chain.apply(&mut candidates);
                candidates
                    .selected_token()
                    .filter(|&t| allows(grammar, t))
                    .ok_or_else(|| Error::Inference("the grammar allows no next token".into()))?
            }
        };
        grammar
            .try_accept(token)
            .map_err(|e| Error::Inference(format!("the grammar refused a token ({e})")))?;
        self.chain.accept(token);
        Ok(token)
    }
}

/// Whether the grammar's current state lets `token` come next.
fn allows(grammar: &mut LlamaSampler, token: LlamaToken) -> bool {
    let mut one = LlamaTokenDataArray::new(vec![LlamaTokenData::new(token, 0.0, 1.0)], false);
    grammar.apply(&mut one);
    one.data.first().is_some_and(|d| d.logit().is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_schema_becomes_a_grammar_rooted_at_root() {
        let c =
            Constraint::json(json!({"type": "object", "properties": {"a": {"type": "integer"}}}));
        let (g, root) = gbnf(&c).expect("as written");
        assert_eq!(root, "root");
        assert!(g.contains("root ::="), "{g}");
    }

    #[test]
    fn number_exponents_stay_within_a_doubles_range() {
        let c = Constraint::json(json!({"type": "array", "items": {"type": "number"}}));
        let (g, _) = gbnf(&c).expect("as written");
        assert!(g.contains(BOUNDED_EXPONENT), "{g}");
        assert!(!g.contains(UNBOUNDED_EXPONENT), "{g}");
    }

    #[test]
    fn a_wrapped_value_is_between_its_tags() {
        let c = Constraint::json(json!({"type": "object"})).wrapped("<tool_call>", "</tool_call>");
        let (g, root) = gbnf(&c).expect("as written");
        assert_eq!(root, WRAPPED_ROOT);
        assert!(
            g.contains("pith-call ::= \"<tool_call>\" pith-ws root pith-ws \"</tool_call>\""),
            "{g}"
        );
    }

    #[test]
    fn literals_escape_quotes_backslashes_and_newlines() {
        assert_eq!(
            literal("a\"b\\c\nd").expect("as written"),
            "\"a\\\"b\\\\c\\nd\""
        );
        assert_eq!(literal(""), None);
    }

    #[test]
    fn a_schema_the_converter_cannot_read_is_invalid_input() {
        let c = Constraint::json(json!({"$ref": "#/$defs/missing"}));
        let e = gbnf(&c).expect_err("refused");
        assert_eq!(e.code(), pith_core::ErrorCode::InvalidInput, "{e}");
    }
}
