//! Test fixtures: a real HTTP server per test, with an injected clock, on
//! SQLite (a fresh file per test) or PostgreSQL (a fresh database per test
//! run, shared by the run's tests, each of which makes its own accounts).
//!
//! Set `TWOFOLD_TEST_DATABASE_URL=postgres://USER:PASS@HOST:PORT/DB` to run
//! the suite on PostgreSQL; DB only names where to create the test database.

pub mod binary;
pub mod conform;
pub mod qr;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Duration, Utc};
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use twofold::accounts::service::{self as accounts, NewAccount};
use twofold::clock::{Clock, ManualClock};
use twofold::config::Config;
use twofold::crypto::Secret;
use twofold::db::Db;
use twofold::users::{Role, User};
use twofold::{app, AppState};

/// The master key of every test app: on PostgreSQL the suite's tests share
/// one database, and instances sharing a database share their master key
/// (it seals the signing keys in it). Base64 of 32 bytes.
pub const MASTER_KEY: &str = "dHdvZm9sZC10ZXN0LXN1aXRlLW1hc3Rlci1rZXktMzI=";

/// 2026-11-28T09:00:00Z: every test starts at the same instant.
pub const START: i64 = 1_795_856_400;

/// The `TWOFOLD_TEST_DATABASE_URL` server, when the suite runs on PostgreSQL.
fn postgres_base() -> Option<String> {
    let base = std::env::var("TWOFOLD_TEST_DATABASE_URL").ok()?;
    let base = base.trim().to_owned();
    (!base.is_empty() && !base.starts_with("sqlite://")).then_some(base)
}

/// A new, migrated PostgreSQL database next to `base`.
fn fresh_postgres_database(base: &str) -> String {
    let name = format!("twofold_test_{}", uuid::Uuid::new_v4().simple());
    twofold::db::init_tls();
    let mut admin = PgConnection::establish(base)
        .unwrap_or_else(|e| panic!("TWOFOLD_TEST_DATABASE_URL unreachable: {e}"));
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .expect("create test database");
    let (prefix, _) = base.rsplit_once('/').expect("URL ends in /DATABASE");
    let url = format!("{prefix}/{name}");
    Db::connect(&url)
        .expect("connect")
        .migrate()
        .expect("migrate");
    url
}

/// Where this run's tests keep data: a PostgreSQL URL, or `None` for SQLite.
fn postgres_url() -> Option<&'static str> {
    static URL: OnceLock<Option<String>> = OnceLock::new();
    URL.get_or_init(|| {
        let base = postgres_base()?;
        twofold::db::init_tls();
        let mut admin = PgConnection::establish(&base)
            .unwrap_or_else(|e| panic!("TWOFOLD_TEST_DATABASE_URL unreachable: {e}"));
        drop_idle_test_databases(&mut admin);
        Some(fresh_postgres_database(&base))
    })
    .as_deref()
}

/// Drops test databases of earlier runs. PostgreSQL refuses to drop a
/// database that has connections, so a run still in progress keeps its own.
fn drop_idle_test_databases(admin: &mut PgConnection) {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct Name {
        #[diesel(sql_type = diesel::sql_types::Text)]
        datname: String,
    }
    let old: Vec<Name> = diesel::sql_query(
        "SELECT datname FROM pg_database WHERE datname LIKE 'twofold\\_test\\_%'",
    )
    .load(admin)
    .unwrap_or_default();
    for db in old {
        let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {}", db.datname));
    }
}

pub fn backend() -> &'static str {
    if postgres_url().is_some() {
        "postgres"
    } else {
        "sqlite"
    }
}

/// A database URL for one test (SQLite: its own file in `dir`).
pub fn database_url(dir: &tempfile::TempDir) -> String {
    match postgres_url() {
        Some(url) => url.to_owned(),
        None => format!("sqlite://{}", dir.path().join("twofold.db").display()),
    }
}

/// A database of its own for one test even on PostgreSQL, for a spawned
/// binary with default limits: per-address counters in the shared database
/// would be the whole suite's (every test connects from 127.0.0.1).
pub fn own_database_url(dir: &tempfile::TempDir) -> String {
    match postgres_base() {
        Some(base) => {
            postgres_url(); // clean up earlier runs first
            fresh_postgres_database(&base)
        }
        None => database_url(dir),
    }
}

