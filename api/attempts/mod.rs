//! Attempt limits on every guessable secret: passwords, one-time codes,
//! recovery codes and passkey assertions.
//!
//! Count, then tell: an attempt is counted by one conditional write before
//! its outcome can be known from the answer, and refused when the counter
//! is full, so parallel requests and several instances together learn no
//! more outcomes than the limits allow (checking first and counting a
//! failure afterwards let 200 parallel guesses all be judged). A password
//! is reserved before it is verified, and settled once verified: a failure
//! stays counted and may start a lock; a success gives the reservation
//! back. The app's code is cheap to check, so it is checked first and
//! counted with its verdict by the same statements (`reserve.rs`).
//!
//! Counters, all in the database:
//! - per flow: [`FLOW_ATTEMPTS`] tries a step; the answer that uses up the
//!   last one is 429 `too_many_attempts` telling the user to start again;
//! - per user and second factor: [`USER_FAILURES`] consecutive failures lock
//!   the second factor for 15 minutes, doubling with each lock in a row
//!   (capped at a day); a right code during a lock is still refused;
//! - per user and password: [`PASSWORD_FAILURES`] consecutive wrong
//!   passwords start the same doubling back-off, except from an address
//!   where the user completed a login in the last [`KNOWN_ADDRESS_SECS`]
//!   (guessing from elsewhere cannot lock a user out where they work);
//! - per client address (IPv6 by /64): a fixed window of failures across
//!   all users, against credential spraying.

pub mod repo;
mod reserve;

pub use repo::UserCounter;
pub use reserve::{count_checked_in_tx, count_flow_try, reserve, Counted};

use std::net::IpAddr;

use crate::db::DbConn;
use crate::error::ApiError;
use crate::ids::{FlowId, UserId};
use crate::net::address_bucket;

/// Tries at one step of one login flow.
pub const FLOW_ATTEMPTS: i32 = 5;
/// Consecutive wrong second factors before the second factor locks.
pub const USER_FAILURES: i32 = 10;
/// Consecutive wrong passwords before the password step backs off.
pub const PASSWORD_FAILURES: i32 = 10;
pub const BASE_LOCK_SECS: i64 = 15 * 60;
pub const MAX_LOCK_SECS: i64 = 24 * 60 * 60;
pub const ADDRESS_WINDOW_SECS: i64 = 15 * 60;
/// How long a completed login makes its address "known" for the user.
pub const KNOWN_ADDRESS_SECS: i64 = 30 * 24 * 60 * 60;
/// A login from an address recorded as known less than this long ago need
/// not record it again (see [`address_still_known`]).
pub const KNOWN_ADDRESS_REFRESH_SECS: i64 = 24 * 60 * 60;
/// At most one `login.failed` event for wrong passwords per user this often
/// (a back-off is always recorded).
pub const PASSWORD_AUDIT_EVERY_SECS: i64 = 60;

/// How long the lock after `lockouts` locks in a row lasts.
pub fn lock_secs(lockouts: i32) -> i64 {
    let shift = u32::try_from(lockouts.clamp(0, 16)).unwrap_or(16);
    BASE_LOCK_SECS
        .saturating_mul(1_i64 << shift)
        .min(MAX_LOCK_SECS)
}

fn limit_of(which: UserCounter) -> i32 {
    match which {
        UserCounter::SecondFactor => USER_FAILURES,
        UserCounter::Password => PASSWORD_FAILURES,
    }
}

/// What one attempt reserved, to be settled once it is verified.
#[derive(Debug, Clone)]
#[must_use = "an attempt must be settled with failed, succeeded or refused"]
pub struct Attempt {
    flow: Option<FlowId>,
    user: Option<(UserCounter, UserId)>,
    address: String,
}

/// How a failed attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failure {
    /// This failure locked the user's counter until then.
    pub locked_until: Option<i64>,
    /// Consecutive failures of the user's counter so far.
    pub consecutive: i32,
    /// The flow has no tries left.
    pub flow_exhausted: bool,
}

impl Failure {
    /// The answer for this failure: the lock, the flow's end, or `wrong`.
    pub fn answer(&self, wrong: ApiError, now: i64) -> ApiError {
        if let Some(until) = self.locked_until {
            return ApiError::TooManyAttempts {
                retry_after: u64::try_from(until - now).unwrap_or(1),
            };
        }
        if self.flow_exhausted {
            return ApiError::FlowAttemptsExhausted;
        }
        wrong
    }
}

impl Attempt {
    /// The secret was wrong: the reservation stays counted, and the user's
    /// counter locks when it is full.
    pub fn failed(self, conn: &mut DbConn, now: i64) -> Result<Failure, ApiError> {
        let mut failure = Failure {
            locked_until: None,
            consecutive: 0,
            flow_exhausted: false,
        };
        if let Some(flow_id) = &self.flow {
            failure.flow_exhausted = repo::flow_attempts(conn, flow_id)?
                .is_none_or(|attempts| attempts >= FLOW_ATTEMPTS);
        }
        if let Some((which, user_id)) = &self.user {
            let seen = repo::user_counter(conn, *which, user_id)?;
            failure.consecutive = seen.failures;
            if seen.failures >= limit_of(*which) {
                let until = now + lock_secs(seen.lockouts);
                if repo::lock_user(conn, *which, user_id, seen, until)? {
                    failure.locked_until = Some(until);
                }
            }
        }
        Ok(failure)
    }

