//! Taking people off the admin's account, and back: deactivating (every
//! session, refresh token and login in progress ends at once, the licence
//! is freed), reactivating (within the licences) and deleting (the person
//! goes, the email is free again, the audit trail keeps them).
//!
//! All of a request's users or none: an id of another account is a 404,
//! and a rule broken for one user a 409, before anything changes. The
//! account must keep an active admin, and an admin never takes themselves
//! off: that would be a lock-out one click away.

use std::net::IpAddr;

use super::event;
use super::twofa_actions::{bulk_ids, targets};
use crate::admin::dto::{RemovedUser, RemovedUsers, StatusChange, StatusChanges};
use crate::admin::guard::Admin;
use crate::admin::users_repo::{self as repo, lifecycle};
use crate::audit::detail::{UserDeactivated, UserDeleted, UserReactivated};
use crate::audit::{self, kind, Detail};
use crate::clock::rfc3339;
use crate::db::{write_tx, DbConn};
use crate::error::{ApiError, ErrorCode};
use crate::ids::UserId;
use crate::sessions::repo::{self as sessions, Which};
use crate::state::AppState;
use crate::users::{Role, User, UserStatus};

/// The 409 of a user that would take the account past its licences.
pub fn no_licence_free(licenses: i32) -> ApiError {
    ApiError::Conflict {
        code: ErrorCode::LicenseLimitReached,
        detail: format!("All {licenses} licences of the account are in use."),
    }
}

/// An admin may not deactivate or delete themselves.
fn refuse_self(ids: &[UserId], admin_id: &UserId) -> Result<(), ApiError> {
    if ids.contains(admin_id) {
        return Err(ApiError::Conflict {
            code: ErrorCode::CannotActOnSelf,
            detail: "An admin cannot deactivate or delete themselves; another admin can."
                .to_owned(),
        });
    }
    Ok(())
}

/// The account keeps an active admin when `leaving` of its `active_admins`
/// go. The caller is one of them and never among the leaving, so this
/// bites when two admins take each other off at once.
fn keep_an_admin(active_admins: i64, leaving: usize) -> Result<(), ApiError> {
    if active_admins - i64::try_from(leaving).unwrap_or(i64::MAX) < 1 {
        return Err(ApiError::Conflict {
            code: ErrorCode::LastAdmin,
            detail: "The account must keep at least one active admin.".to_owned(),
        });
    }
    Ok(())
}

/// Active admins among `users`.
fn active_admins(users: &[User]) -> usize {
    users
        .iter()
        .filter(|u| u.is_active() && u.role() == Role::Admin)
        .count()
}

/// Runs `body` on the users `ids` (all of the admin's account) in one
/// transaction that holds the account row, so seats and admins are
/// counted and changed in one step, one request at a time.
async fn in_account<T: Send + 'static>(
    app: &AppState,
    admin: Admin,
    ids: Vec<UserId>,
    body: impl FnOnce(&mut DbConn, &Admin, Vec<User>, i64) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let now = app.now();
    app.db
        .run(move |conn| {
            write_tx(conn, |conn| {
                crate::accounts::repo::lock(conn, admin.account_id())?;
                let users = targets(conn, &admin, &ids)?;
                body(conn, &admin, users, now)
            })
        })
        .await
}

/// Ends everything the user holds now: sessions (and so their refresh
/// tokens), logins in progress and enrollments in progress. How many
/// sessions ended.
fn end_access(conn: &mut DbConn, user: &User, reason: &str, now: i64) -> Result<usize, ApiError> {
    // The user's row first, as every change of their factors takes it: a
    // login or enrollment finishing now commits before this, or finds its
    // flow gone.
    crate::users::repo::lock(conn, &user.id)?;
    crate::login::repo::delete_for_user(conn, &user.id)?;
    crate::twofa::repo::delete_pending_for_user(conn, &user.id)?;
    sessions::revoke_for_user(conn, &user.id, Which::All, None, reason, now)
}

/// [`in_account`] for taking users off the account (deactivating,
/// deleting): never the admin themselves, and an active admin must stay.
async fn taking_off<T: Send + 'static>(
    app: &AppState,
    admin: Admin,
    ids: Vec<UserId>,
    body: impl FnOnce(&mut DbConn, &Admin, Vec<User>, i64) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let ids = bulk_ids(ids)?;
    refuse_self(&ids, admin.user_id())?;
    in_account(app, admin, ids, move |conn, admin, users, now| {
        keep_an_admin(
            repo::count_admins(conn, admin.account_id())?,
            active_admins(&users),
        )?;
        body(conn, admin, users, now)
    })
    .await
}

