//! Persistence: one code path for SQLite and PostgreSQL.
//!
//! [`DbConn`] is a diesel `MultiConnection` over both backends; every query
//! in the repos is written once against it. The backend is chosen from the
//! URL scheme here, and only here, so a mistyped URL is refused with the real
//! reason instead of silently falling back to a SQLite file. Dialect
//! differences (migrations, connection pragmas, advisory locks) live in this
//! module and nowhere else.
//!
//! Database work is blocking: it runs through [`Db::run`] on the blocking
//! thread pool, never on actix's async workers.

pub mod backup;
mod lane;
mod manager;
mod pool;
mod prepared;
pub mod schema;
pub mod search;
mod tls;
mod turns;
mod tx;

pub use manager::Manager;
pub use pool::{Conn, PoolConn};
pub use prepared::{update, upsert};
pub use tls::init_tls;
pub use tx::{commit_deferred, commit_durably, write_tx, write_tx_deferred};

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::Pool;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::error::ApiError;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Postgres(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

/// Runs `$body` on the concrete connection inside a [`DbConn`], for the few
/// statements diesel's `MultiConnection` cannot express although both
/// dialects share their SQL (`INSERT … ON CONFLICT`). The body is written
/// once and compiled for each backend.
#[macro_export]
macro_rules! on_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::DbConn::Postgres($c) => $body,
            $crate::db::DbConn::Sqlite($c) => $body,
        }
    };
}

/// Which database a URL names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    /// A file path (relative to the working directory, or absolute).
    Sqlite(String),
    Postgres(String),
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error(
        "unsupported database URL: expected sqlite://PATH or postgres://USER:PASSWORD@HOST/DB"
    )]
    UnsupportedUrl,
    #[error("sqlite://:memory: cannot be shared by a connection pool; use a file path")]
    InMemory,
    #[error("cannot connect to the database: {0}")]
    Connect(String),
    #[error("migration failed: {0}")]
    Migrate(String),
}

impl Backend {
    pub fn from_url(url: &str) -> Result<Self, DbError> {
        if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err(DbError::UnsupportedUrl);
            }
            if path == ":memory:" {
                return Err(DbError::InMemory);
            }
            return Ok(Self::Sqlite(path.to_owned()));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self::Postgres(url.to_owned()));
        }
        Err(DbError::UnsupportedUrl)
    }

    pub fn name(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(_) => "postgres",
        }
    }
}

/// The connection pool, cheap to clone.
#[derive(Clone)]
pub struct Db {
    pool: Pool<Manager>,
    backend: &'static str,
    statements: Arc<pool::Statements>,
    /// SQLite's writers of this process queue here (see `pool::writer_gate`).
    writers: Arc<Mutex<()>>,
    /// Turns per user for the transactions that lock a user's row.
    turns: Arc<turns::Turns>,
    /// The first login steps' share of the pool (see [`lane`]).
    password_lane: lane::Lane,
    /// Set on the handle [`Db::password_lane`] returns: its work enters
    /// the lane first.
    in_lane: bool,
}

impl Db {
    /// Opens a pool; fails when the database cannot be reached now.
    pub fn connect(url: &str) -> Result<Self, DbError> {
        let db = Self::connect_lazy(url)?;
        db.pool.get().map_err(|e| DbError::Connect(e.to_string()))?;
        Ok(db)
    }

    /// Opens a pool without touching the database; connections are made on
    /// demand, so a database that comes back later is picked up by itself.
    pub fn connect_lazy(url: &str) -> Result<Self, DbError> {
        let backend = Backend::from_url(url)?;
        let max_size = match backend {
            Backend::Sqlite(_) => 8,
            Backend::Postgres(_) => 16,
        };
        let name = backend.name();
        let statements = Arc::new(pool::Statements::default());
        let pool = Pool::builder()
            .max_size(max_size)
            .min_idle(Some(0))
            // A checkout pings only a connection that sat idle (see
            // `pool::checkout`); one in steady use costs no extra round trip.
            .test_on_check_out(false)
            .connection_timeout(Duration::from_secs(3))
            .build_unchecked(Manager {
                backend,
                statements: Arc::clone(&statements),
            });
        Ok(Self {
            pool,
            backend: name,
            statements,
            writers: Arc::default(),
            turns: Arc::default(),
            password_lane: lane::Lane::half_of(max_size),
            in_lane: false,
        })
    }

    /// The most connections the pool opens.
    pub fn pool_size(&self) -> usize {
        usize::try_from(self.pool.max_size()).unwrap_or(usize::MAX)
    }

