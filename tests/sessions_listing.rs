//! Sessions a user and an admin can see and end: `/v1/me/sessions` and
//! `/v1/admin/users/{id}/sessions`, the last-use stamp, the per-user cap,
//! and every way to reach a session that is not yours.

use reqwest::Method;
use serde_json::{json, Value};

use crate::common::{access, Person, TestApp};

/// Signs `person` in with the password, the client calling itself `agent`.
async fn login_from(t: &TestApp, person: &Person, agent: &str) -> Value {
    let post = |path: &str, body: Value| {
        t.client
            .post(t.url(path))
            .header(reqwest::header::USER_AGENT, agent)
            .json(&body)
            .send()
    };
    let start: Value = post("/v1/auth/login", json!({ "email": person.email }))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let done: Value = post(
        "/v1/auth/login/password",
        json!({ "flow_token": start["flow_token"], "password": person.password }),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(done["status"], "authenticated", "{done}");
    done
}

async fn sessions(t: &TestApp, token: &str) -> Vec<Value> {
    let page = t.get("/v1/me/sessions", Some(token)).await;
    page.ok()["items"].as_array().unwrap().clone()
}

fn id(session: &Value) -> String {
    session["id"].as_str().unwrap().to_owned()
}

#[actix_web::test]
async fn a_user_sees_their_sessions_and_ends_one_everywhere_at_once() {
    let t = TestApp::spawn().await;
    let other_instance = t.sibling(&[]).await;
    let admin = t.account("Sessions").await;
    let laptop = login_from(&t, &admin, "Laptop/1.0 (X11)").await;
    t.advance(5);
    let phone = login_from(&t, &admin, "Phone/2.0").await;

    let listed = sessions(&t, &access(&phone)).await;
    assert_eq!(listed.len(), 2, "{listed:?}");
    let (newest, oldest) = (&listed[0], &listed[1]);
    assert_eq!(newest["user_agent"], "Phone/2.0");
    assert_eq!(newest["current"], true);
    assert_eq!(oldest["user_agent"], "Laptop/1.0 (X11)");
    assert_eq!(oldest["current"], false);
    assert_eq!(oldest["client_address"], "127.0.0.1");
    assert_eq!(oldest["amr"], json!(["pwd"]));
    assert_eq!(oldest["aal"], 1);
    assert_eq!(oldest["created_at"], "2026-11-28T09:00:00Z");
    assert_eq!(oldest["last_used_at"], "2026-11-28T09:00:00Z");

    // Last use: written at most once a minute.
    t.advance(30);
    t.get("/v1/me", Some(&access(&laptop))).await.ok();
    assert_eq!(
        sessions(&t, &access(&phone)).await[1]["last_used_at"],
        "2026-11-28T09:00:00Z"
    );
    t.advance(31);
    t.get("/v1/me", Some(&access(&laptop))).await.ok();
    assert_eq!(
        sessions(&t, &access(&phone)).await[1]["last_used_at"],
        "2026-11-28T09:01:06Z"
    );

    // Ended from the phone: the laptop's tokens die on every instance.
    let path = format!("/v1/me/sessions/{}", id(oldest));
    let ended = t
        .call(Method::DELETE, &path, Some(&access(&phone)), None)
        .await;
    assert_eq!(ended.status, 204, "{}", ended.text);
    for instance in [&t, &other_instance] {
        instance
            .get("/v1/me", Some(&access(&laptop)))
            .await
            .problem(401, "invalid_token");
    }
    t.post(
        "/v1/auth/token/refresh",
        json!({ "refresh_token": laptop["refresh_token"] }),
    )
    .await
    .problem(401, "invalid_token");
    t.call(Method::DELETE, &path, Some(&access(&phone)), None)
        .await
        .problem(404, "not_found");
    assert_eq!(sessions(&t, &access(&phone)).await.len(), 1);

    // Audited, naming the session.
    let events = t
        .get(
            "/v1/admin/audit-events?kind=session.revoked",
            Some(&access(&phone)),
        )
        .await;
    let items = events.ok()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["detail"]["session_id"], id(oldest).as_str());
}

