//! Bodies of the WebAuthn endpoints. The `options` and `credential` values
//! are the WebAuthn JSON forms (binary fields base64url): decode them for
//! `navigator.credentials.create/get`, encode the browser's answer back.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use webauthn_rs::prelude::{PublicKeyCredential, RegisterPublicKeyCredential};

use crate::crypto::Secret;

#[derive(Debug, Serialize, ToSchema)]
pub struct RegistrationOptions {
    /// Pass `options.publicKey` (base64url fields decoded) to
    /// `navigator.credentials.create`.
    #[schema(value_type = Object)]
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

/// Options for a login ceremony, inside the login flow's envelope.
#[derive(Debug, Serialize, ToSchema)]
pub struct AssertionOptions {
    /// `mfa_required` (second factor) or `passkey_required` (passwordless).
    pub status: &'static str,
    #[schema(value_type = String)]
    pub flow_token: Secret,
    pub expires_in: i64,
    /// Pass `options.publicKey` (base64url fields decoded) to
    /// `navigator.credentials.get`.
    #[schema(value_type = Object)]
    pub options: serde_json::Value,
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
}
