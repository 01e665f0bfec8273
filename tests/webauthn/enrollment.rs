//! Enrolling a passkey inside the login flow, through HTTP with the
//! software authenticator: the journey (passkey, recovery code, session;
//! later passwordless, as the second factor, and the recovery code when the
//! passkey is lost), the 2FA status everywhere, an admin reset, an
//! abandoned enrollment, every way to misuse the ceremony, and the
//! "Log In Faster" offer.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use diesel::prelude::*;
use reqwest::Method;
use serde_json::{json, Value};
use twofold::db::schema::{pending_enrollments, users};
use twofold::users::Role;
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_rs::prelude::{CreationChallengeResponse, RequestChallengeResponse};

use super::{
    access, assert_with, assertion_options, enrolled_admin, key, origin, stored_credentials, text,
    Key, REGISTER as ME_REGISTER,
};
use crate::common::{Answer, Enrolled, Person, TestApp};
use crate::tokens::claims_of;

const OPTIONS: &str = "/v1/auth/enrollment/webauthn/options";
const REGISTER: &str = "/v1/auth/enrollment/webauthn";
const CONFIRM: &str = "/v1/auth/enrollment/recovery-code/confirm";

async fn options(t: &TestApp, flow: &str) -> Answer {
    t.call(Method::POST, OPTIONS, Some(flow), None).await
}

/// The creation options as a client hands them to the software
/// authenticator, which cannot keep resident keys: it would refuse the
/// requirement, so the test client drops it (the real browser test keeps it).
fn for_soft_key(options: &Value) -> CreationChallengeResponse {
    let mut options = options.clone();
    let selection = &mut options["publicKey"]["authenticatorSelection"];
    selection["requireResidentKey"] = json!(false);
    selection["residentKey"] = json!("discouraged");
    serde_json::from_value(options).unwrap()
}

/// Options for `flow` and the answer of `auth` to them.
async fn attest(t: &TestApp, flow: &str, auth: &mut Key) -> Value {
    let a = options(t, flow).await;
    let creation = for_soft_key(&a.ok()["options"]);
    serde_json::to_value(auth.do_registration(origin(), creation).unwrap()).unwrap()
}

async fn submit(t: &TestApp, flow: &str, credential: &Value) -> Answer {
    let body = json!({ "credential": credential, "name": "Laptop" });
    t.call(Method::POST, REGISTER, Some(flow), Some(body)).await
}

async fn confirm(t: &TestApp, flow: &str) -> Answer {
    let body = json!({ "confirmed": true });
    t.call(Method::POST, CONFIRM, Some(flow), Some(body)).await
}

/// An account whose admin uses the app, and a technician who must enroll.
async fn must_enroll(t: &TestApp, name: &str) -> (Enrolled, Person) {
    let admin = enrolled_admin(t, name).await;
    let tech = t.user(&admin.person.account_id, Role::Technician).await;
    t.require_twofa(&tech.id).await;
    (admin, tech)
}

/// A passkey enrollment at login up to its recovery code: the
/// `recovery_code_confirmation_required` answer and the credential sent.
async fn enroll_until_confirmation(t: &TestApp, person: &Person, auth: &mut Key) -> (Value, Value) {
    let flow = t.login_to_enrollment(person).await;
    let credential = attest(t, &flow, auth).await;
    let a = submit(t, &flow, &credential).await;
    assert_eq!(a.ok()["status"], "recovery_code_confirmation_required");
    (a.json.clone(), credential)
}

/// The whole enrollment: the recovery code, the credential and the session.
async fn enroll_with_passkey(
    t: &TestApp,
    person: &Person,
    auth: &mut Key,
) -> (String, Value, Value) {
    let (step, credential) = enroll_until_confirmation(t, person, auth).await;
    let done = confirm(t, &text(&step["flow_token"])).await;
    assert_eq!(done.ok()["status"], "authenticated", "{}", done.text);
    (text(&step["recovery_code"]), credential, done.json.clone())
}

