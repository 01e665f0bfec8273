//! Deferred commits (`db::write_tx_deferred`): they commit and roll back
//! like any write transaction, and on PostgreSQL only that transaction
//! skips waiting for the disk — the connection goes back to the pool
//! durable, and `commit_durably` turns a deferred transaction back into a
//! waiting one.

use diesel::prelude::*;
use diesel::sql_types::Text;
use twofold::db::{commit_durably, write_tx, write_tx_deferred, DbConn};
use twofold::error::ApiError;

use crate::common::TestApp;

#[derive(QueryableByName)]
struct Setting {
    #[diesel(sql_type = Text)]
    value: String,
}

/// `synchronous_commit` as the connection sees it now.
fn synchronous_commit(conn: &mut DbConn) -> String {
    diesel::sql_query("SELECT current_setting('synchronous_commit') AS value")
        .get_result::<Setting>(conn)
        .unwrap()
        .value
}

fn put(conn: &mut DbConn, ip: &str) -> Result<(), ApiError> {
    diesel::sql_query(format!(
        "INSERT INTO client_failures (ip, window_start, failures) VALUES ('{ip}', 0, 1)"
    ))
    .execute(conn)?;
    Ok(())
}

fn present(conn: &mut DbConn, ip: &str) -> bool {
    use twofold::db::schema::client_failures;
    diesel::select(diesel::dsl::exists(
        client_failures::table.filter(client_failures::ip.eq(ip)),
    ))
    .get_result(conn)
    .unwrap()
}

#[actix_web::test]
async fn a_deferred_transaction_commits_and_rolls_back_like_any_other() {
    let t = TestApp::spawn().await;
    let mut conn = t.state.db.conn().unwrap();
    write_tx_deferred(&mut conn, |c| put(c, "commits-kept")).unwrap();
    let refused = write_tx_deferred(&mut conn, |c| {
        put(c, "commits-dropped")?;
        Err::<(), _>(ApiError::FlowExpired)
    });
    assert!(matches!(refused, Err(ApiError::FlowExpired)));
    // Seen from another connection of the pool: committed means visible.
    let mut other = t.state.db.conn().unwrap();
    assert!(present(&mut other, "commits-kept"));
    assert!(!present(&mut other, "commits-dropped"));
    // The connection is out of the transaction and usable.
    write_tx(&mut conn, |c| put(c, "commits-after")).unwrap();
    assert!(present(&mut other, "commits-after"));
}

#[actix_web::test]
async fn only_the_deferred_transaction_skips_waiting_for_the_disk() {
    let t = TestApp::spawn().await;
    if t.state.db.backend() != "postgres" {
        return; // SQLite in WAL mode with `synchronous = NORMAL` never waits.
    }
    let mut conn = t.state.db.conn().unwrap();
    let setting = |conn: &mut DbConn| Ok::<_, ApiError>(synchronous_commit(conn));
    assert_eq!(write_tx(&mut conn, setting).unwrap(), "on");
    assert_eq!(write_tx_deferred(&mut conn, setting).unwrap(), "off");
    let upgraded = write_tx_deferred(&mut conn, |c| {
        commit_durably(c)?;
        Ok(synchronous_commit(c))
    });
    assert_eq!(upgraded.unwrap(), "on");
    // After a deferred transaction, committed or rolled back, the
    // connection's next transaction waits for the disk again.
    let _ = write_tx_deferred(&mut conn, |_| Err::<(), _>(ApiError::FlowExpired));
    assert_eq!(synchronous_commit(&mut conn), "on");
    assert_eq!(write_tx(&mut conn, setting).unwrap(), "on");
}
