//! The operator API a billing system uses: `Authorization: Bearer
//! $TWOFOLD_OPERATOR_KEY`, billing state of an account, enforcement that
//! follows `paying_since`, validation and the audit trail of each change.

use chrono::{DateTime, SecondsFormat, Utc};
use reqwest::Method;
use serde_json::{json, Value};
use twofold::clock::Clock as _;
use twofold::users::Role;

use crate::common::{Answer, TestApp};
use crate::tokens::claims_of;

/// 38 characters: long enough for the configuration.
const KEY: &str = "op-key-0123456789-abcdefghijklmnopqrstu";

async fn operator_app() -> TestApp {
    TestApp::with_env(&[("TWOFOLD_OPERATOR_KEY", KEY)]).await
}

fn billing_path(account_id: &str) -> String {
    format!("/v1/operator/accounts/{account_id}")
}

fn rfc3339(unix: i64) -> String {
    DateTime::<Utc>::from_timestamp(unix, 0)
        .unwrap()
        .to_rfc3339_opts(SecondsFormat::Secs, true)
}

async fn get_billing(t: &TestApp, account_id: &str) -> Answer {
    t.get(&billing_path(account_id), Some(KEY)).await
}

async fn patch_billing(t: &TestApp, account_id: &str, body: Value) -> Answer {
    t.call(
        Method::PATCH,
        &billing_path(account_id),
        Some(KEY),
        Some(body),
    )
    .await
}

/// The account's `account.billing_changed` events, as its admin sees them.
async fn billing_events(t: &TestApp, admin_token: &str) -> Vec<Value> {
    let a = t
        .get(
            "/v1/admin/audit-events?kind=account.billing_changed&limit=200",
            Some(admin_token),
        )
        .await;
    a.ok()["items"].as_array().unwrap().clone()
}

#[actix_web::test]
async fn without_a_configured_key_the_operator_api_does_not_exist() {
    let t = TestApp::spawn().await;
    let admin = t.account("Acme MSP").await;
    let user_token = t.access_token(&admin).await;
    let path = billing_path(&admin.account_id);

    for bearer in [None, Some(KEY), Some("anything"), Some(user_token.as_str())] {
        t.call(Method::GET, &path, bearer, None)
            .await
            .problem(404, "not_found");
        t.call(
            Method::PATCH,
            &path,
            bearer,
            Some(json!({ "licenses": 99 })),
        )
        .await
        .problem(404, "not_found");
        // Even a body that would be refused: the API is not there at all.
        t.call(
            Method::PATCH,
            &path,
            bearer,
            Some(json!({ "licenses": 0, "nope": 1 })),
        )
        .await
        .problem(404, "not_found");
        t.call(
            Method::GET,
            "/v1/operator/accounts/no-such-account",
            bearer,
            None,
        )
        .await
        .problem(404, "not_found");
    }

    // Nothing changed behind the 404s.
    let settings = t.get("/v1/admin/security", Some(&user_token)).await;
    assert_eq!(settings.ok()["licenses"], 10);
    assert_eq!(settings.json["paying_since"], Value::Null);
}

#[actix_web::test]
async fn without_a_configured_key_no_method_reveals_the_operator_routes() {
    // "Does not exist" holds for every method: a 405 with `Allow: GET,
    // PATCH` would tell a prober that the operator API is there.
    let t = TestApp::spawn().await;
    let admin = t.account("Acme MSP").await;
    let path = billing_path(&admin.account_id);
    for method in [Method::DELETE, Method::POST, Method::PUT] {
        let a = t.call(method.clone(), &path, Some("anything"), None).await;
        assert_eq!(a.header("allow"), "", "{method}: {}", a.text);
        a.problem(404, "not_found");
    }
}