/// Passwordless login by `auth`'s credential `id`, as `person`.
async fn passwordless(t: &TestApp, person: &Person, auth: &mut Key, id: &Value) -> Answer {
    let a = t.post("/v1/auth/passkey/options", json!({})).await;
    let started = a.ok().clone();
    // The software authenticator finds its key only when it is named...
    let mut options = started["options"].clone();
    options["publicKey"]["allowCredentials"] = json!([{ "type": "public-key", "id": id }]);
    let rcr: RequestChallengeResponse = serde_json::from_value(options).unwrap();
    let mut assertion =
        serde_json::to_value(auth.do_authentication(origin(), rcr).unwrap()).unwrap();
    // ...and answers without the user handle a resident key carries.
    let handle = uuid::Uuid::parse_str(&person.id).unwrap();
    assertion["response"]["userHandle"] = json!(URL_SAFE_NO_PAD.encode(handle.as_bytes()));
    let body = json!({ "flow_token": started["flow_token"], "credential": assertion });
    t.post("/v1/auth/passkey", body).await
}

async fn pending_rows(t: &TestApp, user_id: &str) -> i64 {
    let id = user_id.to_owned();
    t.state
        .db
        .run(move |conn| {
            Ok(pending_enrollments::table
                .filter(pending_enrollments::user_id.eq(id))
                .count()
                .get_result::<i64>(conn)?)
        })
        .await
        .unwrap()
}

async fn enrolled_flag(t: &TestApp, user_id: &str) -> bool {
    let id = user_id.to_owned();
    t.state
        .db
        .run(move |conn| {
            Ok(users::table
                .find(id)
                .select(users::twofa_enrolled)
                .get_result::<bool>(conn)?)
        })
        .await
        .unwrap()
}