#[actix_web::test]
async fn sign_out_everywhere_else_keeps_only_the_calling_session() {
    let t = TestApp::spawn().await;
    let admin = t.account("Everywhere").await;
    let first = t.login(&admin).await;
    let second = t.login(&admin).await;
    let third = t.login(&admin).await;
    let revoked = t
        .call(
            Method::POST,
            "/v1/me/sessions/revoke-others",
            Some(&access(&third)),
            None,
        )
        .await;
    assert_eq!(revoked.ok()["sessions_revoked"], 2);
    for gone in [&first, &second] {
        t.get("/v1/me", Some(&access(gone)))
            .await
            .problem(401, "invalid_token");
    }
    t.get("/v1/me", Some(&access(&third))).await.ok();
    let again = t
        .call(
            Method::POST,
            "/v1/me/sessions/revoke-others",
            Some(&access(&third)),
            None,
        )
        .await;
    assert_eq!(again.ok()["sessions_revoked"], 0);
}

#[actix_web::test]
async fn a_session_of_someone_else_cannot_be_seen_or_ended() {
    let t = TestApp::spawn().await;
    let admin = t.account("Mine").await;
    let colleague = t
        .user(&admin.account_id, twofold::users::Role::Technician)
        .await;
    let theirs = t.login(&colleague).await;
    let their_session = id(&sessions(&t, &access(&theirs)).await[0]);
    let mine = access(&t.login(&admin).await);

    // Another user's session id is not found, even for their admin.
    let path = format!("/v1/me/sessions/{their_session}");
    t.call(Method::DELETE, &path, Some(&mine), None)
        .await
        .problem(404, "not_found");
    t.call(
        Method::DELETE,
        "/v1/me/sessions/not-an-id",
        Some(&mine),
        None,
    )
    .await
    .problem(404, "not_found");
    t.get("/v1/me", Some(&access(&theirs))).await.ok();

    // Another account's admin gets 404 for both admin routes.
    let stranger = t.account("Elsewhere").await;
    let stranger = access(&t.login(&stranger).await);
    let list = format!("/v1/admin/users/{}/sessions", colleague.id);
    let revoke = format!("/v1/admin/users/{}/sessions/revoke", colleague.id);
    t.get(&list, Some(&stranger))
        .await
        .problem(404, "not_found");
    t.call(Method::POST, &revoke, Some(&stranger), None)
        .await
        .problem(404, "not_found");
    // A technician is not an admin.
    let admin_list = format!("/v1/admin/users/{}/sessions", admin.id);
    t.get(&admin_list, Some(&access(&theirs)))
        .await
        .problem(403, "forbidden");
    t.get("/v1/me", Some(&access(&theirs))).await.ok();

    // Without a token.
    t.get("/v1/me/sessions", None)
        .await
        .problem(401, "unauthorized");
}

#[actix_web::test]
async fn an_admin_lists_and_ends_the_sessions_of_a_user_of_the_account() {
    let t = TestApp::spawn().await;
    let admin = t.account("Admin view").await;
    let tech = t
        .user(&admin.account_id, twofold::users::Role::Technician)
        .await;
    let one = login_from(&t, &tech, "Desk/1").await;
    let two = login_from(&t, &tech, "Desk/2").await;
    let token = access(&t.login(&admin).await);

    let list = format!("/v1/admin/users/{}/sessions", tech.id);
    let listed = t.get(&list, Some(&token)).await;
    let items = listed.ok()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 2);
    assert!(items.iter().all(|s| s["current"] == false));

    let revoke = format!("/v1/admin/users/{}/sessions/revoke", tech.id);
    let revoked = t.call(Method::POST, &revoke, Some(&token), None).await;
    assert_eq!(revoked.ok()["sessions_revoked"], 2);
    for gone in [&one, &two] {
        t.get("/v1/me", Some(&access(gone)))
            .await
            .problem(401, "invalid_token");
    }
    let empty = t.get(&list, Some(&token)).await;
    assert_eq!(empty.ok()["items"], json!([]));

    let events = t
        .get(
            "/v1/admin/audit-events?kind=session.revoked_all",
            Some(&token),
        )
        .await;
    let items = events.ok()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(
        items[0]["detail"],
        json!({ "sessions_revoked": 2, "kept_current": false })
    );
    assert_eq!(
        items[0]["subject_user_id"],
        tech.id.as_str(),
        "{}",
        items[0]
    );
}

