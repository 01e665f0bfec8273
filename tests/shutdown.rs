//! Graceful shutdown of the real `twofold serve` process: SIGTERM lets the
//! requests in flight finish with their normal answers, refuses new
//! connections at once, closes the database pool and exits 0; a drain that
//! runs past `TWOFOLD_SHUTDOWN_TIMEOUT_SECS` is cut and the process exits
//! all the same. SIGINT drains the same way. Each server runs on a SQLite
//! file of its own whatever the suite's database, so its WAL file shows
//! whether the pool closed.
//!
//! Password checks are the slow requests: the server gets argon2 costs that
//! make one take about a second, on a pool of one thread per CPU.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};

use actix_web::rt::time::{sleep, timeout};
use serde_json::{json, Value};

use crate::common::binary::{bare, free_addr, on_sqlite_file, start_login};
use crate::common::unique_email;

/// argon2id costs that make one password check take about a second (time
/// rather than memory: many may run at once on a machine with many CPUs).
const SLOW_MEMORY_KIB: &str = "16384";
const SLOW_ITERATIONS: &str = "64";

/// The line `serve` logs when a signal starts the drain.
const DRAIN_STARTS: &str = "shutting down: new connections refused, requests in flight finishing";

/// Start-up (migrations, the dummy hash) and any single wait in a test.
const LIMIT: Duration = Duration::from_secs(30);

