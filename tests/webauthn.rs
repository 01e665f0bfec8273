//! WebAuthn through HTTP with a software authenticator: registration for a
//! signed-in user (aal 2 only), the second factor after the password,
//! replays, foreign origins, counter regressions, removal, admin reset,
//! ceremony state in the database, and the passwordless entry points.
//! Enrolling a passkey inside the login flow is in [`enrollment`].

use diesel::prelude::*;
use reqwest::Method;
use serde_json::{json, Value};
use twofold::db::schema::{login_flows, webauthn_challenges, webauthn_credentials};
use twofold::users::Role;
use url::Url;
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_rs::prelude::{CreationChallengeResponse, RequestChallengeResponse};

use crate::common::{Answer, Enrolled, Person, TestApp};
use crate::tokens::claims_of;

mod enrollment;

pub(crate) const REG_OPTIONS: &str = "/v1/me/webauthn/registration/options";
pub(crate) const REGISTER: &str = "/v1/me/webauthn/registration";
pub(crate) const CREDENTIALS: &str = "/v1/me/webauthn/credentials";
pub(crate) const LOGIN_OPTIONS: &str = "/v1/auth/login/webauthn/options";
pub(crate) const LOGIN: &str = "/v1/auth/login/webauthn";

pub(crate) type Key = WebauthnAuthenticator<SoftPasskey>;

/// An authenticator that verifies its user (as twofold requires).
pub(crate) fn key() -> Key {
    WebauthnAuthenticator::new(SoftPasskey::new(true))
}

pub(crate) fn origin() -> Url {
    Url::parse("http://localhost:8080").unwrap()
}

pub(crate) fn text(v: &Value) -> String {
    v.as_str()
        .unwrap_or_else(|| panic!("not a string: {v}"))
        .to_owned()
}

pub(crate) fn access(enrolled: &Enrolled) -> String {
    text(&enrolled.tokens["access_token"])
}

/// An account whose admin has enrolled an authenticator app (aal-2 tokens).
pub(crate) async fn enrolled_admin(t: &TestApp, name: &str) -> Enrolled {
    let admin = t.account(name).await;
    t.enroll(&admin).await
}

/// Registration options, parsed as the authenticator wants them.
pub(crate) async fn registration_options(
    t: &TestApp,
    token: &str,
) -> (Value, CreationChallengeResponse) {
    let a = t.call(Method::POST, REG_OPTIONS, Some(token), None).await;
    let options = a.ok()["options"].clone();
    assert_eq!(a.header("cache-control"), "no-store");
    let ccr = serde_json::from_value(options.clone()).unwrap();
    (options, ccr)
}

/// The authenticator's answer to fresh registration options.
pub(crate) async fn registration_response(t: &TestApp, token: &str, auth: &mut Key) -> Value {
    let (_, ccr) = registration_options(t, token).await;
    serde_json::to_value(auth.do_registration(origin(), ccr).unwrap()).unwrap()
}

pub(crate) async fn submit_registration(
    t: &TestApp,
    token: &str,
    credential: &Value,
    name: &str,
) -> Answer {
    t.call(
        Method::POST,
        REGISTER,
        Some(token),
        Some(json!({ "credential": credential, "name": name })),
    )
    .await
}

/// Registers `auth` for the holder of `token`; returns the credential view.
pub(crate) async fn register(t: &TestApp, token: &str, auth: &mut Key) -> Value {
    let credential = registration_response(t, token, auth).await;
    let a = submit_registration(t, token, &credential, "Test key").await;
    assert_eq!(a.status.as_u16(), 201, "{}", a.text);
    a.json.clone()
}

/// Email and password; the `mfa_required` answer.
pub(crate) async fn password_step(t: &TestApp, person: &Person) -> Value {
    let flow = t.start_login(&person.email).await;
    let a = t
        .post(
            "/v1/auth/login/password",
            json!({ "flow_token": flow, "password": person.password }),
        )
        .await;
    assert_eq!(a.ok()["status"], "mfa_required", "{}", a.text);
    a.json.clone()
}

/// Second-factor options for a flow at `mfa_required`.
pub(crate) async fn assertion_options(t: &TestApp, flow: &str) -> RequestChallengeResponse {
    let a = t.post(LOGIN_OPTIONS, json!({ "flow_token": flow })).await;
    assert_eq!(a.ok()["status"], "mfa_required", "{}", a.text);
    assert_eq!(a.json["flow_token"], flow);
    assert_eq!(
        a.json["options"]["publicKey"]["userVerification"], "required",
        "{}",
        a.text
    );
    serde_json::from_value(a.json["options"].clone()).unwrap()
}

