//! SQL of the attempt counters. Every reservation is one conditional
//! UPDATE (or an INSERT that ignores a row already there): the database,
//! not a read followed by a write, decides whether one more attempt fits.
//! Inserts never fail on a race, because callers run inside a transaction
//! that a unique violation would abort on PostgreSQL.

use diesel::prelude::*;

use crate::db::schema::{client_failures, known_addresses, login_flows, password_failures, users};
use crate::db::DbConn;
use crate::error::ApiError;

/// One more attempt on a flow, if it has fewer than `limit` so far.
pub fn reserve_flow(conn: &mut DbConn, flow_id: &str, limit: i32) -> Result<bool, ApiError> {
    let n = diesel::update(
        login_flows::table
            .filter(login_flows::id.eq(flow_id))
            .filter(login_flows::failed_attempts.lt(limit)),
    )
    .set(login_flows::failed_attempts.eq(login_flows::failed_attempts + 1))
    .execute(conn)?;
    Ok(n == 1)
}

pub fn flow_attempts(conn: &mut DbConn, flow_id: &str) -> Result<Option<i32>, ApiError> {
    Ok(login_flows::table
        .find(flow_id)
        .select(login_flows::failed_attempts)
        .first(conn)
        .optional()?)
}

/// A user's counter: consecutive failures, locks in a row, lock end.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counter {
    pub failures: i32,
    pub lockouts: i32,
    pub locked_until: Option<i64>,
}

/// Which per-user counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserCounter {
    /// Wrong one-time codes, recovery codes and passkey assertions
    /// (`users.mfa_*`).
    SecondFactor,
    /// Wrong passwords (`password_failures`).
    Password,
}

/// One more attempt for the user, unless locked or `limit` are counted.
pub fn reserve_user(
    conn: &mut DbConn,
    which: UserCounter,
    user_id: &str,
    limit: i32,
    now: i64,
) -> Result<bool, ApiError> {
    let n = match which {
        UserCounter::SecondFactor => diesel::update(
            users::table
                .filter(users::id.eq(user_id))
                .filter(users::mfa_failures.lt(limit))
                .filter(
                    users::mfa_locked_until
                        .is_null()
                        .or(users::mfa_locked_until.le(now)),
                ),
        )
        .set(users::mfa_failures.eq(users::mfa_failures + 1))
        .execute(conn)?,
        UserCounter::Password => {
            let reserve = |conn: &mut DbConn| {
                diesel::update(
                    password_failures::table
                        .filter(password_failures::user_id.eq(user_id))
                        .filter(password_failures::failures.lt(limit))
                        .filter(
                            password_failures::locked_until
                                .is_null()
                                .or(password_failures::locked_until.le(now)),
                        ),
                )
                .set(password_failures::failures.eq(password_failures::failures + 1))
                .execute(conn)
            };
            match reserve(conn)? {
                // No row yet (a first failure), or full.
                0 => {
                    let created = crate::on_backend!(conn, |c| {
                        diesel::insert_into(password_failures::table)
                            .values((
                                password_failures::user_id.eq(user_id),
                                password_failures::failures.eq(1),
                                password_failures::lockouts.eq(0),
                            ))
                            .on_conflict_do_nothing()
                            .execute(c)
                    })?;
                    if created == 1 {
                        1
                    } else {
                        reserve(conn)?
                    }
                }
                n => n,
            }
        }
    };
    Ok(n == 1)
}

pub fn user_counter(
    conn: &mut DbConn,
    which: UserCounter,
    user_id: &str,
) -> Result<Counter, ApiError> {
    let row: Option<(i32, i32, Option<i64>)> = match which {
        UserCounter::SecondFactor => users::table
            .find(user_id)
            .select((
                users::mfa_failures,
                users::mfa_lockouts,
                users::mfa_locked_until,
            ))
            .first(conn)
            .optional()?,
        UserCounter::Password => password_failures::table
            .find(user_id)
            .select((
                password_failures::failures,
                password_failures::lockouts,
                password_failures::locked_until,
            ))
            .first(conn)
            .optional()?,
    };
    Ok(
        row.map_or_else(Counter::default, |(failures, lockouts, locked_until)| {
            Counter {
                failures,
                lockouts,
                locked_until,
            }
        }),
    )
}

