//! Pooled connections that cost no round trip of their own while in use.
//!
//! r2d2 can test every connection it hands out (`SELECT 1` on each
//! checkout), which a request that checks out twice pays twice; a login
//! step paid it up to four times. Instead a connection is pinged only when
//! it sat idle long enough for the server to have gone away meanwhile, and
//! one whose statement failed as a lost connection is thrown away when it
//! is returned (the instrumentation in [`super::Manager`] marks it). A
//! request that finds the server gone mid-query still answers 503, as
//! before; the connection it used is not handed out again.

use std::cell::{Cell, RefCell};
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::r2d2::{self, Pool, PooledConnection};

use super::{DbConn, Manager};
use crate::error::{ApiError, DbUnavailable};

/// Statements sent through the pool's connections.
#[derive(Debug, Default)]
pub struct Statements {
    /// By the application.
    pub(super) sent: AtomicU64,
    /// By [`checkout`], to test an idle connection.
    pub(super) pings: AtomicU64,
}

thread_local! {
    /// Set while [`checkout`] pings on this thread, so that the
    /// instrumentation (which runs on the thread sending the statement)
    /// counts the ping apart.
    static PINGING: Cell<bool> = const { Cell::new(false) };
}

/// True while this thread pings a connection.
pub(super) fn pinging() -> bool {
    PINGING.with(Cell::get)
}

thread_local! {
    /// The writer gate of the pool whose connection this thread is using
    /// (see [`with_writer_gate`]).
    static WRITER_GATE: RefCell<Option<Arc<Mutex<()>>>> = const { RefCell::new(None) };
}

/// Runs `f` with `gate` as this thread's writer gate: SQLite write
/// transactions begun meanwhile wait for it (see [`writer_gate`]).
pub(super) fn with_writer_gate<T>(gate: Arc<Mutex<()>>, f: impl FnOnce() -> T) -> T {
    WRITER_GATE.with(|g| g.replace(Some(gate)));
    let out = f();
    WRITER_GATE.with(|g| g.replace(None));
    out
}

/// This thread's writer gate, if its connection came through [`Db::run`](super::Db::run).
///
/// SQLite has one writer at a time. A writer that finds the database
/// locked sleeps in SQLite's busy handler, for 1, 2, 5, 10 and then up to
/// 100 ms at a time, however soon the lock is free: under load a short
/// transaction could wait tens of milliseconds behind another short one.
/// Writers of one process queue on this gate instead, and each is woken
/// the moment the one before it commits; the busy handler is left for
/// other processes (the CLI) sharing the file.
pub(super) fn writer_gate() -> Option<Arc<Mutex<()>>> {
    WRITER_GATE.with(|g| g.borrow().clone())
}

/// A connection idle for longer than this is pinged before it is used.
const IDLE_BEFORE_PING: Duration = Duration::from_secs(1);

/// A connection in the pool: the backend's, whether a statement found it
/// lost, and when it was last handed back.
pub struct PoolConn {
    conn: DbConn,
    lost: Arc<AtomicBool>,
    returned_at: Instant,
}

impl PoolConn {
    pub(super) fn new(conn: DbConn, lost: Arc<AtomicBool>) -> Self {
        Self {
            conn,
            lost,
            returned_at: Instant::now(),
        }
    }

    pub(super) fn ping(&mut self) -> Result<(), r2d2::Error> {
        PINGING.with(|p| p.set(true));
        let answered = self.conn.batch_execute("SELECT 1");
        PINGING.with(|p| p.set(false));
        answered.map_err(r2d2::Error::QueryError)
    }

    pub(super) fn is_lost(&self) -> bool {
        self.lost.load(Ordering::Relaxed)
    }
}

/// A checked-out connection; it goes back to the pool when dropped.
pub struct Conn(PooledConnection<Manager>);

impl Deref for Conn {
    type Target = DbConn;
    fn deref(&self) -> &DbConn {
        &self.0.conn
    }
}

impl DerefMut for Conn {
    fn deref_mut(&mut self) -> &mut DbConn {
        &mut self.0.conn
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        self.0.returned_at = Instant::now();
    }
}

/// True when a failed statement may mean the connection is gone, so that
/// it must not be used again.
pub(super) fn may_be_lost(error: &diesel::result::Error) -> bool {
    matches!(error, diesel::result::Error::BrokenTransactionManager)
        || DbUnavailable::of(error) == Some(DbUnavailable::ConnectionLost)
}

/// Why no connection could be had.
#[derive(Debug, thiserror::Error)]
pub enum CheckoutError {
    #[error(transparent)]
    Pool(#[from] r2d2::PoolError),
    #[error("no pooled connection answered: {0}")]
    Unreachable(r2d2::Error),
}

impl From<CheckoutError> for ApiError {
    fn from(e: CheckoutError) -> Self {
        match e {
            CheckoutError::Pool(e) => e.into(),
            CheckoutError::Unreachable(e) => {
                tracing::warn!(error = %e, "database unavailable");
                ApiError::Unavailable {
                    detail: "The database is not reachable right now.",
                    retry_after: 2,
                }
            }
        }
    }
}

/// A connection from `pool`, pinged first when it sat idle. Connections
/// that fail the ping are dropped and the next one is tried: after an
/// outage every idle connection is dead, and none of them should cost a
/// request its answer.
pub(super) fn checkout(pool: &Pool<Manager>) -> Result<Conn, CheckoutError> {
    checkout_by(pool, Instant::now() + pool.connection_timeout())
}

/// [`checkout`], giving up at `deadline` rather than a pool timeout from
/// now: for a request that already waited for something else (its user's
/// turn) and must not wait the pool's timeout twice.
pub(super) fn checkout_by(pool: &Pool<Manager>, deadline: Instant) -> Result<Conn, CheckoutError> {
    let attempts = pool.max_size() + 1;
    let mut last = None;
    for _ in 0..attempts {
        let left = deadline.saturating_duration_since(Instant::now());
        let mut conn = pool.get_timeout(left)?;
        if conn.returned_at.elapsed() < IDLE_BEFORE_PING {
            return Ok(Conn(conn));
        }
        match conn.ping() {
            Ok(()) => return Ok(Conn(conn)),
            Err(e) => {
                // Dropped broken, whatever the error was.
                conn.lost.store(true, Ordering::Relaxed);
                last = Some(e);
            }
        }
    }
    Err(CheckoutError::Unreachable(last.unwrap_or(
        r2d2::Error::QueryError(diesel::result::Error::BrokenTransactionManager),
    )))
}
