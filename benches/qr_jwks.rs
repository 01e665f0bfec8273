//! Latency of the enrollment QR images and of the JWKS.
//!
//! In process: the service's own PNG and SVG rendering of an otpauth URI
//! (`twofold::crypto::qr::render`), each sample a URI not seen before, and
//! again one URI rendered over and over, at the default width and at the
//! largest allowed. Over HTTP, against the real
//! `twofold serve` binary: `GET /.well-known/jwks.json`, the flow's
//! `qr.png` and `qr.svg`, and `POST /v1/auth/enrollment/totp` (which
//! answers both images inline), on one keep-alive connection, each timed
//! from sending to the whole body read.
//!
//! ```sh
//! cargo bench --bench qr_jwks -- [--samples 2000] [--requests 1000] \
//!     [--database postgres://USER:PASS@HOST/DB]
//! ```
//! With `--database postgres://…/DB`, a fresh database is created next to
//! DB and dropped afterwards; without it, a SQLite file in a temporary
//! directory is used.

#![expect(
    clippy::expect_used,
    reason = "a benchmark harness stops loudly on any failure"
)]

use std::time::{Duration, Instant};

use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use twofold::crypto::qr::{self, Format};

mod common;
use common::server::{create_account, free_port, serve};
use common::{arg, percentile, timed, Scratch};

/// Requests sent (and not timed) before measuring, to warm the connection.
const WARM_UP: usize = 50;

fn row(label: &str, samples: &mut [Duration], bytes: usize) {
    println!(
        "{label:<44} {:>8.3} {:>8.3} {:>8.3} {bytes:>8}",
        percentile(samples, 0.5),
        percentile(samples, 0.99),
        percentile(samples, 1.0),
    );
}

fn header() {
    println!(
        "{:<44} {:>8} {:>8} {:>8} {:>8}",
        "(ms)", "p50", "p99", "max", "bytes"
    );
}

/// An otpauth URI as enrollment writes it, with secret number `n`.
fn uri(n: usize) -> String {
    let secret = data_encoding::BASE32_NOPAD.encode(&Sha256::digest(n.to_le_bytes())[..20]);
    format!(
        "otpauth://totp/twofold:ada.lovelace%40example.com?secret={secret}\
         &issuer=twofold&algorithm=SHA1&digits=6&period=30"
    )
}

/// `render` of `samples` URIs never rendered before, then `samples` renders
/// of one URI (an enrollment's image fetched again).
fn in_process(samples: usize) {
    let mut next = 0;
    for (format, size) in [
        (Format::Png, qr::DEFAULT_SIZE),
        (Format::Svg, qr::DEFAULT_SIZE),
        (Format::Png, qr::MAX_SIZE),
        (Format::Svg, qr::MAX_SIZE),
    ] {
        let mut times = Vec::with_capacity(samples);
        let mut bytes = 0;
        for _ in 0..samples {
            next += 1;
            let text = uri(next);
            let started = Instant::now();
            let image = qr::render(&text, format, size).expect("render");
            times.push(started.elapsed());
            bytes = image.len();
        }
        let label = format!("render {} size={size} (new URI)", format.extension());
        row(&label, &mut times, bytes);

        let text = uri(0);
        qr::render(&text, format, size).expect("render");
        let mut times = Vec::with_capacity(samples);
        for _ in 0..samples {
            let started = Instant::now();
            let image = qr::render(&text, format, size).expect("render");
            times.push(started.elapsed());
            bytes = image.len();
        }
        let label = format!("render {} size={size} (same URI)", format.extension());
        row(&label, &mut times, bytes);
    }
}

struct Api {
    client: Client,
    base: String,
}

impl Api {
    /// Status, body and the time from sending to the whole body read.
    async fn call(
        &self,
        method: Method,
        path: &str,
        bearer: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Vec<u8>, Duration) {
        let request = self.client.request(method, format!("{}{path}", self.base));
        timed(request, bearer, body).await
    }

    /// A call that must answer `expected`; its JSON body.
    async fn json(&self, path: &str, bearer: Option<&str>, body: Value, expected: u16) -> Value {
        let (status, bytes, _) = self.call(Method::POST, path, bearer, Some(body)).await;
        let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        assert_eq!(status, expected, "{path}: {body}");
        body
    }