pub(crate) async fn assert_with(t: &TestApp, flow: &str, credential: &Value) -> Answer {
    t.post(
        LOGIN,
        json!({ "flow_token": flow, "credential": credential }),
    )
    .await
}

/// A fresh flow to `mfa_required`, options and an assertion by `auth`.
pub(crate) async fn fresh_assertion(
    t: &TestApp,
    person: &Person,
    auth: &mut Key,
) -> (String, Value) {
    let flow = t.login_to_mfa(person).await;
    let rcr = assertion_options(t, &flow).await;
    let credential = serde_json::to_value(auth.do_authentication(origin(), rcr).unwrap()).unwrap();
    (flow, credential)
}

pub(crate) async fn credentials(t: &TestApp, token: &str) -> Vec<Value> {
    let a = t.get(CREDENTIALS, Some(token)).await;
    a.ok()["items"].as_array().unwrap().clone()
}

async fn stored_credentials(t: &TestApp, user_id: &str) -> i64 {
    let id = user_id.to_owned();
    t.state
        .db
        .run(move |conn| {
            Ok(webauthn_credentials::table
                .filter(webauthn_credentials::user_id.eq(id))
                .count()
                .get_result::<i64>(conn)?)
        })
        .await
        .unwrap()
}

/// The id of the flow of `flow_token`.
async fn flow_id(t: &TestApp, flow_token: &str) -> String {
    let hash = twofold::crypto::sha256_hex(flow_token);
    t.state
        .db
        .run(move |conn| {
            Ok(login_flows::table
                .filter(login_flows::token_hash.eq(hash))
                .select(login_flows::id)
                .get_result::<String>(conn)?)
        })
        .await
        .unwrap()
}

/// Ceremony rows of `kind` belonging to the flow `flow_id`.
async fn flow_challenges(t: &TestApp, flow_id: &str, kind: &str) -> i64 {
    let (id, kind) = (flow_id.to_owned(), kind.to_owned());
    t.state
        .db
        .run(move |conn| {
            Ok(webauthn_challenges::table
                .filter(webauthn_challenges::flow_id.eq(id))
                .filter(webauthn_challenges::kind.eq(kind))
                .count()
                .get_result::<i64>(conn)?)
        })
        .await
        .unwrap()
}

async fn methods_of(t: &TestApp, token: &str) -> Value {
    let a = t.get("/v1/me/2fa", Some(token)).await;
    a.ok()["methods"].clone()
}

fn has(list: &Value, item: &str) -> bool {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .any(|m| m == item)
}

