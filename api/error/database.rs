//! Database errors: which mean the database cannot serve now (503
//! `service_unavailable` with `Retry-After`, and a log line naming the
//! cause) and which are bugs (500).

use super::ApiError;

/// Why a database error means "the database cannot serve now" rather than a
/// bug: the answer is then 503 `service_unavailable` with `Retry-After`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbUnavailable {
    /// The connection broke or the server is shutting down or starting up
    /// (PostgreSQL stopped, restarted, failed over, network cut).
    ConnectionLost,
    /// The database refuses writes: a read-only file, directory or mount
    /// (`SQLITE_READONLY`), or a read-only PostgreSQL (a standby, 25006).
    ReadOnly,
    /// The disk or the database is full (`SQLITE_FULL`).
    Full,
    /// Another writer held the lock for longer than the busy timeout
    /// (`SQLITE_BUSY`).
    Busy,
}

impl DbUnavailable {
    /// The cause of `e` when it is an outage of the database, `None` for
    /// every other error (constraint violations, bad SQL, decoding
    /// failures: those are bugs and stay 500).
    ///
    /// diesel reports most backend failures as `DatabaseErrorKind::Unknown`
    /// with the backend's message, so outages are recognised by the exact
    /// messages libpq, PostgreSQL and SQLite (`sqlite3_errstr`) print.
    pub fn of(e: &diesel::result::Error) -> Option<Self> {
        use diesel::result::{DatabaseErrorKind as K, Error as E};
        // libpq, when the socket is gone (PQexec or PQsend* fail, the
        // connection is CONNECTION_BAD), and PostgreSQL, when it ends a
        // session (SQLSTATE 57P01/57P02/57P03).
        const CONNECTION_LOST: &[&str] = &[
            "server closed the connection unexpectedly",
            "no connection to the server",
            "could not send data to server",
            "could not receive data from server",
            "connection to server was lost",
            "SSL SYSCALL error",
            "SSL connection has been closed unexpectedly",
            "terminating connection due to administrator command",
            "terminating connection due to immediate shutdown command",
            "terminating connection because of crash of another server process",
            "the database system is shutting down",
            "the database system is starting up",
            "the database system is in recovery mode",
            "the database system is not yet accepting connections",
        ];
        let E::DatabaseError(kind, info) = e else {
            return None;
        };
        let message = info.message();
        match kind {
            K::ClosedConnection => Some(Self::ConnectionLost),
            K::ReadOnlyTransaction => Some(Self::ReadOnly),
            K::UnableToSendCommand | K::Unknown => {
                if CONNECTION_LOST.iter().any(|m| message.contains(m)) {
                    Some(Self::ConnectionLost)
                } else if message.starts_with("attempt to write a readonly database") {
                    Some(Self::ReadOnly)
                } else if message.starts_with("database or disk is full") {
                    Some(Self::Full)
                } else if message.starts_with("database is locked") {
                    Some(Self::Busy)
                } else {
                    None
                }
            }
            _ => None,
        }
    }

    fn detail(self) -> &'static str {
        match self {
            Self::ConnectionLost => "The database is not reachable right now.",
            Self::ReadOnly => "The database is read-only right now; writes cannot be saved.",
            Self::Full => "The database's disk is full; writes cannot be saved.",
            Self::Busy => "The database is busy; retry shortly.",
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::ConnectionLost => "connection_lost",
            Self::ReadOnly => "read_only",
            Self::Full => "disk_full",
            Self::Busy => "busy",
        }
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        match DbUnavailable::of(&e) {
            Some(cause) => {
                tracing::warn!(error = %e, cause = cause.as_str(), "database unavailable");
                Self::Unavailable {
                    detail: cause.detail(),
                    retry_after: 2,
                }
            }
            None => Self::internal(format!("database: {e}")),
        }
    }
}

impl From<diesel::r2d2::PoolError> for ApiError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        ApiError::pool_unavailable(&e)
    }
}

