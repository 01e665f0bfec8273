//! The committed contract and the migrations stay in step with the code.

use std::collections::BTreeSet;

use crate::common::repo_path;
use serde_json::json;

#[test]
fn openapi_yaml_is_what_the_code_generates() {
    let committed = std::fs::read_to_string(repo_path("openapi.yaml")).unwrap();
    let generated = twofold::openapi::yaml().unwrap();
    assert!(
        committed == generated,
        "openapi.yaml is stale: run `cargo run -- openapi > openapi.yaml` and commit it"
    );
}

fn migration_names(dialect: &str) -> BTreeSet<String> {
    std::fs::read_dir(repo_path(&format!("migrations/{dialect}")))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn both_dialects_have_the_same_migrations() {
    let sqlite = migration_names("sqlite");
    let postgres = migration_names("postgres");
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, postgres);
    for name in &sqlite {
        for dialect in ["sqlite", "postgres"] {
            for file in ["up.sql", "down.sql"] {
                let path = repo_path(&format!("migrations/{dialect}/{name}/{file}"));
                assert!(path.is_file(), "{} is missing", path.display());
            }
        }
    }
}

#[test]
fn every_documented_operation_has_error_responses_and_a_tag() {
    let doc = serde_json::to_value(twofold::openapi::document()).unwrap();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            assert!(op["tags"].is_array(), "{method} {path} has no tag");
            let responses = op["responses"].as_object().unwrap();
            assert!(!responses.is_empty(), "{method} {path} has no responses");
            // A public operation declares no security at all.
            assert_ne!(op["security"], serde_json::json!([{}]), "{method} {path}");
            let secured = op["security"].as_array().is_some_and(|reqs| {
                reqs.iter()
                    .any(|r| r.as_object().is_some_and(|o| !o.is_empty()))
            });
            if secured {
                assert!(responses.contains_key("401"), "{method} {path} lacks 401");
                let forbidden = responses
                    .get("403")
                    .and_then(|r| r["description"].as_str())
                    .unwrap_or_default();
                let operator = op["security"].to_string().contains("operatorKey");
                // Signing out works from any address (the list grants nothing).
                let logout = path == "/v1/auth/logout";
                assert!(
                    operator || logout || forbidden.contains("ip_not_allowed"),
                    "{method} {path}: the IP allow-list applies but its 403 is not documented"
                );
            }
            if op.get("requestBody").is_some() {
                for status in ["400", "413", "415"] {
                    assert!(
                        responses.contains_key(status),
                        "{method} {path} lacks {status}"
                    );
                }
            }
        }
    }
}

#[test]
fn every_schema_reference_resolves() {
    let doc = serde_json::to_value(twofold::openapi::document()).unwrap();
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    let mut refs = Vec::new();
    collect_refs(&doc, &mut refs);
    assert!(!refs.is_empty());
    for r in refs {
        let name = r
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("unexpected $ref {r}"));
        assert!(schemas.contains_key(name), "dangling $ref {r}");
    }
}

#[test]
fn operation_ids_are_unique_verb_first_and_every_operation_is_described() {
    // What a generated client's method names start with: one verb from this
    // list, then the object, in snake_case.
    const VERBS: [&str; 18] = [
        "get",
        "list",
        "create",
        "add",
        "update",
        "delete",
        "deactivate",
        "reactivate",
        "start",
        "submit",
        "verify",
        "confirm",
        "enable",
        "reset",
        "regenerate",
        "register",
        "revoke",
        "end",
    ];
    let doc = serde_json::to_value(twofold::openapi::document()).unwrap();
    let mut seen = BTreeSet::new();
    for item in doc["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
            let id = op["operationId"].as_str().unwrap().to_owned();
            assert!(seen.insert(id.clone()), "operationId {id} twice");
            let verb = id.split('_').next().unwrap();
            assert!(
                VERBS.contains(&verb)
                    || ["logout", "change_my_password", "refresh_tokens"].contains(&id.as_str()),
                "operationId {id} does not start with a verb"
            );
            assert!(
                id.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "operationId {id} is not snake_case"
            );
            let described = op["description"]
                .as_str()
                .is_some_and(|d| !d.trim().is_empty());
            assert!(described, "operation {id} has no description");
            let summary = op["summary"].as_str().is_some_and(|d| !d.trim().is_empty());
            assert!(summary, "operation {id} has no summary");
        }
    }
}

