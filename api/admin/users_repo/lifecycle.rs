//! SQL of taking a user off the account: marking them deactivated (or
//! active again) and removing them. Each write is conditional, so of two
//! racing requests one changes the row and the other sees it changed.

use diesel::prelude::*;

use crate::db::schema::{password_failures, users};
use crate::db::DbConn;
use crate::error::ApiError;
use crate::ids::UserId;

/// Marks an active user deactivated at `now`; whether it was active.
pub fn deactivate(conn: &mut DbConn, id: &UserId, now: i64) -> Result<bool, ApiError> {
    let changed = crate::db::update(
        users::table
            .filter(users::id.eq(id))
            .filter(users::deactivated_at.is_null()),
    )
    .set(users::deactivated_at.eq(now))
    .execute(conn)?;
    Ok(changed == 1)
}

/// Makes a deactivated user active; whether it was deactivated.
pub fn reactivate(conn: &mut DbConn, id: &UserId) -> Result<bool, ApiError> {
    let changed = crate::db::update(
        users::table
            .filter(users::id.eq(id))
            .filter(users::deactivated_at.is_not_null()),
    )
    .set(users::deactivated_at.eq(None::<i64>))
    .execute(conn)?;
    Ok(changed == 1)
}

/// Removes the user row. Their factors, WebAuthn credentials, sessions
/// (with refresh tokens), login flows, pending enrollments and known
/// addresses go with it (foreign keys `ON DELETE CASCADE`); the password
/// back-off, keyed by id without a foreign key, is removed here. Audit
/// events keep the id: they have no foreign key to users.
///
/// The email is free afterwards: within the account, and as the address
/// that signs in (`email_owner`), so the next user created with it owns it.
/// Other accounts' users that were added with the address while this one
/// owned it stay as they are: promoting one of them here would hand the
/// sign-in to whichever tenant added the address first.
pub fn delete(conn: &mut DbConn, id: &UserId) -> Result<bool, ApiError> {
    diesel::delete(password_failures::table.filter(password_failures::user_id.eq(id)))
        .execute(conn)?;
    let removed = diesel::delete(users::table.filter(users::id.eq(id))).execute(conn)?;
    Ok(removed == 1)
}
