//! The master key ring: one current key seals, every other key it holds
//! only opens what was sealed before a rotation.
//!
//! Where the keys come from ([`KeySource`]):
//! - the current key is `TWOFOLD_MASTER_KEY`, or else `master.key` in the
//!   data directory, generated on first start;
//! - previous keys are `TWOFOLD_MASTER_KEYS_PREVIOUS`, the retired generated
//!   keys `master-retired-<key id>.key` that `twofold keys rotate-master`
//!   leaves in the data directory, and a generated `master.key` that a
//!   configured `TWOFOLD_MASTER_KEY` has replaced.
//!
//! [`Keyring`] is the live ring a running service holds: it re-reads its
//! source when asked (periodically, and at most once a second when a value
//! names a key it does not have), so a rotation of generated keys in a
//! shared data directory reaches every instance without a restart.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use super::keyfile::{self, FileError};
use super::secretbox::{key_id_of, SecretBox, SecretBoxError, KEY_FILE};
use super::{random_bytes, Secret};

const RETIRED_PREFIX: &str = "master-retired-";
const RETIRED_SUFFIX: &str = ".key";

/// How often a value naming an unknown key may make the ring re-read its
/// source: a stream of forged values must not turn into a stream of reads.
const UNKNOWN_KEY_RELOAD_EVERY: Duration = Duration::from_secs(1);

/// Where the master keys come from.
#[derive(Debug, Clone)]
pub struct KeySource {
    /// `TWOFOLD_MASTER_KEY`; `None` means the generated `master.key`.
    pub configured: Option<Secret>,
    /// `TWOFOLD_MASTER_KEYS_PREVIOUS`.
    pub previous: Vec<Secret>,
    pub data_dir: PathBuf,
}

/// One immutable set of keys.
#[derive(Debug, Clone)]
pub struct MasterKeys {
    current: SecretBox,
    previous: Vec<SecretBox>,
}

impl MasterKeys {
    pub fn new(current: SecretBox, previous: Vec<SecretBox>) -> Self {
        let mut ring = Self {
            current,
            previous: Vec::new(),
        };
        for key in previous {
            if !ring.has(key.key_id()) {
                ring.previous.push(key);
            }
        }
        ring
    }

    /// Reads every key of `source`, creating `master.key` when no key is
    /// configured and none was generated yet.
    pub fn load(source: &KeySource) -> Result<Self, SecretBoxError> {
        let dir = &source.data_dir;
        let current = match &source.configured {
            Some(key) => SecretBox::from_base64(key.expose())?,
            None => SecretBox::load_or_create(dir)?,
        };
        let mut previous = source
            .previous
            .iter()
            .map(|key| SecretBox::from_base64(key.expose()))
            .collect::<Result<Vec<_>, _>>()?;
        if source.configured.is_some() {
            if let Some(generated) = read_key(&dir.join(KEY_FILE))? {
                previous.push(generated);
            }
        }
        for path in retired_files(dir)? {
            previous.extend(read_key(&path)?);
        }
        Ok(Self::new(current, previous))
    }

    /// The id of the key that seals.
    pub fn current_id(&self) -> &str {
        self.current.key_id()
    }

    /// Every key id the ring can open, the current one first.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        std::iter::once(&self.current)
            .chain(&self.previous)
            .map(SecretBox::key_id)
    }

    pub fn has(&self, key_id: &str) -> bool {
        self.ids().any(|id| id == key_id)
    }

    pub fn seal(&self, plaintext: &[u8], owner: &str) -> Result<String, SecretBoxError> {
        self.current.seal(plaintext, owner)
    }

    /// Opens a value sealed under any key of the ring;
    /// [`SecretBoxError::UnknownKey`] names a key the ring lacks.
    pub fn open(&self, sealed: &str, owner: &str) -> Result<Vec<u8>, SecretBoxError> {
        let key_id = key_id_of(sealed).ok_or(SecretBoxError::Open)?;
        std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|key| key.key_id() == key_id)
            .ok_or_else(|| SecretBoxError::UnknownKey(key_id.to_owned()))?
            .open(sealed, owner)
    }
}

