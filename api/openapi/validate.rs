//! Checks a JSON value against a schema of the document: the one rule
//! that reads the contract at run time. A request body is checked against
//! its documented schema before it is read ([`crate::extract::ApiJson`]),
//! so a client learns every field it got wrong at once, and the limits a
//! schema states are the limits the server enforces. The integration suite
//! checks every answer it gets with the same code.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock, PoisonError};

use serde_json::Value;

/// The document as JSON, built once.
pub fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| serde_json::to_value(super::document()).unwrap_or(Value::Null))
}

/// A place in the value and what is wrong there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// `email`, `user_ids[2]`, `credential.response.clientDataJSON`; `body`
    /// for the value itself.
    pub path: String,
    pub message: String,
}

impl Violation {
    /// A violation at `path` (`body` for the value itself).
    fn at(path: &str, message: String) -> Self {
        let path = if path.is_empty() { "body" } else { path };
        Self {
            path: path.to_owned(),
            message,
        }
    }
}

/// What in `value` the component schema `name` does not allow. `closed`:
/// a field the schema does not name is a violation (requests are closed by
/// `additionalProperties: false`; answers are checked closed, because a
/// generated client drops such a field).
pub fn component(name: &str, value: &Value, closed: bool) -> Vec<Violation> {
    schema(&document()["components"]["schemas"][name], value, closed)
}

/// At most this many violations are named; the last one then says how
/// many more there are.
pub const MAX_NAMED: usize = 50;

/// What in `value` `schema` does not allow (see [`component`]).
pub fn schema(schema: &Value, value: &Value, closed: bool) -> Vec<Violation> {
    let mut found = Vec::new();
    check(schema, value, "", closed, &mut found);
    if found.len() > MAX_NAMED {
        let more = found.len() - (MAX_NAMED - 1);
        found.truncate(MAX_NAMED - 1);
        found.push(Violation {
            path: "body".to_owned(),
            message: format!("and {more} more problems of the same kind"),
        });
    }
    found
}

fn resolve(schema: &Value) -> &Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let name = r.trim_start_matches("#/components/schemas/");
            resolve(&document()["components"]["schemas"][name])
        }
        None => schema,
    }
}

fn join(at: &str, key: &str) -> String {
    if at.is_empty() {
        key.to_owned()
    } else {
        format!("{at}.{key}")
    }
}

fn type_matches(name: &str, value: &Value) -> bool {
    match name {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "string" => value.is_string(),
        // JSON Schema: a number with a zero fraction (`50.0`) is an integer.
        "integer" => {
            value.is_i64() || value.is_u64() || value.as_f64().is_some_and(|f| f.fract() == 0.0)
        }
        "number" => value.is_number(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        _ => true,
    }
}

/// Whether `text` matches `pattern`, each pattern compiled once. A pattern
/// the regex engine refuses matches everything (the document's patterns are
/// unit-tested to compile).
fn matches(pattern: &str, text: &str) -> bool {
    static COMPILED: OnceLock<Mutex<HashMap<String, Option<regex::Regex>>>> = OnceLock::new();
    let mut compiled = COMPILED
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    compiled
        .entry(pattern.to_owned())
        .or_insert_with(|| regex::Regex::new(pattern).ok())
        .as_ref()
        .is_none_or(|re| re.is_match(text))
}

/// The properties `schema` names, with those of its `allOf` parts; `None`
/// when it names none (any object then passes).
fn named_properties(schema: &Value) -> Option<Vec<&String>> {
    let schema = resolve(schema);
    let mut names: Vec<&String> = schema
        .get("properties")
        .and_then(Value::as_object)
        .map(|p| p.keys().collect())
        .unwrap_or_default();
    let mut any = schema.get("properties").is_some();
    for part in schema
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(more) = named_properties(part) {
            names.extend(more);
            any = true;
        }
    }
    any.then_some(names)
}

fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn check(schema: &Value, value: &Value, at: &str, closed: bool, found: &mut Vec<Violation>) {
    let schema = resolve(schema);
    let mut report = |message: String| found.push(Violation::at(at, message));
    if let Some(branches) = schema.get("oneOf").and_then(Value::as_array) {
        let matching = branches
            .iter()
            .filter(|branch| {
                let mut inner = Vec::new();
                check(branch, value, at, closed, &mut inner);
                inner.is_empty()
            })
            .count();
        if matching != 1 {
            report(format!(
                "matches {matching} of the {} allowed forms, not exactly one",
                branches.len()
            ));
        }
    }
    match schema.get("type") {
        Some(Value::String(name)) if !type_matches(name, value) => {
            return report(format!(
                "must be {}, not {}",
                article(name),
                describe(value)
            ));
        }
        Some(Value::Array(names))
            if !names
                .iter()
                .any(|n| type_matches(n.as_str().unwrap_or(""), value)) =>
        {
            let wanted: Vec<String> = names
                .iter()
                .filter_map(Value::as_str)
                .map(article)
                .collect();
            return report(format!(
                "must be {}, not {}",
                wanted.join(" or "),
                describe(value)
            ));
        }
        _ => {}
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array) {
        if !allowed.contains(value) {
            let names: Vec<String> = allowed.iter().map(Value::to_string).collect();
            report(format!("must be one of {}", names.join(", ")));
        }
    }
    if let Some(text) = value.as_str() {
        check_string(schema, text, &mut report);
    }
    if let Some(number) = value.as_f64() {
        if let Some(min) = schema.get("minimum").and_then(Value::as_f64) {
            if number < min {
                report(format!("must be at least {min}"));
            }
        }
        if let Some(max) = schema.get("maximum").and_then(Value::as_f64) {
            if number > max {
                report(format!("must be at most {max}"));
            }
        }
    }
    for part in schema
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        check(part, value, at, false, found);
    }
    if let Some(object) = value.as_object() {
        for field in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let field = field.as_str().unwrap_or_default();
            if !object.contains_key(field) {
                found.push(Violation {
                    path: join(at, field),
                    message: "is required".to_owned(),
                });
            }
        }
        let properties = schema.get("properties").and_then(Value::as_object);
        // `additionalProperties: false` with no `properties` allows only `{}`.
        let denies_extra = schema.get("additionalProperties") == Some(&Value::Bool(false));
        let named = named_properties(schema).or_else(|| denies_extra.then(Vec::new));
        let open = schema
            .get("additionalProperties")
            .is_some_and(|extra| extra != &Value::Bool(false));
        for (key, item) in object {
            if let Some(property) = properties.and_then(|p| p.get(key)) {
                check(property, item, &join(at, key), true, found);
            } else if closed && !open && named.as_ref().is_some_and(|names| !names.contains(&key)) {
                found.push(Violation {
                    path: join(at, key),
                    message: "is not a field of this object".to_owned(),
                });
            }
        }
    }
    if let Some(array) = value.as_array() {
        check_array(schema, array, at, found);
    }
}

/// Reports the first rule of `schema` that `text` breaks: one message per
/// field.
fn check_string(schema: &Value, text: &str, report: &mut impl FnMut(String)) {
    if let Some(message) = string_problem(schema, text) {
        report(message);
    }
}

fn string_problem(schema: &Value, text: &str) -> Option<String> {
    let length = text.chars().count() as u64;
    if let Some(min) = schema.get("minLength").and_then(Value::as_u64) {
        if length < min {
            return Some(if min == 1 {
                "must not be empty".to_owned()
            } else {
                format!("must be at least {min} characters")
            });
        }
    }
    if let Some(max) = schema.get("maxLength").and_then(Value::as_u64) {
        if length > max {
            return Some(format!("must be at most {max} characters"));
        }
    }
    if let Some(pattern) = schema.get("pattern").and_then(Value::as_str) {
        if !matches(pattern, text) {
            // A long pattern (the character classes of names) says less
            // than the field's description.
            return Some(if pattern.len() <= 60 {
                format!("must match {pattern}")
            } else {
                "contains characters that are not allowed here (see the schema's description)"
                    .to_owned()
            });
        }
    }
    let format = schema.get("format").and_then(Value::as_str)?;
    let well_formed = match format {
        "uuid" => uuid::Uuid::parse_str(text).is_ok(),
        "date-time" => chrono::DateTime::parse_from_rfc3339(text).is_ok(),
        _ => true,
    };
    (!well_formed).then(|| format!("must be a {format}"))
}

fn check_array(schema: &Value, array: &[Value], at: &str, found: &mut Vec<Violation>) {
    let length = array.len() as u64;
    let mut report = |message: String| found.push(Violation::at(at, message));
    if let Some(min) = schema.get("minItems").and_then(Value::as_u64) {
        if length < min {
            report(format!("must have at least {min} items"));
        }
    }
    if let Some(max) = schema.get("maxItems").and_then(Value::as_u64) {
        if length > max {
            report(format!("must have at most {max} items"));
        }
    }
    if let Some(items) = schema.get("items") {
        for (i, item) in array.iter().enumerate() {
            check(items, item, &format!("{at}[{i}]"), true, found);
        }
    }
}

fn article(name: &str) -> String {
    match name {
        "integer" | "object" | "array" => format!("an {name}"),
        "null" => "null".to_owned(),
        _ => format!("a {name}"),
    }
}

#[cfg(test)]
mod tests;
