//! The login flow's enrollment answers say what is true: confirming too
//! early, how long the enrollment lives, and a stale flow that would
//! overwrite an authenticator enrolled since it started.

use reqwest::Method;
use serde_json::{json, Value};
use twofold::clock::Clock as _;
use twofold::users::Role;

use crate::common::{code_at, Answer, Person, TestApp};

const START: &str = "/v1/auth/enrollment/totp";
const VERIFY: &str = "/v1/auth/enrollment/totp/verify";
const CONFIRM: &str = "/v1/auth/enrollment/recovery-code/confirm";

async fn step(t: &TestApp, path: &str, flow: &str, body: Option<Value>) -> Answer {
    t.call(Method::POST, path, Some(flow), body).await
}

/// A user who must enroll, and their flow at `enrollment_required`.
async fn must_enroll(t: &TestApp, name: &str) -> (Person, String) {
    let admin = t.account(name).await;
    let user = t.user(&admin.account_id, Role::Technician).await;
    t.require_twofa(&user.id).await;
    let flow = t.login_to_enrollment(&user).await;
    (user, flow)
}

/// Start and verify: the secret and the `recovery_code_confirmation_required` flow.
async fn verified(t: &TestApp, flow: &str) -> (String, String) {
    let started = step(t, START, flow, None).await;
    let secret = started.ok()["secret"].as_str().unwrap().to_owned();
    let code = code_at(&secret, t.clock.unix());
    let a = step(t, VERIFY, flow, Some(json!({ "code": code }))).await;
    let next = a.ok()["flow_token"].as_str().unwrap().to_owned();
    (secret, next)
}

#[actix_web::test]
async fn confirming_before_verifying_says_no_code_was_verified() {
    let t = TestApp::spawn().await;
    let (_, flow) = must_enroll(&t, "Early").await;
    step(&t, CONFIRM, &flow, Some(json!({ "confirmed": true })))
        .await
        .problem(409, "code_not_verified");
    step(&t, START, &flow, None).await.ok();
    step(&t, CONFIRM, &flow, Some(json!({ "confirmed": true })))
        .await
        .problem(409, "code_not_verified");
    // The flow is intact: verifying and confirming still work.
    let secret = step(&t, START, &flow, None).await.ok()["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let code = code_at(&secret, t.clock.unix());
    let a = step(&t, VERIFY, &flow, Some(json!({ "code": code }))).await;
    let next = a.ok()["flow_token"].as_str().unwrap().to_owned();
    let done = step(&t, CONFIRM, &next, Some(json!({ "confirmed": true }))).await;
    assert_eq!(done.ok()["status"], "authenticated");
}

#[actix_web::test]
async fn the_enrollments_expires_in_is_when_its_flow_token_dies() {
    let t = TestApp::spawn().await;
    let (_, flow) = must_enroll(&t, "Expiry").await;
    t.advance(4 * 60);
    let started = step(&t, START, &flow, None).await;
    assert_eq!(started.ok()["expires_in"], 6 * 60, "{}", started.text);
    t.advance(6 * 60 - 1);
    let qr = t
        .call(
            Method::GET,
            "/v1/auth/enrollment/totp/qr.svg",
            Some(&flow),
            None,
        )
        .await;
    assert_eq!(qr.status, 200, "{}", qr.text);
    t.advance(1);
    t.call(
        Method::GET,
        "/v1/auth/enrollment/totp/qr.svg",
        Some(&flow),
        None,
    )
    .await
    .problem(401, "flow_expired");
}

#[actix_web::test]
async fn a_stale_enrollment_flow_cannot_overwrite_an_authenticator_enrolled_since() {
    let t = TestApp::spawn().await;
    let (user, stale) = must_enroll(&t, "Stale").await;
    // Meanwhile the user enrolls from another device and finishes.
    let other = t.login_to_enrollment(&user).await;
    let (secret, next) = verified(&t, &other).await;
    let done = step(&t, CONFIRM, &next, Some(json!({ "confirmed": true }))).await;
    assert_eq!(done.ok()["status"], "authenticated");

    // The stale flow, opened when the user had no factor, goes on.
    t.advance(30);
    let (old_secret, stale_next) = verified(&t, &stale).await;
    step(&t, CONFIRM, &stale_next, Some(json!({ "confirmed": true })))
        .await
        .problem(401, "flow_expired");
    // The authenticator enrolled last is the one that works.
    t.advance(30);
    let login = |code: String| {
        let t = &t;
        let user = &user;
        async move {
            let flow = t.login_to_mfa(user).await;
            t.post(
                "/v1/auth/login/totp",
                json!({ "flow_token": flow, "code": code }),
            )
            .await
        }
    };
    login(code_at(&old_secret, t.clock.unix()))
        .await
        .problem(401, "invalid_code");
    let a = login(code_at(&secret, t.clock.unix())).await;
    assert_eq!(a.ok()["status"], "authenticated");
}

#[actix_web::test]
async fn after_a_reset_the_new_authenticator_works_in_the_same_time_step() {
    let t = TestApp::spawn().await;
    let admin = t.account("Reset Step").await;
    let enrolled = t.enroll(&admin).await;
    // The user signs in with the old authenticator...
    t.login_with_totp(&enrolled).await;
    // ...support resets it, and they enroll a new one at once.
    let (email, now) = (admin.email.clone(), t.clock.unix());
    t.state
        .db
        .run(move |conn| twofold::twofa::service::reset_by_email(conn, &email, now))
        .await
        .unwrap();
    let flow = t.login_to_enrollment(&admin).await;
    let (secret, next) = verified(&t, &flow).await;
    let done = step(&t, CONFIRM, &next, Some(json!({ "confirmed": true }))).await;
    assert_eq!(done.ok()["status"], "authenticated");
    // The enrollment code itself stays used.
    let again = t.login_to_mfa(&admin).await;
    t.post(
        "/v1/auth/login/totp",
        json!({ "flow_token": again, "code": code_at(&secret, t.clock.unix()) }),
    )
    .await
    .problem(401, "code_already_used");
}
