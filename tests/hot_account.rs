//! A flood of password attempts at one account — a credential attack can
//! come from as many addresses as the attacker rents — must not take the
//! database connections every other login needs. A password step locks its
//! user's row; were every attempt to wait for that lock on a connection of
//! its own, one hot account would hold the whole pool and everyone else's
//! login would wait, then fail. PostgreSQL only: SQLite has no row locks
//! (its writers of one process queue in turn, off the pool's connections).

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use serde_json::json;

use crate::common::TestApp;

/// Attempts in the flood: more than the pool's 16 connections.
const FLOOD: usize = 24;

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Connections waiting, right now, for the lock `holder` (a backend pid)
/// holds: behind it, or behind a connection that waits for it, and so on
/// (a row's second waiter queues behind the first). Other tests share the
/// database and may wait for locks of their own at the same moment; those
/// are not counted.
fn lock_waiters(watcher: &mut PgConnection, holder: i32) -> i64 {
    diesel::sql_query(
        "WITH RECURSIVE behind(pid) AS ( \
             SELECT pid FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid)) \
             UNION \
             SELECT a.pid FROM pg_stat_activity a, behind b \
             WHERE b.pid = ANY(pg_blocking_pids(a.pid))) \
         SELECT count(*) AS n FROM behind",
    )
    .bind::<diesel::sql_types::Integer, _>(holder)
    .get_result::<Count>(watcher)
    .unwrap()
    .n
}

#[derive(QueryableByName)]
struct Pid {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    pid: i32,
}

#[actix_web::test]
async fn a_flood_at_one_account_leaves_connections_for_everyone_else() {
    let t = TestApp::spawn().await;
    if t.state.db.backend() != "postgres" {
        return;
    }
    let victim = t.account("Hot account").await;
    let bystander = t.account("Bystander").await;
    let mut flows = Vec::with_capacity(FLOOD);
    for _ in 0..FLOOD {
        let start = t
            .post("/v1/auth/login", json!({ "email": victim.email }))
            .await;
        flows.push(start.ok()["flow_token"].as_str().unwrap().to_owned());
    }

    // Outside the app's pool: a transaction that holds the victim's row,
    // as a slow one would, and a connection that watches the lock queue.
    let url = &t.state.config.database_url;
    let mut holder = PgConnection::establish(url).unwrap();
    let mut watcher = PgConnection::establish(url).unwrap();
    let holder_pid = diesel::sql_query("SELECT pg_backend_pid() AS pid")
        .get_result::<Pid>(&mut holder)
        .unwrap()
        .pid;
    holder
        .batch_execute(&format!(
            "BEGIN; SELECT id FROM users WHERE id = '{}' FOR UPDATE",
            victim.id
        ))
        .unwrap();

    let flood = futures_util::future::join_all(flows.iter().map(|flow| {
        let body = json!({ "flow_token": flow, "password": "a wrong guess" });
        t.post("/v1/auth/login/password", body)
    }));
    let bystander_logs_in = async {
        let mut most = 0;
        for _ in 0..500 {
            most = lock_waiters(&mut watcher, holder_pid);
            if most > 0 {
                break;
            }
            actix_web::rt::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert!(most > 0, "the flood never reached the victim's row");
        // Everyone else's login goes on while the flood waits.
        let start = t
            .post("/v1/auth/login", json!({ "email": bystander.email }))
            .await;
        let body =
            json!({ "flow_token": start.ok()["flow_token"], "password": bystander.password });
        let step = t.post("/v1/auth/login/password", body).await;
        let status = step.status;
        let waiting = lock_waiters(&mut watcher, holder_pid);
        holder.batch_execute("ROLLBACK").unwrap();
        (status, step, waiting)
    };
    let (answers, (status, step, waiting)) = futures_util::join!(flood, bystander_logs_in);
    assert_eq!(
        status.as_u16(),
        200,
        "the bystander's password step: {:?}",
        step.json
    );
    assert!(
        waiting <= 1,
        "{waiting} of the app's connections waited for one user's row"
    );
    for answer in answers {
        assert!(
            [401, 429].contains(&answer.status.as_u16()),
            "a flooding attempt answered {}: {:?}",
            answer.status,
            answer.json
        );
    }
}

/// A burst of email and password steps (clients told to retry after a 503
/// come back together) must not hold the whole pool: their database work
/// enters a lane of half the connections, and everything else keeps the
/// rest. Held here as a burst would hold it, with every lane holder stuck
/// mid-query.
#[actix_web::test]
async fn password_steps_leave_half_the_pool_to_other_requests() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Condvar, Mutex};
    use std::time::Duration;

    let t = TestApp::spawn().await;
    let person = t.account("Cheap requests").await;
    let token = t.access_token(&person).await;
    let size = t.state.db.pool_size();
    let inside = Arc::new(AtomicUsize::new(0));
    let gate = Arc::new((Mutex::new(false), Condvar::new()));
    let lane = t.state.db.password_lane();
    let burst = futures_util::future::join_all((0..size).map(|_| {
        let (inside, gate) = (Arc::clone(&inside), Arc::clone(&gate));
        lane.run(move |_conn| {
            inside.fetch_add(1, Ordering::SeqCst);
            let (open, opened) = &*gate;
            let mut open = open.lock().unwrap();
            while !*open {
                open = opened.wait(open).unwrap();
            }
            Ok(())
        })
    }));
    let others = async {
        for _ in 0..300 {
            if inside.load(Ordering::SeqCst) >= size / 2 {
                break;
            }
            actix_web::rt::time::sleep(Duration::from_millis(10)).await;
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        let held = inside.load(Ordering::SeqCst);
        let me = t.get("/v1/me", Some(&token)).await;
        // An email step is first-step work too: it waits for the lane.
        let email = json!({ "email": person.email });
        let email_waited = actix_web::rt::time::timeout(
            Duration::from_millis(300),
            t.post("/v1/auth/login", email),
        )
        .await
        .is_err();
        let (open, opened) = &*gate;
        *open.lock().unwrap() = true;
        opened.notify_all();
        (held, me, email_waited)
    };
    let (burst, (held, me, email_waited)) = futures_util::join!(burst, others);
    assert_eq!(held, size / 2, "connections the burst held of {size}");
    assert_eq!(me.status.as_u16(), 200, "{:?}", me.json);
    assert!(email_waited, "an email step went past the full lane");
    assert!(
        burst.iter().all(Result::is_ok),
        "the burst ended in refusals"
    );
}