    async fn password_login(&self, email: &str, password: &str) -> Value {
        let start = self
            .json("/v1/auth/login", None, json!({ "email": email }), 200)
            .await;
        let body = json!({ "flow_token": start["flow_token"], "password": password });
        self.json("/v1/auth/login/password", None, body, 200).await
    }

    /// `requests` timed calls (after a warm-up); their durations and the
    /// size of the last body.
    async fn repeat(
        &self,
        method: Method,
        path: &str,
        bearer: Option<&str>,
        requests: usize,
    ) -> (Vec<Duration>, usize) {
        let mut times = Vec::with_capacity(requests);
        let mut bytes = 0;
        for n in 0..WARM_UP + requests {
            let body = (method == Method::POST).then(|| json!({}));
            let (status, body, took) = self.call(method.clone(), path, bearer, body).await;
            assert_eq!(status, 200, "{path}: {}", String::from_utf8_lossy(&body));
            if n >= WARM_UP {
                times.push(took);
                bytes = body.len();
            }
        }
        (times, bytes)
    }
}

fn field(body: &Value, name: &str) -> String {
    body[name]
        .as_str()
        .unwrap_or_else(|| panic!("{name} in {body}"))
        .to_owned()
}

async fn wait_ready(api: &Api) {
    for _ in 0..200 {
        let ready = api.client.get(format!("{}/readyz", api.base)).send().await;
        if ready.is_ok_and(|r| r.status() == 200) {
            return;
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("twofold serve did not become ready");
}

async fn over_http(api: Api, admin_password: String, requests: usize) {
    wait_ready(&api).await;
    let admin = api
        .password_login("admin@bench.test", &admin_password)
        .await;
    let admin_token = field(&admin, "access_token");
    let user = json!({ "email": "user@bench.test", "name": "Bench User", "role": "technician" });
    let created = api
        .json("/v1/admin/users", Some(&admin_token), user, 201)
        .await;
    let enable = format!("/v1/admin/users/{}/2fa/enable", field(&created, "id"));
    api.json(&enable, Some(&admin_token), json!({}), 200).await;
    let answer = api
        .password_login("user@bench.test", &field(&created, "initial_password"))
        .await;
    assert_eq!(answer["status"], "enrollment_required", "{answer}");
    let flow = field(&answer, "flow_token");
    let start = "/v1/auth/enrollment/totp";
    api.json(start, Some(&flow), json!({}), 200).await;

    let cases = [
        (Method::GET, "/.well-known/jwks.json", None),
        (Method::GET, "/v1/auth/enrollment/totp/qr.png", Some(&flow)),
        (Method::GET, "/v1/auth/enrollment/totp/qr.svg", Some(&flow)),
        (
            Method::GET,
            "/v1/auth/enrollment/totp/qr.png?size=1200",
            Some(&flow),
        ),
        (Method::POST, start, Some(&flow)),
    ];
    for (method, path, bearer) in cases {
        let bearer = bearer.map(String::as_str);
        let (mut times, bytes) = api.repeat(method.clone(), path, bearer, requests).await;
        row(&format!("{method} {path}"), &mut times, bytes);
    }
}

fn main() {
    let samples: usize = arg("--samples").map_or(2000, |s| s.parse().expect("--samples N"));
    let requests: usize = arg("--requests").map_or(1000, |s| s.parse().expect("--requests N"));
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    println!("{cpus} CPUs; {samples} renders per row, {requests} requests per endpoint");
    header();
    in_process(samples);

    let dir = tempfile::tempdir().expect("temporary directory");
    let database = Scratch::new(arg("--database").as_deref(), "qr_jwks", &dir);
    let port = free_port();
    let env: Vec<(String, String)> = vec![
        ("TWOFOLD_DATABASE_URL".into(), database.url.clone()),
        ("TWOFOLD_DATA_DIR".into(), dir.path().display().to_string()),
        ("TWOFOLD_BIND".into(), format!("127.0.0.1:{port}")),
        ("TWOFOLD_LOG".into(), "warn".into()),
    ];
    let created = create_account(&env, 10);
    let admin_password = field(&created, "password");

    let server = serve(&env);
    let backend = if database.url.starts_with("postgres") {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    println!("over HTTP, twofold serve (release) on {backend}, one keep-alive connection");
    let api = Api {
        client: Client::new(),
        base: format!("http://127.0.0.1:{port}"),
    };
    actix_web::rt::System::new().block_on(over_http(api, admin_password, requests));
    drop(server);
    drop(database);
}
