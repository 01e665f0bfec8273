use serde_json::json;

use super::*;

fn patterns<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(p)) = map.get("pattern") {
                out.push(p);
            }
            map.values().for_each(|v| patterns(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| patterns(v, out)),
        _ => {}
    }
}

#[test]
fn every_pattern_of_the_document_compiles() {
    let mut found = Vec::new();
    patterns(document(), &mut found);
    assert!(found.len() > 3);
    for pattern in found {
        assert!(regex::Regex::new(pattern).is_ok(), "{pattern}");
    }
}

#[test]
fn every_violation_is_named_with_its_path() {
    let found = component(
        "CreateUserRequest",
        &json!({"email": 42, "name": "", "role": "boss", "extra": true}),
        true,
    );
    let paths: Vec<&str> = found.iter().map(|v| v.path.as_str()).collect();
    assert!(paths.contains(&"email"), "{found:?}");
    assert!(paths.contains(&"role"), "{found:?}");
    assert!(paths.contains(&"extra"), "{found:?}");
}

#[test]
fn a_flood_of_violations_is_cut_to_a_readable_list() {
    let schema = json!({"type": "array", "items": {"type": "string", "format": "uuid"}});
    let ids: Vec<String> = (0..500).map(|i| format!("x{i}")).collect();
    let found = super::schema(&schema, &json!(ids), true);
    assert_eq!(found.len(), MAX_NAMED);
    assert_eq!(found[0].path, "[0]");
    assert!(
        found[MAX_NAMED - 1].message.contains("451 more"),
        "{found:?}"
    );
}
