//! Small hardening items, each test named after the attack it stops:
//! metric labels a client could multiply, answers a browser could sniff,
//! cache or frame, IPv4-mapped allow-list ranges that never matched, and
//! two admins demoting each other at the same time.

use std::collections::BTreeSet;

use reqwest::header::HeaderValue;
use reqwest::Method;
use serde_json::{json, Value};
use twofold::clock::Clock as _;
use twofold::users::Role;

use crate::common::{Answer, TestApp};

/// The values of `label` over the series of `metric` in a Prometheus text page.
fn label_values(page: &str, metric: &str, label: &str) -> BTreeSet<String> {
    let needle = format!("{label}=\"");
    page.lines()
        .filter(|line| line.starts_with(&format!("{metric}{{")))
        .filter_map(|line| {
            let rest = &line[line.find(&needle)? + needle.len()..];
            Some(rest[..rest.find('"')?].to_owned())
        })
        .collect()
}

#[actix_web::test]
async fn unknown_http_methods_do_not_grow_metric_labels() {
    let t = TestApp::spawn().await;
    for i in 0..25 {
        let method = Method::from_bytes(format!("Q{i}").as_bytes()).unwrap();
        for path in ["/healthz", "/v1/auth/login", "/no/such/thing"] {
            let a = t.call(method.clone(), path, None, None).await;
            assert!(a.status.is_client_error(), "{method} {path}: {}", a.status);
        }
    }
    t.get("/healthz", None).await;
    let page = t.get("/metrics", None).await.text;
    let standard = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
    for metric in [
        "http_requests_total",
        "http_request_duration_seconds_bucket",
    ] {
        let methods = label_values(&page, metric, "method");
        assert!(methods.contains("other"), "{metric}: {methods:?}");
        assert!(methods.contains("GET"), "{metric}: {methods:?}");
        let odd: Vec<_> = methods
            .iter()
            .filter(|m| *m != "other" && !standard.contains(&m.as_str()))
            .collect();
        assert!(odd.is_empty(), "{metric} has method labels {odd:?}");
    }
}

#[actix_web::test]
async fn raw_paths_never_become_metric_route_labels() {
    let t = TestApp::spawn().await;
    let user = "/v1/admin/users/0b4e7c5e-2f0a-4a8e-9b51-7f3f2f6d9a10";
    let paths = [
        user.to_owned(),
        format!("{user}/2fa/reset"),
        "/v1/me/webauthn/credentials/some-id".to_owned(),
        "/docs/swagger-ui.css".to_owned(),
        "/docs/no-such-file.js".to_owned(),
        "/%761/me".to_owned(),
        "/v1/me/".to_owned(),
        "//v1//me".to_owned(),
        "/openapi.json?probe=1".to_owned(),
    ];
    for (i, path) in paths.iter().enumerate() {
        t.get(path, None).await;
        t.call(Method::DELETE, path, None, None).await;
        t.get(&format!("/random/{i}/{}", uuid::Uuid::new_v4()), None)
            .await;
    }
    let page = t.get("/metrics", None).await.text;
    let doc = t.get("/openapi.json", None).await.json;
    let mut known: BTreeSet<String> = doc["paths"].as_object().unwrap().keys().cloned().collect();
    for extra in ["/docs", "/docs/{_:.*}", "/openapi.json", "unmatched"] {
        known.insert(extra.to_owned());
    }
    for metric in [
        "http_requests_total",
        "http_request_duration_seconds_bucket",
    ] {
        let routes = label_values(&page, metric, "route");
        let raw: Vec<_> = routes.difference(&known).collect();
        assert!(raw.is_empty(), "{metric} has route labels {raw:?}");
        assert!(routes.contains("unmatched"), "{routes:?}");
    }
}

/// A request whose answer a test inspects, with its name for messages.
async fn answers(t: &TestApp, token: &str) -> Vec<(String, Answer)> {
    let login = t.post("/v1/auth/login", json!({ "email": "x@example.test" }));
    let mut out = vec![("POST /v1/auth/login".to_owned(), login.await)];
    let admin = Some(token);
    for (method, path, bearer) in [
        (Method::GET, "/v1/me", admin),
        (Method::GET, "/v1/me/2fa", admin),
        (Method::GET, "/v1/me/webauthn/credentials", admin),
        (Method::GET, "/v1/admin/users", admin),
        (Method::GET, "/v1/admin/ip-allowlist", admin),
        (Method::GET, "/v1/admin/security", admin),
        (Method::GET, "/v1/me", None),
        (Method::GET, "/v1/no-such-thing", None),
        (Method::PUT, "/v1/me", admin),
        (Method::GET, "/%761/me", admin),
        (Method::GET, "/v1/operator/accounts/x", Some("wrong key")),
    ] {
        let a = t.call(method.clone(), path, bearer, None).await;
        out.push((format!("{method} {path}"), a));
    }
    let bad_json = t
        .raw(
            Method::POST,
            "/v1/auth/login",
            "application/json",
            b"{".to_vec(),
        )
        .await;
    out.push(("POST /v1/auth/login (bad JSON)".to_owned(), bad_json));
    out
}

