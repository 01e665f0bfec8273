//! Access tokens: EdDSA-signed JWTs that other services verify offline
//! against `/.well-known/jwks.json`.
//!
//! Verification here is strict: only EdDSA (so `alg: none` and HS256 signed
//! with the public key are refused), a `kid` naming one of our keys that is
//! still valid, exact issuer and audience, and expiry against the injected
//! clock, not the system time. A valid signature is not enough on its own:
//! the `sid` must still name a live session row, which the caller checks.

use jsonwebtoken::{decode, decode_header, encode, Algorithm, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::ids::{AccountId, SessionId, UserId};
use crate::keys::signing::SigningKeys;

/// Lifetime of an access token.
pub const ACCESS_TTL_SECS: i64 = 15 * 60;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccessClaims {
    pub iss: String,
    pub aud: String,
    /// User id.
    pub sub: UserId,
    /// Session id.
    pub sid: SessionId,
    /// Account id.
    pub acct: AccountId,
    pub role: String,
    /// Authentication assurance level: 1 (password) or 2 (second factor).
    pub aal: u8,
    /// Authentication methods, e.g. `["pwd"]` or `["pwd","otp"]`.
    pub amr: Vec<String>,
    pub iat: i64,
    pub exp: i64,
    /// A random id, so two tokens of one session issued in the same second
    /// differ (a refresh always answers a new token). Tokens signed before
    /// it existed have none.
    #[serde(default)]
    pub jti: String,
}

pub struct TokenSigner {
    keys: SigningKeys,
    issuer: String,
    audience: String,
}

impl TokenSigner {
    pub fn new(keys: SigningKeys, issuer: String, audience: String) -> Self {
        Self {
            keys,
            issuer,
            audience,
        }
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn audience(&self) -> &str {
        &self.audience
    }

    pub fn keys(&self) -> &SigningKeys {
        &self.keys
    }

    /// Signs with the active key, naming it in the `kid` header.
    pub fn sign(&self, claims: &AccessClaims) -> Result<String, ApiError> {
        let key = self.keys.active()?;
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(key.kid.clone());
        encode(&header, claims, &key.encoding).map_err(ApiError::internal)
    }

    /// Checks key, signature, algorithm, issuer, audience and expiry at `now`.
    pub async fn verify(&self, token: &str, now: i64) -> Result<AccessClaims, ApiError> {
        let kid = decode_header(token)
            .ok()
            .and_then(|header| header.kid)
            .ok_or(ApiError::InvalidToken)?;
        let key = self
            .keys
            .verifying(&kid, now)
            .await
            .ok_or(ApiError::InvalidToken)?;
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        // Expiry is checked below against the injected clock.
        validation.validate_exp = false;
        validation.leeway = 0;
        let claims = decode::<AccessClaims>(token, &key, &validation)
            .map_err(|_| ApiError::InvalidToken)?
            .claims;
        if claims.exp <= now {
            return Err(ApiError::InvalidToken);
        }
        Ok(claims)
    }
}
