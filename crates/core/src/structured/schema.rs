//! JSON Schemas: which ones a grammar can enforce, validating values
//! against them, and checking a value's strings against its source.
//!
//! llama.cpp's converter turns a schema into a grammar, but silently
//! accepts any value for keywords it cannot express (`not`,
//! `multipleOf`...). A schema that needs one is refused here, naming the
//! keyword and where it is, so a grammar never promises less than the
//! schema says. Values are validated with the `jsonschema` crate
//! regardless: a grammar makes output parse, the validator says it is what
//! was asked for.

use crate::error::{Error, Result};
use crate::tasks::facts::Source;
use serde_json::Value;

/// Keywords the grammar enforces.
const ENFORCED: &[&str] = &[
    "type",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "prefixItems",
    "minItems",
    "maxItems",
    "enum",
    "const",
    "anyOf",
    "oneOf",
    "allOf",
    "$ref",
    "$defs",
    "definitions",
    "pattern",
    "format",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
];

/// Keywords that say nothing about valid values.
const ANNOTATIONS: &[&str] = &[
    "$schema",
    "$id",
    "$comment",
    "title",
    "description",
    "default",
    "examples",
    "deprecated",
    "readOnly",
    "writeOnly",
    DERIVED,
];

/// Marks a field whose value the model works out rather than copies
/// (a category, a normalized date, a count): its text is not looked for
/// in the source.
pub const DERIVED: &str = "x-derived";

/// Nesting deeper than this is refused (the converter and the validator
/// recurse).
const MAX_DEPTH: usize = 32;

/// Refuses a schema Pith cannot enforce, naming the part; returns nothing
/// when the grammar and the validator will both hold it.
pub fn check(schema: &Value) -> Result<()> {
    if !schema.is_object() {
        return Err(invalid("", "the schema must be a JSON object"));
    }
    walk(schema, "", 0)?;
    jsonschema::validator_for(schema)
        .map(|_| ())
        .map_err(|e| invalid(&e.schema_path().to_string(), &e.to_string()))
}

fn invalid(at: &str, what: &str) -> Error {
    let at = if at.is_empty() { "/" } else { at };
    Error::InvalidInput(format!("JSON Schema at {at}: {what}"))
}