/// Starts a lock if `seen` is still the counter's state (so two concurrent
/// last failures lock once); `true` when this call locked.
pub fn lock_user(
    conn: &mut DbConn,
    which: UserCounter,
    user_id: &str,
    seen: Counter,
    until: i64,
) -> Result<bool, ApiError> {
    let n = match which {
        UserCounter::SecondFactor => diesel::update(
            users::table
                .filter(users::id.eq(user_id))
                .filter(users::mfa_failures.eq(seen.failures))
                .filter(users::mfa_lockouts.eq(seen.lockouts)),
        )
        .set((
            users::mfa_failures.eq(0),
            users::mfa_lockouts.eq(seen.lockouts + 1),
            users::mfa_locked_until.eq(until),
        ))
        .execute(conn)?,
        UserCounter::Password => diesel::update(
            password_failures::table
                .filter(password_failures::user_id.eq(user_id))
                .filter(password_failures::failures.eq(seen.failures))
                .filter(password_failures::lockouts.eq(seen.lockouts)),
        )
        .set((
            password_failures::failures.eq(0),
            password_failures::lockouts.eq(seen.lockouts + 1),
            password_failures::locked_until.eq(until),
        ))
        .execute(conn)?,
    };
    Ok(n == 1)
}

/// Gives back one reserved attempt that turned out not to be a failure.
pub fn release_user(conn: &mut DbConn, which: UserCounter, user_id: &str) -> Result<(), ApiError> {
    match which {
        UserCounter::SecondFactor => diesel::update(
            users::table
                .filter(users::id.eq(user_id))
                .filter(users::mfa_failures.gt(0)),
        )
        .set(users::mfa_failures.eq(users::mfa_failures - 1))
        .execute(conn)?,
        UserCounter::Password => diesel::update(
            password_failures::table
                .filter(password_failures::user_id.eq(user_id))
                .filter(password_failures::failures.gt(0)),
        )
        .set(password_failures::failures.eq(password_failures::failures - 1))
        .execute(conn)?,
    };
    Ok(())
}

/// A success ends the run of failures and the doubling.
pub fn reset_user(conn: &mut DbConn, which: UserCounter, user_id: &str) -> Result<(), ApiError> {
    match which {
        UserCounter::SecondFactor => diesel::update(users::table.find(user_id))
            .set((
                users::mfa_failures.eq(0),
                users::mfa_lockouts.eq(0),
                users::mfa_locked_until.eq(None::<i64>),
            ))
            .execute(conn)?,
        UserCounter::Password => {
            diesel::delete(password_failures::table.find(user_id)).execute(conn)?
        }
    };
    Ok(())
}

/// Marks a password failure as audited unless one was in the last
/// `every` seconds; `true` when the caller should write the event.
pub fn claim_password_audit(
    conn: &mut DbConn,
    user_id: &str,
    every: i64,
    now: i64,
) -> Result<bool, ApiError> {
    // A failure from a known address reserves nothing, so there may be no row.
    crate::on_backend!(conn, |c| {
        diesel::insert_into(password_failures::table)
            .values((
                password_failures::user_id.eq(user_id),
                password_failures::failures.eq(0),
                password_failures::lockouts.eq(0),
            ))
            .on_conflict_do_nothing()
            .execute(c)
    })?;
    let n = diesel::update(
        password_failures::table
            .filter(password_failures::user_id.eq(user_id))
            .filter(
                password_failures::audited_at
                    .is_null()
                    .or(password_failures::audited_at.le(now - every)),
            ),
    )
    .set(password_failures::audited_at.eq(now))
    .execute(conn)?;
    Ok(n == 1)
}

