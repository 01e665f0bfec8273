//! The operator API's use cases: read an account's billing state, and
//! change it through the one billing path ([`crate::accounts::billing`]),
//! which the operator CLI shares. Parsing the request's date is the only
//! rule of its own here.

use std::net::IpAddr;

use chrono::DateTime;

use super::dto::{Billing, BillingUpdate};
use crate::accounts::billing::{self, BillingChange, Requester};
use crate::audit::Actor;
use crate::clock::rfc3339;
use crate::error::ApiError;
use crate::ids::AccountId;
use crate::state::AppState;

/// The account's billing state; 404 for an unknown account.
pub async fn billing(app: &AppState, id: AccountId) -> Result<Billing, ApiError> {
    app.db
        .run(move |conn| {
            let account = crate::accounts::repo::find(conn, &id)?.ok_or(ApiError::NotFound)?;
            let users = crate::admin::users_repo::count_in_account(conn, &id)?;
            Ok(Billing {
                paying_since: account.paying_since.map(rfc3339),
                twofa_enforced_from: account.enforced_from().map(rfc3339),
                account_id: account.id,
                name: account.name,
                licenses: account.licenses,
                users,
            })
        })
        .await
}

/// The change a request asks for, or the field that is wrong. The date is
/// checked before the licences, so a bad date is named first.
pub fn change(update: &BillingUpdate) -> Result<BillingChange, ApiError> {
    let paying_since = match &update.paying_since {
        None => None,
        Some(None) => Some(None),
        Some(Some(raw)) => Some(Some(
            DateTime::parse_from_rfc3339(raw)
                .map_err(|_| {
                    ApiError::field(
                        "paying_since",
                        "must be RFC 3339, e.g. 2026-11-28T09:00:00Z",
                    )
                })?
                .timestamp(),
        )),
    };
    let change = BillingChange {
        paying_since,
        licenses: update.licenses,
    };
    billing::check(&change)?;
    Ok(change)
}

/// Applies the change as the operator from `ip` (audited), then answers the
/// new billing state.
pub async fn update(
    app: &AppState,
    id: AccountId,
    update: BillingUpdate,
    ip: IpAddr,
) -> Result<Billing, ApiError> {
    // Validated before a connection is taken: a bad request never waits
    // for the pool.
    let change = change(&update)?;
    let now = app.now();
    let account_id = id.clone();
    app.db
        .run(move |conn| {
            let by = Requester {
                actor: Actor::Operator,
                ip: Some(ip),
            };
            billing::update(conn, &account_id, change, by, now)
        })
        .await?;
    billing(app, id).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(paying_since: Option<Option<&str>>, licenses: Option<i32>) -> BillingUpdate {
        BillingUpdate {
            paying_since: paying_since.map(|p| p.map(str::to_owned)),
            licenses,
        }
    }

    #[test]
    fn absent_null_and_a_date_mean_keep_clear_and_set() {
        assert_eq!(change(&body(None, None)).unwrap().paying_since, None);
        assert_eq!(
            change(&body(Some(None), None)).unwrap().paying_since,
            Some(None)
        );
        let set = change(&body(Some(Some("2026-11-27T10:30:00+01:00")), Some(5))).unwrap();
        assert_eq!(set.paying_since, Some(Some(1_795_771_800)));
        assert_eq!(set.licenses, Some(5));
    }

    #[test]
    fn a_bad_date_is_named_before_bad_licences() {
        let err = change(&body(Some(Some("soon")), Some(0))).unwrap_err();
        assert!(
            matches!(&err, ApiError::Validation(fields) if fields[0].field == "paying_since"),
            "{err:?}"
        );
        assert!(change(&body(None, Some(1_000_001))).is_err());
    }
}
