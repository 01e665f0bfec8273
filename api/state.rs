//! Everything a request handler may need, built once and shared.

use std::sync::Arc;

use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::crypto::keyring::{KeySource, Keyring};
use crate::crypto::password::PasswordHasher;
use crate::db::Db;
use crate::keys::signing::SigningKeys;
use crate::ops::metrics::Metrics;
use crate::sessions::jwt::TokenSigner;
use crate::sessions::keys::SigningKey;

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: Db,
    pub clock: Arc<dyn Clock>,
    pub passwords: PasswordHasher,
    /// The master key ring: seals TOTP secrets and signing keys at rest.
    pub secrets: Arc<Keyring>,
    pub tokens: Arc<TokenSigner>,
    pub metrics: Arc<Metrics>,
    /// The WebAuthn relying party; `None` when the configuration allows none.
    pub webauthn: Option<Arc<webauthn_rs::Webauthn>>,
    /// Per-account IP allow-list rules, cached for a second.
    pub allowlists: Arc<crate::ip_allowlist::Cache>,
}

impl AppState {
    /// Wires the state from its parts; `serve` and the tests both come here.
    /// The signing keys are read from the database (the first start on a
    /// database creates them), so the database must be reachable.
    pub fn new(config: Config, db: Db, clock: Arc<dyn Clock>) -> Result<Self, String> {
        let secrets = master_keys(&config)?;
        let now = clock.unix();
        let keys = SigningKeys::load(db.clone(), Arc::clone(&secrets), &config.data_dir, now)
            .map_err(|e| format!("signing keys: {e}"))?;
        Self::assemble(config, db, clock, secrets, keys)
    }

    /// A state that signs with one fixed key and never reads keys from the
    /// database: for tests of a database that is down.
    pub fn with_fixed_key(
        config: Config,
        db: Db,
        clock: Arc<dyn Clock>,
        key: SigningKey,
    ) -> Result<Self, String> {
        let secrets = master_keys(&config)?;
        Self::assemble(config, db, clock, secrets, SigningKeys::fixed(key))
    }

    fn assemble(
        config: Config,
        db: Db,
        clock: Arc<dyn Clock>,
        secrets: Arc<Keyring>,
        keys: SigningKeys,
    ) -> Result<Self, String> {
        let passwords = PasswordHasher::new(config.password)?;
        let webauthn = crate::webauthn::relying_party(&config)?.map(Arc::new);
        let tokens = TokenSigner::new(keys, config.issuer.clone(), config.audience());
        Ok(Self {
            config: Arc::new(config),
            db,
            clock,
            passwords,
            secrets,
            tokens: Arc::new(tokens),
            metrics: Arc::new(Metrics::new().map_err(|e| e.to_string())?),
            allowlists: Arc::default(),
            webauthn,
        })
    }

    /// The production wiring: the system clock.
    pub fn from_config(config: Config, db: Db) -> Result<Self, String> {
        Self::new(config, db, Arc::new(SystemClock))
    }

    pub fn now(&self) -> i64 {
        self.clock.unix()
    }
}

/// The master key ring of `config`. A key file in the data directory that
/// cannot be read or written names the setting to fix, not only the file.
pub fn master_keys(config: &Config) -> Result<Arc<Keyring>, String> {
    Keyring::load(key_source(config))
        .map(Arc::new)
        .map_err(|e| format!("TWOFOLD_DATA_DIR: {e}"))
}

pub fn key_source(config: &Config) -> KeySource {
    KeySource {
        configured: config.master_key.clone(),
        previous: config.master_keys_previous.clone(),
        data_dir: config.data_dir.clone(),
    }
}
