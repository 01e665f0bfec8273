//! The committed contract and the migrations stay in step with the code.

use std::collections::BTreeSet;

use crate::common::repo_path;

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
            // `security: [{}]` marks a public operation explicitly.
            let secured = op["security"].as_array().is_some_and(|reqs| {
                reqs.iter()
                    .any(|r| r.as_object().is_some_and(|o| !o.is_empty()))
            });
            if secured {
                assert!(responses.contains_key("401"), "{method} {path} lacks 401");
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
