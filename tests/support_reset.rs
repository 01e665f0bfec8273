//! The support path `twofold users reset-2fa --email`: a locked-out user's
//! second factors are removed, their sessions end, the next login enrolls
//! anew, and the reset is audited.

use std::process::{Command, Output, Stdio};

use reqwest::Method;
use serde_json::{json, Value};
use twofold::clock::Clock as _;

use crate::common::{code_at, unique_email, TestApp};

/// Runs the binary against the test server's database and data directory,
/// with cheap argon2 and no other inherited `TWOFOLD_*` variable.
async fn twofold(t: &TestApp, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_twofold"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("TWOFOLD_") {
            cmd.env_remove(name);
        }
    }
    cmd.env("TWOFOLD_DATABASE_URL", &t.state.config.database_url)
        .env("TWOFOLD_DATA_DIR", &t.state.config.data_dir)
        .env("TWOFOLD_ARGON2_MEMORY_KIB", "64")
        .env("TWOFOLD_ARGON2_ITERATIONS", "1")
        .current_dir(&t.state.config.data_dir)
        .args(args)
        .stdin(Stdio::null());
    actix_web::web::block(move || cmd.output())
        .await
        .expect("blocking pool")
        .expect("run twofold")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[track_caller]
fn json_ok(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", text(&out.stdout)))
}

/// `(kind, actor_kind, actor_user_id, subject_user_id, account_id)` of the
/// audit events about `user_id`.
async fn audit_of(
    t: &TestApp,
    user_id: &str,
) -> Vec<(String, String, Option<String>, Option<String>, String)> {
    use diesel::prelude::*;
    use twofold::db::schema::audit_events;
    let id = user_id.to_owned();
    t.state
        .db
        .run(move |conn| {
            Ok(audit_events::table
                .filter(audit_events::subject_user_id.eq(&id))
                .select((
                    audit_events::kind,
                    audit_events::actor_kind,
                    audit_events::actor_user_id,
                    audit_events::subject_user_id,
                    audit_events::account_id,
                ))
                .load(conn)?)
        })
        .await
        .unwrap()
}

#[actix_web::test]
async fn reset_2fa_signs_the_user_out_and_the_next_login_enrolls_anew() {
    let t = TestApp::spawn().await;
    let admin = t.account("Solo MSP").await;
    let old = t.enroll(&admin).await;
    let access = old.tokens["access_token"].as_str().unwrap().to_owned();
    let refresh = old.tokens["refresh_token"].clone();
    t.get("/v1/me", Some(&access)).await.ok();
    // A login in progress, one step from a session.
    let in_progress = t.login_to_mfa(&admin).await;

    let out = twofold(
        &t,
        &["--json", "users", "reset-2fa", "--email", &admin.email],
    )
    .await;
    let done = json_ok(&out);
    assert_eq!(done["user_id"], admin.id.as_str());
    assert_eq!(done["email"], admin.email.as_str());
    assert!(done["sessions_revoked"].as_u64().unwrap() >= 1, "{done}");

    // Signed out everywhere, at once.
    t.get("/v1/me", Some(&access))
        .await
        .problem(401, "invalid_token");
    t.post(
        "/v1/auth/token/refresh",
        json!({ "refresh_token": refresh }),
    )
    .await
    .problem(401, "invalid_token");
    t.post(
        "/v1/auth/login/totp",
        json!({ "flow_token": in_progress, "code": code_at(&old.secret, t.clock.unix()) }),
    )
    .await
    .problem(401, "flow_expired");

    // The next login shows enrollment: a new secret and recovery code.
    t.login_to_enrollment(&admin).await;
    let new = t.enroll(&admin).await;
    assert_ne!(new.secret, old.secret);
    assert_ne!(new.recovery_code, old.recovery_code);
    assert_eq!(new.recovery_code.len(), 29);

    // The old authenticator and recovery code are gone for good.
    let flow = t.login_to_mfa(&admin).await;
    t.post(
        "/v1/auth/login/totp",
        json!({ "flow_token": flow, "code": code_at(&old.secret, t.clock.unix()) }),
    )
    .await
    .problem(401, "invalid_code");
    let flow = t.login_to_mfa(&admin).await;
    t.post(
        "/v1/auth/login/recovery-code",
        json!({ "flow_token": flow, "recovery_code": old.recovery_code }),
    )
    .await
    .problem(401, "invalid_code");
    let tokens = t.login_with_totp(&new).await;
    let claims = crate::tokens::claims_of(tokens["access_token"].as_str().unwrap());
    assert_eq!(claims["aal"], 2);

    // Audited as the CLI's doing, about this user.
    let events = audit_of(&t, &admin.id).await;
    let resets: Vec<_> = events.iter().filter(|e| e.0 == "twofa.reset").collect();
    assert_eq!(resets.len(), 1, "{events:?}");
    let (_, actor_kind, actor_user, subject, account) = resets[0];
    assert_eq!(actor_kind, "cli");
    assert_eq!(actor_user, &None);
    assert_eq!(subject.as_deref(), Some(admin.id.as_str()));
    assert_eq!(account, &admin.account_id);
}