/// A `twofold serve` child, killed if the test ends while it still runs.
struct Server {
    child: Child,
    addr: SocketAddr,
    dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl Server {
    fn database_file(&self) -> PathBuf {
        self.dir.path().join("twofold.db")
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The binary on this server's SQLite file and data directory, with the
    /// slow argon2 costs (an account it creates hashes as the server does).
    fn command(dir: &Path) -> Command {
        let mut cmd = bare(dir);
        on_sqlite_file(&mut cmd, dir)
            .env("TWOFOLD_ARGON2_MEMORY_KIB", SLOW_MEMORY_KIB)
            .env("TWOFOLD_ARGON2_ITERATIONS", SLOW_ITERATIONS);
        cmd
    }

    /// Starts `serve` with `drain_secs` of drain time and waits, bounded,
    /// until it answers `/healthz`.
    async fn start(dir: tempfile::TempDir, drain_secs: u64) -> Self {
        let addr = free_addr();
        let mut cmd = Self::command(dir.path());
        cmd.env("TWOFOLD_BIND", addr.to_string())
            .env("TWOFOLD_SHUTDOWN_TIMEOUT_SECS", drain_secs.to_string())
            .stdout(std::fs::File::create(dir.path().join("stdout.log")).unwrap())
            .stderr(std::fs::File::create(dir.path().join("stderr.log")).unwrap());
        let child = cmd.arg("serve").spawn().expect("spawn twofold serve");
        let mut server = Self { child, addr, dir };
        let deadline = Instant::now() + LIMIT;
        loop {
            if let Ok(r) = reqwest::get(server.url("/healthz")).await {
                assert_eq!(r.status(), 200);
                return server;
            }
            if let Some(status) = server.child.try_wait().unwrap() {
                panic!("serve exited early with {status}:\n{}", server.logs());
            }
            assert!(
                Instant::now() < deadline,
                "serve did not start within {LIMIT:?}"
            );
            sleep(Duration::from_millis(50)).await;
        }
    }

    /// Sends `signal` (`TERM`, `INT`) and says when.
    fn signal(&self, signal: &str) -> Instant {
        let kill = Command::new("kill")
            .args([&format!("-{signal}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(kill.success());
        Instant::now()
    }

    /// Waits at most `limit` for the process to exit, without blocking the
    /// test's runtime (the requests in flight are read on it).
    async fn exit_within(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            sleep(Duration::from_millis(10)).await;
        }
    }

    fn logs(&self) -> String {
        let read = |name: &str| std::fs::read_to_string(self.dir.path().join(name)).unwrap();
        format!("{}{}", read("stdout.log"), read("stderr.log"))
    }

    /// The JSON log lines with this `message`.
    fn logged(&self, message: &str) -> Vec<Value> {
        self.logs()
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|l| l["message"] == message)
            .collect()
    }
}

/// No connection pooling: each request opens its own connection, as
/// separate clients would.
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(LIMIT)
        .build()
        .unwrap()
}

/// A new login flow for `email` (known or not, the answer is the same).
async fn flow(server: &Server, email: &str) -> String {
    start_login(&client(), &server.url(""), email).await
}

/// How one password request ended, and when.
struct Outcome {
    answer: Result<(u16, Value), String>,
    at: Instant,
}

/// Starts a password step in the background.
fn password_step(
    server: &Server,
    flow_token: String,
    password: &str,
) -> actix_web::rt::task::JoinHandle<Outcome> {
    let request = client()
        .post(server.url("/v1/auth/login/password"))
        .json(&json!({ "flow_token": flow_token, "password": password }));
    actix_web::rt::spawn(async move {
        let answer = match request.send().await {
            Ok(r) => {
                let status = r.status().as_u16();
                r.json::<Value>()
                    .await
                    .map(|body| (status, body))
                    .map_err(|e| format!("answer cut: {e}"))
            }
            Err(e) => Err(format!("no answer: {e}")),
        };
        Outcome {
            answer,
            at: Instant::now(),
        }
    })
}

async fn outcome(task: actix_web::rt::task::JoinHandle<Outcome>) -> Outcome {
    timeout(LIMIT, task)
        .await
        .expect("a request outlived its bound")
        .unwrap()
}

#[actix_web::test]
async fn sigterm_lets_requests_in_flight_finish_refuses_new_ones_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let email = unique_email("drain");
    let created = Server::command(dir.path())
        .args(["--json", "accounts", "create", "--name", "Drain"])
        .args(["--admin-email", &email])
        .output()
        .unwrap();
    assert!(created.status.success(), "{created:?}");
    let created: Value = serde_json::from_slice(&created.stdout).unwrap();
    let password = created["password"].as_str().unwrap().to_owned();
    let drain = Duration::from_secs(20);
    let mut server = Server::start(dir, drain.as_secs()).await;

    // Two right and two wrong passwords, each about a second of argon2: all
    // still running at the signal, 0.3 s after they were sent.
    let mut flows = Vec::new();
    for _ in 0..4 {
        flows.push(flow(&server, &email).await);
    }
    let mut tasks = Vec::new();
    for (n, flow_token) in flows.into_iter().enumerate() {
        let guess = if n % 2 == 0 {
            password.as_str()
        } else {
            "wrong password"
        };
        tasks.push(password_step(&server, flow_token, guess));
    }
    sleep(Duration::from_millis(300)).await; // the requests reach the server
    let wal = PathBuf::from(format!("{}-wal", server.database_file().display()));
    assert!(
        wal.exists(),
        "no WAL while the pool is open: the check below proves nothing"
    );
    let signalled = server.signal("TERM");

    // New connections are refused once the listener closes: within moments,
    // while the requests above are still being answered.
    let mut refused_at = None;
    while signalled.elapsed() < Duration::from_secs(3) {
        match TcpStream::connect(server.addr) {
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                refused_at = Some(Instant::now());
                break;
            }
            Err(e) => panic!("a new connection failed otherwise than refused: {e}"),
            Ok(_) => sleep(Duration::from_millis(10)).await,
        }
    }
    let refused_at = refused_at.expect("new connections still accepted 3 s after SIGTERM");
    let late = client().get(server.url("/healthz")).send().await;
    assert!(
        late.as_ref().is_err_and(reqwest::Error::is_connect),
        "a request after SIGTERM got {late:?}"
    );

    let mut last = signalled;
    for (n, task) in tasks.into_iter().enumerate() {
        let Outcome { answer, at } = outcome(task).await;
        let (status, body) = answer.unwrap_or_else(|e| panic!("request {n}: {e}"));
        assert!(
            at > signalled,
            "request {n} ended before SIGTERM: not in flight"
        );
        if n % 2 == 0 {
            assert_eq!(
                (status, &body["status"]),
                (200, &json!("authenticated")),
                "{body}"
            );
            assert!(body["access_token"].is_string(), "{body}");
        } else {
            assert_eq!(
                (status, &body["code"]),
                (401, &json!("invalid_credentials")),
                "{body}"
            );
        }
        last = last.max(at);
    }
    assert!(
        refused_at < last,
        "new connections were refused only after the drain ended"
    );

