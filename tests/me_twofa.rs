//! A signed-in user's own second factor (`/v1/me/2fa/...`): voluntary
//! enrollment, replay, re-enrollment, recovery-code regeneration, freshness
//! of the second factor, QR codes, and what is stored at rest.

use reqwest::Method;
use serde_json::{json, Value};
use twofold::clock::Clock as _;
use twofold::users::Role;

use crate::common::qr::decode_png;
use crate::common::{access, code_at, Answer, Enrolled, Person, TestApp, START};
use crate::tokens::claims_of;

mod storage;

async fn overview(t: &TestApp, access: &str) -> Value {
    t.get("/v1/me/2fa", Some(access)).await.ok().clone()
}

/// `POST /v1/me/2fa/totp`: a new secret, waiting for its first code.
pub(crate) async fn start_totp(t: &TestApp, access: &str) -> Value {
    let a = t
        .call(Method::POST, "/v1/me/2fa/totp", Some(access), None)
        .await;
    assert_eq!(a.status.as_u16(), 200, "{}", a.text);
    assert_eq!(a.header("cache-control"), "no-store");
    a.json.clone()
}

async fn verify(t: &TestApp, access: &str, code: &str) -> Answer {
    t.call(
        Method::POST,
        "/v1/me/2fa/totp/verify",
        Some(access),
        Some(json!({ "code": code })),
    )
    .await
}

/// Verifies the current code of `secret`; returns the new recovery code.
pub(crate) async fn verify_now(t: &TestApp, access: &str, secret: &str) -> String {
    let a = verify(t, access, &code_at(secret, t.clock.unix())).await;
    let body = a.ok();
    assert_eq!(body["status"], "recovery_code_confirmation_required");
    assert_eq!(a.header("cache-control"), "no-store");
    body["recovery_code"]
        .as_str()
        .expect("recovery_code")
        .to_owned()
}

pub(crate) async fn confirm(t: &TestApp, access: &str, confirmed: bool) -> Answer {
    t.call(
        Method::POST,
        "/v1/me/2fa/recovery-code/confirm",
        Some(access),
        Some(json!({ "confirmed": confirmed })),
    )
    .await
}

async fn regenerate(t: &TestApp, access: &str) -> Answer {
    t.call(Method::POST, "/v1/me/2fa/recovery-code", Some(access), None)
        .await
}

/// A login that reaches `mfa_required` and answers it with a TOTP code.
async fn totp_login(t: &TestApp, person: &Person, code: &str) -> Answer {
    let flow = t.login_to_mfa(person).await;
    t.post(
        "/v1/auth/login/totp",
        json!({ "flow_token": flow, "code": code }),
    )
    .await
}

/// A login that reaches `mfa_required` and answers it with a recovery code.
async fn recovery_login(t: &TestApp, person: &Person, code: &str) -> Answer {
    let flow = t.login_to_mfa(person).await;
    t.post(
        "/v1/auth/login/recovery-code",
        json!({ "flow_token": flow, "recovery_code": code }),
    )
    .await
}

