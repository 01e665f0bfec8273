//! The `twofold` binary: contract output, migrations, the operator's account
//! commands, configuration errors, and `serve` from first start to a
//! graceful SIGTERM shutdown.

use std::io::Read as _;
use std::os::unix::fs::PermissionsExt as _;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use twofold::config::PasswordParams;
use twofold::crypto::password::PasswordHasher;
use twofold::crypto::Secret;
use twofold::db::Db;

use crate::common::binary::{bare, free_addr, start_login};
use crate::common::{backend, database_url, own_database_url, repo_path, unique_email};

mod backup;
mod billing;
mod keys;

/// No command may take longer than this (a CLI call, start-up, shutdown).
const LIMIT: Duration = Duration::from_secs(15);

/// The binary configured for this run's database, with cheap argon2 and
/// `dir` as working and data directory.
fn twofold(dir: &tempfile::TempDir) -> Command {
    let mut cmd = bare(dir.path());
    cmd.env("TWOFOLD_DATABASE_URL", database_url(dir))
        .env("TWOFOLD_DATA_DIR", dir.path())
        .env("TWOFOLD_ARGON2_MEMORY_KIB", "64")
        .env("TWOFOLD_ARGON2_ITERATIONS", "1");
    cmd
}

/// Kills the child if the test ends (or panics) while it still runs.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

impl Running {
    /// Waits at most `limit` for the process to exit.
    fn wait_for(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.0.try_wait().expect("try_wait") {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }
}

/// Runs a command that must finish within [`LIMIT`]; returns its output.
fn run(mut cmd: Command, args: &[&str]) -> Output {
    cmd.args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = Running(cmd.spawn().expect("spawn twofold"));
    let mut stdout = child.0.stdout.take().expect("stdout");
    let mut stderr = child.0.stderr.take().expect("stderr");
    let out = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stdout.read_to_end(&mut buf);
        buf
    });
    let err = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stderr.read_to_end(&mut buf);
        buf
    });
    let status = child.wait_for(LIMIT);
    let Some(status) = status else {
        drop(child); // kills it, so the reader threads end
        panic!(
            "`twofold {}` did not finish within {LIMIT:?}",
            args.join(" ")
        );
    };
    Output {
        status,
        stdout: out.join().expect("stdout reader"),
        stderr: err.join().expect("stderr reader"),
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A successful `--json` command's single JSON document on stdout.
#[track_caller]
fn json_ok(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", text(&out.stdout)))
}

/// A failed `--json` command: exit 1, nothing on stdout, `{"error": ...}` on stderr.
#[track_caller]
fn json_error(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(1), "stderr: {}", text(&out.stderr));
    assert!(out.stdout.is_empty(), "stdout: {}", text(&out.stdout));
    let err: Value = serde_json::from_slice(&out.stderr)
        .unwrap_or_else(|e| panic!("stderr is not JSON ({e}): {}", text(&out.stderr)));
    let message = err["error"].as_str().expect("error message").to_owned();
    assert!(!message.trim().is_empty(), "empty error message");
    message
}

/// `accounts create --json` with a fresh admin email.
fn create_account(dir: &tempfile::TempDir) -> Value {
    let email = unique_email("cli");
    let out = run(
        twofold(dir),
        &[
            "--json",
            "accounts",
            "create",
            "--name",
            "Acme MSP",
            "--admin-email",
            &email,
        ],
    );
    json_ok(&out)
}