#[actix_web::test]
async fn v1_answers_with_tokens_or_personal_data_are_never_stored_by_caches() {
    let t = TestApp::with_env(&[("TWOFOLD_OPERATOR_KEY", "k".repeat(32).as_str())]).await;
    let admin = t.account("Caching").await;
    let tokens = t.login(&admin).await;
    let token = tokens["access_token"].as_str().unwrap();
    for (what, a) in answers(&t, token).await {
        assert_eq!(
            a.header("cache-control"),
            "no-store",
            "{what}: {}",
            a.status
        );
        assert_eq!(a.header("x-content-type-options"), "nosniff", "{what}");
    }
    // The JWKS is public and meant to be cached by verifiers.
    let a = t.get("/.well-known/jwks.json", None).await;
    assert!(a.header("cache-control").starts_with("public"), "{a:?}");
}

#[actix_web::test]
async fn no_answer_can_be_content_sniffed_or_framed() {
    let t = TestApp::spawn().await;
    for (method, path) in [
        (Method::GET, "/healthz"),
        (Method::GET, "/readyz"),
        (Method::GET, "/metrics"),
        (Method::GET, "/openapi.json"),
        (Method::GET, "/.well-known/jwks.json"),
        (Method::GET, "/docs"),
        (Method::GET, "/docs/"),
        (Method::GET, "/docs/swagger-ui-bundle.js"),
        (Method::GET, "/docs/no-such-file"),
        (Method::GET, "/no/such/thing"),
        (Method::DELETE, "/healthz"),
        (Method::from_bytes(b"Q1").unwrap(), "/healthz"),
        (Method::OPTIONS, "/v1/auth/login"),
    ] {
        let a = t.call(method.clone(), path, None, None).await;
        let what = format!("{method} {path}: {}", a.status);
        assert_eq!(a.header("x-content-type-options"), "nosniff", "{what}");
        let csp = a.header("content-security-policy");
        assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp:?}");
    }
}

#[actix_web::test]
async fn swagger_ui_may_load_only_its_own_assets() {
    let t = TestApp::spawn().await;
    let page = t.get("/docs/", None).await;
    assert_eq!(page.status, 200);
    let csp = page.header("content-security-policy");
    let directives: Vec<&str> = csp.split(';').map(str::trim).collect();
    for expected in ["default-src 'self'", "frame-ancestors 'none'"] {
        assert!(directives.contains(&expected), "{csp}");
    }
    // Nothing from elsewhere: no scheme or host sources, no inline script.
    assert!(!csp.contains("http") && !csp.contains('*'), "{csp}");
    assert!(!csp.contains("unsafe"), "{csp}");
    // The page names only same-origin assets.
    assert!(!page.text.contains("//"), "{}", page.text);
    let config = t.get("/docs/swagger-initializer.js", None).await;
    assert!(config.text.contains("\"/openapi.json\""), "{}", config.text);
    assert!(
        config.text.contains("\"validatorUrl\": \"none\""),
        "{}",
        config.text
    );
}