#[actix_web::test]
async fn a_signed_in_user_enrolls_voluntarily_and_then_logs_in_with_the_app() {
    let t = TestApp::spawn().await;
    let admin = t.account("Acme").await;
    let token = t.access_token(&admin).await;

    let before = overview(&t, &token).await;
    assert_eq!(before["status"], "disabled");
    assert_eq!(before["required"], false);
    assert_eq!(before["required_by"], json!([]));
    assert_eq!(before["methods"], json!([]));
    assert_eq!(before["totp"], Value::Null);
    assert_eq!(before["recovery_code"], Value::Null);
    assert_eq!(before["locked_until"], Value::Null);

    let started = start_totp(&t, &token).await;
    let secret = started["secret"].as_str().unwrap().to_owned();
    assert_eq!(secret.len(), 32, "160 bits of base32: {secret}");
    assert!(started.get("flow_token").is_none(), "{started}");
    let uri = started["otpauth_uri"].as_str().unwrap();
    assert!(uri.starts_with("otpauth://totp/"), "{uri}");
    assert!(uri.contains(&format!("secret={secret}")), "{uri}");
    assert!(started["qr_png_url"]
        .as_str()
        .unwrap()
        .ends_with("/v1/me/2fa/totp/qr.png"));
    assert!(started["qr_svg_url"]
        .as_str()
        .unwrap()
        .ends_with("/v1/me/2fa/totp/qr.svg"));
    assert!(started["qr_png_data_uri"]
        .as_str()
        .unwrap()
        .starts_with("data:image/png;base64,"));
    assert!(started["qr_svg_data_uri"]
        .as_str()
        .unwrap()
        .starts_with("data:image/svg+xml;base64,"));

    verify(&t, &token, "000000x")
        .await
        .problem(400, "validation_failed");
    let later = code_at(&secret, t.clock.unix() + 300);
    verify(&t, &token, &later)
        .await
        .problem(401, "invalid_code");
    let recovery_code = verify_now(&t, &token, &secret).await;
    assert_eq!(recovery_code.len(), 29, "{recovery_code}");
    assert_eq!(recovery_code.matches('-').count(), 5, "{recovery_code}");

    let done = confirm(&t, &token, true).await;
    let after = done.ok();
    assert_eq!(after["status"], "enabled");
    assert_eq!(after["required"], false);
    assert_eq!(after["required_by"], json!([]));
    assert_eq!(after["methods"], json!(["totp", "recovery_code"]));
    assert_eq!(after["totp"]["enrolled_at"], "2026-11-28T09:00:00Z");
    assert_eq!(after["recovery_code"]["created_at"], "2026-11-28T09:00:00Z");
    assert_eq!(overview(&t, &token).await, *after);

    // The next login asks for the second factor (one step later, so the
    // enrollment code is not reused).
    t.advance(30);
    let flow = t.start_login(&admin.email).await;
    let step = t
        .post(
            "/v1/auth/login/password",
            json!({ "flow_token": flow, "password": admin.password }),
        )
        .await;
    let step = step.ok();
    assert_eq!(step["status"], "mfa_required");
    assert_eq!(step["methods"], json!(["totp", "recovery_code"]));
    assert!(step.get("access_token").is_none());

    let enrolled = Enrolled {
        person: admin.clone(),
        secret,
        recovery_code,
        tokens: Value::Null,
    };
    let tokens = t.login_with_totp(&enrolled).await;
    let claims = claims_of(tokens["access_token"].as_str().unwrap());
    assert_eq!(claims["aal"], 2);
    assert_eq!(claims["amr"], json!(["pwd", "otp"]));
    assert_eq!(claims["sub"], admin.id.as_str());
    let used = overview(&t, &access(&tokens)).await;
    assert_eq!(used["totp"]["last_used_at"], "2026-11-28T09:00:30Z");

    // The password-only session that enrolled stays signed in, but it
    // proved no second factor: it cannot replace the ones that now exist.
    t.call(Method::POST, "/v1/me/2fa/totp", Some(&token), None)
        .await
        .problem(403, "reauthentication_required");
    regenerate(&t, &token)
        .await
        .problem(403, "reauthentication_required");
}

#[actix_web::test]
async fn the_voluntary_enrollment_code_cannot_be_replayed_at_login() {
    let t = TestApp::spawn().await;
    let admin = t.account("Acme").await;
    let token = t.access_token(&admin).await;

    let started = start_totp(&t, &token).await;
    let secret = started["secret"].as_str().unwrap().to_owned();
    let code = code_at(&secret, t.clock.unix());
    let verified = verify(&t, &token, &code).await;
    assert_eq!(
        verified.ok()["status"],
        "recovery_code_confirmation_required"
    );
    confirm(&t, &token, true).await.ok();

    // Same instant, same code: the step was spent by the enrollment.
    totp_login(&t, &admin, &code)
        .await
        .problem(401, "code_already_used");
}

#[actix_web::test]
async fn an_unconfirmed_voluntary_enrollment_is_not_active() {
    let t = TestApp::spawn().await;
    let admin = t.account("Acme").await;
    let token = t.access_token(&admin).await;

    let started = start_totp(&t, &token).await;
    let secret = started["secret"].as_str().unwrap().to_owned();
    verify_now(&t, &token, &secret).await;

    let now = overview(&t, &token).await;
    assert_eq!(now["status"], "disabled");
    assert_eq!(now["methods"], json!([]));
    assert_eq!(now["totp"], Value::Null);
    assert_eq!(now["recovery_code"], Value::Null);

    t.advance(30);
    let tokens = t.login(&admin).await;
    let claims = claims_of(tokens["access_token"].as_str().unwrap());
    assert_eq!(claims["aal"], 1);
    assert_eq!(claims["amr"], json!(["pwd"]));
}

