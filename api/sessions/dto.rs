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
    "expires_in": 900,
    "passkey_suggested": true
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
    /// "Log In Faster": `true` when WebAuthn is available and the user has
    /// no passkey yet, so a frontend can offer to add one right after
    /// sign-in (`POST /v1/me/webauthn/registration/options`) without
    /// another call; `false` otherwise. Refreshed answers carry it too.
    #[schema(example = true)]
    pub passkey_suggested: bool,
}

/// The keys that verify access tokens (RFC 7517 JWK Set): the active
/// signing key and the retired keys whose tokens may still be valid.
/// Describes the answer of `GET /.well-known/jwks.json`.
#[derive(ToSchema)]
#[schema(example = json!({"keys": [{
    "kty": "OKP",
    "crv": "Ed25519",
    "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
    "kid": "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k",
    "use": "sig",
    "alg": "EdDSA"
}]}))]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

/// An Ed25519 public key (RFC 8037): key type `OKP` (octet key pair),
/// curve `Ed25519`, for signatures (`use: sig`) with `EdDSA`.
#[derive(ToSchema)]
pub struct Jwk {
    #[schema(inline)]
    pub kty: OkpKeyType,
    #[schema(inline)]
    pub crv: Ed25519Curve,
    /// The public key, base64url.
    #[schema(schema_with = crate::openapi::base64url)]
    pub x: String,
    /// Matches the `kid` header of the tokens this key signed (RFC 7638
    /// thumbprint).
    pub kid: String,
    #[schema(rename = "use", inline)]
    pub usage: SignatureUse,
    #[schema(inline)]
    pub alg: EdDsaAlgorithm,
}

crate::constant_string!(
    /// `OKP`.
    OkpKeyType = "OKP"
);
crate::constant_string!(
    /// `Ed25519`.
    Ed25519Curve = "Ed25519"
);
crate::constant_string!(
    /// `sig`.
    SignatureUse = "sig"
);
crate::constant_string!(
    /// `EdDSA`.
    EdDsaAlgorithm = "EdDSA"
);
