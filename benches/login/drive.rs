//! Complete logins from concurrent clients: email, password, app code, in
//! measured rounds with pauses between them (see [`run`]).
//!
//! Every client loops over the seeded users in turn (one shared cursor), so
//! a user comes round again only after all the others have. Each user's
//! last accepted step is remembered: a user's code is never sent twice for
//! one 30-second step (the server refuses that, rightly, as a replay).

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::{Duration, Instant};

use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use twofold::crypto::totp::{code_for_step, step_of, DIGITS};

use super::seed::User;

/// Durations of the measured logins' steps.
#[derive(Default)]
pub struct Latencies {
    pub email: Vec<Duration>,
    pub password: Vec<Duration>,
    pub code: Vec<Duration>,
    pub whole: Vec<Duration>,
}

/// What the measured rounds saw.
#[derive(Default)]
pub struct Outcome {
    /// Logins that ended `authenticated` inside a round.
    pub logins: usize,
    pub latencies: Latencies,
    /// Every other answer, by step and what came back.
    pub errors: BTreeMap<String, usize>,
    /// The rounds' lengths added up, each from its start to its stop signal.
    pub seconds: f64,
    /// Per round: logins, and its length in seconds.
    pub rounds: Vec<(usize, f64)>,
}

/// How the measured time is cut: `count` rounds of `seconds` each, every
/// round after the first preceded by `re_warm_up` unmeasured.
pub struct Rounds {
    pub count: usize,
    pub seconds: Duration,
    pub re_warm_up: Duration,
}

struct Shared {
    client: Client,
    base: String,
    password: String,
    users: Vec<User>,
    last_step: Vec<Cell<i64>>,
    next: Cell<usize>,
    measuring: Cell<bool>,
    /// No new login starts while set; those under way finish.
    paused: Cell<bool>,
    in_flight: Cell<usize>,
    stop: Cell<bool>,
    outcome: RefCell<Outcome>,
}

impl Shared {
    async fn post(&self, path: &str, body: Value) -> Result<(StatusCode, Value, Duration), String> {
        let started = Instant::now();
        let url = format!("{}{path}", self.base);
        let response = self
            .client
            .post(url)
            .json(&body)
            .send()
            .await
            .map_err(|e| format!("{path}: transport error: {e}"))?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|e| format!("{path}: body: {e}"))?;
        Ok((
            status,
            serde_json::from_str(&text).unwrap_or(Value::Null),
            started.elapsed(),
        ))
    }

    /// One complete login of user `n`: the three steps' durations, or what
    /// went wrong (the step, the status and the answer's `status` or `code`).
    async fn login(&self, n: usize) -> Result<[Duration; 3], String> {
        let user = &self.users[n];
        let (status, body, email) = self
            .post("/v1/auth/login", json!({ "email": user.email }))
            .await?;
        expect("email step", status, &body, "password_required")?;
        let body = json!({ "flow_token": body["flow_token"], "password": self.password });
        let (status, body, password) = self.post("/v1/auth/login/password", body).await?;
        expect("password step", status, &body, "mfa_required")?;

        let now = step_of(chrono::Utc::now().timestamp());
        let step = now.max(self.last_step[n].get() + 1);
        if step > now + 1 {
            return Err("bench: user came round again within one 30 s step".into());
        }
        // Remembered before sending: the server may accept it even if the
        // answer never arrives.
        self.last_step[n].set(step);
        let code = code_for_step(&user.secret, step, DIGITS);
        let body = json!({ "flow_token": body["flow_token"], "code": code });
        let (status, body, code) = self.post("/v1/auth/login/totp", body).await?;
        expect("code step", status, &body, "authenticated")?;
        Ok([email, password, code])
    }

    fn record(&self, result: Result<[Duration; 3], String>) {
        if !self.measuring.get() {
            return;
        }
        let mut outcome = self.outcome.borrow_mut();
        match result {
            Ok([email, password, code]) => {
                outcome.logins += 1;
                let latencies = &mut outcome.latencies;
                latencies.email.push(email);
                latencies.password.push(password);
                latencies.code.push(code);
                latencies.whole.push(email + password + code);
            }
            Err(what) => *outcome.errors.entry(what).or_default() += 1,
        }
    }
}

