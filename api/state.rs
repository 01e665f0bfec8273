//! Everything a request handler may need, built once and shared.

use std::sync::Arc;

use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::crypto::password::PasswordHasher;
use crate::crypto::secretbox::SecretBox;
use crate::db::Db;
use crate::ops::metrics::Metrics;
use crate::sessions::jwt::TokenSigner;
use crate::sessions::keys::SigningKey;

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: Db,
    pub clock: Arc<dyn Clock>,
    pub passwords: PasswordHasher,
    /// Seals TOTP secrets at rest.
    pub secrets: SecretBox,
    pub tokens: Arc<TokenSigner>,
    pub metrics: Arc<Metrics>,
    /// The WebAuthn relying party; `None` when the configuration allows none.
    pub webauthn: Option<Arc<webauthn_rs::Webauthn>>,
    /// Per-account IP allow-list rules, cached for a second.
    pub allowlists: Arc<crate::ip_allowlist::Cache>,
}

impl AppState {
    /// Wires the state from its parts; `serve` and the tests both come here.
    pub fn new(
        config: Config,
        db: Db,
        clock: Arc<dyn Clock>,
        signing_key: SigningKey,
    ) -> Result<Self, String> {
        let passwords = PasswordHasher::new(config.password)?;
        let secrets = match &config.master_key {
            Some(key) => SecretBox::from_base64(key.expose()).map_err(|e| e.to_string()),
            None => SecretBox::load_or_create(&config.data_dir).map_err(|e| data_dir_error(&e)),
        }?;
        let webauthn = crate::webauthn::relying_party(&config)?.map(Arc::new);
        let tokens = TokenSigner::new(signing_key, config.issuer.clone(), config.audience());
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

    /// The production wiring: system clock, key from the data directory.
    pub fn from_config(config: Config, db: Db) -> Result<Self, String> {
        let key = SigningKey::load_or_create(&config.data_dir).map_err(|e| data_dir_error(&e))?;
        Self::new(config, db, Arc::new(SystemClock), key)
    }

    pub fn now(&self) -> i64 {
        self.clock.unix()
    }
}

/// A key file in the data directory could not be read or written: say
/// which setting to fix, not only which file.
fn data_dir_error(e: &dyn std::fmt::Display) -> String {
    format!("TWOFOLD_DATA_DIR: {e}")
}
