//! AES-256-GCM for secrets that must be readable again (TOTP secrets).
//!
//! Sealed values look like `v1.<key id>.<base64(nonce ‖ ciphertext ‖ tag)>`.
//! The key id lets a later key rotation find the right key for old rows;
//! the associated data binds each ciphertext to its owner, so a row copied
//! onto another user does not decrypt.

use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use sha2::{Digest, Sha256};

use super::keyfile::{self, FileError, KeyFile};
use super::random_bytes;

pub const KEY_FILE: &str = "master.key";

#[derive(Clone)]
pub struct SecretBox {
    key_id: String,
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretBox(key {})", self.key_id)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SecretBoxError {
    #[error("master key: expected base64 of exactly 32 bytes")]
    BadKey,
    #[error("{path}: {message}")]
    File { path: String, message: String },
    #[error("sealed value is malformed, for another key, or tampered with")]
    Open,
    /// Sealed under a master key this process does not have.
    #[error("sealed under master key {0}, which is not configured")]
    UnknownKey(String),
}

impl From<FileError> for SecretBoxError {
    fn from(e: FileError) -> Self {
        Self::File {
            path: e.path,
            message: e.message,
        }
    }
}

impl SecretBox {
    pub fn from_key(key: &[u8; 32]) -> Self {
        let digest = Sha256::digest([b"twofold-master-key-id:".as_slice(), key].concat());
        let key_id = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
        Self {
            key_id,
            cipher: Aes256Gcm::new(&(*key).into()),
        }
    }

    /// A key given as base64 (`TWOFOLD_MASTER_KEY`).
    pub fn from_base64(encoded: &str) -> Result<Self, SecretBoxError> {
        let bytes = STANDARD
            .decode(encoded.trim())
            .map_err(|_| SecretBoxError::BadKey)?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| SecretBoxError::BadKey)?;
        Ok(Self::from_key(&key))
    }

    /// The key in `dir/master.key`, generated (mode 0600) on first use.
    pub fn load_or_create(dir: &Path) -> Result<Self, SecretBoxError> {
        let key = random_bytes::<32>();
        let new_text = format!("{}\n", STANDARD.encode(key));
        match keyfile::read_or_create(dir, KEY_FILE, &new_text)? {
            KeyFile::Created => Ok(Self::from_key(&key)),
            KeyFile::Existing(text) => Self::from_base64(&text)
                .map_err(|e| FileError::new(&dir.join(KEY_FILE), e.to_string()).into()),
        }
    }

    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    pub fn seal(&self, plaintext: &[u8], owner: &str) -> Result<String, SecretBoxError> {
        let nonce = random_bytes::<12>();
        let ciphertext = self
            .cipher
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad: owner.as_bytes(),
                },
            )
            .map_err(|_| SecretBoxError::Open)?;
        let mut blob = nonce.to_vec();
        blob.extend_from_slice(&ciphertext);
        Ok(format!("v1.{}.{}", self.key_id, STANDARD.encode(blob)))
    }

    pub fn open(&self, sealed: &str, owner: &str) -> Result<Vec<u8>, SecretBoxError> {
        let Some((key_id, blob)) = split(sealed) else {
            return Err(SecretBoxError::Open);
        };
        if key_id != self.key_id {
            return Err(SecretBoxError::UnknownKey(key_id.to_owned()));
        }
        let blob = STANDARD.decode(blob).map_err(|_| SecretBoxError::Open)?;
        if blob.len() < 12 + 16 {
            return Err(SecretBoxError::Open);
        }
        let (nonce, ciphertext) = blob.split_at(12);
        let nonce: [u8; 12] = nonce.try_into().map_err(|_| SecretBoxError::Open)?;
        self.cipher
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: ciphertext,
                    aad: owner.as_bytes(),
                },
            )
            .map_err(|_| SecretBoxError::Open)
    }
}

/// The id of the key that sealed `sealed`, if it is a sealed value at all.
pub fn key_id_of(sealed: &str) -> Option<&str> {
    split(sealed).map(|(key_id, _)| key_id)
}

fn split(sealed: &str) -> Option<(&str, &str)> {
    let mut parts = sealed.splitn(3, '.');
    match (parts.next(), parts.next(), parts.next()) {
        (Some("v1"), Some(key_id), Some(blob)) => Some((key_id, blob)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::PermissionsExt as _;

    #[test]
    fn round_trip_bound_to_owner_and_key() {
        let sb = SecretBox::from_key(&[7u8; 32]);
        let sealed = sb.seal(b"JBSWY3DPEHPK3PXP", "user-1").unwrap();
        assert!(sealed.starts_with(&format!("v1.{}.", sb.key_id())));
        assert!(!sealed.contains("JBSWY3DP"));
        assert_eq!(sb.open(&sealed, "user-1").unwrap(), b"JBSWY3DPEHPK3PXP");
        assert!(sb.open(&sealed, "user-2").is_err(), "moved to another user");
        let other = SecretBox::from_key(&[8u8; 32]);
        assert!(
            matches!(other.open(&sealed, "user-1"), Err(SecretBoxError::UnknownKey(id)) if id == sb.key_id()),
            "another key"
        );
        assert_eq!(key_id_of(&sealed), Some(sb.key_id()));
        assert_eq!(key_id_of("plain"), None);
        let mut tampered = sealed.clone();
        tampered.pop();
        tampered.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert!(sb.open(&tampered, "user-1").is_err());
        assert_ne!(
            sb.seal(b"x", "u").unwrap(),
            sb.seal(b"x", "u").unwrap(),
            "fresh nonce"
        );
    }

    #[test]
    fn key_file_is_created_once_with_private_mode() {
        let dir = tempfile::tempdir().unwrap();
        let a = SecretBox::load_or_create(dir.path()).unwrap();
        let b = SecretBox::load_or_create(dir.path()).unwrap();
        assert_eq!(a.key_id(), b.key_id());
        let sealed = a.seal(b"s", "u").unwrap();
        assert_eq!(b.open(&sealed, "u").unwrap(), b"s");
        let mode = fs::metadata(dir.path().join(KEY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn configured_keys_must_be_32_bytes() {
        assert!(SecretBox::from_base64(&STANDARD.encode([1u8; 32])).is_ok());
        assert!(SecretBox::from_base64(&STANDARD.encode([1u8; 16])).is_err());
        assert!(SecretBox::from_base64("not base64!").is_err());
    }
}
