//! Admin rules for the users of the admin's own account, one file per use
//! case: finding and showing users (here), adding and changing them
//! ([`edit`]), requiring or resetting their 2FA ([`twofa_actions`]), and
//! deactivating, reactivating and deleting them ([`lifecycle`]).
//! A user of another account is never found: it answers 404, like no user.

mod edit;
mod lifecycle;
mod twofa_actions;

use std::net::IpAddr;

use std::collections::HashSet;

use super::cursor;
use super::dto::{AdminUser, ListParams, UserPage};
use super::guard::Admin;
use super::users_repo::{self as repo, ListQuery};
use crate::accounts::Account;
use crate::audit::{Actor, Event};
use crate::clock::rfc3339;
use crate::db::DbConn;
use crate::error::ApiError;
use crate::ids::UserId;
use crate::state::AppState;
use crate::twofa::service as twofa;
use crate::users::{Role, TwofaStatus, User, UserStatus};

pub use edit::{create, update};
pub use lifecycle::{deactivate, delete, reactivate};
pub use twofa_actions::{bulk_ids, enable, reset, MAX_BULK};

/// The second factors a user holds, as the list shows them.
#[derive(Debug, Clone, Copy, Default)]
pub struct Factors {
    pub totp: bool,
    pub recovery_code: bool,
    pub webauthn: bool,
}

/// The list row of `user`. The status comes from `twofa_enrolled` (an app
/// or a passkey), the same column the `twofa_status` filter reads.
pub fn row(user: &User, account: &Account, factors: Factors, now: i64) -> AdminUser {
    let required_by = twofa::required_by(user, account, now);
    let methods = twofa::methods(factors.totp, factors.recovery_code, factors.webauthn);
    AdminUser {
        id: user.id.clone(),
        email: user.email.clone(),
        name: user.name.clone(),
        role: user.role(),
        status: user.status(),
        deactivated_at: user.deactivated_at.map(rfc3339),
        twofa_status: twofa::status(user.twofa_enrolled, !required_by.is_empty()),
        twofa_required: !required_by.is_empty(),
        required_by,
        methods,
        last_login_at: user.last_login_at.map(rfc3339),
        created_at: rfc3339(user.created_at),
    }
}

fn rows(
    conn: &mut DbConn,
    users: &[User],
    account: &Account,
    now: i64,
) -> Result<Vec<AdminUser>, ApiError> {
    let ids: Vec<UserId> = users.iter().map(|u| u.id.clone()).collect();
    let with_app: HashSet<UserId> = repo::with_authenticator(conn, &ids)?.into_iter().collect();
    let with_code: HashSet<UserId> = repo::with_recovery_code(conn, &ids)?.into_iter().collect();
    let with_keys: HashSet<UserId> = crate::webauthn::repo::users_with_credentials(conn, &ids)?
        .into_iter()
        .collect();
    Ok(users
        .iter()
        .map(|u| {
            let factors = Factors {
                totp: with_app.contains(&u.id),
                recovery_code: with_code.contains(&u.id),
                webauthn: with_keys.contains(&u.id),
            };
            row(u, account, factors, now)
        })
        .collect())
}

pub async fn list(app: &AppState, admin: &Admin, params: ListParams) -> Result<UserPage, ApiError> {
    let now = app.now();
    let limit = cursor::limit(params.limit)?;
    let after = cursor::start_after::<(String, String)>(params.cursor.as_deref())?;
    let term = match params.name.as_deref().map(str::trim) {
        Some("") | None => None,
        Some(term) if term.chars().count() > 200 => {
            return Err(ApiError::field("name", "must be at most 200 characters"))
        }
        Some(term) => Some(term.to_lowercase()),
    };
    let enforced = admin.account.enforces_twofa(now);
    // The status is derived from two columns and the account's enforcement,
    // which is the same for every row: resolve it to column filters.
    let (enrolled, required_flag) = match params.twofa_status {
        None => (None, None),
        Some(TwofaStatus::Enabled) => (Some(true), None),
        Some(TwofaStatus::Pending) if enforced => (Some(false), None),
        Some(TwofaStatus::Pending) => (Some(false), Some(true)),
        Some(TwofaStatus::Disabled) if enforced => {
            return Ok(UserPage {
                items: Vec::new(),
                next_cursor: None,
            })
        }
        Some(TwofaStatus::Disabled) => (Some(false), Some(false)),
    };
    let account = admin.account.clone();
    app.db
        .run(move |conn| {
            let users = repo::page(
                conn,
                ListQuery {
                    account_id: &account.id,
                    term,
                    role: params.role.map(Role::as_str),
                    enrolled,
                    required_flag,
                    active: params.status.map(|s| s == UserStatus::Active),
                    after,
                    limit,
                },
            )?;
            let page = cursor::page(users, limit, |last| {
                (last.name_lower.clone(), last.id.clone())
            });
            Ok(UserPage {
                items: rows(conn, &page.items, &account, now)?,
                next_cursor: page.next_cursor,
            })
        })
        .await
}

pub async fn get(app: &AppState, admin: &Admin, id: UserId) -> Result<AdminUser, ApiError> {
    let now = app.now();
    let account = admin.account.clone();
    app.db
        .run(move |conn| {
            let user = repo::find_in_account(conn, &account.id, &id)?.ok_or(ApiError::NotFound)?;
            Ok(rows(conn, &[user], &account, now)?.remove(0))
        })
        .await
}

/// An audit event of `admin` acting on `subject`.
fn event<'a>(
    admin: &'a Admin,
    subject: &'a UserId,
    kind: crate::audit::AuditKind,
    ip: IpAddr,
    detail: crate::audit::Detail,
) -> Event<'a> {
    Event {
        account_id: admin.account_id(),
        actor: Actor::User(admin.user_id().clone()),
        subject_user_id: Some(subject),
        kind,
        ip: Some(ip.to_string()),
        detail,
    }
}
