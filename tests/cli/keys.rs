//! `twofold keys …` as an operator runs them: rotating the signing key
//! under a running instance, rotating a generated master key, resealing,
//! and the status that tells when an old key may go.

use super::*;
use crate::common::binary::on_app;
use crate::common::TestApp;

/// The binary on a database of its own, with `dir` as data directory and
/// no configured master key (so it is generated into `dir`).
fn generated_keys(dir: &tempfile::TempDir, database: &str) -> Command {
    let mut cmd = bare(dir.path());
    cmd.env("TWOFOLD_DATABASE_URL", database)
        .env("TWOFOLD_DATA_DIR", dir.path());
    cmd
}

fn roles(status: &Value) -> Vec<(String, String, i64)> {
    status["master_keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["key_id"].as_str().unwrap().to_owned(),
                k["role"].as_str().unwrap().to_owned(),
                k["sealed"].as_i64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn generated_keys_rotate_reseal_and_report() {
    let dir = tempfile::tempdir().unwrap();
    let database = own_database_url(&dir);
    let keys = |args: &[&str]| {
        let mut all = vec!["--json", "keys"];
        all.extend_from_slice(args);
        json_ok(&run(generated_keys(&dir, &database), &all))
    };

    // The first rotation creates the first key, then replaces it.
    let rotated = keys(&["rotate-signing"]);
    let kid = rotated["kid"].as_str().expect("kid").to_owned();
    assert_eq!(rotated.as_object().unwrap().len(), 1, "{rotated}");
    let status = keys(&["status"]);
    let signing = status["signing_keys"].as_array().unwrap();
    assert_eq!(signing.len(), 2, "{status}");
    assert_eq!(signing.iter().filter(|k| k["state"] == "active").count(), 1);
    assert!(signing
        .iter()
        .any(|k| k["kid"] == kid.as_str() && k["state"] == "active"));
    assert!(signing.iter().any(|k| k["state"] == "retired"));
    let [(old_id, role, sealed)] = &roles(&status)[..] else {
        panic!("{status}")
    };
    assert_eq!((role.as_str(), *sealed), ("current", 2));

    let master = keys(&["rotate-master"]);
    assert_eq!(master["retired_key_id"], old_id.as_str(), "{master}");
    let new_id = master["key_id"].as_str().unwrap().to_owned();
    assert_ne!(&new_id, old_id);
    assert_eq!(
        (master["resealed"].as_u64(), master["remaining"].as_u64()),
        (Some(2), Some(0))
    );
    let retired = dir.path().join(format!("master-retired-{old_id}.key"));
    let mode = std::fs::metadata(&retired).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);

    assert_eq!(
        roles(&keys(&["status"])),
        [
            (new_id.clone(), "current".to_owned(), 2),
            (old_id.clone(), "previous".to_owned(), 0)
        ]
    );
    assert_eq!(keys(&["reseal"]), json!({ "resealed": 0, "remaining": 0 }));

    let human = run(generated_keys(&dir, &database), &["keys", "status"]);
    assert!(human.status.success(), "{}", text(&human.stderr));
    let human = text(&human.stdout);
    assert!(
        human.contains(&new_id) && human.contains("current"),
        "{human}"
    );
    assert!(human.contains(&kid) && human.contains("active"), "{human}");
}

#[test]
fn rotate_master_refuses_a_configured_key() {
    let dir = tempfile::tempdir().unwrap();
    let database = own_database_url(&dir);
    let mut cmd = generated_keys(&dir, &database);
    cmd.env("TWOFOLD_MASTER_KEY", crate::common::MASTER_KEY);
    let message = json_error(&run(cmd, &["--json", "keys", "rotate-master"]));
    assert!(message.contains("TWOFOLD_MASTER_KEY"), "{message}");
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.iter().any(|n| n.starts_with("master")), "{names:?}");
}

#[actix_web::test]
async fn a_running_instance_signs_with_the_key_rotate_signing_made() {
    let t = TestApp::spawn_isolated().await;
    let admin = t.account("Rotate").await;
    let before = t.access_token(&admin).await;
    let cwd = tempfile::tempdir().unwrap();
    let out = run(
        on_app(&t, cwd.path()),
        &["--json", "keys", "rotate-signing"],
    );
    let kid = json_ok(&out)["kid"].as_str().unwrap().to_owned();

    // Within the reload interval: the periodic pass.
    twofold::keys::maintain(&t.state).await.unwrap();
    let after = t.access_token(&admin).await;
    assert_eq!(crate::keys::kid_of(&after), kid);
    assert_eq!(t.get("/v1/me", Some(&before)).await.status, 200);
    assert_eq!(t.get("/v1/me", Some(&after)).await.status, 200);
}
