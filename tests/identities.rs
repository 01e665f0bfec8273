//! Lookalike identities: an email or a name built to pass for someone
//! else's (zero-width and bidi characters, other scripts, fullwidth forms,
//! quoted local parts, empty domain labels) is refused wherever a caller can
//! set one; sign-in answers such an address like any unknown one; rows
//! written before the rule are reported, never rewritten.

use reqwest::Method;
use serde_json::{json, Value};
use twofold::error::ApiError;
use twofold::users::{Role, User};
use url::Url;
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_rs::prelude::CreationChallengeResponse;

use crate::common::{binary, Answer, Person, TestApp};

const USERS: &str = "/v1/admin/users";

/// Asserts the answer to invalid input, naming `field`.
#[track_caller]
fn refused(a: &Answer, field: &str, input: &str) {
    let status = ApiError::field(field, "").status().as_u16();
    a.problem(status, "validation_failed");
    assert_eq!(a.json["errors"][0]["field"], field, "{input:?}: {}", a.text);
}

/// A domain no other test uses.
fn domain() -> String {
    format!("d{}.example", uuid::Uuid::new_v4().simple())
}

/// An admin's access token (aal 1: no enforcement, no second factor).
async fn admin_token(t: &TestApp) -> (String, String) {
    let admin = t.account("Lookalikes").await;
    (t.access_token(&admin).await, admin.account_id)
}

async fn create(t: &TestApp, token: &str, email: &str, name: &str) -> Answer {
    let body = json!({ "email": email, "name": name, "role": "technician" });
    t.call(Method::POST, USERS, Some(token), Some(body)).await
}

#[actix_web::test]
async fn lookalike_emails_cannot_be_registered_beside_the_real_one() {
    let t = TestApp::spawn().await;
    let (token, _) = admin_token(&t).await;
    let d = domain();
    let real = create(&t, &token, &format!("kate@{d}"), "Kate").await;
    assert_eq!(real.status, 201, "{}", real.text);

    let (label, tld) = d.split_once('.').unwrap();
    for lookalike in [
        format!("kate@{d}\u{200B}"),
        format!("ka\u{200B}te@{d}"),
        format!("kate\u{200D}@{d}"),
        format!("\u{FF4B}\u{FF41}\u{FF54}\u{FF45}@{d}"),
        format!("k\u{0430}te@{d}"),
        format!("\"kate\"@{d}"),
        format!("\"kate\\\"\"@{d}"),
        format!("kate@{label}..{tld}"),
        format!("kate@{label}.{tld}\u{202E}"),
        format!("kate@{label}.\u{FF45}xample"),
        format!("kate\u{0000}@{d}"),
        format!("kate.@{d}"),
        format!("kate@{d}."),
    ] {
        let a = create(&t, &token, &lookalike, "Kate").await;
        refused(&a, "email", &lookalike);
    }
    let list = t.get(&format!("{USERS}?name=kate"), Some(&token)).await;
    let items = list.ok()["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{}", list.text);
    assert_eq!(items[0]["email"], format!("kate@{d}"));
}

#[actix_web::test]
async fn an_internationalised_domain_is_one_user_in_its_ascii_form() {
    let t = TestApp::spawn().await;
    let (token, account_id) = admin_token(&t).await;
    let d = format!("bücher-{}", domain());
    let a = create(&t, &token, &format!("Kate@{}", d.to_uppercase()), "Kate").await;
    assert_eq!(a.status, 201, "{}", a.text);
    let stored = a.json["email"].as_str().unwrap().to_owned();
    let ascii = idna::domain_to_ascii(&d).unwrap();
    assert_eq!(stored, format!("Kate@{ascii}"));
    assert!(ascii.starts_with("xn--"), "{ascii}");

    // Either spelling is the same person, and signs in as them.
    let password = a.json["initial_password"].as_str().unwrap().to_owned();
    let id = a.json["id"].as_str().unwrap().to_owned();
    create(&t, &token, &format!("kate@{ascii}"), "Kate")
        .await
        .problem(409, "email_taken");
    for email in [format!("kate@{d}"), format!("KATE@{ascii}")] {
        let person = Person {
            id: id.clone(),
            account_id: account_id.clone(),
            email,
            password: password.clone(),
        };
        t.login(&person).await;
    }
}

#[actix_web::test]
async fn sign_in_answers_a_lookalike_like_any_unknown_address() {
    let t = TestApp::spawn().await;
    let admin = t.account("Sign in").await;
    let (local, d) = admin.email.split_once('@').unwrap();
    for lookalike in [
        format!("{local}\u{200B}@{d}"),
        format!("{local}@{d}\u{200B}"),
        format!("\"{local}\"@{d}"),
        format!("{local}@{d}\u{202E}"),
        format!("nobody-{}@{d}", uuid::Uuid::new_v4().simple()),
    ] {
        let flow = t.start_login(&lookalike).await;
        let body = json!({ "flow_token": flow, "password": admin.password });
        let a = t.post("/v1/auth/login/password", body).await;
        a.problem(401, "invalid_credentials");
    }
    // Not an address at all: refused at the first step, as before.
    for junk in ["kate", "kate@", "ka te@e.example", "kate\u{0}@e.example"] {
        let a = t.post("/v1/auth/login", json!({ "email": junk })).await;
        refused(&a, "email", junk);
    }
    // The real address still signs in.
    t.login(&admin).await;
}

