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

crate::constant_string!(
    /// `authenticated`.
    AuthenticatedStatus = "authenticated"
);
crate::constant_string!(
    /// `Bearer`.
    BearerTokenType = "Bearer"
);

/// Signed in: a freshly issued token pair.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "status": "authenticated",
    "access_token": "eyJhbGciOiJFZERTQSIsImtpZCI6Ii4uLiJ9.eyJzdWIiOiIuLi4ifQ.c2ln",
    "refresh_token": "rt_3q2-7wEAAAAAb0Bv4F1m3Xr2eXk0hPq9QnOg8s6cW1E",
    "token_type": "Bearer",
    "expires_in": 900
}))]
pub struct TokenResponse {
    #[schema(inline)]
    pub status: AuthenticatedStatus,
    /// EdDSA-signed JWT; verify with `/.well-known/jwks.json`.
    #[schema(value_type = String)]
    pub access_token: Secret,
    /// Opaque; single use; exchange at `POST /v1/auth/token/refresh`.
    #[schema(value_type = String)]
    pub refresh_token: Secret,
    #[schema(inline)]
    pub token_type: BearerTokenType,
    /// Lifetime of the access token in seconds.
    #[schema(example = 900)]
    pub expires_in: i64,
}
