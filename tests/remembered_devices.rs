//! Remembered devices: "trust this device for N days" under the account
//! admin's `remember_device_days`, and every way trust must end or never
//! start. Driven through the real HTTP app with the injected clock.

use reqwest::Method;
use serde_json::{json, Value};
use twofold::users::Role;

use crate::common::{access, code_at, Enrolled, Person, TestApp};
use crate::ip_allowlist::xff;
use crate::tokens::claims_of;

const DAY: i64 = 86_400;

/// An account allowing `days`, its admin's token, and an enrolled technician.
async fn account(t: &TestApp, days: i64) -> (Person, String, Enrolled) {
    let admin = t.account("Devices").await;
    let token = access(&t.login(&admin).await);
    set_days(t, &token, days).await;
    let tech = t.user(&admin.account_id, Role::Technician).await;
    let enrolled = t.enroll(&tech).await;
    (admin, token, enrolled)
}

async fn set_days(t: &TestApp, admin_token: &str, days: i64) -> Value {
    let a = t
        .call(
            Method::PATCH,
            "/v1/admin/security",
            Some(admin_token),
            Some(json!({ "remember_device_days": days })),
        )
        .await;
    assert_eq!(a.ok()["remember_device_days"], days, "{}", a.text);
    a.json.clone()
}

/// A login with a code asking to remember the device: its answer.
async fn remembered(t: &TestApp, user: &Enrolled) -> Value {
    t.advance(30);
    let flow = t.login_to_mfa(&user.person).await;
    let code = code_at(&user.secret, t.clock_unix());
    let a = t
        .post(
            "/v1/auth/login/totp",
            json!({ "flow_token": flow, "code": code, "remember_device": true }),
        )
        .await;
    assert_eq!(a.ok()["status"], "authenticated", "{}", a.text);
    a.json.clone()
}

fn device(tokens: &Value) -> String {
    tokens["device_token"]
        .as_str()
        .expect("device_token")
        .to_owned()
}

/// The password step with a device token: its answer (always a 200 step).
async fn with_device(t: &TestApp, person: &Person, device: &str) -> Value {
    let flow = t.start_login(&person.email).await;
    let a = t
        .post(
            "/v1/auth/login/password",
            json!({ "flow_token": flow, "password": person.password, "device_token": device }),
        )
        .await;
    a.ok().clone()
}

trait Clocked {
    fn clock_unix(&self) -> i64;
}

impl Clocked for TestApp {
    fn clock_unix(&self) -> i64 {
        use twofold::clock::Clock as _;
        self.clock.unix()
    }
}

#[actix_web::test]
async fn a_device_skips_the_code_until_its_window_ends() {
    let t = TestApp::spawn().await;
    let (_, admin, user) = account(&t, 30).await;
    let granted = remembered(&t, &user).await;
    let token = device(&granted);
    assert!(token.starts_with("dev_") && token.len() >= 47, "256 bits");
    let granted_at = t.clock_unix();
    assert_eq!(
        granted["device_expires_at"],
        twofold::clock::rfc3339(granted_at + 30 * DAY)
    );

    let skipped = with_device(&t, &user.person, &token).await;
    assert_eq!(skipped["status"], "authenticated", "{skipped}");
    let claims = claims_of(&access(&skipped));
    assert_eq!(claims["amr"], json!(["pwd", "dev"]));
    assert_eq!(claims["aal"], 2);
    assert!(skipped.get("device_token").is_none(), "not granted again");

    // Listed for the user; audited for the admin.
    let devices = t.get("/v1/me/devices", Some(&access(&skipped))).await;
    let items = devices.ok()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1);
    assert_eq!(
        items[0]["expires_at"],
        twofold::clock::rfc3339(granted_at + 30 * DAY)
    );
    for kind in ["device.remembered", "device.used"] {
        let events = t
            .get(&format!("/v1/admin/audit-events?kind={kind}"), Some(&admin))
            .await;
        assert_eq!(events.ok()["items"].as_array().unwrap().len(), 1, "{kind}");
    }

    // The window's end.
    t.advance(30 * DAY - (t.clock_unix() - granted_at) - 1);
    assert_eq!(
        with_device(&t, &user.person, &token).await["status"],
        "authenticated"
    );
    t.advance(1);
    assert_eq!(
        with_device(&t, &user.person, &token).await["status"],
        "mfa_required"
    );

    // Without asking, no device.
    assert!(t.login_with_totp(&user).await.get("device_token").is_none());
}

