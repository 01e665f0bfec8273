//! SQL for users.

use diesel::prelude::*;

use super::model::User;
use crate::db::schema::users;
use crate::db::{is_unique_violation, DbConn};
use crate::error::ApiError;

/// Inserts a user; a taken email (case-insensitive) is a 409 `email_taken`.
pub fn insert(conn: &mut DbConn, user: &User) -> Result<(), ApiError> {
    diesel::insert_into(users::table)
        .values(user)
        .execute(conn)
        .map_err(|e| {
            if is_unique_violation(&e) {
                ApiError::Conflict {
                    code: "email_taken",
                    detail: "A user with this email already exists.".to_owned(),
                }
            } else {
                e.into()
            }
        })?;
    Ok(())
}

pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<User>, ApiError> {
    Ok(users::table
        .find(id)
        .select(User::as_select())
        .first(conn)
        .optional()?)
}

pub fn find_by_email(conn: &mut DbConn, normalized: &str) -> Result<Option<User>, ApiError> {
    Ok(users::table
        .filter(users::email_normalized.eq(normalized))
        .select(User::as_select())
        .first(conn)
        .optional()?)
}

/// The user stored under the first of `keys` that has one (see
/// [`lookup_keys`](super::identity::lookup_keys)); one query either way.
pub fn find_by_any_email(conn: &mut DbConn, keys: &[String]) -> Result<Option<User>, ApiError> {
    let mut found: Vec<User> = users::table
        .filter(users::email_normalized.eq_any(keys))
        .select(User::as_select())
        .load(conn)?;
    found.sort_by_key(|u| keys.iter().position(|k| *k == u.email_normalized));
    Ok(found.into_iter().next())
}

pub fn set_password(conn: &mut DbConn, id: &str, hash: &str, now: i64) -> Result<(), ApiError> {
    diesel::update(users::table.find(id))
        .set((
            users::password_hash.eq(hash),
            users::password_changed_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Replaces a hash made under older argon2 settings by one of the same
/// password under the current ones, unless the password changed meanwhile.
pub fn rehash_password(
    conn: &mut DbConn,
    id: &str,
    old_hash: &str,
    new_hash: &str,
) -> Result<bool, ApiError> {
    let n = diesel::update(
        users::table
            .filter(users::id.eq(id))
            .filter(users::password_hash.eq(old_hash)),
    )
    .set(users::password_hash.eq(new_hash))
    .execute(conn)?;
    Ok(n == 1)
}

pub fn touch_login(conn: &mut DbConn, id: &str, now: i64) -> Result<(), ApiError> {
    diesel::update(users::table.find(id))
        .set(users::last_login_at.eq(now))
        .execute(conn)?;
    Ok(())
}