    pub fn backend(&self) -> &'static str {
        self.backend
    }

    /// SQL statements this pool's connections have sent so far for the
    /// application (the pool's own liveness checks are counted apart).
    pub fn statements(&self) -> u64 {
        self.statements.sent.load(Ordering::Relaxed)
    }

    /// Liveness checks (`SELECT 1`) the pool has sent so far.
    pub fn pings(&self) -> u64 {
        self.statements.pings.load(Ordering::Relaxed)
    }

    /// A connection for blocking work outside a request (CLI, start-up).
    pub fn conn(&self) -> Result<Conn, DbError> {
        pool::checkout(&self.pool).map_err(|e| DbError::Connect(e.to_string()))
    }

    /// This pool, for the email and password steps: their work waits for
    /// a place in the password lane, which holds at most half the
    /// connections (see [`lane`]).
    pub fn password_lane(&self) -> Self {
        Self {
            in_lane: true,
            ..self.clone()
        }
    }

    /// [`Db::run`] in `user`'s turn (see [`turns`]): for the login steps'
    /// transactions that lock the user's row, which anyone who knows an
    /// email can send.
    pub async fn run_in_turn<T, F>(&self, user: &str, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConn) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        // The turn and the connection share one pool timeout: a queue of
        // requests for one user during an outage must not wait it twice.
        let deadline = std::time::Instant::now() + self.pool.connection_timeout();
        let Ok(_turn) = tokio::time::timeout_at(deadline.into(), self.turns.take(user)).await
        else {
            return Err(ApiError::pool_unavailable(
                &"no turn for the user within the pool timeout",
            ));
        };
        self.run_by(deadline, f).await
    }

    /// Runs `f` with a pooled connection on the blocking thread pool.
    pub async fn run<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConn) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let deadline = std::time::Instant::now() + self.pool.connection_timeout();
        self.run_by(deadline, f).await
    }

    /// [`Db::run`] with a connection checked out by `deadline`.
    async fn run_by<T, F>(&self, deadline: std::time::Instant, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConn) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let place = if self.in_lane {
            Some(self.password_lane.enter(deadline).await?)
        } else {
            None
        };
        let pool = self.pool.clone();
        let gate = Arc::clone(&self.writers);
        actix_web::web::block(move || {
            let _place = place;
            let mut conn = pool::checkout_by(&pool, deadline)?;
            pool::with_writer_gate(gate, || f(&mut conn))
        })
        .await
        .map_err(ApiError::internal)?
    }

    /// Applies pending migrations of the matching dialect. On PostgreSQL an
    /// advisory lock keeps several instances starting at once from racing.
    pub fn migrate(&self) -> Result<usize, DbError> {
        let mut conn = self.conn()?;
        let applied = match &mut *conn {
            DbConn::Sqlite(c) => c
                .run_pending_migrations(SQLITE_MIGRATIONS)
                .map(|v| v.len())
                .map_err(|e| DbError::Migrate(e.to_string()))?,
            DbConn::Postgres(c) => {
                // Any constant unique to this program; other users of advisory locks
                // in a shared database pick their own.
                const LOCK: i64 = 0x0074_776f_666f_6c64;
                let lock = format!("SELECT pg_advisory_lock({LOCK})");
                c.batch_execute(&lock)
                    .map_err(|e| DbError::Migrate(e.to_string()))?;
                let result = c
                    .run_pending_migrations(POSTGRES_MIGRATIONS)
                    .map(|v| v.len())
                    .map_err(|e| DbError::Migrate(e.to_string()));
                let unlock = format!("SELECT pg_advisory_unlock({LOCK})");
                c.batch_execute(&unlock)
                    .map_err(|e| DbError::Migrate(e.to_string()))?;
                result?
            }
        };
        Ok(applied)
    }

    /// `SELECT 1` through the pool, for readiness.
    pub async fn ping(&self) -> Result<(), ApiError> {
        self.run(|conn| {
            conn.batch_execute("SELECT 1")?;
            Ok(())
        })
        .await
    }
}

/// True when a diesel error is a unique-constraint violation.
pub fn is_unique_violation(e: &diesel::result::Error) -> bool {
    matches!(
        e,
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_pick_their_backend_or_are_refused() {
        assert_eq!(
            Backend::from_url("sqlite://twofold.db").unwrap(),
            Backend::Sqlite("twofold.db".into())
        );
        assert_eq!(
            Backend::from_url("sqlite:///var/lib/twofold/db.sqlite").unwrap(),
            Backend::Sqlite("/var/lib/twofold/db.sqlite".into())
        );
        assert!(matches!(
            Backend::from_url("postgresql://u:p@h/db").unwrap(),
            Backend::Postgres(_)
        ));
        // A libpq key/value string must not become a SQLite file named after
        // it (password included).
        assert!(Backend::from_url("host=db password=secret").is_err());
        assert!(Backend::from_url("sqlite://:memory:").is_err());
        assert!(Backend::from_url("mysql://x").is_err());
    }
}