#[actix_web::test]
async fn registration_needs_an_aal2_session_and_a_verifying_authenticator() {
    let t = TestApp::spawn().await;
    let admin = enrolled_admin(&t, "Webauthn Reg").await;
    let token = access(&admin);

    // A user who never enrolled has only aal-1 sessions.
    let plain = t.user(&admin.person.account_id, Role::Technician).await;
    let aal1 = t.access_token(&plain).await;
    assert_eq!(claims_of(&aal1)["aal"], 1);
    t.call(Method::POST, REG_OPTIONS, Some(&aal1), None)
        .await
        .problem(403, "second_factor_required");
    let mut stranger = key();
    let foreign = registration_response(&t, &token, &mut stranger).await;
    submit_registration(&t, &aal1, &foreign, "Test key")
        .await
        .problem(403, "second_factor_required");

    let mut auth = key();
    let (options, ccr) = registration_options(&t, &token).await;
    let pk = &options["publicKey"];
    assert_eq!(
        pk["authenticatorSelection"]["userVerification"], "required",
        "{options}"
    );
    assert_eq!(
        pk["authenticatorSelection"]["residentKey"], "preferred",
        "{options}"
    );
    assert_eq!(pk["rp"]["id"], "localhost", "{options}");
    let excluded = pk["excludeCredentials"].as_array().map_or(0, Vec::len);
    assert_eq!(excluded, 0, "{options}");

    // An empty name is refused before the ceremony state is spent.
    let response = serde_json::to_value(auth.do_registration(origin(), ccr).unwrap()).unwrap();
    submit_registration(&t, &token, &response, "")
        .await
        .problem(400, "validation_failed");
    submit_registration(&t, &token, &response, "   ")
        .await
        .problem(400, "validation_failed");

    let created = submit_registration(&t, &token, &response, "Test key").await;
    assert_eq!(created.status.as_u16(), 201, "{}", created.text);
    let view = created.json.clone();
    assert_eq!(view["name"], "Test key");
    assert!(view["id"].is_string(), "{view}");
    assert!(view["created_at"].is_string(), "{view}");
    assert_eq!(view["last_used_at"], Value::Null);

    // The state is single use: the same response again finds no ceremony.
    submit_registration(&t, &token, &response, "Test key")
        .await
        .problem(409, "ceremony_not_started");
    // And so does a response sent without new options first.
    let mut other = key();
    let mut stray_options = registration_options(&t, &token).await.1;
    // Spend the options with a valid registration of the other key...
    let stray = serde_json::to_value(
        other
            .do_registration(origin(), stray_options.clone())
            .unwrap(),
    )
    .unwrap();
    let second = submit_registration(&t, &token, &stray, "Second key").await;
    assert_eq!(second.status.as_u16(), 201, "{}", second.text);
    // ...then send a response to those options without new ones.
    stray_options.public_key.exclude_credentials = None;
    let mut third = key();
    let orphan =
        serde_json::to_value(third.do_registration(origin(), stray_options).unwrap()).unwrap();
    submit_registration(&t, &token, &orphan, "Third key")
        .await
        .problem(409, "ceremony_not_started");
    // A new session that never asked for options has nothing to finish.
    let other_session = text(&t.login_with_totp(&admin).await["access_token"]);
    submit_registration(&t, &other_session, &orphan, "Third key")
        .await
        .problem(409, "ceremony_not_started");

    let items = credentials(&t, &token).await;
    assert_eq!(items.len(), 2, "{items:?}");
    assert_eq!(items[0]["id"], view["id"]);
    assert_eq!(items[0]["name"], "Test key");
    assert_eq!(items[1]["name"], "Second key");
    assert!(has(&methods_of(&t, &token).await, "webauthn"));

    // A later registration excludes the registered credentials.
    let (options, _) = registration_options(&t, &token).await;
    let excluded = options["publicKey"]["excludeCredentials"]
        .as_array()
        .unwrap_or_else(|| panic!("no excludeCredentials: {options}"));
    assert_eq!(excluded.len(), 2, "{options}");

    // An authenticator that does not verify its user is refused.
    let mut lax = WebauthnAuthenticator::new(SoftPasskey::new(false));
    // (A client that ignores the requirement and lets it answer anyway.)
    let (mut options, _) = registration_options(&t, &token).await;
    options["publicKey"]["authenticatorSelection"]["userVerification"] = json!("discouraged");
    let ccr = serde_json::from_value(options).unwrap();
    let unverified = serde_json::to_value(lax.do_registration(origin(), ccr).unwrap()).unwrap();
    submit_registration(&t, &token, &unverified, "No UV")
        .await
        .problem(400, "registration_failed");
    assert_eq!(credentials(&t, &token).await.len(), 2);
}

#[actix_web::test]
async fn a_security_key_is_a_second_factor_and_a_replayed_assertion_is_refused() {
    let t = TestApp::spawn().await;
    let admin = enrolled_admin(&t, "Webauthn Login").await;
    let mut auth = key();
    register(&t, &access(&admin), &mut auth).await;

    let step = password_step(&t, &admin.person).await;
    assert!(has(&step["methods"], "webauthn"), "{step}");
    assert!(has(&step["methods"], "totp"), "{step}");
    let flow = text(&step["flow_token"]);
    let id = flow_id(&t, &flow).await;

    // The ceremony state lives in the database, for this flow, until used.
    assert_eq!(flow_challenges(&t, &id, "second_factor").await, 0);
    let rcr = assertion_options(&t, &flow).await;
    assert_eq!(flow_challenges(&t, &id, "second_factor").await, 1);
    let assertion = serde_json::to_value(auth.do_authentication(origin(), rcr).unwrap()).unwrap();
    let a = assert_with(&t, &flow, &assertion).await;
    assert_eq!(a.ok()["status"], "authenticated", "{}", a.text);
    assert_eq!(flow_challenges(&t, &id, "second_factor").await, 0);
    let claims = claims_of(&text(&a.json["access_token"]));
    assert_eq!(claims["aal"], 2, "{claims}");
    assert_eq!(claims["amr"], json!(["pwd", "hwk"]), "{claims}");
    let session = text(&a.json["access_token"]);
    let items = credentials(&t, &session).await;
    assert!(items[0]["last_used_at"].is_string(), "{items:?}");

    // The same assertion on the finished flow: the flow is spent.
    let again = assert_with(&t, &flow, &assertion).await;
    assert_ne!(again.status.as_u16(), 200, "{}", again.text);
    again.problem(401, "flow_expired");

    // The same assertion on a new flow with new options: wrong challenge.
    let flow = t.login_to_mfa(&admin.person).await;
    assertion_options(&t, &flow).await;
    let replay = assert_with(&t, &flow, &assertion).await;
    replay.problem(401, "webauthn_failed");
    // The failure spent the ceremony: no second try without new options.
    // Options fetched twice: the first challenge is replaced and stale.
    let rcr = assertion_options(&t, &flow).await;
    assertion_options(&t, &flow).await;
    let fresh = auth.do_authentication(origin(), rcr).unwrap();
    let stale = assert_with(&t, &flow, &serde_json::to_value(fresh).unwrap()).await;
    stale.problem(401, "webauthn_failed");
    assert_with(&t, &flow, &assertion)
        .await
        .problem(409, "ceremony_not_started");
}

