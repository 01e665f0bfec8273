//! Request and response bodies of the session endpoints.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::crypto::Secret;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"refresh_token": "rt_3q2-7wEAAAAAb0Bv4F1m3Xr2eXk0hPq9QnOg8s6cW1E"}))]
pub struct RefreshRequest {
    /// The refresh token of the last `authenticated` answer.
    #[schema(value_type = String)]
    pub refresh_token: Secret,
}

/// A freshly issued token pair.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "status": "authenticated",
    "access_token": "eyJhbGciOiJFZERTQSIsImtpZCI6Ii4uLiJ9.eyJzdWIiOiIuLi4ifQ.c2ln",
    "refresh_token": "rt_3q2-7wEAAAAAb0Bv4F1m3Xr2eXk0hPq9QnOg8s6cW1E",
    "token_type": "Bearer",
    "expires_in": 900
}))]
pub struct TokenResponse {
    /// Always `authenticated`.
    #[schema(example = "authenticated")]
    pub status: &'static str,
    /// EdDSA-signed JWT; verify with `/.well-known/jwks.json`.
    #[schema(value_type = String)]
    pub access_token: Secret,
    /// Opaque; single use; exchange at `POST /v1/auth/token/refresh`.
    #[schema(value_type = String)]
    pub refresh_token: Secret,
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Lifetime of the access token in seconds.
    #[schema(example = 900)]
    pub expires_in: i64,
}
