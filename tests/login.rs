//! Identifier-first password login through HTTP.

use reqwest::Method;
use serde_json::json;

use crate::common::{unique_email, TestApp};

#[actix_web::test]
async fn password_login_opens_a_session_with_the_promised_claims() {
    let t = TestApp::spawn().await;
    let admin = t.account("Acme MSP").await;

    let start = t
        .post(
            "/v1/auth/login",
            json!({ "email": admin.email.to_uppercase() }),
        )
        .await;
    let body = start.ok();
    assert_eq!(body["status"], "password_required");
    assert_eq!(body["expires_in"], 600);
    assert_eq!(start.header("cache-control"), "no-store");
    let flow = body["flow_token"].as_str().unwrap();
    assert!(flow.starts_with("flw_"));

    let done = t
        .post(
            "/v1/auth/login/password",
            json!({ "flow_token": flow, "password": admin.password }),
        )
        .await;
    let tokens = done.ok();
    assert_eq!(tokens["status"], "authenticated");
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 900);
    assert!(tokens["refresh_token"].as_str().unwrap().starts_with("rt_"));
    assert_eq!(done.header("cache-control"), "no-store");

    let access = tokens["access_token"].as_str().unwrap();
    let claims = crate::tokens::claims_of(access);
    assert_eq!(claims["sub"], admin.id.as_str());
    assert_eq!(claims["acct"], admin.account_id.as_str());
    assert_eq!(claims["role"], "admin");
    assert_eq!(claims["aal"], 1);
    assert_eq!(claims["amr"], json!(["pwd"]));
    assert_eq!(claims["iss"], "twofold");
    assert_eq!(claims["aud"], "http://localhost:8080");
    assert_eq!(claims["iat"], crate::common::START);
    assert_eq!(claims["exp"], crate::common::START + 900);

    let me = t.get("/v1/me", Some(access)).await;
    let me = me.ok();
    assert_eq!(me["id"], admin.id.as_str());
    assert_eq!(me["email"], admin.email.as_str());
    assert_eq!(me["role"], "admin");
    assert_eq!(me["account"]["name"], "Acme MSP");
    assert_eq!(me["twofa_status"], "disabled");
    assert_eq!(me["twofa_required"], false);
    assert_eq!(me["session"]["aal"], 1);
    assert_eq!(me["session"]["id"], claims["sid"]);
}

