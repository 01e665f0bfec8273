//! Request and response bodies of the login steps.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::crypto::Secret;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "ada@example.com"}))]
pub struct StartRequest {
    #[schema(schema_with = crate::openapi::email_schema)]
    pub email: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"flow_token": "flw_Yp0wJ0m8cG2eM5qF3sQ1dT7uV9xZ4aB6cD8eF0gH2iJ", "password": "correct horse battery staple"}))]
pub struct PasswordRequest {
    /// The `flow_token` of the previous step's answer.
    #[schema(value_type = String)]
    pub flow_token: Secret,
    #[schema(value_type = String, format = Password)]
    pub password: Secret,
}

/// What the client must do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FlowStatus {
    /// Send the password with `POST /v1/auth/login/password`.
    PasswordRequired,
    /// Send a second factor: `POST /v1/auth/login/totp` or `/recovery-code`.
    MfaRequired,
    /// 2FA is required but not set up: enroll an authenticator with
    /// `POST /v1/auth/enrollment/totp` (Bearer flow token).
    EnrollmentRequired,
    /// Show `recovery_code` to the user, then
    /// `POST /v1/auth/enrollment/recovery-code/confirm` (Bearer flow token).
    RecoveryCodeConfirmationRequired,
}

/// A second factor the user can answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    Totp,
    RecoveryCode,
    /// A passkey, security key or platform biometric (WebAuthn).
    Webauthn,
}

/// A step of the login flow that is not finished yet.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "status": "mfa_required",
    "flow_token": "flw_Yp0wJ0m8cG2eM5qF3sQ1dT7uV9xZ4aB6cD8eF0gH2iJ",
    "expires_in": 600,
    "methods": ["totp", "recovery_code"]
}))]
pub struct FlowResponse {
    pub status: FlowStatus,
    /// Token for the next step; always use the latest one.
    #[schema(value_type = String)]
    pub flow_token: Secret,
    /// Seconds until `flow_token` expires.
    #[schema(example = 600)]
    pub expires_in: i64,
    /// With `mfa_required`: the second factors this user has.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub methods: Option<Vec<Method>>,
    /// With `recovery_code_confirmation_required`: the new recovery code,
    /// 24 characters of Crockford base32 in groups of four. Shown once.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "7G2K-9QXM-T4RA-1VZC-8HWN-3PJD")]
    pub recovery_code: Option<Secret>,
}

/// The answer of a login step: the next step, or the session.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum LoginStep {
    Next(FlowResponse),
    Authenticated(crate::sessions::dto::TokenResponse),
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"flow_token": "flw_Yp0wJ0m8cG2eM5qF3sQ1dT7uV9xZ4aB6cD8eF0gH2iJ", "code": "492039"}))]
pub struct TotpLoginRequest {
    #[schema(value_type = String)]
    pub flow_token: Secret,
    /// The 6-digit code of the authenticator app (spaces allowed).
    #[schema(value_type = String, example = "492039", pattern = r"^\s*(?:[0-9]\s*){6}$")]
    pub code: Secret,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"flow_token": "flw_Yp0wJ0m8cG2eM5qF3sQ1dT7uV9xZ4aB6cD8eF0gH2iJ", "recovery_code": "7G2K-9QXM-T4RA-1VZC-8HWN-3PJD"}))]
pub struct RecoveryLoginRequest {
    #[schema(value_type = String)]
    pub flow_token: Secret,
    /// Case-insensitive; spaces and hyphens are ignored.
    #[schema(value_type = String, example = "7G2K-9QXM-T4RA-1VZC-8HWN-3PJD")]
    pub recovery_code: Secret,
}
