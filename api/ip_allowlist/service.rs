//! The allow-list rules, apart from HTTP: what an entry may be, how many an
//! account holds, that an admin cannot make the list refuse their own
//! address without saying `force`, and that every change is audited in the
//! transaction that makes it and drops this instance's cached rule.
//!
//! The per-request check ([`check`]) and the support path
//! ([`disable_by_support`]) live here too, so every rule about the list has
//! one home. SQL stays in [`super::repo`].

use std::net::IpAddr;

use ipnet::IpNet;

use super::dto::{AllowlistView, EntryView, NewEntry, SecurityUpdate};
use super::repo::{self, Entry};
use super::{Rule, MAX_ENTRIES};
use crate::admin::dto::SecuritySettings;
use crate::admin::Admin;
use crate::audit::detail::{self, Detail};
use crate::audit::{self, kind, Actor, Event};
use crate::clock::rfc3339;
use crate::db::{write_tx, DbConn};
use crate::error::{ApiError, ErrorCode};
use crate::ids::{AccountId, UserId};
use crate::net::{canonical, parse_cidr_or_ip};
use crate::state::AppState;

fn view(entry: Entry) -> EntryView {
    EntryView {
        id: entry.id,
        cidr: entry.cidr,
        description: entry.description,
        created_at: rfc3339(entry.created_at),
    }
}

/// A new entry's range and description, or the field that is wrong.
pub fn validate(input: &NewEntry) -> Result<(IpNet, String), ApiError> {
    let net = parse_cidr_or_ip(&input.cidr).map_err(|hint| ApiError::field("cidr", hint))?;
    let description = crate::text::validate("description", &input.description, 0, 200)?;
    Ok((net, description))
}

/// The lock-out rule: a change that leaves `rule` refusing the admin's own
/// address `ip` is refused with 409 `would_lock_out` unless `force`, so an
/// admin does not cut themselves off by accident.
pub fn guard_own_address(rule: &Rule, ip: IpAddr, force: bool) -> Result<(), ApiError> {
    if force || rule.allows(ip) {
        return Ok(());
    }
    Err(ApiError::Conflict {
        code: ErrorCode::WouldLockOut,
        detail: format!(
            "Your current address {} would no longer be allowed. Add an entry for it first, or repeat with force: true.",
            canonical(ip)
        ),
    })
}

fn changed<'a>(admin: &'a Admin, ip: IpAddr, detail: Detail) -> Event<'a> {
    Event {
        account_id: admin.account_id(),
        actor: Actor::User(admin.user_id().to_owned()),
        subject_user_id: None,
        kind: kind::IP_ALLOWLIST_CHANGED,
        ip: Some(ip.to_string()),
        detail,
    }
}

/// The account's list, and whether `ip` is on it.
pub async fn list(app: &AppState, admin: &Admin, ip: IpAddr) -> Result<AllowlistView, ApiError> {
    let account_id = admin.account_id().to_owned();
    let entries = app
        .db
        .run(move |conn| repo::list(conn, &account_id))
        .await?;
    let nets = entries
        .iter()
        .filter_map(|e| repo::parse_stored(&e.cidr))
        .collect();
    let listed = Rule {
        enabled: true,
        nets,
    }
    .allows(ip);
    Ok(AllowlistView {
        // The Admin extractor read the account during this request.
        enabled: admin.account.ip_allowlist_enabled,
        your_address: canonical(ip).to_string(),
        your_address_listed: listed,
        entries: entries.into_iter().map(view).collect(),
    })
}