/// Configuration for tests: cheap argon2 so the suite stays fast.
pub fn test_config(dir: &tempfile::TempDir, extra: &[(&str, &str)]) -> Config {
    let url = database_url(dir);
    let data_dir = dir.path().display().to_string();
    let mut vars: Vec<(String, String)> = vec![
        ("TWOFOLD_DATABASE_URL".into(), url),
        ("TWOFOLD_DATA_DIR".into(), data_dir),
        ("TWOFOLD_MASTER_KEY".into(), MASTER_KEY.into()),
        ("TWOFOLD_ARGON2_MEMORY_KIB".into(), "64".into()),
        ("TWOFOLD_ARGON2_ITERATIONS".into(), "1".into()),
        // Every test connects from 127.0.0.1 and, on PostgreSQL, shares one
        // database: a per-address counter would leak between tests. The
        // test of that limit sets its own and a unique forwarded address.
        ("TWOFOLD_ADDRESS_FAILURE_LIMIT".into(), "1000000".into()),
        ("TWOFOLD_ADDRESS_FLOW_LIMIT".into(), "1000000".into()),
    ];
    vars.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    Config::from_lookup(|name| {
        vars.iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    })
    .expect("test config")
}

pub struct TestApp {
    pub addr: SocketAddr,
    pub clock: ManualClock,
    pub state: AppState,
    pub client: reqwest::Client,
    _dir: tempfile::TempDir,
    server: actix_web::dev::ServerHandle,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let server = self.server.clone();
        actix_web::rt::spawn(async move { server.stop(false).await });
    }
}

/// An answer: status, headers and body (JSON when it parses).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
    pub json: Value,
}

impl Answer {
    /// Asserts a problem+json answer with this status and code.
    #[track_caller]
    pub fn problem(&self, status: u16, code: &str) -> &Self {
        assert_eq!(self.status.as_u16(), status, "{}", self.text);
        let ct = self.header("content-type");
        assert_eq!(ct, "application/problem+json", "{}", self.text);
        assert_eq!(self.json["code"], code, "{}", self.text);
        assert_eq!(self.json["status"], status, "{}", self.text);
        self
    }

