//! The per-user counters: wrong second factors (on the user row,
//! `users.mfa_*`) and wrong passwords (`password_failures`, a row only once
//! a password failed, so it may be missing). Both count consecutive
//! failures and the locks in a row that double the next lock.

use diesel::dsl::case_when;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Integer, Nullable};

use crate::db::schema::{password_failures, users};
use crate::db::DbConn;
use crate::error::ApiError;
use crate::ids::UserId;

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
/// A second factor `right` already ends the run of failures in the same
/// statement (the statement a wrong one sends, so that both are refused
/// alike while the counter is full); a password is never known right
/// before it is reserved.
pub fn reserve_user(
    conn: &mut DbConn,
    which: UserCounter,
    user_id: &UserId,
    limit: i32,
    right: bool,
    now: i64,
) -> Result<bool, ApiError> {
    let n = match which {
        UserCounter::SecondFactor => {
            let right = right.into_sql::<Bool>();
            crate::db::update(
                users::table
                    .filter(users::id.eq(user_id))
                    .filter(users::mfa_failures.lt(limit))
                    .filter(
                        users::mfa_locked_until
                            .is_null()
                            .or(users::mfa_locked_until.le(now)),
                    ),
            )
            .set((
                users::mfa_failures
                    .eq(case_when::<_, _, Integer>(right, 0).otherwise(users::mfa_failures + 1)),
                users::mfa_lockouts
                    .eq(case_when::<_, _, Integer>(right, 0).otherwise(users::mfa_lockouts)),
                users::mfa_locked_until.eq(case_when::<_, _, Nullable<BigInt>>(right, None::<i64>)
                    .otherwise(users::mfa_locked_until)),
            ))
            .execute(conn)?
        }
        UserCounter::Password => {
            debug_assert!(!right, "a password is reserved before it is verified");
            let reserve = |conn: &mut DbConn| {
                crate::db::update(
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
    user_id: &UserId,
) -> Result<Counter, ApiError> {
    let row: Option<(i32, i32, Option<i64>)> = match which {
        UserCounter::SecondFactor => users::table
            .find(user_id)
            .select((
                users::mfa_failures,
                users::mfa_lockouts,
                users::mfa_locked_until,
            ))
            .get_result(conn)
            .optional()?,
        UserCounter::Password => password_failures::table
            .find(user_id)
            .select((
                password_failures::failures,
                password_failures::lockouts,
                password_failures::locked_until,
            ))
            .get_result(conn)
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
    user_id: &UserId,
    seen: Counter,
    until: i64,
) -> Result<bool, ApiError> {
    let n = match which {
        UserCounter::SecondFactor => crate::db::update(
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
        UserCounter::Password => crate::db::update(
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
pub fn release_user(
    conn: &mut DbConn,
    which: UserCounter,
    user_id: &UserId,
) -> Result<(), ApiError> {
    match which {
        UserCounter::SecondFactor => crate::db::update(
            users::table
                .filter(users::id.eq(user_id))
                .filter(users::mfa_failures.gt(0)),
        )
        .set(users::mfa_failures.eq(users::mfa_failures - 1))
        .execute(conn)?,
        UserCounter::Password => crate::db::update(
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
pub fn reset_user(conn: &mut DbConn, which: UserCounter, user_id: &UserId) -> Result<(), ApiError> {
    match which {
        UserCounter::SecondFactor => crate::db::update(users::table.find(user_id))
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
    user_id: &UserId,
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
    let n = crate::db::update(
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
