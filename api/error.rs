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
use serde::Serialize;
use utoipa::ToSchema;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// One offending field of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// JSON path of the field, e.g. `email` or `user_ids[2]`.
    #[schema(example = "email")]
    pub field: String,
    #[schema(example = "must be a valid email address")]
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "urn:twofold:problem:invalid_credentials",
    "title": "Invalid credentials",
    "status": 401,
    "detail": "The email or password is not correct.",
    "code": "invalid_credentials"
}))]
pub struct Problem {
    /// `urn:twofold:problem:<code>`.
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable machine-readable error code.
    #[schema(example = "invalid_credentials")]
    pub code: String,
    /// The offending fields (`validation_failed` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
    /// Seconds until a retry may succeed (`too_many_attempts`, `service_unavailable`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

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
        code: &'static str,
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
        code: &'static str,
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
    pub fn code(&self) -> &'static str {
        match self {
            Self::MalformedJson(_) => "malformed_json",
            Self::Validation(_) => "validation_failed",
            Self::Unauthorized => "unauthorized",
            Self::InvalidToken => "invalid_token",
            Self::InvalidCredentials => "invalid_credentials",
            Self::InvalidCode => "invalid_code",
            Self::WebauthnFailed => "webauthn_failed",
            Self::BadRequest { code, .. } => code,
            Self::CodeAlreadyUsed => "code_already_used",
            Self::ReauthenticationRequired => "reauthentication_required",
            Self::SecondFactorRequired => "second_factor_required",
            Self::EnrollmentRequired => "enrollment_required",
            Self::IpNotAllowed => "ip_not_allowed",
            Self::FlowExpired => "flow_expired",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed(_) => "method_not_allowed",
            Self::Conflict { code, .. } => code,
            Self::PayloadTooLarge(_) => "payload_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::TooManyAttempts { .. } | Self::FlowAttemptsExhausted => "too_many_attempts",
            Self::Unavailable { .. } => "service_unavailable",
            Self::Internal(_) => "internal_error",
            Self::Http(status) => match status.as_u16() {
                400 => "bad_request",
                403 => "forbidden",
                405 => "method_not_allowed",
                408 => "request_timeout",
                414 => "uri_too_long",
                431 => "headers_too_large",
                503 => "service_unavailable",
                _ if status.is_server_error() => "internal_error",
                _ => "http_error",
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
            code: self.code().to_owned(),
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
            other => f.write_str(other.code()),
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

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        Self::internal(format!("database: {e}"))
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
mod tests {
    use super::*;
    use actix_web::body::to_bytes;

    #[actix_web::test]
    async fn each_variant_has_its_status_and_code() {
        let cases = [
            (ApiError::MalformedJson("x".into()), 400, "malformed_json"),
            (ApiError::field("email", "bad"), 400, "validation_failed"),
            (ApiError::Unauthorized, 401, "unauthorized"),
            (ApiError::InvalidToken, 401, "invalid_token"),
            (ApiError::InvalidCredentials, 401, "invalid_credentials"),
            (ApiError::FlowExpired, 401, "flow_expired"),
            (ApiError::InvalidCode, 401, "invalid_code"),
            (ApiError::WebauthnFailed, 401, "webauthn_failed"),
            (
                ApiError::BadRequest {
                    code: "registration_failed",
                    detail: "x".into(),
                },
                400,
                "registration_failed",
            ),
            (ApiError::CodeAlreadyUsed, 401, "code_already_used"),
            (
                ApiError::ReauthenticationRequired,
                403,
                "reauthentication_required",
            ),
            (ApiError::Forbidden("no"), 403, "forbidden"),
            (ApiError::NotFound, 404, "not_found"),
            (
                ApiError::MethodNotAllowed(vec![Method::GET]),
                405,
                "method_not_allowed",
            ),
            (
                ApiError::Conflict {
                    code: "email_taken",
                    detail: "x".into(),
                },
                409,
                "email_taken",
            ),
            (ApiError::PayloadTooLarge(10), 413, "payload_too_large"),
            (
                ApiError::UnsupportedMediaType,
                415,
                "unsupported_media_type",
            ),
            (
                ApiError::TooManyAttempts { retry_after: 30 },
                429,
                "too_many_attempts",
            ),
            (ApiError::FlowAttemptsExhausted, 429, "too_many_attempts"),
            (
                ApiError::Unavailable {
                    detail: "x",
                    retry_after: 1,
                },
                503,
                "service_unavailable",
            ),
            (ApiError::internal("boom"), 500, "internal_error"),
        ];
        for (error, status, code) in cases {
            let response = error.error_response();
            assert_eq!(response.status().as_u16(), status, "{code}");
            assert_eq!(
                response.headers().get(header::CONTENT_TYPE).unwrap(),
                PROBLEM_JSON
            );
            let body = to_bytes(response.into_body()).await.unwrap();
            let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(json["code"], code);
            assert_eq!(json["status"], status);
            assert_eq!(json["type"], format!("urn:twofold:problem:{code}"));
            assert!(!json["detail"].as_str().unwrap().contains("boom"));
        }
    }

    #[test]
    fn headers_that_clients_need() {
        let r = ApiError::TooManyAttempts { retry_after: 30 }.error_response();
        assert_eq!(r.headers().get(header::RETRY_AFTER).unwrap(), "30");
        let r = ApiError::MethodNotAllowed(vec![Method::GET, Method::POST]).error_response();
        assert_eq!(r.headers().get(header::ALLOW).unwrap(), "GET, POST");
        let r = ApiError::InvalidToken.error_response();
        assert_eq!(r.headers().get(header::WWW_AUTHENTICATE).unwrap(), "Bearer");
    }
}
