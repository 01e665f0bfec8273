//! The per-address counters: failures from one client address (bucket) in
//! a fixed window, across all users, against credential spraying; and the
//! addresses where a user completed a login lately, from which wrong
//! passwords do not start a back-off.

use diesel::prelude::*;

use crate::db::schema::{client_failures, known_addresses};
use crate::db::DbConn;
use crate::error::ApiError;
use crate::ids::UserId;

/// One more attempt from an address in its current window, if fewer than
/// `limit` so far. `Ok(Err(retry_after))` when the window is used up.
/// `counts` is what the attempt adds to the window: 1, or 0 for a secret
/// already known right, which is refused alike by the same statements
/// when the window is full.
pub fn reserve_address(
    conn: &mut DbConn,
    address: &str,
    limit: i32,
    window: i64,
    counts: i32,
    now: i64,
) -> Result<Result<(), i64>, ApiError> {
    for _ in 0..5 {
        let counted = crate::db::update(
            client_failures::table
                .filter(client_failures::ip.eq(address))
                .filter(client_failures::window_start.gt(now - window))
                .filter(client_failures::failures.lt(limit)),
        )
        .set(client_failures::failures.eq(client_failures::failures + counts))
        .execute(conn)?;
        if counted == 1 {
            return Ok(Ok(()));
        }
        let row: Option<(i64, i32)> = client_failures::table
            .find(address)
            .select((client_failures::window_start, client_failures::failures))
            .get_result(conn)
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
            Some(_) => crate::db::update(
                client_failures::table
                    .filter(client_failures::ip.eq(address))
                    .filter(client_failures::window_start.le(now - window)),
            )
            .set((
                client_failures::window_start.eq(now),
                client_failures::failures.eq(counts),
            ))
            .execute(conn)?,
            None => crate::on_backend!(conn, |c| {
                diesel::insert_into(client_failures::table)
                    .values((
                        client_failures::ip.eq(address),
                        client_failures::window_start.eq(now),
                        client_failures::failures.eq(counts),
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
    crate::db::update(
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

pub fn remember_address(
    conn: &mut DbConn,
    user_id: &UserId,
    address: &str,
    now: i64,
) -> Result<(), ApiError> {
    crate::db::upsert(
        diesel::insert_into(known_addresses::table).values((
            known_addresses::user_id.eq(user_id),
            known_addresses::address.eq(address),
            known_addresses::last_success_at.eq(now),
        )),
        (known_addresses::user_id, known_addresses::address),
        known_addresses::last_success_at.eq(now),
    )
    .execute(conn)?;
    Ok(())
}

pub fn purge_known_addresses(conn: &mut DbConn, before: i64) -> Result<usize, ApiError> {
    Ok(
        diesel::delete(known_addresses::table.filter(known_addresses::last_success_at.le(before)))
            .execute(conn)?,
    )
}
