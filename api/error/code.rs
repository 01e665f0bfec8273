//! Every machine `code` a problem document can carry: one enum, so a call
//! site cannot misspell one, and `Problem.code` in `openapi.yaml` lists
//! exactly these. A code never changes once published; clients branch on it.

use std::fmt;

use serde::Serialize;
use utoipa::ToSchema;

/// Stable machine-readable error code of a problem document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    MalformedJson,
    ValidationFailed,
    BadRequest,
    RegistrationFailed,
    InvalidForwarding,
    Unauthorized,
    InvalidToken,
    InvalidCredentials,
    InvalidCode,
    WebauthnFailed,
    CodeAlreadyUsed,
    FlowExpired,
    Forbidden,
    ReauthenticationRequired,
    SecondFactorRequired,
    EnrollmentRequired,
    IpNotAllowed,
    NotFound,
    MethodNotAllowed,
    EmailTaken,
    LicenseLimitReached,
    LastAdmin,
    CannotActOnSelf,
    EnrollmentNotStarted,
    CodeNotVerified,
    TwofaNotEnabled,
    WebauthnUnavailable,
    CeremonyNotStarted,
    NoWebauthnCredentials,
    CredentialExists,
    WouldLockOut,
    DuplicateEntry,
    AllowlistFull,
    RequestTimeout,
    PayloadTooLarge,
    UriTooLong,
    UnsupportedMediaType,
    HeadersTooLarge,
    TooManyAttempts,
    InternalError,
    KeyUnavailable,
    ServiceUnavailable,
    HttpError,
}

impl ErrorCode {
    /// Every code, grouped by the status it comes with.
    pub const ALL: [Self; 43] = [
        Self::MalformedJson,
        Self::ValidationFailed,
        Self::BadRequest,
        Self::RegistrationFailed,
        Self::InvalidForwarding,
        Self::Unauthorized,
        Self::InvalidToken,
        Self::InvalidCredentials,
        Self::InvalidCode,
        Self::WebauthnFailed,
        Self::CodeAlreadyUsed,
        Self::FlowExpired,
        Self::Forbidden,
        Self::ReauthenticationRequired,
        Self::SecondFactorRequired,
        Self::EnrollmentRequired,
        Self::IpNotAllowed,
        Self::NotFound,
        Self::MethodNotAllowed,
        Self::EmailTaken,
        Self::LicenseLimitReached,
        Self::LastAdmin,
        Self::CannotActOnSelf,
        Self::EnrollmentNotStarted,
        Self::CodeNotVerified,
        Self::TwofaNotEnabled,
        Self::WebauthnUnavailable,
        Self::CeremonyNotStarted,
        Self::NoWebauthnCredentials,
        Self::CredentialExists,
        Self::WouldLockOut,
        Self::DuplicateEntry,
        Self::AllowlistFull,
        Self::RequestTimeout,
        Self::PayloadTooLarge,
        Self::UriTooLong,
        Self::UnsupportedMediaType,
        Self::HeadersTooLarge,
        Self::TooManyAttempts,
        Self::InternalError,
        Self::KeyUnavailable,
        Self::ServiceUnavailable,
        Self::HttpError,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::MalformedJson => "malformed_json",
            Self::ValidationFailed => "validation_failed",
            Self::BadRequest => "bad_request",
            Self::RegistrationFailed => "registration_failed",
            Self::InvalidForwarding => "invalid_forwarding",
            Self::Unauthorized => "unauthorized",
            Self::InvalidToken => "invalid_token",
            Self::InvalidCredentials => "invalid_credentials",
            Self::InvalidCode => "invalid_code",
            Self::WebauthnFailed => "webauthn_failed",
            Self::CodeAlreadyUsed => "code_already_used",
            Self::FlowExpired => "flow_expired",
            Self::Forbidden => "forbidden",
            Self::ReauthenticationRequired => "reauthentication_required",
            Self::SecondFactorRequired => "second_factor_required",
            Self::EnrollmentRequired => "enrollment_required",
            Self::IpNotAllowed => "ip_not_allowed",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::EmailTaken => "email_taken",
            Self::LicenseLimitReached => "license_limit_reached",
            Self::LastAdmin => "last_admin",
            Self::CannotActOnSelf => "cannot_act_on_self",
            Self::EnrollmentNotStarted => "enrollment_not_started",
            Self::CodeNotVerified => "code_not_verified",
            Self::TwofaNotEnabled => "twofa_not_enabled",
            Self::WebauthnUnavailable => "webauthn_unavailable",
            Self::CeremonyNotStarted => "ceremony_not_started",
            Self::NoWebauthnCredentials => "no_webauthn_credentials",
            Self::CredentialExists => "credential_exists",
            Self::WouldLockOut => "would_lock_out",
            Self::DuplicateEntry => "duplicate_entry",
            Self::AllowlistFull => "allowlist_full",
            Self::RequestTimeout => "request_timeout",
            Self::PayloadTooLarge => "payload_too_large",
            Self::UriTooLong => "uri_too_long",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::HeadersTooLarge => "headers_too_large",
            Self::TooManyAttempts => "too_many_attempts",
            Self::InternalError => "internal_error",
            Self::KeyUnavailable => "key_unavailable",
            Self::ServiceUnavailable => "service_unavailable",
            Self::HttpError => "http_error",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl AsRef<str> for ErrorCode {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}
