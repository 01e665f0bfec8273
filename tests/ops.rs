//! Operations: health, readiness, metrics, request ids, the documentation
//! and CORS.

use std::sync::Arc;

use actix_web::test::{call_service, init_service, read_body, TestRequest};
use reqwest::header::{HeaderMap, ORIGIN};
use reqwest::{Method, RequestBuilder};
use serde_json::{json, Value};
use twofold::clock::ManualClock;
use twofold::db::Db;
use twofold::sessions::keys::SigningKey;
use twofold::{app, AppState};

use crate::common::{answer, backend, test_config, Answer, TestApp, START};

async fn send(req: RequestBuilder) -> Answer {
    answer(req.send().await.expect("request")).await
}

fn preflight(t: &TestApp, path: &str, origin: &str) -> RequestBuilder {
    t.client
        .request(Method::OPTIONS, t.url(path))
        .header(ORIGIN, origin)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
}

fn no_cors_headers(headers: &HeaderMap) -> bool {
    !headers.contains_key("access-control-allow-origin")
        && !headers.contains_key("access-control-allow-credentials")
}

#[actix_web::test]
async fn healthz_says_ok() {
    let t = TestApp::spawn().await;
    let a = t.get("/healthz", None).await;
    assert_eq!(a.status, 200);
    assert!(a.header("content-type").starts_with("application/json"));
    assert_eq!(a.json, json!({ "status": "ok" }));
}

#[actix_web::test]
async fn readyz_names_the_database_backend() {
    let t = TestApp::spawn().await;
    let a = t.get("/readyz", None).await;
    assert_eq!(a.ok()["status"], "ready");
    assert_eq!(a.json["database"], backend());
}

#[actix_web::test]
async fn readyz_answers_503_while_the_database_is_unreachable() {
    let dir = tempfile::tempdir().unwrap();
    let config = test_config(&dir, &[]);
    let db = Db::connect_lazy("postgres://nobody:wrong@127.0.0.1:1/none").unwrap();
    let clock = ManualClock::new(chrono::DateTime::from_timestamp(START, 0).unwrap());
    let state =
        AppState::with_fixed_key(config, db, Arc::new(clock), SigningKey::generate().unwrap())
            .unwrap();
    let service = init_service(app(state)).await;

    let started = std::time::Instant::now();
    let response = call_service(&service, TestRequest::get().uri("/readyz").to_request()).await;
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert_eq!(response.status(), 503);
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    assert_eq!(header("content-type"), "application/problem+json");
    let retry: u64 = header("retry-after")
        .parse()
        .expect("Retry-After in seconds");
    assert!((1..=60).contains(&retry), "{retry}");
    assert!(!header("x-request-id").is_empty());
    let body: Value = serde_json::from_slice(&read_body(response).await).unwrap();
    assert_eq!(body["code"], "service_unavailable", "{body}");
    assert_eq!(body["status"], 503, "{body}");
    let raw = body.to_string();
    assert!(
        !raw.contains("nobody") && !raw.contains("wrong"),
        "leaks the URL: {raw}"
    );

    // Liveness does not depend on the database.
    let response = call_service(&service, TestRequest::get().uri("/healthz").to_request()).await;
    assert_eq!(response.status(), 200);
}

