//! The account row and the enforcement rule.

use diesel::prelude::*;

use crate::db::schema::accounts;
use crate::ids::AccountId;

/// 2FA becomes mandatory for every user this long after the account starts paying.
pub const ENFORCEMENT_GRACE_SECS: i64 = 24 * 60 * 60;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = accounts)]
pub struct Account {
    pub id: AccountId,
    pub name: String,
    pub paying_since: Option<i64>,
    pub licenses: i32,
    pub ip_allowlist_enabled: bool,
    pub created_at: i64,
    /// How long a browser that proved a second factor may skip it (0: off).
    pub remember_device_days: i32,
}

impl Account {
    /// When account-wide 2FA enforcement starts: `paying_since + 24h`.
    pub fn enforced_from(&self) -> Option<i64> {
        self.paying_since
            .map(|since| since.saturating_add(ENFORCEMENT_GRACE_SECS))
    }

    pub fn enforces_twofa(&self, now: i64) -> bool {
        self.enforced_from().is_some_and(|from| now >= from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enforcement_starts_a_day_after_paying() {
        let mut account = Account {
            id: "a".into(),
            name: "Acme".into(),
            paying_since: None,
            licenses: 5,
            ip_allowlist_enabled: false,
            created_at: 0,
            remember_device_days: 0,
        };
        assert!(!account.enforces_twofa(i64::MAX));
        account.paying_since = Some(1_000);
        assert!(!account.enforces_twofa(1_000 + ENFORCEMENT_GRACE_SECS - 1));
        assert!(account.enforces_twofa(1_000 + ENFORCEMENT_GRACE_SECS));
    }
}
