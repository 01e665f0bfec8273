//! The Ed25519 key that signs access tokens, and its JWKS.
//!
//! Generated on first start into `TWOFOLD_DATA_DIR/jwt-signing-key.pem`
//! (PKCS#8, mode 0600) and loaded from there afterwards, so tokens survive a
//! restart and every instance sharing the directory signs alike. The key id
//! is the RFC 7638 thumbprint of the public key.

use std::path::Path;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, JwkSet, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use sha2::{Digest, Sha256};

use crate::crypto::keyfile::{self, FileError, KeyFile};
use crate::crypto::random_bytes;

pub const KEY_FILE: &str = "jwt-signing-key.pem";

/// ASN.1 prefix of a PKCS#8 v1 Ed25519 private key; the 32-byte seed follows.
const PKCS8_ED25519_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

pub struct SigningKey {
    pub kid: String,
    pub encoding: EncodingKey,
    pub decoding: DecodingKey,
    jwk: Jwk,
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("{path}: {message}")]
    File { path: String, message: String },
    #[error("signing key: {0}")]
    Key(String),
}

impl From<FileError> for KeyError {
    fn from(e: FileError) -> Self {
        Self::File {
            path: e.path,
            message: e.message,
        }
    }
}

impl SigningKey {
    /// A fresh in-memory key (tests, or a caller that persists it itself).
    pub fn generate() -> Result<Self, KeyError> {
        Self::from_der(&pkcs8_der(&random_bytes::<32>()))
    }

    /// Loads the key from `dir`, creating it on first use (see
    /// [`keyfile`](crate::crypto::keyfile) for why two instances starting at
    /// once end up with the same key).
    pub fn load_or_create(dir: &Path) -> Result<Self, KeyError> {
        let der = pkcs8_der(&random_bytes::<32>());
        match keyfile::read_or_create(dir, KEY_FILE, &pem(&der))? {
            KeyFile::Created => Self::from_der(&der),
            KeyFile::Existing(text) => {
                let encoding = EncodingKey::from_ed_pem(text.as_bytes()).map_err(|e| {
                    FileError::new(
                        &dir.join(KEY_FILE),
                        format!("not an Ed25519 PKCS#8 PEM key: {e}"),
                    )
                })?;
                Self::from_encoding(encoding)
            }
        }
    }

    fn from_der(der: &[u8]) -> Result<Self, KeyError> {
        Self::from_encoding(EncodingKey::from_ed_der(der))
    }

    fn from_encoding(encoding: EncodingKey) -> Result<Self, KeyError> {
        let mut jwk = Jwk::from_encoding_key(&encoding, Algorithm::EdDSA)
            .map_err(|e| KeyError::Key(e.to_string()))?;
        let AlgorithmParameters::OctetKeyPair(okp) = &jwk.algorithm else {
            return Err(KeyError::Key("not an Ed25519 key".into()));
        };
        let x = okp.x.clone();
        let decoding =
            DecodingKey::from_ed_components(&x).map_err(|e| KeyError::Key(e.to_string()))?;
        // RFC 7638: SHA-256 over the required members in lexical order.
        let thumbprint = Sha256::digest(format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#));
        let kid = URL_SAFE_NO_PAD.encode(thumbprint);
        jwk.common.key_id = Some(kid.clone());
        jwk.common.public_key_use = Some(PublicKeyUse::Signature);
        jwk.common.key_algorithm = Some(KeyAlgorithm::EdDSA);
        Ok(Self {
            kid,
            encoding,
            decoding,
            jwk,
        })
    }

    pub fn jwks(&self) -> JwkSet {
        JwkSet {
            keys: vec![self.jwk.clone()],
        }
    }
}

fn pkcs8_der(seed: &[u8; 32]) -> Vec<u8> {
    let mut der = PKCS8_ED25519_PREFIX.to_vec();
    der.extend_from_slice(seed);
    der
}

fn pem(der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let mut out = String::from("-----BEGIN PRIVATE KEY-----\n");
    for line in body.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str("-----END PRIVATE KEY-----\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::PermissionsExt as _;

    #[test]
    fn key_persists_across_loads_with_private_permissions() {
        let dir = tempfile::tempdir().unwrap();
        let first = SigningKey::load_or_create(dir.path()).unwrap();
        let second = SigningKey::load_or_create(dir.path()).unwrap();
        assert_eq!(first.kid, second.kid);
        let mode = fs::metadata(dir.path().join(KEY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let jwks = serde_json::to_value(first.jwks()).unwrap();
        assert_eq!(jwks["keys"][0]["kty"], "OKP");
        assert_eq!(jwks["keys"][0]["crv"], "Ed25519");
        assert_eq!(jwks["keys"][0]["kid"], first.kid.as_str());
        assert!(
            jwks["keys"][0].get("d").is_none(),
            "private part must not be published"
        );
    }
}
