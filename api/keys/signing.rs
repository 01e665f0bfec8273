//! The token-signing keys every instance on a database shares.
//!
//! One key is active and signs; a retired key keeps verifying, and stays in
//! the JWKS, for [`RETIRED_GRACE_SECS`] after its retirement: every token it
//! signed (at most [`RELOAD_SECS`] after the retirement, by an instance that
//! had not reloaded yet) has expired by then. Each instance keeps the set in
//! memory and re-reads it every [`RELOAD_SECS`], and at once (at most every
//! few seconds) when a token names a key it does not know, so a rotation
//! reaches every instance within [`RELOAD_SECS`] and a token signed by the
//! new key verifies everywhere at once.

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use actix_web::web::Bytes;
use jsonwebtoken::DecodingKey;

use super::jwks::JwksBodies;
use super::repo::{self, signing_key_owner, KeyRow};
use crate::crypto::keyring::{Keyring, MasterKeys};
use crate::db::{Db, DbConn};
use crate::error::ApiError;
use crate::sessions::jwt::ACCESS_TTL_SECS;
use crate::sessions::keys::{PublicKey, SigningKey, KEY_FILE};

/// How often each instance re-reads the key set: the bound on how long a
/// rotation takes to reach every instance.
pub const RELOAD_SECS: u64 = 30;

/// How long a retired key still verifies and is published.
pub const RETIRED_GRACE_SECS: i64 = ACCESS_TTL_SECS + 2 * RELOAD_SECS as i64;

/// How often a token naming an unknown key may trigger a re-read: forged
/// key ids must not turn into a stream of queries.
const UNKNOWN_KID_RELOAD_EVERY: Duration = Duration::from_secs(2);

struct Published {
    key: PublicKey,
    retired_at: Option<i64>,
}

impl Published {
    /// When the key stops verifying and being published.
    fn leaves(&self) -> Option<i64> {
        self.retired_at
            .map(|retired| retired.saturating_add(RETIRED_GRACE_SECS))
    }

    fn valid_at(&self, now: i64) -> bool {
        self.leaves().is_none_or(|leaves| leaves > now)
    }
}

/// The keys as of one read.
struct KeySet {
    /// The key that signs, or the id of the master key its private half is
    /// sealed under when this instance cannot open it.
    active: Result<Arc<SigningKey>, String>,
    active_created_at: i64,
    published: Vec<Published>,
    /// The JWKS of `published`, serialised once per read.
    jwks: JwksBodies,
}

impl KeySet {
    fn new(
        active: Result<Arc<SigningKey>, String>,
        active_created_at: i64,
        published: Vec<Published>,
    ) -> Self {
        let keys: Vec<_> = published.iter().map(|p| (&p.key.jwk, p.leaves())).collect();
        let jwks = JwksBodies::new(&keys);
        Self {
            active,
            active_created_at,
            published,
            jwks,
        }
    }
}

/// The live key set of one instance.
pub struct SigningKeys {
    /// Where the set is re-read from; `None` for a fixed key.
    store: Option<(Db, Arc<Keyring>)>,
    set: RwLock<Arc<KeySet>>,
    last_unknown_reload: Mutex<Option<Instant>>,
}

impl SigningKeys {
    /// One key that never changes, for tests and tools that sign alone.
    pub fn fixed(key: SigningKey) -> Self {
        let published = vec![Published {
            key: key.public.clone(),
            retired_at: None,
        }];
        let set = KeySet::new(Ok(Arc::new(key)), 0, published);
        Self {
            store: None,
            set: RwLock::new(Arc::new(set)),
            last_unknown_reload: Mutex::new(None),
        }
    }

    /// Reads the keys at start, creating the first one if there is none
    /// (imported from an older deployment's `jwt-signing-key.pem` when the
    /// data directory has one). Fails when this instance cannot open the
    /// active key: it could not sign a single token.
    pub fn load(db: Db, ring: Arc<Keyring>, data_dir: &Path, now: i64) -> Result<Self, String> {
        let mut conn = db.conn().map_err(|e| e.to_string())?;
        ensure_active(&mut conn, &ring.keys(), data_dir, now).map_err(|e| e.to_string())?;
        let rows = repo::live(&mut conn, now - RETIRED_GRACE_SECS).map_err(|e| e.to_string())?;
        drop(conn);
        let set = build(&rows, &ring);
        if let Err(key_id) = &set.active {
            return Err(format!(
                "the active token-signing key is sealed under master key {key_id}, which this \
                 instance does not have: give every instance the same TWOFOLD_MASTER_KEY (or add \
                 the key to TWOFOLD_MASTER_KEYS_PREVIOUS)"
            ));
        }
        Ok(Self {
            store: Some((db, ring)),
            set: RwLock::new(Arc::new(set)),
            last_unknown_reload: Mutex::new(None),
        })
    }

