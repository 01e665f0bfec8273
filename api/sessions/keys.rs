//! Ed25519 keys that sign access tokens, and their public halves.
//!
//! The keys themselves live in the database (see [`crate::keys::signing`]);
//! this file is only the key material: a [`SigningKey`] made from its
//! 32-byte seed, and a [`PublicKey`] that verifies and is published in the
//! JWKS. The key id is the RFC 7638 thumbprint of the public key, so it is
//! the same wherever the key is loaded. An older deployment kept its key in
//! `TWOFOLD_DATA_DIR/jwt-signing-key.pem`; [`SigningKey::from_pem`] reads it
//! for the one-time import.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use jsonwebtoken::jwk::{
    AlgorithmParameters, CommonParameters, EllipticCurve, Jwk, KeyAlgorithm,
    OctetKeyPairParameters, OctetKeyPairType, PublicKeyUse,
};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use sha2::{Digest, Sha256};

use crate::crypto::random_bytes;

/// Where an older deployment kept its one signing key.
pub const KEY_FILE: &str = "jwt-signing-key.pem";

/// ASN.1 prefix of a PKCS#8 v1 Ed25519 private key; the 32-byte seed follows.
const PKCS8_ED25519_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("signing key: {0}")]
    Key(String),
}

/// A public key: verifies tokens and is published in the JWKS.
#[derive(Clone)]
pub struct PublicKey {
    pub kid: String,
    pub decoding: DecodingKey,
    pub jwk: Jwk,
}

impl PublicKey {
    /// From the base64url `x` coordinate of an Ed25519 key.
    pub fn from_x(x: &str) -> Result<Self, KeyError> {
        let decoding =
            DecodingKey::from_ed_components(x).map_err(|e| KeyError::Key(e.to_string()))?;
        // RFC 7638: SHA-256 over the required members in lexical order.
        let thumbprint = Sha256::digest(format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#));
        let kid = URL_SAFE_NO_PAD.encode(thumbprint);
        let jwk = Jwk {
            common: CommonParameters {
                public_key_use: Some(PublicKeyUse::Signature),
                key_algorithm: Some(KeyAlgorithm::EdDSA),
                key_id: Some(kid.clone()),
                ..CommonParameters::default()
            },
            algorithm: AlgorithmParameters::OctetKeyPair(OctetKeyPairParameters {
                key_type: OctetKeyPairType::OctetKeyPair,
                curve: EllipticCurve::Ed25519,
                x: x.to_owned(),
            }),
        };
        Ok(Self { kid, decoding, jwk })
    }

    /// The base64url `x` coordinate, as stored.
    pub fn x(&self) -> &str {
        match &self.jwk.algorithm {
            AlgorithmParameters::OctetKeyPair(okp) => &okp.x,
            _ => "",
        }
    }
}

/// A private key that signs.
pub struct SigningKey {
    pub kid: String,
    pub encoding: EncodingKey,
    pub public: PublicKey,
    seed: [u8; 32],
}

impl SigningKey {
    /// A fresh key.
    pub fn generate() -> Result<Self, KeyError> {
        Self::from_seed(random_bytes::<32>())
    }

    /// The key whose private half is `seed` (what the database seals).
    pub fn from_seed(seed: [u8; 32]) -> Result<Self, KeyError> {
        let encoding = EncodingKey::from_ed_der(&pkcs8_der(&seed));
        let jwk = Jwk::from_encoding_key(&encoding, Algorithm::EdDSA)
            .map_err(|e| KeyError::Key(e.to_string()))?;
        let AlgorithmParameters::OctetKeyPair(okp) = &jwk.algorithm else {
            return Err(KeyError::Key("not an Ed25519 key".into()));
        };
        let public = PublicKey::from_x(&okp.x)?;
        Ok(Self {
            kid: public.kid.clone(),
            encoding,
            public,
            seed,
        })
    }

    /// A key from PKCS#8 PEM as twofold wrote it into `jwt-signing-key.pem`.
    pub fn from_pem(text: &str) -> Result<Self, KeyError> {
        let body: String = text
            .lines()
            .map(str::trim)
            .filter(|line| !line.starts_with("-----"))
            .collect();
        let der = STANDARD
            .decode(body)
            .map_err(|_| KeyError::Key("not PEM".into()))?;
        let seed = der
            .strip_prefix(PKCS8_ED25519_PREFIX.as_slice())
            .and_then(|seed| <[u8; 32]>::try_from(seed).ok())
            .ok_or_else(|| KeyError::Key("not an Ed25519 PKCS#8 key".into()))?;
        Self::from_seed(seed)
    }

    /// The PKCS#8 PEM an older twofold kept in `jwt-signing-key.pem`.
    pub fn to_pem(&self) -> crate::crypto::Secret {
        crate::crypto::Secret::new(pem(&pkcs8_der(&self.seed)))
    }

    /// The private half, for sealing. Never logged or sent.
    pub fn seed(&self) -> &[u8; 32] {
        &self.seed
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

    #[test]
    fn a_key_and_its_pem_agree_and_publish_no_private_part() {
        let key = SigningKey::generate().unwrap();
        let again = SigningKey::from_pem(key.to_pem().expose()).unwrap();
        assert_eq!(again.kid, key.kid);
        let from_x = PublicKey::from_x(key.public.x()).unwrap();
        assert_eq!(from_x.kid, key.kid);
        let jwk = serde_json::to_value(&key.public.jwk).unwrap();
        assert_eq!(jwk["kty"], "OKP");
        assert_eq!(jwk["crv"], "Ed25519");
        assert_eq!(jwk["kid"], key.kid.as_str());
        assert_eq!(jwk["use"], "sig");
        assert_eq!(jwk["alg"], "EdDSA");
        assert!(jwk.get("d").is_none(), "private part must not be published");
    }

    #[test]
    fn pem_that_is_not_an_ed25519_key_is_refused() {
        assert!(SigningKey::from_pem(
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"
        )
        .is_err());
        assert!(SigningKey::from_pem("nonsense!").is_err());
    }
}
