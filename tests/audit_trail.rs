//! The admin's audit trail, `GET /v1/admin/audit-events`: who did what to
//! whom, when and from where; filters, keyset paging, tenant scoping, and
//! no secret ever in it.

use std::collections::HashSet;

use reqwest::Method;
use serde_json::{json, Value};
use twofold::clock::{rfc3339, Clock as _};
use twofold::users::Role;

use crate::common::{code_at, unique_email, Answer, Person, TestApp};

mod reading;

const NEW_PASSWORD: &str = "a brand new test password";

/// A code the authenticator app does not show now.
fn wrong_code(secret: &str, now: i64) -> String {
    let right: u32 = code_at(secret, now).parse().unwrap();
    format!("{:06}", (right + 500_000) % 1_000_000)
}

/// Keeps every token and code of an answer.
fn keep_tokens(secrets: &mut Vec<String>, answer: &Value) {
    for key in [
        "access_token",
        "refresh_token",
        "flow_token",
        "recovery_code",
    ] {
        if let Some(s) = answer[key].as_str() {
            secrets.push(s.to_owned());
        }
    }
}

fn text(v: &Value) -> String {
    v.as_str()
        .unwrap_or_else(|| panic!("not a string: {v}"))
        .to_owned()
}

/// An account where every audited action happened once (or a known
/// number of times), with everything secret that went over the wire.
struct Trail {
    t: TestApp,
    admin: Person,
    admin_token: String,
    /// The technician who signs in, enrolls, is locked out and reset.
    tech: Person,
    /// The user the admin creates, updates and requires 2FA for.
    newcomer_id: String,
    /// Passwords, TOTP secret, recovery codes and every token used.
    secrets: Vec<String>,
    /// The unix time of the lockout (the tenth wrong code).
    locked_at: i64,
}

