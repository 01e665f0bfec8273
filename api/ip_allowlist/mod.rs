//! Restrict IP permissions: when an account turns its allow-list on, its
//! users reach the platform only from listed addresses — from the password
//! step on, and on every authenticated call.
//!
//! The list is cached in memory per account for one second: a check costs
//! nothing on the hot path, a change made on this instance applies at once
//! (the cache entry is dropped), and a change made on another instance
//! sharing the database applies here within a second. The cache reads the
//! time it is given (the injected clock), never the system time, so tests
//! move time instead of waiting for an entry to expire.

pub mod dto;
pub mod handlers;
pub mod repo;
pub mod service;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use ipnet::IpNet;

use crate::ids::AccountId;
use crate::net::canonical;

pub use service::{check, disable_by_support, rule};

/// How long a cached rule is believed, in seconds of the injected clock.
pub const CACHE_TTL_SECS: i64 = 1;
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

/// Per-account rules with a short lifetime, keyed by account id and stamped
/// with the unix second they were read.
#[derive(Default)]
pub struct Cache {
    rules: Mutex<HashMap<AccountId, (i64, Rule)>>,
}

/// Whether a rule read at `at` may still be used at `now`. A clock that went
/// backwards counts as expired: better one more query than a stale rule.
fn fresh(at: i64, now: i64) -> bool {
    (0..CACHE_TTL_SECS).contains(&now.saturating_sub(at))
}

impl Cache {
    /// The rule cached for the account, unless it has expired at `now`.
    pub fn get(&self, account_id: &AccountId, now: i64) -> Option<Rule> {
        let rules = self.rules.lock().ok()?;
        rules
            .get(account_id)
            .filter(|(at, _)| fresh(*at, now))
            .map(|(_, rule)| rule.clone())
    }

    /// Caches the rule read at `now`.
    pub fn put(&self, account_id: &AccountId, rule: Rule, now: i64) {
        if let Ok(mut rules) = self.rules.lock() {
            // Bounded: expired entries go whenever the map grows large.
            if rules.len() > 10_000 {
                rules.retain(|_, (at, _)| fresh(*at, now));
            }
            rules.insert(account_id.clone(), (now, rule));
        }
    }

    /// Forgets an account's rule after a change on this instance.
    pub fn invalidate(&self, account_id: &AccountId) {
        if let Ok(mut rules) = self.rules.lock() {
            rules.remove(account_id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cached_rule_expires_by_the_given_clock() {
        let cache = Cache::default();
        let rule = Rule {
            enabled: true,
            nets: vec![],
        };
        cache.put(&"a".into(), rule, 1_000);
        assert!(cache.get(&"a".into(), 1_000).is_some());
        assert!(cache.get(&"a".into(), 1_000 + CACHE_TTL_SECS).is_none());
        assert!(
            cache.get(&"a".into(), 999).is_none(),
            "a clock set back expires it"
        );
        assert!(cache.get(&"b".into(), 1_000).is_none());
        cache.invalidate(&"a".into());
        assert!(cache.get(&"a".into(), 1_000).is_none());
    }
}