/// The ring a running service holds, re-read from its source on demand.
#[derive(Debug)]
pub struct Keyring {
    source: KeySource,
    keys: RwLock<Arc<MasterKeys>>,
    last_unknown_reload: Mutex<Option<Instant>>,
}

impl Keyring {
    pub fn load(source: KeySource) -> Result<Self, SecretBoxError> {
        let keys = MasterKeys::load(&source)?;
        Ok(Self {
            source,
            keys: RwLock::new(Arc::new(keys)),
            last_unknown_reload: Mutex::new(None),
        })
    }

    /// The keys as of the last reload.
    pub fn keys(&self) -> Arc<MasterKeys> {
        Arc::clone(&self.keys.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Re-reads the source; on failure the keys in use stay.
    pub fn reload(&self) -> Result<(), SecretBoxError> {
        let keys = MasterKeys::load(&self.source)?;
        *self.keys.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(keys);
        Ok(())
    }

    pub fn seal(&self, plaintext: &[u8], owner: &str) -> Result<String, SecretBoxError> {
        self.keys().seal(plaintext, owner)
    }

    /// Opens `sealed`; a value under a key the ring lacks makes it re-read
    /// its source once (rate-limited) before giving up.
    pub fn open(&self, sealed: &str, owner: &str) -> Result<Vec<u8>, SecretBoxError> {
        match self.keys().open(sealed, owner) {
            Err(SecretBoxError::UnknownKey(id)) if self.may_reload_for_unknown() => {
                if let Err(e) = self.reload() {
                    tracing::warn!(error = %e, "master keys could not be re-read");
                    return Err(SecretBoxError::UnknownKey(id));
                }
                self.keys().open(sealed, owner)
            }
            other => other,
        }
    }

    fn may_reload_for_unknown(&self) -> bool {
        let mut last = self
            .last_unknown_reload
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if last.is_some_and(|at| at.elapsed() < UNKNOWN_KEY_RELOAD_EVERY) {
            return false;
        }
        *last = Some(Instant::now());
        true
    }
}

/// What [`rotate_generated`] did.
#[derive(Debug, PartialEq, Eq)]
pub struct Rotated {
    pub retired_key_id: String,
    pub key_id: String,
}

/// Replaces the generated `master.key` in `dir` with a new key, keeping the
/// old one as `master-retired-<id>.key` so everything it sealed still opens.
/// The retired copy is written (and synced) before `master.key` changes, and
/// the change is a rename, so a crash at any point loses no key.
pub fn rotate_generated(dir: &Path) -> Result<Rotated, SecretBoxError> {
    let old = SecretBox::load_or_create(dir)?;
    let old_text = std::fs::read_to_string(dir.join(KEY_FILE))
        .map_err(|e| FileError::new(&dir.join(KEY_FILE), e.to_string()))?;
    let retired_name = format!("{RETIRED_PREFIX}{}{RETIRED_SUFFIX}", old.key_id());
    keyfile::read_or_create(dir, &retired_name, &old_text)?;

    let new_key = random_bytes::<32>();
    let new = SecretBox::from_key(&new_key);
    let staging = format!("{KEY_FILE}.new-{}", new.key_id());
    keyfile::read_or_create(dir, &staging, &format!("{}\n", STANDARD.encode(new_key)))?;
    keyfile::replace(dir, &staging, KEY_FILE)?;
    Ok(Rotated {
        retired_key_id: old.key_id().to_owned(),
        key_id: new.key_id().to_owned(),
    })
}

/// A key file's key, or `None` when the file does not exist.
fn read_key(path: &Path) -> Result<Option<SecretBox>, SecretBoxError> {
    match std::fs::read_to_string(path) {
        Ok(text) => SecretBox::from_base64(&text)
            .map(Some)
            .map_err(|e| FileError::new(path, e.to_string()).into()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(FileError::new(path, e.to_string()).into()),
    }
}

/// The retired generated keys in `dir`, in name order.
fn retired_files(dir: &Path) -> Result<Vec<PathBuf>, SecretBoxError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(FileError::new(dir, e.to_string()).into()),
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            path.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(RETIRED_PREFIX) && n.ends_with(RETIRED_SUFFIX))
        })
        .collect();
    paths.sort();
    Ok(paths)
}

#[cfg(test)]
mod tests;
