//! SQL for remembered devices.

use diesel::prelude::*;

use crate::db::schema::remembered_devices;
use crate::db::DbConn;
use crate::error::ApiError;
use crate::ids::UserId;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = remembered_devices)]
pub struct Device {
    pub id: String,
    pub user_id: UserId,
    pub token_hash: String,
    pub name: Option<String>,
    pub created_at: i64,
    pub last_used_at: i64,
    /// The end of the window granted; the account's current setting may
    /// end it sooner (see [`super::service::trusted_until`]).
    pub expires_at: i64,
}

pub fn insert(conn: &mut DbConn, device: &Device) -> Result<(), ApiError> {
    diesel::insert_into(remembered_devices::table)
        .values(device)
        .execute(conn)?;
    Ok(())
}

/// The device whose token hashes to `token_hash`, whoever it belongs to.
pub fn by_token(conn: &mut DbConn, token_hash: &str) -> Result<Option<Device>, ApiError> {
    Ok(remembered_devices::table
        .filter(remembered_devices::token_hash.eq(token_hash))
        .select(Device::as_select())
        .get_result(conn)
        .optional()?)
}

/// A user's devices, newest first.
pub fn of_user(conn: &mut DbConn, user_id: &UserId) -> Result<Vec<Device>, ApiError> {
    Ok(remembered_devices::table
        .filter(remembered_devices::user_id.eq(user_id))
        .order((
            remembered_devices::created_at.desc(),
            remembered_devices::id.desc(),
        ))
        .select(Device::as_select())
        .load(conn)?)
}

pub fn touch(conn: &mut DbConn, id: &str, now: i64) -> Result<(), ApiError> {
    crate::db::update(remembered_devices::table.find(id))
        .set(remembered_devices::last_used_at.eq(now))
        .execute(conn)?;
    Ok(())
}

/// Deletes one of the user's devices; `false` when there was none.
pub fn delete_one(conn: &mut DbConn, user_id: &UserId, id: &str) -> Result<bool, ApiError> {
    let deleted = diesel::delete(
        remembered_devices::table
            .filter(remembered_devices::id.eq(id))
            .filter(remembered_devices::user_id.eq(user_id)),
    )
    .execute(conn)?;
    Ok(deleted == 1)
}

/// Deletes every device of the user; how many.
pub fn delete_all(conn: &mut DbConn, user_id: &UserId) -> Result<usize, ApiError> {
    Ok(
        diesel::delete(remembered_devices::table.filter(remembered_devices::user_id.eq(user_id)))
            .execute(conn)?,
    )
}

/// Deletes the user's devices beyond the newest `keep`; how many.
pub fn delete_beyond(conn: &mut DbConn, user_id: &UserId, keep: usize) -> Result<usize, ApiError> {
    let older: Vec<String> = of_user(conn, user_id)?
        .into_iter()
        .skip(keep)
        .map(|d| d.id)
        .collect();
    if older.is_empty() {
        return Ok(0);
    }
    Ok(
        diesel::delete(remembered_devices::table.filter(remembered_devices::id.eq_any(&older)))
            .execute(conn)?,
    )
}

/// Deletes devices whose own window ended before `now`.
pub fn purge_expired(conn: &mut DbConn, now: i64) -> Result<usize, ApiError> {
    Ok(
        diesel::delete(remembered_devices::table.filter(remembered_devices::expires_at.le(now)))
            .execute(conn)?,
    )
}
