//! The one billing path: setting when an account started paying and its
//! licences, for the operator API and the operator CLI alike. One set of
//! limits, one audit event per change, one transaction; no HTTP here.

use serde::Serialize;

use super::model::Account;
use super::repo;
use crate::audit::detail::BillingChanged;
use crate::audit::Detail;
use crate::audit::{self, kind, Actor, Event};
use crate::clock::rfc3339;
use crate::db::{write_tx, DbConn};
use crate::error::ApiError;
use crate::ids::AccountId;

/// The licence counts a billing change may set.
pub const LICENSES: std::ops::RangeInclusive<i32> = 1..=1_000_000;

/// What to change; `None` keeps the current value.
#[derive(Debug, Clone, Copy, Default)]
pub struct BillingChange {
    /// `Some(None)` puts the account back on trial.
    pub paying_since: Option<Option<i64>>,
    pub licenses: Option<i32>,
}

/// Who asks for the change, as the audit trail records it.
pub struct Requester {
    pub actor: Actor,
    pub ip: Option<std::net::IpAddr>,
}

/// Refuses a licence count outside [`LICENSES`], before any I/O.
pub fn check(change: &BillingChange) -> Result<(), ApiError> {
    if change.licenses.is_some_and(|n| !LICENSES.contains(&n)) {
        return Err(ApiError::field("licenses", "must be 1 to 1000000"));
    }
    Ok(())
}

/// Applies `change` to the account and records a `billing_changed` event
/// with the previous values, in one transaction; answers the account as it
/// now is. An unknown account is 404 (after the limits: a bad request is
/// refused the same whether or not the account exists).
pub fn update(
    conn: &mut DbConn,
    account_id: &AccountId,
    change: BillingChange,
    by: Requester,
    now: i64,
) -> Result<Account, ApiError> {
    check(&change)?;
    write_tx(conn, |conn| {
        let before = repo::find(conn, account_id)?.ok_or(ApiError::NotFound)?;
        repo::set_billing(conn, account_id, change.paying_since, change.licenses)?;
        audit::record(
            conn,
            Event {
                account_id,
                actor: by.actor,
                subject_user_id: None,
                kind: kind::BILLING_CHANGED,
                ip: by.ip.map(|ip| ip.to_string()),
                detail: Detail::BillingChanged(BillingChanged {
                    paying_since: change.paying_since.flatten().map(rfc3339),
                    licenses: change.licenses,
                    previous_paying_since: before.paying_since.map(rfc3339),
                    previous_licenses: before.licenses,
                }),
            },
            now,
        )?;
        repo::find(conn, account_id)?.ok_or(ApiError::NotFound)
    })
}

/// What `accounts set-paying` prints.
#[derive(Debug, Serialize)]
pub struct PayingState {
    pub account_id: AccountId,
    pub paying_since: String,
    pub licenses: i32,
    /// From this moment every user of the account must use 2FA.
    pub twofa_enforced_from: String,
}

/// `accounts set-paying`: the billing path above, by the operator CLI.
pub fn set_paying(
    conn: &mut DbConn,
    account_id: &AccountId,
    since: i64,
    licenses: Option<i32>,
    now: i64,
) -> Result<PayingState, ApiError> {
    let change = BillingChange {
        paying_since: Some(Some(since)),
        licenses,
    };
    let by = Requester {
        actor: Actor::Cli,
        ip: None,
    };
    let account = update(conn, account_id, change, by, now)?;
    Ok(PayingState {
        twofa_enforced_from: rfc3339(account.enforced_from().unwrap_or(since)),
        account_id: account.id,
        paying_since: rfc3339(since),
        licenses: account.licenses,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn licences_are_one_to_a_million() {
        let with = |n| BillingChange {
            paying_since: None,
            licenses: Some(n),
        };
        for n in [0, -1, 1_000_001] {
            assert!(check(&with(n)).is_err(), "{n}");
        }
        for n in [1, 25, 1_000_000] {
            assert!(check(&with(n)).is_ok(), "{n}");
        }
        assert!(check(&BillingChange::default()).is_ok(), "absent is kept");
    }
}
