//! Access tokens: EdDSA-signed JWTs that other services verify offline
//! against `/.well-known/jwks.json`.
//!
//! Verification here is strict: only EdDSA (so `alg: none` and HS256 signed
//! with the public key are refused), exact issuer and audience, and expiry
//! against the injected clock, not the system time. A valid signature is not
//! enough on its own: the `sid` must still name a live session row, which the
//! caller checks.

use jsonwebtoken::{decode, encode, Algorithm, Header, Validation};
use serde::{Deserialize, Serialize};

use super::keys::SigningKey;
use crate::error::ApiError;
use crate::ids::{AccountId, SessionId, UserId};

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
    key: SigningKey,
    issuer: String,
    audience: String,
}

impl TokenSigner {
    pub fn new(key: SigningKey, issuer: String, audience: String) -> Self {
        Self {
            key,
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

    pub fn key(&self) -> &SigningKey {
        &self.key
    }

    pub fn sign(&self, claims: &AccessClaims) -> Result<String, ApiError> {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.key.kid.clone());
        encode(&header, claims, &self.key.encoding).map_err(ApiError::internal)
    }

    /// Checks signature, algorithm, issuer, audience and expiry at `now`.
    pub fn verify(&self, token: &str, now: i64) -> Result<AccessClaims, ApiError> {
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        // Expiry is checked below against the injected clock.
        validation.validate_exp = false;
        validation.leeway = 0;
        let claims = decode::<AccessClaims>(token, &self.key.decoding, &validation)
            .map_err(|_| ApiError::InvalidToken)?
            .claims;
        if claims.exp <= now {
            return Err(ApiError::InvalidToken);
        }
        Ok(claims)
    }
}
