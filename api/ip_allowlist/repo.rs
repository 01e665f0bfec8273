//! SQL for allow-list entries and the account's switch. Database errors
//! pass through as internal errors; what a client is told (a duplicate, a
//! missing entry) is decided by [`super::service`].

use diesel::prelude::*;

use super::Rule;
use crate::db::schema::{accounts, ip_allowlist_entries};
use crate::db::{is_unique_violation, DbConn};
use crate::error::ApiError;
use crate::ids::{AccountId, UserId};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = ip_allowlist_entries)]
pub struct Entry {
    pub id: String,
    pub account_id: AccountId,
    pub cidr: String,
    pub description: String,
    pub created_at: i64,
    pub created_by: Option<UserId>,
}

pub fn list(conn: &mut DbConn, account_id: &AccountId) -> Result<Vec<Entry>, ApiError> {
    Ok(ip_allowlist_entries::table
        .filter(ip_allowlist_entries::account_id.eq(account_id))
        .order((
            ip_allowlist_entries::created_at.asc(),
            ip_allowlist_entries::id.asc(),
        ))
        .select(Entry::as_select())
        .load(conn)?)
}

/// The switch and the parsed entries, as checked on every request.
pub fn rule(conn: &mut DbConn, account_id: &AccountId) -> Result<Rule, ApiError> {
    let enabled: bool = accounts::table
        .find(account_id)
        .select(accounts::ip_allowlist_enabled)
        .get_result(conn)
        .optional()?
        .unwrap_or(false);
    let cidrs: Vec<String> = ip_allowlist_entries::table
        .filter(ip_allowlist_entries::account_id.eq(account_id))
        .select(ip_allowlist_entries::cidr)
        .load(conn)?;
    let nets = cidrs.iter().filter_map(|c| parse_stored(c)).collect();
    Ok(Rule { enabled, nets })
}

/// A stored entry as client addresses are compared with it. Entries were
/// validated on the way in; one that no longer parses allows nothing rather
/// than everything. Rows saved before IPv4-mapped ranges were converted
/// (`::ffff:10.0.0.0/104`) match the IPv4 clients they name.
pub fn parse_stored(cidr: &str) -> Option<ipnet::IpNet> {
    cidr.parse().ok().map(crate::net::canonical_net)
}

pub fn count(conn: &mut DbConn, account_id: &AccountId) -> Result<i64, ApiError> {
    Ok(ip_allowlist_entries::table
        .filter(ip_allowlist_entries::account_id.eq(account_id))
        .count()
        .get_result(conn)?)
}

/// Stores an entry; `false` when the account already lists that range (the
/// unique key decides, so two concurrent adds cannot both succeed). The
/// caller turns `false` into the answer it owes.
pub fn insert(conn: &mut DbConn, entry: &Entry) -> Result<bool, ApiError> {
    match diesel::insert_into(ip_allowlist_entries::table)
        .values(entry)
        .execute(conn)
    {
        Ok(_) => Ok(true),
        Err(e) if is_unique_violation(&e) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

pub fn find(
    conn: &mut DbConn,
    account_id: &AccountId,
    id: &str,
) -> Result<Option<Entry>, ApiError> {
    Ok(ip_allowlist_entries::table
        .filter(ip_allowlist_entries::account_id.eq(account_id))
        .filter(ip_allowlist_entries::id.eq(id))
        .select(Entry::as_select())
        .get_result(conn)
        .optional()?)
}

pub fn delete(conn: &mut DbConn, id: &str) -> Result<(), ApiError> {
    diesel::delete(ip_allowlist_entries::table.find(id)).execute(conn)?;
    Ok(())
}

pub fn set_enabled(
    conn: &mut DbConn,
    account_id: &AccountId,
    enabled: bool,
) -> Result<bool, ApiError> {
    let changed = crate::db::update(accounts::table.find(account_id))
        .set(accounts::ip_allowlist_enabled.eq(enabled))
        .execute(conn)?;
    Ok(changed == 1)
}
