//! Guessing attacks on the limits: parallel wrong codes against the
//! reservation, a new flow and a new address per password guess, IPv6
//! clients rotating through their /64, and an outsider testing passwords
//! against an account with an IP allow-list.

use serde_json::{json, Value};
use twofold::clock::Clock as _;
use twofold::users::Role;

use crate::common::{code_at, TestApp};
use crate::ip_allowlist::{via, xff};

/// A code that is wrong at `now`: the right one moved by half the range.
pub(crate) fn wrong_code(secret: &str, now: i64) -> String {
    let right: u32 = code_at(secret, now).parse().unwrap();
    format!("{:06}", (right + 500_000) % 1_000_000)
}

#[actix_web::test]
async fn two_hundred_parallel_wrong_codes_get_exactly_the_limits_verifications() {
    let t = TestApp::spawn().await;
    let admin = t.account("Parallel").await;
    let enrolled = t.enroll(&admin).await;
    let mut flows = Vec::new();
    for _ in 0..40 {
        flows.push(t.login_to_mfa(&admin).await);
    }
    let code = wrong_code(&enrolled.secret, t.clock.unix());
    let guesses = flows.iter().flat_map(|flow| {
        let body = json!({ "flow_token": flow, "code": code });
        (0..5).map(move |_| body.clone())
    });
    let answers =
        futures_util::future::join_all(guesses.map(|body| t.post("/v1/auth/login/totp", body)))
            .await;
    assert_eq!(answers.len(), 200);
    // Verified wrong codes answer 401 (or 429 for the one that locks the
    // user or uses up its flow); all the others are refused unverified, with
    // 429, or 503 when the database pool is saturated by the burst.
    let wrong = answers.iter().filter(|a| a.status == 401).count();
    assert!(wrong <= 9, "{wrong} answered invalid_code");
    for a in &answers {
        match a.status.as_u16() {
            401 => a.problem(401, "invalid_code"),
            503 => a.problem(503, "service_unavailable"),
            _ => a.problem(429, "too_many_attempts"),
        };
    }
    // Every verified guess is audited: exactly the limit, one lock.
    let token = t.login(&t.user(&admin.account_id, Role::Admin).await).await;
    let token = token["access_token"].as_str().unwrap().to_owned();
    let trail = via(1, &[]);
    let failed = trail.events(&t, &token, "login.failed").await;
    let of_user = failed
        .iter()
        .filter(|e| e["subject_user_id"] == admin.id.as_str())
        .count();
    assert_eq!(of_user, 10, "{failed:?}");
    let locks = trail.events(&t, &token, "twofa.locked").await;
    assert_eq!(locks.len(), 1, "{locks:?}");
    // And the lock holds for the right code.
    let flow = t.login_to_mfa(&admin).await;
    let right = code_at(&enrolled.secret, t.clock.unix());
    t.post(
        "/v1/auth/login/totp",
        json!({ "flow_token": flow, "code": right }),
    )
    .await
    .problem(429, "too_many_attempts");
}

#[actix_web::test]
async fn a_new_flow_and_a_new_address_per_password_guess_still_back_off_per_user() {
    let t = TestApp::with_env(&[("TWOFOLD_TRUSTED_PROXIES", "127.0.0.1")]).await;
    let victim = t.account("Sprayed").await;
    // The victim works from one address.
    let office = xff("198.51.100.7");
    office.login(&t, &victim).await;

    let mut answers = Vec::new();
    for i in 0..12 {
        let attacker = xff(&format!("2001:db8:{i:x}::1"));
        answers.push(attacker.password(&t, &victim.email, "guess").await);
    }
    for a in &answers[..9] {
        a.problem(401, "invalid_credentials");
    }
    for a in &answers[9..] {
        a.problem(429, "too_many_attempts");
        assert_eq!(a.header("retry-after"), "900", "{}", a.text);
    }
    // The right password from a new address waits too...
    let elsewhere = xff("203.0.113.50");
    elsewhere
        .password(&t, &victim.email, &victim.password)
        .await
        .problem(429, "too_many_attempts");
    // ...but where the victim signed in before, they still get in.
    let tokens = office.login(&t, &victim).await;
    let token = tokens["access_token"].as_str().unwrap();
    // The guesses left a trace, with their addresses, without a flood.
    let failed = office.events(&t, token, "login.failed").await;
    let passwords: Vec<&Value> = failed
        .iter()
        .filter(|e| e["detail"]["factor"] == "password")
        .collect();
    assert_eq!(passwords.len(), 2, "the first and the lock: {failed:?}");
    assert_eq!(passwords[1]["ip"], "2001:db8::1", "{failed:?}");
    assert!(
        passwords[0]["detail"]["locked_until"].is_string(),
        "{failed:?}"
    );
    // A successful login from the new address after the back-off works.
    t.advance(900);
    elsewhere.login(&t, &victim).await;
}