/// Adds an entry: at most [`MAX_ENTRIES`] per account, each range once.
pub async fn add(
    app: &AppState,
    admin: Admin,
    ip: IpAddr,
    input: NewEntry,
) -> Result<EntryView, ApiError> {
    let (net, description) = validate(&input)?;
    let now = app.now();
    let entry = Entry {
        // Time-ordered, so entries of the same second list in order.
        id: uuid::Uuid::now_v7().to_string(),
        account_id: admin.account_id().to_owned(),
        cidr: net.to_string(),
        description,
        created_at: now,
        created_by: Some(admin.user_id().clone()),
    };
    let account_id = admin.account_id().to_owned();
    let saved = entry.clone();
    app.db
        .run(move |conn| {
            write_tx(conn, |conn| {
                // Counted under the account's lock: two concurrent adds
                // cannot both take the last free slot.
                crate::accounts::repo::lock(conn, admin.account_id())?;
                if repo::count(conn, admin.account_id())? >= MAX_ENTRIES {
                    return Err(ApiError::Conflict {
                        code: ErrorCode::AllowlistFull,
                        detail: format!("An allow-list holds at most {MAX_ENTRIES} entries."),
                    });
                }
                if !repo::insert(conn, &saved)? {
                    return Err(ApiError::Conflict {
                        code: ErrorCode::DuplicateEntry,
                        detail: format!("{} is already on the allow-list.", saved.cidr),
                    });
                }
                let detail = Detail::AllowlistEntryAdded(detail::AllowlistEntryAdded {
                    added: saved.cidr.clone(),
                    description: saved.description.clone(),
                });
                audit::record(conn, changed(&admin, ip, detail), now)
            })
        })
        .await?;
    app.allowlists.invalidate(&account_id);
    Ok(view(entry))
}

/// Removes entry `id`, unless that would refuse `ip` (see [`guard_own_address`]).
pub async fn remove(
    app: &AppState,
    admin: Admin,
    ip: IpAddr,
    id: String,
    force: bool,
) -> Result<(), ApiError> {
    let now = app.now();
    let account_id = admin.account_id().to_owned();
    app.db
        .run(move |conn| {
            write_tx(conn, |conn| {
                let entry = repo::find(conn, admin.account_id(), &id)?.ok_or(ApiError::NotFound)?;
                let mut rule = repo::rule(conn, admin.account_id())?;
                let removed = repo::parse_stored(&entry.cidr);
                rule.nets.retain(|net| Some(*net) != removed);
                guard_own_address(&rule, ip, force)?;
                repo::delete(conn, &entry.id)?;
                let detail = Detail::AllowlistEntryRemoved(detail::AllowlistEntryRemoved {
                    removed: entry.cidr.clone(),
                    forced: force,
                });
                audit::record(conn, changed(&admin, ip, detail), now)
            })
        })
        .await?;
    app.allowlists.invalidate(&account_id);
    Ok(())
}

/// Turns the list on or off (turning it on is checked against `ip`), and
/// answers the account's security settings.
pub async fn update_security(
    app: &AppState,
    admin: Admin,
    ip: IpAddr,
    update: SecurityUpdate,
) -> Result<SecuritySettings, ApiError> {
    let now = app.now();
    let account_id = admin.account_id().to_owned();
    let settings = app
        .db
        .run(move |conn| {
            write_tx(conn, |conn| {
                if let Some(enabled) = update.ip_allowlist_enabled {
                    let mut rule = repo::rule(conn, admin.account_id())?;
                    rule.enabled = enabled;
                    guard_own_address(&rule, ip, update.force)?;
                    repo::set_enabled(conn, admin.account_id(), enabled)?;
                    let detail = Detail::AllowlistSwitched(detail::AllowlistSwitched {
                        enabled,
                        forced: Some(update.force),
                        via: None,
                    });
                    audit::record(conn, changed(&admin, ip, detail), now)?;
                }
                if let Some(days) = update.remember_device_days {
                    crate::devices::settings::set_days(conn, &admin, days, ip, now)?;
                }
                let account = crate::accounts::repo::find(conn, admin.account_id())?
                    .ok_or(ApiError::NotFound)?;
                let users = crate::admin::users_repo::count_in_account(conn, &account.id)?;
                Ok(crate::admin::security::settings(&account, users, now))
            })
        })
        .await?;
    app.allowlists.invalidate(&account_id);
    Ok(settings)
}

