//! `twofold backup`: a copy taken while the service writes is a working
//! database (a user enrolled before it signs in with TOTP on a second
//! instance started on the copy), and what the command refuses it refuses
//! before writing anything. These tests run on SQLite files of their own
//! whatever the suite's database; PostgreSQL is the refusal that names
//! `pg_dump`.

use std::os::unix::fs::MetadataExt as _;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use diesel::prelude::*;
use twofold::db::schema::users;
use twofold::users::{Role, User};

use super::*;
use crate::common::{code_at, TestApp, START};

fn sqlite_url(file: &Path) -> String {
    format!("sqlite://{}", file.display())
}

/// The binary on a SQLite file of `dir`, whatever the suite's database.
fn on_sqlite(dir: &tempfile::TempDir) -> Command {
    let mut cmd = twofold(dir);
    cmd.env(
        "TWOFOLD_DATABASE_URL",
        sqlite_url(&dir.path().join("twofold.db")),
    );
    cmd
}

/// `--output` for a path.
fn backup_to(path: &Path) -> [&str; 3] {
    ["backup", "--output", path.to_str().unwrap()]
}

fn with_json<'a>(args: &[&'a str]) -> Vec<&'a str> {
    let mut all = vec!["--json"];
    all.extend(args);
    all
}

/// The names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Inserts users, one per statement, from a thread of its own until stopped.
struct Writer {
    stop: Arc<AtomicBool>,
    written: Arc<AtomicUsize>,
    thread: JoinHandle<()>,
}

impl Writer {
    const NAME: &'static str = "Written under load";