#[actix_web::test]
async fn the_operator_key_is_required_and_must_match_exactly() {
    let t = operator_app().await;
    let admin = t.account("Acme MSP").await;
    let path = billing_path(&admin.account_id);

    // No Authorization header at all.
    t.get(&path, None).await.problem(401, "unauthorized");
    t.call(Method::PATCH, &path, None, Some(json!({ "licenses": 99 })))
        .await
        .problem(401, "unauthorized");

    // Wrong keys: same length, one character off; shorter; longer.
    let mut same_length = KEY[..KEY.len() - 1].to_owned();
    same_length.push(if KEY.ends_with('x') { 'y' } else { 'x' });
    assert_eq!(same_length.len(), KEY.len());
    let longer = format!("{KEY}x");
    let user_token = t.access_token(&admin).await;
    for wrong in [
        same_length.as_str(),
        &KEY[..KEY.len() - 1],
        &KEY[..8],
        longer.as_str(),
        user_token.as_str(),
    ] {
        t.get(&path, Some(wrong))
            .await
            .problem(401, "invalid_token");
        t.call(
            Method::PATCH,
            &path,
            Some(wrong),
            Some(json!({ "licenses": 99 })),
        )
        .await
        .problem(401, "invalid_token");
    }

    // The right key.
    let a = get_billing(&t, &admin.account_id).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(
        a.json,
        json!({
            "account_id": admin.account_id,
            "name": "Acme MSP",
            "paying_since": null,
            "licenses": 10,
            "users": 1,
            "twofa_enforced_from": null,
        })
    );
    // The refused PATCHes changed nothing.
    t.user(&admin.account_id, Role::Technician).await;
    let a = get_billing(&t, &admin.account_id).await;
    assert_eq!(a.ok()["licenses"], 10);
    assert_eq!(a.json["users"], 2);
}

#[actix_web::test]
async fn a_past_paying_date_enforces_two_factor_and_null_returns_to_trial() {
    let t = operator_app().await;
    let admin = t.account("Acme MSP").await;
    let tech = t.user(&admin.account_id, Role::Technician).await;
    // The admin enrolls first, to keep using the admin surface once the
    // account enforces 2FA.
    let enrolled_admin = t.enroll(&admin).await;
    let admin_token = enrolled_admin.tokens["access_token"].as_str().unwrap();
    let app = &t;
    let security = || async move {
        let a = app.get("/v1/admin/security", Some(admin_token)).await;
        a.ok().clone()
    };
    assert_eq!(security().await["enforcement"], "trial");
    assert_eq!(t.login(&tech).await["status"], "authenticated");

    // Paying from now: scheduled for tomorrow, nobody asked yet.
    let now = t.clock.unix();
    let a = patch_billing(
        &t,
        &admin.account_id,
        json!({ "paying_since": rfc3339(now) }),
    )
    .await;
    assert_eq!(a.ok()["paying_since"], rfc3339(now));
    assert_eq!(a.json["twofa_enforced_from"], rfc3339(now + 24 * 3600));
    let s = security().await;
    assert_eq!(s["enforcement"], "scheduled");
    assert_eq!(s["enforced_from"], rfc3339(now + 24 * 3600));
    assert_eq!(t.login(&tech).await["status"], "authenticated");

    // Paying since more than a day ago: enforced at once.
    let since = now - 25 * 3600;
    let a = patch_billing(
        &t,
        &admin.account_id,
        json!({ "paying_since": rfc3339(since) }),
    )
    .await;
    let billing = a.ok();
    assert_eq!(billing["paying_since"], rfc3339(since));
    assert_eq!(billing["twofa_enforced_from"], rfc3339(since + 24 * 3600));
    assert_eq!(billing["licenses"], 10, "absent licences are kept");
    t.login_to_enrollment(&tech).await;
    let s = security().await;
    assert_eq!(s["enforcement"], "enforced");
    assert_eq!(s["paying_since"], rfc3339(since));
    assert_eq!(s["enforced_from"], rfc3339(since + 24 * 3600));
    let admin_user = t
        .get(&format!("/v1/admin/users/{}", tech.id), Some(admin_token))
        .await;
    assert_eq!(admin_user.ok()["twofa_status"], "pending");

    // Back on trial: the user who never enrolled signs in with the password.
    let a = patch_billing(&t, &admin.account_id, json!({ "paying_since": null })).await;
    assert_eq!(a.ok()["paying_since"], Value::Null);
    assert_eq!(a.json["twofa_enforced_from"], Value::Null);
    let back = t.login(&tech).await;
    assert_eq!(back["status"], "authenticated");
    let claims = claims_of(back["access_token"].as_str().unwrap());
    assert_eq!(claims["aal"], 1);
    assert_eq!(claims["amr"], json!(["pwd"]));
    let s = security().await;
    assert_eq!(s["enforcement"], "trial");
    assert_eq!(s["paying_since"], Value::Null);
    assert_eq!(s["enforced_from"], Value::Null);
}