/// `GET /v1/admin/ip-allowlist` as seen from `client` (forwarded by the
/// trusted proxy at 127.0.0.1).
async fn allowlist_from(t: &TestApp, token: &str, client: &str) -> Value {
    let response = t
        .client
        .get(t.url("/v1/admin/ip-allowlist"))
        .bearer_auth(token)
        .header("x-forwarded-for", HeaderValue::from_str(client).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

#[actix_web::test]
async fn ipv4_mapped_allowlist_ranges_match_the_ipv4_clients_they_name() {
    let t = TestApp::with_env(&[("TWOFOLD_TRUSTED_PROXIES", "127.0.0.1")]).await;
    let admin = t.account("Mapped").await;
    let token = t.access_token(&admin).await;
    let add = |cidr: &str| {
        let body = json!({ "cidr": cidr, "description": "office" });
        t.call(
            Method::POST,
            "/v1/admin/ip-allowlist",
            Some(&token),
            Some(body),
        )
    };

    let a = add("::ffff:10.0.0.0/104").await;
    assert_eq!(a.status, 201, "{}", a.text);
    assert_eq!(a.json["cidr"], "10.0.0.0/8");
    let seen = allowlist_from(&t, &token, "10.1.2.3").await;
    assert_eq!(seen["your_address"], "10.1.2.3");
    assert_eq!(seen["your_address_listed"], true, "{seen}");
    // The same range written either way is one entry.
    add("10.0.0.0/8").await.problem(409, "duplicate_entry");
    let a = add("::FFFF:192.0.2.7").await;
    assert_eq!(a.json["cidr"], "192.0.2.7/32", "{}", a.text);

    // A row saved before the conversion matches what it names, too.
    let legacy = twofold::ip_allowlist::repo::Entry {
        id: uuid::Uuid::new_v4().to_string(),
        account_id: admin.account_id.clone().into(),
        cidr: "::ffff:172.16.0.0/108".to_owned(),
        description: "saved by an older version".to_owned(),
        created_at: t.clock.unix(),
        created_by: None,
    };
    t.state
        .db
        .run(move |conn| twofold::ip_allowlist::repo::insert(conn, &legacy))
        .await
        .unwrap();
    let seen = allowlist_from(&t, &token, "172.16.5.5").await;
    assert_eq!(seen["your_address_listed"], true, "{seen}");

    // Host bits are named in IPv4 terms; a prefix shorter than /96 cannot
    // be an IPv4 range and says what to write instead.
    let a = add("::ffff:10.1.2.3/104").await;
    let hint = a.problem(400, "validation_failed").json["errors"][0]["message"].clone();
    assert!(hint.as_str().unwrap().contains("10.0.0.0/8"), "{hint}");
    let a = add("::ffff:0:0/95").await;
    let hint = a.problem(400, "validation_failed").json["errors"][0]["message"].clone();
    assert!(hint.as_str().unwrap().contains("/96"), "{hint}");

    // Switched on, the entry lets the IPv4 client sign in and keeps others out.
    let body = json!({ "ip_allowlist_enabled": true, "force": true });
    t.call(
        Method::PATCH,
        "/v1/admin/security",
        Some(&token),
        Some(body),
    )
    .await
    .ok();
    let password = |client: &'static str| {
        let admin = admin.clone();
        let t = &t;
        async move {
            let flow = t.start_login(&admin.email).await;
            let body = json!({ "flow_token": flow, "password": admin.password });
            let response = t
                .client
                .post(t.url("/v1/auth/login/password"))
                .header("x-forwarded-for", client)
                .json(&body)
                .send()
                .await
                .unwrap();
            response.status().as_u16()
        }
    };
    assert_eq!(password("10.200.0.1").await, 200);
    assert_eq!(password("11.0.0.1").await, 403);
}

/// How many admins `account_id` has, read from the database.
async fn admins(t: &TestApp, account_id: &str) -> i64 {
    let id = account_id.to_owned();
    t.state
        .db
        .run(move |conn| twofold::admin::users_repo::count_admins(conn, &id.as_str().into()))
        .await
        .unwrap()
}

#[actix_web::test]
async fn two_admins_demoting_each_other_at_once_leave_the_account_one_admin() {
    let t = TestApp::spawn().await;
    let demote = json!({ "role": "technician" });
    for round in 0..12 {
        let first = t.account(&format!("Race {round}")).await;
        let second = t.user(&first.account_id, Role::Admin).await;
        let (one, two) = (t.access_token(&first).await, t.access_token(&second).await);
        // Even rounds: each demotes the other. Odd rounds: each steps down.
        let mutual = round % 2 == 0;
        let (by_one, by_two) = if mutual {
            (&second.id, &first.id)
        } else {
            (&first.id, &second.id)
        };
        let (path_one, path_two) = (
            format!("/v1/admin/users/{by_one}"),
            format!("/v1/admin/users/{by_two}"),
        );
        let (a, b) = futures_util::join!(
            t.call(Method::PATCH, &path_one, Some(&one), Some(demote.clone())),
            t.call(Method::PATCH, &path_two, Some(&two), Some(demote.clone())),
        );
        assert_eq!(
            admins(&t, &first.account_id).await,
            1,
            "round {round}: {a:?} {b:?}"
        );
        let (won, lost) = if a.status == 200 { (&a, &b) } else { (&b, &a) };
        assert_eq!(won.status, 200, "round {round}: {}", won.text);
        // The loser meets the rule, unless (each demoting the other) its own
        // role was already gone when its request was authorised.
        if lost.json["code"] == "forbidden" && mutual {
            continue;
        }
        lost.problem(409, "last_admin");
    }
}