/// Registration options answered by a software passkey.
async fn passkey_credential(t: &TestApp, token: &str) -> Value {
    let path = "/v1/me/webauthn/registration/options";
    let a = t.call(Method::POST, path, Some(token), None).await;
    let ccr: CreationChallengeResponse = serde_json::from_value(a.ok()["options"].clone()).unwrap();
    let mut key = WebauthnAuthenticator::new(SoftPasskey::new(true));
    let origin = Url::parse("http://localhost:8080").unwrap();
    serde_json::to_value(key.do_registration(origin, ccr).unwrap()).unwrap()
}

#[actix_web::test]
async fn names_and_descriptions_cannot_hide_bidi_or_invisible_characters() {
    let t = TestApp::spawn().await;
    let (token, account_id) = admin_token(&t).await;
    let hidden = [
        "Kate\u{202E}gnp.exe",
        "Ka\u{200B}te",
        "Kate\u{2066}",
        "Kate\u{200F}",
        "Kate\u{FEFF}",
        "Kate\u{0007}",
        "Kate\u{009B}31m",
        "Kate\nAdmin",
    ];
    let tech = create(&t, &token, &format!("tech@{}", domain()), "Tech").await;
    let tech_path = format!("{USERS}/{}", tech.json["id"].as_str().unwrap());
    for name in hidden {
        let a = create(&t, &token, &format!("kate@{}", domain()), name).await;
        refused(&a, "name", name);
        let body = json!({ "name": name });
        let a = t
            .call(Method::PATCH, &tech_path, Some(&token), Some(body))
            .await;
        refused(&a, "name", name);
        let body = json!({ "cidr": "192.0.2.0/24", "description": name });
        let path = "/v1/admin/ip-allowlist";
        let a = t.call(Method::POST, path, Some(&token), Some(body)).await;
        refused(&a, "description", name);
    }
    // Names in any script are welcome.
    let a = create(
        &t,
        &token,
        &format!("zoe@{}", domain()),
        " Zoë Ångström-李 ",
    )
    .await;
    assert_eq!(a.json["name"], "Zoë Ångström-李", "{}", a.text);

    // A passkey's name, checked before the ceremony is finished.
    let admin = t.user(&account_id, Role::Admin).await;
    let enrolled = t.enroll(&admin).await;
    let fresh = enrolled.tokens["access_token"].as_str().unwrap();
    let credential = passkey_credential(&t, fresh).await;
    let register = |name: &str| {
        let body = json!({ "credential": credential, "name": name });
        t.call(
            Method::POST,
            "/v1/me/webauthn/registration",
            Some(fresh),
            Some(body),
        )
    };
    for name in hidden {
        refused(&register(name).await, "name", name);
    }
    assert_eq!(register("YubiKey").await.status, 201);
}

#[actix_web::test]
async fn migrate_reports_users_outside_the_profile_and_changes_none() {
    let t = TestApp::spawn().await;
    let admin = t.account("Legacy").await;
    let d = domain();
    // Rows as an older version let them in, written past today's checks.
    let rows = [
        (format!("ka\u{200B}te@{d}"), "Kate", vec!["email"]),
        (format!("kate@{d}"), "Kate\u{202E}gnp.exe", vec!["name"]),
        (
            format!("\"kate\"@{d}"),
            "Ka\u{200B}te",
            vec!["email", "name"],
        ),
        (format!("fine@{d}"), "Fine", vec![]),
    ];
    let mut users = Vec::new();
    for (email, name, _) in &rows {
        let key = email.to_lowercase();
        let user = User::new(
            &admin.account_id.as_str().into(),
            (email.clone(), key),
            (*name).to_owned(),
            Role::Technician,
            "x".into(),
            0,
        );
        let row = user.clone();
        t.state
            .db
            .run(move |conn| twofold::users::addresses::add_owner(conn, &row))
            .await
            .unwrap();
        users.push(user);
    }

    let dir = tempfile::tempdir().unwrap();
    let output = binary::on_app(&t, dir.path())
        .args(["migrate", "--json"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let findings = report["users_outside_profile"].as_array().unwrap();
    for (user, (_, _, fields)) in users.iter().zip(&rows) {
        let found = findings.iter().find(|f| f["user_id"] == user.id.as_str());
        match found {
            Some(f) => assert_eq!(f["fields"], json!(fields), "{f}"),
            None => assert!(fields.is_empty(), "{} not reported: {report}", user.id),
        }
    }
    // Reported by id only, and nothing was rewritten.
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(!printed.contains(&d), "{printed}");
    for user in users {
        let id = user.id.clone();
        let row = t
            .state
            .db
            .run(move |conn| twofold::users::repo::find(conn, &id))
            .await
            .unwrap()
            .unwrap();
        assert_eq!((row.email, row.name), (user.email, user.name));
    }
}
