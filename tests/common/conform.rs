//! Every JSON answer a test receives is checked against the schema
//! `openapi.yaml` documents for its operation and status, with the same
//! validator that checks request bodies (`twofold::openapi::validate`),
//! closed: a field the schema does not name is one a generated client
//! drops. The contract a generated client relies on is held by the whole
//! suite, not only by the fuzzer; a mismatch fails the test that got it.

use reqwest::Method;
use serde_json::Value;
use twofold::openapi::validate;

/// The operation documented for `method` on `path` (query string ignored),
/// matching `{param}` segments by position.
fn operation(method: &Method, path: &str) -> Option<&'static Value> {
    let path = path.split('?').next().unwrap_or(path);
    let wanted: Vec<&str> = path.split('/').collect();
    let paths = validate::document()["paths"].as_object()?;
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
    let violations = validate::schema(schema, body, true);
    assert!(
        violations.is_empty(),
        "{method} {path} answered {status} with a body the contract does not allow:\n  {}\nbody: {body}",
        violations
            .iter()
            .map(|v| format!("{}: {}", v.path, v.message))
            .collect::<Vec<_>>()
            .join("\n  ")
    );
}
