//! Small hardening items, each test named after the attack it stops:
//! metric labels a client could multiply.

use std::collections::BTreeSet;

use reqwest::Method;

use crate::common::TestApp;

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
