//! Bodies of the WebAuthn endpoints. The `options` and `credential` values
//! are the WebAuthn JSON forms (binary fields base64url): decode them for
//! `navigator.credentials.create/get`, encode the browser's answer back.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use webauthn_rs::prelude::{
    PublicKeyCredential, RegisterPublicKeyCredential, RequestChallengeResponse,
};

use crate::login::dto::{EnrollmentRequiredStatus, MfaRequiredStatus, PasskeyRequiredStatus};

use crate::crypto::Secret;

#[derive(Debug, Serialize, ToSchema)]
pub struct RegistrationOptions {
    /// Pass `options.publicKey` (base64url fields decoded) to
    /// `navigator.credentials.create`.
    #[schema(value_type = super::options_schema::CreationOptions)]
    pub options: serde_json::Value,
    /// Seconds to finish the ceremony.
    pub expires_in: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegistrationRequest {
    #[schema(schema_with = crate::openapi::registration_credential)]
    pub credential: Box<RegisterPublicKeyCredential>,
    #[schema(schema_with = crate::text::credential_name_schema)]
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f",
    "name": "MacBook Touch ID",
    "created_at": "2026-11-28T09:00:00Z",
    "last_used_at": "2026-11-28T09:30:00Z",
    "backup_eligible": true,
    "backup_state": true
}))]
pub struct CredentialView {
    #[schema(format = Uuid)]
    pub id: String,
    pub name: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub last_used_at: Option<String>,
    /// The credential may be synced between devices (a passkey).
    pub backup_eligible: bool,
    /// It is synced now.
    pub backup_state: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CredentialList {
    pub items: Vec<CredentialView>,
}

/// Options for a WebAuthn second factor: the flow is still at
/// `mfa_required`; send the browser's answer to `POST /v1/auth/login/webauthn`.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebauthnMfaOptions {
    #[schema(inline)]
    pub status: MfaRequiredStatus,
    /// The flow token to send with the answer.
    #[schema(value_type = String)]
    pub flow_token: Secret,
    /// Seconds until the flow expires.
    pub expires_in: i64,
    /// Pass `options.publicKey` (base64url fields decoded) to
    /// `navigator.credentials.get`.
    #[schema(value_type = super::options_schema::RequestOptions)]
    pub options: RequestChallengeResponse,
}

/// Options for a passwordless login: send the browser's answer to
/// `POST /v1/auth/passkey`.
#[derive(Debug, Serialize, ToSchema)]
pub struct PasskeyRequired {
    #[schema(inline)]
    pub status: PasskeyRequiredStatus,
    /// The flow token to send with the answer.
    #[schema(value_type = String)]
    pub flow_token: Secret,
    /// Seconds to finish the ceremony.
    pub expires_in: i64,
    /// Pass `options.publicKey` (base64url fields decoded) to
    /// `navigator.credentials.get`.
    #[schema(value_type = super::options_schema::RequestOptions)]
    pub options: RequestChallengeResponse,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FlowTokenRequest {
    #[schema(value_type = String)]
    pub flow_token: Secret,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssertionRequest {
    #[schema(value_type = String)]
    pub flow_token: Secret,
    #[schema(schema_with = crate::openapi::assertion_credential)]
    pub credential: Box<PublicKeyCredential>,
    /// Only at the second-factor step (`/v1/auth/login/webauthn`): remember
    /// this browser once the login ends, if the account allows it
    /// (`remember_device_days` > 0); the `authenticated` answer then carries
    /// `device_token`. Ignored by a passwordless login, which asks no
    /// second factor to skip.
    #[serde(default)]
    pub remember_device: bool,
}

/// Options for enrolling a passkey inside the login flow: the flow is
/// still at `enrollment_required`; send the browser's answer to
/// `POST /v1/auth/enrollment/webauthn` with the same flow token.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "status": "enrollment_required",
    "flow_token": "flw_Yp0wJ0m8cG2eM5qF3sQ1dT7uV9xZ4aB6cD8eF0gH2iJ",
    "expires_in": 300,
    "options": {"publicKey": {
        "rp": {"id": "app.example.com", "name": "twofold"},
        "user": {"id": "AZNLx0n5cJ2Wb6lC3j1kWw", "name": "ada@example.com", "displayName": "Ada Lovelace"},
        "challenge": "q2Yl0nJ9c8sRkP3xWm7tZb1eVf5hUa4dGi6oKj0LyNc",
        "pubKeyCredParams": [{"type": "public-key", "alg": -7}, {"type": "public-key", "alg": -257}],
        "timeout": 300000,
        "attestation": "none",
        "authenticatorSelection": {"residentKey": "required", "requireResidentKey": true, "userVerification": "required"},
        "extensions": {"credProps": true}
    }}
}))]
pub struct EnrollmentWebauthnOptions {
    #[schema(inline)]
    pub status: EnrollmentRequiredStatus,
    /// The Bearer token to send with the answer (unchanged).
    #[schema(value_type = String)]
    pub flow_token: Secret,
    /// Seconds to finish the ceremony.
    #[schema(example = 300)]
    pub expires_in: i64,
    /// Pass `options.publicKey` (base64url fields decoded) to
    /// `navigator.credentials.create`. It asks for a discoverable credential
    /// (`residentKey: required`) with user verification.
    #[schema(value_type = super::options_schema::CreationOptions)]
    pub options: serde_json::Value,
}

/// The browser's answer to the enrollment options, and optionally a name
/// for the passkey (`Passkey` when left out).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "credential": {
        "id": "Nf3kVb8xQ2mR5tY7uW9zA1cE3gI5kM7oQ9sU1wY3a5c",
        "rawId": "Nf3kVb8xQ2mR5tY7uW9zA1cE3gI5kM7oQ9sU1wY3a5c",
        "type": "public-key",
        "response": {
            "clientDataJSON": "eyJ0eXBlIjoid2ViYXV0aG4uY3JlYXRlIn0",
            "attestationObject": "o2NmbXRkbm9uZWdhdHRTdG10oGhhdXRoRGF0YQ"
        },
        "extensions": {"credProps": {"rk": true}}
    },
    "name": "MacBook Touch ID"
}))]
pub struct EnrollmentRegistrationRequest {
    #[schema(schema_with = crate::openapi::registration_credential)]
    pub credential: Box<RegisterPublicKeyCredential>,
    #[serde(default)]
    #[schema(schema_with = crate::text::credential_name_schema, required = false)]
    pub name: Option<String>,
}