#[actix_web::test]
async fn sessions_page_by_cursor_and_a_user_holds_at_most_fifty() {
    let t = TestApp::spawn().await;
    let admin = t.account("Many").await;
    let first = t.login(&admin).await;
    let mut last = first.clone();
    for _ in 0..51 {
        t.advance(1);
        last = t.login(&admin).await;
    }
    // 52 logins: the oldest two ended to keep 50.
    t.get("/v1/me", Some(&access(&first)))
        .await
        .problem(401, "invalid_token");
    let token = access(&last);
    let page = t.get("/v1/me/sessions?limit=30", Some(&token)).await;
    let page = page.ok().clone();
    assert_eq!(page["items"].as_array().unwrap().len(), 30);
    let cursor = page["next_cursor"].as_str().unwrap();
    let rest = t
        .get(
            &format!("/v1/me/sessions?limit=30&cursor={cursor}"),
            Some(&token),
        )
        .await;
    let rest = rest.ok().clone();
    assert_eq!(rest["items"].as_array().unwrap().len(), 20);
    assert_eq!(rest["next_cursor"], Value::Null);
    let mut ids: Vec<String> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .chain(rest["items"].as_array().unwrap())
        .map(id)
        .collect();
    ids.dedup();
    assert_eq!(ids.len(), 50, "no session twice across pages");

    t.get("/v1/me/sessions?cursor=nonsense", Some(&token))
        .await
        .problem(400, "validation_failed");
    t.get("/v1/me/sessions?limit=0", Some(&token))
        .await
        .problem(400, "validation_failed");
    t.get("/v1/me/sessions?extra=1", Some(&token))
        .await
        .problem(400, "validation_failed");
}

#[actix_web::test]
async fn a_user_agent_is_cleaned_and_cut_before_it_is_shown() {
    let t = TestApp::spawn().await;
    let admin = t.account("Agents").await;
    let long = format!("Mozilla/5.0 {}", "x".repeat(400));
    let done = login_from(&t, &admin, &long).await;
    let listed = sessions(&t, &access(&done)).await;
    let shown = listed[0]["user_agent"].as_str().unwrap();
    assert_eq!(shown.chars().count(), 200);
    assert!(long.starts_with(shown));
}

#[actix_web::test]
async fn an_empty_cursor_is_the_first_page_and_revoke_others_is_not_an_id() {
    let t = TestApp::spawn().await;
    let admin = t.account("Edges").await;
    let token = access(&t.login(&admin).await);
    let first = t.get("/v1/me/sessions?cursor=", Some(&token)).await;
    assert_eq!(first.ok()["items"].as_array().unwrap().len(), 1);
    let gone = t
        .call(
            Method::DELETE,
            "/v1/me/sessions/revoke-others",
            Some(&token),
            None,
        )
        .await;
    gone.problem(405, "method_not_allowed");
    assert_eq!(gone.header("allow"), "POST");
    // Audit filters name a user by id: anything else is refused, not an
    // empty page.
    for bad in ["", "not-a-uuid"] {
        t.get(
            &format!("/v1/admin/audit-events?user_id={bad}"),
            Some(&token),
        )
        .await
        .problem(400, "validation_failed");
    }
    t.get(
        &format!("/v1/admin/audit-events?user_id={}", admin.id),
        Some(&token),
    )
    .await
    .ok();
}
