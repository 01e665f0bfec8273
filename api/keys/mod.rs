//! Key lifecycle: the token-signing keys in the database, resealing under a
//! new master key, the status an operator reads, and the periodic pass that
//! keeps each instance's keys current.
//!
//! The master key ring itself is in [`crate::crypto::keyring`]; the CLI
//! commands (`twofold keys …`) are in `cli/keys.rs`.

pub mod jwks;
pub mod repo;
pub mod reseal;
pub mod signing;
pub mod status;

use std::time::Duration;

use crate::error::ApiError;
use crate::state::AppState;

/// One pass: re-read the master keys (a rotation of generated keys in a
/// shared data directory), rotate the signing key when it is older than
/// `TWOFOLD_SIGNING_KEY_MAX_AGE`, and re-read the signing keys.
pub async fn maintain(state: &AppState) -> Result<(), ApiError> {
    if let Err(e) = state.secrets.reload() {
        tracing::warn!(error = %e, "master keys could not be re-read; the ones in use stay");
    }
    let now = state.now();
    let keys = state.tokens.keys();
    if let (Some(max_age), Some((kid, created_at))) =
        (state.config.signing_key_max_age, keys.active_age())
    {
        let max_age = i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX);
        if now.saturating_sub(created_at) >= max_age {
            let master = state.secrets.keys();
            let rotated = state
                .db
                .run(move |conn| signing::rotate(conn, &master, &kid, now))
                .await?;
            if let Some(kid) = rotated {
                tracing::info!(kid = %kid, "token-signing key rotated: TWOFOLD_SIGNING_KEY_MAX_AGE reached");
            }
        }
    }
    keys.reload(now).await
}

/// Runs [`maintain`] every [`signing::RELOAD_SECS`] until dropped.
pub async fn run(state: AppState) {
    let mut interval = tokio::time::interval(Duration::from_secs(signing::RELOAD_SECS));
    interval.tick().await; // the first tick is immediate; start just loaded
    loop {
        interval.tick().await;
        if let Err(e) = maintain(&state).await {
            tracing::warn!(error = %e, "key maintenance pass failed");
        }
    }
}
