//! The r2d2 manager: opens a connection to the backend a URL names, with
//! the instrumentation that counts statements and marks lost connections.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection};

use super::pool::{self, PoolConn};
use super::{init_tls, Backend, DbConn};

/// r2d2 manager that opens the backend named by the URL.
#[derive(Debug, Clone)]
pub struct Manager {
    pub(super) backend: Backend,
    pub(super) statements: Arc<pool::Statements>,
}

impl Manager {
    /// Watches every statement the connection sends: counts it (one relaxed
    /// atomic add; round trips are what a request costs, and a test holds
    /// each login step to a budget of them), and marks the connection lost
    /// when a statement fails in a way that may mean the server is gone.
    fn instrument<C: Connection>(&self, conn: &mut C, lost: &Arc<AtomicBool>) {
        use diesel::connection::InstrumentationEvent;
        let statements = Arc::clone(&self.statements);
        let lost = Arc::clone(lost);
        conn.set_instrumentation(move |event: InstrumentationEvent<'_>| match event {
            InstrumentationEvent::StartQuery { .. } => {
                let counter = if pool::pinging() {
                    &statements.pings
                } else {
                    &statements.sent
                };
                counter.fetch_add(1, Ordering::Relaxed);
            }
            InstrumentationEvent::FinishQuery {
                error: Some(error), ..
            } if pool::may_be_lost(error) => lost.store(true, Ordering::Relaxed),
            _ => {}
        });
    }
}

impl ManageConnection for Manager {
    type Connection = PoolConn;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<PoolConn, r2d2::Error> {
        let lost = Arc::new(AtomicBool::new(false));
        let conn = match &self.backend {
            Backend::Sqlite(path) => {
                let mut conn = diesel::SqliteConnection::establish(path)
                    .map_err(r2d2::Error::ConnectionError)?;
                // busy_timeout first: switching to WAL takes a lock that the
                // pool's other connections, opened at the same moment, contend for.
                conn.batch_execute(
                    "PRAGMA busy_timeout = 10000;
                     PRAGMA journal_mode = WAL;
                     PRAGMA synchronous = NORMAL;
                     PRAGMA foreign_keys = ON;",
                )
                .map_err(r2d2::Error::QueryError)?;
                self.instrument(&mut conn, &lost);
                DbConn::Sqlite(conn)
            }
            Backend::Postgres(url) => {
                init_tls();
                let mut conn =
                    diesel::PgConnection::establish(url).map_err(r2d2::Error::ConnectionError)?;
                self.instrument(&mut conn, &lost);
                DbConn::Postgres(conn)
            }
        };
        Ok(PoolConn::new(conn, lost))
    }

    fn is_valid(&self, conn: &mut PoolConn) -> Result<(), r2d2::Error> {
        conn.ping()
    }

    fn has_broken(&self, conn: &mut PoolConn) -> bool {
        conn.is_lost() || std::thread::panicking()
    }
}
