//! SQL of the admin user list and of users within one account; taking a
//! user off the account is in [`lifecycle`].

pub mod lifecycle;

use std::collections::HashMap;

use diesel::prelude::*;

use crate::db::schema::{recovery_codes, totp_authenticators, users};
use crate::db::{DbConn, MultiBackend};
use crate::error::ApiError;
use crate::ids::{AccountId, UserId};
use crate::users::User;

/// The list query's filters, already resolved to columns.
pub struct ListQuery<'a> {
    pub account_id: &'a AccountId,
    /// A lower-cased substring of the name or the email.
    pub term: Option<String>,
    pub role: Option<&'static str>,
    pub enrolled: Option<bool>,
    /// `Some(b)`: only users whose admin flag `twofa_required` is `b`.
    pub required_flag: Option<bool>,
    /// `Some(true)`: only active users; `Some(false)`: only deactivated ones.
    pub active: Option<bool>,
    /// The last row of the previous page: `(name_lower, id)`.
    pub after: Option<(String, String)>,
    pub limit: i64,
}

/// One page in `(name_lower, id)` order; `limit + 1` rows tell whether
/// another page follows.
///
/// Two steps: the filters pick the page's ids from the ordered indexes
/// alone, then only those rows are read. Selecting whole rows in the walk
/// would visit the table row of every user the name filter rejects
/// (PostgreSQL filters after fetching the row), thousands per page for a
/// common term; with `users_list_by_name` covering the email, the walk
/// never leaves the index.
pub fn page(conn: &mut DbConn, q: ListQuery<'_>) -> Result<Vec<User>, ApiError> {
    let mut query = users::table
        .filter(users::account_id.eq(q.account_id))
        .select(users::id)
        .into_boxed::<MultiBackend>();
    if let Some(term) = q.term {
        query = query.filter(crate::db::search::name_or_email_contains(conn, &term)?);
    }
    if let Some(role) = q.role {
        query = query.filter(users::role.eq(role));
    }
    if let Some(enrolled) = q.enrolled {
        query = query.filter(users::twofa_enrolled.eq(enrolled));
    }
    if let Some(required) = q.required_flag {
        query = query.filter(users::twofa_required.eq(required));
    }
    match q.active {
        Some(true) => query = query.filter(users::deactivated_at.is_null()),
        Some(false) => query = query.filter(users::deactivated_at.is_not_null()),
        None => {}
    }
    if let Some((name, id)) = q.after {
        // `>=` bounds the index range; the OR settles ties on the name.
        query = query
            .filter(users::name_lower.ge(name.clone()))
            .filter(users::name_lower.gt(name).or(users::id.gt(id)));
    }
    let ids: Vec<UserId> = query
        .order((users::name_lower.asc(), users::id.asc()))
        .limit(q.limit + 1)
        .load(conn)?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut rows: HashMap<UserId, User> = users::table
        .filter(users::id.eq_any(&ids))
        .select(User::as_select())
        .load::<User>(conn)?
        .into_iter()
        .map(|u| (u.id.clone(), u))
        .collect();
    // A user deleted between the two reads is left out, as if it had
    // been deleted before the first.
    Ok(ids.iter().filter_map(|id| rows.remove(id)).collect())
}

/// Which of `ids` have an authenticator app.
pub fn with_authenticator(conn: &mut DbConn, ids: &[UserId]) -> Result<Vec<UserId>, ApiError> {
    Ok(totp_authenticators::table
        .filter(totp_authenticators::user_id.eq_any(ids))
        .select(totp_authenticators::user_id)
        .load(conn)?)
}

/// Which of `ids` have a recovery code.
pub fn with_recovery_code(conn: &mut DbConn, ids: &[UserId]) -> Result<Vec<UserId>, ApiError> {
    Ok(recovery_codes::table
        .filter(recovery_codes::user_id.eq_any(ids))
        .select(recovery_codes::user_id)
        .load(conn)?)
}

/// A user of `account_id`; users of other accounts do not exist here.
pub fn find_in_account(
    conn: &mut DbConn,
    account_id: &AccountId,
    id: &UserId,
) -> Result<Option<User>, ApiError> {
    Ok(users::table
        .filter(users::account_id.eq(account_id))
        .filter(users::id.eq(id))
        .select(User::as_select())
        .get_result(conn)
        .optional()?)
}

/// The users of `account_id` among `ids`.
pub fn find_many_in_account(
    conn: &mut DbConn,
    account_id: &AccountId,
    ids: &[UserId],
) -> Result<Vec<User>, ApiError> {
    Ok(users::table
        .filter(users::account_id.eq(account_id))
        .filter(users::id.eq_any(ids))
        .select(User::as_select())
        .load(conn)?)
}

/// The licences in use: the account's users that are not deactivated.
pub fn count_in_account(conn: &mut DbConn, account_id: &AccountId) -> Result<i64, ApiError> {
    Ok(users::table
        .filter(users::account_id.eq(account_id))
        .filter(users::deactivated_at.is_null())
        .count()
        .get_result(conn)?)
}

/// The account's active admins: a deactivated admin cannot sign in, so it
/// does not keep the account administrable.
pub fn count_admins(conn: &mut DbConn, account_id: &AccountId) -> Result<i64, ApiError> {
    Ok(users::table
        .filter(users::account_id.eq(account_id))
        .filter(users::role.eq("admin"))
        .filter(users::deactivated_at.is_null())
        .count()
        .get_result(conn)?)
}

pub fn set_required(conn: &mut DbConn, id: &UserId) -> Result<bool, ApiError> {
    let changed = crate::db::update(
        users::table
            .filter(users::id.eq(id))
            .filter(users::twofa_required.eq(false)),
    )
    .set(users::twofa_required.eq(true))
    .execute(conn)?;
    Ok(changed == 1)
}

pub fn update_profile(
    conn: &mut DbConn,
    id: &UserId,
    name: Option<&str>,
    role: Option<&str>,
) -> Result<(), ApiError> {
    if let Some(name) = name {
        crate::db::update(users::table.find(id))
            .set((
                users::name.eq(name),
                users::name_lower.eq(name.to_lowercase()),
            ))
            .execute(conn)?;
    }
    if let Some(role) = role {
        crate::db::update(users::table.find(id))
            .set(users::role.eq(role))
            .execute(conn)?;
    }
    Ok(())
}