async fn act_out_a_trail() -> Trail {
    let t = TestApp::spawn().await;
    let mut secrets = Vec::new();

    let admin = t.account("Audit Co").await;
    secrets.push(admin.password.clone());
    let admin_login = t.login(&admin).await; // login.succeeded
    keep_tokens(&mut secrets, &admin_login);
    let admin_token = text(&admin_login["access_token"]);

    let tech = t.user(&admin.account_id, Role::Technician).await;
    secrets.push(tech.password.clone());

    // A refresh token used twice: the second use is a theft signal.
    t.advance(1);
    let first = t.login(&tech).await; // login.succeeded
    keep_tokens(&mut secrets, &first);
    let spent = text(&first["refresh_token"]);
    let rotated = t
        .post("/v1/auth/token/refresh", json!({ "refresh_token": spent }))
        .await;
    keep_tokens(&mut secrets, rotated.ok());
    t.advance(1);
    t.post("/v1/auth/token/refresh", json!({ "refresh_token": spent }))
        .await
        .problem(401, "invalid_token"); // session.refresh_token_reused

    // Enrollment: twofa.totp_enrolled, login.succeeded.
    let enrolled = t.enroll(&tech).await;
    secrets.push(enrolled.secret.clone());
    secrets.push(enrolled.recovery_code.clone());
    secrets.push(enrolled.recovery_code.replace('-', ""));
    keep_tokens(&mut secrets, &enrolled.tokens);

    // A wrong code (login.failed), then the right one (login.succeeded).
    let flow = t.login_to_mfa(&tech).await;
    secrets.push(flow.clone());
    t.post(
        "/v1/auth/login/totp",
        json!({ "flow_token": flow, "code": wrong_code(&enrolled.secret, t.clock.unix()) }),
    )
    .await
    .problem(401, "invalid_code");
    let signed_in = t
        .post(
            "/v1/auth/login/totp",
            json!({ "flow_token": flow, "code": code_at(&enrolled.secret, t.clock.unix()) }),
        )
        .await;
    assert_eq!(signed_in.ok()["status"], "authenticated");
    keep_tokens(&mut secrets, &signed_in.json);

    // The recovery code: twofa.recovery_code_used, then a new code is
    // confirmed (twofa.recovery_code_rotated) and the session opens.
    t.advance(1);
    let flow = t.login_to_mfa(&tech).await;
    secrets.push(flow.clone());
    let used = t
        .post(
            "/v1/auth/login/recovery-code",
            json!({ "flow_token": flow, "recovery_code": enrolled.recovery_code }),
        )
        .await;
    assert_eq!(used.ok()["status"], "recovery_code_confirmation_required");
    keep_tokens(&mut secrets, &used.json);
    secrets.push(text(&used.json["recovery_code"]).replace('-', ""));
    let done = t
        .call(
            Method::POST,
            "/v1/auth/enrollment/recovery-code/confirm",
            used.json["flow_token"].as_str(),
            Some(json!({ "confirmed": true })),
        )
        .await;
    assert_eq!(done.ok()["status"], "authenticated");
    keep_tokens(&mut secrets, &done.json);
    let session = text(&done.json["access_token"]);

    // user.password_changed, then session.logged_out.
    t.advance(1);
    let changed = t
        .call(
            Method::POST,
            "/v1/me/password",
            Some(&session),
            Some(json!({ "current_password": tech.password, "new_password": NEW_PASSWORD })),
        )
        .await;
    assert_eq!(changed.status, 204, "{}", changed.text);
    secrets.push(NEW_PASSWORD.to_owned());
    let out = t
        .call(Method::POST, "/v1/auth/logout", Some(&session), None)
        .await;
    assert_eq!(out.status, 204, "{}", out.text);
    let tech = Person {
        password: NEW_PASSWORD.to_owned(),
        ..tech
    };

    // Ten wrong codes in a row, across two flows of five: twofa.locked.
    t.advance(1);
    for _ in 0..2 {
        let flow = t.login_to_mfa(&tech).await;
        secrets.push(flow.clone());
        for i in 0..5 {
            let a = t
                .post(
                    "/v1/auth/login/totp",
                    json!({ "flow_token": flow, "code": wrong_code(&enrolled.secret, t.clock.unix()) }),
                )
                .await;
            // The fifth ends the flow (and the tenth locks the user): 429.
            match i {
                4 => a.problem(429, "too_many_attempts"),
                _ => a.problem(401, "invalid_code"),
            };
        }
    }
    let locked_at = t.clock.unix();
    let flow = t.login_to_mfa(&tech).await;
    secrets.push(flow.clone());
    t.post(
        "/v1/auth/login/totp",
        json!({ "flow_token": flow, "code": code_at(&enrolled.secret, t.clock.unix()) }),
    )
    .await
    .problem(429, "too_many_attempts");

    // The admin's actions: user.created, user.updated, twofa.required on a
    // new user; twofa.reset on the technician.
    t.advance(1);
    let created = t
        .call(
            Method::POST,
            "/v1/admin/users",
            Some(&admin_token),
            Some(json!({
                "email": unique_email("newcomer"),
                "name": "New Comer",
                "role": "technician",
            })),
        )
        .await;
    let newcomer_id = text(&created.ok()["id"]);
    secrets.push(text(&created.json["initial_password"]));
    t.call(
        Method::PATCH,
        &format!("/v1/admin/users/{newcomer_id}"),
        Some(&admin_token),
        Some(json!({ "role": "read_only" })),
    )
    .await
    .ok();
    let enabled = t
        .call(
            Method::POST,
            &format!("/v1/admin/users/{newcomer_id}/2fa/enable"),
            Some(&admin_token),
            None,
        )
        .await;
    assert_eq!(enabled.ok()["results"][0]["changed"], true);
    t.call(
        Method::POST,
        &format!("/v1/admin/users/{}/2fa/reset", tech.id),
        Some(&admin_token),
        None,
    )
    .await
    .ok();

    Trail {
        t,
        admin,
        admin_token,
        tech,
        newcomer_id,
        secrets,
        locked_at,
    }
}

impl Trail {
    async fn fetch(&self, query: &str) -> Answer {
        self.t
            .get(
                &format!("/v1/admin/audit-events{query}"),
                Some(&self.admin_token),
            )
            .await
    }

    /// The whole trail in one page.
    async fn all(&self) -> Vec<Value> {
        let a = self.fetch("?limit=200").await;
        assert_eq!(a.ok()["next_cursor"], Value::Null);
        a.json["items"].as_array().unwrap().clone()
    }
}

fn of_kind<'a>(items: &'a [Value], kind: &str) -> Vec<&'a Value> {
    items.iter().filter(|e| e["kind"] == kind).collect()
}

/// Exactly one event of `kind`; checks its actor, subject and address.
#[track_caller]
fn the_one<'a>(items: &'a [Value], kind: &str, actor: &str, subject: &str) -> &'a Value {
    let found = of_kind(items, kind);
    assert_eq!(found.len(), 1, "{kind}: {found:#?}");
    let event = found[0];
    assert_eq!(
        event["actor"],
        json!({ "kind": "user", "user_id": actor }),
        "{kind}"
    );
    assert_eq!(event["subject_user_id"], subject, "{kind}");
    assert_eq!(event["ip"], "127.0.0.1", "{kind}");
    event
}