    fn start(url: &str, account_id: &str) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let written = Arc::new(AtomicUsize::new(0));
        let db = Db::connect(url).unwrap();
        let account = account_id.into();
        let (stopped, count) = (stop.clone(), written.clone());
        let thread = std::thread::spawn(move || {
            let mut conn = db.conn().unwrap();
            while !stopped.load(Ordering::SeqCst) {
                let email = unique_email("load");
                let user = User::new(
                    &account,
                    (email.clone(), email.to_lowercase()),
                    Self::NAME.to_owned(),
                    Role::ReadOnly,
                    "no password".to_owned(),
                    START,
                );
                twofold::users::addresses::add_owner(&mut conn, &user).unwrap();
                // Counted once committed: the copy holds at least every
                // user counted before the backup started.
                count.fetch_add(1, Ordering::SeqCst);
            }
        });
        Self {
            stop,
            written,
            thread,
        }
    }

    fn written(&self) -> usize {
        self.written.load(Ordering::SeqCst)
    }

    fn wait_for(&self, rows: usize) {
        let deadline = Instant::now() + LIMIT;
        while self.written() < rows {
            assert!(Instant::now() < deadline, "the writer stalled");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn stop(self) -> usize {
        self.stop.store(true, Ordering::SeqCst);
        let written = self.written.clone();
        self.thread.join().expect("writer");
        written.load(Ordering::SeqCst)
    }
}

/// `PRAGMA integrity_check` of a SQLite file, and its users written under load.
fn inspect(file: &Path) -> (String, i64) {
    #[derive(QueryableByName)]
    struct Check {
        #[diesel(sql_type = diesel::sql_types::Text)]
        integrity_check: String,
    }
    let mut conn = diesel::SqliteConnection::establish(file.to_str().unwrap()).unwrap();
    let checks: Vec<Check> = diesel::sql_query("PRAGMA integrity_check")
        .load(&mut conn)
        .unwrap();
    let verdict = checks
        .into_iter()
        .map(|c| c.integrity_check)
        .collect::<Vec<_>>()
        .join("\n");
    let loaded = users::table
        .filter(users::name.eq(Writer::NAME))
        .count()
        .get_result(&mut conn)
        .unwrap();
    (verdict, loaded)
}

/// `twofold serve` on `database` with the suite's master key (it seals the
/// signing keys and TOTP secrets in the copy); answers once /healthz does.
async fn serve(cwd: &Path, database: &Path, data_dir: &Path) -> (Running, String) {
    let bind = free_addr().to_string();
    let mut cmd = bare(cwd);
    cmd.env("TWOFOLD_DATABASE_URL", sqlite_url(database))
        .env("TWOFOLD_DATA_DIR", data_dir)
        .env("TWOFOLD_MASTER_KEY", crate::common::MASTER_KEY)
        .env("TWOFOLD_BIND", &bind)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(cwd.join("serve.log")).unwrap());
    let mut server = Running(cmd.arg("serve").spawn().expect("spawn twofold serve"));
    let base = format!("http://{bind}");
    let deadline = Instant::now() + LIMIT;
    while reqwest::get(format!("{base}/healthz")).await.is_err() {
        if let Some(status) = server.0.try_wait().unwrap() {
            let log = std::fs::read_to_string(cwd.join("serve.log")).unwrap_or_default();
            panic!("serve on the copy exited with {status}: {log}");
        }
        assert!(Instant::now() < deadline, "serve did not start on the copy");
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    (server, base)
}

async fn post(client: &reqwest::Client, url: String, body: Value) -> Value {
    let answer = client.post(url).json(&body).send().await.unwrap();
    assert_eq!(answer.status(), 200);
    answer.json().await.unwrap()
}

#[actix_web::test]
async fn a_copy_taken_under_writes_signs_in_a_user_enrolled_before_it() {
    let files = tempfile::tempdir().unwrap();
    let live = files.path().join("live.db");
    let t = TestApp::with_env(&[("TWOFOLD_DATABASE_URL", &sqlite_url(&live))]).await;
    let admin = t.account("Backed Up").await;
    let enrolled = t.enroll(&admin).await;

    let writer = Writer::start(&sqlite_url(&live), &admin.account_id);
    writer.wait_for(200);
    let copy = files.path().join("copy.db");
    let cmd = crate::common::binary::on_app(&t, files.path());
    let before = writer.written();
    let out = run(cmd, &with_json(&backup_to(&copy)));
    let during = writer.written() - before;
    let after = writer.stop();

    let printed = json_ok(&out);
    let bytes = std::fs::metadata(&copy).unwrap().len();
    assert_eq!(
        printed,
        json!({ "output": copy.to_str().unwrap(), "bytes": bytes })
    );
    assert!(during > 0, "nothing was written while the backup ran");
    let meta = std::fs::metadata(&copy).unwrap();
    assert_eq!(
        meta.mode() & 0o777,
        0o600,
        "a copy of secrets for all to read"
    );

    // Consistent: intact, and a snapshot of one moment between the start of
    // the command and its end (the row in flight may or may not be counted).
    let (verdict, loaded) = inspect(&copy);
    assert_eq!(verdict, "ok");
    let loaded = usize::try_from(loaded).unwrap();
    assert!(
        (before..=after + 1).contains(&loaded),
        "{loaded} rows, not between {before} and {after}"
    );
    assert!(
        !names(files.path()).iter().any(|n| n.ends_with(".partial")),
        "{:?}",
        names(files.path())
    );

    // A second instance on the copy, with the same master key (the TOTP
    // secrets and signing keys are sealed under it).
    let (_server, base) = serve(files.path(), &copy, &t.state.config.data_dir).await;
    let client = reqwest::Client::new();
    let person = &enrolled.person;
    let start = post(
        &client,
        format!("{base}/v1/auth/login"),
        json!({ "email": person.email }),
    )
    .await;
    let step = post(
        &client,
        format!("{base}/v1/auth/login/password"),
        json!({ "flow_token": start["flow_token"], "password": person.password }),
    )
    .await;
    assert_eq!(step["status"], "mfa_required", "{step}");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let code = code_at(&enrolled.secret, i64::try_from(now).unwrap());
    let done = post(
        &client,
        format!("{base}/v1/auth/login/totp"),
        json!({ "flow_token": step["flow_token"], "code": code }),
    )
    .await;
    assert_eq!(done["status"], "authenticated", "{done}");
    let me: Value = client
        .get(format!("{base}/v1/me"))
        .bearer_auth(done["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["email"], person.email.as_str(), "{me}");
}

#[test]
fn backup_never_replaces_a_file_nor_creates_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    json_ok(&run(on_sqlite(&dir), &["--json", "migrate"]));

    let existing = dir.path().join("existing.db");
    std::fs::write(&existing, "keep me").unwrap();
    let message = json_error(&run(on_sqlite(&dir), &with_json(&backup_to(&existing))));
    assert!(
        message.contains(existing.to_str().unwrap()) && message.contains("already exists"),
        "{message}"
    );
    assert_eq!(std::fs::read_to_string(&existing).unwrap(), "keep me");
    // Without --json: the same refusal on stderr, exit 1.
    let out = run(on_sqlite(&dir), &backup_to(&existing));
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with("twofold: ") && stderr.contains("existing.db"),
        "{stderr}"
    );

    let missing = dir.path().join("no-such-dir");
    let message = json_error(&run(
        on_sqlite(&dir),
        &with_json(&backup_to(&missing.join("copy.db"))),
    ));
    assert!(
        message.contains("no-such-dir") && message.contains("does not exist"),
        "{message}"
    );
    assert!(!missing.exists());

    // No database where the URL points: refused, not created empty.
    let absent = dir.path().join("absent.db");
    let mut cmd = twofold(&dir);
    cmd.env("TWOFOLD_DATABASE_URL", sqlite_url(&absent));
    let message = json_error(&run(
        cmd,
        &with_json(&backup_to(&dir.path().join("copy.db"))),
    ));
    assert!(message.contains("absent.db"), "{message}");
    assert!(!absent.exists());

    // A plain backup prints one line naming the copy, and leaves nothing
    // else behind.
    let copy = dir.path().join("copy.db");
    let out = run(on_sqlite(&dir), &["backup", "--output", "copy.db"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let line = text(&out.stdout);
    assert_eq!(line.lines().count(), 1, "{line}");
    assert!(
        line.contains(copy.to_str().unwrap()) && line.contains("bytes"),
        "{line}"
    );
    assert_eq!(inspect(&copy).0, "ok");
    let left: Vec<String> = names(dir.path())
        .into_iter()
        .filter(|n| !n.starts_with("twofold.db"))
        .collect();
    assert_eq!(left, ["copy.db", "existing.db"], "{left:?}");
}

#[test]
fn backup_of_postgresql_names_pg_dump_without_connecting() {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("copy.db");
    // Nothing listens on port 1: a connection attempt would fail otherwise.
    let mut urls = vec!["postgres://twofold:not-the-password@127.0.0.1:1/twofold".to_owned()];
    if backend() == "postgres" {
        urls.push(database_url(&dir));
    }
    for url in urls {
        let mut cmd = twofold(&dir);
        cmd.env("TWOFOLD_DATABASE_URL", &url);
        let message = json_error(&run(cmd, &with_json(&backup_to(&copy))));
        assert!(message.contains("pg_dump"), "{message}");
        assert!(!message.contains("not-the-password"), "{message}");
        assert!(!message.contains(&url), "the URL was printed: {message}");

        let mut cmd = twofold(&dir);
        cmd.env("TWOFOLD_DATABASE_URL", &url);
        let out = run(cmd, &backup_to(&copy));
        assert_eq!(out.status.code(), Some(1));
        assert!(text(&out.stderr).contains("pg_dump"));
        assert!(!copy.exists());
    }
}
