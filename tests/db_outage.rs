//! SQLite that cannot take writes: read-only (`SQLITE_READONLY`) or full
//! (`SQLITE_FULL`). Writes answer 503 `service_unavailable` with
//! `Retry-After` (never a 500, never a panic), reads keep working, nothing
//! half-written is left behind, writes work again once the condition ends,
//! and `PRAGMA integrity_check` is `ok` afterwards.
//!
//! The conditions are SQLite's own, set on every connection of the pool
//! (`PRAGMA query_only`, `PRAGMA max_page_count`), so the test needs no root
//! and no special file system: SQLite fails the writes with the same codes
//! and messages as for a read-only file or mount and a full disk. Runs on
//! SQLite even when the suite runs on PostgreSQL.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use serde_json::json;
use twofold::db::Db;

use crate::common::{unique_email, Answer, TestApp};

/// The pool's size on SQLite (`Db::connect_lazy`): holding this many
/// connections at once reaches every connection the app can use.
const SQLITE_POOL: usize = 8;

struct Sqlite {
    app: TestApp,
    path: std::path::PathBuf,
    admin_token: String,
    _dir: tempfile::TempDir,
}

impl Sqlite {
    async fn spawn(name: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("outage.db");
        let url = format!("sqlite://{}", path.display());
        let app = TestApp::with_env(&[("TWOFOLD_DATABASE_URL", &url)]).await;
        assert_eq!(app.state.db.backend(), "sqlite");
        let admin = app.account(name).await;
        let admin_token = app.access_token(&admin).await;
        Self {
            app,
            path,
            admin_token,
            _dir: dir,
        }
    }

    /// Runs `sql` on every connection of the app's pool.
    fn on_every_connection(&self, sql: &str) {
        let db: &Db = &self.app.state.db;
        let mut held = Vec::new();
        for _ in 0..SQLITE_POOL {
            let mut conn = db.conn().unwrap();
            conn.batch_execute(sql).unwrap();
            held.push(conn);
        }
    }

    async fn create_user(&self, tag: &str) -> Answer {
        self.app
            .call(
                reqwest::Method::POST,
                "/v1/admin/users",
                Some(&self.admin_token),
                Some(json!({
                    "email": unique_email(tag),
                    "name": format!("Outage {tag}"),
                    "role": "read_only",
                })),
            )
            .await
    }

    async fn list_users(&self) -> Answer {
        self.app
            .get("/v1/admin/users?limit=100", Some(&self.admin_token))
            .await
    }

    /// Rows of `users`, counted on a connection of its own.
    fn user_rows(&self) -> i64 {
        #[derive(QueryableByName)]
        struct Count {
            #[diesel(sql_type = BigInt)]
            n: i64,
        }
        let mut conn = SqliteConnection::establish(self.path.to_str().unwrap()).unwrap();
        diesel::sql_query("SELECT count(*) AS n FROM users")
            .get_result::<Count>(&mut conn)
            .unwrap()
            .n
    }

    fn integrity_check(&self) -> Vec<String> {
        #[derive(QueryableByName)]
        struct Line {
            #[diesel(sql_type = Text)]
            integrity_check: String,
        }
        let mut conn = SqliteConnection::establish(self.path.to_str().unwrap()).unwrap();
        diesel::sql_query("PRAGMA integrity_check")
            .load::<Line>(&mut conn)
            .unwrap()
            .into_iter()
            .map(|l| l.integrity_check)
            .collect()
    }
}

trait Created {
    fn created(&self);
}

impl Created for Answer {
    /// A 201: the write was acknowledged.
    fn created(&self) {
        assert_eq!(self.status, 201, "{}", self.text);
    }
}

/// A 503 `service_unavailable` with `Retry-After` whose detail names `why`.
fn unavailable(a: &Answer, why: &str) {
    a.problem(503, "service_unavailable");
    assert_eq!(a.header("retry-after"), "2", "{}", a.text);
    assert_eq!(a.json["retry_after"], 2, "{}", a.text);
    let detail = a.json["detail"].as_str().unwrap();
    assert!(detail.contains(why), "{detail}");
}

#[actix_web::test]
async fn a_read_only_sqlite_database_refuses_writes_with_503_and_keeps_serving_reads() {
    let s = Sqlite::spawn("Read-only SQLite").await;
    s.create_user("before-ro").await.created();
    let rows = s.user_rows();

    s.on_every_connection("PRAGMA query_only = ON");
    for i in 0..3 {
        unavailable(&s.create_user(&format!("ro-{i}")).await, "read-only");
    }
    // A login writes its flow: refused the same way, not a 500.
    let login = s
        .app
        .post(
            "/v1/auth/login",
            json!({ "email": unique_email("ro-login") }),
        )
        .await;
    unavailable(&login, "read-only");
    // Reads go on.
    let list = s.list_users().await;
    assert_eq!(list.status, 200, "{}", list.text);
    let ready = s.app.get("/readyz", None).await;
    assert_eq!(ready.status, 200, "{}", ready.text);
    assert_eq!(s.user_rows(), rows, "a refused write left a row");

    s.on_every_connection("PRAGMA query_only = OFF");
    s.create_user("after-ro").await.created();
    assert_eq!(s.user_rows(), rows + 1);
    assert_eq!(s.integrity_check(), ["ok"]);
}

#[actix_web::test]
async fn a_full_sqlite_database_refuses_writes_with_503_and_loses_nothing() {
    let s = Sqlite::spawn("Full SQLite").await;
    s.create_user("before-full").await.created();
    let before = s.user_rows();

    // The database may not grow by a single page from now on (SQLite clamps
    // the limit up to the current size): the first write that needs a new
    // page fails as on a full disk.
    s.on_every_connection("PRAGMA max_page_count = 1");
    let mut acknowledged = 0;
    let mut refused = None;
    for i in 0..500 {
        let a = s.create_user(&format!("full-{i}")).await;
        match a.status.as_u16() {
            201 => acknowledged += 1,
            _ => {
                refused = Some(a);
                break;
            }
        }
    }
    let refused = refused.expect("no write was refused on a full database");
    unavailable(&refused, "full");
    // Still full: refused again, reads go on.
    unavailable(&s.create_user("full-again").await, "full");
    let list = s.list_users().await;
    assert_eq!(list.status, 200, "{}", list.text);
    let rows = s.user_rows();

    s.on_every_connection("PRAGMA max_page_count = 1073741823");
    s.create_user("after-full").await.created();
    // Every acknowledged write is there, the refused ones are not.
    assert_eq!(s.user_rows(), rows + 1);
    assert_eq!(rows, before + acknowledged, "the 201s and nothing else");
    assert_eq!(s.integrity_check(), ["ok"]);
}