/// One more attempt from an address in its current window, if fewer than
/// `limit` so far. `Ok(Err(retry_after))` when the window is used up.
pub fn reserve_address(
    conn: &mut DbConn,
    address: &str,
    limit: i32,
    window: i64,
    now: i64,
) -> Result<Result<(), i64>, ApiError> {
    for _ in 0..5 {
        let counted = diesel::update(
            client_failures::table
                .filter(client_failures::ip.eq(address))
                .filter(client_failures::window_start.gt(now - window))
                .filter(client_failures::failures.lt(limit)),
        )
        .set(client_failures::failures.eq(client_failures::failures + 1))
        .execute(conn)?;
        if counted == 1 {
            return Ok(Ok(()));
        }
        let row: Option<(i64, i32)> = client_failures::table
            .find(address)
            .select((client_failures::window_start, client_failures::failures))
            .first(conn)
            .optional()?;
        let started = match row {
            Some((start, failures)) if start > now - window => {
                if failures >= limit {
                    return Ok(Err(start + window - now));
                }
                // Another request started a new window between the two
                // statements: count in it.
                continue;
            }
            // The window ended: a new one starts in its place.
            Some(_) => diesel::update(
                client_failures::table
                    .filter(client_failures::ip.eq(address))
                    .filter(client_failures::window_start.le(now - window)),
            )
            .set((
                client_failures::window_start.eq(now),
                client_failures::failures.eq(1),
            ))
            .execute(conn)?,
            None => crate::on_backend!(conn, |c| {
                diesel::insert_into(client_failures::table)
                    .values((
                        client_failures::ip.eq(address),
                        client_failures::window_start.eq(now),
                        client_failures::failures.eq(1),
                    ))
                    .on_conflict_do_nothing()
                    .execute(c)
            })?,
        };
        if started == 1 {
            return Ok(Ok(()));
        }
    }
    // The window kept being replaced under us: too busy to count now.
    Ok(Err(1))
}

pub fn release_address(conn: &mut DbConn, address: &str) -> Result<(), ApiError> {
    diesel::update(
        client_failures::table
            .filter(client_failures::ip.eq(address))
            .filter(client_failures::failures.gt(0)),
    )
    .set(client_failures::failures.eq(client_failures::failures - 1))
    .execute(conn)?;
    Ok(())
}

/// Deletes address counters whose window ended before `now`.
pub fn purge_ended_windows(conn: &mut DbConn, window: i64, now: i64) -> Result<usize, ApiError> {
    Ok(diesel::delete(
        client_failures::table.filter(client_failures::window_start.le(now - window)),
    )
    .execute(conn)?)
}

pub fn is_known_address(
    conn: &mut DbConn,
    user_id: &str,
    address: &str,
    since: i64,
) -> Result<bool, ApiError> {
    Ok(diesel::select(diesel::dsl::exists(
        known_addresses::table
            .filter(known_addresses::user_id.eq(user_id))
            .filter(known_addresses::address.eq(address))
            .filter(known_addresses::last_success_at.gt(since)),
    ))
    .get_result(conn)?)
}

pub fn remember_address(
    conn: &mut DbConn,
    user_id: &str,
    address: &str,
    now: i64,
) -> Result<(), ApiError> {
    crate::on_backend!(conn, |c| {
        diesel::insert_into(known_addresses::table)
            .values((
                known_addresses::user_id.eq(user_id),
                known_addresses::address.eq(address),
                known_addresses::last_success_at.eq(now),
            ))
            .on_conflict((known_addresses::user_id, known_addresses::address))
            .do_update()
            .set(known_addresses::last_success_at.eq(now))
            .execute(c)
    })?;
    Ok(())
}

pub fn purge_known_addresses(conn: &mut DbConn, before: i64) -> Result<usize, ApiError> {
    Ok(
        diesel::delete(known_addresses::table.filter(known_addresses::last_success_at.le(before)))
            .execute(conn)?,
    )
}
