//! Taking people off an account: deactivating (access ends at once, the
//! login answers like a wrong password, the licence is free), reactivating
//! (within the licences), deleting (the email is free, the trail keeps the
//! person), one by one or in bulk, never across accounts, never oneself,
//! never the last admin.

use super::*;
use crate::common::code_at;
use crate::webauthn::{key, origin, registration_response, submit_registration, Key};
use twofold::clock::rfc3339;

/// `POST /v1/admin/users/{id}/{action}` (deactivate, reactivate).
async fn one(d: &Desk<'_>, id: &str, action: &str) -> Answer {
    d.call(Method::POST, &format!("{USERS}/{id}/{action}"), None)
        .await
}

/// `POST /v1/admin/users/{action}` with these ids (deactivate, reactivate,
/// delete).
async fn many(d: &Desk<'_>, action: &str, ids: Value) -> Answer {
    d.post(&format!("{USERS}/{action}"), json!({ "user_ids": ids }))
        .await
}

async fn delete(d: &Desk<'_>, id: &str) -> Answer {
    d.call(Method::DELETE, &format!("{USERS}/{id}"), None).await
}

/// The `status` the admin sees of user `id`.
async fn status(d: &Desk<'_>, id: &str) -> Value {
    d.user(id).await["status"].clone()
}

/// The password step of `person` with `password`, from a fresh flow.
async fn try_password(t: &TestApp, person: &Person, password: &str) -> Answer {
    let flow = t.start_login(&person.email).await;
    let body = json!({ "flow_token": flow, "password": password });
    t.post("/v1/auth/login/password", body).await
}

/// A problem body without what differs from one request to the next.
fn comparable(a: &Answer) -> Value {
    let mut body = a.json.clone();
    for field in ["instance", "request_id", "trace_id"] {
        body.as_object_mut().unwrap().remove(field);
    }
    body
}

#[actix_web::test]
async fn deactivating_ends_sessions_refresh_tokens_and_logins_in_progress_at_once() {
    let t = TestApp::spawn().await;
    let d = Desk::open(&t, "Departures").await;
    let tech = d.create("Tech", "tech", "technician").await;
    let tokens = t.login(&tech).await;
    let token = access(&tokens);
    t.get("/v1/me", Some(&token)).await.ok();
    let enrolled_user = d.create("Enrolled", "enr", "technician").await;
    let enrolled = t.enroll(&enrolled_user).await;
    let halfway = t.login_to_mfa(&enrolled_user).await;

    let a = one(&d, &tech.id, "deactivate").await;
    let now = rfc3339(t.clock.unix());
    let done = json!({ "results": [{
        "user_id": tech.id, "changed": true, "status": "deactivated",
        "deactivated_at": now, "sessions_revoked": 1,
    }]});
    assert_eq!(*a.ok(), done);
    t.get("/v1/me", Some(&token))
        .await
        .problem(401, "invalid_token");
    let refresh = json!({ "refresh_token": tokens["refresh_token"] });
    t.post("/v1/auth/token/refresh", refresh)
        .await
        .problem(401, "invalid_token");

    // A login waiting for its second factor ends too.
    one(&d, &enrolled_user.id, "deactivate").await.ok();
    let code = code_at(&enrolled.secret, t.clock.unix() + 30);
    let body = json!({ "flow_token": halfway, "code": code });
    t.post("/v1/auth/login/totp", body)
        .await
        .problem(401, "flow_expired");

    // Again: nothing to do, and the answer says so.
    let again = json!({ "results": [{
        "user_id": tech.id, "changed": false, "status": "deactivated", "deactivated_at": now,
    }]});
    assert_eq!(*one(&d, &tech.id, "deactivate").await.ok(), again);
    assert_eq!(status(&d, &tech.id).await, "deactivated");
}

