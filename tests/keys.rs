//! Token-signing keys in the database: rotation seen by two instances, the
//! JWKS over a key's life, the import of an older deployment's key file,
//! and rotation by age. The master key ring is in `keys/master.rs`, the
//! `twofold keys` commands in `cli/keys.rs`.

mod master;

use jsonwebtoken::{encode, Algorithm, Header};
use serde_json::Value;
use twofold::clock::Clock as _;
use twofold::keys::repo;
use twofold::keys::signing::{self, RETIRED_GRACE_SECS};
use twofold::sessions::jwt::AccessClaims;
use twofold::sessions::keys::SigningKey;

use crate::common::{access, Person, TestApp};
use crate::tokens::claims_of;

/// The `kid` header of a JWT.
pub fn kid_of(token: &str) -> String {
    jsonwebtoken::decode_header(token)
        .unwrap()
        .kid
        .expect("tokens carry kid")
}

/// The key ids a JWKS publishes, sorted.
fn jwks_kids(jwks: &Value) -> Vec<String> {
    let mut kids: Vec<String> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect();
    kids.sort();
    kids
}

/// Rotates the signing key as `twofold keys rotate-signing` does.
pub async fn rotate(t: &TestApp) -> String {
    let master = t.state.secrets.keys();
    let now = t.clock.unix();
    t.state
        .db
        .run(move |conn| {
            let active = signing::active_kid(conn)?.expect("an active key");
            Ok(signing::rotate(conn, &master, &active, now)?.expect("rotated"))
        })
        .await
        .unwrap()
}

/// The private half of a stored key, as only the database and the master
/// key can give it.
async fn stored_key(t: &TestApp, kid: &str) -> SigningKey {
    let kid = kid.to_owned();
    let rows = t.state.db.run(repo::all).await.unwrap();
    let row = rows.into_iter().find(|r| r.kid == kid).expect("stored");
    let seed = t
        .state
        .secrets
        .open(&row.private_sealed, &repo::signing_key_owner(&row.kid))
        .unwrap();
    SigningKey::from_seed(seed.try_into().unwrap()).unwrap()
}

async fn me(t: &TestApp, token: &str) -> u16 {
    t.get("/v1/me", Some(token)).await.status.as_u16()
}

async fn signed_in(t: &TestApp) -> (Person, String) {
    let admin = t.account("Keys").await;
    let token = t.access_token(&admin).await;
    (admin, token)
}

#[actix_web::test]
async fn a_rotation_reaches_every_instance_and_earlier_tokens_stay_valid_until_they_expire() {
    let a = TestApp::spawn_isolated().await;
    let b = a.sibling(&[]).await;
    let (admin, before) = signed_in(&a).await;
    let old_kid = kid_of(&before);
    assert_eq!(
        jwks_kids(&a.get("/.well-known/jwks.json", None).await.json),
        std::slice::from_ref(&old_kid)
    );

    let new_kid = rotate(&a).await;
    assert_ne!(new_kid, old_kid);
    twofold::keys::maintain(&a.state).await.unwrap();

    // A signs with the new key; its tokens verify on B at once, although B
    // has not re-read the keys yet (an unknown kid makes it look).
    let after = access(&a.login(&admin).await);
    assert_eq!(kid_of(&after), new_kid);
    assert_eq!(me(&b, &after).await, 200);
    // Tokens from before the rotation verify on both.
    assert_eq!(me(&a, &before).await, 200);
    assert_eq!(me(&b, &before).await, 200);
    // Both keys are published while old tokens may live.
    let published = jwks_kids(&a.get("/.well-known/jwks.json", None).await.json);
    let mut both = vec![new_kid.clone(), old_kid.clone()];
    both.sort();
    assert_eq!(published, both);
    assert_eq!(
        jwks_kids(&b.get("/.well-known/jwks.json", None).await.json),
        published
    );
    // B signs with the new key too once it has re-read the set.
    assert_eq!(kid_of(&access(&b.login(&admin).await)), new_kid);

    // A token the old key signed late (by an instance that had not reloaded
    // yet) with an expiry past the grace period: valid only until then.
    let old = stored_key(&a, &old_kid).await;
    let mut claims: AccessClaims = serde_json::from_value(claims_of(&before)).unwrap();
    claims.exp = a.clock.unix() + 2 * RETIRED_GRACE_SECS;
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(old_kid.clone());
    let late = encode(&header, &claims, &old.encoding).unwrap();
    assert_eq!(me(&b, &late).await, 200);

    a.advance(RETIRED_GRACE_SECS);
    for t in [&a, &b] {
        assert_eq!(
            jwks_kids(&t.get("/.well-known/jwks.json", None).await.json),
            std::slice::from_ref(&new_kid),
            "the old key is dropped once nothing it signed can be valid"
        );
        t.get("/v1/me", Some(&late))
            .await
            .problem(401, "invalid_token");
        t.get("/v1/me", Some(&before))
            .await
            .problem(401, "invalid_token");
    }

    // A kid that was never ours, and a token without one.
    let stranger = SigningKey::generate().unwrap();
    header.kid = Some(stranger.kid.clone());
    let foreign = encode(&header, &claims, &stranger.encoding).unwrap();
    b.get("/v1/me", Some(&foreign))
        .await
        .problem(401, "invalid_token");
    let no_kid = encode(&Header::new(Algorithm::EdDSA), &claims, &stranger.encoding).unwrap();
    b.get("/v1/me", Some(&no_kid))
        .await
        .problem(401, "invalid_token");

    // The janitor removes the key that can verify nothing any more.
    let swept = twofold::ops::janitor::pass(&a.state).await.unwrap();
    assert_eq!(swept.signing_keys, 1);
}

