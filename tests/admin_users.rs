//! The admin's user management through HTTP: the filtered, keyset-paged
//! list, creating and editing users, requiring and resetting 2FA one by one
//! or in bulk, who may do any of it, and the account's security settings.

use std::collections::HashMap;

use reqwest::Method;
use serde_json::{json, Value};
use twofold::clock::Clock as _;
use twofold::users::Role;

use crate::common::{access, Answer, Person, TestApp};

mod access;
mod lifecycle;

const USERS: &str = "/v1/admin/users";
const SECURITY: &str = "/v1/admin/security";
const NOBODY: &str = "00000000-0000-0000-0000-000000000000";

/// Query parameters as name/value pairs.
type Pairs<'a> = &'a [(&'a str, &'a str)];
type Pair = (&'static str, &'static str);

const TECH: Pair = ("role", "technician");
const RO: Pair = ("role", "read_only");
const ADMIN: Pair = ("role", "admin");
const ENABLED: Pair = ("twofa_status", "enabled");
const PENDING: Pair = ("twofa_status", "pending");
const DISABLED: Pair = ("twofa_status", "disabled");

/// A unique email whose local part is `tag` and hex digits.
fn mail(tag: &str) -> String {
    format!("{tag}-{}@example.test", uuid::Uuid::new_v4().simple())
}

/// The name `t.account` gives its admin: the local part of the email.
fn default_name(p: &Person) -> String {
    p.email.split('@').next().unwrap().to_owned()
}

/// The space-separated `keys` of `v`, as an object: compares several
/// fields at once.
fn pick(v: &Value, keys: &str) -> Value {
    let pairs = keys
        .split_whitespace()
        .map(|k| (k.to_owned(), v[k].clone()));
    pairs.collect()
}

/// Asserts a 400 `validation_failed` naming `field`.
#[track_caller]
fn invalid(a: &Answer, field: &str) {
    a.problem(400, "validation_failed");
    assert_eq!(a.json["errors"][0]["field"], field, "{}", a.text);
}

/// One bulk/single 2FA result without `sessions_revoked`.
fn pending(id: &str, changed: bool) -> Value {
    json!({ "user_id": id, "changed": changed, "twofa_status": "pending" })
}

/// One reset result.
fn reset_done(id: &str, sessions_revoked: i64) -> Value {
    let mut result = pending(id, true);
    result["sessions_revoked"] = json!(sessions_revoked);
    result
}

/// Sets what is given of the account's `paying_since` and `licenses`, as
/// the billing system would.
async fn billing(t: &TestApp, account_id: &str, since: Option<i64>, licenses: Option<i32>) {
    use twofold::accounts::repo::set_billing;
    let id = account_id.to_owned();
    let set = move |conn: &mut _| set_billing(conn, &id.as_str().into(), since.map(Some), licenses);
    t.state.db.run(set).await.unwrap();
}

/// An admin at work: their token and shorthands for the admin endpoints.
struct Desk<'a> {
    t: &'a TestApp,
    admin: Person,
    token: String,
}

