//! Access and refresh tokens: offline verification, expiry, forgery,
//! rotation, reuse detection and logout.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use reqwest::Method;
use serde_json::{json, Value};
use twofold::keys::signing::SigningKeys;
use twofold::sessions::jwt::{AccessClaims, TokenSigner};
use twofold::sessions::keys::SigningKey;

use crate::common::TestApp;

/// The payload of a JWT, unverified (for assertions only).
pub fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

fn claims(token: &str) -> AccessClaims {
    serde_json::from_value(claims_of(token)).unwrap()
}

#[actix_web::test]
async fn access_tokens_verify_offline_with_the_published_jwks() {
    let t = TestApp::spawn().await;
    let admin = t.account("Acme").await;
    let access = t.access_token(&admin).await;

    let jwks = t.get("/.well-known/jwks.json", None).await;
    let jwks = jwks.ok();
    let key = &jwks["keys"][0];
    assert_eq!(key["kty"], "OKP");
    assert_eq!(key["alg"], "EdDSA");
    assert!(key.get("d").is_none());
    let header = jsonwebtoken::decode_header(&access).unwrap();
    assert_eq!(header.alg, Algorithm::EdDSA);
    assert_eq!(header.kid.as_deref(), key["kid"].as_str());

    let decoding = DecodingKey::from_ed_components(key["x"].as_str().unwrap()).unwrap();
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_audience(&["http://localhost:8080"]);
    validation.set_issuer(&["twofold"]);
    validation.validate_exp = false; // the test clock is not the wall clock
    let verified = jsonwebtoken::decode::<AccessClaims>(&access, &decoding, &validation).unwrap();
    assert_eq!(verified.claims.sub, admin.id);
}

#[actix_web::test]
async fn access_tokens_expire_after_fifteen_minutes_of_the_injected_clock() {
    let t = TestApp::spawn().await;
    let admin = t.account("Acme").await;
    let access = t.access_token(&admin).await;
    t.advance(899);
    t.get("/v1/me", Some(&access)).await.ok();
    t.advance(1);
    let a = t.get("/v1/me", Some(&access)).await;
    a.problem(401, "invalid_token");
    assert_eq!(a.header("www-authenticate"), "Bearer");
}

#[actix_web::test]
async fn forged_and_foreign_tokens_are_refused() {
    let t = TestApp::spawn().await;
    let admin = t.account("Acme").await;
    let access = t.access_token(&admin).await;
    let real = claims(&access);

    // alg: none, with the real claims.
    let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = access.split('.').nth(1).unwrap();
    let alg_none = format!("{none_header}.{payload}.");

    // HS256 keyed with the public key (the classic algorithm-confusion attack).
    let jwks = t.get("/.well-known/jwks.json", None).await;
    let public_x = jwks.json["keys"][0]["x"].as_str().unwrap().to_owned();
    let hs256 = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &real,
        &EncodingKey::from_secret(public_x.as_bytes()),
    )
    .unwrap();

    // Correctly signed by us, but for another audience, or already expired.
    let mut other_audience = real.clone();
    other_audience.aud = "https://some-other-api.example".into();
    let wrong_audience = t.state.tokens.sign(&other_audience).unwrap();
    let mut other_issuer = real.clone();
    other_issuer.iss = "someone-else".into();
    let wrong_issuer = t.state.tokens.sign(&other_issuer).unwrap();
    let mut expired_claims = real.clone();
    expired_claims.exp = crate::common::START - 1;
    let expired = t.state.tokens.sign(&expired_claims).unwrap();

    // Signed by a key that is not ours.
    let stranger = TokenSigner::new(
        SigningKeys::fixed(SigningKey::generate().unwrap()),
        "twofold".into(),
        "http://localhost:8080".into(),
    );
    let foreign = stranger.sign(&real).unwrap();

    // Our signature over someone else's claims.
    let mut parts: Vec<&str> = access.split('.').collect();
    let mut elevated = claims_of(&access);
    elevated["role"] = json!("admin");
    elevated["sub"] = json!("another-user");
    let elevated = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&elevated).unwrap());
    parts[1] = &elevated;
    let tampered = parts.join(".");

    for (name, token) in [
        ("alg none", alg_none.as_str()),
        ("hs256 with public key", &hs256),
        ("wrong audience", &wrong_audience),
        ("wrong issuer", &wrong_issuer),
        ("expired", &expired),
        ("foreign key", &foreign),
        ("tampered payload", &tampered),
        ("garbage", "not.a.jwt"),
    ] {
        let a = t.get("/v1/me", Some(token)).await;
        assert_eq!(a.status.as_u16(), 401, "{name}: {}", a.text);
        assert_eq!(a.json["code"], "invalid_token", "{name}");
    }
    // The genuine token still works.
    t.get("/v1/me", Some(&access)).await.ok();
}

