//! SQL for users. Answers in domain terms (an email is taken); the
//! services decide what a client is told.

use diesel::prelude::*;

use super::model::User;
use crate::db::schema::users;
use crate::db::{is_unique_violation, DbConn};
use crate::error::ApiError;
use crate::ids::{AccountId, UserId};

/// What inserting a user met. A unique key on users is always an email
/// (within the account, or the one owner across accounts); ids are fresh
/// UUIDs. What a taken email means to a client is the caller's to say.
#[must_use]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Insert {
    Stored,
    EmailTaken,
}

/// Inserts a user; an email taken in the user's account, or owned by any
/// user when `user` is to own it, is [`Insert::EmailTaken`].
pub fn insert(conn: &mut DbConn, user: &User) -> Result<Insert, ApiError> {
    match diesel::insert_into(users::table).values(user).execute(conn) {
        Ok(_) => Ok(Insert::Stored),
        Err(e) if is_unique_violation(&e) => Ok(Insert::EmailTaken),
        Err(e) => Err(e.into()),
    }
}

/// Inserts a user unless a unique key is taken; whether it was inserted.
pub fn insert_unless_taken(conn: &mut DbConn, user: &User) -> Result<bool, ApiError> {
    let inserted = crate::on_backend!(conn, |c| {
        diesel::insert_into(users::table)
            .values(user)
            .on_conflict_do_nothing()
            .execute(c)
    })?;
    Ok(inserted == 1)
}

/// Who holds the email `key` already: (a user of `account_id`, the user
/// it signs in as in any account). Two indexed reads, asked both every time.
pub fn email_holders(
    conn: &mut DbConn,
    account_id: &AccountId,
    key: &str,
) -> Result<(bool, bool), ApiError> {
    let in_account = diesel::select(diesel::dsl::exists(
        users::table
            .filter(users::account_id.eq(account_id))
            .filter(users::email_normalized.eq(key)),
    ))
    .get_result(conn)?;
    let owned = diesel::select(diesel::dsl::exists(
        users::table
            .filter(users::email_normalized.eq(key))
            .filter(users::email_owner),
    ))
    .get_result(conn)?;
    Ok((in_account, owned))
}

pub fn find(conn: &mut DbConn, id: &UserId) -> Result<Option<User>, ApiError> {
    Ok(users::table
        .find(id)
        .select(User::as_select())
        .get_result(conn)
        .optional()?)
}

/// The user the first of `keys` that signs in as anyone signs in as (see
/// [`lookup_keys`](super::identity::lookup_keys)); one query either way.
pub fn find_by_any_email(conn: &mut DbConn, keys: &[String]) -> Result<Option<User>, ApiError> {
    let mut found: Vec<User> = users::table
        .filter(users::email_normalized.eq_any(keys))
        .filter(users::email_owner)
        .select(User::as_select())
        .load(conn)?;
    found.sort_by_key(|u| keys.iter().position(|k| *k == u.email_normalized));
    Ok(found.into_iter().next())
}

pub fn set_password(conn: &mut DbConn, id: &UserId, hash: &str, now: i64) -> Result<(), ApiError> {
    crate::db::update(users::table.find(id))
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
    id: &UserId,
    old_hash: &str,
    new_hash: &str,
) -> Result<bool, ApiError> {
    let n = crate::db::update(
        users::table
            .filter(users::id.eq(id))
            .filter(users::password_hash.eq(old_hash)),
    )
    .set(users::password_hash.eq(new_hash))
    .execute(conn)?;
    Ok(n == 1)
}

/// Takes the write lock on user `id`'s row until the transaction ends.
/// Every transaction that changes a user's factors, enrollments or
/// counters takes it first, so two of them on one user run one after the
/// other, each seeing what the other committed, and never deadlock on the
/// rows they touch after it. On PostgreSQL it is a row lock (`FOR NO KEY
/// UPDATE`, what an update of the row would take, without writing one); on
/// SQLite there is nothing to send, as [`write_tx`](crate::db::write_tx)'s
/// `BEGIN IMMEDIATE` already holds the whole database.
pub fn lock(conn: &mut DbConn, id: &UserId) -> Result<(), ApiError> {
    if let DbConn::Postgres(conn) = conn {
        users::table
            .find(id)
            .select(users::id)
            .for_no_key_update()
            .load::<UserId>(conn)?;
    }
    Ok(())
}

pub fn touch_login(conn: &mut DbConn, id: &UserId, now: i64) -> Result<(), ApiError> {
    crate::db::update(users::table.find(id))
        .set(users::last_login_at.eq(now))
        .execute(conn)?;
    Ok(())
}