#[actix_web::test]
async fn an_assertion_for_another_origin_is_refused() {
    let t = TestApp::spawn().await;
    let admin = enrolled_admin(&t, "Webauthn Origin").await;
    let mut auth = key();
    register(&t, &access(&admin), &mut auth).await;

    // A phishing page at another site asks for an assertion for itself.
    let flow = t.login_to_mfa(&admin.person).await;
    let mut rcr = assertion_options(&t, &flow).await;
    rcr.public_key.rp_id = "evil.example".to_owned();
    let evil = auth
        .do_authentication(Url::parse("https://evil.example").unwrap(), rcr)
        .unwrap();
    assert_with(&t, &flow, &serde_json::to_value(evil).unwrap())
        .await
        .problem(401, "webauthn_failed");

    // The right RP id, from a page on another port of the same host.
    let flow = t.login_to_mfa(&admin.person).await;
    let rcr = assertion_options(&t, &flow).await;
    let other = auth
        .do_authentication(Url::parse("http://localhost:9999").unwrap(), rcr)
        .unwrap();
    assert_with(&t, &flow, &serde_json::to_value(other).unwrap())
        .await
        .problem(401, "webauthn_failed");

    // The real origin still works.
    let (flow, assertion) = fresh_assertion(&t, &admin.person, &mut auth).await;
    let a = assert_with(&t, &flow, &assertion).await;
    assert_eq!(a.ok()["status"], "authenticated", "{}", a.text);
}

#[actix_web::test]
async fn a_sign_counter_that_goes_backwards_is_refused_and_audited() {
    let t = TestApp::spawn().await;
    let admin = enrolled_admin(&t, "Webauthn Counter").await;
    let mut auth = key();
    let view = register(&t, &access(&admin), &mut auth).await;

    let (flow, assertion) = fresh_assertion(&t, &admin.person, &mut auth).await;
    let a = assert_with(&t, &flow, &assertion).await;
    assert_eq!(a.ok()["status"], "authenticated", "{}", a.text);

    // As if a clone of the authenticator had been used many times.
    let id = text(&view["id"]);
    t.state
        .db
        .run(move |conn| {
            diesel::update(webauthn_credentials::table.find(id))
                .set(webauthn_credentials::sign_count.eq(1_000_000_i64))
                .execute(conn)?;
            Ok(())
        })
        .await
        .unwrap();
    let (flow, assertion) = fresh_assertion(&t, &admin.person, &mut auth).await;
    assert_with(&t, &flow, &assertion)
        .await
        .problem(401, "webauthn_failed");

    let token = text(&t.login_with_totp(&admin).await["access_token"]);
    let events = t
        .get(
            "/v1/admin/audit-events?kind=webauthn.counter_regression",
            Some(&token),
        )
        .await;
    let items = events.ok()["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{}", events.text);
    assert_eq!(items[0]["subject_user_id"], admin.person.id.as_str());
}

#[actix_web::test]
async fn a_removed_credential_no_longer_signs_in() {
    let t = TestApp::spawn().await;
    let admin = enrolled_admin(&t, "Webauthn Remove").await;
    let token = access(&admin);
    let mut auth = key();
    let view = register(&t, &token, &mut auth).await;
    let id = text(&view["id"]);

    // Not with an aal-1 session, and not someone else's id.
    let plain = t.user(&admin.person.account_id, Role::Technician).await;
    let aal1 = t.access_token(&plain).await;
    let path = format!("{CREDENTIALS}/{id}");
    t.call(Method::DELETE, &path, Some(&aal1), None)
        .await
        .problem(403, "second_factor_required");
    let unknown = format!("{CREDENTIALS}/{}", uuid::Uuid::new_v4());
    t.call(Method::DELETE, &unknown, Some(&token), None)
        .await
        .problem(404, "not_found");

    // A flow that fetched options before the removal.
    let early = t.login_to_mfa(&admin.person).await;
    let rcr = assertion_options(&t, &early).await;
    let early_assertion =
        serde_json::to_value(auth.do_authentication(origin(), rcr).unwrap()).unwrap();

    let gone = t.call(Method::DELETE, &path, Some(&token), None).await;
    assert_eq!(gone.status.as_u16(), 204, "{}", gone.text);
    assert!(credentials(&t, &token).await.is_empty());
    assert!(!has(&methods_of(&t, &token).await, "webauthn"));
    t.call(Method::DELETE, &path, Some(&token), None)
        .await
        .problem(404, "not_found");

    let step = password_step(&t, &admin.person).await;
    assert!(!has(&step["methods"], "webauthn"), "{step}");
    t.post(LOGIN_OPTIONS, json!({ "flow_token": step["flow_token"] }))
        .await
        .problem(409, "no_webauthn_credentials");
    // Options fetched before the removal do not help either.
    assert_with(&t, &early, &early_assertion)
        .await
        .problem(401, "webauthn_failed");
}

