//! Write transactions, and how their commits reach the disk.
//!
//! Every commit waits for the disk by default. On PostgreSQL a few
//! transactions of the login path may commit without waiting
//! ([`write_tx_deferred`]: `synchronous_commit` off for that transaction
//! alone). Such a commit is visible to every other request and instance at
//! once, exactly like any other, so limits and locks hold the same; only a
//! crash of the database server within a fraction of a second
//! (`wal_writer_delay`, 200 ms by default, three times at most) can forget
//! it. And any later commit that waits for the disk writes every earlier
//! one with it, as the write-ahead log is one sequence.
//!
//! Under load these waits were most of the code step's tail: with 256
//! clients logging in, each login waited for four flushes of the log while
//! the disk was busy with everyone else's. Now it waits for one, the code
//! step's, which opens the session; the email step's new flow is a
//! [`commit_deferred`].
//!
//! SQLite runs `synchronous = NORMAL` in WAL mode: no commit there waits for
//! the disk, and only a power loss, not a crash of the process, can forget
//! the last ones.

use std::sync::PoisonError;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;

use super::{pool, DbConn};
use crate::error::ApiError;

/// Runs `f` in a write transaction. On SQLite it begins `IMMEDIATE`, taking
/// the write lock up front: a deferred transaction that reads and then
/// writes fails with `SQLITE_BUSY` when another writer got in between,
/// instead of waiting its turn. On PostgreSQL it is a plain transaction.
/// `f` must not open transactions of its own.
pub fn write_tx<T>(
    conn: &mut DbConn,
    f: impl FnOnce(&mut DbConn) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    match conn {
        DbConn::Postgres(_) => conn.transaction(f),
        DbConn::Sqlite(_) => sqlite_tx(conn, f),
    }
}

/// [`write_tx`] whose commit does not wait for the disk on PostgreSQL
/// (see the module): only for a transaction that a database crash may
/// forget at no cost but a retry — no session, no audit event, no spent
/// factor, no change an admin or a user was told is done. A transaction
/// that turns out to need more calls [`commit_durably`] before it ends.
pub fn write_tx_deferred<T>(
    conn: &mut DbConn,
    f: impl FnOnce(&mut DbConn) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    let DbConn::Postgres(pg) = conn else {
        return sqlite_tx(conn, f);
    };
    // One round trip, as a plain BEGIN.
    AnsiTransactionManager::begin_transaction_sql(
        pg,
        "BEGIN; SET LOCAL synchronous_commit TO OFF",
    )?;
    let outcome = f(conn);
    let DbConn::Postgres(pg) = conn else {
        unreachable!("a connection keeps its backend");
    };
    // As diesel's own `transaction` ends one.
    match outcome {
        Ok(value) => {
            AnsiTransactionManager::commit_transaction(pg)?;
            Ok(value)
        }
        Err(e) => {
            let _ = AnsiTransactionManager::rollback_transaction(pg);
            Err(e)
        }
    }
}

/// One statement, `f`, committed at once without waiting for the disk on
/// PostgreSQL (a [`write_tx_deferred`] of its own: two round trips more
/// than the statement alone, against a flush of the log) and as it is on
/// SQLite, where no commit waits. For a write that a database crash may
/// forget at no cost but a retry, and that other requests must see before
/// this one goes on. Must not run inside another transaction.
pub fn commit_deferred<T>(
    conn: &mut DbConn,
    f: impl FnOnce(&mut DbConn) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    match conn {
        DbConn::Postgres(_) => write_tx_deferred(conn, f),
        DbConn::Sqlite(_) => f(conn),
    }
}

/// Inside a [`write_tx_deferred`]: this transaction's commit waits for the
/// disk after all (it opened a session, say). Nothing on SQLite.
pub fn commit_durably(conn: &mut DbConn) -> Result<(), ApiError> {
    if let DbConn::Postgres(pg) = conn {
        pg.batch_execute("SET LOCAL synchronous_commit TO ON")?;
    }
    Ok(())
}

fn sqlite_tx<T>(
    conn: &mut DbConn,
    f: impl FnOnce(&mut DbConn) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    let gate = pool::writer_gate();
    let _turn = gate
        .as_ref()
        .map(|gate| gate.lock().unwrap_or_else(PoisonError::into_inner));
    conn.batch_execute("BEGIN IMMEDIATE")?;
    match f(conn) {
        Ok(value) => match conn.batch_execute("COMMIT") {
            Ok(()) => Ok(value),
            Err(e) => {
                let _ = conn.batch_execute("ROLLBACK");
                Err(e.into())
            }
        },
        Err(e) => {
            let _ = conn.batch_execute("ROLLBACK");
            Err(e)
        }
    }
}
