//! Attacks through passkeys: a stolen, long-lived session planting or
//! removing one, and an anonymous caller naming a user in an assertion to
//! lock them out or write into their account.

use reqwest::Method;
use serde_json::{json, Value};

use crate::common::{Enrolled, TestApp};
use crate::ip_allowlist::via;
use crate::webauthn::{
    access, enrolled_admin, fresh_assertion, key, register, registration_response,
    submit_registration, text, CREDENTIALS, REG_OPTIONS,
};

/// A new access token for the same session, as a thief holding the
/// refresh token gets one, however old the session is.
async fn refreshed(t: &TestApp, enrolled: &Enrolled) -> String {
    let a = t
        .post(
            "/v1/auth/token/refresh",
            json!({ "refresh_token": enrolled.tokens["refresh_token"] }),
        )
        .await;
    text(&a.ok()["access_token"])
}

#[actix_web::test]
async fn a_stolen_old_session_cannot_plant_or_remove_a_passkey() {
    let t = TestApp::spawn().await;
    let victim = enrolled_admin(&t, "Stolen Session").await;
    let mut own = key();
    let kept = register(&t, &access(&victim), &mut own).await;
    // Options asked for while the session was fresh, to be used later.
    let mut planted = key();
    let prepared = registration_response(&t, &access(&victim), &mut planted).await;

    t.advance(16 * 60);
    let stale = refreshed(&t, &victim).await;
    t.call(Method::POST, REG_OPTIONS, Some(&stale), None)
        .await
        .problem(403, "reauthentication_required");
    submit_registration(&t, &stale, &prepared, "Thief")
        .await
        .problem(403, "reauthentication_required");
    let path = format!("{CREDENTIALS}/{}", text(&kept["id"]));
    t.call(Method::DELETE, &path, Some(&stale), None)
        .await
        .problem(403, "reauthentication_required");

    // A second factor proven now allows both, and the trail says who.
    let fresh = text(&t.login_with_totp(&victim).await["access_token"]);
    let added = register(&t, &fresh, &mut planted).await;
    let a = t.call(Method::DELETE, &path, Some(&fresh), None).await;
    assert_eq!(a.status.as_u16(), 204, "{}", a.text);
    let sid = crate::tokens::claims_of(&fresh)["sid"].clone();
    let trail = via(1, &[]);
    let registered = trail.events(&t, &fresh, "webauthn.registered").await;
    let latest = registered.first().unwrap();
    assert_eq!(latest["detail"]["name"], "Test key", "{latest}");
    assert_eq!(latest["detail"]["credential"], added["id"], "{latest}");
    assert_eq!(latest["detail"]["session"], sid, "{latest}");
    let removed = trail.events(&t, &fresh, "webauthn.removed").await;
    assert_eq!(removed.len(), 1, "{removed:?}");
    assert_eq!(removed[0]["detail"]["name"], "Test key");
    assert_eq!(removed[0]["detail"]["credential"], kept["id"]);
    assert_eq!(removed[0]["detail"]["session"], sid);
}

/// An assertion by the attacker's own key, with the victim's user handle.
fn naming(assertion: &Value, user_id: &str) -> Value {
    let mut forged = assertion.clone();
    let handle = uuid::Uuid::parse_str(user_id).unwrap();
    forged["response"]["userHandle"] = json!(base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        handle.as_bytes()
    ));
    forged
}

#[actix_web::test]
async fn naming_a_user_in_passkey_assertions_neither_locks_them_out_nor_writes_to_their_account() {
    let t = TestApp::spawn().await;
    let victim = enrolled_admin(&t, "Named Victim").await;
    let attacker = enrolled_admin(&t, "Attacker").await;
    let mut auth = key();
    register(&t, &access(&attacker), &mut auth).await;
    let (_, assertion) = fresh_assertion(&t, &attacker.person, &mut auth).await;
    let forged = naming(&assertion, &victim.person.id);
    let outsider = via(2, &[]);
    let attempt = |flow: String| {
        let body = json!({ "flow_token": flow, "credential": forged.clone() });
        let t = &t;
        let outsider = &outsider;
        async move { outsider.post(t, "/v1/auth/passkey", None, body).await }
    };
    let options = || async {
        let a = outsider
            .post(&t, "/v1/auth/passkey/options", None, json!({}))
            .await;
        text(&a.ok()["flow_token"])
    };

    for _ in 0..15 {
        attempt(options().await)
            .await
            .problem(401, "webauthn_failed");
    }
    // The victim signs in as usual, and nothing happened in their account.
    let victim_token = text(&t.login_with_totp(&victim).await["access_token"]);
    let trail = via(1, &[]);
    assert!(trail
        .events(&t, &victim_token, "login.failed")
        .await
        .is_empty());
    assert!(trail
        .events(&t, &victim_token, "twofa.locked")
        .await
        .is_empty());

    // With the victim's allow-list on, an outsider's forged assertion is
    // still just a failed assertion: no 403 telling the account has a list,
    // no `access.ip_denied` written into it.
    trail.entry(&t, &victim_token, "127.0.0.1").await;
    assert_eq!(
        trail.switch(&t, &victim_token, true, false).await.status,
        200
    );
    for _ in 0..3 {
        attempt(options().await)
            .await
            .problem(401, "webauthn_failed");
    }
    assert!(trail
        .events(&t, &victim_token, "access.ip_denied")
        .await
        .is_empty());
}