    fn current(&self) -> Arc<KeySet> {
        Arc::clone(&self.set.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Re-reads the set from the database.
    pub async fn reload(&self, now: i64) -> Result<(), ApiError> {
        let Some((db, ring)) = &self.store else {
            return Ok(());
        };
        let rows = db
            .run(move |conn| repo::live(conn, now - RETIRED_GRACE_SECS))
            .await?;
        let set = build(&rows, ring);
        if let Err(key_id) = &set.active {
            tracing::error!(
                key_id = %key_id,
                "the active token-signing key is sealed under a master key this instance does not have"
            );
        }
        *self.set.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(set);
        Ok(())
    }

    /// The key to sign with.
    pub fn active(&self) -> Result<Arc<SigningKey>, ApiError> {
        self.current()
            .active
            .clone()
            .map_err(ApiError::KeyUnavailable)
    }

    /// `(kid, created_at)` of the active key, for rotation by age.
    pub fn active_age(&self) -> Option<(String, i64)> {
        let set = self.current();
        let active = set.active.as_ref().ok()?;
        Some((active.kid.clone(), set.active_created_at))
    }

    /// The key that verifies tokens with header `kid` at `now`; an unknown
    /// id makes the set be re-read first (rate-limited).
    pub async fn verifying(&self, kid: &str, now: i64) -> Option<DecodingKey> {
        if let Some(key) = self.find(kid, now) {
            return Some(key);
        }
        if self.store.is_none() || !self.may_reload_for_unknown() {
            return None;
        }
        if let Err(e) = self.reload(now).await {
            tracing::warn!(error = %e, "signing keys could not be re-read");
        }
        self.find(kid, now)
    }

    fn find(&self, kid: &str, now: i64) -> Option<DecodingKey> {
        self.current()
            .published
            .iter()
            .find(|p| p.key.kid == kid && p.valid_at(now))
            .map(|p| p.key.decoding.clone())
    }

    /// The JWKS JSON: the active key and every retired key whose tokens
    /// may still be valid. Written at the read of the set, not here.
    pub fn jwks(&self, now: i64) -> Bytes {
        self.current().jwks.at(now)
    }

    fn may_reload_for_unknown(&self) -> bool {
        let mut last = self
            .last_unknown_reload
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if last.is_some_and(|at| at.elapsed() < UNKNOWN_KID_RELOAD_EVERY) {
            return false;
        }
        *last = Some(Instant::now());
        true
    }
}

fn build(rows: &[KeyRow], ring: &Keyring) -> KeySet {
    let mut published = Vec::new();
    let mut active = Err(String::new());
    let mut active_created_at = 0;
    for row in rows {
        let key = match PublicKey::from_x(&row.public_key) {
            Ok(key) if key.kid == row.kid => key,
            _ => {
                tracing::error!(kid = %row.kid, "a stored signing key is malformed; skipped");
                continue;
            }
        };
        if row.is_active() {
            active_created_at = row.created_at;
            active = open(row, ring);
        }
        published.push(Published {
            key,
            retired_at: row.retired_at,
        });
    }
    KeySet::new(active, active_created_at, published)
}

/// The private half of `row`, or the master key id it is sealed under.
fn open(row: &KeyRow, ring: &Keyring) -> Result<Arc<SigningKey>, String> {
    let unknown = || {
        crate::crypto::secretbox::key_id_of(&row.private_sealed)
            .unwrap_or("?")
            .to_owned()
    };
    let seed = ring
        .open(&row.private_sealed, &signing_key_owner(&row.kid))
        .map_err(|_| unknown())?;
    let seed: [u8; 32] = seed.try_into().map_err(|_| unknown())?;
    SigningKey::from_seed(seed)
        .ok()
        .filter(|key| key.kid == row.kid)
        .map(Arc::new)
        .ok_or_else(unknown)
}

/// A new key row sealed under the current master key.
fn new_row(key: &SigningKey, master: &MasterKeys, now: i64) -> Result<KeyRow, ApiError> {
    let sealed = master.seal(key.seed(), &signing_key_owner(&key.kid))?;
    Ok(KeyRow::active(
        key.kid.clone(),
        key.public.x().to_owned(),
        sealed,
        now,
    ))
}

/// Makes sure a key is active: the first start on a database creates one,
/// importing `jwt-signing-key.pem` from the data directory if present so
/// the sessions of an older deployment survive the upgrade.
pub fn ensure_active(
    conn: &mut DbConn,
    master: &MasterKeys,
    data_dir: &Path,
    now: i64,
) -> Result<(), ApiError> {
    let rows = repo::all(conn)?;
    let legacy = data_dir.join(KEY_FILE);
    let legacy_key = match std::fs::read_to_string(&legacy) {
        Ok(text) => Some(SigningKey::from_pem(&text).map_err(|e| {
            ApiError::internal(format!("TWOFOLD_DATA_DIR: {}: {e}", legacy.display()))
        })?),
        Err(_) => None,
    };
    if rows.iter().any(KeyRow::is_active) {
        if let Some(key) = legacy_key.filter(|k| !rows.iter().any(|r| r.kid == k.kid)) {
            tracing::warn!(
                kid = %key.kid,
                file = %legacy.display(),
                "this key file is not used: the database holds the signing keys"
            );
        }
        return Ok(());
    }
    let imported = legacy_key.is_some();
    let key = match legacy_key {
        Some(key) => key,
        None => SigningKey::generate().map_err(ApiError::internal)?,
    };
    if repo::insert_first(conn, &new_row(&key, master, now)?)? {
        tracing::info!(kid = %key.kid, imported, "token-signing key created");
    }
    Ok(())
}

/// Retires the active key `expected` and activates a new one. `None` when
/// `expected` was not the active key any more (another rotation won).
pub fn rotate(
    conn: &mut DbConn,
    master: &MasterKeys,
    expected: &str,
    now: i64,
) -> Result<Option<String>, ApiError> {
    let key = SigningKey::generate().map_err(ApiError::internal)?;
    let row = new_row(&key, master, now)?;
    Ok(repo::rotate(conn, expected, &row, now)?.then_some(key.kid))
}

/// The active key's id as stored.
pub fn active_kid(conn: &mut DbConn) -> Result<Option<String>, ApiError> {
    Ok(repo::live(conn, i64::MAX)?
        .into_iter()
        .find(KeyRow::is_active)
        .map(|row| row.kid))
}
