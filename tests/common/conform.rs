//! Every JSON answer a test receives is checked against the schema
//! `openapi.yaml` documents for its operation and status: the contract a
//! generated client relies on is held by the whole suite, not only by the
//! fuzzer. A mismatch fails the test that got the answer.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use reqwest::Method;
use serde_json::Value;

fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| serde_json::to_value(twofold::openapi::document()).expect("document"))
}

/// The operation documented for `method` on `path` (query string ignored),
/// matching `{param}` segments by position.
fn operation(method: &Method, path: &str) -> Option<&'static Value> {
    let path = path.split('?').next().unwrap_or(path);
    let wanted: Vec<&str> = path.split('/').collect();
    let paths = document()["paths"].as_object()?;
    paths.iter().find_map(|(template, item)| {
        let parts: Vec<&str> = template.split('/').collect();
        let same = parts.len() == wanted.len()
            && parts
                .iter()
                .zip(&wanted)
                .all(|(t, w)| (t.starts_with('{') && !w.is_empty()) || t == w);
        same.then(|| item.get(method.as_str().to_lowercase()))
            .flatten()
    })
}

/// Panics unless a JSON `body` answered with `status` to `method path`
/// matches the documented schema of that response.
pub fn check(method: &Method, path: &str, status: u16, content_type: &str, body: &Value) {
    let Some(op) = operation(method, path) else {
        return;
    };
    let Some(response) = op["responses"].get(status.to_string()) else {
        return;
    };
    let media = content_type.split(';').next().unwrap_or("").trim();
    if !(media == "application/json" || media.ends_with("+json")) {
        return;
    }
    let Some(schema) = response["content"].get(media).map(|m| &m["schema"]) else {
        return;
    };
    let mut errors = Vec::new();
    validate(schema, body, "$", true, &mut errors);
    assert!(
        errors.is_empty(),
        "{method} {path} answered {status} with a body the contract does not allow:\n  {}\nbody: {body}",
        errors.join("\n  ")
    );
}

/// Whether `text` matches `pattern`, each pattern compiled once.
fn matches(pattern: &str, text: &str) -> bool {
    static COMPILED: OnceLock<Mutex<HashMap<String, regex::Regex>>> = OnceLock::new();
    let mut compiled = COMPILED
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    compiled
        .entry(pattern.to_owned())
        .or_insert_with(|| regex::Regex::new(pattern).expect("pattern"))
        .is_match(text)
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

fn type_matches(name: &str, value: &Value) -> bool {
    match name {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        _ => true,
    }
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

/// Adds to `errors` what in `value` `schema` does not allow. `closed`: a
/// field `schema` (with its `allOf` parts) does not name is an error, as a
/// generated client would drop it.
fn validate(schema: &Value, value: &Value, at: &str, closed: bool, errors: &mut Vec<String>) {
    let schema = resolve(schema);
    if let Some(branches) = schema.get("oneOf").and_then(Value::as_array) {
        let matching = branches
            .iter()
            .filter(|branch| {
                let mut inner = Vec::new();
                validate(branch, value, at, true, &mut inner);
                inner.is_empty()
            })
            .count();
        if matching != 1 {
            errors.push(format!(
                "{at}: matches {matching} of the oneOf branches, not exactly one"
            ));
        }
    }
    for branch in schema
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        validate(branch, value, at, false, errors);
    }
    match schema.get("type") {
        Some(Value::String(name)) if !type_matches(name, value) => {
            errors.push(format!("{at}: not a {name}"));
            return;
        }
        Some(Value::Array(names))
            if !names
                .iter()
                .any(|n| type_matches(n.as_str().unwrap_or(""), value)) =>
        {
            errors.push(format!("{at}: not any of {names:?}"));
            return;
        }
        _ => {}
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array) {
        if !allowed.contains(value) {
            errors.push(format!("{at}: {value} is not one of {allowed:?}"));
        }
    }
    if let (Some(pattern), Some(text)) = (
        schema.get("pattern").and_then(Value::as_str),
        value.as_str(),
    ) {
        if !matches(pattern, text) {
            errors.push(format!("{at}: {text:?} does not match {pattern}"));
        }
    }
    if let (Some(format), Some(text)) =
        (schema.get("format").and_then(Value::as_str), value.as_str())
    {
        let ok = match format {
            "uuid" => uuid::Uuid::parse_str(text).is_ok(),
            "date-time" => chrono::DateTime::parse_from_rfc3339(text).is_ok(),
            _ => true,
        };
        if !ok {
            errors.push(format!("{at}: {text:?} is not a {format}"));
        }
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
                errors.push(format!("{at}: required field {field} is missing"));
            }
        }
        let properties = schema.get("properties").and_then(Value::as_object);
        let named = named_properties(schema);
        let open = schema.get("additionalProperties").is_some();
        for (key, item) in object {
            if let Some(property) = properties.and_then(|p| p.get(key)) {
                validate(property, item, &format!("{at}.{key}"), true, errors);
            }
            if closed && !open && named.as_ref().is_some_and(|names| !names.contains(&key)) {
                errors.push(format!("{at}: field {key} is not documented"));
            }
        }
    }
    if let (Some(items), Some(array)) = (schema.get("items"), value.as_array()) {
        for (i, item) in array.iter().enumerate() {
            validate(items, item, &format!("{at}[{i}]"), true, errors);
        }
    }
}