#[actix_web::test]
async fn metrics_count_requests_by_route_and_login_steps_by_outcome() {
    let t = TestApp::spawn().await;
    let admin = t.account("Acme").await;
    t.login(&admin).await;

    let a = t.get("/metrics", None).await;
    assert_eq!(a.status, 200);
    assert!(
        a.header("content-type").starts_with("text/plain"),
        "{}",
        a.header("content-type")
    );
    let text = &a.text;
    assert!(
        text.contains("# TYPE http_requests_total counter"),
        "{text}"
    );
    assert!(
        text.contains(
            r#"http_requests_total{method="POST",route="/v1/auth/login",status="200"} 1"#
        ),
        "{text}"
    );
    assert!(
        text.contains(
            r#"http_requests_total{method="POST",route="/v1/auth/login/password",status="200"} 1"#
        ),
        "{text}"
    );
    assert!(
        text.contains(r#"twofold_login_steps_total{outcome="authenticated",step="password"} 1"#),
        "{text}"
    );
    assert!(
        text.contains("http_request_duration_seconds_bucket"),
        "{text}"
    );
    // Route templates, never raw paths: an unknown path is one series.
    t.get("/no/such/thing/123", None).await;
    let a = t.get("/metrics", None).await;
    assert!(!a.text.contains("/no/such/thing"), "{}", a.text);
}

#[actix_web::test]
async fn every_response_carries_a_request_id() {
    let t = TestApp::spawn().await;
    for (method, path) in [
        (Method::GET, "/healthz"),
        (Method::GET, "/v1/me"),
        (Method::GET, "/no/such/thing"),
        (Method::DELETE, "/healthz"),
        (Method::GET, "/openapi.json"),
    ] {
        let a = t.call(method.clone(), path, None, None).await;
        let id = a.header("x-request-id");
        assert!(!id.is_empty(), "{method} {path}: no x-request-id");
    }
    let one = t.get("/healthz", None).await;
    let two = t.get("/healthz", None).await;
    assert_ne!(one.header("x-request-id"), two.header("x-request-id"));
}

#[actix_web::test]
async fn a_plain_incoming_request_id_is_echoed_and_a_junk_one_replaced() {
    let t = TestApp::spawn().await;
    let with_id = |id: &str| t.client.get(t.url("/healthz")).header("x-request-id", id);

    let a = send(with_id("abc-123")).await;
    assert_eq!(a.header("x-request-id"), "abc-123");

    let long = "a".repeat(200);
    for junk in [long.as_str(), "abc 123", "abc\"}{", "../../etc"] {
        let a = send(with_id(junk)).await;
        assert_eq!(a.status, 200);
        let id = a.header("x-request-id");
        assert!(!id.is_empty() && id != junk, "{junk:?} came back as {id:?}");
        assert!(id.len() <= 64, "{id}");
        assert!(
            id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'),
            "{id}"
        );
    }
}

#[actix_web::test]
async fn docs_redirect_to_the_swagger_ui_served_from_the_binary() {
    let t = TestApp::spawn().await;
    let a = t.get("/docs", None).await;
    assert!(a.status.is_redirection(), "{}", a.status);
    assert_eq!(a.header("location"), "/docs/");

    let a = t.get("/docs/", None).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert!(
        a.header("content-type").starts_with("text/html"),
        "{}",
        a.header("content-type")
    );
    assert!(a.text.to_lowercase().contains("swagger"), "{}", a.text);
    // No CDN: assets come from this server.
    assert!(
        !a.text.contains("unpkg.com") && !a.text.contains("cdn."),
        "{}",
        a.text
    );
}

#[actix_web::test]
async fn openapi_json_is_the_contract() {
    let t = TestApp::spawn().await;
    let a = t.get("/openapi.json", None).await;
    assert_eq!(a.status, 200);
    assert!(a.header("content-type").starts_with("application/json"));
    assert!(a.json["openapi"].as_str().unwrap().starts_with("3."));
    let paths = a.json["paths"].as_object().unwrap();
    for path in [
        "/v1/auth/login",
        "/v1/auth/login/password",
        "/healthz",
        "/readyz",
        "/metrics",
    ] {
        assert!(paths.contains_key(path), "{path} missing");
    }
}

#[actix_web::test]
async fn cors_allows_only_the_configured_origins() {
    let t = TestApp::with_env(&[("TWOFOLD_CORS_ORIGINS", "https://app.example.com")]).await;

    let a = send(preflight(&t, "/v1/auth/login", "https://app.example.com")).await;
    assert!(a.status.is_success(), "{}: {}", a.status, a.text);
    assert_eq!(
        a.header("access-control-allow-origin"),
        "https://app.example.com"
    );
    assert!(
        a.header("access-control-allow-methods").contains("POST"),
        "{:?}",
        a.headers
    );
    assert!(!a.header("x-request-id").is_empty());

    // The actual request from the allowed origin is answered with CORS headers.
    let a = send(
        t.client
            .post(t.url("/v1/auth/login"))
            .header(ORIGIN, "https://app.example.com")
            .json(&json!({ "email": "someone@example.com" })),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(
        a.header("access-control-allow-origin"),
        "https://app.example.com"
    );
    assert!(
        a.header("access-control-expose-headers")
            .to_lowercase()
            .contains("x-request-id"),
        "{:?}",
        a.headers
    );

    for other in ["https://evil.example.com", "http://app.example.com", "null"] {
        let a = send(preflight(&t, "/v1/auth/login", other)).await;
        assert!(no_cors_headers(&a.headers), "{other}: {:?}", a.headers);
        assert!(a.status.as_u16() < 500, "{other}: {}", a.status);
        if !a.status.is_success() {
            assert_eq!(
                a.header("content-type"),
                "application/problem+json",
                "{other}: {}",
                a.text
            );
            assert_eq!(a.json["status"], a.status.as_u16(), "{}", a.text);
            assert!(a.json["code"].is_string(), "{}", a.text);
        }

        let a = send(t.client.get(t.url("/healthz")).header(ORIGIN, other)).await;
        assert!(no_cors_headers(&a.headers), "{other}: {:?}", a.headers);
        if !a.status.is_success() {
            assert_eq!(
                a.header("content-type"),
                "application/problem+json",
                "{}",
                a.text
            );
        }
    }
}

#[actix_web::test]
async fn without_cors_configured_no_origin_is_allowed() {
    let t = TestApp::spawn().await;
    for origin in ["https://app.example.com", "http://localhost:5173"] {
        let a = send(preflight(&t, "/v1/auth/login", origin)).await;
        assert!(no_cors_headers(&a.headers), "{origin}: {:?}", a.headers);
        if !a.status.is_success() {
            assert_eq!(
                a.header("content-type"),
                "application/problem+json",
                "{}",
                a.text
            );
        }

        let a = send(
            t.client
                .post(t.url("/v1/auth/login"))
                .header(ORIGIN, origin)
                .json(&json!({ "email": "someone@example.com" })),
        )
        .await;
        assert_eq!(a.status, 200, "{}", a.text);
        assert!(no_cors_headers(&a.headers), "{origin}: {:?}", a.headers);

        let a = send(t.client.get(t.url("/healthz")).header(ORIGIN, origin)).await;
        assert!(no_cors_headers(&a.headers), "{origin}: {:?}", a.headers);
    }
}
