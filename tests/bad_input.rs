//! Bad input over HTTP: every malformed, mistyped, oversized, mislabelled or
//! misrouted request gets a precise 4xx `application/problem+json`, never a
//! 5xx, and leaves the data as it was.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use reqwest::header::{HeaderValue, CONTENT_TYPE};
use reqwest::Method;
use serde_json::{json, Value};
use twofold::extract::JSON_LIMIT;

use crate::common::{answer, Answer, TestApp};

mod sizes;

/// Every route that takes a JSON body.
const JSON_ROUTES: [&str; 4] = [
    "/v1/auth/login",
    "/v1/auth/login/password",
    "/v1/auth/token/refresh",
    "/v1/me/password",
];

/// Sends `body` with an optional content type (none at all when `None`) and
/// bearer token.
async fn send(
    t: &TestApp,
    method: Method,
    path: &str,
    bearer: Option<&str>,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> Answer {
    let mut req = t.client.request(method, t.url(path)).body(body);
    if let Some(ct) = content_type {
        req = req.header(CONTENT_TYPE, HeaderValue::from_str(ct).unwrap());
    }
    if let Some(token) = bearer {
        req = req.bearer_auth(token);
    }
    answer(req.send().await.expect("request")).await
}

/// POSTs raw bytes labelled `application/json`.
async fn post_bytes(t: &TestApp, path: &str, body: impl Into<Vec<u8>>) -> Answer {
    t.raw(Method::POST, path, "application/json", body.into())
        .await
}

/// Asserts a 400 `validation_failed` that names exactly `field`.
#[track_caller]
fn assert_invalid_field(a: &Answer, field: &str) {
    a.problem(400, "validation_failed");
    let fields: Vec<&str> = a.json["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no `errors`: {}", a.text))
        .iter()
        .map(|e| e["field"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(fields, [field], "{}", a.text);
    let message = a.json["errors"][0]["message"].as_str().unwrap_or("");
    assert!(!message.is_empty(), "{}", a.text);
}

/// A JSON login body of exactly `len` bytes whose email is far too long, so
/// a server that ignored the size limit would answer something else.
fn login_body_of(len: usize) -> Vec<u8> {
    let frame = br#"{"email":"@example.com"}"#.len();
    let local = "a".repeat(len - frame);
    let body = format!(r#"{{"email":"{local}@example.com"}}"#).into_bytes();
    assert_eq!(body.len(), len);
    body
}

#[actix_web::test]
async fn broken_json_syntax_is_malformed_json() {
    let t = TestApp::spawn().await;
    for body in [
        &b"{email: \"ada@example.com\"}"[..],
        b"{'email': 'ada@example.com'}",
        b"{\"email\" \"ada@example.com\"}",
        b"{\"email\": \"ada@example.com\",}",
        b"{\"email\": ada@example.com}",
        b"not json at all",
        b"<xml/>",
        b"{\"email\": \"a\\qb@example.com\"}",
    ] {
        let a = post_bytes(&t, "/v1/auth/login", body).await;
        a.problem(400, "malformed_json");
        assert!(a.json.get("errors").is_none(), "{}", a.text);
    }
}

#[actix_web::test]
async fn truncated_json_is_malformed_json() {
    let t = TestApp::spawn().await;
    let whole = br#"{"flow_token": "flw_x", "password": "hunter22"}"#;
    for cut in [1, 2, 15, 18, 25, whole.len() - 3, whole.len() - 1] {
        let a = post_bytes(&t, "/v1/auth/login/password", &whole[..cut]).await;
        a.problem(400, "malformed_json");
    }
}

#[actix_web::test]
async fn an_empty_or_blank_body_is_malformed_json() {
    let t = TestApp::spawn().await;
    for path in JSON_ROUTES.iter().take(3) {
        for body in [&b""[..], b" ", b"\r\n\t  \n"] {
            post_bytes(&t, path, body)
                .await
                .problem(400, "malformed_json");
        }
    }
}

#[actix_web::test]
async fn invalid_utf8_inside_a_json_string_is_malformed_json() {
    let t = TestApp::spawn().await;
    for body in [
        &b"{\"email\": \"ada\xff@example.com\"}"[..],
        b"{\"email\": \"\xc3\x28@example.com\"}",
        b"{\"email\": \"ada\xed\xa0\x80@example.com\"}",
        b"{\"email\": \"ada\xe2\x82@example.com\"}",
    ] {
        post_bytes(&t, "/v1/auth/login", body)
            .await
            .problem(400, "malformed_json");
    }
    let a = post_bytes(
        &t,
        "/v1/auth/login/password",
        &b"{\"flow_token\": \"flw_x\", \"password\": \"pa\xfe\xfess\"}"[..],
    )
    .await;
    a.problem(400, "malformed_json");
}

#[actix_web::test]
async fn trailing_garbage_after_the_object_is_malformed_json() {
    let t = TestApp::spawn().await;
    for body in [
        &br#"{"email": "ada@example.com"} x"#[..],
        br#"{"email": "ada@example.com"}}"#,
        br#"{"email": "ada@example.com"}{"email": "bob@example.com"}"#,
        br#"{"email": "ada@example.com"},"#,
        b"{\"email\": \"ada@example.com\"}\0",
    ] {
        post_bytes(&t, "/v1/auth/login", body)
            .await
            .problem(400, "malformed_json");
    }
    // Whitespace around the object is fine.
    let a = post_bytes(
        &t,
        "/v1/auth/login",
        &b" \n{\"email\": \"ada@example.com\"}\r\n "[..],
    )
    .await;
    assert_eq!(a.ok()["status"], "password_required");
}

#[actix_web::test]
async fn null_an_array_or_a_scalar_instead_of_an_object_fails_validation_of_the_body() {
    let t = TestApp::spawn().await;
    for path in JSON_ROUTES.iter().take(3) {
        for body in [
            &b"null"[..],
            b"[]",
            b"42",
            b"-1.5e3",
            br#""ada@example.com""#,
            b"true",
        ] {
            let a = post_bytes(&t, path, body).await;
            assert_invalid_field(&a, "body");
        }
    }
}

#[actix_web::test]
async fn an_array_of_the_field_values_in_order_is_refused_like_any_array() {
    let t = TestApp::spawn().await;
    let admin = t.account("Acme").await;
    let access = t.access_token(&admin).await;
    let flow = t.start_login(&admin.email).await;
    let cases = [
        ("/v1/auth/login", json!([admin.email])),
        ("/v1/auth/login", json!([{ "email": admin.email }])),
        ("/v1/auth/login/password", json!([flow, admin.password])),
        ("/v1/auth/token/refresh", json!(["rt_x"])),
        (
            "/v1/me/password",
            json!([admin.password, "a much longer new passphrase"]),
        ),
    ];
    let mut wrong = Vec::new();
    for (path, body) in cases {
        let a = t
            .call(Method::POST, path, Some(&access), Some(body.clone()))
            .await;
        let refused = a.status == 400
            && a.header("content-type") == "application/problem+json"
            && a.json["code"] == "validation_failed"
            && a.json["errors"][0]["field"] == "body";
        if !refused {
            wrong.push(format!("POST {path} {body}: {} {}", a.status, a.text));
        }
    }
    assert!(
        wrong.is_empty(),
        "arrays were taken for objects:\n{}",
        wrong.join("\n")
    );
    // The password did not change.
    t.access_token(&admin).await;
}

#[actix_web::test]
async fn a_field_of_the_wrong_type_is_named() {
    let t = TestApp::spawn().await;
    let admin = t.account("Acme").await;
    let access = t.access_token(&admin).await;
    let cases = [
        ("/v1/auth/login", json!({ "email": 42 }), "email"),
        ("/v1/auth/login", json!({ "email": null }), "email"),
        (
            "/v1/auth/login",
            json!({ "email": ["ada@example.com"] }),
            "email",
        ),
        (
            "/v1/auth/login",
            json!({ "email": { "address": "ada@example.com" } }),
            "email",
        ),
        (
            "/v1/auth/login/password",
            json!({ "flow_token": "flw_x", "password": { "value": "hunter22" } }),
            "password",
        ),
        (
            "/v1/auth/login/password",
            json!({ "flow_token": true, "password": "hunter22" }),
            "flow_token",
        ),
        (
            "/v1/auth/token/refresh",
            json!({ "refresh_token": 1 }),
            "refresh_token",
        ),
        (
            "/v1/me/password",
            json!({ "current_password": admin.password, "new_password": 1234567890123_i64 }),
            "new_password",
        ),
    ];
    for (path, body, field) in cases {
        let a = t.call(Method::POST, path, Some(&access), Some(body)).await;
        assert_invalid_field(&a, field);
    }
    // A misspelt field is two mistakes, and both are named at once.
    let a = t
        .post("/v1/auth/login", json!({ "Email": admin.email }))
        .await;
    a.problem(400, "validation_failed");
    let named: Vec<(&str, &str)> = a.json["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["field"].as_str().unwrap(), e["message"].as_str().unwrap()))
        .collect();
    assert_eq!(
        named,
        [
            ("email", "is required"),
            ("Email", "is not a field of this object")
        ],
        "{}",
        a.text
    );
    // Nothing changed: the old password still works.
    t.access_token(&admin).await;
}

#[actix_web::test]
async fn a_missing_field_is_named() {
    let t = TestApp::spawn().await;
    let admin = t.account("Acme").await;
    let access = t.access_token(&admin).await;
    let cases = [
        ("/v1/auth/login", json!({}), "email"),
        (
            "/v1/auth/login/password",
            json!({ "flow_token": "flw_x" }),
            "password",
        ),
        (
            "/v1/auth/login/password",
            json!({ "password": "hunter22" }),
            "flow_token",
        ),
        ("/v1/auth/token/refresh", json!({}), "refresh_token"),
        (
            "/v1/me/password",
            json!({ "current_password": admin.password }),
            "new_password",
        ),
        (
            "/v1/me/password",
            json!({ "new_password": "a much longer new passphrase" }),
            "current_password",
        ),
    ];
    for (path, body, field) in cases {
        let a = t.call(Method::POST, path, Some(&access), Some(body)).await;
        assert_invalid_field(&a, field);
    }
    t.access_token(&admin).await;
}

#[actix_web::test]
async fn an_unknown_field_is_named_and_refused() {
    let t = TestApp::spawn().await;
    let admin = t.account("Acme").await;
    let access = t.access_token(&admin).await;
    let cases = [
        (
            "/v1/auth/login",
            json!({ "email": admin.email, "x": 1 }),
            "x",
        ),
        (
            "/v1/auth/login",
            json!({ "email": admin.email, "role": "admin" }),
            "role",
        ),
        (
            "/v1/auth/login/password",
            json!({ "flow_token": "flw_x", "password": "hunter22", "aal": 2 }),
            "aal",
        ),
        (
            "/v1/auth/token/refresh",
            json!({ "refresh_token": "rt_x", "account_id": admin.account_id }),
            "account_id",
        ),
        (
            "/v1/me/password",
            json!({
                "current_password": admin.password,
                "new_password": "a much longer new passphrase",
                "user_id": admin.id,
            }),
            "user_id",
        ),
    ];
    for (path, body, field) in cases {
        let a = t.call(Method::POST, path, Some(&access), Some(body)).await;
        assert_invalid_field(&a, field);
    }
    // The refused password change did not happen.
    t.access_token(&admin).await;
}

#[actix_web::test]
async fn unknown_routes_are_404_not_found() {
    let t = TestApp::spawn().await;
    let long = format!("/v1/{}", "a".repeat(8000));
    let paths = [
        "/",
        "/v1",
        "/v1/",
        "/v1/nothing",
        "/v2/auth/login",
        "/v1/auth/login/extra",
        "/v1/auth/login/",
        "/v1/ME",
        "/v1/me/password/again",
        "/healthz/x",
        "/.well-known/openid-configuration",
        "/%00",
        "/%ff%fe%fd",
        "/v1/%2e%2e/%2e%2e/etc/passwd",
        "/v1/auth/%6c%6f%67%69%6e%2f",
        "/v1/me%00",
        "/v1/%E2%80%AE%F0%9F%92%A9",
        "/v1/%zz%",
        long.as_str(),
    ];
    for path in paths {
        for method in [Method::GET, Method::POST, Method::DELETE] {
            let a = send(
                &t,
                method.clone(),
                path,
                None,
                Some("application/json"),
                b"{}".to_vec(),
            )
            .await;
            assert_eq!(a.status, 404, "{method} {path}: {}", a.text);
            a.problem(404, "not_found");
        }
    }
}

#[actix_web::test]
async fn a_known_path_with_the_wrong_method_is_405_with_allow() {
    let t = TestApp::spawn().await;
    let cases = [
        (Method::DELETE, "/v1/me", "GET"),
        (Method::POST, "/v1/me", "GET"),
        (Method::PUT, "/v1/me", "GET"),
        (Method::GET, "/v1/auth/login", "POST"),
        (Method::PATCH, "/v1/auth/login", "POST"),
        (Method::GET, "/v1/auth/login/password", "POST"),
        (Method::PUT, "/v1/auth/token/refresh", "POST"),
        (Method::GET, "/v1/auth/logout", "POST"),
        (Method::DELETE, "/v1/me/password", "POST"),
        (Method::POST, "/healthz", "GET"),
        (Method::DELETE, "/readyz", "GET"),
        (Method::POST, "/metrics", "GET"),
        (Method::PUT, "/.well-known/jwks.json", "GET"),
    ];
    for (method, path, allow) in cases {
        let a = t.call(method.clone(), path, None, Some(json!({}))).await;
        assert_eq!(a.status, 405, "{method} {path}: {}", a.text);
        a.problem(405, "method_not_allowed");
        assert_eq!(a.header("allow"), allow, "{method} {path}");
    }
}

#[actix_web::test]
async fn an_invalid_email_fails_validation_on_email() {
    let t = TestApp::spawn().await;
    let long = format!("{}@example.com", "a".repeat(288));
    assert_eq!(long.len(), 300);
    let long_local = format!("{}@example.com", "b".repeat(65));
    for email in [
        "",
        "   ",
        "ada",
        "ada.example.com",
        "ada @example.com",
        "ada@exa mple.com",
        " ada lovelace@example.com ",
        "ada@",
        "@example.com",
        "ada@@example.com",
        "ada@example@com",
        "ada@.example.com",
        "ada@example.com.",
        "ada\t@example.com",
        "ada\u{0}@example.com",
        "ada\n@example.com",
        "ada\u{3000}@example.com",
        long.as_str(),
        long_local.as_str(),
    ] {
        let a = t.post("/v1/auth/login", json!({ "email": email })).await;
        assert_eq!(a.status, 400, "{email:?}: {}", a.text);
        assert_invalid_field(&a, "email");
    }
}

/// A bad body for the barrage: content type (None: no header) and bytes.
fn barrage() -> Vec<(Option<&'static str>, Vec<u8>)> {
    let json = Some("application/json");
    let mut cases: Vec<(Option<&'static str>, Vec<u8>)> = vec![
        (json, b"".to_vec()),
        (json, b"   \n".to_vec()),
        (json, b"{".to_vec()),
        (json, b"}".to_vec()),
        (json, b"{\"email\":".to_vec()),
        (json, b"{\"email\": \"ada@example.com\"".to_vec()),
        (json, b"{\"email\": \"\xff\xfe\"}".to_vec()),
        (
            json,
            b"\xef\xbb\xbf{\"email\": \"ada@example.com\"}".to_vec(),
        ),
        (json, b"{\"email\": \"ada@example.com\"} trailing".to_vec()),
        (json, b"null".to_vec()),
        (json, b"[]".to_vec()),
        (json, b"[{}]".to_vec()),
        (json, b"0".to_vec()),
        (json, b"1e999999".to_vec()),
        (json, b"-0".to_vec()),
        (json, b"\"\\ud800\"".to_vec()),
        (json, b"{\"email\": \"\\ud800\"}".to_vec()),
        (json, b"{\"password\": \"\\u0000\\u0000\"}".to_vec()),
        (json, b"{\"email\": 1e999999}".to_vec()),
        (
            json,
            b"{\"email\": \"a@b.c\", \"email\": \"d@e.f\"}".to_vec(),
        ),
        (json, b"{\"__proto__\": {\"admin\": true}}".to_vec()),
        (json, b"{\"refresh_token\": {\"$ne\": null}}".to_vec()),
        (
            json,
            b"{\"flow_token\": \"' OR 1=1 --\", \"password\": [1, 2]}".to_vec(),
        ),
        (
            json,
            b"{\"current_password\": 1, \"new_password\": false}".to_vec(),
        ),
        (json, b"{\"\": \"\"}".to_vec()),
        (json, "[".repeat(20_000).into_bytes()),
        (
            json,
            format!("{}1{}", "[".repeat(5_000), "]".repeat(5_000)).into_bytes(),
        ),
        (
            json,
            format!("{{\"a\":{}}}", "{\"a\":".repeat(3_000)).into_bytes(),
        ),
        (json, login_body_of(JSON_LIMIT + 1)),
        (
            Some("application/json; charset=utf-16"),
            b"\xff\xfe{\0}\0".to_vec(),
        ),
        (
            Some("text/plain"),
            b"{\"email\": \"ada@example.com\"}".to_vec(),
        ),
        (
            Some("application/x-www-form-urlencoded"),
            b"email=a%40b.c".to_vec(),
        ),
        (None, b"{\"email\": \"ada@example.com\"}".to_vec()),
        (Some("application/json/../xml"), b"{}".to_vec()),
    ];
    // Random-looking binary noise, reproducibly.
    let mut x: u32 = 0x9e37_79b9;
    let noise: Vec<u8> = (0..4096)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x.to_le_bytes()[0]
        })
        .collect();
    cases.push((json, noise));
    cases
}

#[actix_web::test]
async fn no_bad_request_ever_gets_a_5xx_or_changes_data() {
    let t = TestApp::spawn().await;
    let admin = t.account("Acme").await;
    let tokens = t.login(&admin).await;
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let cases = barrage();
    assert!(cases.len() >= 30);

    let mut failures = Vec::new();
    for path in JSON_ROUTES {
        for (i, (ct, body)) in cases.iter().enumerate() {
            let a = send(&t, Method::POST, path, Some(&access), *ct, body.clone()).await;
            let ok = a.status.is_client_error()
                && a.header("content-type") == "application/problem+json"
                && a.json["code"].as_str().is_some_and(|c| !c.is_empty())
                && a.json["status"] == a.status.as_u16();
            if !ok {
                failures.push(format!(
                    "POST {path} case {i} ({ct:?}): {} {}",
                    a.status, a.text
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // Nothing was lost or corrupted: the session, the refresh token and the
    // password all still work.
    t.get("/v1/me", Some(&access)).await.ok();
    let refreshed = t
        .post(
            "/v1/auth/token/refresh",
            json!({ "refresh_token": tokens["refresh_token"] }),
        )
        .await;
    assert_eq!(refreshed.ok()["status"], "authenticated");
    let again = t.access_token(&admin).await;
    let me = t.get("/v1/me", Some(&again)).await;
    assert_eq!(me.ok()["email"], admin.email.as_str());
    assert_eq!(t.get("/readyz", None).await.status, 200);
}

#[actix_web::test]
async fn every_bad_field_of_a_body_is_named_at_once() {
    let t = TestApp::spawn().await;
    let admin = t.account("Acme").await;
    let access = t.access_token(&admin).await;
    let a = t
        .call(
            Method::POST,
            "/v1/admin/users",
            Some(&access),
            Some(json!({ "email": 42, "name": "", "role": "boss", "team": "x" })),
        )
        .await;
    a.problem(400, "validation_failed");
    let mut fields: Vec<&str> = a.json["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    fields.sort_unstable();
    assert_eq!(fields, ["email", "name", "role", "team"], "{}", a.text);
    // Nothing was created.
    let list = t.get("/v1/admin/users", Some(&access)).await;
    assert_eq!(list.ok()["items"].as_array().unwrap().len(), 1);
}
