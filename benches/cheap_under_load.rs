//! Latency of cheap requests while password logins saturate argon2id.
//!
//! Starts the real `twofold serve` binary with the production argon2id
//! parameters, enrolls users in the authenticator app through the HTTP API,
//! then measures, first on an idle server and then while `--load` clients
//! log in with passwords as fast as they can:
//! - the one-time-code step `POST /v1/auth/login/totp` (one fresh flow per
//!   sample, each user's code used once, as in real logins);
//! - `GET /v1/me` with an access token;
//! - the password step itself, and how many password steps were refused with
//!   503 because the hashing queue was full, or 429 while too many of the
//!   user's checks from unknown addresses were in flight (those clients then
//!   wait `Retry-After`, as the API tells them to).
//!
//! Each load client logs in from an address of its own and each sample from
//! a fresh one (`X-Forwarded-For`, trusted from 127.0.0.1), as real users do.
//!
//! ```sh
//! cargo bench --bench cheap_under_load -- [--samples 100] [--load 16] \
//!     [--database postgres://USER:PASS@HOST/DB]
//! ```
//! With `--database postgres://…/DB`, a fresh database is created next to
//! DB and dropped afterwards; without it, a SQLite file in a temporary
//! directory is used. The measuring client and the password clients run in
//! this process on two threads, sharing the machine's CPUs with the server.

#![expect(
    clippy::expect_used,
    reason = "a benchmark harness stops loudly on any failure"
)]

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use reqwest::Client;
use serde_json::json;

mod cheap;
mod common;
use cheap::client::{code_steps, enrolled_user, field, flows, me_calls, Api};
use common::server::{autogroup, create_account, free_port, serve};
use common::{arg, percentile, Scratch};

const LOAD_EMAIL: &str = "load@bench.test";

fn row(label: &str, idle: &mut [Duration], loaded: &mut [Duration]) {
    println!(
        "{label:<30} {:>8.2} {:>8.2}   {:>8.2} {:>8.2} {:>8.2}",
        percentile(idle, 0.5),
        percentile(idle, 0.99),
        percentile(loaded, 0.5),
        percentile(loaded, 0.99),
        percentile(loaded, 1.0),
    );
}

/// Password logins from `clients` concurrent loops, on a thread and client
/// of their own so that the measured requests never wait behind them in
/// this process, until `stop` is set. A 503 is honoured as clients are
/// told to: wait `Retry-After`, then try again.
/// Answers (durations of the password steps answered 200, how many 503).
fn password_load(
    base: String,
    password: String,
    clients: usize,
    stop: Arc<AtomicBool>,
) -> thread::JoinHandle<(Vec<Duration>, usize)> {
    thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let api = Rc::new(Api {
                client: Client::new(),
                base,
                logins: Cell::new(0),
                network: 10,
            });
            let samples = Rc::new(RefCell::new(Vec::new()));
            let refused = Rc::new(Cell::new(0usize));
            let mut loops = Vec::new();
            for client in 0..clients {
                let (api, stop, password) = (Rc::clone(&api), Arc::clone(&stop), password.clone());
                let (samples, refused) = (Rc::clone(&samples), Rc::clone(&refused));
                // Each client from an address of its own, which becomes
                // known to the user at its first login.
                let from = format!("10.0.{}.{}", client / 250, client % 250 + 1);
                loops.push(actix_web::rt::spawn(async move {
                    while !stop.load(Ordering::Relaxed) {
                        let (status, body, took) =
                            api.password_login_from(&from, LOAD_EMAIL, &password).await;
                        match status.as_u16() {
                            200 => samples.borrow_mut().push(took),
                            // The queue is full (503), or, before the
                            // address is known, too many of the user's
                            // password checks are in flight (429): wait as
                            // told.
                            429 | 503 => {
                                refused.set(refused.get() + 1);
                                let wait = body["retry_after"].as_u64().unwrap_or(1);
                                actix_web::rt::time::sleep(Duration::from_secs(wait)).await;
                            }
                            other => panic!("password step under load answered {other}: {body}"),
                        }
                    }
                }));
            }
            for handle in loops {
                handle.await.expect("load loop");
            }
            let samples = samples.take();
            (samples, refused.get())
        })
    })
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

