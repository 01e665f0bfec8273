//! The master key ring across instances: the documented rolling rotation
//! (make the new key readable everywhere, switch sealing, reseal, retire)
//! with TOTP logins on two instances after every step, and what a value
//! under a key an instance lacks looks like.

use std::sync::Arc;

use twofold::clock::{Clock as _, ManualClock};
use twofold::crypto::secretbox::SecretBox;
use twofold::keys::reseal::reseal;
use twofold::keys::status::status;
use twofold::AppState;

use crate::common::{test_config, Enrolled, TestApp, MASTER_KEY};

const NEW_KEY: &str = "bmV3LW1hc3Rlci1rZXktZm9yLXJvdGF0aW9uLXRlc3Q=";

fn key_id(key: &str) -> String {
    SecretBox::from_base64(key).unwrap().key_id().to_owned()
}

/// An instance on `t`'s database and clock with these master keys.
async fn instance(t: &TestApp, current: &str, previous: &[&str]) -> TestApp {
    let previous = previous.join(",");
    t.sibling(&[
        ("TWOFOLD_MASTER_KEY", current),
        ("TWOFOLD_MASTER_KEYS_PREVIOUS", &previous),
    ])
    .await
}

/// Every user logs in with a code on every instance (a step apart, so no
/// code is a replay).
async fn logins_succeed(instances: &[&TestApp], users: &[&Enrolled]) {
    for t in instances {
        for user in users {
            t.advance(30);
            let done = t.login_with_totp(user).await;
            assert_eq!(done["status"], "authenticated");
        }
    }
}

async fn reseal_on(t: &TestApp) -> (u64, u64) {
    let master = t.state.secrets.keys();
    let done = t
        .state
        .db
        .run(move |conn| reseal(conn, &master))
        .await
        .unwrap();
    (done.resealed, done.remaining)
}

async fn sealed_under(t: &TestApp, key: &str) -> i64 {
    let master = t.state.secrets.keys();
    let now = t.clock.unix();
    let found = t
        .state
        .db
        .run(move |conn| status(conn, &master, now))
        .await
        .unwrap();
    let id = key_id(key);
    found
        .master_keys
        .iter()
        .find(|k| k.key_id == id)
        .map_or(0, |k| k.sealed)
}

#[actix_web::test]
async fn a_rolling_master_key_rotation_never_fails_a_login() {
    // Kept to the end: on SQLite its directory holds the database file.
    let first = TestApp::spawn_isolated().await;
    let a = instance(&first, MASTER_KEY, &[]).await;
    let b = instance(&a, MASTER_KEY, &[]).await;
    let admin = a.account("Rotation").await;
    let old_user = a.enroll(&admin).await;
    logins_succeed(&[&a, &b], &[&old_user]).await;

    // 1. The new key becomes readable everywhere (a rolling restart).
    let b = instance(&a, MASTER_KEY, &[NEW_KEY]).await;
    logins_succeed(&[&a, &b], &[&old_user]).await;
    let a = instance(&b, MASTER_KEY, &[NEW_KEY]).await;
    logins_succeed(&[&a, &b], &[&old_user]).await;

    // 2. Sealing switches, one instance at a time: values sealed under
    // either key open on both.
    let b = instance(&a, NEW_KEY, &[MASTER_KEY]).await;
    let tech = b
        .user(&admin.account_id, twofold::users::Role::Technician)
        .await;
    let new_user = b.enroll(&tech).await;
    logins_succeed(&[&a, &b], &[&old_user, &new_user]).await;
    let a = instance(&b, NEW_KEY, &[MASTER_KEY]).await;
    logins_succeed(&[&a, &b], &[&old_user, &new_user]).await;
    assert!(sealed_under(&a, MASTER_KEY).await > 0);

    // 3. Reseal while both serve: everything moves to the new key; a second
    // run finds nothing left.
    let (resealed, remaining) = reseal_on(&a).await;
    assert!(
        resealed >= 2,
        "the old user's secret and the signing key: {resealed}"
    );
    assert_eq!(remaining, 0);
    assert_eq!(reseal_on(&b).await, (0, 0), "idempotent");
    assert_eq!(sealed_under(&a, MASTER_KEY).await, 0);
    logins_succeed(&[&a, &b], &[&old_user, &new_user]).await;

    // 4. The old key is retired everywhere.
    let b = instance(&a, NEW_KEY, &[]).await;
    logins_succeed(&[&a, &b], &[&old_user, &new_user]).await;
    let a = instance(&b, NEW_KEY, &[]).await;
    logins_succeed(&[&a, &b], &[&old_user, &new_user]).await;
    assert!(sealed_under(&a, NEW_KEY).await >= 3);
}

#[actix_web::test]
async fn a_secret_under_a_key_the_instance_lacks_answers_key_unavailable() {
    let first = TestApp::spawn_isolated().await;
    let old_only = instance(&first, MASTER_KEY, &[]).await;
    let admin = old_only.account("Missing key").await;
    // Everything moves to the new key, except what an instance still on the
    // old key seals afterwards (an operator who skipped step 1).
    let both = instance(&old_only, NEW_KEY, &[MASTER_KEY]).await;
    assert_eq!(reseal_on(&both).await.1, 0);
    let user = old_only.enroll(&admin).await;

    let new_only = instance(&both, NEW_KEY, &[]).await;
    let flow = new_only.login_to_mfa(&user.person).await;
    let code = crate::common::code_at(&user.secret, new_only.clock.unix());
    let refused = new_only
        .post(
            "/v1/auth/login/totp",
            serde_json::json!({ "flow_token": flow, "code": code }),
        )
        .await;
    refused.problem(500, "key_unavailable");
    assert!(
        !refused.text.contains(&key_id(MASTER_KEY)),
        "the key id is logged, not sent: {}",
        refused.text
    );

    // `keys status` names the missing key and what it seals; a reseal with
    // it fixes everything.
    let master = new_only.state.secrets.keys();
    let now = new_only.clock.unix();
    let found = new_only
        .state
        .db
        .run(move |conn| status(conn, &master, now))
        .await
        .unwrap();
    let missing: Vec<_> = found
        .master_keys
        .iter()
        .filter(|k| k.role == "missing")
        .map(|k| (k.key_id.clone(), k.sealed))
        .collect();
    assert_eq!(missing, [(key_id(MASTER_KEY), 1)]);
    assert_eq!(reseal_on(&new_only).await, (0, 1), "it cannot open it");
    assert_eq!(reseal_on(&both).await, (1, 0));
    new_only.advance(30);
    new_only.login_with_totp(&user).await;
}

#[actix_web::test]
async fn an_instance_that_cannot_open_the_signing_key_refuses_to_start() {
    let t = TestApp::spawn_isolated().await;
    let dir = tempfile::tempdir().unwrap();
    let config = test_config(
        &dir,
        &[
            ("TWOFOLD_DATABASE_URL", &t.state.config.database_url),
            ("TWOFOLD_MASTER_KEY", NEW_KEY),
        ],
    );
    let db = twofold::db::Db::connect(&config.database_url).unwrap();
    let clock = ManualClock::new(t.clock.now());
    let Err(message) = AppState::new(config, db, Arc::new(clock)) else {
        panic!("started without the key that seals the signing key");
    };
    assert!(message.contains(&key_id(MASTER_KEY)), "{message}");
    assert!(message.contains("TWOFOLD_MASTER_KEY"), "{message}");
}