#[test]
fn openapi_prints_the_committed_contract_byte_for_byte() {
    let committed = std::fs::read(repo_path("openapi.yaml")).unwrap();
    let dir = tempfile::tempdir().unwrap();

    let out = run(bare(dir.path()), &["openapi"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        out.stdout == committed,
        "`twofold openapi` differs from openapi.yaml ({} vs {} bytes)",
        out.stdout.len(),
        committed.len()
    );

    let file = dir.path().join("contract.yaml");
    let out = run(
        bare(dir.path()),
        &["openapi", "--output", file.to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    assert!(
        std::fs::read(&file).unwrap() == committed,
        "--output wrote other bytes"
    );

    // `--json` prints the same document as JSON.
    let out = run(bare(dir.path()), &["--json", "openapi"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json: Value = serde_json::from_slice(&out.stdout).expect("--json prints JSON");
    let yaml = twofold::openapi::document();
    assert_eq!(json, serde_json::to_value(yaml).unwrap());
}

#[test]
fn a_reader_that_stops_early_ends_openapi_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = bare(dir.path())
        .arg("openapi")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read 100 bytes, then hang up, as `twofold openapi | head -c 100` does.
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0_u8; 100];
    stdout.read_exact(&mut first).unwrap();
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{}: {stderr}", out.status);
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn an_unusable_data_directory_is_named_by_its_variable() {
    let dir = tempfile::tempdir().unwrap();
    // A file where the directory should be: nothing can be created in it.
    let blocker = dir.path().join("blocker");
    std::fs::write(&blocker, "not a directory").unwrap();
    let mut cmd = bare(dir.path());
    cmd.env("TWOFOLD_DATABASE_URL", database_url(&dir))
        .env("TWOFOLD_DATA_DIR", blocker.join("keys"));
    let out = run(cmd, &["serve"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("TWOFOLD_DATA_DIR"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn migrate_reports_what_it_applied_and_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let first = json_ok(&run(twofold(&dir), &["--json", "migrate"]));
    assert_eq!(first["database"], backend());
    let applied = first["applied"].as_u64().expect("applied is a count");
    if backend() == "sqlite" {
        // A fresh file: every migration runs.
        assert!(applied >= 1, "{first}");
        assert!(dir.path().join("twofold.db").is_file());
    }

    let second = json_ok(&run(twofold(&dir), &["--json", "migrate"]));
    assert_eq!(second["applied"], 0, "{second}");
    assert_eq!(second["database"], backend(), "{second}");
    // Users outside the identity profile (see tests/identities.rs).
    assert!(second["users_outside_profile"].is_array(), "{second}");

    let human = run(twofold(&dir), &["migrate"]);
    assert!(human.status.success(), "{}", text(&human.stderr));
    assert!(
        text(&human.stdout).contains(backend()),
        "{}",
        text(&human.stdout)
    );
}

#[actix_web::test]
async fn accounts_create_prints_an_admin_whose_password_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let email = unique_email("Cli.Admin");
    let out = run(
        twofold(&dir),
        &[
            "--json",
            "accounts",
            "create",
            "--name",
            "Acme MSP",
            "--admin-email",
            &email,
            "--admin-name",
            "Ada Admin",
            "--licenses",
            "5",
        ],
    );
    let created = json_ok(&out);
    let keys: Vec<&str> = created
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys.len(), 4, "{created}");
    for key in ["account_id", "user_id", "email", "password"] {
        assert!(
            created[key].as_str().is_some_and(|v| !v.is_empty()),
            "{key}: {created}"
        );
    }
    assert_eq!(created["email"], email.as_str());
    let password = created["password"].as_str().unwrap().to_owned();
    assert!(password.len() >= 16, "a weak initial password: {password}");

    let db = Db::connect(&database_url(&dir)).unwrap();
    let normalized = email.to_lowercase();
    let user = db
        .run(move |conn| twofold::users::repo::find_by_any_email(conn, &[normalized]))
        .await
        .unwrap()
        .expect("the admin was stored");
    assert_eq!(user.id, created["user_id"].as_str().unwrap());
    assert_eq!(user.account_id, created["account_id"].as_str().unwrap());
    assert_eq!(user.role, "admin");
    assert_eq!(user.name, "Ada Admin");
    assert!(
        !user.password_hash.contains(&password),
        "password stored in clear"
    );

    let hasher = PasswordHasher::new(PasswordParams {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    })
    .unwrap();
    let hash = Some(user.password_hash.clone());
    assert!(hasher
        .verify(hash.clone(), Secret::new(password))
        .await
        .unwrap());
    assert!(!hasher
        .verify(hash, Secret::new("not the password"))
        .await
        .unwrap());
}

#[test]
fn accounts_create_refuses_a_taken_admin_email() {
    let dir = tempfile::tempdir().unwrap();
    let email = unique_email("taken");
    let create = |address: &str| {
        run(
            twofold(&dir),
            &[
                "--json",
                "accounts",
                "create",
                "--name",
                "Acme",
                "--admin-email",
                address,
            ],
        )
    };
    json_ok(&create(&email));
    // Same address, different case: still the same person.
    let message = json_error(&create(&email.to_uppercase()));
    assert!(message.to_lowercase().contains("email"), "{message}");

    let out = run(
        twofold(&dir),
        &[
            "accounts",
            "create",
            "--name",
            "Acme",
            "--admin-email",
            &email,
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    assert!(
        text(&out.stderr).starts_with("twofold: "),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn accounts_create_names_the_invalid_option() {
    let dir = tempfile::tempdir().unwrap();
    for bad in ["not-an-email", "a@", "@example.com", ""] {
        let out = run(
            twofold(&dir),
            &[
                "--json",
                "accounts",
                "create",
                "--name",
                "Acme",
                "--admin-email",
                bad,
            ],
        );
        let message = json_error(&out);
        assert!(message.contains("--admin-email"), "{bad:?}: {message}");
    }
    let out = run(
        twofold(&dir),
        &[
            "--json",
            "accounts",
            "create",
            "--name",
            "Acme",
            "--admin-email",
            &unique_email("x"),
            "--licenses",
            "0",
        ],
    );
    assert!(json_error(&out).contains("--licenses"));
}

#[test]
fn invalid_configuration_stops_serve_naming_the_variable() {
    for (variable, value) in [
        ("TWOFOLD_BIND", "nonsense"),
        ("TWOFOLD_DATABASE_URL", "mysql://localhost/twofold"),
        ("TWOFOLD_ARGON2_MEMORY_KIB", "lots"),
        ("TWOFOLD_LOG_FORMAT", "xml"),
        ("TWOFOLD_LOG", "[[[bad"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = bare(dir.path());
        cmd.env(variable, value);
        let out = run(cmd, &["serve"]);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{variable}={value}: {}",
            text(&out.stderr)
        );
        assert!(
            text(&out.stderr).contains(variable),
            "{variable}={value}: {}",
            text(&out.stderr)
        );

        let mut cmd = bare(dir.path());
        cmd.env(variable, value);
        let message = json_error(&run(cmd, &["--json", "serve"]));
        assert!(message.contains(variable), "{message}");
        // Refused before touching anything.
        assert!(!dir.path().join("twofold.db").exists());
        assert!(!dir.path().join("master.key").exists());
    }
}

#[actix_web::test]
async fn serve_starts_with_no_configuration_and_stops_gracefully_on_sigterm() {
    let dir = tempfile::tempdir().unwrap(); // working directory = data directory
    let logs = tempfile::tempdir().unwrap();
    let port = free_addr().port();
    let bind = format!("127.0.0.1:{port}");

    let mut cmd = bare(dir.path());
    cmd.env("TWOFOLD_BIND", &bind);
    // Default limits: on PostgreSQL a database of its own, so the suite's
    // other logins from 127.0.0.1 do not count against this one.
    let own_db = own_database_url(&dir);
    if backend() == "postgres" {
        cmd.env("TWOFOLD_DATABASE_URL", &own_db);
    }
    let stdout_path = logs.path().join("stdout.log");
    let stderr_path = logs.path().join("stderr.log");
    cmd.stdout(std::fs::File::create(&stdout_path).unwrap())
        .stderr(std::fs::File::create(&stderr_path).unwrap());
    let mut server = Running(cmd.arg("serve").spawn().expect("spawn twofold serve"));
    let pid = server.0.id();

    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let base = format!("http://{bind}");
    let deadline = Instant::now() + LIMIT;
    loop {
        if let Ok(r) = client.get(format!("{base}/healthz")).send().await {
            assert_eq!(r.status(), 200);
            assert!(r.headers().contains_key("x-request-id"));
            assert_eq!(r.json::<Value>().await.unwrap(), json!({ "status": "ok" }));
            break;
        }
        if let Some(status) = server.0.try_wait().unwrap() {
            panic!(
                "serve exited early with {status}: {}",
                std::fs::read_to_string(&stderr_path).unwrap_or_default()
            );
        }
        assert!(
            Instant::now() < deadline,
            "serve did not answer /healthz within {LIMIT:?}"
        );
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }

    // The master key generated on first start, private to the owner (the
    // signing keys are in the database, sealed under it); SQLite in the cwd.
    let key = dir.path().join("master.key");
    let meta = std::fs::metadata(&key).expect("master.key in the data dir");
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    assert!(!dir.path().join("jwt-signing-key.pem").exists());
    if backend() == "sqlite" {
        assert!(
            dir.path().join("twofold.db").is_file(),
            "no twofold.db in the cwd"
        );
    }
    let ready: Value = client
        .get(format!("{base}/readyz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["database"], backend());

    // An admin made by the CLI in the same place signs in over HTTP.
    let mut create = bare(dir.path());
    if backend() == "postgres" {
        create.env("TWOFOLD_DATABASE_URL", &own_db);
    }
    let email = unique_email("serve");
    let created = json_ok(&run(
        create,
        &[
            "--json",
            "accounts",
            "create",
            "--name",
            "Served",
            "--admin-email",
            &email,
        ],
    ));
    let password = created["password"].as_str().unwrap().to_owned();

    let flow = start_login(&client, &base, &email).await;
    let done = client
        .post(format!("{base}/v1/auth/login/password"))
        .header("x-request-id", "serve-test-login")
        .json(&json!({ "flow_token": flow, "password": password }))
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 200);
    let tokens: Value = done.json().await.unwrap();
    assert_eq!(tokens["status"], "authenticated", "{tokens}");
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    let me = client
        .get(format!("{base}/v1/me?token={access}"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    let me: Value = me.json().await.unwrap();
    assert_eq!(me["email"], email.as_str());

    // SIGTERM: a graceful stop with exit status 0.
    let kill = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = server.wait_for(LIMIT);
    let logged = format!(
        "{}{}",
        std::fs::read_to_string(&stdout_path).unwrap(),
        std::fs::read_to_string(&stderr_path).unwrap()
    );
    let status = status.unwrap_or_else(|| panic!("serve ignored SIGTERM for {LIMIT:?}:\n{logged}"));
    assert!(
        status.success(),
        "serve exited with {status} after SIGTERM:\n{logged}"
    );

    // Logs: one JSON object per line, with request ids; never a secret.
    let lines: Vec<Value> = logged
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(lines.iter().all(Value::is_object));
    let start = lines
        .iter()
        .find(|l| l["message"] == "starting twofold")
        .unwrap_or_else(|| panic!("no start line:\n{logged}"));
    assert_eq!(start["database"], backend(), "{start}");
    if backend() == "sqlite" {
        // First start on a fresh file: serve migrated it itself.
        assert!(start["migrations_applied"].as_u64() >= Some(1), "{start}");
    }
    assert!(
        lines.iter().any(|l| l["message"] == "stopped"),
        "no shutdown line:\n{logged}"
    );
    assert!(
        lines.iter().any(|l| l["path"] == "/v1/auth/login/password"
            && l["request_id"] == "serve-test-login"
            && l["status"] == 200),
        "no request log line for the login:\n{logged}"
    );
    for secret in [&password, &flow, &access, &refresh] {
        assert!(
            !logged.contains(secret.as_str()),
            "a secret was logged:\n{logged}"
        );
    }
}