/// Deactivates each user: they cannot sign in, every session ends at once,
/// and their licence is free. A user already deactivated is left as is.
pub async fn deactivate(
    app: &AppState,
    admin: Admin,
    ids: Vec<UserId>,
    ip: IpAddr,
) -> Result<StatusChanges, ApiError> {
    taking_off(app, admin, ids, move |conn, admin, users, now| {
        let mut results = Vec::with_capacity(users.len());
        for user in users {
            if !user.is_active() || !lifecycle::deactivate(conn, &user.id, now)? {
                results.push(unchanged(&user));
                continue;
            }
            let revoked = end_access(conn, &user, "user_deactivated", now)?;
            crate::devices::service::end_all(
                conn,
                admin.account_id(),
                &user.id,
                crate::audit::Actor::User(admin.user_id().clone()),
                crate::audit::detail::ForgetReason::UserDeactivated,
                Some(ip.to_string()),
                now,
            )?;
            let detail = Detail::UserDeactivated(UserDeactivated {
                email: user.email.clone(),
                sessions_revoked: revoked,
            });
            let event = event(admin, &user.id, kind::USER_DEACTIVATED, ip, detail);
            audit::record(conn, event, now)?;
            results.push(StatusChange {
                user_id: user.id,
                changed: true,
                status: UserStatus::Deactivated,
                deactivated_at: Some(rfc3339(now)),
                sessions_revoked: Some(revoked),
            });
        }
        Ok(StatusChanges { results })
    })
    .await
}

/// Reactivates each user, if the account has a licence for each: they sign
/// in again with the password and factors they had. A user already active
/// is left as is.
pub async fn reactivate(
    app: &AppState,
    admin: Admin,
    ids: Vec<UserId>,
    ip: IpAddr,
) -> Result<StatusChanges, ApiError> {
    let ids = bulk_ids(ids)?;
    in_account(app, admin, ids, move |conn, admin, users, now| {
        let joining = users.iter().filter(|u| !u.is_active()).count();
        let in_use = repo::count_in_account(conn, admin.account_id())?;
        // Re-read in the transaction: the billing system may have just
        // changed the licence count.
        let licenses = crate::accounts::repo::find(conn, admin.account_id())?
            .ok_or(ApiError::NotFound)?
            .licenses;
        if joining > 0 && in_use + i64::try_from(joining).unwrap_or(i64::MAX) > i64::from(licenses)
        {
            return Err(no_licence_free(licenses));
        }
        let mut results = Vec::with_capacity(users.len());
        for user in users {
            if user.is_active() || !lifecycle::reactivate(conn, &user.id)? {
                results.push(unchanged(&user));
                continue;
            }
            let detail = Detail::UserReactivated(UserReactivated {
                email: user.email.clone(),
            });
            let event = event(admin, &user.id, kind::USER_REACTIVATED, ip, detail);
            audit::record(conn, event, now)?;
            results.push(StatusChange {
                user_id: user.id,
                changed: true,
                status: UserStatus::Active,
                deactivated_at: None,
                sessions_revoked: None,
            });
        }
        Ok(StatusChanges { results })
    })
    .await
}

/// Deletes each user: their factors, credentials, sessions and logins in
/// progress go, the email is free for a new user, and the audit trail keeps
/// their id and (in `user.deleted`) who they were.
pub async fn delete(
    app: &AppState,
    admin: Admin,
    ids: Vec<UserId>,
    ip: IpAddr,
) -> Result<RemovedUsers, ApiError> {
    taking_off(app, admin, ids, move |conn, admin, users, now| {
        let mut results = Vec::with_capacity(users.len());
        for user in users {
            let revoked = end_access(conn, &user, "user_deleted", now)?;
            let detail = Detail::UserDeleted(UserDeleted {
                email: user.email.clone(),
                name: user.name.clone(),
                role: user.role(),
            });
            let event = event(admin, &user.id, kind::USER_DELETED, ip, detail);
            audit::record(conn, event, now)?;
            if !lifecycle::delete(conn, &user.id)? {
                // Removed by a racing request: cannot happen while this
                // transaction holds the account row, and a 404 rolls back.
                return Err(ApiError::NotFound);
            }
            results.push(RemovedUser {
                user_id: user.id,
                email: user.email,
                sessions_revoked: revoked,
            });
        }
        Ok(RemovedUsers { results })
    })
    .await
}

/// The result for a user who already had the requested status.
fn unchanged(user: &User) -> StatusChange {
    StatusChange {
        user_id: user.id.clone(),
        changed: false,
        status: user.status(),
        deactivated_at: user.deactivated_at.map(rfc3339),
        sessions_revoked: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(result: Result<(), ApiError>) -> &'static str {
        result.err().map_or("ok", |e| e.code().as_str())
    }

    #[test]
    fn an_admin_never_takes_themselves_off() {
        let ids = vec![UserId::from("other"), UserId::from("me")];
        assert_eq!(code(refuse_self(&ids, &"me".into())), "cannot_act_on_self");
        assert_eq!(code(refuse_self(&ids[..1], &"me".into())), "ok");
    }

    #[test]
    fn the_account_keeps_an_active_admin() {
        assert_eq!(code(keep_an_admin(2, 1)), "ok");
        assert_eq!(code(keep_an_admin(1, 0)), "ok");
        // Two admins taking each other off at once: the second finds itself
        // the last one standing.
        assert_eq!(code(keep_an_admin(1, 1)), "last_admin");
        assert_eq!(code(keep_an_admin(3, 3)), "last_admin");
    }

    #[test]
    fn only_active_admins_count_as_leaving() {
        let user = |role: Role, deactivated: Option<i64>| {
            let email = ("a@example.com".to_owned(), "a@example.com".to_owned());
            let mut u = User::new(&"acc".into(), email, "A".into(), role, String::new(), 0);
            u.deactivated_at = deactivated;
            u
        };
        let users = [
            user(Role::Admin, None),
            user(Role::Admin, Some(5)),
            user(Role::Technician, None),
        ];
        assert_eq!(active_admins(&users), 1);
    }
}
