//! The authenticator-app journey through HTTP: enforcement, QR enrollment,
//! codes, replay, races, lockouts, recovery codes and abandoned enrollments.

use futures_util::future::join_all;
use reqwest::Method;
use serde_json::{json, Value};
use twofold::clock::Clock as _;
use twofold::users::Role;

use crate::common::qr::{decode_png, decode_svg};
use crate::common::{code_at, TestApp};
use crate::tokens::claims_of;

mod recovery;

async fn bytes(
    t: &TestApp,
    path: &str,
    bearer: &str,
) -> (reqwest::StatusCode, String, String, Vec<u8>) {
    let r = t
        .client
        .get(t.url(path))
        .bearer_auth(bearer)
        .send()
        .await
        .unwrap();
    let header = |name: &str| {
        r.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let (status, ct, cc) = (r.status(), header("content-type"), header("cache-control"));
    (status, ct, cc, r.bytes().await.unwrap().to_vec())
}

async fn set_paying(t: &TestApp, account_id: &str, since: i64) {
    let (id, now) = (account_id.to_owned(), t.state.now());
    t.state
        .db
        .run(move |conn| {
            twofold::accounts::service::set_paying(conn, &id.as_str().into(), since, None, now)
        })
        .await
        .unwrap();
}

#[actix_web::test]
async fn the_whole_journey_from_trial_to_enforced_two_factor_login() {
    let t = TestApp::spawn().await;
    let admin = t.account("Acme MSP").await;
    let tech = t.user(&admin.account_id, Role::Technician).await;

    // The account starts paying now: enforcement is due in 24 hours.
    set_paying(&t, &admin.account_id, t.clock.unix()).await;
    let before = t.login(&tech).await;
    assert_eq!(
        claims_of(before["access_token"].as_str().unwrap())["aal"],
        1
    );

    t.advance(24 * 3600);
    let flow = t.login_to_enrollment(&tech).await;

    let start = t
        .call(Method::POST, "/v1/auth/enrollment/totp", Some(&flow), None)
        .await;
    let enrollment = start.ok().clone();
    assert_eq!(start.header("cache-control"), "no-store");
    let secret = enrollment["secret"].as_str().unwrap();
    let uri = enrollment["otpauth_uri"].as_str().unwrap();
    assert_eq!(secret.len(), 32, "160 bits in unpadded base32");
    assert_eq!(
        enrollment["secret_grouped"]
            .as_str()
            .unwrap()
            .replace(' ', ""),
        secret
    );
    assert!(uri.starts_with("otpauth://totp/twofold:"), "{uri}");
    assert!(uri.contains(&format!("secret={secret}")));
    assert!(uri.contains("&issuer=twofold&algorithm=SHA1&digits=6&period=30"));
    assert_eq!(
        enrollment["qr_png_url"],
        "http://localhost:8080/v1/auth/enrollment/totp/qr.png"
    );
    assert!(enrollment["qr_png_data_uri"]
        .as_str()
        .unwrap()
        .starts_with("data:image/png;base64,"));

    // The images decode back to exactly the URI.
    let (status, ct, cc, png) = bytes(&t, "/v1/auth/enrollment/totp/qr.png", &flow).await;
    assert_eq!(
        (status.as_u16(), ct.as_str(), cc.as_str()),
        (200, "image/png", "no-store")
    );
    assert_eq!(decode_png(&png), uri);
    let (status, ct, _, svg) = bytes(&t, "/v1/auth/enrollment/totp/qr.svg?size=200", &flow).await;
    assert_eq!((status.as_u16(), ct.as_str()), (200, "image/svg+xml"));
    assert_eq!(decode_svg(&String::from_utf8(svg).unwrap()), uri);
    let (_, _, _, big) = bytes(&t, "/v1/auth/enrollment/totp/qr.png?size=1000", &flow).await;
    assert_eq!(decode_png(&big), uri);
    assert!(big.len() > png.len());

    // A wrong code, then the right one.
    let verify = |code: String| {
        t.call(
            Method::POST,
            "/v1/auth/enrollment/totp/verify",
            Some(&flow),
            Some(json!({ "code": code })),
        )
    };
    let right = code_at(secret, t.clock.unix());
    let wrong = format!("{:06}", (right.parse::<u32>().unwrap() + 1) % 1_000_000);
    verify(wrong).await.problem(401, "invalid_code");
    let verified = verify(right).await;
    let verified = verified.ok().clone();
    assert_eq!(verified["status"], "recovery_code_confirmation_required");
    let recovery = verified["recovery_code"].as_str().unwrap();
    assert_eq!(recovery.len(), 29);
    assert_eq!(recovery.split('-').count(), 6);
    let confirm_flow = verified["flow_token"].as_str().unwrap();
    assert_ne!(confirm_flow, flow, "the flow token rotates");

    // No session before the confirmation: the old flow token is spent.
    t.call(Method::POST, "/v1/auth/enrollment/totp", Some(&flow), None)
        .await
        .problem(401, "flow_expired");
    t.call(
        Method::POST,
        "/v1/auth/enrollment/recovery-code/confirm",
        Some(confirm_flow),
        Some(json!({ "confirmed": false })),
    )
    .await
    .problem(400, "validation_failed");
    let done = t
        .call(
            Method::POST,
            "/v1/auth/enrollment/recovery-code/confirm",
            Some(confirm_flow),
            Some(json!({ "confirmed": true })),
        )
        .await;
    let tokens = done.ok().clone();
    assert_eq!(tokens["status"], "authenticated");
    let claims = claims_of(tokens["access_token"].as_str().unwrap());
    assert_eq!(claims["aal"], 2);
    assert_eq!(claims["amr"], json!(["pwd", "otp"]));
    let access = tokens["access_token"].as_str().unwrap();
    let me = t.get("/v1/me", Some(access)).await;
    assert_eq!(me.ok()["twofa_status"], "enabled");
    assert_eq!(me.json["twofa_required"], true);

    // Log out; the next login asks for the code.
    t.call(Method::POST, "/v1/auth/logout", Some(access), None)
        .await;
    t.advance(30);
    let flow = t.start_login(&tech.email).await;
    let mfa = t
        .post(
            "/v1/auth/login/password",
            json!({ "flow_token": flow, "password": tech.password }),
        )
        .await;
    assert_eq!(mfa.ok()["status"], "mfa_required");
    assert_eq!(mfa.json["methods"], json!(["totp", "recovery_code"]));
    let flow = mfa.json["flow_token"].as_str().unwrap();
    let signed_in = t
        .post(
            "/v1/auth/login/totp",
            json!({ "flow_token": flow, "code": code_at(secret, t.clock.unix()) }),
        )
        .await;
    assert_eq!(signed_in.ok()["status"], "authenticated");
    let claims = claims_of(signed_in.json["access_token"].as_str().unwrap());
    assert_eq!(claims["aal"], 2);
    assert_eq!(claims["amr"], json!(["pwd", "otp"]));
}

#[actix_web::test]
async fn a_past_paying_date_enforces_at_once_and_voluntary_users_are_not_asked() {
    let t = TestApp::spawn().await;
    let admin = t.account("Trial Co").await;
    // On trial nobody is asked.
    assert_eq!(t.login(&admin).await["status"], "authenticated");
    set_paying(&t, &admin.account_id, t.clock.unix() - 25 * 3600).await;
    t.login_to_enrollment(&admin).await;
}

#[actix_web::test]
async fn the_enrollment_code_is_refused_at_the_next_login() {
    let t = TestApp::spawn().await;
    let admin = t.account("Acme").await;
    t.require_twofa(&admin.id).await;
    let flow = t.login_to_enrollment(&admin).await;
    let start = t
        .call(Method::POST, "/v1/auth/enrollment/totp", Some(&flow), None)
        .await;
    let secret = start.json["secret"].as_str().unwrap().to_owned();
    let code = code_at(&secret, t.clock.unix());
    let verified = t
        .call(
            Method::POST,
            "/v1/auth/enrollment/totp/verify",
            Some(&flow),
            Some(json!({ "code": code })),
        )
        .await;
    let confirm = verified.ok()["flow_token"].as_str().unwrap().to_owned();
    t.call(
        Method::POST,
        "/v1/auth/enrollment/recovery-code/confirm",
        Some(&confirm),
        Some(json!({ "confirmed": true })),
    )
    .await
    .ok();

    // Same 30-second step, same code: refused, whoever sends it.
    let flow = t.login_to_mfa(&admin).await;
    t.post(
        "/v1/auth/login/totp",
        json!({ "flow_token": flow, "code": code }),
    )
    .await
    .problem(401, "code_already_used");
    // An earlier step's code is refused too (steps only move forward).
    let earlier = code_at(&secret, t.clock.unix() - 30);
    t.post(
        "/v1/auth/login/totp",
        json!({ "flow_token": flow, "code": earlier }),
    )
    .await
    .problem(401, "code_already_used");
    // The next step's code works.
    t.advance(30);
    let next = code_at(&secret, t.clock.unix());
    let ok = t
        .post(
            "/v1/auth/login/totp",
            json!({ "flow_token": flow, "code": next }),
        )
        .await;
    assert_eq!(ok.ok()["status"], "authenticated");
}

#[actix_web::test]
async fn twenty_racing_logins_with_one_code_authenticate_exactly_once() {
    let t = TestApp::spawn().await;
    let admin = t.account("Acme").await;
    let enrolled = t.enroll(&admin).await;
    let mut flows = Vec::new();
    for _ in 0..20 {
        flows.push(t.login_to_mfa(&admin).await);
    }
    let code = code_at(&enrolled.secret, t.clock.unix());
    let answers = join_all(flows.iter().map(|flow| {
        t.post(
            "/v1/auth/login/totp",
            json!({ "flow_token": flow, "code": code }),
        )
    }))
    .await;
    let winners = answers.iter().filter(|a| a.status.is_success()).count();
    assert_eq!(winners, 1, "{answers:#?}");
    // The others find the step claimed, or (on a fast server) the user's
    // ten in-flight tries already reserved: attempts are counted before
    // they are verified.
    for loser in answers.iter().filter(|a| !a.status.is_success()) {
        match loser.status.as_u16() {
            429 => loser.problem(429, "too_many_attempts"),
            _ => loser.problem(401, "code_already_used"),
        };
    }
}

#[actix_web::test]
async fn wrong_codes_kill_the_flow_then_lock_the_user_with_doubling_retry_after() {
    let t = TestApp::spawn().await;
    let admin = t.account("Acme").await;
    let enrolled = t.enroll(&admin).await;
    let wrong = |secret: &str, now: i64| {
        let right: u32 = code_at(secret, now).parse().unwrap();
        format!("{:06}", (right + 500_000) % 1_000_000)
    };
    let app = &t;
    let try_code = |flow: String, code: String| async move {
        app.post(
            "/v1/auth/login/totp",
            json!({ "flow_token": flow, "code": code }),
        )
        .await
    };

    // Per flow: four wrong codes are wrong; the fifth ends the flow and
    // says so (429, start again), and so does every later try on it.
    let flow = t.login_to_mfa(&admin).await;
    for _ in 0..4 {
        try_code(flow.clone(), wrong(&enrolled.secret, t.clock.unix()))
            .await
            .problem(401, "invalid_code");
    }
    let ended = try_code(flow.clone(), wrong(&enrolled.secret, t.clock.unix())).await;
    ended.problem(429, "too_many_attempts");
    assert!(
        ended.json["detail"]
            .as_str()
            .unwrap()
            .contains("start again"),
        "{}",
        ended.text
    );
    let right = code_at(&enrolled.secret, t.clock.unix());
    try_code(flow, right.clone())
        .await
        .problem(429, "too_many_attempts");

    // Per user: ten in a row lock the second factor for 15 minutes; the
    // tenth answer already says so.
    let flow = t.login_to_mfa(&admin).await;
    for _ in 0..4 {
        try_code(flow.clone(), wrong(&enrolled.secret, t.clock.unix()))
            .await
            .problem(401, "invalid_code");
    }
    let tenth = try_code(flow.clone(), wrong(&enrolled.secret, t.clock.unix())).await;
    tenth.problem(429, "too_many_attempts");
    assert_eq!(tenth.header("retry-after"), "900");
    let flow = t.login_to_mfa(&admin).await;
    let locked = try_code(flow.clone(), right).await;
    locked.problem(429, "too_many_attempts");
    assert_eq!(locked.header("retry-after"), "900");
    assert_eq!(locked.json["retry_after"], 900);

    // Still locked a second before the end, even for a right code.
    t.advance(899);
    let flow = t.login_to_mfa(&admin).await;
    let right = code_at(&enrolled.secret, t.clock.unix());
    let a = try_code(flow.clone(), right).await;
    a.problem(429, "too_many_attempts");
    assert_eq!(a.header("retry-after"), "1");

    // The next lock in a row lasts twice as long.
    t.advance(1);
    let mut flow = t.login_to_mfa(&admin).await;
    for i in 0..10 {
        if i == 5 {
            flow = t.login_to_mfa(&admin).await;
        }
        let a = try_code(flow.clone(), wrong(&enrolled.secret, t.clock.unix())).await;
        match i {
            4 | 9 => a.problem(429, "too_many_attempts"),
            _ => a.problem(401, "invalid_code"),
        };
    }
    let flow = t.login_to_mfa(&admin).await;
    let right = code_at(&enrolled.secret, t.clock.unix());
    let a = try_code(flow.clone(), right).await;
    a.problem(429, "too_many_attempts");
    assert_eq!(a.header("retry-after"), "1800");

    // After the lock a right code signs in and clears the record.
    t.advance(1800);
    let flow = t.login_to_mfa(&admin).await;
    let right = code_at(&enrolled.secret, t.clock.unix());
    assert_eq!(try_code(flow, right).await.ok()["status"], "authenticated");
}

#[actix_web::test]
async fn failures_from_one_address_are_limited_across_users() {
    let t = TestApp::with_env(&[
        ("TWOFOLD_TRUSTED_PROXIES", "127.0.0.1"),
        ("TWOFOLD_ADDRESS_FAILURE_LIMIT", "3"),
    ])
    .await;
    let admin = t.account("Acme").await;
    // A unique address, so no other test's failures count here.
    let address = format!("10.{}.{}.{}", rand_octet(), rand_octet(), rand_octet());
    let app = &t;
    let post_from = |address: String, path: &'static str, body: Value| async move {
        let r = app
            .client
            .post(app.url(path))
            .header("x-forwarded-for", address)
            .json(&body)
            .send()
            .await
            .unwrap();
        (
            r.status().as_u16(),
            r.headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_owned()),
            r.json::<Value>().await.unwrap(),
        )
    };
    let post = |path: &'static str, body: Value| post_from(address.clone(), path, body);
    for _ in 0..3 {
        let flow = t.start_login(&admin.email).await;
        let (status, _, body) = post(
            "/v1/auth/login/password",
            json!({ "flow_token": flow, "password": "wrong password!" }),
        )
        .await;
        assert_eq!(
            (status, body["code"].as_str().unwrap()),
            (401, "invalid_credentials")
        );
    }
    let flow = t.start_login(&admin.email).await;
    let (status, retry, body) = post(
        "/v1/auth/login/password",
        json!({ "flow_token": flow, "password": admin.password }),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str().unwrap()),
        (429, "too_many_attempts")
    );
    assert_eq!(retry.as_deref(), Some("900"));
    // Another address is not affected.
    let other = format!("10.{}.{}.{}", rand_octet(), rand_octet(), rand_octet());
    let flow = t.start_login(&admin.email).await;
    let (status, _, body) = post_from(
        other,
        "/v1/auth/login/password",
        json!({ "flow_token": flow, "password": admin.password }),
    )
    .await;
    assert_eq!(
        (status, body["status"].as_str().unwrap()),
        (200, "authenticated")
    );
}

fn rand_octet() -> u8 {
    twofold::crypto::random_bytes::<1>()[0]
}
