//! Deferred commits (`db::write_tx_deferred`, `db::commit_deferred`): they
//! commit and roll back like any write transaction, and on PostgreSQL only
//! that transaction skips waiting for the disk — the connection goes back
//! to the pool durable, and `commit_durably` turns a deferred transaction
//! back into a waiting one. The email step's flow is such a commit, made before the
//! flows open from the address are counted: racing email steps still see
//! each other's flows, and the cap holds.

use diesel::prelude::*;
use diesel::sql_types::Text;
use twofold::db::{commit_deferred, commit_durably, write_tx, write_tx_deferred, DbConn};
use twofold::error::ApiError;

use crate::common::TestApp;
use crate::ip_allowlist::xff;

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
    assert_eq!(commit_deferred(&mut conn, setting).unwrap(), "off");
    assert_eq!(synchronous_commit(&mut conn), "on");
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

#[actix_web::test]
async fn racing_email_steps_from_one_address_never_open_more_flows_than_its_cap() {
    use twofold::db::schema::login_flows;
    let t = TestApp::with_env(&[
        ("TWOFOLD_TRUSTED_PROXIES", "127.0.0.1"),
        ("TWOFOLD_ADDRESS_FLOW_LIMIT", "1"),
    ])
    .await;
    // Many addresses, each racing three email steps for its one flow: a
    // flow counted before the others' are visible would let two through.
    let prefix = u16::from_be_bytes(twofold::crypto::random_bytes::<2>());
    let addresses: Vec<String> = (0..40)
        .map(|i| format!("2001:db8:{prefix:x}:{i:x}::1"))
        .collect();
    let racers: Vec<_> = addresses.iter().map(|a| xff(a)).collect();
    let mut steps = Vec::new();
    for racer in &racers {
        for _ in 0..3 {
            let body = serde_json::json!({ "email": crate::common::unique_email("race") });
            steps.push(racer.post(&t, "/v1/auth/login", None, body));
        }
    }
    let answers = futures_util::future::join_all(steps).await;
    for refused in answers.iter().filter(|a| a.status != 200) {
        refused.problem(429, "too_many_attempts");
    }
    assert!(answers.iter().any(|a| a.status == 200), "no flow opened");
    let mut conn = t.state.db.conn().unwrap();
    for (address, answers) in addresses.iter().zip(answers.chunks(3)) {
        let opened = answers.iter().filter(|a| a.status == 200).count();
        assert!(
            opened <= 1,
            "{address}: {opened} flows opened past a cap of 1"
        );
        // And the table agrees: a withdrawn flow is gone.
        let open: i64 = login_flows::table
            .filter(login_flows::client_address.eq(twofold::net::address_bucket(address)))
            .count()
            .get_result(&mut *conn)
            .unwrap();
        assert_eq!(usize::try_from(open).unwrap(), opened, "{address}");
    }
}