#[actix_web::test]
async fn reset_2fa_prints_a_sentence_without_json_and_matches_email_case_insensitively() {
    let t = TestApp::spawn().await;
    let admin = t.account("Solo MSP").await;
    let enrolled = t.enroll(&admin).await;
    let access = enrolled.tokens["access_token"].as_str().unwrap().to_owned();

    let email = admin.email.to_uppercase();
    let out = twofold(&t, &["users", "reset-2fa", "--email", &email]).await;
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(said.contains(&admin.email), "{said}");
    assert!(said.contains(&admin.id), "{said}");
    t.get("/v1/me", Some(&access))
        .await
        .problem(401, "invalid_token");
    t.login_to_enrollment(&admin).await;
}

#[actix_web::test]
async fn reset_2fa_of_an_unknown_email_fails_with_a_message() {
    let t = TestApp::spawn().await;
    let admin = t.account("Solo MSP").await;
    let enrolled = t.enroll(&admin).await;
    let nobody = unique_email("nobody");

    let out = twofold(&t, &["--json", "users", "reset-2fa", "--email", &nobody]).await;
    assert!(!out.status.success(), "stdout: {}", text(&out.stdout));
    assert!(out.stdout.is_empty(), "stdout: {}", text(&out.stdout));
    let err: Value = serde_json::from_slice(&out.stderr)
        .unwrap_or_else(|e| panic!("stderr is not JSON ({e}): {}", text(&out.stderr)));
    let message = err["error"].as_str().unwrap();
    assert!(message.contains(&nobody), "{message}");

    let out = twofold(&t, &["users", "reset-2fa", "--email", &nobody]).await;
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains(&nobody), "{}", text(&out.stderr));

    // Nothing happened to anyone.
    let access = enrolled.tokens["access_token"].as_str().unwrap();
    t.get("/v1/me", Some(access)).await.ok();
    let events = audit_of(&t, &admin.id).await;
    assert!(events.iter().all(|e| e.0 != "twofa.reset"), "{events:?}");
}

#[actix_web::test]
async fn reset_2fa_with_a_malformed_email_names_the_option() {
    let t = TestApp::spawn().await;
    for bad in ["not-an-email", ""] {
        let out = twofold(&t, &["users", "reset-2fa", "--email", bad]).await;
        assert!(!out.status.success(), "{bad:?}: {}", text(&out.stdout));
        assert!(out.stdout.is_empty(), "stdout: {}", text(&out.stdout));
        let said = text(&out.stderr);
        assert!(said.contains("--email"), "{bad:?}: {said}");
    }
    let out = twofold(&t, &["users", "reset-2fa"]).await;
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("--email"),
        "{}",
        text(&out.stderr)
    );
    // The server is unaffected.
    let _ = t.call(Method::GET, "/healthz", None, None).await.ok();
}