#[actix_web::test]
async fn an_ipv6_client_rotating_through_its_64_shares_one_address_limit() {
    let t = TestApp::with_env(&[
        ("TWOFOLD_TRUSTED_PROXIES", "127.0.0.1"),
        ("TWOFOLD_ADDRESS_FAILURE_LIMIT", "3"),
    ])
    .await;
    let prefix = format!("2001:db8:{:x}:{:x}", rand16(), rand16());
    for i in 0..3 {
        let a = xff(&format!("{prefix}::{i:x}"))
            .password(&t, &crate::common::unique_email("nobody"), "x")
            .await;
        a.problem(401, "invalid_credentials");
    }
    let a = xff(&format!("{prefix}:ffff:ffff:ffff:ffff"))
        .password(&t, &crate::common::unique_email("nobody"), "x")
        .await;
    a.problem(429, "too_many_attempts");
    // Another /64 is another client.
    let other = format!("2001:db8:{:x}:{:x}::1", rand16(), rand16());
    xff(&other)
        .password(&t, &crate::common::unique_email("nobody"), "x")
        .await
        .problem(401, "invalid_credentials");
}

fn rand16() -> u16 {
    u16::from_be_bytes(twofold::crypto::random_bytes::<2>())
}

#[actix_web::test]
async fn an_outsider_cannot_test_passwords_against_an_allow_listed_account() {
    let t = TestApp::spawn().await;
    let admin = t.account("Listed").await;
    let tech = t.user(&admin.account_id, Role::Technician).await;
    let tok = t.access_token(&admin).await;
    let inside = via(1, &[]);
    inside.entry(&t, &tok, "127.0.0.1").await;
    assert_eq!(inside.switch(&t, &tok, true, false).await.status, 200);

    let outsider = via(2, &[]);
    let right = outsider.password(&t, &tech.email, &tech.password).await;
    let wrong = outsider.password(&t, &tech.email, "not it").await;
    right.problem(403, "ip_not_allowed");
    assert_eq!(wrong.status, right.status);
    assert_eq!(wrong.json, right.json);

    // The tries count: one flow takes five, right or wrong.
    let body = json!({ "email": tech.email });
    let a = outsider.post(&t, "/v1/auth/login", None, body).await;
    let flow = a.json["flow_token"].as_str().unwrap().to_owned();
    for i in 0..6 {
        let password = if i % 2 == 0 {
            tech.password.as_str()
        } else {
            "x"
        };
        let body = json!({ "flow_token": flow, "password": password });
        let a = outsider
            .post(&t, "/v1/auth/login/password", None, body)
            .await;
        match i {
            0..=4 => a.problem(403, "ip_not_allowed"),
            _ => a.problem(429, "too_many_attempts"),
        };
    }
}

#[actix_web::test]
async fn a_right_but_already_used_code_does_not_clear_the_run_of_failures() {
    let t = TestApp::spawn().await;
    let admin = t.account("Replayed").await;
    let enrolled = t.enroll(&admin).await;
    // The owner signs in; the code they typed is seen by the attacker.
    let used = code_at(&enrolled.secret, t.clock.unix());
    t.login_with_totp(&enrolled).await;
    let wrong = wrong_code(&enrolled.secret, t.clock.unix());
    let guess = |flow: String, code: String| {
        let t = &t;
        async move {
            t.post(
                "/v1/auth/login/totp",
                json!({ "flow_token": flow, "code": code }),
            )
            .await
        }
    };
    for tries in [4, 4] {
        let flow = t.login_to_mfa(&admin).await;
        for _ in 0..tries {
            guess(flow.clone(), wrong.clone())
                .await
                .problem(401, "invalid_code");
        }
        guess(flow, used.clone())
            .await
            .problem(401, "code_already_used");
    }
    let flow = t.login_to_mfa(&admin).await;
    guess(flow.clone(), wrong.clone())
        .await
        .problem(401, "invalid_code");
    // Nine wrong so far; the tenth locks, the replays notwithstanding.
    let a = guess(flow, wrong).await;
    a.problem(429, "too_many_attempts");
    assert_eq!(a.header("retry-after"), "900");
}

