//! The measuring client of `cheap_under_load`: HTTP calls timed from
//! sending to the whole body read, users enrolled in the authenticator app
//! through the API, and the code step and `GET /v1/me` samples.

use std::cell::Cell;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};

pub fn current_step() -> u64 {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970");
    now.as_secs() / 30
}

pub fn code(secret_b32: &str, step: u64) -> String {
    let secret = data_encoding::BASE32_NOPAD
        .decode(secret_b32.as_bytes())
        .expect("base32 secret");
    totp_lite::totp_custom::<totp_lite::Sha1>(30, 6, &secret, step * 30)
}

pub struct Api {
    pub client: Client,
    pub base: String,
    /// Logins come from many addresses (sent as `X-Forwarded-For`, which
    /// the server trusts from 127.0.0.1), as real users' do: from one
    /// address the per-address limits would refuse the hundreds of flows
    /// the samples keep open, and every login would update one counter row.
    pub logins: Cell<u32>,
    /// The first octets of this client's login addresses.
    pub network: u8,
}

impl Api {
    /// Status, JSON body and the time from sending to the whole body read.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        bearer: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value, Duration) {
        self.call_from(None, method, path, bearer, body).await
    }

    pub async fn call_from(
        &self,
        from: Option<&str>,
        method: Method,
        path: &str,
        bearer: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value, Duration) {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(address) = from {
            request = request.header("x-forwarded-for", address);
        }
        let (status, bytes, elapsed) = crate::common::timed(request, bearer, body).await;
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        (status, json, elapsed)
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value, Duration) {
        self.call(Method::POST, path, None, Some(body)).await
    }

    /// Email then password, from an address of their own; the password
    /// step's answer and duration.
    pub async fn password_login(
        &self,
        email: &str,
        password: &str,
    ) -> (StatusCode, Value, Duration) {
        let n = self.logins.get();
        self.logins.set(n.wrapping_add(1));
        let [_, a, b, c] = n.to_be_bytes();
        let from = format!("{}.{a}.{b}.{}", self.network, c.max(1));
        self.password_login_from(&from, email, password).await
    }

    /// Email then password from `from`; the password step's answer and
    /// duration.
    pub async fn password_login_from(
        &self,
        from: &str,
        email: &str,
        password: &str,
    ) -> (StatusCode, Value, Duration) {
        let from = Some(from);
        let body = json!({ "email": email });
        let (status, start, _) = self
            .call_from(from, Method::POST, "/v1/auth/login", None, Some(body))
            .await;
        assert_eq!(status, 200, "email step: {start}");
        let body = json!({ "flow_token": start["flow_token"], "password": password });
        self.call_from(
            from,
            Method::POST,
            "/v1/auth/login/password",
            None,
            Some(body),
        )
        .await
    }

    /// The password step's answer, which must be 200 with `state`.
    pub async fn expect_state(&self, email: &str, password: &str, state: &str) -> Value {
        let (status, body, _) = self.password_login(email, password).await;
        assert_eq!(status, 200, "password step: {body}");
        assert_eq!(body["status"], state, "{body}");
        body
    }

    /// A POST as `bearer` that must answer `expected`; its body.
    pub async fn post_as(&self, bearer: &str, path: &str, body: Value, expected: u16) -> Value {
        let (status, body, _) = self
            .call(Method::POST, path, Some(bearer), Some(body))
            .await;
        assert_eq!(status, expected, "{path}: {body}");
        body
    }
}

pub fn field(body: &Value, name: &str) -> String {
    body[name]
        .as_str()
        .unwrap_or_else(|| panic!("{name} in {body}"))
        .to_owned()
}

/// A user enrolled in the authenticator app, and the step it used.
pub struct Enrolled {
    pub email: String,
    pub password: String,
    pub secret: String,
    pub used_step: u64,
}

/// Creates a user with 2FA required and enrolls them through the login flow.
pub async fn enrolled_user(api: &Api, admin_token: &str, email: String) -> Enrolled {
    let user = json!({ "email": email, "name": "Bench User", "role": "technician" });
    let created = api.post_as(admin_token, "/v1/admin/users", user, 201).await;
    let password = field(&created, "initial_password");
    let id = field(&created, "id");
    let enable = format!("/v1/admin/users/{id}/2fa/enable");
    api.post_as(admin_token, &enable, json!({}), 200).await;

    let answer = api
        .expect_state(&email, &password, "enrollment_required")
        .await;
    let flow = field(&answer, "flow_token");
    let start = api
        .post_as(&flow, "/v1/auth/enrollment/totp", json!({}), 200)
        .await;
    let secret = field(&start, "secret");
    let used_step = current_step();
    let body = json!({ "code": code(&secret, used_step) });
    let verified = api
        .post_as(&flow, "/v1/auth/enrollment/totp/verify", body, 200)
        .await;
    let confirm = "/v1/auth/enrollment/recovery-code/confirm";
    let body = json!({ "confirmed": true });
    let done = api
        .post_as(&field(&verified, "flow_token"), confirm, body, 200)
        .await;
    assert_eq!(done["status"], "authenticated", "{done}");
    Enrolled {
        email,
        password,
        secret,
        used_step,
    }
}

/// Password steps up to `mfa_required`, one flow per user, ready for a code.
pub async fn flows(api: &Api, users: &[Enrolled]) -> Vec<String> {
    let mut flows = Vec::with_capacity(users.len());
    for user in users {
        let body = api
            .expect_state(&user.email, &user.password, "mfa_required")
            .await;
        flows.push(field(&body, "flow_token"));
    }
    flows
}

/// One code step per user, one at a time; their durations.
pub async fn code_steps(api: &Api, users: &[Enrolled], flows: &[String]) -> Vec<Duration> {
    let mut samples = Vec::with_capacity(users.len());
    for (user, flow) in users.iter().zip(flows) {
        // A step the user has not used yet, inside the server's ±1 window.
        let step = current_step().max(user.used_step + 1);
        let body = json!({ "flow_token": flow, "code": code(&user.secret, step) });
        let (status, body, took) = api.post("/v1/auth/login/totp", body).await;
        assert_eq!(status, 200, "code step: {body}");
        assert_eq!(body["status"], "authenticated", "{body}");
        samples.push(took);
    }
    samples
}

pub async fn me_calls(api: &Api, token: &str, n: usize) -> Vec<Duration> {
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let (status, body, took) = api.call(Method::GET, "/v1/me", Some(token), None).await;
        assert_eq!(status, 200, "{body}");
        samples.push(took);
    }
    samples
}