impl ApiError {
    /// No connection (or no turn, or no place in a lane, on the way to one)
    /// within the pool timeout: 503, logged with `why`.
    pub fn pool_unavailable(why: &dyn std::fmt::Display) -> Self {
        tracing::warn!(error = %why, "database pool unavailable");
        Self::Unavailable {
            detail: "The database is not reachable right now.",
            retry_after: 2,
        }
    }
}

#[cfg(test)]
mod tests {
    use actix_web::http::{header, StatusCode};
    use actix_web::ResponseError as _;
    use diesel::result::{DatabaseErrorKind as K, Error as E};

    use super::*;
    use crate::error::ErrorCode;

    fn db(kind: K, message: &str) -> E {
        E::DatabaseError(kind, Box::new(message.to_owned()))
    }

    #[test]
    fn outages_are_recognised_by_kind_or_exact_message() {
        let cases = [
            // PostgreSQL: diesel's own kind when libpq says the connection is bad.
            (db(K::ClosedConnection, "anything"), DbUnavailable::ConnectionLost),
            (
                db(
                    K::UnableToSendCommand,
                    "server closed the connection unexpectedly\n\tThis probably means the server terminated abnormally",
                ),
                DbUnavailable::ConnectionLost,
            ),
            (db(K::UnableToSendCommand, "no connection to the server\n"), DbUnavailable::ConnectionLost),
            (
                db(K::Unknown, "could not receive data from server: Connection reset by peer"),
                DbUnavailable::ConnectionLost,
            ),
            (
                db(K::Unknown, "terminating connection due to administrator command"),
                DbUnavailable::ConnectionLost,
            ),
            (db(K::Unknown, "the database system is shutting down"), DbUnavailable::ConnectionLost),
            (
                db(K::ReadOnlyTransaction, "cannot execute INSERT in a read-only transaction"),
                DbUnavailable::ReadOnly,
            ),
            // SQLite: sqlite3_errstr of SQLITE_READONLY, SQLITE_FULL, SQLITE_BUSY.
            (db(K::Unknown, "attempt to write a readonly database"), DbUnavailable::ReadOnly),
            (db(K::Unknown, "database or disk is full"), DbUnavailable::Full),
            (db(K::Unknown, "database is locked"), DbUnavailable::Busy),
        ];
        for (error, cause) in cases {
            assert_eq!(DbUnavailable::of(&error), Some(cause), "{error}");
            let api = ApiError::from(error);
            assert_eq!(api.status(), StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(api.code(), ErrorCode::ServiceUnavailable);
            assert_eq!(api.problem().retry_after, Some(2));
            let response = api.error_response();
            assert_eq!(response.headers().get(header::RETRY_AFTER).unwrap(), "2");
        }
    }

    #[test]
    fn other_database_errors_stay_internal() {
        let cases = [
            db(K::UniqueViolation, "UNIQUE constraint failed: users.email"),
            db(K::ForeignKeyViolation, "FOREIGN KEY constraint failed"),
            db(
                K::NotNullViolation,
                "NOT NULL constraint failed: users.name",
            ),
            db(K::CheckViolation, "CHECK constraint failed"),
            db(K::SerializationFailure, "could not serialize access"),
            // A query a bug got wrong, on either backend.
            db(K::Unknown, "no such table: userz"),
            db(K::Unknown, "syntax error at or near \"SELEC\""),
            db(K::Unknown, "relation \"userz\" does not exist"),
            // Too many bind parameters is a protocol violation, not an outage.
            db(
                K::UnableToSendCommand,
                "number of parameters must be between 0 and 65535",
            ),
            // A message that merely mentions a lock or the disk.
            db(
                K::Unknown,
                "lock timeout on table users (database is locked?)",
            ),
            E::NotFound,
            E::RollbackTransaction,
            E::DeserializationError("bad".into()),
        ];
        for error in cases {
            assert_eq!(DbUnavailable::of(&error), None, "{error}");
            let api = ApiError::from(error);
            assert_eq!(api.status(), StatusCode::INTERNAL_SERVER_ERROR);
            assert_eq!(api.code(), ErrorCode::InternalError);
        }
    }
}