#[actix_web::test]
async fn billing_updates_are_validated_and_absent_fields_keep_their_values() {
    let t = operator_app().await;
    let admin = t.account("Acme MSP").await;
    let id = admin.account_id.as_str();

    let field_error = |a: &Answer, field: &str| {
        a.problem(400, "validation_failed");
        assert_eq!(a.json["errors"][0]["field"], field, "{}", a.text);
    };
    for licenses in [
        json!(0),
        json!(-1),
        json!(1_000_001),
        json!("7"),
        json!(1.5),
    ] {
        let a = patch_billing(&t, id, json!({ "licenses": licenses })).await;
        field_error(&a, "licenses");
    }
    for since in [
        json!("yesterday"),
        json!("2026-11-27"),
        json!("2026-11-27 09:00:00"),
        json!(""),
        json!(5),
        json!(true),
    ] {
        let a = patch_billing(&t, id, json!({ "paying_since": since })).await;
        field_error(&a, "paying_since");
    }
    // A bad date is refused even next to a good licence count: all or nothing.
    let a = patch_billing(&t, id, json!({ "paying_since": "soon", "licenses": 20 })).await;
    field_error(&a, "paying_since");
    let a = patch_billing(&t, id, json!({ "plan": "enterprise" })).await;
    field_error(&a, "plan");
    let a = patch_billing(&t, id, json!({ "licenses": 5, "plan": "enterprise" })).await;
    a.problem(400, "validation_failed");

    // Unknown accounts, both ways.
    t.get(&billing_path("no-such-account"), Some(KEY))
        .await
        .problem(404, "not_found");
    patch_billing(&t, "no-such-account", json!({ "licenses": 5 }))
        .await
        .problem(404, "not_found");

    // None of the refused requests changed anything.
    let a = get_billing(&t, id).await;
    assert_eq!(a.ok()["licenses"], 10);
    assert_eq!(a.json["paying_since"], Value::Null);

    // The bounds themselves are allowed.
    assert_eq!(
        patch_billing(&t, id, json!({ "licenses": 1 })).await.ok()["licenses"],
        1
    );
    assert_eq!(
        patch_billing(&t, id, json!({ "licenses": 1_000_000 }))
            .await
            .ok()["licenses"],
        1_000_000
    );

    // Any RFC 3339 offset is accepted and reported in UTC.
    let a = patch_billing(
        &t,
        id,
        json!({ "paying_since": "2026-11-27T10:30:00+01:00", "licenses": 25 }),
    )
    .await;
    assert_eq!(a.ok()["paying_since"], "2026-11-27T09:30:00Z");
    assert_eq!(a.json["twofa_enforced_from"], "2026-11-28T09:30:00Z");
    assert_eq!(a.json["licenses"], 25);

    // Absent fields keep their values.
    let a = patch_billing(&t, id, json!({ "licenses": 7 })).await;
    assert_eq!(a.ok()["licenses"], 7);
    assert_eq!(a.json["paying_since"], "2026-11-27T09:30:00Z");
    let a = patch_billing(&t, id, json!({ "paying_since": "2026-12-01T00:00:00Z" })).await;
    assert_eq!(a.ok()["paying_since"], "2026-12-01T00:00:00Z");
    assert_eq!(a.json["licenses"], 7);
    let a = patch_billing(&t, id, json!({})).await;
    assert_eq!(a.ok()["paying_since"], "2026-12-01T00:00:00Z");
    assert_eq!(a.json["licenses"], 7);
    let a = get_billing(&t, id).await;
    assert_eq!(
        a.ok().clone(),
        json!({
            "account_id": id,
            "name": "Acme MSP",
            "paying_since": "2026-12-01T00:00:00Z",
            "licenses": 7,
            "users": 1,
            "twofa_enforced_from": "2026-12-02T00:00:00Z",
        })
    );
}

