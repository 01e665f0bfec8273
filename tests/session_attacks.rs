//! Attacks with a signed-in session: a password-only session outliving the
//! user's enrollment, guessing the current password, and a login an
//! attacker left open across a password change.

use reqwest::Method;
use serde_json::{json, Value};
use twofold::clock::Clock as _;
use twofold::users::Role;

use crate::common::{code_at, Answer, TestApp};
use crate::ip_allowlist::via;
use crate::me_twofa::{confirm, start_totp, verify_now};

const PASSWORD: &str = "/v1/me/password";

fn access(tokens: &Value) -> String {
    tokens["access_token"].as_str().unwrap().to_owned()
}

async fn change(t: &TestApp, token: &str, current: &str, new: &str) -> Answer {
    let body = json!({ "current_password": current, "new_password": new });
    t.call(Method::POST, PASSWORD, Some(token), Some(body))
        .await
}

#[actix_web::test]
async fn a_password_only_session_cannot_take_over_after_the_owner_enrolls() {
    let t = TestApp::spawn().await;
    let admin = t.account("Takeover").await;
    let user = t.user(&admin.account_id, Role::Technician).await;
    // S1: a password-only session (the thief's, say).
    let s1 = access(&t.login(&user).await);
    // The owner enrolls voluntarily from S2.
    let s2 = access(&t.login(&user).await);
    let secret = start_totp(&t, &s2).await["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    verify_now(&t, &s2, &secret).await;
    assert_eq!(confirm(&t, &s2, true).await.status, 200);

    // S1 ended with the enrollment.
    t.get("/v1/me", Some(&s1))
        .await
        .problem(401, "invalid_token");
    change(&t, &s1, &user.password, "a brand new password")
        .await
        .problem(401, "invalid_token");
    // S2 never proved the new factor: it cannot change the password either.
    change(&t, &s2, &user.password, "a brand new password")
        .await
        .problem(403, "reauthentication_required");
    // A session with the factor, proven just now, can.
    t.advance(30);
    let flow = t.login_to_mfa(&user).await;
    let code = code_at(&secret, t.clock.unix());
    let a = t
        .post(
            "/v1/auth/login/totp",
            json!({ "flow_token": flow, "code": code }),
        )
        .await;
    let s3 = access(a.ok());
    let a = change(&t, &s3, &user.password, "a brand new password").await;
    assert_eq!(a.status, 204, "{}", a.text);
}

#[actix_web::test]
async fn guessing_the_current_password_backs_off_and_leaves_a_trace() {
    let t = TestApp::spawn().await;
    let admin = t.account("Guessed").await;
    let token = t.access_token(&admin).await;
    let mut answers = Vec::new();
    for i in 0..11 {
        answers.push(
            change(
                &t,
                &token,
                &format!("guess number {i}"),
                "a brand new password",
            )
            .await,
        );
    }
    for a in &answers[..9] {
        a.problem(401, "invalid_credentials");
    }
    for a in &answers[9..] {
        a.problem(429, "too_many_attempts");
    }
    // Even the right one waits now.
    change(&t, &token, &admin.password, "a brand new password")
        .await
        .problem(429, "too_many_attempts");
    let failed = via(1, &[]).events(&t, &token, "login.failed").await;
    assert_eq!(failed.len(), 2, "the first and the back-off: {failed:?}");
    assert!(failed.iter().all(|e| e["detail"]["factor"] == "password"));
    assert!(failed.iter().all(|e| e["ip"] == "127.0.0.1"));
}

#[actix_web::test]
async fn a_password_change_ends_the_logins_left_open_with_the_old_one() {
    let t = TestApp::spawn().await;
    let admin = t.account("Open Flow").await;
    let enrolled = t.enroll(&admin).await;
    // The attacker knows the old password and got as far as the code.
    let stolen_flow = t.login_to_mfa(&admin).await;
    // The owner changes the password (with a fresh second factor).
    let fresh = access(&t.login_with_totp(&enrolled).await);
    let a = change(&t, &fresh, &admin.password, "a brand new password").await;
    assert_eq!(a.status, 204, "{}", a.text);
    t.advance(30);
    let code = code_at(&enrolled.secret, t.clock.unix());
    t.post(
        "/v1/auth/login/totp",
        json!({ "flow_token": stolen_flow, "code": code }),
    )
    .await
    .problem(401, "flow_expired");
}

#[actix_web::test]
async fn signing_out_works_from_an_address_the_allow_list_refuses() {
    let t = TestApp::spawn().await;
    let admin = t.account("Away").await;
    let tok = t.access_token(&admin).await;
    let inside = via(1, &[]);
    inside.entry(&t, &tok, "127.0.0.1").await;
    assert_eq!(inside.switch(&t, &tok, true, false).await.status, 200);
    // The admin travels: nothing works from there, but signing out does.
    let away = via(2, &[]);
    away.get(&t, "/v1/me", &tok)
        .await
        .problem(403, "ip_not_allowed");
    let a = away
        .post(&t, "/v1/auth/logout", Some(&tok), json!({}))
        .await;
    assert_eq!(a.status, 204, "{}", a.text);
    inside
        .get(&t, "/v1/me", &tok)
        .await
        .problem(401, "invalid_token");
}

#[actix_web::test]
async fn a_password_only_session_only_enrolls_once_two_factor_becomes_required() {
    let t = TestApp::spawn().await;
    let admin = t.account("Now Required").await;
    let tech = t.user(&admin.account_id, Role::Technician).await;
    let tokens = t.login(&tech).await;
    let session = access(&tokens);
    let refresh = json!({ "refresh_token": tokens["refresh_token"] });
    let admin_tokens = t.login(&admin).await;
    let admin_session = access(&admin_tokens);

    // An admin requires 2FA for the technician.
    t.require_twofa(&tech.id).await;
    t.get("/v1/me/webauthn/credentials", Some(&session))
        .await
        .problem(403, "enrollment_required");
    change(&t, &session, &tech.password, "a brand new password")
        .await
        .problem(403, "enrollment_required");
    t.post("/v1/auth/token/refresh", refresh.clone())
        .await
        .problem(403, "enrollment_required");
    // What enrollment needs still works, and so does signing out.
    let me = t.get("/v1/me", Some(&session)).await;
    assert_eq!(me.ok()["twofa_status"], "pending");
    let secret = start_totp(&t, &session).await["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    verify_now(&t, &session, &secret).await;
    assert_eq!(confirm(&t, &session, true).await.status, 200);
    let a = t
        .call(Method::POST, "/v1/auth/logout", Some(&session), None)
        .await;
    assert_eq!(a.status, 204, "{}", a.text);

    // The account's enforcement becomes due: the admin's password-only
    // session stops at the admin surface and at refresh.
    let (account, now) = (admin.account_id.clone(), t.clock.unix());
    t.state
        .db
        .run(move |conn| {
            twofold::accounts::service::set_paying(
                conn,
                &account.as_str().into(),
                now - 2 * 86_400,
                None,
                now,
            )
        })
        .await
        .unwrap();
    t.get("/v1/admin/users", Some(&admin_session))
        .await
        .problem(403, "enrollment_required");
    let refresh = json!({ "refresh_token": admin_tokens["refresh_token"] });
    t.post("/v1/auth/token/refresh", refresh)
        .await
        .problem(403, "enrollment_required");
}