    #[track_caller]
    pub fn ok(&self) -> &Value {
        assert!(self.status.is_success(), "{}: {}", self.status, self.text);
        &self.json
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

/// A user a test can sign in as.
#[derive(Debug, Clone)]
pub struct Person {
    pub id: String,
    pub account_id: String,
    pub email: String,
    pub password: String,
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::with_env(&[]).await
    }

    /// An app with a database of its own even on PostgreSQL, for tests
    /// whose actions are global (the janitor purges every account's rows).
    pub async fn spawn_isolated() -> Self {
        let own = postgres_base().map(|base| {
            postgres_url(); // clean up earlier runs first
            fresh_postgres_database(&base)
        });
        match own {
            Some(url) => Self::with_env(&[("TWOFOLD_DATABASE_URL", &url)]).await,
            None => Self::spawn().await,
        }
    }

    pub async fn with_env(extra: &[(&str, &str)]) -> Self {
        let start = DateTime::<Utc>::from_timestamp(START, 0).expect("start");
        Self::with_env_and_clock(extra, ManualClock::new(start)).await
    }

    /// Another instance on this app's database and clock, with a data
    /// directory of its own and `extra` settings (e.g. other master keys).
    pub async fn sibling(&self, extra: &[(&str, &str)]) -> Self {
        let mut vars = vec![(
            "TWOFOLD_DATABASE_URL",
            self.state.config.database_url.as_str(),
        )];
        vars.extend_from_slice(extra);
        Self::with_env_and_clock(&vars, self.clock.clone()).await
    }

    async fn with_env_and_clock(extra: &[(&str, &str)], clock: ManualClock) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = test_config(&dir, extra);
        let db = Db::connect(&config.database_url).expect("database");
        db.migrate().expect("migrate");
        let state = AppState::new(config, db, Arc::new(clock.clone())).expect("state");
        let factory_state = state.clone();
        let server = actix_web::HttpServer::new(move || app(factory_state.clone()))
            .workers(1)
            .disable_signals()
            .bind(("127.0.0.1", 0))
            .expect("bind");
        let addr = server.addrs()[0];
        let server = server.run();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        Self {
            addr,
            clock,
            state,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            _dir: dir,
            server: handle,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn advance(&self, seconds: i64) {
        self.clock.advance(Duration::seconds(seconds));
    }

    /// Sends a request with an optional bearer token and JSON body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        bearer: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        let mut req = self.client.request(method.clone(), self.url(path));
        if let Some(token) = bearer {
            req = req.header(AUTHORIZATION, format!("Bearer {token}"));
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let got = answer(req.send().await.expect("request")).await;
        let content_type = got
            .headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        conform::check(&method, path, got.status.as_u16(), &content_type, &got.json);
        got
    }

    /// Sends raw bytes with the given content type.
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Answer {
        let req = self
            .client
            .request(method, self.url(path))
            .header(
                CONTENT_TYPE,
                HeaderValue::from_str(content_type).expect("ct"),
            )
            .body(body);
        answer(req.send().await.expect("request")).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Answer {
        self.call(Method::POST, path, None, Some(body)).await
    }

    pub async fn get(&self, path: &str, bearer: Option<&str>) -> Answer {
        self.call(Method::GET, path, bearer, None).await
    }

    /// A new account with an admin; returns the admin.
    pub async fn account(&self, name: &str) -> Person {
        let email = unique_email("admin");
        let state = self.state.clone();
        let (name, mail) = (name.to_owned(), email.clone());
        let now = self.clock.unix();
        let created = state
            .db
            .run(move |conn| {
                accounts::create(
                    conn,
                    &state.passwords,
                    &NewAccount {
                        name: &name,
                        admin_email: &mail,
                        admin_name: None,
                        licenses: 10,
                    },
                    now,
                )
            })
            .await
            .expect("create account");
        Person {
            id: created.user_id.into(),
            account_id: created.account_id.into(),
            email,
            password: created.password.into_inner(),
        }
    }

    /// Another user of `account_id` with a known password.
    pub async fn user(&self, account_id: &str, role: Role) -> Person {
        let email = unique_email(role.as_str());
        let password = "a fine test password".to_owned();
        let hash = self
            .state
            .passwords
            .hash(Secret::new(password.clone()))
            .await
            .expect("hash");
        let now = self.clock.unix();
        let user = User::new(
            &account_id.into(),
            (email.clone(), email.to_lowercase()),
            format!("Test {}", role.as_str()),
            role,
            hash,
            now,
        );
        let row = user.clone();
        self.state
            .db
            .run(move |conn| twofold::users::addresses::add_owner(conn, &row))
            .await
            .expect("insert user");
        Person {
            id: user.id.into(),
            account_id: account_id.to_owned(),
            email,
            password,
        }
    }

    /// Email step; returns the flow token.
    pub async fn start_login(&self, email: &str) -> String {
        let a = self.post("/v1/auth/login", json!({ "email": email })).await;
        assert_eq!(a.ok()["status"], "password_required");
        a.json["flow_token"]
            .as_str()
            .expect("flow_token")
            .to_owned()
    }

    /// Email and password; the answer, which must be 200 with `status`.
    pub async fn password_step(&self, person: &Person, status: &str) -> Value {
        let flow = self.start_login(&person.email).await;
        let a = self
            .post(
                "/v1/auth/login/password",
                json!({ "flow_token": flow, "password": person.password }),
            )
            .await;
        assert_eq!(a.ok()["status"], status, "{}", a.text);
        a.json.clone()
    }

    /// Email and password; returns the `authenticated` answer.
    pub async fn login(&self, person: &Person) -> Value {
        self.password_step(person, "authenticated").await
    }

    pub async fn access_token(&self, person: &Person) -> String {
        self.login(person).await["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned()
    }
}

/// The status, headers, text and JSON (or `Null`) of a response.
pub async fn answer(response: reqwest::Response) -> Answer {
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap_or_default();
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    Answer {
        status,
        headers,
        text,
        json,
    }
}

/// The access token of an `authenticated` answer.
pub fn access(tokens: &Value) -> String {
    tokens["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned()
}

pub fn unique_email(prefix: &str) -> String {
    format!("{prefix}-{}@example.test", uuid::Uuid::new_v4().simple())
}

/// The repository root, for reading committed files.
pub fn repo_path(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// The TOTP code of a base32 secret (as the API hands it out) at `unix`,
/// computed here from the published secret alone, as an app would.
pub fn code_at(secret_b32: &str, unix: i64) -> String {
    let secret = data_encoding::BASE32_NOPAD
        .decode(secret_b32.as_bytes())
        .expect("base32 secret");
    totp_lite::totp_custom::<totp_lite::Sha1>(30, 6, &secret, u64::try_from(unix).unwrap())
}

/// A user who went through enrollment: their secret and recovery code.
#[derive(Debug, Clone)]
pub struct Enrolled {
    pub person: Person,
    pub secret: String,
    pub recovery_code: String,
    /// The `authenticated` answer that ended the enrollment.
    pub tokens: Value,
}

impl TestApp {
    /// Makes 2FA required for one user, as an admin would.
    pub async fn require_twofa(&self, user_id: &str) {
        use diesel::prelude::*;
        use twofold::db::schema::users;
        let id = user_id.to_owned();
        self.state
            .db
            .run(move |conn| {
                diesel::update(users::table.find(&id))
                    .set(users::twofa_required.eq(true))
                    .execute(conn)?;
                Ok(())
            })
            .await
            .expect("require 2FA");
    }

    /// Email and password of a user who must enroll; returns the flow token
    /// of the `enrollment_required` answer.
    pub async fn login_to_enrollment(&self, person: &Person) -> String {
        let a = self.password_step(person, "enrollment_required").await;
        a["flow_token"].as_str().expect("flow_token").to_owned()
    }

    /// Email and password of an enrolled user; returns the `mfa_required`
    /// flow token.
    pub async fn login_to_mfa(&self, person: &Person) -> String {
        let a = self.password_step(person, "mfa_required").await;
        a["flow_token"].as_str().expect("flow_token").to_owned()
    }

    /// Requires 2FA for `person` and enrolls them through the login flow.
    /// The clock then moves one step on, so the enrollment code is behind.
    pub async fn enroll(&self, person: &Person) -> Enrolled {
        self.require_twofa(&person.id).await;
        let flow = self.login_to_enrollment(person).await;
        let start = self
            .call(Method::POST, "/v1/auth/enrollment/totp", Some(&flow), None)
            .await;
        let secret = start.ok()["secret"].as_str().expect("secret").to_owned();
        let code = code_at(&secret, self.clock.unix());
        let verified = self
            .call(
                Method::POST,
                "/v1/auth/enrollment/totp/verify",
                Some(&flow),
                Some(json!({ "code": code })),
            )
            .await;
        let verified = verified.ok().clone();
        assert_eq!(verified["status"], "recovery_code_confirmation_required");
        let flow = verified["flow_token"].as_str().expect("flow_token");
        let done = self
            .call(
                Method::POST,
                "/v1/auth/enrollment/recovery-code/confirm",
                Some(flow),
                Some(json!({ "confirmed": true })),
            )
            .await;
        assert_eq!(done.ok()["status"], "authenticated", "{}", done.text);
        self.advance(30);
        Enrolled {
            person: person.clone(),
            secret,
            recovery_code: verified["recovery_code"]
                .as_str()
                .expect("recovery_code")
                .to_owned(),
            tokens: done.json.clone(),
        }
    }

    /// A full second-factor login with the app's current code.
    pub async fn login_with_totp(&self, enrolled: &Enrolled) -> Value {
        let flow = self.login_to_mfa(&enrolled.person).await;
        let code = code_at(&enrolled.secret, self.clock.unix());
        let a = self
            .post(
                "/v1/auth/login/totp",
                json!({ "flow_token": flow, "code": code }),
            )
            .await;
        assert_eq!(a.ok()["status"], "authenticated", "{}", a.text);
        a.json.clone()
    }
}
