//! The problem document (RFC 9457) every refusal is answered with.

use serde::Serialize;
use utoipa::ToSchema;

use super::ErrorCode;

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
    pub code: ErrorCode,
    /// The offending fields (`validation_failed` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
    /// Seconds until a retry may succeed (`too_many_attempts`, `service_unavailable`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}