#[actix_web::test]
async fn the_trail_shows_who_did_what_to_whom_when_and_from_where() {
    let trail = act_out_a_trail().await;
    let items = trail.all().await;
    let (admin, tech, newcomer) = (
        trail.admin.id.as_str(),
        trail.tech.id.as_str(),
        trail.newcomer_id.as_str(),
    );

    // Every event has the documented shape.
    for e in &items {
        let keys: HashSet<&str> = e.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            HashSet::from([
                "id",
                "kind",
                "actor",
                "subject_user_id",
                "ip",
                "detail",
                "created_at"
            ]),
            "{e}"
        );
        let at = chrono::DateTime::parse_from_rfc3339(e["created_at"].as_str().unwrap()).unwrap();
        assert!(at.timestamp() >= crate::common::START && at.timestamp() <= trail.t.clock.unix());
        assert!(e["created_at"].as_str().unwrap().ends_with('Z'), "{e}");
    }

    // Sign-ins: the admin once; the technician with the password alone,
    // at the end of enrollment, with the app, and with the recovery code.
    let logins = of_kind(&items, "login.succeeded");
    let admin_logins: Vec<_> = logins
        .iter()
        .filter(|e| e["subject_user_id"] == admin)
        .collect();
    assert_eq!(admin_logins.len(), 1);
    assert_eq!(
        admin_logins[0]["actor"],
        json!({ "kind": "user", "user_id": admin })
    );
    assert_eq!(admin_logins[0]["ip"], "127.0.0.1");
    let tech_logins: Vec<_> = logins
        .iter()
        .filter(|e| e["subject_user_id"] == tech)
        .collect();
    assert_eq!(tech_logins.len(), 4, "{tech_logins:#?}");
    for e in &tech_logins {
        assert_eq!(e["actor"], json!({ "kind": "user", "user_id": tech }));
        assert_eq!(e["ip"], "127.0.0.1");
    }
    let amrs: HashSet<String> = tech_logins
        .iter()
        .map(|e| e["detail"]["amr"].to_string())
        .collect();
    for amr in [json!(["pwd"]), json!(["pwd", "otp"]), json!(["pwd", "rcv"])] {
        assert!(amrs.contains(&amr.to_string()), "{amr} in {amrs:?}");
    }

    // Wrong codes: one before the good one, ten for the lockout.
    let failed = of_kind(&items, "login.failed");
    assert_eq!(failed.len(), 11);
    for e in &failed {
        assert_eq!(e["actor"], json!({ "kind": "user", "user_id": tech }));
        assert_eq!(e["subject_user_id"], tech);
        assert_eq!(e["ip"], "127.0.0.1");
        assert_eq!(e["detail"]["factor"], "totp");
    }
    let locked = the_one(&items, "twofa.locked", tech, tech);
    assert_eq!(locked["detail"]["until"], rfc3339(trail.locked_at + 900));
    the_one(&items, "twofa.totp_enrolled", tech, tech);
    the_one(&items, "twofa.recovery_code_used", tech, tech);
    the_one(&items, "twofa.recovery_code_rotated", tech, tech);
    the_one(&items, "user.password_changed", tech, tech);
    the_one(&items, "session.logged_out", tech, tech);

    // The admin acted; the users were acted upon.
    let created = the_one(&items, "user.created", admin, newcomer);
    assert_eq!(created["detail"]["role"], "technician");
    let updated = the_one(&items, "user.updated", admin, newcomer);
    assert_eq!(updated["detail"]["role"], "read_only");
    assert_eq!(updated["detail"]["previous_role"], "technician");
    the_one(&items, "twofa.required", admin, newcomer);
    let reset = the_one(&items, "twofa.reset", admin, tech);
    assert!(!reset["detail"]["factors_removed"].is_null(), "{reset}");

    // The replayed refresh token: twofold itself ended the session.
    let reused = of_kind(&items, "session.refresh_token_reused");
    assert_eq!(reused.len(), 1, "{reused:#?}");
    assert_eq!(
        reused[0]["actor"],
        json!({ "kind": "system", "user_id": null })
    );
    assert_eq!(reused[0]["subject_user_id"], tech);

    // Nothing else happened in this account.
    assert_eq!(items.len(), 1 + 4 + 11 + 1 + 5 + 4 + 1, "{items:#?}");
}

