//! Recovery codes at login, and enrollments that are left unconfirmed, abandoned or driven with the wrong credential.

use super::*;

#[actix_web::test]
async fn a_recovery_code_signs_in_once_and_is_replaced() {
    let t = TestApp::spawn().await;
    let admin = t.account("Acme").await;
    let enrolled = t.enroll(&admin).await;

    // Lower case, spaces instead of hyphens: still the code.
    let typed = enrolled.recovery_code.to_lowercase().replace('-', " ");
    let flow = t.login_to_mfa(&admin).await;
    let used = t
        .post(
            "/v1/auth/login/recovery-code",
            json!({ "flow_token": flow, "recovery_code": typed }),
        )
        .await;
    let used = used.ok().clone();
    assert_eq!(used["status"], "recovery_code_confirmation_required");
    let new_code = used["recovery_code"].as_str().unwrap().to_owned();
    assert_ne!(new_code, enrolled.recovery_code);
    let done = t
        .call(
            Method::POST,
            "/v1/auth/enrollment/recovery-code/confirm",
            used["flow_token"].as_str(),
            Some(json!({ "confirmed": true })),
        )
        .await;
    let claims = claims_of(done.ok()["access_token"].as_str().unwrap());
    assert_eq!(claims["aal"], 2);
    assert_eq!(claims["amr"], json!(["pwd", "rcv"]));

    // The spent code is refused; the new one works.
    let flow = t.login_to_mfa(&admin).await;
    t.post(
        "/v1/auth/login/recovery-code",
        json!({ "flow_token": flow, "recovery_code": enrolled.recovery_code }),
    )
    .await
    .problem(401, "invalid_code");
    let again = t
        .post(
            "/v1/auth/login/recovery-code",
            json!({ "flow_token": flow, "recovery_code": new_code }),
        )
        .await;
    assert_eq!(again.ok()["status"], "recovery_code_confirmation_required");

    // Not a recovery code at all: a validation error, not a guess.
    let flow = t.login_to_mfa(&admin).await;
    let bad = t
        .post(
            "/v1/auth/login/recovery-code",
            json!({ "flow_token": flow, "recovery_code": "not-a-code" }),
        )
        .await;
    bad.problem(400, "validation_failed");
    assert_eq!(bad.json["errors"][0]["field"], "recovery_code");
}

#[actix_web::test]
async fn an_unconfirmed_recovery_code_leaves_the_app_working_and_is_reissued() {
    let t = TestApp::spawn().await;
    let admin = t.account("Acme").await;
    let enrolled = t.enroll(&admin).await;
    // Spend the recovery code and walk away before confirming the new one.
    let flow = t.login_to_mfa(&admin).await;
    t.post(
        "/v1/auth/login/recovery-code",
        json!({ "flow_token": flow, "recovery_code": enrolled.recovery_code }),
    )
    .await
    .ok();
    // Only the app is left; signing in with it issues a recovery code first.
    let flow = t.login_to_mfa(&admin).await;
    let code = code_at(&enrolled.secret, t.clock.unix());
    let a = t
        .post(
            "/v1/auth/login/totp",
            json!({ "flow_token": flow, "code": code }),
        )
        .await;
    assert_eq!(a.ok()["status"], "recovery_code_confirmation_required");
    assert_eq!(a.json["recovery_code"].as_str().unwrap().len(), 29);
    let done = t
        .call(
            Method::POST,
            "/v1/auth/enrollment/recovery-code/confirm",
            a.json["flow_token"].as_str(),
            Some(json!({ "confirmed": true })),
        )
        .await;
    assert_eq!(
        claims_of(done.ok()["access_token"].as_str().unwrap())["amr"],
        json!(["pwd", "otp"])
    );
}

#[actix_web::test]
async fn an_abandoned_enrollment_activates_nothing_and_starts_over() {
    let t = TestApp::spawn().await;
    let admin = t.account("Acme").await;
    t.require_twofa(&admin.id).await;

    // Scan, then walk away.
    let flow = t.login_to_enrollment(&admin).await;
    let first = t
        .call(Method::POST, "/v1/auth/enrollment/totp", Some(&flow), None)
        .await;
    let first_secret = first.ok()["secret"].as_str().unwrap().to_owned();

    // Scan again, verify, and walk away before confirming.
    let flow = t.login_to_enrollment(&admin).await;
    let second = t
        .call(Method::POST, "/v1/auth/enrollment/totp", Some(&flow), None)
        .await;
    let second_secret = second.ok()["secret"].as_str().unwrap().to_owned();
    assert_ne!(first_secret, second_secret);
    t.call(
        Method::POST,
        "/v1/auth/enrollment/totp/verify",
        Some(&flow),
        Some(json!({ "code": code_at(&second_secret, t.clock.unix()) })),
    )
    .await
    .ok();

    // Still pending: the next login enrolls again, with a fresh secret, and
    // neither earlier secret is accepted.
    t.advance(30);
    let flow = t.login_to_enrollment(&admin).await;
    t.call(
        Method::POST,
        "/v1/auth/enrollment/totp/verify",
        Some(&flow),
        Some(json!({ "code": "123456" })),
    )
    .await
    .problem(409, "enrollment_not_started");
    let third = t
        .call(Method::POST, "/v1/auth/enrollment/totp", Some(&flow), None)
        .await;
    let third_secret = third.ok()["secret"].as_str().unwrap().to_owned();
    assert_ne!(third_secret, second_secret);
    for stale in [&first_secret, &second_secret] {
        t.call(
            Method::POST,
            "/v1/auth/enrollment/totp/verify",
            Some(&flow),
            Some(json!({ "code": code_at(stale, t.clock.unix()) })),
        )
        .await
        .problem(401, "invalid_code");
    }
    let ok = t
        .call(
            Method::POST,
            "/v1/auth/enrollment/totp/verify",
            Some(&flow),
            Some(json!({ "code": code_at(&third_secret, t.clock.unix()) })),
        )
        .await;
    assert_eq!(ok.ok()["status"], "recovery_code_confirmation_required");
}

#[actix_web::test]
async fn enrollment_steps_refuse_the_wrong_credential() {
    let t = TestApp::spawn().await;
    let admin = t.account("Acme").await;
    let access = t.access_token(&admin).await;
    // A session is not a flow token.
    t.call(
        Method::POST,
        "/v1/auth/enrollment/totp",
        Some(&access),
        None,
    )
    .await
    .problem(401, "flow_expired");
    t.call(Method::POST, "/v1/auth/enrollment/totp", None, None)
        .await
        .problem(401, "unauthorized");
    // A flow at the password step cannot enroll.
    let flow = t.start_login(&admin.email).await;
    t.call(Method::POST, "/v1/auth/enrollment/totp", Some(&flow), None)
        .await
        .problem(401, "flow_expired");
    // A code that is not six digits is a validation error.
    t.require_twofa(&admin.id).await;
    let flow = t.login_to_enrollment(&admin).await;
    t.call(Method::POST, "/v1/auth/enrollment/totp", Some(&flow), None)
        .await
        .ok();
    let a = t
        .call(
            Method::POST,
            "/v1/auth/enrollment/totp/verify",
            Some(&flow),
            Some(json!({ "code": "12ab56" })),
        )
        .await;
    a.problem(400, "validation_failed");
    assert_eq!(a.json["errors"][0]["field"], "code");
    let (status, _, _, _) = bytes(&t, "/v1/auth/enrollment/totp/qr.png?size=10", &flow).await;
    assert_eq!(status.as_u16(), 400);
}