#[actix_web::test]
async fn an_admin_reset_removes_the_users_credentials() {
    let t = TestApp::spawn().await;
    let admin = enrolled_admin(&t, "Webauthn Reset").await;
    let tech = t.user(&admin.person.account_id, Role::Technician).await;
    let tech = t.enroll(&tech).await;
    let mut auth = key();
    register(&t, &access(&tech), &mut auth).await;
    assert_eq!(stored_credentials(&t, &tech.person.id).await, 1);

    let token = text(&t.login_with_totp(&admin).await["access_token"]);
    let row = |list: &Answer| {
        list.ok()["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["id"] == tech.person.id.as_str())
            .cloned()
            .unwrap_or_else(|| panic!("{}", list.text))
    };
    let before = t
        .get("/v1/admin/users?role=technician&limit=100", Some(&token))
        .await;
    assert!(has(&row(&before)["methods"], "webauthn"), "{}", before.text);

    let path = format!("/v1/admin/users/{}/2fa/reset", tech.person.id);
    let reset = t.call(Method::POST, &path, Some(&token), None).await;
    assert!(reset.status.is_success(), "{}", reset.text);

    assert_eq!(stored_credentials(&t, &tech.person.id).await, 0);
    let after = t
        .get("/v1/admin/users?role=technician&limit=100", Some(&token))
        .await;
    let after = row(&after);
    assert!(!has(&after["methods"], "webauthn"), "{after}");
    assert_eq!(after["methods"], json!([]), "{after}");
    // The next login starts a new enrollment; the key is no way around it.
    t.login_to_enrollment(&tech.person).await;
}

#[actix_web::test]
async fn passwordless_login_offers_discoverable_options_and_refuses_foreign_assertions() {
    let t = TestApp::spawn().await;
    let admin = enrolled_admin(&t, "Webauthn Passkey").await;
    let mut auth = key();
    register(&t, &access(&admin), &mut auth).await;

    let a = t.post("/v1/auth/passkey/options", json!({})).await;
    let options = a.ok().clone();
    assert_eq!(options["status"], "passkey_required", "{options}");
    let passkey_flow = text(&options["flow_token"]);
    let pk = &options["options"]["publicKey"];
    let allowed = pk["allowCredentials"].as_array().map_or(0, Vec::len);
    assert_eq!(allowed, 0, "{options}");
    assert_eq!(pk["userVerification"], "required", "{options}");
    let id = flow_id(&t, &passkey_flow).await;
    assert_eq!(flow_challenges(&t, &id, "passkey").await, 1);

    // A real assertion of the user's key, but for a second-factor challenge
    // and without a user handle: not a passkey login.
    let (_, assertion) = fresh_assertion(&t, &admin.person, &mut auth).await;
    t.post(
        "/v1/auth/passkey",
        json!({ "flow_token": passkey_flow, "credential": assertion }),
    )
    .await
    .problem(401, "webauthn_failed");

    // The same with the user's handle filled in: the challenge is foreign.
    let a = t.post("/v1/auth/passkey/options", json!({})).await;
    let passkey_flow = text(&a.ok()["flow_token"]);
    let mut forged = assertion.clone();
    let handle = uuid::Uuid::parse_str(&admin.person.id).unwrap();
    forged["response"]["userHandle"] = json!(base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        handle.as_bytes()
    ));
    t.post(
        "/v1/auth/passkey",
        json!({ "flow_token": passkey_flow, "credential": forged }),
    )
    .await
    .problem(401, "webauthn_failed");

    // A credential that is not one at all.
    t.post(
        "/v1/auth/passkey",
        json!({ "flow_token": passkey_flow, "credential": { "id": 7 } }),
    )
    .await
    .problem(400, "validation_failed");
}