#[actix_web::test]
async fn re_enrolling_keeps_the_old_authenticator_until_the_new_one_is_confirmed() {
    let t = TestApp::spawn().await;
    let admin = t.account("Acme").await;
    let old = t.enroll(&admin).await;
    let token = access(&old.tokens);
    let enrolled_at = overview(&t, &token).await["totp"]["enrolled_at"].clone();

    let started = start_totp(&t, &token).await;
    let new_secret = started["secret"].as_str().unwrap().to_owned();
    assert_ne!(new_secret, old.secret);
    let new_code = verify_now(&t, &token, &new_secret).await;
    assert_ne!(new_code, old.recovery_code);
    let new = Enrolled {
        secret: new_secret,
        recovery_code: new_code,
        ..old.clone()
    };

    // Not confirmed: the old authenticator is still the one that counts.
    let pending = overview(&t, &token).await;
    assert_eq!(pending["status"], "enabled");
    assert_eq!(pending["totp"]["enrolled_at"], enrolled_at);
    t.advance(30);
    let refused = totp_login(&t, &admin, &code_at(&new.secret, t.clock.unix())).await;
    refused.problem(401, "invalid_code");
    t.login_with_totp(&old).await;

    let done = confirm(&t, &token, true).await;
    let done = done.ok();
    assert_eq!(done["status"], "enabled");
    assert_eq!(done["methods"], json!(["totp", "recovery_code"]));
    assert_ne!(done["totp"]["enrolled_at"], enrolled_at);

    t.advance(30);
    let tokens = t.login_with_totp(&new).await;
    assert_eq!(claims_of(&access(&tokens))["aal"], 2);
    t.advance(30);
    totp_login(&t, &admin, &code_at(&old.secret, t.clock.unix()))
        .await
        .problem(401, "invalid_code");
}

#[actix_web::test]
async fn replacing_a_factor_needs_a_second_factor_from_the_last_fifteen_minutes() {
    let t = TestApp::spawn().await;
    let admin = t.account("Acme").await;
    let enrolled = t.enroll(&admin).await;
    let created = claims_of(&access(&enrolled.tokens))["iat"]
        .as_i64()
        .unwrap();
    assert_eq!(created, START);

    // Exactly 15 minutes after the second factor: still fresh. The access
    // token has expired by then; refreshing keeps the same session.
    t.advance(created + 15 * 60 - t.clock.unix());
    let refreshed = t
        .post(
            "/v1/auth/token/refresh",
            json!({ "refresh_token": enrolled.tokens["refresh_token"] }),
        )
        .await;
    let token = access(refreshed.ok());
    assert_eq!(
        claims_of(&token)["sid"],
        claims_of(&access(&enrolled.tokens))["sid"]
    );
    start_totp(&t, &token).await;

    // 16 minutes: too old to replace anything.
    t.advance(60);
    t.call(Method::POST, "/v1/me/2fa/totp", Some(&token), None)
        .await
        .problem(403, "reauthentication_required");
    regenerate(&t, &token)
        .await
        .problem(403, "reauthentication_required");
    // Reading the state needs no fresh factor.
    assert_eq!(overview(&t, &token).await["status"], "enabled");

    // A new second-factor login is fresh again.
    let fresh = t.login_with_totp(&enrolled).await;
    let fresh = access(&fresh);
    start_totp(&t, &fresh).await;
    let issued = regenerate(&t, &fresh).await;
    assert_eq!(issued.ok()["status"], "recovery_code_confirmation_required");
}

