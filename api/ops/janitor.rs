//! Periodic clean-up of rows nobody can use any more: expired login flows,
//! TOTP enrollments and WebAuthn ceremonies in progress, ended
//! address-failure windows, long-ended sessions and signing keys retired
//! long enough that nothing they signed is still valid. Safe to run on every
//! instance at once: each pass is a handful of idempotent deletes.

use std::time::Duration;

use crate::error::ApiError;
use crate::state::AppState;

/// What one pass removed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Swept {
    pub flows: usize,
    /// TOTP enrollments never confirmed.
    pub pending_enrollments: usize,
    /// WebAuthn ceremonies (registration or assertion) never finished:
    /// counted apart, so a crowd of abandoned passkey prompts does not read
    /// as abandoned TOTP enrollments.
    pub webauthn_challenges: usize,
    pub address_windows: usize,
    pub sessions: usize,
    /// Signing keys retired so long ago that nothing they signed is valid.
    pub signing_keys: usize,
    /// Remembered devices whose window has passed.
    pub devices: usize,
}

/// One clean-up pass at the injected clock's `now`.
pub async fn pass(state: &AppState) -> Result<Swept, ApiError> {
    let now = state.now();
    state
        .db
        .run(move |conn| {
            Ok(Swept {
                flows: crate::login::repo::purge_expired(conn, now)?,
                pending_enrollments: crate::twofa::repo::purge_expired_pending(conn, now)?,
                webauthn_challenges: crate::webauthn::repo::purge_expired_challenges(conn, now)?,
                address_windows: crate::attempts::purge(conn, now)?,
                sessions: crate::sessions::repo::purge_ended(
                    conn,
                    now,
                    crate::sessions::service::ENDED_RETENTION_SECS,
                )?,
                devices: crate::devices::repo::purge_expired(conn, now)?,
                signing_keys: crate::keys::repo::purge_retired(
                    conn,
                    now - crate::keys::signing::RETIRED_GRACE_SECS,
                )?,
            })
        })
        .await
}

pub async fn run(state: AppState, every: Duration) {
    let mut interval = tokio::time::interval(every);
    loop {
        interval.tick().await;
        match pass(&state).await {
            Ok(swept) => tracing::debug!(?swept, "janitor pass"),
            Err(e) => tracing::warn!(error = %e, "janitor pass failed"),
        }
    }
}
