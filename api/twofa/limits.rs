//! Limits on wrong second-factor codes (and wrong passwords per address).
//!
//! Three counters, all in the database so every instance shares them:
//! - per flow: a login flow dies after [`FLOW_ATTEMPTS`] wrong answers;
//! - per user: [`USER_FAILURES`] consecutive wrong codes lock the second
//!   factor for 15 minutes, doubling with each lock in a row (capped at a
//!   day); a right code during a lock is still refused;
//! - per client address: a fixed window of failures across all users,
//!   against credential spraying; IPv6 clients count by their /64
//!   ([`crate::net::address_bucket`]).

use diesel::prelude::*;

use crate::db::schema::{client_failures, users};
use crate::db::{is_unique_violation, DbConn};
use crate::error::ApiError;

pub const FLOW_ATTEMPTS: i32 = 5;
pub const USER_FAILURES: i32 = 10;
pub const BASE_LOCK_SECS: i64 = 15 * 60;
pub const MAX_LOCK_SECS: i64 = 24 * 60 * 60;
pub const ADDRESS_WINDOW_SECS: i64 = 15 * 60;

/// Refuses with 429 while the user's second factor is locked.
pub fn check_user(conn: &mut DbConn, user_id: &str, now: i64) -> Result<(), ApiError> {
    let locked_until: Option<i64> = users::table
        .find(user_id)
        .select(users::mfa_locked_until)
        .first(conn)
        .optional()?
        .flatten();
    match locked_until {
        Some(until) if until > now => Err(ApiError::TooManyAttempts {
            retry_after: u64::try_from(until - now).unwrap_or(1),
        }),
        _ => Ok(()),
    }
}

/// Refuses with 429 while the address has used up its window.
pub fn check_address(conn: &mut DbConn, ip: &str, limit: i32, now: i64) -> Result<(), ApiError> {
    let ip = &crate::net::address_bucket(ip);
    let row: Option<(i64, i32)> = client_failures::table
        .find(ip)
        .select((client_failures::window_start, client_failures::failures))
        .first(conn)
        .optional()?;
    match row {
        Some((start, failures)) if start + ADDRESS_WINDOW_SECS > now && failures >= limit => {
            Err(ApiError::TooManyAttempts {
                retry_after: u64::try_from(start + ADDRESS_WINDOW_SECS - now).unwrap_or(1),
            })
        }
        _ => Ok(()),
    }
}

/// Counts a wrong code against the user; returns the lock's end when this
/// failure started one.
pub fn user_failed(conn: &mut DbConn, user_id: &str, now: i64) -> Result<Option<i64>, ApiError> {
    diesel::update(users::table.find(user_id))
        .set(users::mfa_failures.eq(users::mfa_failures + 1))
        .execute(conn)?;
    let (failures, lockouts): (i32, i32) = users::table
        .find(user_id)
        .select((users::mfa_failures, users::mfa_lockouts))
        .first(conn)?;
    if failures < USER_FAILURES {
        return Ok(None);
    }
    let shift = u32::try_from(lockouts.clamp(0, 16)).unwrap_or(16);
    let seconds = BASE_LOCK_SECS
        .saturating_mul(1_i64 << shift)
        .min(MAX_LOCK_SECS);
    let until = now + seconds;
    // Conditional, so two concurrent tenth failures lock once.
    let locked = diesel::update(
        users::table
            .filter(users::id.eq(user_id))
            .filter(users::mfa_failures.ge(USER_FAILURES)),
    )
    .set((
        users::mfa_failures.eq(0),
        users::mfa_lockouts.eq(users::mfa_lockouts + 1),
        users::mfa_locked_until.eq(until),
    ))
    .execute(conn)?;
    Ok((locked == 1).then_some(until))
}

/// A right code ends the run of failures and the doubling.
pub fn user_succeeded(conn: &mut DbConn, user_id: &str) -> Result<(), ApiError> {
    diesel::update(users::table.find(user_id))
        .set((
            users::mfa_failures.eq(0),
            users::mfa_lockouts.eq(0),
            users::mfa_locked_until.eq(None::<i64>),
        ))
        .execute(conn)?;
    Ok(())
}

/// Counts a failure against a client address. Runs as single statements
/// (not inside a transaction): a lost insert race is retried as an update.
pub fn address_failed(conn: &mut DbConn, ip: &str, now: i64) -> Result<(), ApiError> {
    let ip = &crate::net::address_bucket(ip);
    for _ in 0..3 {
        let counted = diesel::update(
            client_failures::table
                .filter(client_failures::ip.eq(ip))
                .filter(client_failures::window_start.gt(now - ADDRESS_WINDOW_SECS)),
        )
        .set(client_failures::failures.eq(client_failures::failures + 1))
        .execute(conn)?;
        if counted == 1 {
            return Ok(());
        }
        // No current window: start one.
        diesel::delete(
            client_failures::table
                .filter(client_failures::ip.eq(ip))
                .filter(client_failures::window_start.le(now - ADDRESS_WINDOW_SECS)),
        )
        .execute(conn)?;
        match diesel::insert_into(client_failures::table)
            .values((
                client_failures::ip.eq(ip),
                client_failures::window_start.eq(now),
                client_failures::failures.eq(1),
            ))
            .execute(conn)
        {
            Ok(_) => return Ok(()),
            Err(e) if is_unique_violation(&e) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Deletes address counters whose window ended before `now`.
pub fn purge_ended_windows(conn: &mut DbConn, now: i64) -> Result<usize, ApiError> {
    Ok(diesel::delete(
        client_failures::table.filter(client_failures::window_start.le(now - ADDRESS_WINDOW_SECS)),
    )
    .execute(conn)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_doubles_and_is_capped() {
        let lock = |lockouts: i32| {
            let shift = u32::try_from(lockouts.clamp(0, 16)).unwrap_or(16);
            BASE_LOCK_SECS
                .saturating_mul(1_i64 << shift)
                .min(MAX_LOCK_SECS)
        };
        assert_eq!(lock(0), 900);
        assert_eq!(lock(1), 1800);
        assert_eq!(lock(2), 3600);
        assert_eq!(lock(10), MAX_LOCK_SECS);
    }
}
