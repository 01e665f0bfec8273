//! Restrict IP permissions: when an account turns its allow-list on, its
//! users reach the platform only from listed addresses — from the password
//! step on, and on every authenticated call.
//!
//! The list is cached in memory per account for one second: a check costs
//! nothing on the hot path, a change made on this instance applies at once
//! (the cache entry is dropped), and a change made on another instance
//! sharing the database applies here within a second.

pub mod dto;
pub mod handlers;
pub mod repo;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use ipnet::IpNet;
use serde_json::json;

use crate::audit::{self, Actor, Event};
use crate::error::ApiError;
use crate::net::canonical;
use crate::state::AppState;

pub const CACHE_TTL: Duration = Duration::from_secs(1);
pub const MAX_ENTRIES: i64 = 500;

/// An account's rule as checked on every request.
#[derive(Debug, Clone)]
pub struct Rule {
    pub enabled: bool,
    pub nets: Vec<IpNet>,
}

impl Rule {
    pub fn allows(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        !self.enabled || self.nets.iter().any(|net| net.contains(&ip))
    }
}

/// Per-account rules with a short lifetime.
#[derive(Default)]
pub struct Cache {
    rules: Mutex<HashMap<String, (Instant, Rule)>>,
}

impl Cache {
    fn get(&self, account_id: &str) -> Option<Rule> {
        let rules = self.rules.lock().ok()?;
        rules
            .get(account_id)
            .filter(|(at, _)| at.elapsed() < CACHE_TTL)
            .map(|(_, rule)| rule.clone())
    }

    fn put(&self, account_id: &str, rule: Rule) {
        if let Ok(mut rules) = self.rules.lock() {
            // Bounded: expired entries go whenever the map grows large.
            if rules.len() > 10_000 {
                rules.retain(|_, (at, _)| at.elapsed() < CACHE_TTL);
            }
            rules.insert(account_id.to_owned(), (Instant::now(), rule));
        }
    }

    /// Forgets an account's rule after a change on this instance.
    pub fn invalidate(&self, account_id: &str) {
        if let Ok(mut rules) = self.rules.lock() {
            rules.remove(account_id);
        }
    }
}

/// The account's current rule, from the cache or one indexed query.
pub async fn rule(app: &AppState, account_id: &str) -> Result<Rule, ApiError> {
    if let Some(rule) = app.allowlists.get(account_id) {
        return Ok(rule);
    }
    let id = account_id.to_owned();
    let rule = app.db.run(move |conn| repo::rule(conn, &id)).await?;
    app.allowlists.put(account_id, rule.clone());
    Ok(rule)
}

/// Refuses `ip` with 403 `ip_not_allowed` (and an audit event) when the
/// account's allow-list is on and does not list it.
pub async fn check(
    app: &AppState,
    account_id: &str,
    user_id: &str,
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
                    kind: audit::kind::IP_DENIED,
                    ip: Some(canonical(ip).to_string()),
                    detail: json!({}),
                },
                now,
            )
        })
        .await?;
    Err(ApiError::IpNotAllowed)
}

/// The support path: turns the list off from the operator CLI; `true` when
/// it was on. Other instances follow within [`CACHE_TTL`].
pub fn disable_by_support(
    conn: &mut crate::db::DbConn,
    account_id: &str,
    now: i64,
) -> Result<bool, ApiError> {
    crate::db::write_tx(conn, |conn| {
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
                kind: audit::kind::IP_ALLOWLIST_CHANGED,
                ip: None,
                detail: json!({ "enabled": false, "via": "support" }),
            },
            now,
        )?;
        Ok(true)
    })
}