fn walk(node: &Value, at: &str, depth: usize) -> Result<()> {
    if depth > MAX_DEPTH {
        return Err(invalid(
            at,
            &format!("nested deeper than {MAX_DEPTH} levels"),
        ));
    }
    let Some(map) = node.as_object() else {
        // `true` / `false` schemas are allowed where a schema may be.
        return match node {
            Value::Bool(_) => Ok(()),
            _ => Err(invalid(at, "expected a schema (an object)")),
        };
    };
    for (key, value) in map {
        let here = format!("{at}/{}", key.replace('~', "~0").replace('/', "~1"));
        if !(ENFORCED.contains(&key.as_str())
            || ANNOTATIONS.contains(&key.as_str())
            || key.starts_with("x-"))
        {
            return Err(invalid(
                &here,
                &format!(
                    "`{key}` cannot be enforced while generating (supported: {})",
                    ENFORCED.join(", ")
                ),
            ));
        }
        match key.as_str() {
            "properties" | "$defs" | "definitions" => {
                let Some(children) = value.as_object() else {
                    return Err(invalid(&here, "expected an object of schemas"));
                };
                for (name, child) in children {
                    walk(child, &format!("{here}/{name}"), depth + 1)?;
                }
            }
            "items" | "additionalProperties" => walk(value, &here, depth + 1)?,
            "prefixItems" | "anyOf" | "oneOf" | "allOf" => {
                let Some(list) = value.as_array() else {
                    return Err(invalid(&here, "expected a list of schemas"));
                };
                for (i, child) in list.iter().enumerate() {
                    walk(child, &format!("{here}/{i}"), depth + 1)?;
                }
            }
            "$ref" => {
                let target = value.as_str().unwrap_or_default();
                if !target.starts_with('#') {
                    return Err(invalid(
                        &here,
                        &format!("only references inside the schema (\"#/...\") are followed, not {value}"),
                    ));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Why `value` is not valid against `schema`: one line per error, with
/// where in the value it is.
pub fn validate(schema: &Value, value: &Value) -> Result<Vec<String>> {
    let validator = jsonschema::validator_for(schema)
        .map_err(|e| invalid(&e.schema_path().to_string(), &e.to_string()))?;
    Ok(validator
        .iter_errors(value)
        .map(|e| {
            let path = e.instance_path().to_string();
            let path = if path.is_empty() {
                "/".to_string()
            } else {
                path
            };
            format!("{path}: {e}")
        })
        .collect())
}

/// The strings and numbers of `value` that `source` does not contain, as
/// lines for the person reading. Values the schema fixes (`enum`,
/// `const`), booleans, and fields marked [`DERIVED`] are not looked for.
pub fn ungrounded(schema: &Value, value: &Value, source: &Source) -> Vec<String> {
    let mut out = Vec::new();
    ground(schema, schema, value, source, "", &mut out, 0);
    out
}

fn ground(
    root: &Value,
    schema: &Value,
    value: &Value,
    source: &Source,
    at: &str,
    out: &mut Vec<String>,
    depth: usize,
) {
    if depth > MAX_DEPTH {
        return;
    }
    let schema = resolve(root, schema, 0);
    let fixed = schema.get("enum").is_some() || schema.get("const").is_some();
    if fixed || schema.get(DERIVED).and_then(Value::as_bool) == Some(true) {
        return;
    }
    let at_or_root = if at.is_empty() { "/" } else { at };
    match value {
        Value::String(s) if !s.trim().is_empty() && !source.contains(s) => {
            out.push(format!(
                "{at_or_root}: \u{201c}{s}\u{201d} is not in the text"
            ));
        }
        Value::Number(n) if !number_in(source, n) => {
            out.push(format!("{at_or_root}: {n} is not in the text"));
        }
        _ => {}
    }
    // Each item or field against its own part of the schema.
    let children: Vec<(String, &Value, &Value)> = match value {
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let child = schema
                    .get("prefixItems")
                    .and_then(|p| p.get(i))
                    .or_else(|| schema.get("items"));
                (i.to_string(), child.unwrap_or(&ANY), item)
            })
            .collect(),
        Value::Object(fields) => fields
            .iter()
            .map(|(name, item)| {
                let child = schema
                    .get("properties")
                    .and_then(|p| p.get(name))
                    .or_else(|| schema.get("additionalProperties"));
                (name.clone(), child.unwrap_or(&ANY), item)
            })
            .collect(),
        _ => Vec::new(),
    };
    for (key, child, item) in children {
        let here = format!("{at}/{key}");
        ground(root, child, item, source, &here, out, depth + 1);
    }
}

/// The schema that allows anything.
static ANY: Value = Value::Bool(true);

/// Follows `$ref`s inside the schema.
fn resolve<'a>(root: &'a Value, schema: &'a Value, hops: usize) -> &'a Value {
    let Some(target) = schema.get("$ref").and_then(Value::as_str) else {
        return schema;
    };
    if hops > MAX_DEPTH {
        return schema;
    }
    let pointer = target.trim_start_matches('#');
    match root.pointer(pointer) {
        Some(found) => resolve(root, found, hops + 1),
        None => schema,
    }
}

/// A number is in the text as written there: `1200` also as `1,200`, a
/// whole float (`3.0`) also as `3`.
fn number_in(source: &Source, n: &serde_json::Number) -> bool {
    let mut forms = vec![n.to_string()];
    if let Some(f) = n.as_f64() {
        if f.fract() == 0.0 && f.abs() < 1e15 {
            let whole = format!("{}", f as i64);
            forms.push(thousands(&whole));
            forms.push(whole);
        }
    }
    forms.iter().any(|f| source.contains_number(f))
}

fn thousands(digits: &str) -> String {
    let (sign, digits) = match digits.strip_prefix('-') {
        Some(d) => ("-", d),
        None => ("", digits),
    };
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    format!("{sign}{out}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn supported_schemas_pass() {
        let schema = json!({
            "type": "object",
            "title": "Invoice",
            "properties": {
                "vendor": {"type": "string", "description": "who sent it"},
                "total": {"type": "number", "minimum": 0},
                "lines": {"type": "array", "items": {"$ref": "#/$defs/line"}, "maxItems": 20},
                "status": {"enum": ["paid", "due"]},
            },
            "required": ["vendor", "total"],
            "additionalProperties": false,
            "$defs": {"line": {"type": "object", "properties": {"item": {"type": "string"}}}},
        });
        check(&schema).expect("as written");
    }

    #[test]
    fn an_unenforceable_keyword_is_refused_by_name_and_place() {
        let schema =
            json!({"type": "object", "properties": {"n": {"type": "integer", "multipleOf": 5}}});
        let e = check(&schema).expect_err("refused").to_string();
        assert!(e.contains("/properties/n/multipleOf"), "{e}");
        assert!(e.contains("`multipleOf` cannot be enforced"), "{e}");
        let e = check(&json!({"not": {"type": "string"}}))
            .expect_err("refused")
            .to_string();
        assert!(e.contains("/not"), "{e}");
    }

    #[test]
    fn malformed_schemas_are_invalid_input() {
        for bad in [
            json!("string"),
            json!({"type": "strnig"}),
            json!({"properties": []}),
            json!({"$ref": "https://example.com/s.json"}),
            json!({"type": "object", "required": "name"}),
        ] {
            let e = check(&bad).expect_err("refused");
            assert_eq!(e.code(), crate::ErrorCode::InvalidInput, "{bad}: {e}");
        }
    }

    #[test]
    fn depth_is_bounded() {
        let mut schema = json!({"type": "string"});
        for _ in 0..40 {
            schema = json!({"type": "array", "items": schema});
        }
        let e = check(&schema).expect_err("refused").to_string();
        assert!(e.contains("deeper than"), "{e}");
    }

    #[test]
    fn validation_names_the_place_of_each_error() {
        let schema = json!({"type": "object", "properties": {"age": {"type": "integer"}}, "required": ["name"]});
        let errors = validate(&schema, &json!({"age": "ten"})).expect("as written");
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors.iter().any(|e| e.starts_with("/age:")), "{errors:?}");
        assert!(validate(&schema, &json!({"name": "x", "age": 3}))
            .expect("as written")
            .is_empty());
    }

    #[test]
    fn strings_and_numbers_must_be_in_the_source_unless_fixed_or_derived() {
        let source = Source::new("Invoice from Acme Corp: 1,200 euros, due March 3. Paid: no.");
        let schema = json!({
            "type": "object",
            "properties": {
                "vendor": {"type": "string"},
                "amount": {"type": "number"},
                "status": {"enum": ["paid", "due"]},
                "category": {"type": "string", "x-derived": true},
                "notes": {"type": "array", "items": {"type": "string"}},
            }
        });
        let good = json!({"vendor": "ACME corp", "amount": 1200, "status": "due",
                          "category": "office supplies", "notes": ["due March 3"]});
        assert!(ungrounded(&schema, &good, &source).is_empty());
        let bad = json!({"vendor": "Globex", "amount": 1300, "notes": ["", "paid in full"]});
        let lines = ungrounded(&schema, &bad, &source);
        assert_eq!(lines.len(), 3, "{lines:?}");
        assert!(
            lines.iter().any(|l| l.contains("/vendor: \u{201c}Globex")),
            "{lines:?}"
        );
        assert!(
            lines.iter().any(|l| l.contains("/amount: 1300")),
            "{lines:?}"
        );
        assert!(lines.iter().any(|l| l.contains("/notes/1")), "{lines:?}");
    }

    #[test]
    fn references_are_followed_when_grounding() {
        let source = Source::new("Ann met Bob.");
        let schema = json!({"type": "array", "items": {"$ref": "#/$defs/p"},
                            "$defs": {"p": {"type": "string", "x-derived": true}}});
        assert!(ungrounded(&schema, &json!(["Carol"]), &source).is_empty());
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands("1200"), "1,200");
        assert_eq!(thousands("-1234567"), "-1,234,567");
        assert_eq!(thousands("12"), "12");
    }
}
