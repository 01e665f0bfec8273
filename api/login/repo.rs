//! SQL for login flows.

use diesel::prelude::*;

use crate::db::schema::login_flows;
use crate::db::DbConn;
use crate::error::ApiError;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = login_flows)]
pub struct Flow {
    pub id: String,
    pub token_hash: String,
    pub user_id: Option<String>,
    pub state: String,
    pub failed_attempts: i32,
    pub created_at: i64,
    pub expires_at: i64,
    /// The second factor passed so far (`otp` or `rcv`).
    pub second_factor: Option<String>,
    /// The address (bucket) that opened the flow.
    pub client_address: Option<String>,
    /// For an email no user has: the key its wrong passwords count under.
    pub unknown_subject: Option<String>,
}

/// Opens `flow` unless its address already holds `limit` open flows; then
/// `Err(retry_after)`, when its oldest open flow expires. Insert first, then
/// count, as single statements: requests racing past the limit each see
/// the others' rows and withdraw their own, so the limit holds across
/// instances.
pub fn insert_bounded(
    conn: &mut DbConn,
    flow: &Flow,
    limit: i64,
    now: i64,
) -> Result<Result<(), i64>, ApiError> {
    let address = flow.client_address.clone().unwrap_or_default();
    // Expired flows do not count (the janitor deletes them).
    let mine = login_flows::table.filter(login_flows::client_address.eq(&address));
    diesel::insert_into(login_flows::table)
        .values(flow)
        .execute(conn)?;
    let open: i64 = mine
        .filter(login_flows::expires_at.gt(now))
        .count()
        .get_result(conn)?;
    if open <= limit {
        return Ok(Ok(()));
    }
    diesel::delete(login_flows::table.find(&flow.id)).execute(conn)?;
    let oldest: Option<i64> = mine
        .filter(login_flows::expires_at.gt(now))
        .select(diesel::dsl::min(login_flows::expires_at))
        .first(conn)?;
    Ok(Err(oldest.map_or(1, |at| (at - now).max(1))))
}

pub fn insert(conn: &mut DbConn, flow: &Flow) -> Result<(), ApiError> {
    diesel::insert_into(login_flows::table)
        .values(flow)
        .execute(conn)?;
    Ok(())
}

/// The flow a token addresses, if it is unexpired and at `state`.
pub fn find_at(
    conn: &mut DbConn,
    token_hash: &str,
    state: &str,
    now: i64,
) -> Result<Option<Flow>, ApiError> {
    Ok(login_flows::table
        .filter(login_flows::token_hash.eq(token_hash))
        .filter(login_flows::state.eq(state))
        .filter(login_flows::expires_at.gt(now))
        .select(Flow::as_select())
        .first(conn)
        .optional()?)
}

/// Ends a flow that is still at `state`; `false` when another request got
/// there first (the single-use guarantee).
pub fn finish(conn: &mut DbConn, id: &str, state: &str) -> Result<bool, ApiError> {
    let deleted = diesel::delete(
        login_flows::table
            .filter(login_flows::id.eq(id))
            .filter(login_flows::state.eq(state)),
    )
    .execute(conn)?;
    Ok(deleted == 1)
}

/// Moves a flow from `from` to `to` under a new token, atomically: of two
/// requests advancing the same flow, one sees `true`. The failure counter
/// starts again for the new step.
pub fn advance(
    conn: &mut DbConn,
    id: &str,
    from: &str,
    to: &str,
    token_hash: &str,
    expires_at: i64,
    second_factor: Option<&str>,
) -> Result<bool, ApiError> {
    let target = login_flows::table
        .filter(login_flows::id.eq(id))
        .filter(login_flows::state.eq(from));
    let changed = match second_factor {
        Some(factor) => diesel::update(target)
            .set((
                login_flows::state.eq(to),
                login_flows::token_hash.eq(token_hash),
                login_flows::expires_at.eq(expires_at),
                login_flows::failed_attempts.eq(0),
                login_flows::second_factor.eq(factor),
            ))
            .execute(conn)?,
        None => diesel::update(target)
            .set((
                login_flows::state.eq(to),
                login_flows::token_hash.eq(token_hash),
                login_flows::expires_at.eq(expires_at),
                login_flows::failed_attempts.eq(0),
            ))
            .execute(conn)?,
    };
    Ok(changed == 1)
}

/// Ends every login in progress of a user (a password change, a reset).
pub fn delete_for_user(conn: &mut DbConn, user_id: &str) -> Result<usize, ApiError> {
    Ok(
        diesel::delete(login_flows::table.filter(login_flows::user_id.eq(user_id)))
            .execute(conn)?,
    )
}

/// Deletes flows that expired before `now`.
pub fn purge_expired(conn: &mut DbConn, now: i64) -> Result<usize, ApiError> {
    Ok(diesel::delete(login_flows::table.filter(login_flows::expires_at.le(now))).execute(conn)?)
}