/// The account's current rule, from the cache or one indexed query.
pub async fn rule(app: &AppState, account_id: &AccountId) -> Result<Rule, ApiError> {
    let now = app.now();
    if let Some(rule) = app.allowlists.get(account_id, now) {
        return Ok(rule);
    }
    let id = account_id.to_owned();
    let rule = app.db.run(move |conn| repo::rule(conn, &id)).await?;
    app.allowlists.put(account_id, rule.clone(), now);
    Ok(rule)
}

/// Refuses `ip` with 403 `ip_not_allowed` (and an audit event) when the
/// account's allow-list is on and does not list it.
pub async fn check(
    app: &AppState,
    account_id: &AccountId,
    user_id: &UserId,
    ip: IpAddr,
) -> Result<(), ApiError> {
    if rule(app, account_id).await?.allows(ip) {
        return Ok(());
    }
    let now = app.now();
    let (account_id, user_id) = (account_id.to_owned(), user_id.to_owned());
    app.db
        .run(move |conn| {
            audit::record(
                conn,
                Event {
                    account_id: &account_id,
                    actor: Actor::User(user_id.clone()),
                    subject_user_id: Some(&user_id),
                    kind: kind::IP_DENIED,
                    ip: Some(canonical(ip).to_string()),
                    detail: Detail::NONE,
                },
                now,
            )
        })
        .await?;
    Err(ApiError::IpNotAllowed)
}

/// The support path: turns the list off from the operator CLI; `true` when
/// it was on. Other instances follow within [`super::CACHE_TTL_SECS`].
pub fn disable_by_support(
    conn: &mut DbConn,
    account_id: &AccountId,
    now: i64,
) -> Result<bool, ApiError> {
    write_tx(conn, |conn| {
        let account = crate::accounts::repo::find(conn, account_id)?.ok_or(ApiError::NotFound)?;
        if !account.ip_allowlist_enabled {
            return Ok(false);
        }
        repo::set_enabled(conn, account_id, false)?;
        audit::record(
            conn,
            Event {
                account_id,
                actor: Actor::Cli,
                subject_user_id: None,
                kind: kind::IP_ALLOWLIST_CHANGED,
                ip: None,
                detail: Detail::AllowlistSwitched(detail::AllowlistSwitched {
                    enabled: false,
                    forced: None,
                    via: Some(detail::SupportVia),
                }),
            },
            now,
        )?;
        Ok(true)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(enabled: bool, nets: &[&str]) -> Rule {
        Rule {
            enabled,
            nets: nets.iter().map(|n| n.parse().unwrap()).collect(),
        }
    }

    #[test]
    fn an_admin_cannot_refuse_their_own_address_without_force() {
        let me: IpAddr = "203.0.113.7".parse().unwrap();
        let other = rule(true, &["198.51.100.0/24"]);
        let err = guard_own_address(&other, me, false).unwrap_err();
        assert_eq!(err.code(), "would_lock_out");
        assert!(
            guard_own_address(&other, me, true).is_ok(),
            "force overrides"
        );
        assert!(guard_own_address(&rule(true, &["203.0.113.0/24"]), me, false).is_ok());
        assert!(
            guard_own_address(&rule(false, &[]), me, false).is_ok(),
            "off allows all"
        );
    }

    #[test]
    fn entries_are_validated_before_any_io() {
        let entry = |cidr: &str, description: &str| NewEntry {
            cidr: cidr.to_owned(),
            description: description.to_owned(),
        };
        let (net, description) = validate(&entry(" 10.0.0.0/8 ", " Office ")).unwrap();
        assert_eq!(
            (net.to_string(), description.as_str()),
            ("10.0.0.0/8".into(), "Office")
        );
        assert!(validate(&entry("10.0.0.1/8", "")).is_err(), "host bits set");
        assert!(validate(&entry("10.0.0.0/8", &"x".repeat(201))).is_err());
    }
}