#[actix_web::test]
async fn nothing_is_remembered_while_the_account_does_not_allow_it() {
    let t = TestApp::spawn().await;
    let (_, _, user) = account(&t, 0).await;
    let tokens = remembered(&t, &user).await;
    assert!(tokens.get("device_token").is_none(), "{tokens}");
    assert!(tokens.get("device_expires_at").is_none(), "{tokens}");
}

#[actix_web::test]
async fn lowering_the_window_shortens_trust_at_once_and_zero_ends_it() {
    let t = TestApp::spawn().await;
    let (admin_person, admin, user) = account(&t, 30).await;
    let token = device(&remembered(&t, &user).await);
    let granted_at = t.clock_unix();
    // A whole number written with a fraction is an integer (JSON Schema).
    let settings = t
        .call(
            Method::PATCH,
            "/v1/admin/security",
            Some(&admin),
            Some(serde_json::from_str::<Value>(r#"{"remember_device_days": 10.0}"#).unwrap()),
        )
        .await;
    assert_eq!(
        settings.ok()["remember_device_days"],
        10,
        "{}",
        settings.text
    );
    t.advance(10 * DAY - 2);
    assert_eq!(
        with_device(&t, &user.person, &token).await["status"],
        "authenticated"
    );
    let skipped = with_device(&t, &user.person, &token).await;
    let listed = t.get("/v1/me/devices", Some(&access(&skipped))).await;
    assert_eq!(
        listed.ok()["items"][0]["expires_at"],
        twofold::clock::rfc3339(granted_at + 10 * DAY)
    );
    t.advance(2);
    assert_eq!(
        with_device(&t, &user.person, &token).await["status"],
        "mfa_required"
    );

    let fresh = device(&remembered(&t, &user).await);
    // The admin's access token of ten days ago has long expired.
    let admin = access(&t.login(&admin_person).await);
    set_days(&t, &admin, 0).await;
    assert_eq!(
        with_device(&t, &user.person, &fresh).await["status"],
        "mfa_required"
    );
    t.advance(30);
    let signed_in = access(&t.login_with_totp(&user).await);
    let listed = t.get("/v1/me/devices", Some(&signed_in)).await;
    assert_eq!(listed.ok()["items"], json!([]));

    // Out of range: refused by the contract.
    t.call(
        Method::PATCH,
        "/v1/admin/security",
        Some(&admin),
        Some(json!({ "remember_device_days": 91 })),
    )
    .await
    .problem(400, "validation_failed");
}

#[actix_web::test]
async fn reset_password_change_and_revocations_end_trust_at_once_on_another_instance() {
    let t = TestApp::spawn().await;
    let other = t.sibling(&[]).await;
    let (_, admin, user) = account(&t, 30).await;

    // A password change (from a session with a fresh code).
    let granted = remembered(&t, &user).await;
    let changed = t
        .call(
            Method::POST,
            "/v1/me/password",
            Some(&access(&granted)),
            Some(json!({ "current_password": user.person.password, "new_password": "a brand new passphrase 42" })),
        )
        .await;
    assert_eq!(changed.status, 204, "{}", changed.text);
    let mut person = user.person.clone();
    person.password = "a brand new passphrase 42".into();
    let user = Enrolled { person, ..user };
    assert_eq!(
        with_device(&other, &user.person, &device(&granted)).await["status"],
        "mfa_required"
    );

    // The user signs out everywhere else.
    let granted = remembered(&t, &user).await;
    t.advance(30);
    let keep = access(&t.login_with_totp(&user).await);
    t.call(
        Method::POST,
        "/v1/me/sessions/revoke-others",
        Some(&keep),
        None,
    )
    .await
    .ok();
    assert_eq!(
        with_device(&other, &user.person, &device(&granted)).await["status"],
        "mfa_required"
    );

    // The admin ends the user's sessions.
    let granted = remembered(&t, &user).await;
    let revoke = format!("/v1/admin/users/{}/sessions/revoke", user.person.id);
    t.call(Method::POST, &revoke, Some(&admin), None).await.ok();
    assert_eq!(
        with_device(&other, &user.person, &device(&granted)).await["status"],
        "mfa_required"
    );

    // The admin resets 2FA: enrollment first, and the old device is gone.
    let granted = remembered(&t, &user).await;
    let reset = format!("/v1/admin/users/{}/2fa/reset", user.person.id);
    t.call(Method::POST, &reset, Some(&admin), None).await.ok();
    assert_eq!(
        with_device(&other, &user.person, &device(&granted)).await["status"],
        "enrollment_required"
    );
    let again = other.enroll(&user.person).await;
    assert_eq!(
        with_device(&other, &again.person, &device(&granted)).await["status"],
        "mfa_required"
    );

    // The admin deactivates the user (and takes them back).
    let granted = remembered(&other, &again).await;
    for action in ["deactivate", "reactivate"] {
        let path = format!("/v1/admin/users/{}/{action}", user.person.id);
        t.call(Method::POST, &path, Some(&admin), None).await.ok();
    }
    assert_eq!(
        with_device(&other, &again.person, &device(&granted)).await["status"],
        "mfa_required"
    );

    let forgotten = t
        .get("/v1/admin/audit-events?kind=device.forgotten", Some(&admin))
        .await;
    let reasons: Vec<Value> = forgotten.ok()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["detail"]["reason"].clone())
        .collect();
    assert_eq!(
        reasons,
        [
            json!("user_deactivated"),
            json!("twofa_reset"),
            json!("sessions_revoked"),
            json!("signed_out_everywhere"),
            json!("password_changed")
        ]
    );
}

#[actix_web::test]
async fn a_device_token_works_only_for_its_user_and_only_until_forgotten() {
    let t = TestApp::spawn().await;
    let (admin_person, _, ada) = account(&t, 30).await;
    let grace = t.user(&admin_person.account_id, Role::Technician).await;
    let grace = t.enroll(&grace).await;
    let adas = device(&remembered(&t, &ada).await);

    // Ada's token with Grace's password: the normal second-factor step.
    assert_eq!(
        with_device(&t, &grace.person, &adas).await["status"],
        "mfa_required"
    );
    // A token that was never issued, and garbage.
    assert_eq!(
        with_device(&t, &ada.person, "dev_nope").await["status"],
        "mfa_required"
    );

    // Grace cannot forget Ada's device; Ada can, and it is refused at once.
    let graces_session = access(&t.login_with_totp(&grace).await);
    let adas_session = access(&with_device(&t, &ada.person, &adas).await);
    let listed = t.get("/v1/me/devices", Some(&adas_session)).await;
    let id = listed.ok()["items"][0]["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/me/devices/{id}");
    t.call(Method::DELETE, &path, Some(&graces_session), None)
        .await
        .problem(404, "not_found");
    let gone = t
        .call(Method::DELETE, &path, Some(&adas_session), None)
        .await;
    assert_eq!(gone.status, 204, "{}", gone.text);
    assert_eq!(
        with_device(&t, &ada.person, &adas).await["status"],
        "mfa_required"
    );
    t.call(Method::DELETE, &path, Some(&adas_session), None)
        .await
        .problem(404, "not_found");
}

#[actix_web::test]
async fn a_device_is_never_a_fresh_second_factor() {
    let t = TestApp::spawn().await;
    let (_, _, user) = account(&t, 30).await;
    let token = device(&remembered(&t, &user).await);
    let session = access(&with_device(&t, &user.person, &token).await);
    t.call(
        Method::POST,
        "/v1/me/2fa/recovery-code",
        Some(&session),
        None,
    )
    .await
    .problem(403, "reauthentication_required");
    t.call(Method::POST, "/v1/me/2fa/totp", Some(&session), None)
        .await
        .problem(403, "reauthentication_required");
    // Recovery-code logins and enrollment confirmations remember too.
    t.advance(30);
    let flow = t.login_to_mfa(&user.person).await;
    let step = t
        .post(
            "/v1/auth/login/recovery-code",
            json!({ "flow_token": flow, "recovery_code": user.recovery_code, "remember_device": true }),
        )
        .await;
    let next = step.ok()["flow_token"].as_str().unwrap().to_owned();
    let done = t
        .call(
            Method::POST,
            "/v1/auth/enrollment/recovery-code/confirm",
            Some(&next),
            Some(json!({ "confirmed": true })),
        )
        .await;
    assert_eq!(claims_of(&access(done.ok()))["amr"], json!(["pwd", "rcv"]));
    let from_recovery = device(&done.json);
    assert_eq!(
        with_device(&t, &user.person, &from_recovery).await["status"],
        "authenticated"
    );
}

#[actix_web::test]
async fn the_allow_list_and_a_locked_second_factor_still_win() {
    let t = TestApp::with_env(&[("TWOFOLD_TRUSTED_PROXIES", "127.0.0.1")]).await;
    let (admin_person, _, user) = account(&t, 30).await;
    let token = device(&remembered(&t, &user).await);

    // Ten wrong codes lock the second factor: the device does not skip it.
    for _ in 0..10 {
        let flow = t.login_to_mfa(&user.person).await;
        t.post(
            "/v1/auth/login/totp",
            json!({ "flow_token": flow, "code": "000000" }),
        )
        .await;
    }
    assert_eq!(
        with_device(&t, &user.person, &token).await["status"],
        "mfa_required"
    );
    t.advance(3600);
    assert_eq!(
        with_device(&t, &user.person, &token).await["status"],
        "authenticated"
    );

    // From an address the account's list refuses: refused, device or not.
    let admin = access(&t.login(&admin_person).await);
    let inside = xff("198.51.100.7");
    inside.entry(&t, &admin, "198.51.100.0/24").await;
    let on = inside.switch(&t, &admin, true, false).await;
    assert_eq!(on.status, 200, "{}", on.text);
    let outside = xff("203.0.113.9");
    let start = outside
        .post(
            &t,
            "/v1/auth/login",
            None,
            json!({ "email": user.person.email }),
        )
        .await;
    let flow = start.json["flow_token"].as_str().unwrap().to_owned();
    outside
        .post(
            &t,
            "/v1/auth/login/password",
            None,
            json!({ "flow_token": flow, "password": user.person.password, "device_token": token }),
        )
        .await
        .problem(403, "ip_not_allowed");
}

#[actix_web::test]
async fn wrong_device_tokens_count_against_the_address() {
    // A database of its own: with a limit of 3, the suite's other failures
    // from 127.0.0.1 in a shared PostgreSQL database would count too.
    let dir = tempfile::tempdir().unwrap();
    let url = crate::common::own_database_url(&dir);
    let t = TestApp::with_env(&[
        ("TWOFOLD_DATABASE_URL", &url),
        ("TWOFOLD_TRUSTED_PROXIES", "127.0.0.1"),
        ("TWOFOLD_ADDRESS_FAILURE_LIMIT", "3"),
    ])
    .await;
    let (_, _, user) = account(&t, 30).await;
    let random = uuid::Uuid::new_v4().as_u128();
    let from = xff(&format!(
        "2001:db8:{:x}:{:x}::1",
        random & 0xffff,
        (random >> 16) & 0xffff
    ));
    let password = |device: &'static str| {
        let from = &from;
        let person = user.person.clone();
        let t = &t;
        async move {
            let start = from
                .post(t, "/v1/auth/login", None, json!({ "email": person.email }))
                .await;
            let flow = start.json["flow_token"].as_str().unwrap().to_owned();
            from.post(
                t,
                "/v1/auth/login/password",
                None,
                json!({ "flow_token": flow, "password": person.password, "device_token": device }),
            )
            .await
        }
    };
    for _ in 0..3 {
        let a = password("dev_guess").await;
        assert_eq!(a.json["status"], "mfa_required", "{}", a.text);
    }
    password("dev_guess")
        .await
        .problem(429, "too_many_attempts");
}

