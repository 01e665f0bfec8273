//! Periodic clean-up of rows nobody can use any more: expired login flows
//! and long-ended sessions. Safe to run on every instance at once: each
//! pass is a pair of idempotent deletes.

use std::time::Duration;

use crate::state::AppState;

pub async fn run(state: AppState, every: Duration) {
    let mut interval = tokio::time::interval(every);
    loop {
        interval.tick().await;
        let now = state.now();
        let result = state
            .db
            .run(move |conn| {
                let flows = crate::login::repo::purge_expired(conn, now)?;
                let sessions = crate::sessions::repo::purge_ended(
                    conn,
                    now,
                    crate::sessions::service::ENDED_RETENTION_SECS,
                )?;
                Ok((flows, sessions))
            })
            .await;
        match result {
            Ok((flows, sessions)) => {
                tracing::debug!(flows, sessions, "janitor pass");
            }
            Err(e) => tracing::warn!(error = %e, "janitor pass failed"),
        }
    }
}