impl<'a> Desk<'a> {
    /// A new account whose admin signed in with the password (aal 1).
    async fn open(t: &'a TestApp, account: &str) -> Desk<'a> {
        let admin = t.account(account).await;
        let token = t.access_token(&admin).await;
        Desk { t, admin, token }
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Answer {
        self.t.call(method, path, Some(&self.token), body).await
    }

    async fn get(&self, path: &str) -> Answer {
        self.call(Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> Answer {
        self.call(Method::POST, path, Some(body)).await
    }

    async fn patch(&self, id: &str, body: Value) -> Answer {
        let path = format!("{USERS}/{id}");
        self.call(Method::PATCH, &path, Some(body)).await
    }

    /// `POST /v1/admin/users/{id}/2fa/{action}`.
    async fn one(&self, id: &str, action: &str) -> Answer {
        let path = format!("{USERS}/{id}/2fa/{action}");
        self.call(Method::POST, &path, None).await
    }

    /// `POST /v1/admin/users/2fa/{action}` with these ids.
    async fn bulk(&self, action: &str, ids: Value) -> Answer {
        let path = format!("{USERS}/2fa/{action}");
        self.post(&path, json!({ "user_ids": ids })).await
    }

    async fn user(&self, id: &str) -> Value {
        self.get(&format!("{USERS}/{id}")).await.ok().clone()
    }

    async fn list(&self, query: &str) -> Answer {
        self.get(&format!("{USERS}?{query}")).await
    }

    /// The names of the (single-page) list for `pairs`, in order.
    async fn names(&self, pairs: Pairs<'_>) -> Vec<String> {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        let a = self.list(&query).await;
        assert_eq!(a.ok()["next_cursor"], Value::Null, "{}", a.text);
        let items = a.json["items"].as_array().unwrap();
        items
            .iter()
            .map(|u| u["name"].as_str().unwrap().to_owned())
            .collect()
    }

    /// Creates a user through the API; returns them with their password.
    async fn create(&self, name: &str, tag: &str, role: &str) -> Person {
        let email = mail(tag);
        let body = json!({ "email": email, "name": name, "role": role });
        let a = self.post(USERS, body).await;
        assert_eq!(a.status.as_u16(), 201, "{}", a.text);
        Person {
            id: a.json["id"].as_str().unwrap().to_owned(),
            account_id: self.admin.account_id.clone(),
            email,
            password: a.json["initial_password"].as_str().unwrap().to_owned(),
        }
    }
}

#[actix_web::test]
async fn the_list_filters_by_name_or_email_role_and_status_alone_and_combined() {
    let t = TestApp::spawn().await;
    let d = Desk::open(&t, "Filters").await;
    let population = [
        ("Ada Lovelace", "ada", "technician"),
        ("Grace Hopper", "grace", "read_only"),
        ("50% Club", "pct", "technician"),
        ("5000 Club", "kilo", "technician"),
        ("a_b Team", "under", "read_only"),
        ("axb Team", "ex", "read_only"),
        ("Zed", "zebra", "technician"),
        ("Zebra Crossing", "zc", "admin"),
        ("Back\\slash", "bs", "technician"),
    ];
    let mut people = HashMap::new();
    for (name, tag, role) in population {
        people.insert(name, d.create(name, tag, role).await);
    }
    let (ada, grace) = (&people["Ada Lovelace"], &people["Grace Hopper"]);
    t.enroll(ada).await;
    d.one(&grace.id, "enable").await.ok();
    let boss = default_name(&d.admin);

    // Everyone, by lower-cased name.
    let mut all: Vec<&str> = population.iter().map(|p| p.0).collect();
    all.push(&boss);
    all.sort_by_key(|n| n.to_lowercase());
    assert_eq!(d.names(&[]).await, all);
    assert_eq!(d.names(&[("name", "   ")]).await, all);

    // Name or email, any case; `%`, `_` and `\` are literal.
    let by_email = d.admin.email.to_uppercase();
    let cases: &[(&str, &[&str])] = &[
        ("LoveLACE", &["Ada Lovelace"]),
        ("ZEBRA", &["Zebra Crossing", "Zed"]),
        ("club", &["50% Club", "5000 Club"]),
        ("50%", &["50% Club"]),
        ("%", &["50% Club"]),
        ("a_b", &["a_b Team"]),
        ("_", &["a_b Team"]),
        ("\\", &["Back\\slash"]),
        ("nobody-at-all", &[]),
        (&by_email, &[&boss]),
    ];
    for (term, expected) in cases {
        assert_eq!(d.names(&[("name", term)]).await, *expected, "name={term}");
    }

    // Role and status alone, then combined.
    let mut disabled = all.clone();
    disabled.retain(|n| !["Ada Lovelace", "Grace Hopper"].contains(n));
    let filters: &[(Pairs, &[&str])] = &[
        (&[RO], &["a_b Team", "axb Team", "Grace Hopper"]),
        (&[ADMIN], &[&boss, "Zebra Crossing"]),
        (&[ENABLED], &["Ada Lovelace"]),
        (&[PENDING], &["Grace Hopper"]),
        (&[DISABLED], &disabled),
        (&[TECH, ENABLED], &["Ada Lovelace"]),
        (&[RO, PENDING], &["Grace Hopper"]),
        (&[TECH, PENDING], &[]),
        (&[RO, DISABLED], &["a_b Team", "axb Team"]),
        (&[("name", "team"), RO], &["a_b Team", "axb Team"]),
        (&[("name", "zebra"), ADMIN], &["Zebra Crossing"]),
        (&[("name", "club"), RO], &[]),
        (&[("name", "LOVE"), TECH, ENABLED], &["Ada Lovelace"]),
        (&[("name", "love"), DISABLED], &[]),
    ];
    for (pairs, expected) in filters {
        assert_eq!(d.names(pairs).await, *expected, "{pairs:?}");
    }

    // The rows say what they are.
    let rows = d.list("name=lovelace").await.ok()["items"].clone();
    let keys = "id email role twofa_status twofa_required required_by methods";
    let expected = json!({
        "id": ada.id, "email": ada.email, "role": "technician", "twofa_status": "enabled",
        "twofa_required": true, "required_by": ["admin"], "methods": ["totp", "recovery_code"],
    });
    assert_eq!(pick(&rows[0], keys), expected);
    assert!(rows[0]["last_login_at"].is_string());
    let keys = "twofa_status required_by methods";
    let expected = json!({ "twofa_status": "pending", "required_by": ["admin"], "methods": [] });
    assert_eq!(pick(&d.user(&grace.id).await, keys), expected);
}

#[actix_web::test]
async fn paging_visits_every_row_once_while_rows_are_added_and_bad_parameters_are_refused() {
    let t = TestApp::spawn().await;
    let d = Desk::open(&t, "Pages").await;
    billing(&t, &d.admin.account_id, None, Some(100)).await;
    let mut initial = vec![d.admin.id.clone()];
    for i in 0..12 {
        // Pairs that tie on the lower-cased name: the id settles their order.
        let name = [format!("Kilo{}", i / 2), format!("KILO{}", i / 2)][i % 2].clone();
        initial.push(d.create(&name, "page", "technician").await.id);
    }

    let (mut seen, mut lowered) = (Vec::<String>::new(), Vec::<String>::new());
    let (mut before, mut after) = (Vec::new(), Vec::new());
    let mut cursor = String::new();
    for round in 0.. {
        assert!(round < 40, "paging does not end");
        let a = d.list(&format!("limit=3{cursor}")).await;
        let page = a.ok().clone();
        let rows = page["items"].as_array().unwrap();
        assert!(!rows.is_empty() && rows.len() <= 3, "{}", a.text);
        for r in rows {
            seen.push(r["id"].as_str().unwrap().to_owned());
            lowered.push(r["name"].as_str().unwrap().to_lowercase());
        }
        let Some(next) = page["next_cursor"].as_str() else {
            break;
        };
        assert_eq!(rows.len(), 3, "only the last page is short");
        cursor = format!("&cursor={next}");
        // New rows before the cursor, after it, and tied with it.
        let name = format!("Aaa{round:02}");
        before.push(d.create(&name, "before", "read_only").await.id);
        let name = format!("Zzz{round:02}");
        after.push(d.create(&name, "after", "read_only").await.id);
        let last = rows[rows.len() - 1]["name"].as_str().unwrap();
        d.create(last, "tie", "read_only").await;
    }
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for id in &seen {
        *counts.entry(id.as_str()).or_default() += 1;
    }
    assert!(counts.values().all(|&n| n == 1), "duplicates: {counts:?}");
    for id in &initial {
        assert_eq!(counts.get(id.as_str()), Some(&1), "{id} missed");
    }
    assert!(after.iter().all(|id| counts.contains_key(id.as_str())));
    assert!(!before.iter().any(|id| counts.contains_key(id.as_str())));
    assert!(lowered.windows(2).all(|w| w[0] <= w[1]), "{lowered:?}");

    // Page sizes: 1 to 200.
    let one = d.list("limit=1").await;
    assert_eq!(one.ok()["items"].as_array().unwrap().len(), 1);
    assert!(one.json["next_cursor"].is_string());
    assert_eq!(d.list("limit=200").await.ok()["next_cursor"], Value::Null);
    for bad in ["0", "201", "-1"] {
        invalid(&d.list(&format!("limit={bad}")).await, "limit");
    }
    // Not a number: the query as a whole does not parse.
    invalid(&d.list("limit=abc").await, "query");

    // Cursors no page handed out: not base64, not JSON ("not json"), or
    // JSON of the wrong shape (["only"]).
    for bad in ["!!garbage!!", "bm90IGpzb24", "WyJvbmx5Il0"] {
        invalid(&d.list(&format!("cursor={bad}")).await, "cursor");
    }
    // Unknown enum values or parameters.
    for bad in ["role=boss", "twofa_status=on", "role=Admin", "sort=name"] {
        invalid(&d.list(bad).await, "query");
    }
    invalid(&d.list(&format!("name={}", "x".repeat(201))).await, "name");
}

#[actix_web::test]
async fn creating_users_hands_out_a_working_password_and_respects_emails_and_licences() {
    let t = TestApp::spawn().await;
    let d = Desk::open(&t, "Create").await;
    let email = format!("New.Person-{}@Example.TEST", uuid::Uuid::new_v4().simple());
    let body = json!({ "email": email, "name": "  Nova Person ", "role": "technician" });
    let a = d.post(USERS, body).await;
    assert_eq!(a.status.as_u16(), 201, "{}", a.text);
    assert_eq!(a.header("cache-control"), "no-store");
    let mut created = a.json.clone();
    let id = created["id"].as_str().unwrap().to_owned();
    let password = created["initial_password"].as_str().unwrap().to_owned();
    assert_eq!(password.chars().count(), 24);
    created["initial_password"] = json!("(24 characters)");
    let mut expected = json!({
        "id": id, "email": email, "name": "Nova Person", "role": "technician",
        "status": "active", "deactivated_at": null, "twofa_status": "disabled", "twofa_required": false, "required_by": [], "methods": [],
        "last_login_at": null, "created_at": "2026-11-28T09:00:00Z",
        "initial_password": "(24 characters)",
    });
    assert_eq!(created, expected);
    expected.as_object_mut().unwrap().remove("initial_password");
    assert_eq!(d.user(&id).await, expected);

    // The password signs the new user in.
    let account_id = d.admin.account_id.clone();
    let person = Person {
        id,
        account_id,
        email,
        password,
    };
    t.advance(60);
    let tokens = t.login(&person).await;
    let me = t.get("/v1/me", Some(&access(&tokens))).await;
    assert_eq!(me.ok()["id"], person.id.as_str());
    let row = d.user(&person.id).await;
    assert_eq!(row["last_login_at"], "2026-11-28T09:01:00Z");

    // The same email in another case is taken in this account (another
    // account's addresses are tested in `tenant_probing`).
    let taken = person.email.to_uppercase();
    let body = json!({ "email": taken, "name": "Dup", "role": "read_only" });
    d.post(USERS, body).await.problem(409, "email_taken");

    // Invalid fields are named.
    let ok = mail("valid");
    let body = |email: &str, name: &str| json!({ "email": email, "name": name, "role": "admin" });
    let bad: [(Value, &str); 7] = [
        (body("not-an-email", "N"), "email"),
        (body("a b@x.test", "N"), "email"),
        (body(&ok, "   "), "name"),
        (body(&ok, &"x".repeat(201)), "name"),
        (json!({ "email": ok, "name": "N", "role": "boss" }), "role"),
        (json!({ "email": ok, "name": "N" }), "role"),
        (json!({ "email": ok, "name": 7, "role": "admin" }), "name"),
    ];
    for (body, field) in bad {
        invalid(&d.post(USERS, body).await, field);
    }
    let extra = json!({ "email": ok, "name": "N", "role": "admin", "password": "x" });
    d.post(USERS, extra).await.problem(400, "validation_failed");

    // Ten licences: the admin, Nova and eight more; the eleventh is refused.
    for i in 0..8 {
        d.create(&format!("Seat {i}"), "seat", "read_only").await;
    }
    let over = json!({ "email": mail("over"), "name": "Over", "role": "read_only" });
    let a = d.post(USERS, over.clone()).await;
    a.problem(409, "license_limit_reached");
    let seats = pick(d.get(SECURITY).await.ok(), "users licenses");
    assert_eq!(seats, json!({ "users": 10, "licenses": 10 }));
    billing(&t, &d.admin.account_id, None, Some(11)).await;
    assert_eq!(d.post(USERS, over).await.status.as_u16(), 201);
}

#[actix_web::test]
async fn patch_changes_name_and_role_but_never_removes_the_last_admin() {
    let t = TestApp::spawn().await;
    let mut d = Desk::open(&t, "Patch").await;
    let tech = d.create("Tim Tech", "tim", "technician").await;
    let id = tech.id.as_str();
    let name_role = |name: &str, role: &str| json!({ "name": name, "role": role });
    let shown = |v: &Value| pick(v, "name role");

    let a = d.patch(id, json!({ "name": "  Timothy " })).await;
    assert_eq!(shown(a.ok()), name_role("Timothy", "technician"));
    assert_eq!(shown(&d.user(id).await), name_role("Timothy", "technician"));
    let a = d.patch(id, json!({ "role": "read_only" })).await;
    assert_eq!(shown(a.ok()), name_role("Timothy", "read_only"));
    assert_eq!(shown(&d.user(id).await), name_role("Timothy", "read_only"));
    assert_eq!(d.names(&[RO]).await, ["Timothy"]);
    let a = d.patch(id, name_role("Tim", "technician")).await;
    assert_eq!(shown(a.ok()), name_role("Tim", "technician"));

    invalid(&d.patch(id, json!({})).await, "body");
    let a = d.patch(id, json!({ "name": null, "role": null })).await;
    invalid(&a, "body");
    invalid(&d.patch(id, json!({ "name": "" })).await, "name");
    invalid(&d.patch(id, json!({ "role": "boss" })).await, "role");
    let a = d.patch(id, json!({ "email": "x@y.test" })).await;
    a.problem(400, "validation_failed");
    assert_eq!(shown(&d.user(id).await), name_role("Tim", "technician"));
    let a = d.patch(NOBODY, json!({ "name": "X" })).await;
    a.problem(404, "not_found");

    // The only admin keeps the role (a rename is fine).
    let me = d.admin.id.clone();
    let demote = json!({ "role": "technician" });
    let a = d.patch(&me, demote.clone()).await;
    a.problem(409, "last_admin");
    assert_eq!(d.user(&me).await["role"], "admin");
    let a = d.patch(&me, json!({ "name": "Boss" })).await;
    assert_eq!(shown(a.ok()), name_role("Boss", "admin"));

    // With a second admin, one may go; the demoted admin loses access.
    d.patch(id, json!({ "role": "admin" })).await.ok();
    let a = d.patch(&me, json!({ "role": "read_only" })).await;
    assert_eq!(a.ok()["role"], "read_only");
    d.get(USERS).await.problem(403, "forbidden");
    d.token = t.access_token(&tech).await;
    d.patch(id, demote).await.problem(409, "last_admin");
    assert_eq!(d.user(id).await["role"], "admin");
}

#[actix_web::test]
async fn enabling_two_factor_is_per_user_or_bulk_and_all_or_nothing() {
    let t = TestApp::spawn().await;
    let d = Desk::open(&t, "Enable").await;
    let mut people = Vec::new();
    for i in 0..5 {
        people.push(d.create(&format!("User {i}"), "en", "technician").await);
    }
    let [u1, u2, u3, u4, u5] = <[Person; 5]>::try_from(people).unwrap();
    let status = |v: &Value| pick(v, "twofa_status twofa_required required_by");

    let a = d.one(&u1.id, "enable").await;
    assert_eq!(*a.ok(), json!({ "results": [pending(&u1.id, true)] }));
    let required = json!({
        "twofa_status": "pending", "twofa_required": true, "required_by": ["admin"],
    });
    assert_eq!(status(&d.user(&u1.id).await), required);

    // Duplicates count once; enabling again changes nothing.
    let a = d.bulk("enable", json!([u2.id, u3.id, u2.id])).await;
    let both = json!([pending(&u2.id, true), pending(&u3.id, true)]);
    assert_eq!(a.ok()["results"], both);
    let a = d.bulk("enable", json!([u1.id, u2.id])).await;
    let both = json!([pending(&u1.id, false), pending(&u2.id, false)]);
    assert_eq!(a.ok()["results"], both);
    let a = d.one(&u3.id, "enable").await;
    assert_eq!(a.ok()["results"], json!([pending(&u3.id, false)]));
    for p in [&u1, &u2, &u3] {
        t.login_to_enrollment(p).await;
    }

    // One unknown id, or one of another account: 404 and nothing changes.
    let other = Desk::open(&t, "Elsewhere").await;
    let stranger = t.user(&other.admin.account_id, Role::Technician).await;
    let a = d.bulk("enable", json!([u4.id, NOBODY])).await;
    a.problem(404, "not_found");
    let a = d.bulk("enable", json!([u4.id, u5.id, stranger.id])).await;
    a.problem(404, "not_found");
    let a = d.one(&stranger.id, "enable").await;
    a.problem(404, "not_found");
    let untouched = json!({
        "twofa_status": "disabled", "twofa_required": false, "required_by": [],
    });
    for p in [&u4, &u5] {
        assert_eq!(status(&d.user(&p.id).await), untouched);
        t.login(p).await;
    }
    assert_eq!(status(&other.user(&stranger.id).await), untouched);
    t.login(&stranger).await;

    // 1 to 500 ids, as a list.
    let fake =
        |n: usize| -> Vec<String> { (0..n).map(|_| uuid::Uuid::new_v4().to_string()).collect() };
    invalid(&d.bulk("enable", json!([])).await, "user_ids");
    invalid(&d.bulk("enable", json!(fake(501))).await, "user_ids");
    let a = d.bulk("enable", json!(fake(500))).await;
    a.problem(404, "not_found");
    invalid(&d.bulk("enable", json!(u4.id)).await, "user_ids");
    invalid(
        &d.bulk("enable", json!(["no-such-user"])).await,
        "user_ids[0]",
    );
    let a = d.post(&format!("{USERS}/2fa/enable"), json!({})).await;
    invalid(&a, "user_ids");
    let a = d.bulk("enable", json!(vec![u4.id.clone(); 500])).await;
    assert_eq!(a.ok()["results"], json!([pending(&u4.id, true)]));
}

#[actix_web::test]
async fn reset_removes_factors_and_ends_every_session_at_once() {
    let t = TestApp::spawn().await;
    let d = Desk::open(&t, "Reset").await;
    let tech = d.create("Tech", "tech", "technician").await;
    let other = d.create("Other", "other", "technician").await;
    let never = d.create("Never", "never", "read_only").await;
    let first = t.enroll(&tech).await;
    let second = t.login_with_totp(&first).await;
    let other_enrolled = t.enroll(&other).await;
    t.get("/v1/me", Some(&access(&first.tokens))).await.ok();
    let methods = json!(["totp", "recovery_code"]);
    assert_eq!(d.user(&tech.id).await["methods"], methods);

    let a = d.one(&tech.id, "reset").await;
    assert_eq!(*a.ok(), json!({ "results": [reset_done(&tech.id, 2)] }));

    // Both sessions end at once: access and refresh tokens alike.
    for tokens in [&first.tokens, &second] {
        let a = t.get("/v1/me", Some(&access(tokens))).await;
        a.problem(401, "invalid_token");
        let refresh = json!({ "refresh_token": tokens["refresh_token"] });
        let a = t.post("/v1/auth/token/refresh", refresh).await;
        a.problem(401, "invalid_token");
    }
    let keys = "twofa_status twofa_required required_by methods";
    let expected = json!({
        "twofa_status": "pending", "twofa_required": true, "required_by": ["admin"], "methods": [],
    });
    assert_eq!(pick(&d.user(&tech.id).await, keys), expected);
    // Someone else's session is untouched.
    let a = t.get("/v1/me", Some(&access(&other_enrolled.tokens))).await;
    a.ok();

    // The next login enrolls a new authenticator and recovery code.
    t.login_to_enrollment(&tech).await;
    let renewed = t.enroll(&tech).await;
    assert_ne!(renewed.secret, first.secret);
    assert_ne!(renewed.recovery_code, first.recovery_code);

    // Bulk: each result counts that user's sessions.
    let a = d.bulk("reset", json!([tech.id, other.id, never.id])).await;
    let each = [(&tech, 1), (&other, 1), (&never, 0)].map(|(p, n)| reset_done(&p.id, n));
    assert_eq!(a.ok()["results"], json!(each));
    for tokens in [&renewed.tokens, &other_enrolled.tokens] {
        let a = t.get("/v1/me", Some(&access(tokens))).await;
        a.problem(401, "invalid_token");
    }
    // Resetting a user who is already pending, with nothing to remove and
    // no session, changes nothing, and says so.
    let mut unchanged = reset_done(&never.id, 0);
    unchanged["changed"] = json!(false);
    let a = d.one(&never.id, "reset").await;
    assert_eq!(*a.ok(), json!({ "results": [unchanged] }));
    d.get(USERS).await.ok();
    let a = d.bulk("reset", json!([tech.id, NOBODY])).await;
    a.problem(404, "not_found");
    invalid(&d.bulk("reset", json!([])).await, "user_ids");
}