#[actix_web::test]
async fn a_regenerated_recovery_code_replaces_the_old_one_only_once_confirmed() {
    let t = TestApp::spawn().await;
    let admin = t.account("Acme").await;
    let enrolled = t.enroll(&admin).await;
    let token = access(&enrolled.tokens);
    let first = enrolled.recovery_code.clone();

    // Regenerated but not confirmed: the new code does not work yet, the
    // old one still does.
    let issued = regenerate(&t, &token).await;
    assert_eq!(issued.header("cache-control"), "no-store");
    let issued = issued.ok();
    assert_eq!(issued["status"], "recovery_code_confirmation_required");
    let unconfirmed = issued["recovery_code"].as_str().unwrap().to_owned();
    assert_ne!(unconfirmed, first);
    assert_eq!(unconfirmed.len(), 29, "{unconfirmed}");
    let before = overview(&t, &token).await;
    assert_eq!(before["methods"], json!(["totp", "recovery_code"]));
    recovery_login(&t, &admin, &unconfirmed)
        .await
        .problem(401, "invalid_code");

    // Using the old code spends it; the login issues its successor, which
    // must be confirmed before the session opens.
    let used = recovery_login(&t, &admin, &first).await;
    let used = used.ok().clone();
    assert_eq!(used["status"], "recovery_code_confirmation_required");
    let second = used["recovery_code"].as_str().unwrap().to_owned();
    assert_ne!(second, first);
    let opened = t
        .call(
            Method::POST,
            "/v1/auth/enrollment/recovery-code/confirm",
            used["flow_token"].as_str(),
            Some(json!({ "confirmed": true })),
        )
        .await;
    let opened = opened.ok().clone();
    assert_eq!(opened["status"], "authenticated");
    let claims = claims_of(&access(&opened));
    assert_eq!(claims["aal"], 2);
    assert_eq!(claims["amr"], json!(["pwd", "rcv"]));
    recovery_login(&t, &admin, &first)
        .await
        .problem(401, "invalid_code");
    recovery_login(&t, &admin, &unconfirmed)
        .await
        .problem(401, "invalid_code");

    // Regenerate and confirm from the fresh session: the previous code is
    // refused at once, the new one works.
    t.advance(60);
    let fresh = access(&opened);
    let issued = regenerate(&t, &fresh).await;
    let third = issued.ok()["recovery_code"].as_str().unwrap().to_owned();
    assert_ne!(third, second);
    confirm(&t, &fresh, false)
        .await
        .problem(400, "validation_failed");
    let done = confirm(&t, &fresh, true).await;
    let done = done.ok();
    assert_eq!(done["status"], "enabled");
    assert_eq!(done["methods"], json!(["totp", "recovery_code"]));
    assert_eq!(done["recovery_code"]["created_at"], "2026-11-28T09:01:30Z");
    assert_eq!(
        done["totp"], before["totp"],
        "the authenticator is untouched"
    );

    recovery_login(&t, &admin, &second)
        .await
        .problem(401, "invalid_code");
    let used = recovery_login(&t, &admin, &third.to_lowercase().replace('-', " ")).await;
    assert_eq!(used.ok()["status"], "recovery_code_confirmation_required");
}

#[actix_web::test]
async fn a_new_recovery_code_needs_an_enrolled_authenticator() {
    let t = TestApp::spawn().await;
    let admin = t.account("Acme").await;
    let tech = t.user(&admin.account_id, Role::Technician).await;
    let token = t.access_token(&tech).await;

    regenerate(&t, &token)
        .await
        .problem(409, "twofa_not_enabled");
    // An enrollment in progress is not an authenticator either.
    let started = start_totp(&t, &token).await;
    verify_now(&t, &token, started["secret"].as_str().unwrap()).await;
    regenerate(&t, &token)
        .await
        .problem(409, "twofa_not_enabled");
}

#[actix_web::test]
async fn verify_confirm_and_qr_with_nothing_pending_are_conflicts() {
    let t = TestApp::spawn().await;
    let admin = t.account("Acme").await;
    let enrolled = t.enroll(&admin).await;
    let token = access(&enrolled.tokens);

    confirm(&t, &token, true)
        .await
        .problem(409, "enrollment_not_started");
    verify(&t, &token, &code_at(&enrolled.secret, t.clock.unix()))
        .await
        .problem(409, "enrollment_not_started");
    for path in ["/v1/me/2fa/totp/qr.png", "/v1/me/2fa/totp/qr.svg"] {
        t.get(path, Some(&token))
            .await
            .problem(409, "enrollment_not_started");
    }
    let refused = confirm(&t, &token, false).await;
    refused.problem(400, "validation_failed");
    assert_eq!(refused.json["errors"][0]["field"], "confirmed");

    // Started but not verified: nothing to confirm yet.
    start_totp(&t, &token).await;
    confirm(&t, &token, true)
        .await
        .problem(409, "code_not_verified");

    // A session-less caller gets nothing at all.
    t.get("/v1/me/2fa", None).await.problem(401, "unauthorized");
    t.call(Method::POST, "/v1/me/2fa/totp", None, None)
        .await
        .problem(401, "unauthorized");
}

#[actix_web::test]
async fn a_required_but_unenrolled_user_sees_pending_and_who_requires_it() {
    let t = TestApp::spawn().await;
    let admin = t.account("Acme").await;
    let tech = t.user(&admin.account_id, Role::Technician).await;
    // Signed in before the requirement; the session outlives it.
    let token = t.access_token(&tech).await;
    t.require_twofa(&tech.id).await;

    let now = overview(&t, &token).await;
    assert_eq!(now["status"], "pending");
    assert_eq!(now["required"], true);
    assert_eq!(now["required_by"], json!(["admin"]));
    assert_eq!(now["enforced_from"], Value::Null, "the account is on trial");
    assert_eq!(now["methods"], json!([]));
    assert_eq!(now["totp"], Value::Null);
    assert_eq!(now["recovery_code"], Value::Null);
}