/// `set_up_done` runs once the users are enrolled and waiting at the code
/// step, before anything is measured.
async fn measure(
    api: Rc<Api>,
    admin_password: String,
    samples: usize,
    load: usize,
    set_up_done: impl FnOnce(),
) {
    wait_ready(&api).await;
    let admin = api
        .expect_state("admin@bench.test", &admin_password, "authenticated")
        .await;
    let admin_token = field(&admin, "access_token");
    let user = json!({ "email": LOAD_EMAIL, "name": "Load", "role": "technician" });
    let loader = api
        .post_as(&admin_token, "/v1/admin/users", user, 201)
        .await;
    let load_password = field(&loader, "initial_password");

    let started = Instant::now();
    let mut users = Vec::with_capacity(2 * samples);
    for n in 0..2 * samples {
        users.push(enrolled_user(&api, &admin_token, format!("user{n}@bench.test")).await);
    }
    let (idle_users, loaded_users) = users.split_at(samples);
    let idle_flows = flows(&api, idle_users).await;
    let loaded_flows = flows(&api, loaded_users).await;
    eprintln!(
        "set-up: {} users enrolled and at mfa_required in {:.1} s",
        2 * samples,
        started.elapsed().as_secs_f64()
    );
    set_up_done();

    let mut idle_code = code_steps(&api, idle_users, &idle_flows).await;
    let mut idle_me = me_calls(&api, &admin_token, samples).await;
    let mut idle_password = Vec::new();
    for _ in 0..(samples / 4).max(5) {
        let (status, body, took) = api.password_login(LOAD_EMAIL, &load_password).await;
        assert_eq!(status, 200, "{body}");
        idle_password.push(took);
    }

    let stop = Arc::new(AtomicBool::new(false));
    let load_started = Instant::now();
    let password = load_password.clone();
    let load_thread = password_load(api.base.clone(), password, load, Arc::clone(&stop));
    // Let the hashing queue fill before measuring.
    actix_web::rt::time::sleep(Duration::from_secs(2)).await;
    let mut loaded_code = code_steps(&api, loaded_users, &loaded_flows).await;
    let mut loaded_me = me_calls(&api, &admin_token, samples).await;
    stop.store(true, Ordering::Relaxed);
    let (mut loaded_password, refused) = load_thread.join().expect("load thread");
    let seconds = load_started.elapsed().as_secs_f64();

    println!(
        "{:<30} {:>17}   {:>26}",
        "request (ms)", "idle p50 p99", "under load p50 p99 max"
    );
    row("POST /v1/auth/login/totp", &mut idle_code, &mut loaded_code);
    row("GET /v1/me", &mut idle_me, &mut loaded_me);
    row(
        "POST /v1/auth/login/password",
        &mut idle_password,
        &mut loaded_password,
    );
    println!(
        "password steps under load: {} answered 200 in {seconds:.1} s ({:.1}/s), {refused} answered 503 or 429",
        loaded_password.len(),
        loaded_password.len() as f64 / seconds,
    );
}

fn main() {
    let samples: usize = arg("--samples").map_or(100, |s| s.parse().expect("--samples N"));
    let load: usize = arg("--load").map_or(16, |s| s.parse().expect("--load N"));
    let dir = tempfile::tempdir().expect("temporary directory");
    let database = Scratch::new(arg("--database").as_deref(), "load", &dir);
    let port = free_port();
    let env: Vec<(String, String)> = vec![
        ("TWOFOLD_DATABASE_URL".into(), database.url.clone()),
        ("TWOFOLD_DATA_DIR".into(), dir.path().display().to_string()),
        ("TWOFOLD_BIND".into(), format!("127.0.0.1:{port}")),
        ("TWOFOLD_LOG".into(), "warn".into()),
        // Clients send their addresses as a proxy would (see `Api`).
        ("TWOFOLD_TRUSTED_PROXIES".into(), "127.0.0.1".into()),
    ];

    let created = create_account(&env, 2 * samples + 10);
    let admin_password = field(&created, "password");

    let server = serve(&env);
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    let backend = if database.url.starts_with("postgres") {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    println!(
        "twofold serve on {backend}, argon2id defaults (19456 KiB, t=2, p=1), {cpus} CPUs ({}), \
         {samples} samples per cell, {load} password clients",
        autogroup()
    );
    let api = Rc::new(Api {
        client: Client::new(),
        base: format!("http://127.0.0.1:{port}"),
        logins: Cell::new(0),
        network: 11,
    });
    // The set-up's rows analysed (see `Scratch::analyze`).
    let analyze = || database.analyze();
    actix_web::rt::System::new().block_on(measure(api, admin_password, samples, load, analyze));
    drop(server);
    drop(database);
}
