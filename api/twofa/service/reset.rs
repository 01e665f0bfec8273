//! Resetting a user's second factor, by an admin (the API) or by support
//! (the operator CLI): every factor goes, enrollment is required at the
//! next login, and every session and login in progress of the user ends,
//! so whoever held the old factor or a session keeps nothing.

use std::net::IpAddr;

use crate::audit::detail::TwofaReset;
use crate::audit::Detail;
use crate::audit::{self, kind, Actor, Event};
use crate::db::DbConn;
use crate::error::ApiError;
use crate::twofa::repo;
use crate::users::User;

/// What a reset did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reset {
    /// Whether the user had a factor (or an enrollment in progress) to remove.
    pub factors_removed: bool,
    pub sessions_revoked: usize,
}

impl Reset {
    /// Whether the reset changed anything for `user` as they were before
    /// it: a second reset of a user already pending changes nothing.
    pub fn changed(&self, user: &User) -> bool {
        self.factors_removed || self.sessions_revoked > 0 || !user.twofa_required
    }
}

/// Removes every second factor of `user`, requires enrollment at next
/// login, and ends every session and login in progress of theirs. Runs
/// inside the caller's transaction.
pub fn reset(
    conn: &mut DbConn,
    user: &User,
    actor: Actor,
    ip: Option<IpAddr>,
    now: i64,
) -> Result<Reset, ApiError> {
    // Before anything is read or removed: an enrollment being confirmed
    // right now either commits first (and is removed here) or waits and
    // finds nothing left to confirm.
    crate::users::repo::lock(conn, &user.id)?;
    let removed = repo::remove_all(conn, &user.id)?;
    repo::require_enrollment(conn, &user.id)?;
    crate::login::repo::delete_for_user(conn, &user.id)?;
    let revoked = crate::sessions::repo::revoke_for_user(
        conn,
        &user.id,
        crate::sessions::repo::Which::All,
        None,
        "twofa_reset",
        now,
    )?;
    crate::devices::service::end_all(
        conn,
        &user.account_id,
        &user.id,
        actor.clone(),
        crate::audit::detail::ForgetReason::TwofaReset,
        ip.map(|ip| ip.to_string()),
        now,
    )?;
    audit::record(
        conn,
        Event {
            account_id: &user.account_id,
            actor,
            subject_user_id: Some(&user.id),
            kind: kind::TWOFA_RESET,
            ip: ip.map(|ip| ip.to_string()),
            detail: Detail::TwofaReset(TwofaReset {
                factors_removed: removed,
                sessions_revoked: revoked,
            }),
        },
        now,
    )?;
    Ok(Reset {
        factors_removed: removed,
        sessions_revoked: revoked,
    })
}

/// What `users reset-2fa` prints.
#[derive(Debug, serde::Serialize)]
pub struct ResetDone {
    pub user_id: crate::ids::UserId,
    pub email: String,
    pub sessions_revoked: usize,
}

/// The support path: reset by email from the operator CLI.
pub fn reset_by_email(conn: &mut DbConn, email: &str, now: i64) -> Result<ResetDone, ApiError> {
    let keys = crate::users::identity::lookup_keys("email", email)?;
    crate::db::write_tx(conn, |conn| {
        let user = crate::users::repo::find_by_any_email(conn, &keys)?.ok_or(ApiError::NotFound)?;
        let done = reset(conn, &user, Actor::Cli, None, now)?;
        Ok(ResetDone {
            user_id: user.id,
            email: user.email,
            sessions_revoked: done.sessions_revoked,
        })
    })
}