#[actix_web::test]
async fn a_user_keeps_at_most_twenty_devices() {
    let t = TestApp::spawn().await;
    let (_, _, user) = account(&t, 30).await;
    // The 21st device ends the oldest.
    let first = device(&remembered(&t, &user).await);
    for _ in 0..20 {
        remembered(&t, &user).await;
    }
    assert_eq!(
        with_device(&t, &user.person, &first).await["status"],
        "mfa_required"
    );
    t.advance(30);
    let session = access(&t.login_with_totp(&user).await);
    let listed = t.get("/v1/me/devices", Some(&session)).await;
    assert_eq!(listed.ok()["items"].as_array().unwrap().len(), 20);
}

#[actix_web::test]
async fn remember_device_where_no_login_ends_remembers_nothing() {
    let t = TestApp::spawn().await;
    let (_, _, user) = account(&t, 30).await;
    let session = access(&remembered(&t, &user).await);
    // A signed-in user's new recovery code: confirmed, no device.
    t.call(
        Method::POST,
        "/v1/me/2fa/recovery-code",
        Some(&session),
        None,
    )
    .await
    .ok();
    let confirmed = t
        .call(
            Method::POST,
            "/v1/me/2fa/recovery-code/confirm",
            Some(&session),
            Some(json!({ "confirmed": true, "remember_device": true })),
        )
        .await;
    assert!(
        confirmed.ok().get("device_token").is_none(),
        "{}",
        confirmed.text
    );
    let listed = t.get("/v1/me/devices", Some(&session)).await;
    assert_eq!(
        listed.ok()["items"].as_array().unwrap().len(),
        1,
        "only the login's"
    );
}