#[actix_web::test]
async fn missing_or_malformed_authorization_is_refused() {
    let t = TestApp::spawn().await;
    t.get("/v1/me", None).await.problem(401, "unauthorized");
    for value in ["Basic YWRtaW46YWRtaW4=", "Bearer", "Bearer ", "token"] {
        let a = t
            .client
            .get(t.url("/v1/me"))
            .header("authorization", value)
            .send()
            .await
            .unwrap();
        assert_eq!(a.status().as_u16(), 401, "{value}");
    }
}

#[actix_web::test]
async fn refresh_rotates_and_a_reused_token_revokes_the_session() {
    let t = TestApp::spawn().await;
    let admin = t.account("Acme").await;
    let first = t.login(&admin).await;
    let sid = claims(first["access_token"].as_str().unwrap()).sid;

    t.advance(60);
    let second = t
        .post(
            "/v1/auth/token/refresh",
            json!({ "refresh_token": first["refresh_token"] }),
        )
        .await;
    let second = second.ok().clone();
    assert_ne!(second["refresh_token"], first["refresh_token"]);
    let rotated = claims(second["access_token"].as_str().unwrap());
    assert_eq!(rotated.sid, sid, "refresh stays in the same session");
    assert_eq!(rotated.iat, crate::common::START + 60);

    // The first refresh token comes back: theft. The whole session dies.
    t.post(
        "/v1/auth/token/refresh",
        json!({ "refresh_token": first["refresh_token"] }),
    )
    .await
    .problem(401, "invalid_token");
    t.get("/v1/me", second["access_token"].as_str())
        .await
        .problem(401, "invalid_token");
    t.post(
        "/v1/auth/token/refresh",
        json!({ "refresh_token": second["refresh_token"] }),
    )
    .await
    .problem(401, "invalid_token");

    t.post(
        "/v1/auth/token/refresh",
        json!({ "refresh_token": "rt_unknown" }),
    )
    .await
    .problem(401, "invalid_token");
}

#[actix_web::test]
async fn racing_refreshes_of_one_token_yield_one_new_pair() {
    let t = TestApp::spawn().await;
    let admin = t.account("Acme").await;
    let tokens = t.login(&admin).await;
    let body = json!({ "refresh_token": tokens["refresh_token"] });
    let answers = futures_util::future::join_all(
        (0..6).map(|_| t.post("/v1/auth/token/refresh", body.clone())),
    )
    .await;
    // Exactly one: none would mean the token never worked, two a replay.
    let won = answers.iter().filter(|a| a.status.is_success()).count();
    assert_eq!(won, 1, "{answers:?}");
    for lost in answers.iter().filter(|a| !a.status.is_success()) {
        lost.problem(401, "invalid_token");
    }
}

#[actix_web::test]
async fn logout_revokes_access_and_refresh_at_once() {
    let t = TestApp::spawn().await;
    let admin = t.account("Acme").await;
    let tokens = t.login(&admin).await;
    let access = tokens["access_token"].as_str().unwrap();
    let other = t.access_token(&admin).await;

    let out = t
        .call(Method::POST, "/v1/auth/logout", Some(access), None)
        .await;
    assert_eq!(out.status.as_u16(), 204, "{}", out.text);
    t.get("/v1/me", Some(access))
        .await
        .problem(401, "invalid_token");
    t.post(
        "/v1/auth/token/refresh",
        json!({ "refresh_token": tokens["refresh_token"] }),
    )
    .await
    .problem(401, "invalid_token");
    t.call(Method::POST, "/v1/auth/logout", Some(access), None)
        .await
        .problem(401, "invalid_token");
    // Other sessions of the same user are untouched.
    t.get("/v1/me", Some(&other)).await.ok();
}

#[actix_web::test]
async fn a_refresh_in_the_same_second_still_answers_a_new_access_token() {
    let t = TestApp::spawn().await;
    let admin = t.account("Acme").await;
    let first = t.login(&admin).await;
    let second = t
        .post(
            "/v1/auth/token/refresh",
            json!({ "refresh_token": first["refresh_token"] }),
        )
        .await;
    let second = second.ok().clone();
    assert_ne!(second["access_token"], first["access_token"]);
    let (a, b) = (
        claims(first["access_token"].as_str().unwrap()),
        claims(second["access_token"].as_str().unwrap()),
    );
    assert_eq!((a.iat, a.sid.clone()), (b.iat, b.sid.clone()));
    assert_ne!(a.jti, b.jti);
    assert!(uuid::Uuid::parse_str(&b.jti).is_ok());
}
