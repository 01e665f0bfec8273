//! A tenant's admin probing other tenants through `POST /v1/admin/users`:
//! an email signs in as one user across all accounts, but whether an
//! address is used in another account must not show in the answer.

use reqwest::Method;
use serde_json::{json, Value};
use twofold::users::Role;

use crate::common::{unique_email, Answer, Person, TestApp};

const USERS: &str = "/v1/admin/users";

async fn create(t: &TestApp, token: &str, email: &str) -> Answer {
    let body = json!({ "email": email, "name": "Probe", "role": "technician" });
    t.call(Method::POST, USERS, Some(token), Some(body)).await
}

/// The answer with what differs between any two creations blanked out.
fn shape(a: &Answer) -> Value {
    assert_eq!(a.status, 201, "{}", a.text);
    let mut v = a.json.clone();
    for field in ["id", "email"] {
        v[field] = json!("");
    }
    let password = v["initial_password"].as_str().unwrap_or_default().len();
    v["initial_password"] = json!(password);
    v
}

/// The person an admin's creation answer hands out.
fn handed_out(a: &Answer, account_id: &str) -> Person {
    Person {
        id: a.json["id"].as_str().unwrap().to_owned(),
        account_id: account_id.to_owned(),
        email: a.json["email"].as_str().unwrap().to_owned(),
        password: a.json["initial_password"].as_str().unwrap().to_owned(),
    }
}

/// The `user.created` events of the caller's account, newest first, with
/// their subjects' ids and emails blanked out.
async fn created_events(t: &TestApp, token: &str) -> Vec<Value> {
    let a = t
        .get("/v1/admin/audit-events?kind=user.created", Some(token))
        .await;
    let mut events = a.ok()["items"].as_array().unwrap().clone();
    for e in &mut events {
        for field in ["id", "subject_user_id", "created_at"] {
            e[field] = json!("");
        }
        e["detail"]["email"] = json!("");
    }
    events
}

async fn password_step(t: &TestApp, person: &Person) -> Answer {
    let flow = t.start_login(&person.email).await;
    let body = json!({ "flow_token": flow, "password": person.password });
    t.post("/v1/auth/login/password", body).await
}

#[actix_web::test]
async fn another_accounts_address_gets_the_same_answer_as_a_free_one() {
    let t = TestApp::spawn().await;
    let owner_account = t.account("Owner").await;
    let bob = t.user(&owner_account.account_id, Role::Technician).await;
    let prober = t.account("Prober").await;
    let token = t.access_token(&prober).await;

    let free = create(&t, &token, &unique_email("free")).await;
    let probe = create(&t, &token, &bob.email.to_uppercase()).await;
    assert_eq!(shape(&probe), shape(&free));
    assert_eq!(
        probe.headers.get("location").is_some(),
        free.headers.get("location").is_some()
    );
    // The audit trail the prober reads tells the two apart no better.
    let events = created_events(&t, &token).await;
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[0], events[1]);
    // Both are users of the prober's account, listed and counted alike.
    let held = handed_out(&probe, &prober.account_id);
    let got = t.get(&format!("{USERS}/{}", held.id), Some(&token)).await;
    assert_eq!(got.ok()["email"], bob.email.to_uppercase());

    // The address still signs in as its owner, never as the prober's user.
    let tokens = t.login(&bob).await;
    let me = t.get("/v1/me", tokens["access_token"].as_str()).await;
    assert_eq!(me.ok()["id"], bob.id.as_str());
    password_step(&t, &held)
        .await
        .problem(401, "invalid_credentials");
    // The free address signs in as the prober's new user.
    let new = handed_out(&free, &prober.account_id);
    assert_eq!(t.login(&new).await["status"], "authenticated");

    // Within the prober's own account an address is taken, whoever owns it.
    for again in [&bob.email, &new.email] {
        create(&t, &token, again).await.problem(409, "email_taken");
    }
    // The owner's account is untouched: its admin sees only its own users,
    // and the probe's sign-in as a wrong password for the owner.
    let owner_token = t.access_token(&owner_account).await;
    let failed = t
        .get(
            &format!(
                "/v1/admin/audit-events?kind=login.failed&user_id={}",
                bob.id
            ),
            Some(&owner_token),
        )
        .await;
    let failed = failed.ok()["items"].as_array().unwrap().clone();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0]["detail"]["factor"], "password");
    let list = t.get(USERS, Some(&owner_token)).await;
    assert_eq!(list.ok()["items"].as_array().unwrap().len(), 2);
    t.get(&format!("{USERS}/{}", held.id), Some(&owner_token))
        .await
        .problem(404, "not_found");
}

#[actix_web::test]
async fn accounts_racing_for_one_address_leave_exactly_one_user_who_signs_in() {
    let t = TestApp::spawn().await;
    let mut admins = Vec::new();
    for i in 0..6 {
        let admin = t.account(&format!("Racer {i}")).await;
        let token = t.access_token(&admin).await;
        admins.push((admin.account_id, token));
    }
    let email = unique_email("contested");
    let answers =
        futures_util::future::join_all(admins.iter().map(|(_, token)| create(&t, token, &email)))
            .await;
    let shapes: Vec<Value> = answers.iter().map(shape).collect();
    assert!(shapes.windows(2).all(|w| w[0] == w[1]), "{shapes:?}");

    let mut signed_in = 0;
    for (a, (account_id, _)) in answers.iter().zip(&admins) {
        let person = handed_out(a, account_id);
        let step = password_step(&t, &person).await;
        match step.status.as_u16() {
            200 => signed_in += 1,
            _ => {
                step.problem(401, "invalid_credentials");
            }
        }
    }
    assert_eq!(signed_in, 1);
}