#[actix_web::test]
async fn a_deactivated_users_login_is_answered_exactly_like_a_wrong_password() {
    let t = TestApp::spawn().await;
    let d = Desk::open(&t, "No enumeration").await;
    let tech = d.create("Gone", "gone", "technician").await;
    let other = d.create("Here", "here", "technician").await;
    one(&d, &tech.id, "deactivate").await.ok();

    let right = try_password(&t, &tech, &tech.password).await;
    right.problem(401, "invalid_credentials");
    let wrong = try_password(&t, &tech, "not the password").await;
    let active_wrong = try_password(&t, &other, "not the password").await;
    for a in [&wrong, &active_wrong] {
        a.problem(401, "invalid_credentials");
        assert_eq!(comparable(&right), comparable(a));
        assert_eq!(
            right.header("www-authenticate"),
            a.header("www-authenticate")
        );
    }

    // Back on the account, the same password signs in again.
    let back = one(&d, &tech.id, "reactivate").await;
    let result = json!({ "results": [{
        "user_id": tech.id, "changed": true, "status": "active", "deactivated_at": null,
    }]});
    assert_eq!(*back.ok(), result);
    t.login(&tech).await;
    let again = one(&d, &tech.id, "reactivate").await;
    assert_eq!(again.ok()["results"][0]["changed"], false);
}

#[actix_web::test]
async fn deactivation_frees_a_licence_and_reactivation_needs_one() {
    let t = TestApp::spawn().await;
    let d = Desk::open(&t, "Seats").await;
    billing(&t, &d.admin.account_id, None, Some(3)).await;
    let leaver = d.create("Leaver", "leaver", "technician").await;
    let stayer = d.create("Stayer", "stayer", "read_only").await;
    let body = |tag: &str| json!({ "email": mail(tag), "name": "New", "role": "technician" });
    d.post(USERS, body("full"))
        .await
        .problem(409, "license_limit_reached");

    one(&d, &leaver.id, "deactivate").await.ok();
    assert_eq!(d.get(SECURITY).await.ok()["users"], 2);
    let hired = d.post(USERS, body("hired")).await;
    assert_eq!(hired.status, 201, "{}", hired.text);

    // Full again: bringing the leaver back is refused, alone or in bulk.
    one(&d, &leaver.id, "reactivate")
        .await
        .problem(409, "license_limit_reached");
    many(&d, "reactivate", json!([stayer.id, leaver.id]))
        .await
        .problem(409, "license_limit_reached");
    assert_eq!(status(&d, &leaver.id).await, "deactivated");
    // An active user needs no seat to be "reactivated".
    let noop = many(&d, "reactivate", json!([stayer.id])).await;
    assert_eq!(noop.ok()["results"][0]["changed"], false);

    billing(&t, &d.admin.account_id, None, Some(4)).await;
    one(&d, &leaver.id, "reactivate").await.ok();
    assert_eq!(d.get(SECURITY).await.ok()["users"], 4);
}

#[actix_web::test]
async fn the_list_shows_every_users_status_and_filters_by_it() {
    let t = TestApp::spawn().await;
    let d = Desk::open(&t, "Roster").await;
    let ada = d.create("Ada", "ada", "technician").await;
    d.create("Bob", "bob", "read_only").await;
    let cy = d.create("Cy", "cy", "admin").await;
    many(&d, "deactivate", json!([ada.id, cy.id])).await.ok();
    let boss = default_name(&d.admin);

    let mut active = vec!["Bob".to_owned(), boss.clone()];
    active.sort_by_key(|n| n.to_lowercase());
    assert_eq!(d.names(&[("status", "deactivated")]).await, ["Ada", "Cy"]);
    assert_eq!(d.names(&[("status", "active")]).await, active);
    assert_eq!(
        d.names(&[("status", "deactivated"), ("role", "admin")])
            .await,
        ["Cy"]
    );
    let all = d.list("").await;
    let items = all.ok()["items"].as_array().unwrap();
    assert_eq!(items.len(), 4);
    let ada_row = items.iter().find(|u| u["id"] == ada.id.as_str()).unwrap();
    let expected = json!({ "status": "deactivated", "deactivated_at": rfc3339(t.clock.unix()) });
    assert_eq!(pick(ada_row, "status deactivated_at"), expected);
    let bob_row = items.iter().find(|u| u["name"] == "Bob").unwrap();
    let expected = json!({ "status": "active", "deactivated_at": null });
    assert_eq!(pick(bob_row, "status deactivated_at"), expected);
    d.list("status=gone")
        .await
        .problem(400, "validation_failed");
}

