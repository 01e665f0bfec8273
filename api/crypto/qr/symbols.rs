//! The QR symbols of recently rendered texts, so that a pending enrollment's
//! QR code is encoded once and not at every request for its image: choosing
//! the mask (eight trial maskings, each scored) is most of a render's work,
//! and an enrollment's otpauth URI never changes while it is pending.
//!
//! A symbol encodes its text, and an otpauth URI holds a TOTP secret, so
//! this keeps little and nothing in the clear: at most [`CAPACITY`] symbols
//! (the oldest goes first), keyed by the SHA-256 of the text, only in this
//! process's memory, never logged. What it must never do is answer a symbol
//! for a text other than the one asked for: the key is the whole text's
//! digest, not a prefix or a user id.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use qrcodegen::{QrCode, QrCodeEcc};
use sha2::{Digest, Sha256};

/// How many symbols the shared cache keeps: enough for the enrollments
/// open at once on a busy instance, small enough (a few KiB each) to not
/// matter.
pub const CAPACITY: usize = 256;

type Key = [u8; 32];

/// A bounded cache of symbols by the digest of their text.
pub struct Symbols {
    capacity: usize,
    recent: Mutex<Recent>,
}

#[derive(Default)]
struct Recent {
    by_key: HashMap<Key, Arc<QrCode>>,
    /// Insertion order, for evicting the oldest.
    order: VecDeque<Key>,
}

/// The cache every render of this process shares.
pub fn shared() -> &'static Symbols {
    static SHARED: OnceLock<Symbols> = OnceLock::new();
    SHARED.get_or_init(|| Symbols::new(CAPACITY))
}

impl Symbols {
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            recent: Mutex::default(),
        }
    }

    /// The symbol of `text` (error correction M), encoded now or earlier.
    pub fn get(&self, text: &str) -> Result<Arc<QrCode>, String> {
        let key: Key = Sha256::digest(text.as_bytes()).into();
        if let Some(hit) = self.lock().by_key.get(&key) {
            return Ok(Arc::clone(hit));
        }
        // Encoded outside the lock so that other renders do not wait; two
        // first requests for one text may both encode it, to the same symbol.
        let symbol =
            Arc::new(QrCode::encode_text(text, QrCodeEcc::Medium).map_err(|e| e.to_string())?);
        let mut recent = self.lock();
        if recent.by_key.insert(key, Arc::clone(&symbol)).is_none() {
            recent.order.push_back(key);
            while recent.order.len() > self.capacity {
                if let Some(oldest) = recent.order.pop_front() {
                    recent.by_key.remove(&oldest);
                }
            }
        }
        Ok(symbol)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Recent> {
        self.recent.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_is_encoded_once_and_the_oldest_is_evicted() {
        let symbols = Symbols::new(2);
        let a = symbols.get("otpauth://totp/a").unwrap();
        assert!(Arc::ptr_eq(&a, &symbols.get("otpauth://totp/a").unwrap()));
        let b = symbols.get("otpauth://totp/b").unwrap();
        assert!(!Arc::ptr_eq(&a, &b));
        symbols.get("otpauth://totp/c").unwrap();
        let again = symbols.get("otpauth://totp/a").unwrap();
        assert!(!Arc::ptr_eq(&a, &again), "a was the oldest and went");
        assert_eq!(symbols.lock().by_key.len(), 2);
        let fresh = QrCode::encode_text("otpauth://totp/a", QrCodeEcc::Medium).unwrap();
        assert!(*again == fresh, "the same symbol as encoded afresh");
    }
}
