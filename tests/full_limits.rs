//! Once a limit is full, the app's code is refused before anything about
//! it is told: a right code and a wrong one get the same answer and cost
//! the same SQL statements, so neither the answer nor its timing says
//! which guess was right. And replayed codes use up the flow's tries
//! without touching the user's run of failures.

use serde_json::json;
use twofold::clock::Clock as _;

use crate::common::{code_at, Answer, TestApp};
use crate::guessing::wrong_code;
use crate::ip_allowlist::xff;

/// The answer to `code` on `flow` from `from`, and the statements it sent.
async fn judged(
    t: &TestApp,
    from: &crate::ip_allowlist::Src,
    flow: &str,
    code: &str,
) -> (u64, Answer) {
    let before = t.state.db.statements();
    let body = json!({ "flow_token": flow, "code": code });
    let a = from.post(t, "/v1/auth/login/totp", None, body).await;
    (t.state.db.statements() - before, a)
}

/// A right code and a wrong one on `flow` are refused alike.
async fn refused_alike(t: &TestApp, from: &crate::ip_allowlist::Src, flow: &str, secret: &str) {
    let now = t.clock.unix();
    let (right_sent, right) = judged(t, from, flow, &code_at(secret, now)).await;
    let (wrong_sent, wrong) = judged(t, from, flow, &wrong_code(secret, now)).await;
    right.problem(429, "too_many_attempts");
    assert_eq!(
        right.status, wrong.status,
        "{} / {}",
        right.text, wrong.text
    );
    assert_eq!(right.json, wrong.json);
    assert_eq!(right.header("retry-after"), wrong.header("retry-after"));
    assert_eq!(
        right_sent, wrong_sent,
        "a refused right code sent {right_sent} statements, a wrong one {wrong_sent}"
    );
}

#[actix_web::test]
async fn a_locked_second_factor_refuses_a_right_code_as_it_refuses_a_wrong_one() {
    let t = TestApp::with_env(&[("TWOFOLD_TRUSTED_PROXIES", "127.0.0.1")]).await;
    let admin = t.account("Locked alike").await;
    let enrolled = t.enroll(&admin).await;
    let from = xff("192.0.2.10");
    let wrong = wrong_code(&enrolled.secret, t.clock.unix());
    for tries in [4, 4, 2] {
        let flow = t.login_to_mfa(&admin).await;
        for _ in 0..tries {
            judged(&t, &from, &flow, &wrong).await;
        }
    }
    let flow = t.login_to_mfa(&admin).await;
    refused_alike(&t, &from, &flow, &enrolled.secret).await;
}

#[actix_web::test]
async fn a_flow_out_of_tries_refuses_a_right_code_as_it_refuses_a_wrong_one() {
    let t = TestApp::with_env(&[("TWOFOLD_TRUSTED_PROXIES", "127.0.0.1")]).await;
    let admin = t.account("Exhausted alike").await;
    let enrolled = t.enroll(&admin).await;
    let from = xff("192.0.2.11");
    let flow = t.login_to_mfa(&admin).await;
    let wrong = wrong_code(&enrolled.secret, t.clock.unix());
    for _ in 0..5 {
        judged(&t, &from, &flow, &wrong).await;
    }
    refused_alike(&t, &from, &flow, &enrolled.secret).await;
}

#[actix_web::test]
async fn an_address_out_of_tries_refuses_a_right_code_as_it_refuses_a_wrong_one() {
    let owner = TestApp::spawn().await;
    let admin = owner.account("Address alike").await;
    let enrolled = owner.enroll(&admin).await;
    // The tests' own address is shared on PostgreSQL: the limit applies to
    // an instance that sees clients through a proxy, at an address of
    // their own.
    let t = owner
        .sibling(&[
            ("TWOFOLD_TRUSTED_PROXIES", "127.0.0.1"),
            ("TWOFOLD_ADDRESS_FAILURE_LIMIT", "3"),
        ])
        .await;
    let from = xff(&format!(
        "2001:db8:{:x}::1",
        u16::from_be_bytes(twofold::crypto::random_bytes::<2>())
    ));
    let a = from.password(&t, &admin.email, &admin.password).await;
    assert_eq!(a.json["status"], "mfa_required", "{}", a.text);
    let flow = a.json["flow_token"].as_str().unwrap().to_owned();
    let wrong = wrong_code(&enrolled.secret, t.clock.unix());
    for _ in 0..3 {
        judged(&t, &from, &flow, &wrong)
            .await
            .1
            .problem(401, "invalid_code");
    }
    refused_alike(&t, &from, &flow, &enrolled.secret).await;
}

#[actix_web::test]
async fn replayed_codes_use_up_the_flows_tries_and_nothing_else() {
    let t = TestApp::spawn().await;
    let admin = t.account("Replays").await;
    let enrolled = t.enroll(&admin).await;
    let used = code_at(&enrolled.secret, t.clock.unix());
    t.login_with_totp(&enrolled).await;
    let flow = t.login_to_mfa(&admin).await;
    let replay = || {
        t.post(
            "/v1/auth/login/totp",
            json!({ "flow_token": flow, "code": used }),
        )
    };
    for _ in 0..5 {
        replay().await.problem(401, "code_already_used");
    }
    replay().await.problem(429, "too_many_attempts");
    // The user's second factor is not locked: the next code signs in.
    t.advance(30);
    t.login_with_totp(&enrolled).await;
}