#[actix_web::test]
async fn deleting_frees_the_email_and_the_trail_still_names_the_person() {
    let t = TestApp::spawn().await;
    let d = Desk::open(&t, "Removals").await;
    let tech = d.create("Temp", "temp", "technician").await;
    let enrolled = t.enroll(&tech).await;
    let token = access(&enrolled.tokens);

    let a = delete(&d, &tech.id).await;
    assert_eq!(a.status, 204, "{}", a.text);
    t.get("/v1/me", Some(&token))
        .await
        .problem(401, "invalid_token");
    d.get(&format!("{USERS}/{}", tech.id))
        .await
        .problem(404, "not_found");
    delete(&d, &tech.id).await.problem(404, "not_found");
    try_password(&t, &tech, &tech.password)
        .await
        .problem(401, "invalid_credentials");

    // The same address, again: a new person who signs in with it, with no
    // trace of the old factors.
    let body =
        json!({ "email": tech.email.to_uppercase(), "name": "Temp 2", "role": "technician" });
    let again = d.post(USERS, body).await;
    assert_eq!(again.status, 201, "{}", again.text);
    let newcomer = Person {
        id: again.json["id"].as_str().unwrap().to_owned(),
        account_id: d.admin.account_id.clone(),
        email: tech.email.clone(),
        password: again.json["initial_password"].as_str().unwrap().to_owned(),
    };
    assert_ne!(newcomer.id, tech.id);
    assert_eq!(t.login(&newcomer).await["status"], "authenticated");

    // The old person's events still list, with the email they had.
    let path = format!("/v1/admin/audit-events?user_id={}&limit=200", tech.id);
    let trail = d.get(&path).await;
    let events = trail.ok()["items"].as_array().unwrap();
    let of = |kind: &str| events.iter().find(|e| e["kind"] == kind).unwrap();
    let deleted = of("user.deleted");
    assert_eq!(deleted["subject_user_id"], tech.id.as_str());
    assert_eq!(deleted["actor"]["user_id"], d.admin.id.as_str());
    let who = json!({ "email": tech.email, "name": "Temp", "role": "technician" });
    assert_eq!(deleted["detail"], who);
    assert_eq!(of("user.created")["detail"]["email"], tech.email.as_str());
    of("twofa.totp_enrolled");
    of("login.succeeded");
}

#[actix_web::test]
async fn an_admin_never_takes_themselves_off_and_the_account_keeps_an_admin() {
    let t = TestApp::spawn().await;
    let d = Desk::open(&t, "Guards").await;
    let tech = d.create("Tech", "tech", "technician").await;
    let me = d.admin.id.clone();
    one(&d, &me, "deactivate")
        .await
        .problem(409, "cannot_act_on_self");
    delete(&d, &me).await.problem(409, "cannot_act_on_self");
    for action in ["deactivate", "delete"] {
        many(&d, action, json!([tech.id, me]))
            .await
            .problem(409, "cannot_act_on_self");
    }
    assert_eq!(status(&d, &tech.id).await, "active");
    assert_eq!(status(&d, &me).await, "active");

    // Two admins taking each other off at once: one of them stays.
    let second = d.create("Second", "second", "admin").await;
    let theirs = t.access_token(&second).await;
    let (mine_path, their_path) = (
        format!("{USERS}/{}/deactivate", second.id),
        format!("{USERS}/{me}/deactivate"),
    );
    let (a, b) = futures_util::join!(
        t.call(Method::POST, &mine_path, Some(&d.token), None),
        t.call(Method::POST, &their_path, Some(&theirs), None),
    );
    let won = [&a, &b].iter().filter(|x| x.status == 200).count();
    assert_eq!(won, 1, "{} / {}", a.text, b.text);
    let lost = if a.status == 200 { &b } else { &a };
    // The loser meets the rule, unless its own session had already ended
    // when its request was authorised.
    if lost.status == 401 {
        lost.problem(401, "invalid_token");
    } else {
        lost.problem(409, "last_admin");
    }
}