fn expect(step: &str, status: StatusCode, body: &Value, state: &str) -> Result<(), String> {
    if status == StatusCode::OK && body["status"] == state {
        return Ok(());
    }
    let said = body["code"]
        .as_str()
        .or_else(|| body["status"].as_str())
        .unwrap_or("?");
    Err(format!("{step}: {} {said}", status.as_u16()))
}

/// Runs `clients` login loops against `base`: `warm_up` unmeasured, then
/// `rounds.count` measured rounds. Each round calls `begin`, counts logins
/// for `rounds.seconds` and calls `end` with what `begin` returned as it
/// closes. Between two rounds no login starts: once those under way have
/// finished `between` runs (the server idle), then the clients start again
/// and warm up for `rounds.re_warm_up`.
#[expect(
    clippy::too_many_arguments,
    reason = "one call site; a builder would hide nothing"
)]
pub fn run<T, U>(
    base: String,
    password: String,
    users: Vec<User>,
    clients: usize,
    warm_up: Duration,
    rounds: &Rounds,
    mut begin: impl FnMut() -> T,
    mut end: impl FnMut(T) -> U,
    mut between: impl FnMut(),
) -> (Outcome, Vec<U>) {
    let last_step = users.iter().map(|_| Cell::new(0)).collect();
    let shared = Rc::new(Shared {
        // Idle connections are dropped before the server's keep-alive (5 s)
        // would close them during a pause, under a request sent on them.
        client: Client::builder()
            .pool_idle_timeout(Duration::from_secs(2))
            .build()
            .expect("HTTP client"),
        base,
        password,
        users,
        last_step,
        next: Cell::new(0),
        measuring: Cell::new(false),
        paused: Cell::new(false),
        in_flight: Cell::new(0),
        stop: Cell::new(false),
        outcome: RefCell::new(Outcome::default()),
    });
    let tick = Duration::from_millis(5);
    actix_web::rt::System::new().block_on(async {
        let mut loops = Vec::new();
        for _ in 0..clients {
            let shared = Rc::clone(&shared);
            loops.push(actix_web::rt::spawn(async move {
                while !shared.stop.get() {
                    if shared.paused.get() {
                        actix_web::rt::time::sleep(tick).await;
                        continue;
                    }
                    let n = shared.next.get();
                    shared.next.set((n + 1) % shared.users.len());
                    shared.in_flight.set(shared.in_flight.get() + 1);
                    let result = shared.login(n).await;
                    shared.in_flight.set(shared.in_flight.get() - 1);
                    shared.record(result);
                }
            }));
        }
        let mut ended = Vec::new();
        let mut rounds_seen = Vec::new();
        for round in 0..rounds.count {
            if round > 0 {
                shared.paused.set(true);
                while shared.in_flight.get() > 0 {
                    actix_web::rt::time::sleep(tick).await;
                }
                between();
                shared.paused.set(false);
            }
            let warm = if round == 0 {
                warm_up
            } else {
                rounds.re_warm_up
            };
            actix_web::rt::time::sleep(warm).await;
            let logins_before = shared.outcome.borrow().logins;
            let token = begin();
            let started = Instant::now();
            shared.measuring.set(true);
            actix_web::rt::time::sleep(rounds.seconds).await;
            shared.measuring.set(false);
            let seconds = started.elapsed().as_secs_f64();
            ended.push(end(token));
            let logins = shared.outcome.borrow().logins - logins_before;
            rounds_seen.push((logins, seconds));
        }
        shared.stop.set(true);
        for handle in loops {
            handle.await.expect("login loop");
        }
        let mut outcome = shared.outcome.take();
        outcome.seconds = rounds_seen.iter().map(|(_, s)| s).sum();
        outcome.rounds = rounds_seen;
        (outcome, ended)
    })
}
