//! Bulk 2FA actions on users of the admin's account: require 2FA, or reset
//! a user's second factors. All of a request's users or none: an id of
//! another account fails the whole request with 404 before anything changes.

use std::net::IpAddr;

use std::collections::HashSet;

use super::event;
use crate::admin::dto::{BulkResult, UserResult};
use crate::admin::guard::Admin;
use crate::admin::users_repo as repo;
use crate::audit::Detail;
use crate::audit::{self, kind, Actor};
use crate::db::{write_tx, DbConn};
use crate::error::ApiError;
use crate::ids::UserId;
use crate::state::AppState;
use crate::twofa::service as twofa;
use crate::users::{TwofaStatus, User};

pub const MAX_BULK: usize = 500;

/// Validates and de-duplicates bulk ids, keeping their order.
pub fn bulk_ids(ids: Vec<UserId>) -> Result<Vec<UserId>, ApiError> {
    if ids.is_empty() || ids.len() > MAX_BULK {
        return Err(ApiError::field(
            "user_ids",
            format!("give 1 to {MAX_BULK} user ids"),
        ));
    }
    let mut seen = HashSet::new();
    Ok(ids
        .into_iter()
        .filter(|id| seen.insert(id.clone()))
        .collect())
}

/// A stolen session must not be able to strip its own account's
/// protection: resetting oneself needs a second factor just proven.
fn check_self_reset(ids: &[UserId], admin_id: &UserId, fresh: bool) -> Result<(), ApiError> {
    if ids.iter().any(|id| id == admin_id) && !fresh {
        return Err(ApiError::ReauthenticationRequired);
    }
    Ok(())
}

/// All of `ids`, from the admin's account, or 404 with nothing done.
pub(super) fn targets(
    conn: &mut DbConn,
    admin: &Admin,
    ids: &[UserId],
) -> Result<Vec<User>, ApiError> {
    let found = repo::find_many_in_account(conn, admin.account_id(), ids)?;
    if found.len() != ids.len() {
        return Err(ApiError::NotFound);
    }
    // Answer in the order asked.
    let mut ordered = Vec::with_capacity(ids.len());
    for id in ids {
        let user = found
            .iter()
            .find(|u| &u.id == id)
            .ok_or(ApiError::NotFound)?;
        ordered.push(user.clone());
    }
    Ok(ordered)
}

/// Whether the admin may include themselves without a fresh second factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Oneself {
    Allowed,
    /// A stolen session must not be able to strip its own account's
    /// protection: acting on oneself needs a second factor just proven.
    NeedsFreshFactor,
}

/// Validates `ids` and applies `action` to each user (all from the admin's
/// account) in one transaction: all or nothing, one result per user in the
/// order asked.
async fn for_each_user(
    app: &AppState,
    admin: Admin,
    ids: Vec<UserId>,
    oneself: Oneself,
    action: impl Fn(&mut DbConn, &Admin, &User, i64) -> Result<UserResult, ApiError> + Send + 'static,
) -> Result<BulkResult, ApiError> {
    let ids = bulk_ids(ids)?;
    let now = app.now();
    if oneself == Oneself::NeedsFreshFactor {
        check_self_reset(&ids, admin.user_id(), admin.fresh_second_factor(now))?;
    }
    app.db
        .run(move |conn| {
            write_tx(conn, |conn| {
                let mut results = Vec::new();
                for user in targets(conn, &admin, &ids)? {
                    results.push(action(conn, &admin, &user, now)?);
                }
                Ok(BulkResult { results })
            })
        })
        .await
}

/// Requires 2FA for each user: they meet enrollment at their next login.
pub async fn enable(
    app: &AppState,
    admin: Admin,
    ids: Vec<UserId>,
    ip: IpAddr,
) -> Result<BulkResult, ApiError> {
    let require = move |conn: &mut DbConn, admin: &Admin, user: &User, now: i64| {
        let changed = repo::set_required(conn, &user.id)?;
        if changed {
            let event = event(admin, &user.id, kind::TWOFA_REQUIRED, ip, Detail::NONE);
            audit::record(conn, event, now)?;
        }
        Ok(UserResult {
            user_id: user.id.clone(),
            changed,
            twofa_status: twofa::status(user.twofa_enrolled, true),
            sessions_revoked: None,
        })
    };
    for_each_user(app, admin, ids, Oneself::Allowed, require).await
}

/// Removes each user's second factors and ends their sessions; the next
/// login enrolls a new authenticator and recovery code.
pub async fn reset(
    app: &AppState,
    admin: Admin,
    ids: Vec<UserId>,
    ip: IpAddr,
) -> Result<BulkResult, ApiError> {
    let wipe = move |conn: &mut DbConn, admin: &Admin, user: &User, now: i64| {
        let actor = Actor::User(admin.user_id().clone());
        let done = twofa::reset(conn, user, actor, Some(ip), now)?;
        Ok(UserResult {
            user_id: user.id.clone(),
            changed: done.changed(user),
            twofa_status: TwofaStatus::Pending,
            sessions_revoked: Some(done.sessions_revoked),
        })
    };
    for_each_user(app, admin, ids, Oneself::NeedsFreshFactor, wipe).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bulk_ids_are_bounded_and_deduplicated_in_order() {
        assert!(bulk_ids(Vec::new()).is_err());
        assert!(bulk_ids(vec!["u".into(); MAX_BULK + 1]).is_err());
        let ids = bulk_ids(vec!["b".into(), "a".into(), "b".into()]).unwrap();
        assert_eq!(ids, ["b", "a"]);
    }

    #[test]
    fn resetting_oneself_needs_a_fresh_second_factor() {
        let ids = vec![UserId::from("other"), UserId::from("me")];
        assert_eq!(
            check_self_reset(&ids, &"me".into(), false)
                .unwrap_err()
                .code(),
            "reauthentication_required"
        );
        assert!(check_self_reset(&ids, &"me".into(), true).is_ok());
        assert!(check_self_reset(&ids[..1], &"me".into(), false).is_ok());
    }
}
