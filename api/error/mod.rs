//! The one error type of the API and its `application/problem+json` form
//! (RFC 9457).
//!
//! Every failure a client can see is an [`ApiError`] variant with a stable
//! machine `code` and one HTTP status. Internal causes are logged (without
//! secrets) and never sent: a 500 says only that something failed and
//! carries the request id to quote.

use std::fmt;

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpResponse, ResponseError};

mod code;
mod problem;

pub use code::ErrorCode;
pub use problem::{FieldError, Problem, PROBLEM_JSON};

#[derive(Debug)]
pub enum ApiError {
    /// The body is not JSON (syntax error, truncated, invalid UTF-8).
    MalformedJson(String),
    /// Well-formed input that breaks the rules of a field.
    Validation(Vec<FieldError>),
    /// No credentials where some are needed.
    Unauthorized,
    /// A token that is malformed, forged, expired or revoked.
    InvalidToken,
    InvalidCredentials,
    /// A wrong one-time or recovery code.
    InvalidCode,
    /// A WebAuthn assertion that does not verify (wrong origin, unknown or
    /// deleted credential, replayed challenge, counter gone backwards).
    WebauthnFailed,
    /// A well-formed request refused for a reason named by `code`.
    BadRequest {
        code: ErrorCode,
        detail: String,
    },
    /// A right TOTP code whose time step was already accepted for the user.
    CodeAlreadyUsed,
    /// The action needs a second factor proven in the last minutes.
    ReauthenticationRequired,
    /// The action needs a session signed in with a second factor (aal 2).
    SecondFactorRequired,
    /// 2FA is required for the caller, who has not enrolled yet.
    EnrollmentRequired,
    /// The account's IP allow-list does not list the client address.
    IpNotAllowed,
    /// A login flow token that is unknown, used, expired or for another step.
    FlowExpired,
    Forbidden(&'static str),
    NotFound,
    MethodNotAllowed(Vec<Method>),
    Conflict {
        code: ErrorCode,
        detail: String,
    },
    PayloadTooLarge(usize),
    UnsupportedMediaType,
    TooManyAttempts {
        retry_after: u64,
    },
    /// The login flow used up its tries at this step; only a new login helps.
    FlowAttemptsExhausted,
    /// A dependency (database, password pool) cannot serve now.
    Unavailable {
        detail: &'static str,
        retry_after: u64,
    },
    /// A bug or an unexpected failure; the cause is logged, not sent.
    Internal(String),
    /// Any other HTTP-level refusal (from actix or a middleware).
    Http(StatusCode),
}

impl ApiError {
    pub fn internal(cause: impl fmt::Display) -> Self {
        Self::Internal(cause.to_string())
    }

    /// The problem for a bare status produced outside the handlers.
    pub fn from_status(status: StatusCode) -> Self {
        match status.as_u16() {
            401 => Self::Unauthorized,
            404 => Self::NotFound,
            413 => Self::PayloadTooLarge(crate::extract::JSON_LIMIT),
            415 => Self::UnsupportedMediaType,
            500 => Self::internal("an error response without a problem body"),
            _ => Self::Http(status),
        }
    }

    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }

    /// The stable machine code.
    pub fn code(&self) -> ErrorCode {
        use ErrorCode as C;
        match self {
            Self::MalformedJson(_) => C::MalformedJson,
            Self::Validation(_) => C::ValidationFailed,
            Self::Unauthorized => C::Unauthorized,
            Self::InvalidToken => C::InvalidToken,
            Self::InvalidCredentials => C::InvalidCredentials,
            Self::InvalidCode => C::InvalidCode,
            Self::WebauthnFailed => C::WebauthnFailed,
            Self::BadRequest { code, .. } | Self::Conflict { code, .. } => *code,
            Self::CodeAlreadyUsed => C::CodeAlreadyUsed,
            Self::ReauthenticationRequired => C::ReauthenticationRequired,
            Self::SecondFactorRequired => C::SecondFactorRequired,
            Self::EnrollmentRequired => C::EnrollmentRequired,
            Self::IpNotAllowed => C::IpNotAllowed,
            Self::FlowExpired => C::FlowExpired,
            Self::Forbidden(_) => C::Forbidden,
            Self::NotFound => C::NotFound,
            Self::MethodNotAllowed(_) => C::MethodNotAllowed,
            Self::PayloadTooLarge(_) => C::PayloadTooLarge,
            Self::UnsupportedMediaType => C::UnsupportedMediaType,
            Self::TooManyAttempts { .. } | Self::FlowAttemptsExhausted => C::TooManyAttempts,
            Self::Unavailable { .. } => C::ServiceUnavailable,
            Self::Internal(_) => C::InternalError,
            Self::Http(status) => match status.as_u16() {
                400 => C::BadRequest,
                403 => C::Forbidden,
                405 => C::MethodNotAllowed,
                408 => C::RequestTimeout,
                414 => C::UriTooLong,
                431 => C::HeadersTooLarge,
                503 => C::ServiceUnavailable,
                _ if status.is_server_error() => C::InternalError,
                _ => C::HttpError,
            },
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::MalformedJson(_) | Self::Validation(_) | Self::BadRequest { .. } => {
                StatusCode::BAD_REQUEST
            }
            Self::Unauthorized
            | Self::InvalidToken
            | Self::InvalidCredentials
            | Self::InvalidCode
            | Self::WebauthnFailed
            | Self::CodeAlreadyUsed
            | Self::FlowExpired => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_)
            | Self::ReauthenticationRequired
            | Self::SecondFactorRequired
            | Self::EnrollmentRequired
            | Self::IpNotAllowed => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::TooManyAttempts { .. } | Self::FlowAttemptsExhausted => {
                StatusCode::TOO_MANY_REQUESTS
            }
            Self::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Http(status) => *status,
        }
    }

    fn detail(&self) -> String {
        match self {
            Self::MalformedJson(why) => format!("The request body is not valid JSON: {why}."),
            Self::Validation(_) => "One or more fields are invalid; see `errors`.".to_owned(),
            Self::Unauthorized => {
                "This endpoint needs `Authorization: Bearer <access_token>`.".to_owned()
            }
            Self::InvalidToken => {
                "The token is malformed, expired, revoked or not valid here.".to_owned()
            }
            Self::InvalidCredentials => "The email or password is not correct.".to_owned(),
            Self::InvalidCode => "The code is not correct.".to_owned(),
            Self::WebauthnFailed => {
                "The authenticator's response could not be verified.".to_owned()
            }
            Self::BadRequest { detail, .. } => detail.clone(),
            Self::CodeAlreadyUsed => {
                "This code was already used; wait for the next one in your authenticator app."
                    .to_owned()
            }
            Self::ReauthenticationRequired => {
                "This needs a second factor proven in the last 15 minutes; sign in again with your code."
                    .to_owned()
            }
            Self::SecondFactorRequired => {
                "This needs a session signed in with a second factor; sign in again with your code."
                    .to_owned()
            }
            Self::EnrollmentRequired => {
                "Two-factor authentication is required for you; sign in again to set it up.".to_owned()
            }
            Self::IpNotAllowed => {
                "Your account only allows access from listed IP addresses, and this is not one."
                    .to_owned()
            }
            Self::FlowExpired => {
                "This login flow is unknown, expired or already past this step; start again at POST /v1/auth/login."
                    .to_owned()
            }
            Self::Forbidden(why) => (*why).to_owned(),
            Self::NotFound => "No such resource.".to_owned(),
            Self::MethodNotAllowed(allowed) => format!(
                "This resource allows {}.",
                allowed.iter().map(Method::as_str).collect::<Vec<_>>().join(", ")
            ),
            Self::Conflict { detail, .. } => detail.clone(),
            Self::PayloadTooLarge(limit) => {
                format!("The request body exceeds the limit of {limit} bytes.")
            }
            Self::UnsupportedMediaType => {
                "Send the body as JSON with `Content-Type: application/json`.".to_owned()
            }
            Self::TooManyAttempts { retry_after } => {
                format!("Too many failed attempts; retry in {retry_after} seconds.")
            }
            Self::FlowAttemptsExhausted => {
                "Too many wrong attempts in this login, so it has ended; start again at POST /v1/auth/login."
                    .to_owned()
            }
            Self::Unavailable { detail, .. } => (*detail).to_owned(),
            Self::Internal(_) => {
                "An unexpected error occurred; quote the X-Request-Id header when reporting it."
                    .to_owned()
            }
            Self::Http(status) => format!(
                "The request was refused: {}.",
                status.canonical_reason().unwrap_or("error")
            ),
        }
    }

    pub fn problem(&self) -> Problem {
        let status = self.status();
        Problem {
            type_: format!("urn:twofold:problem:{}", self.code()),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: self.detail(),
            code: self.code(),
            errors: match self {
                Self::Validation(errors) => Some(errors.clone()),
                _ => None,
            },
            retry_after: match self {
                Self::TooManyAttempts { retry_after } | Self::Unavailable { retry_after, .. } => {
                    Some(*retry_after)
                }
                _ => None,
            },
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Internal(cause) => write!(f, "internal_error: {cause}"),
            other => f.write_str(other.code().as_str()),
        }
    }
}

impl std::error::Error for ApiError {}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status()
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::Internal(cause) = self {
            tracing::error!(error = %cause, "request failed");
        }
        let mut response = HttpResponse::build(self.status());
        response.content_type(PROBLEM_JSON);
        response.insert_header((header::CACHE_CONTROL, "no-store"));
        match self {
            Self::Unauthorized | Self::InvalidToken => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            Self::MethodNotAllowed(allowed) => {
                let list = allowed
                    .iter()
                    .map(Method::as_str)
                    .collect::<Vec<_>>()
                    .join(", ");
                if let Ok(value) = HeaderValue::from_str(&list) {
                    response.insert_header((header::ALLOW, value));
                }
            }
            Self::TooManyAttempts { retry_after } | Self::Unavailable { retry_after, .. } => {
                response.insert_header((header::RETRY_AFTER, retry_after.to_string()));
            }
            _ => {}
        }
        response.json(self.problem())
    }
}

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
        tracing::warn!(error = %e, "database pool unavailable");
        Self::Unavailable {
            detail: "The database is not reachable right now.",
            retry_after: 2,
        }
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod db_unavailable_tests {
    use diesel::result::{DatabaseErrorKind as K, Error as E};

    use super::*;

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