/// The admin list's row of `person` under `query`, if listed.
async fn admin_row(t: &TestApp, token: &str, query: &str, person: &Person) -> Option<Value> {
    let a = t
        .get(&format!("/v1/admin/users?{query}&limit=100"), Some(token))
        .await;
    a.ok()["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == person.id.as_str())
        .cloned()
}

#[actix_web::test]
async fn a_passkey_enrolled_at_login_is_the_users_second_factor() {
    let t = TestApp::spawn().await;
    let (admin, tech) = must_enroll(&t, "Passkey Enrollment").await;
    let admin_token = access(&admin);

    let step = t.password_step(&tech, "enrollment_required").await;
    assert_eq!(
        step["enrollment_methods"],
        json!(["totp", "webauthn"]),
        "{step}"
    );
    let flow = text(&step["flow_token"]);
    let a = options(&t, &flow).await;
    let started = a.ok().clone();
    assert_eq!(a.header("cache-control"), "no-store");
    assert_eq!(started["status"], "enrollment_required", "{started}");
    assert_eq!(started["flow_token"], flow.as_str());
    let selection = &started["options"]["publicKey"]["authenticatorSelection"];
    assert_eq!(selection["residentKey"], "required", "{started}");
    assert_eq!(selection["requireResidentKey"], true, "{started}");
    assert_eq!(selection["userVerification"], "required", "{started}");

    let mut auth = key();
    let creation = for_soft_key(&started["options"]);
    let credential =
        serde_json::to_value(auth.do_registration(origin(), creation).unwrap()).unwrap();
    let a = submit(&t, &flow, &credential).await;
    let shown = a.ok().clone();
    assert_eq!(
        shown["status"], "recovery_code_confirmation_required",
        "{shown}"
    );
    assert_eq!(
        text(&shown["recovery_code"]).replace('-', "").len(),
        24,
        "{shown}"
    );
    assert_ne!(shown["flow_token"], flow.as_str());
    // Nothing is active before the confirmation, and no session exists.
    assert_eq!(stored_credentials(&t, &tech.id).await, 0);
    assert!(!enrolled_flag(&t, &tech.id).await);
    let row = admin_row(&t, &admin_token, "role=technician", &tech)
        .await
        .unwrap();
    assert_eq!(row["twofa_status"], "pending", "{row}");

    let done = confirm(&t, &text(&shown["flow_token"])).await;
    let tokens = done.ok().clone();
    assert_eq!(tokens["status"], "authenticated", "{tokens}");
    assert_eq!(tokens["passkey_suggested"], false, "{tokens}");
    let claims = claims_of(&text(&tokens["access_token"]));
    assert_eq!(claims["aal"], 2, "{claims}");
    assert_eq!(claims["amr"], json!(["pwd", "hwk"]), "{claims}");
    assert_eq!(stored_credentials(&t, &tech.id).await, 1);
    assert_eq!(pending_rows(&t, &tech.id).await, 0);

    // Enabled everywhere, with the passkey and the recovery code.
    let mine = t
        .get("/v1/me/2fa", Some(&text(&tokens["access_token"])))
        .await;
    assert_eq!(mine.ok()["status"], "enabled", "{}", mine.text);
    assert_eq!(mine.json["methods"], json!(["recovery_code", "webauthn"]));
    let row = admin_row(&t, &admin_token, "twofa_status=enabled", &tech).await;
    let row = row.unwrap_or_else(|| panic!("not listed as enabled"));
    assert_eq!(
        row["methods"],
        json!(["recovery_code", "webauthn"]),
        "{row}"
    );
    assert!(admin_row(&t, &admin_token, "twofa_status=pending", &tech)
        .await
        .is_none());
    let trail = t
        .get(
            "/v1/admin/audit-events?kind=twofa.passkey_enrolled",
            Some(&admin_token),
        )
        .await;
    let events = trail.ok()["items"].as_array().unwrap().clone();
    assert_eq!(events.len(), 1, "{}", trail.text);
    assert_eq!(events[0]["subject_user_id"], tech.id.as_str());

    // The next login asks for the passkey (or the recovery code), not an app.
    let step = t.password_step(&tech, "mfa_required").await;
    assert_eq!(
        step["methods"],
        json!(["recovery_code", "webauthn"]),
        "{step}"
    );
    let flow = text(&step["flow_token"]);
    let rcr = assertion_options(&t, &flow).await;
    let assertion = serde_json::to_value(auth.do_authentication(origin(), rcr).unwrap()).unwrap();
    let a = assert_with(&t, &flow, &assertion).await;
    assert_eq!(a.ok()["status"], "authenticated", "{}", a.text);
    assert_eq!(
        claims_of(&text(&a.json["access_token"]))["amr"],
        json!(["pwd", "hwk"])
    );
    assert_eq!(a.json["passkey_suggested"], false);

    // Passwordless, with the same passkey.
    let a = passwordless(&t, &tech, &mut auth, &credential["id"]).await;
    assert_eq!(a.ok()["status"], "authenticated", "{}", a.text);
    assert_eq!(
        claims_of(&text(&a.json["access_token"]))["amr"],
        json!(["hwk"])
    );
    assert_eq!(a.json["passkey_suggested"], false);
}

#[actix_web::test]
async fn the_recovery_code_signs_in_when_the_passkey_is_lost() {
    let t = TestApp::spawn().await;
    let (_, tech) = must_enroll(&t, "Passkey Lost").await;
    let mut auth = key();
    let (recovery_code, _, _) = enroll_with_passkey(&t, &tech, &mut auth).await;
    drop(auth);

    let flow = t.login_to_mfa(&tech).await;
    let body = json!({ "flow_token": flow, "recovery_code": recovery_code });
    let a = t.post("/v1/auth/login/recovery-code", body).await;
    let step = a.ok().clone();
    assert_eq!(
        step["status"], "recovery_code_confirmation_required",
        "{step}"
    );
    assert_ne!(step["recovery_code"].as_str(), Some(recovery_code.as_str()));
    let done = confirm(&t, &text(&step["flow_token"])).await;
    assert_eq!(done.ok()["status"], "authenticated", "{}", done.text);
    let token = text(&done.json["access_token"]);
    assert_eq!(claims_of(&token)["amr"], json!(["pwd", "rcv"]));
    // The passkey is still registered (only the device is gone): no offer.
    assert_eq!(done.json["passkey_suggested"], false);

    // The user may not strip their last factor; an app comes first.
    let items = t.get(super::CREDENTIALS, Some(&token)).await;
    let id = text(&items.ok()["items"][0]["id"]);
    let path = format!("{}/{id}", super::CREDENTIALS);
    t.call(Method::DELETE, &path, Some(&token), None)
        .await
        .problem(409, "would_lock_out");
    assert_eq!(stored_credentials(&t, &tech.id).await, 1);
}

#[actix_web::test]
async fn an_admin_reset_removes_the_passkey_and_enrollment_starts_over() {
    let t = TestApp::spawn().await;
    let (admin, tech) = must_enroll(&t, "Passkey Reset").await;
    let mut auth = key();
    let (_, credential, _) = enroll_with_passkey(&t, &tech, &mut auth).await;

    let path = format!("/v1/admin/users/{}/2fa/reset", tech.id);
    let reset = t
        .call(Method::POST, &path, Some(&access(&admin)), None)
        .await;
    assert!(reset.status.is_success(), "{}", reset.text);
    assert_eq!(stored_credentials(&t, &tech.id).await, 0);
    assert!(!enrolled_flag(&t, &tech.id).await);
    let row = admin_row(&t, &access(&admin), "role=technician", &tech)
        .await
        .unwrap();
    assert_eq!(row["twofa_status"], "pending", "{row}");
    assert_eq!(row["methods"], json!([]), "{row}");

    let step = t.password_step(&tech, "enrollment_required").await;
    assert_eq!(step["enrollment_methods"], json!(["totp", "webauthn"]));
    // The old passkey opens nothing any more.
    passwordless(&t, &tech, &mut auth, &credential["id"])
        .await
        .problem(401, "webauthn_failed");
}

#[actix_web::test]
async fn an_abandoned_passkey_enrollment_leaves_nothing_active() {
    let t = TestApp::spawn_isolated().await;
    let (admin, tech) = must_enroll(&t, "Passkey Abandoned").await;
    let mut auth = key();
    let (step, credential) = enroll_until_confirmation(&t, &tech, &mut auth).await;
    assert_eq!(pending_rows(&t, &tech.id).await, 1);

    // Never confirmed: nothing signs in, nothing counts as enrolled.
    passwordless(&t, &tech, &mut auth, &credential["id"])
        .await
        .problem(401, "webauthn_failed");
    assert_eq!(stored_credentials(&t, &tech.id).await, 0);
    let row = admin_row(&t, &access(&admin), "twofa_status=pending", &tech).await;
    assert!(row.is_some(), "not pending");
    t.password_step(&tech, "enrollment_required").await;

    // Past its lifetime the confirmation finds nothing, and the janitor
    // removes what was left.
    t.advance(31 * 60);
    confirm(&t, &text(&step["flow_token"]))
        .await
        .problem(401, "flow_expired");
    twofold::ops::janitor::pass(&t.state).await.unwrap();
    assert_eq!(pending_rows(&t, &tech.id).await, 0);
    assert_eq!(stored_credentials(&t, &tech.id).await, 0);
    t.password_step(&tech, "enrollment_required").await;
}

#[actix_web::test]
async fn the_ceremony_belongs_to_one_flow_and_is_used_once() {
    let t = TestApp::spawn().await;
    let (admin, tech) = must_enroll(&t, "Passkey Ceremony").await;
    let mut auth = key();

    // No flow, a session token, a flow at another step: refused.
    t.call(Method::POST, OPTIONS, None, None)
        .await
        .problem(401, "unauthorized");
    let session = access(&admin);
    options(&t, &session).await.problem(401, "flow_expired");
    let mfa = t.login_to_mfa(&admin.person).await;
    options(&t, &mfa).await.problem(401, "flow_expired");
    submit(&t, &mfa, &json!({ "id": "x" }))
        .await
        .problem(400, "validation_failed");

    // Finishing without options: no ceremony.
    let first = t.login_to_enrollment(&tech).await;
    let second = t.login_to_enrollment(&tech).await;
    let answer = attest(&t, &first, &mut auth).await;
    submit(&t, &second, &answer)
        .await
        .problem(409, "ceremony_not_started");
    // Another flow's ceremony: the challenge is not this flow's.
    options(&t, &second).await.ok();
    submit(&t, &second, &answer)
        .await
        .problem(400, "registration_failed");
    // That try spent the second flow's ceremony.
    submit(&t, &second, &answer)
        .await
        .problem(409, "ceremony_not_started");
    // Neither a signed-in session nor its registration endpoint finishes it.
    submit(&t, &session, &answer)
        .await
        .problem(401, "flow_expired");
    let body = json!({ "credential": answer, "name": "Stolen" });
    t.call(Method::POST, ME_REGISTER, Some(&session), Some(body))
        .await
        .problem(409, "ceremony_not_started");

    // The rightful flow finishes it, once.
    let a = submit(&t, &first, &answer).await;
    assert_eq!(a.ok()["status"], "recovery_code_confirmation_required");
    submit(&t, &first, &answer)
        .await
        .problem(401, "flow_expired");
    let next = text(&a.json["flow_token"]);
    submit(&t, &next, &answer)
        .await
        .problem(401, "flow_expired");
    options(&t, &next).await.problem(401, "flow_expired");

    // An expired flow.
    let late = t.login_to_enrollment(&tech).await;
    options(&t, &late).await.ok();
    t.advance(11 * 60);
    options(&t, &late).await.problem(401, "flow_expired");
}

#[actix_web::test]
async fn an_authenticator_that_skips_verification_or_residency_is_refused() {
    let t = TestApp::spawn().await;
    let (_, tech) = must_enroll(&t, "Passkey Lax").await;
    let flow = t.login_to_enrollment(&tech).await;

    // A client that lets an authenticator without user verification answer.
    let a = options(&t, &flow).await;
    let mut lax_options = a.ok()["options"].clone();
    lax_options["publicKey"]["authenticatorSelection"]["userVerification"] = json!("discouraged");
    let mut lax = WebauthnAuthenticator::new(SoftPasskey::new(false));
    let unverified = lax
        .do_registration(origin(), for_soft_key(&lax_options))
        .unwrap();
    let unverified = serde_json::to_value(unverified).unwrap();
    submit(&t, &flow, &unverified)
        .await
        .problem(400, "registration_failed");

    // A browser that reports the credential is not discoverable.
    let mut auth = key();
    let mut answer = attest(&t, &flow, &mut auth).await;
    answer["extensions"] = json!({ "credProps": { "rk": false } });
    submit(&t, &flow, &answer)
        .await
        .problem(400, "registration_failed");
    assert_eq!(pending_rows(&t, &tech.id).await, 0);
    assert_eq!(stored_credentials(&t, &tech.id).await, 0);
}

#[actix_web::test]
async fn without_webauthn_only_the_app_is_offered_and_no_passkey_suggested() {
    let t = TestApp::with_env(&[("TWOFOLD_PUBLIC_URL", "http://127.0.0.1:8080")]).await;
    let admin = t.account("Passkey Off").await;
    let plain = t.login(&admin).await;
    assert_eq!(plain["passkey_suggested"], false, "{plain}");
    t.require_twofa(&admin.id).await;
    let step = t.password_step(&admin, "enrollment_required").await;
    assert_eq!(step["enrollment_methods"], json!(["totp"]), "{step}");
    let flow = text(&step["flow_token"]);
    options(&t, &flow)
        .await
        .problem(409, "webauthn_unavailable");
    let enrolled = t.enroll(&admin).await;
    assert_eq!(enrolled.tokens["passkey_suggested"], false);
}

#[actix_web::test]
async fn log_in_faster_is_suggested_until_the_user_has_a_passkey() {
    let t = TestApp::spawn().await;
    let admin = t.account("Log In Faster").await;
    let plain = t.login(&admin).await;
    assert_eq!(plain["passkey_suggested"], true, "{plain}");
    let refreshed = t
        .post(
            "/v1/auth/token/refresh",
            json!({ "refresh_token": plain["refresh_token"] }),
        )
        .await;
    assert_eq!(
        refreshed.ok()["passkey_suggested"],
        true,
        "{}",
        refreshed.text
    );

    let enrolled = t.enroll(&admin).await;
    assert_eq!(enrolled.tokens["passkey_suggested"], true);
    let with_app = t.login_with_totp(&enrolled).await;
    assert_eq!(with_app["passkey_suggested"], true);

    let mut auth = key();
    super::register(&t, &text(&with_app["access_token"]), &mut auth).await;
    t.advance(30);
    let later = t.login_with_totp(&enrolled).await;
    assert_eq!(later["passkey_suggested"], false, "{later}");
    let refreshed = t
        .post(
            "/v1/auth/token/refresh",
            json!({ "refresh_token": later["refresh_token"] }),
        )
        .await;
    assert_eq!(
        refreshed.ok()["passkey_suggested"],
        false,
        "{}",
        refreshed.text
    );
}