#[actix_web::test]
async fn the_first_start_imports_the_key_file_of_an_older_deployment() {
    let own = TestApp::spawn_isolated().await; // only for a database of its own
    let url = own.state.config.database_url.clone();
    let repo_rows = own.state.db.run(repo::all).await.unwrap();
    let legacy = SigningKey::generate().unwrap();
    // A database that has never held keys, as before this version.
    own.state
        .db
        .run(|conn| {
            use diesel::prelude::*;
            diesel::delete(twofold::db::schema::signing_keys::table).execute(conn)?;
            Ok(())
        })
        .await
        .unwrap();
    assert_eq!(repo_rows.len(), 1);
    let data = tempfile::tempdir().unwrap();
    std::fs::write(
        data.path().join("jwt-signing-key.pem"),
        legacy.to_pem().expose(),
    )
    .unwrap();
    let dir = data.path().display().to_string();
    let upgraded =
        TestApp::with_env(&[("TWOFOLD_DATABASE_URL", &url), ("TWOFOLD_DATA_DIR", &dir)]).await;

    // Sessions signed by the old file's key keep verifying: it is the key.
    let (_, token) = signed_in(&upgraded).await;
    assert_eq!(kid_of(&token), legacy.kid);
    let jwks = upgraded.get("/.well-known/jwks.json", None).await;
    assert_eq!(jwks_kids(&jwks.json), std::slice::from_ref(&legacy.kid));

    // Another instance with another key file does not replace it.
    let other = tempfile::tempdir().unwrap();
    std::fs::write(
        other.path().join("jwt-signing-key.pem"),
        SigningKey::generate().unwrap().to_pem().expose(),
    )
    .unwrap();
    let other_dir = other.path().display().to_string();
    let second = upgraded.sibling(&[("TWOFOLD_DATA_DIR", &other_dir)]).await;
    assert_eq!(kid_of(&signed_in(&second).await.1), legacy.kid);
    let rows = second.state.db.run(repo::all).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert!(rows[0].private_sealed.starts_with("v1."), "sealed, not PEM");
}

#[actix_web::test]
async fn the_key_rotates_by_itself_once_it_reaches_its_maximum_age() {
    let t = TestApp::spawn_isolated().await;
    let aging = t.sibling(&[("TWOFOLD_SIGNING_KEY_MAX_AGE", "2h")]).await;
    let (_, token) = signed_in(&aging).await;
    let first = kid_of(&token);

    aging.advance(2 * 3600 - 60);
    twofold::keys::maintain(&aging.state).await.unwrap();
    assert_eq!(
        kid_of(&aging.access_token(&signed_in(&aging).await.0).await),
        first
    );

    aging.advance(60);
    twofold::keys::maintain(&aging.state).await.unwrap();
    let second = kid_of(&aging.access_token(&signed_in(&aging).await.0).await);
    assert_ne!(second, first);
    // One rotation per age, however many instances run the pass.
    twofold::keys::maintain(&aging.state).await.unwrap();
    twofold::keys::maintain(&t.state).await.unwrap();
    let rows = t.state.db.run(repo::all).await.unwrap();
    assert_eq!(rows.len(), 2, "{rows:?}");
    // The instance without the setting follows after its own pass.
    assert_eq!(
        kid_of(&t.access_token(&signed_in(&t).await.0).await),
        second
    );
}
