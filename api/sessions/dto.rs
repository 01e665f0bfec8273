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
    /// Only when the login asked `remember_device: true` and the account
    /// allows it: keep it in this browser (e.g. `localStorage`) and send it
    /// as `device_token` with later passwords, to skip the second factor
    /// until `device_expires_at`. Shown once; never logged.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "dev_Xk2m3q9vQ0Zr8sYtL5wE1nB7cJ4hA6dG2fP0uI9oK3s")]
    pub device_token: Option<Secret>,
    /// When the remembered device's trust ends (with `device_token`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    pub device_expires_at: Option<String>,
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

/// One live session of a user, with what its holder needs to recognise it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a1b2-7c4d-7e8f-9a0b-1c2d3e4f5a6b",
    "current": true,
    "created_at": "2026-11-28T09:00:00Z",
    "last_used_at": "2026-11-28T09:42:00Z",
    "expires_at": "2026-12-05T09:00:00Z",
    "client_address": "203.0.113.7",
    "user_agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
    "aal": 2,
    "amr": ["pwd", "otp"]
}))]
pub struct SessionInfo {
    #[schema(value_type = uuid::Uuid)]
    pub id: crate::ids::SessionId,
    /// True for the session of the access token that asked.
    pub current: bool,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// The last request made with it, to the minute (written at most once
    /// a minute).
    #[schema(format = DateTime)]
    pub last_used_at: String,
    /// When it ends at the latest, however often it is refreshed.
    #[schema(format = DateTime)]
    pub expires_at: String,
    /// The address it signed in from; null for sessions older than this
    /// field.
    pub client_address: Option<String>,
    /// The client's `User-Agent` at sign-in, cleaned and cut to 200
    /// characters; shown for recognition only, never trusted.
    #[schema(max_length = 200)]
    pub user_agent: Option<String>,
    /// 1: password only; 2: a second factor was proven.
    #[schema(minimum = 1, maximum = 2)]
    pub aal: u8,
    #[schema(value_type = Vec<crate::sessions::amr::Factor>, example = json!(["pwd", "otp"]))]
    pub amr: Vec<String>,
}

/// One page of live sessions, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionPage {
    pub items: Vec<SessionInfo>,
    /// Pass as `cursor` for the next page; null on the last.
    pub next_cursor: Option<String>,
}

/// How many sessions a revocation ended.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"sessions_revoked": 2}))]
pub struct SessionsRevoked {
    pub sessions_revoked: usize,
}

/// Paging of a session list.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SessionListParams {
    /// From the previous page's `next_cursor` (absent or empty: the first page).
    pub cursor: Option<String>,
    /// 1 to 200; default 50.
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<i64>,
}