fn collect_refs(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                if k == "$ref" {
                    out.push(v.as_str().unwrap_or_default().to_owned());
                } else {
                    collect_refs(v, out);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

#[test]
fn the_readme_error_table_lists_every_code_the_service_answers() {
    let readme = std::fs::read_to_string(repo_path("README.md")).unwrap();
    let table = readme
        .split("## Error codes")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("README has an `## Error codes` section");
    let missing: Vec<&str> = twofold::error::ErrorCode::ALL
        .iter()
        .map(|code| code.as_str())
        .filter(|code| !table.contains(&format!("`{code}`")))
        .collect();
    assert!(missing.is_empty(), "not in the README's table: {missing:?}");
}

#[actix_web::test]
async fn the_server_serves_the_committed_contract_as_yaml_and_json() {
    let t = crate::common::TestApp::spawn().await;
    let committed = std::fs::read_to_string(repo_path("openapi.yaml")).unwrap();
    let yaml = t.get("/openapi.yaml", None).await;
    assert_eq!(yaml.status, 200);
    assert_eq!(yaml.header("content-type"), "application/yaml");
    assert!(
        yaml.text == committed,
        "GET /openapi.yaml differs from openapi.yaml"
    );
    let json = t.get("/openapi.json", None).await;
    let document = serde_json::to_value(twofold::openapi::document()).unwrap();
    assert_eq!(json.ok(), &document);
}

#[actix_web::test]
async fn an_instance_names_its_own_public_url_as_the_server() {
    let t = crate::common::TestApp::with_env(&[("TWOFOLD_PUBLIC_URL", "https://2fa.example.com/")])
        .await;
    let json = t.get("/openapi.json", None).await;
    assert_eq!(json.ok()["servers"][0]["url"], "https://2fa.example.com");
    let committed = std::fs::read_to_string(repo_path("openapi.yaml")).unwrap();
    assert!(committed.contains("- url: http://localhost:8080\n"));
}

#[test]
fn the_suites_answer_check_refuses_what_the_contract_does_not_allow() {
    use crate::common::conform::check;
    use reqwest::Method;
    let json = "application/json";
    let good = json!({"status": "mfa_required", "flow_token": "flw_x", "expires_in": 600, "methods": ["totp"]});
    check(&Method::POST, "/v1/auth/login/password", 200, json, &good);
    let refused = |body: serde_json::Value| {
        std::panic::catch_unwind(|| {
            check(&Method::POST, "/v1/auth/login/password", 200, json, &body)
        })
        .is_err()
    };
    // An unknown state, a missing guaranteed field, a method outside the
    // enum, an undocumented field.
    assert!(refused(
        json!({"status": "maybe", "flow_token": "f", "expires_in": 1})
    ));
    assert!(refused(
        json!({"status": "mfa_required", "flow_token": "f", "expires_in": 1})
    ));
    assert!(refused(
        json!({"status": "mfa_required", "flow_token": "f", "expires_in": 1, "methods": ["sms"]})
    ));
    assert!(refused(
        json!({"status": "enrollment_required", "flow_token": "f", "expires_in": 1, "extra": 1})
    ));
    // A uuid and a date-time that are not.
    let user = |id: &str, at: &str| {
        json!({"id": id, "email": "a@b.c", "name": "A", "role": "admin",
        "status": "active", "deactivated_at": null, "twofa_status": "enabled", "twofa_required": true, "required_by": [], "methods": [],
        "last_login_at": null, "created_at": at})
    };
    check(
        &Method::GET,
        "/v1/admin/users/00000000-0000-4000-8000-000000000000",
        200,
        json,
        &user(
            "00000000-0000-4000-8000-000000000000",
            "2026-11-30T00:00:00Z",
        ),
    );
    let bad_id = user("u1", "2026-11-30T00:00:00Z");
    assert!(std::panic::catch_unwind(|| check(
        &Method::GET,
        "/v1/admin/users/x",
        200,
        json,
        &bad_id
    ))
    .is_err());
    let bad_time = user("00000000-0000-4000-8000-000000000000", "yesterday");
    assert!(std::panic::catch_unwind(|| check(
        &Method::GET,
        "/v1/admin/users/x",
        200,
        json,
        &bad_time
    ))
    .is_err());
}

#[test]
fn every_example_in_the_contract_is_an_answer_the_contract_allows() {
    use twofold::openapi::validate;
    let doc = validate::document();
    let mut checked = 0;
    for (name, schema) in doc["components"]["schemas"].as_object().unwrap() {
        if let Some(example) = schema.get("example") {
            let found = validate::component(name, example, true);
            assert!(found.is_empty(), "example of {name}: {found:?}");
            checked += 1;
        }
    }
    let mut states = 0;
    for item in doc["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
            for response in op["responses"].as_object().unwrap().values() {
                for media in response["content"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(_, m)| m)
                {
                    for example in media["examples"]
                        .as_object()
                        .into_iter()
                        .flatten()
                        .map(|(_, e)| e)
                    {
                        let found = validate::schema(&media["schema"], &example["value"], true);
                        assert!(found.is_empty(), "{}: {found:?}", op["operationId"]);
                        checked += 1;
                    }
                    if let Some(example) = media.get("example") {
                        let found = validate::schema(&media["schema"], example, true);
                        assert!(found.is_empty(), "{}: {found:?}", op["operationId"]);
                        checked += 1;
                    }
                    if media["schema"]["$ref"] == "#/components/schemas/LoginStep" {
                        let named: BTreeSet<&String> =
                            media["examples"].as_object().unwrap().keys().collect();
                        let mapped: BTreeSet<&String> = doc["components"]["schemas"]["LoginStep"]
                            ["discriminator"]["mapping"]
                            .as_object()
                            .unwrap()
                            .keys()
                            .collect();
                        assert_eq!(named, mapped, "{}", op["operationId"]);
                        states += 1;
                    }
                }
            }
        }
    }
    assert!(checked > 40, "{checked}");
    assert!(states >= 3, "{states}");
}