    let status = server.exit_within(drain).await;
    let waited = signalled.elapsed();
    let status = status.unwrap_or_else(|| panic!("still running {drain:?} after SIGTERM"));
    assert_eq!(status.code(), Some(0), "{}", server.logs());
    assert!(waited < drain, "the drain took its whole time: {waited:?}");

    let started = server.logged(DRAIN_STARTS);
    assert_eq!(started.len(), 1, "{}", server.logs());
    assert_eq!(started[0]["signal"], "SIGTERM");
    assert_eq!(started[0]["drain_timeout_secs"], drain.as_secs());
    let stopped = server.logged("stopped");
    assert_eq!(stopped.len(), 1, "{}", server.logs());
    let elapsed = Duration::from_millis(stopped[0]["elapsed_ms"].as_u64().unwrap());
    assert!(elapsed < drain, "{elapsed:?}");
    assert!(
        !server.logs().contains(&password),
        "the password was logged"
    );
    // The last connection of a SQLite database removes its WAL file: every
    // pooled connection was closed, not abandoned by the exit.
    let wal = PathBuf::from(format!("{}-wal", server.database_file().display()));
    assert!(server.database_file().is_file());
    assert!(
        !wal.exists(),
        "the pool was not closed: {} remains",
        wal.display()
    );
}

#[actix_web::test]
async fn a_drain_past_its_time_is_cut_and_the_process_still_exits_0() {
    let drain = Duration::from_secs(1);
    let mut server = Server::start(tempfile::tempdir().unwrap(), drain.as_secs()).await;

    // An upload that never completes, and four password checks per argon2
    // thread (one per CPU, as in the server): seconds of work for a one-second
    // drain. At most 90, under the per-address limits of flows and failures.
    let mut stalled = TcpStream::connect(server.addr).unwrap();
    stalled
        .write_all(
            b"POST /v1/auth/login HTTP/1.1\r\nHost: twofold\r\n\
              Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"email\":",
        )
        .unwrap();
    let mut tasks = Vec::new();
    let cpus = std::thread::available_parallelism().map_or(2, usize::from);
    for _ in 0..(4 * cpus).min(90) {
        // Unknown emails, checked against the dummy hash; one each, so no
        // per-email limit answers before argon2 runs.
        let flow_token = flow(&server, &unique_email("cut")).await;
        tasks.push(password_step(&server, flow_token, "any password"));
    }
    // Time for the requests to reach the server. Then SIGINT (Ctrl-C): it
    // drains like SIGTERM, where actix alone would cut at once.
    sleep(Duration::from_millis(300)).await;
    let signalled = server.signal("INT");

    let margin = Duration::from_millis(2500);
    let status = server.exit_within(drain + margin).await;
    let waited = signalled.elapsed();
    let status = status.unwrap_or_else(|| {
        panic!(
            "still running {:?} after SIGINT:\n{}",
            drain + margin,
            server.logs()
        )
    });
    assert_eq!(status.code(), Some(0), "{}", server.logs());
    assert!(
        waited >= drain,
        "exited after {waited:?}, before the drain time"
    );

    // Whatever was unanswered at the deadline lost its connection; what was
    // answered before it got its normal answer.
    let mut cut = 0;
    for task in tasks {
        match outcome(task).await.answer {
            Ok((status, body)) => {
                assert_eq!(
                    (status, &body["code"]),
                    (401, &json!("invalid_credentials")),
                    "{body}"
                );
            }
            Err(_) => cut += 1,
        }
    }
    assert!(
        cut > 0,
        "no password check was cut: the drain was not bounded"
    );
    stalled
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut answer = Vec::new();
    let read = stalled.read_to_end(&mut answer);
    assert!(
        read.is_ok()
            || read
                .as_ref()
                .is_err_and(|e| e.kind() == std::io::ErrorKind::ConnectionReset),
        "the stalled upload's connection stayed open: {read:?}"
    );
    assert!(answer.is_empty(), "{}", String::from_utf8_lossy(&answer));
    let started = server.logged(DRAIN_STARTS);
    assert_eq!(started.len(), 1, "{}", server.logs());
    assert_eq!(started[0]["signal"], "SIGINT");
    assert_eq!(server.logged("stopped").len(), 1, "{}", server.logs());
}