#[actix_web::test]
async fn bulk_actions_are_all_or_nothing_and_audited_per_user() {
    let t = TestApp::spawn().await;
    let d = Desk::open(&t, "Bulk").await;
    let other = Desk::open(&t, "Elsewhere").await;
    let a1 = d.create("A1", "a1", "technician").await;
    let a2 = d.create("A2", "a2", "read_only").await;
    let foreign = other.create("F", "f", "technician").await;

    for action in ["deactivate", "reactivate", "delete"] {
        for stranger in [foreign.id.as_str(), NOBODY] {
            many(&d, action, json!([a1.id, stranger]))
                .await
                .problem(404, "not_found");
        }
        invalid(&many(&d, action, json!([])).await, "user_ids");
    }
    for id in [&a1.id, &a2.id] {
        assert_eq!(status(&d, id).await, "active");
    }
    assert_eq!(status(&other, &foreign.id).await, "active");

    let a = many(&d, "deactivate", json!([a2.id, a1.id, a2.id])).await;
    let results = a.ok()["results"].as_array().unwrap();
    let ids: Vec<&str> = results
        .iter()
        .map(|r| r["user_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [a2.id.as_str(), a1.id.as_str()]);
    let events = d.get("/v1/admin/audit-events?kind=user.deactivated").await;
    let items = events.ok()["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    for (event, person) in items.iter().zip([&a1, &a2]) {
        assert_eq!(event["subject_user_id"], person.id.as_str());
        let detail = json!({ "email": person.email, "sessions_revoked": 0 });
        assert_eq!(event["detail"], detail);
    }

    many(&d, "reactivate", json!([a1.id, a2.id])).await.ok();
    let removed = many(&d, "delete", json!([a1.id, a2.id])).await;
    let expected = json!({ "results": [
        { "user_id": a1.id, "email": a1.email, "sessions_revoked": 0 },
        { "user_id": a2.id, "email": a2.email, "sessions_revoked": 0 },
    ]});
    assert_eq!(*removed.ok(), expected);
    let left = d.list("").await;
    assert_eq!(left.ok()["items"].as_array().unwrap().len(), 1);
    let kinds = d.get("/v1/admin/audit-events?kind=user.deleted").await;
    assert_eq!(kinds.ok()["items"].as_array().unwrap().len(), 2);
}

#[actix_web::test]
async fn every_route_hides_other_accounts_and_needs_the_admin_role() {
    let t = TestApp::spawn().await;
    let d = Desk::open(&t, "Mine").await;
    let other = Desk::open(&t, "Theirs").await;
    let foreign = other.create("Foreign", "foreign", "technician").await;
    let tech = t.user(&d.admin.account_id, Role::Technician).await;
    let ro = t.user(&d.admin.account_id, Role::ReadOnly).await;
    let target = d.create("Target", "target", "technician").await;

    let routes = |id: &str| {
        let ids = json!({ "user_ids": [id] });
        vec![
            (Method::POST, format!("{USERS}/{id}/deactivate"), None),
            (Method::POST, format!("{USERS}/{id}/reactivate"), None),
            (Method::DELETE, format!("{USERS}/{id}"), None),
            (
                Method::POST,
                format!("{USERS}/deactivate"),
                Some(ids.clone()),
            ),
            (
                Method::POST,
                format!("{USERS}/reactivate"),
                Some(ids.clone()),
            ),
            (Method::POST, format!("{USERS}/delete"), Some(ids)),
        ]
    };
    for (method, path, body) in routes(&foreign.id) {
        let a = d.call(method.clone(), &path, body).await;
        a.problem(404, "not_found");
        assert!(!a.text.contains(&foreign.email), "{method} {path}");
    }
    for person in [&tech, &ro] {
        let token = t.access_token(person).await;
        for (method, path, body) in routes(&target.id) {
            let a = t.call(method, &path, Some(&token), body).await;
            a.problem(403, "forbidden");
        }
    }
    for (method, path, body) in routes(&target.id) {
        t.call(method, &path, None, body)
            .await
            .problem(401, "unauthorized");
    }
    assert_eq!(status(&other, &foreign.id).await, "active");
    assert_eq!(status(&d, &target.id).await, "active");
}

#[actix_web::test]
async fn the_bulk_paths_are_not_taken_for_a_user_id() {
    let t = TestApp::spawn().await;
    let d = Desk::open(&t, "Routing").await;
    let tech = d.create("Tech", "tech", "technician").await;
    let ids = json!([tech.id]);
    // Each static path answers its own operation, not `{id}`'s 404 or 405.
    let a = many(&d, "deactivate", ids.clone()).await;
    assert_eq!(a.ok()["results"][0]["status"], "deactivated");
    let a = many(&d, "reactivate", ids.clone()).await;
    assert_eq!(a.ok()["results"][0]["status"], "active");
    let a = many(&d, "delete", ids).await;
    assert_eq!(a.ok()["results"][0]["user_id"], tech.id.as_str());
    // Any other method on a static path is that path's 405 (the contract
    // lists it with POST only), never `{id}`'s answer for a user so named.
    for word in ["deactivate", "reactivate", "delete"] {
        let path = format!("{USERS}/{word}");
        for method in [Method::GET, Method::PATCH, Method::DELETE, Method::PUT] {
            let body = (method == Method::PATCH).then(|| json!({ "name": "X" }));
            let a = d.call(method.clone(), &path, body).await;
            a.problem(405, "method_not_allowed");
            assert_eq!(a.header("allow"), "POST", "{method} {path}");
        }
    }
    // A real id still reaches the user.
    assert_eq!(d.user(&d.admin.id).await["id"], d.admin.id.as_str());
}

#[actix_web::test]
async fn a_deleted_owners_address_goes_to_the_next_user_created_with_it() {
    let t = TestApp::spawn().await;
    let first = Desk::open(&t, "First").await;
    let second = Desk::open(&t, "Second").await;
    let owner = first.create("Owner", "owner", "technician").await;
    // Another account adds the same address while it signs in as `owner`:
    // a user like any other, who never signs in.
    let body = json!({ "email": owner.email, "name": "Shadow", "role": "technician" });
    let shadow = second.post(USERS, body.clone()).await;
    assert_eq!(shadow.status, 201, "{}", shadow.text);
    let person = |a: &Answer| Person {
        id: a.json["id"].as_str().unwrap().to_owned(),
        account_id: second.admin.account_id.clone(),
        email: owner.email.clone(),
        password: a.json["initial_password"].as_str().unwrap().to_owned(),
    };
    let shadow = person(&shadow);

    assert_eq!(delete(&first, &owner.id).await.status, 204);
    // The user added meanwhile is not promoted: whoever added an address
    // first must not inherit its sign-in when its owner leaves.
    try_password(&t, &shadow, &shadow.password)
        .await
        .problem(401, "invalid_credentials");
    // The next user created with it owns it.
    assert_eq!(delete(&second, &shadow.id).await.status, 204);
    let again = second.post(USERS, body).await;
    assert_eq!(again.status, 201, "{}", again.text);
    assert_eq!(t.login(&person(&again)).await["status"], "authenticated");
}

/// A passwordless login with `auth`'s credential `credential_id`, naming
/// `user_id` as the user handle (the software authenticator leaves it out).
async fn passkey_login(
    t: &TestApp,
    auth: &mut Key,
    credential_id: &Value,
    user_id: &str,
) -> Answer {
    use base64::Engine as _;
    let a = t.post("/v1/auth/passkey/options", json!({})).await;
    let flow = a.ok()["flow_token"].clone();
    let mut options = a.json["options"].clone();
    // The software authenticator only signs for a credential it is named.
    options["publicKey"]["allowCredentials"] =
        json!([{ "type": "public-key", "id": credential_id }]);
    let rcr = serde_json::from_value(options).unwrap();
    let mut credential =
        serde_json::to_value(auth.do_authentication(origin(), rcr).unwrap()).unwrap();
    let handle = uuid::Uuid::parse_str(user_id).unwrap();
    credential["response"]["userHandle"] =
        json!(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(handle.as_bytes()));
    let body = json!({ "flow_token": flow, "credential": credential });
    t.post("/v1/auth/passkey", body).await
}

#[actix_web::test]
async fn a_deactivated_users_passkey_fails_like_an_unknown_one() {
    let t = TestApp::spawn().await;
    let d = Desk::open(&t, "Passkeys").await;
    let tech = d.create("Keyholder", "key", "technician").await;
    let enrolled = t.enroll(&tech).await;
    let token = access(&enrolled.tokens);
    let mut auth = key();
    let registered = registration_response(&t, &token, &mut auth).await;
    let a = submit_registration(&t, &token, &registered, "Laptop").await;
    assert_eq!(a.status, 201, "{}", a.text);

    let signed_in = passkey_login(&t, &mut auth, &registered["id"], &tech.id).await;
    assert_eq!(signed_in.ok()["status"], "authenticated");
    one(&d, &tech.id, "deactivate").await.ok();
    passkey_login(&t, &mut auth, &registered["id"], &tech.id)
        .await
        .problem(401, "webauthn_failed");
}
