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
mod database;
mod problem;

pub use code::ErrorCode;
pub use database::DbUnavailable;
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
    /// A stored secret is sealed under a master key this instance does not
    /// have (its id here): a configuration fault an operator must fix. The
    /// id is logged, not sent.
    KeyUnavailable(String),
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
            Self::KeyUnavailable(_) => C::KeyUnavailable,
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
            Self::Internal(_) | Self::KeyUnavailable(_) => StatusCode::INTERNAL_SERVER_ERROR,
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
            Self::KeyUnavailable(_) => {
                "A stored secret needed here is encrypted under a key this server is not configured with; an operator must fix the server's keys (see `twofold keys status`). Quote the X-Request-Id header when reporting it."
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

impl From<crate::crypto::secretbox::SecretBoxError> for ApiError {
    fn from(e: crate::crypto::secretbox::SecretBoxError) -> Self {
        match e {
            crate::crypto::secretbox::SecretBoxError::UnknownKey(key_id) => {
                Self::KeyUnavailable(key_id)
            }
            other => Self::internal(other),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status()
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::Internal(cause) => tracing::error!(error = %cause, "request failed"),
            Self::KeyUnavailable(key_id) => tracing::error!(
                key_id = %key_id,
                "request failed: a secret is sealed under master key {key_id}, which this instance \
                 does not have; configure it (TWOFOLD_MASTER_KEY or TWOFOLD_MASTER_KEYS_PREVIOUS)"
            ),
            _ => {}
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

#[cfg(test)]
mod tests;