#[actix_web::test]
async fn anonymous_email_steps_and_passkey_options_cannot_grow_the_flow_table_without_bound() {
    let t = TestApp::with_env(&[
        ("TWOFOLD_TRUSTED_PROXIES", "127.0.0.1"),
        ("TWOFOLD_ADDRESS_FLOW_LIMIT", "20"),
    ])
    .await;
    let admin = t.account("Flooded").await;
    let flooder = xff(&format!("2001:db8:{:x}:{:x}::1", rand16(), rand16()));
    for i in 0..20 {
        let a = match i % 2 {
            0 => {
                let body = json!({ "email": crate::common::unique_email("flood") });
                flooder.post(&t, "/v1/auth/login", None, body).await
            }
            _ => {
                flooder
                    .post(&t, "/v1/auth/passkey/options", None, json!({}))
                    .await
            }
        };
        assert_eq!(a.status, 200, "{}", a.text);
    }
    // The same answer whatever the email names: the address is full.
    for email in [crate::common::unique_email("flood"), admin.email.clone()] {
        let body = json!({ "email": email });
        let a = flooder.post(&t, "/v1/auth/login", None, body).await;
        a.problem(429, "too_many_attempts");
        assert!(a.header("retry-after").parse::<u64>().unwrap() > 0);
    }
    flooder
        .post(&t, "/v1/auth/passkey/options", None, json!({}))
        .await
        .problem(429, "too_many_attempts");
    // Everyone else signs in as usual, and the address's flows expire.
    xff("198.51.100.80").login(&t, &admin).await;
    t.advance(10 * 60);
    let body = json!({ "email": admin.email });
    let a = flooder.post(&t, "/v1/auth/login", None, body).await;
    assert_eq!(a.status, 200, "{}", a.text);
}

#[actix_web::test]
async fn the_password_back_off_does_not_tell_known_emails_from_unknown_ones() {
    let t = TestApp::with_env(&[("TWOFOLD_TRUSTED_PROXIES", "127.0.0.1")]).await;
    let known = t.account("Enumerated").await;
    let unknown = crate::common::unique_email("nobody");
    let mut seen = Vec::new();
    for email in [known.email.as_str(), unknown.as_str()] {
        let mut statuses = Vec::new();
        for i in 0..11 {
            let attacker = xff(&format!("2001:db8:{:x}:{i:x}::1", rand16()));
            let a = attacker.password(&t, email, "guess").await;
            statuses.push((
                a.status.as_u16(),
                a.json["code"].clone(),
                a.header("retry-after").to_owned(),
            ));
        }
        seen.push(statuses);
    }
    assert_eq!(seen[0], seen[1]);
    assert_eq!(seen[0][9].0, 429, "{:?}", seen[0]);
}

/// The code step records the client address as the user's only when the
/// record is over a day old: a user who signs in from the office every few
/// weeks keeps it known, so a spray elsewhere never locks them out there.
#[actix_web::test]
async fn an_address_the_user_signs_in_from_now_and_then_stays_known() {
    const DAY: i64 = 24 * 60 * 60;
    let t = TestApp::with_env(&[("TWOFOLD_TRUSTED_PROXIES", "127.0.0.1")]).await;
    let regular = t.account("Regular").await;
    let enrolled = t.enroll(&regular).await;
    let office = xff("198.51.100.9");
    // Twice on the first day (the second records nothing), then 20 days on.
    for wait in [0, 3600, 20 * DAY] {
        t.advance(wait);
        let a = office.password(&t, &regular.email, &regular.password).await;
        let code = code_at(&enrolled.secret, t.clock.unix());
        let body = json!({ "flow_token": a.json["flow_token"], "code": code });
        let done = office.post(&t, "/v1/auth/login/totp", None, body).await;
        assert_eq!(done.json["status"], "authenticated", "{}", done.text);
    }
    // 40 days after the first login, 20 after the last: a spray locks the
    // password everywhere else...
    t.advance(20 * DAY);
    for i in 0..10 {
        let sprayer = xff(&format!("2001:db8:5:{i:x}::1"));
        sprayer.password(&t, &regular.email, "guess").await;
    }
    xff("203.0.113.9")
        .password(&t, &regular.email, &regular.password)
        .await
        .problem(429, "too_many_attempts");
    // ...but not at the office.
    let a = office.password(&t, &regular.email, &regular.password).await;
    assert_eq!(a.json["status"], "mfa_required", "{}", a.text);
}