    /// The secret was right: the address gets its try back and the user's
    /// run of failures ends.
    pub fn succeeded(self, conn: &mut DbConn) -> Result<(), ApiError> {
        if let Some((which, user_id)) = &self.user {
            repo::reset_user(conn, *which, user_id)?;
        }
        // Last: every request from the address updates this row, so a
        // transaction should hold it only for its final statement.
        repo::release_address(conn, &self.address)
    }

    /// A second factor verified, but not yet used (its TOTP step is claimed,
    /// its recovery code spent, in the transaction that acts on it): the
    /// reservation is given back without ending the run of failures, so a
    /// right but already used code cannot clear a lock. The run ends where
    /// the factor is used ([`repo::reset_user`]).
    pub fn verified(self, conn: &mut DbConn) -> Result<(), ApiError> {
        repo::release_address(conn, &self.address)?;
        if let Some((which, user_id)) = &self.user {
            repo::release_user(conn, *which, user_id)?;
        }
        Ok(())
    }

    /// Refused for another reason (the IP allow-list) after the secret was
    /// checked: the try still counts against the flow and the address, and
    /// against the user only when the secret was wrong.
    pub fn refused(
        self,
        conn: &mut DbConn,
        secret_was_right: bool,
        now: i64,
    ) -> Result<(), ApiError> {
        if !secret_was_right {
            return self.failed(conn, now).map(|_| ());
        }
        if let Some((which, user_id)) = &self.user {
            repo::release_user(conn, *which, user_id)?;
        }
        Ok(())
    }
}

/// Whether the user's second factor is locked now (ten wrong in a row).
pub fn second_factor_locked(
    conn: &mut DbConn,
    user_id: &UserId,
    now: i64,
) -> Result<bool, ApiError> {
    let counter = repo::user_counter(conn, UserCounter::SecondFactor, user_id)?;
    Ok(counter.locked_until.is_some_and(|until| until > now))
}

/// Counts a failure against the client address alone, like a wrong
/// password: a device token that is not trusted. Its answer does not
/// change (the caller answers as without the token); the address limit
/// then refuses the address's next tries.
pub fn address_failure(
    conn: &mut DbConn,
    ip: IpAddr,
    limit: i32,
    now: i64,
) -> Result<(), ApiError> {
    let address = address_bucket(&ip.to_string());
    // Over the limit already: the next try is refused when it reserves.
    let _ = repo::reserve_address(conn, &address, limit, ADDRESS_WINDOW_SECS, 1, now)?;
    Ok(())
}

/// Whether an address the user completed a login from at `seen_at` (the
/// last time it was recorded) is known: wrong passwords from there start
/// no back-off (see the module doc).
pub fn address_known(seen_at: Option<i64>, now: i64) -> bool {
    seen_at.is_some_and(|at| at > now - KNOWN_ADDRESS_SECS)
}

/// Whether an address the user completed a login from at `seen_at` (the
/// last time it was recorded) is recent enough to leave as it is: then it
/// stays known for at least [`KNOWN_ADDRESS_SECS`] less a day, and a user
/// signing in from the usual place writes no row for it.
pub fn address_still_known(seen_at: Option<i64>, now: i64) -> bool {
    seen_at.is_some_and(|at| at > now - KNOWN_ADDRESS_REFRESH_SECS)
}

/// A completed login: its address becomes known for the user.
pub fn login_completed(
    conn: &mut DbConn,
    user_id: &UserId,
    ip: IpAddr,
    now: i64,
) -> Result<(), ApiError> {
    repo::remember_address(conn, user_id, &address_bucket(&ip.to_string()), now)
}

/// Deletes counters and known addresses that no longer matter.
pub fn purge(conn: &mut DbConn, now: i64) -> Result<usize, ApiError> {
    Ok(repo::purge_ended_windows(conn, ADDRESS_WINDOW_SECS, now)?
        + repo::purge_known_addresses(conn, now - KNOWN_ADDRESS_SECS)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_seen_within_a_day_is_not_recorded_again() {
        let now = 100 * KNOWN_ADDRESS_REFRESH_SECS;
        assert!(address_still_known(Some(now - 60), now));
        assert!(!address_still_known(
            Some(now - KNOWN_ADDRESS_REFRESH_SECS),
            now
        ));
        assert!(!address_still_known(None, now));
    }

    #[test]
    fn lock_doubles_and_is_capped() {
        assert_eq!(lock_secs(0), 900);
        assert_eq!(lock_secs(1), 1800);
        assert_eq!(lock_secs(2), 3600);
        assert_eq!(lock_secs(10), MAX_LOCK_SECS);
    }
}