#[actix_web::test]
async fn unknown_email_gets_the_same_answer_and_fails_only_at_the_password() {
    let t = TestApp::spawn().await;
    let admin = t.account("Acme").await;
    let known = t
        .post("/v1/auth/login", json!({ "email": admin.email }))
        .await;
    let unknown = t
        .post("/v1/auth/login", json!({ "email": unique_email("nobody") }))
        .await;
    assert_eq!(known.status, unknown.status);
    let keys = |v: &serde_json::Value| {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(keys(&known.json), keys(&unknown.json));
    assert_eq!(known.json["status"], unknown.json["status"]);
    assert_eq!(
        known.json["flow_token"].as_str().unwrap().len(),
        unknown.json["flow_token"].as_str().unwrap().len()
    );
    let a = t
        .post(
            "/v1/auth/login/password",
            json!({ "flow_token": unknown.json["flow_token"], "password": admin.password }),
        )
        .await;
    a.problem(401, "invalid_credentials");
}

#[actix_web::test]
async fn wrong_password_is_refused_and_five_kill_the_flow() {
    let t = TestApp::spawn().await;
    let admin = t.account("Acme").await;
    let flow = t.start_login(&admin.email).await;
    for i in 0..5 {
        let a = t
            .post(
                "/v1/auth/login/password",
                json!({ "flow_token": flow, "password": "not the password" }),
            )
            .await;
        // The fifth ends the flow and says so.
        match i {
            4 => a.problem(429, "too_many_attempts"),
            _ => a.problem(401, "invalid_credentials"),
        };
    }
    // Even the right password cannot revive a dead flow.
    t.post(
        "/v1/auth/login/password",
        json!({ "flow_token": flow, "password": admin.password }),
    )
    .await
    .problem(429, "too_many_attempts");
    // A new flow works.
    t.login(&admin).await;
}

#[actix_web::test]
async fn flow_tokens_are_single_use_and_expire() {
    let t = TestApp::spawn().await;
    let admin = t.account("Acme").await;
    let flow = t.start_login(&admin.email).await;
    let body = json!({ "flow_token": flow, "password": admin.password });
    t.post("/v1/auth/login/password", body.clone()).await.ok();
    t.post("/v1/auth/login/password", body)
        .await
        .problem(401, "flow_expired");

    let flow = t.start_login(&admin.email).await;
    t.advance(600);
    t.post(
        "/v1/auth/login/password",
        json!({ "flow_token": flow, "password": admin.password }),
    )
    .await
    .problem(401, "flow_expired");

    t.post(
        "/v1/auth/login/password",
        json!({ "flow_token": "flw_made_up", "password": admin.password }),
    )
    .await
    .problem(401, "flow_expired");
}

#[actix_web::test]
async fn racing_password_steps_on_one_flow_open_exactly_one_session() {
    let t = TestApp::spawn().await;
    let admin = t.account("Acme").await;
    let flow = t.start_login(&admin.email).await;
    let body = json!({ "flow_token": flow, "password": admin.password });
    let attempts = (0..8).map(|_| t.post("/v1/auth/login/password", body.clone()));
    let answers = futures_util::future::join_all(attempts).await;
    let won = answers.iter().filter(|a| a.status.is_success()).count();
    assert_eq!(won, 1, "{answers:?}");
    // The others lost the race to advance the flow, or found its five
    // tries already reserved by the racers (reserve, then verify).
    for a in answers.iter().filter(|a| !a.status.is_success()) {
        match a.status.as_u16() {
            429 => a.problem(429, "too_many_attempts"),
            _ => a.problem(401, "flow_expired"),
        };
    }
}

#[actix_web::test]
async fn a_flow_token_is_not_a_session_and_a_session_is_not_a_flow() {
    let t = TestApp::spawn().await;
    let admin = t.account("Acme").await;
    let flow = t.start_login(&admin.email).await;
    t.get("/v1/me", Some(&flow))
        .await
        .problem(401, "invalid_token");
    t.call(Method::POST, "/v1/auth/logout", Some(&flow), None)
        .await
        .problem(401, "invalid_token");

    let access = t.access_token(&admin).await;
    t.post(
        "/v1/auth/login/password",
        json!({ "flow_token": access, "password": admin.password }),
    )
    .await
    .problem(401, "flow_expired");
}

#[actix_web::test]
async fn password_change_keeps_this_session_and_revokes_the_others() {
    let t = TestApp::spawn().await;
    let admin = t.account("Acme").await;
    let laptop = t.access_token(&admin).await;
    let phone = t.login(&admin).await;
    let phone_access = phone["access_token"].as_str().unwrap();

    let change =
        |current: &str, new: &str| json!({ "current_password": current, "new_password": new });
    t.call(
        Method::POST,
        "/v1/me/password",
        Some(&laptop),
        Some(change("wrong password", "a brand new passphrase")),
    )
    .await
    .problem(401, "invalid_credentials");
    let short = t
        .call(
            Method::POST,
            "/v1/me/password",
            Some(&laptop),
            Some(change(&admin.password, "short")),
        )
        .await;
    short.problem(400, "validation_failed");
    assert_eq!(short.json["errors"][0]["field"], "new_password");

    let ok = t
        .call(
            Method::POST,
            "/v1/me/password",
            Some(&laptop),
            Some(change(&admin.password, "a brand new passphrase")),
        )
        .await;
    assert_eq!(ok.status.as_u16(), 204, "{}", ok.text);

    t.get("/v1/me", Some(&laptop)).await.ok();
    t.get("/v1/me", Some(phone_access))
        .await
        .problem(401, "invalid_token");
    t.post(
        "/v1/auth/token/refresh",
        json!({ "refresh_token": phone["refresh_token"] }),
    )
    .await
    .problem(401, "invalid_token");

    // The old password no longer works; the new one does.
    let flow = t.start_login(&admin.email).await;
    t.post(
        "/v1/auth/login/password",
        json!({ "flow_token": flow, "password": admin.password }),
    )
    .await
    .problem(401, "invalid_credentials");
    let mut renamed = admin.clone();
    renamed.password = "a brand new passphrase".into();
    t.login(&renamed).await;
}

#[actix_web::test]
async fn the_janitor_removes_expired_flows_and_ended_sessions_only() {
    // The janitor sweeps every account: keep it away from other tests' rows.
    let t = TestApp::spawn_isolated().await;
    let admin = t.account("Acme").await;
    let live_flow = t.start_login(&admin.email).await;
    let tokens = t.login(&admin).await;
    t.call(
        Method::POST,
        "/v1/auth/logout",
        tokens["access_token"].as_str(),
        None,
    )
    .await;
    // Nothing has expired yet: the live flow survives a pass.
    twofold::ops::janitor::pass(&t.state).await.unwrap();
    t.post(
        "/v1/auth/login/password",
        json!({ "flow_token": live_flow, "password": admin.password }),
    )
    .await
    .ok();

    let stale_flow = t.start_login(&admin.email).await;
    // Past the 7-day session life plus the 30 days ended sessions are kept.
    t.advance(38 * 24 * 3600);
    let swept = twofold::ops::janitor::pass(&t.state).await.unwrap();
    assert!(swept.flows >= 1, "{swept:?}");
    assert!(swept.sessions >= 2, "{swept:?}");
    t.post(
        "/v1/auth/login/password",
        json!({ "flow_token": stale_flow, "password": admin.password }),
    )
    .await
    .problem(401, "flow_expired");
}

#[actix_web::test]
async fn a_hash_made_under_older_argon2_settings_is_replaced_at_the_next_login() {
    use diesel::prelude::*;
    use twofold::config::PasswordParams;
    use twofold::crypto::password::PasswordHasher;
    use twofold::crypto::Secret;
    use twofold::db::schema::users;

    let t = TestApp::spawn().await;
    let admin = t.account("Rehash").await;
    let weaker = PasswordParams {
        memory_kib: 32,
        iterations: 1,
        parallelism: 1,
    };
    let old = PasswordHasher::new(weaker)
        .unwrap()
        .hash_blocking(&Secret::new(admin.password.clone()))
        .unwrap();
    assert!(old.contains("m=32,"), "{old}");
    let stored = |id: String| {
        let db = t.state.db.clone();
        async move {
            db.run(move |conn| {
                Ok(users::table
                    .find(&id)
                    .select(users::password_hash)
                    .get_result::<String>(conn)?)
            })
            .await
            .unwrap()
        }
    };
    {
        let (id, old) = (admin.id.clone(), old.clone());
        t.state
            .db
            .run(move |conn| {
                diesel::update(users::table.find(&id))
                    .set(users::password_hash.eq(&old))
                    .execute(conn)?;
                Ok(())
            })
            .await
            .unwrap();
    }
    // A wrong password changes nothing; the right one re-hashes.
    let flow = t.start_login(&admin.email).await;
    t.post(
        "/v1/auth/login/password",
        json!({ "flow_token": flow, "password": "not the password" }),
    )
    .await
    .problem(401, "invalid_credentials");
    assert_eq!(stored(admin.id.clone()).await, old);
    t.login(&admin).await;
    let new = stored(admin.id.clone()).await;
    assert_ne!(new, old);
    assert!(new.contains("m=64,"), "the configured settings: {new}");
    // And the password still works.
    t.login(&admin).await;
}
