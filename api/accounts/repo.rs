//! SQL for accounts.

use diesel::prelude::*;

use super::model::Account;
use crate::db::schema::accounts;
use crate::db::DbConn;
use crate::error::ApiError;
use crate::ids::AccountId;

pub fn insert(conn: &mut DbConn, account: &Account) -> Result<(), ApiError> {
    diesel::insert_into(accounts::table)
        .values(account)
        .execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut DbConn, id: &AccountId) -> Result<Option<Account>, ApiError> {
    Ok(accounts::table
        .find(id)
        .select(Account::as_select())
        .get_result(conn)
        .optional()?)
}

/// Takes the account row's write lock for the rest of the transaction
/// (PostgreSQL; SQLite's write transactions are already exclusive), so
/// checks against the account, such as free seats, cannot race.
pub fn lock(conn: &mut DbConn, id: &AccountId) -> Result<(), ApiError> {
    crate::db::update(accounts::table.find(id))
        .set(accounts::licenses.eq(accounts::licenses))
        .execute(conn)?;
    Ok(())
}

/// Sets what is given of the billing state: `paying_since` (`Some(None)`
/// clears it) and `licenses`.
pub fn set_billing(
    conn: &mut DbConn,
    id: &AccountId,
    paying_since: Option<Option<i64>>,
    licenses: Option<i32>,
) -> Result<(), ApiError> {
    if let Some(since) = paying_since {
        crate::db::update(accounts::table.find(id))
            .set(accounts::paying_since.eq(since))
            .execute(conn)?;
    }
    if let Some(licenses) = licenses {
        crate::db::update(accounts::table.find(id))
            .set(accounts::licenses.eq(licenses))
            .execute(conn)?;
    }
    Ok(())
}

/// Sets how many days a device may be remembered; the previous value.
pub fn set_remember_device_days(
    conn: &mut DbConn,
    id: &AccountId,
    days: i32,
) -> Result<Option<i32>, ApiError> {
    let previous: Option<i32> = accounts::table
        .find(id)
        .select(accounts::remember_device_days)
        .get_result(conn)
        .optional()?;
    crate::db::update(accounts::table.find(id))
        .set(accounts::remember_device_days.eq(days))
        .execute(conn)?;
    Ok(previous)
}
