//! Pure cryptographic helpers: random tokens, digests, typed secrets and the
//! bounded password-hashing pool. Nothing here touches the database or HTTP.

pub mod keyfile;
pub mod keyring;
pub mod password;
pub mod qr;
pub mod recovery;
pub mod secretbox;
pub mod totp;

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// `N` bytes from the operating system's CSPRNG.
#[expect(
    clippy::expect_used,
    reason = "a failing OS random source is unrecoverable; going on would issue predictable secrets"
)]
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    getrandom::getrandom(&mut buf).expect("the operating system's random source failed");
    buf
}

/// A new opaque bearer token: `prefix` + 256 random bits, base64url.
/// The prefix tells a human (and secret scanners) what leaked.
pub fn new_token(prefix: &str) -> Secret {
    Secret(format!(
        "{prefix}{}",
        URL_SAFE_NO_PAD.encode(random_bytes::<32>())
    ))
}

/// SHA-256 in hex: how high-entropy tokens are stored. A fast hash is right
/// here because a 256-bit random token cannot be brute-forced; passwords and
/// recovery codes use argon2id instead.
pub fn sha256_hex(input: &str) -> String {
    let digest = Sha256::digest(input.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Constant-time equality: a timing side channel would reveal how many
/// leading bytes matched.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// A string that must never be logged: passwords, tokens, codes.
/// `Debug` and `Display` print a placeholder; read it with [`Secret::expose`].
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl serde::Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // Serialised only into the response that hands the secret out.
        s.serialize_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_prefixed_and_unique() {
        let a = new_token("rt_");
        let b = new_token("rt_");
        assert!(a.expose().starts_with("rt_"));
        assert_eq!(a.expose().len(), 3 + 43);
        assert_ne!(a, b);
    }

    #[test]
    fn secrets_do_not_print() {
        let s = Secret::new("hunter2");
        assert!(!format!("{s:?} {s}").contains("hunter2"));
    }

    #[test]
    fn digest_and_comparison() {
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(constant_time_eq(b"same", b"same"));
        assert!(!constant_time_eq(b"same", b"sane"));
        assert!(!constant_time_eq(b"same", b"same!"));
    }
}