#[actix_web::test]
async fn a_replayed_refresh_token_is_recorded_with_the_address_it_came_from() {
    let t = TestApp::spawn().await;
    let admin = t.account("Replay Co").await;
    let admin_token = t.access_token(&admin).await;
    let tech = t.user(&admin.account_id, Role::Technician).await;
    let spent = text(&t.login(&tech).await["refresh_token"]);
    t.post("/v1/auth/token/refresh", json!({ "refresh_token": spent }))
        .await
        .ok();
    t.post("/v1/auth/token/refresh", json!({ "refresh_token": spent }))
        .await
        .problem(401, "invalid_token");
    let a = t
        .get(
            "/v1/admin/audit-events?kind=session.refresh_token_reused",
            Some(&admin_token),
        )
        .await;
    let items = a.ok()["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{}", a.text);
    assert_eq!(
        items[0]["actor"],
        json!({ "kind": "system", "user_id": null })
    );
    assert_eq!(items[0]["subject_user_id"], tech.id.as_str());
    // "From where": the replay is the event an investigator most needs
    // the address of.
    assert_eq!(items[0]["ip"], "127.0.0.1", "{}", a.text);
}

#[actix_web::test]
async fn another_account_sees_none_of_it_and_technicians_see_nothing() {
    let trail = act_out_a_trail().await;
    let t = &trail.t;
    let all = trail.all().await;
    let ours: HashSet<&str> = all.iter().map(|e| e["id"].as_str().unwrap()).collect();

    let other = t.account("Other Co").await;
    let other_token = t.access_token(&other).await;
    for user in [&trail.admin.id, &trail.tech.id, &trail.newcomer_id] {
        let a = t
            .get(
                &format!("/v1/admin/audit-events?user_id={user}&limit=200"),
                Some(&other_token),
            )
            .await;
        assert_eq!(a.ok()["items"], json!([]), "{user}");
    }
    let theirs = t
        .get("/v1/admin/audit-events?limit=200", Some(&other_token))
        .await;
    let theirs = theirs.ok()["items"].as_array().unwrap();
    assert!(theirs
        .iter()
        .all(|e| !ours.contains(e["id"].as_str().unwrap())));
    // Only the other admin's own sign-in is there.
    assert_eq!(theirs.len(), 1, "{theirs:#?}");
    assert_eq!(theirs[0]["subject_user_id"], other.id.as_str());

    // A cursor from our trail moves the other admin only within theirs.
    let first = trail.fetch("?limit=2").await;
    let cursor = first.ok()["next_cursor"].as_str().unwrap().to_owned();
    let a = t
        .get(
            &format!("/v1/admin/audit-events?limit=200&cursor={cursor}"),
            Some(&other_token),
        )
        .await;
    assert!(a.ok()["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| !ours.contains(e["id"].as_str().unwrap())));

    // Technicians and read-only users of the account: 403.
    for role in [Role::Technician, Role::ReadOnly] {
        let user = t.user(&trail.admin.account_id, role).await;
        let token = t.access_token(&user).await;
        t.get("/v1/admin/audit-events", Some(&token))
            .await
            .problem(403, "forbidden");
        t.get(
            &format!("/v1/admin/audit-events?user_id={}", user.id),
            Some(&token),
        )
        .await
        .problem(403, "forbidden");
    }
    // No token at all.
    t.get("/v1/admin/audit-events", None)
        .await
        .problem(401, "unauthorized");
}

#[actix_web::test]
async fn no_secret_code_or_token_ever_appears_in_the_trail() {
    let trail = act_out_a_trail().await;
    let mut pages = vec![trail.fetch("?limit=200").await.text];
    for kind in [
        "login.succeeded",
        "login.failed",
        "twofa.totp_enrolled",
        "user.password_changed",
    ] {
        pages.push(trail.fetch(&format!("?kind={kind}&limit=200")).await.text);
    }
    assert!(trail.secrets.len() > 20, "{} secrets", trail.secrets.len());
    for page in &pages {
        assert!(page.contains("\"items\""));
        for secret in &trail.secrets {
            assert!(secret.len() >= 10, "{secret}");
            assert!(
                !page.contains(secret.as_str()),
                "{secret} leaked into {page}"
            );
        }
        // Nor anything token-shaped.
        for marker in ["rt_", "flw_", "eyJ", "otpauth://", "$argon2"] {
            assert!(!page.contains(marker), "{marker} in {page}");
        }
    }
}