#[actix_web::test]
async fn every_billing_change_is_audited_as_the_operator_for_that_account_only() {
    let t = operator_app().await;
    let admin = t.account("Acme MSP").await;
    let other = t.account("Other MSP").await;
    let admin_token = t.access_token(&admin).await;
    let other_token = t.access_token(&other).await;
    assert!(billing_events(&t, &admin_token).await.is_empty());

    patch_billing(&t, &admin.account_id, json!({ "licenses": 12 }))
        .await
        .ok();
    t.advance(5);
    // A future date keeps the account out of enforcement, so the admin's
    // password-only session still reads the trail.
    let since = rfc3339(t.clock.unix() + 3600);
    patch_billing(&t, &admin.account_id, json!({ "paying_since": since }))
        .await
        .ok();
    // Refused changes write nothing.
    patch_billing(&t, &admin.account_id, json!({ "licenses": 0 }))
        .await
        .problem(400, "validation_failed");
    t.get(&billing_path(&admin.account_id), Some("wrong"))
        .await
        .problem(401, "invalid_token");

    let events = billing_events(&t, &admin_token).await;
    assert_eq!(events.len(), 2, "{events:#?}");
    for event in &events {
        assert_eq!(event["kind"], "account.billing_changed");
        assert_eq!(
            event["actor"],
            json!({ "kind": "operator", "user_id": null })
        );
        assert_eq!(event["subject_user_id"], Value::Null);
        assert_eq!(event["ip"], "127.0.0.1");
    }
    // Newest first.
    let (newest, oldest) = (&events[0], &events[1]);
    assert_eq!(oldest["created_at"], rfc3339(crate::common::START));
    assert_eq!(newest["created_at"], rfc3339(crate::common::START + 5));
    assert_eq!(oldest["detail"]["licenses"], 12);
    assert_eq!(oldest["detail"]["previous_licenses"], 10);
    assert_eq!(newest["detail"]["paying_since"], since.as_str());
    assert_eq!(newest["detail"]["previous_paying_since"], Value::Null);
    assert_eq!(newest["detail"]["previous_licenses"], 12);

    // The unfiltered trail has them too, and never the key.
    let all = t
        .get("/v1/admin/audit-events?limit=200", Some(&admin_token))
        .await;
    let kinds: Vec<&str> = all.ok()["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == "account.billing_changed")
            .count(),
        2
    );
    assert!(!all.text.contains(KEY));

    // The other account's admin sees none of it.
    assert!(billing_events(&t, &other_token).await.is_empty());
    let ids: Vec<&Value> = events.iter().map(|e| &e["id"]).collect();
    let theirs = t
        .get("/v1/admin/audit-events?limit=200", Some(&other_token))
        .await;
    assert!(theirs.ok()["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| !ids.contains(&&e["id"])));

    // A technician has no access to the trail.
    let tech = t.user(&admin.account_id, Role::Technician).await;
    let tech_token = t.access_token(&tech).await;
    t.get(
        "/v1/admin/audit-events?kind=account.billing_changed",
        Some(&tech_token),
    )
    .await
    .problem(403, "forbidden");
}

#[test]
fn an_operator_key_shorter_than_32_characters_is_refused_at_configuration() {
    let config = |key: String| {
        twofold::config::Config::from_lookup(move |name| {
            (name == "TWOFOLD_OPERATOR_KEY").then(|| key.clone())
        })
    };
    for short in [
        "short".to_owned(),
        "k".repeat(31),
        format!("{}   ", "k".repeat(31)),
    ] {
        let err = config(short.clone()).unwrap_err();
        assert_eq!(err.variable, "TWOFOLD_OPERATOR_KEY", "{short:?}");
        assert!(err.to_string().contains("TWOFOLD_OPERATOR_KEY"), "{err}");
        assert!(
            !err.to_string().contains(&short),
            "the key is not echoed: {err}"
        );
    }
    let ok = config("k".repeat(32)).unwrap();
    assert_eq!(ok.operator_key.unwrap().expose(), "k".repeat(32));
    assert!(config(String::new()).unwrap().operator_key.is_none());
}
