//! Admin rules for users: create, update, list, enable and reset 2FA.

use std::collections::HashSet;

use serde_json::json;

use super::cursor;
use super::dto::{
    AdminUser, BulkResult, CreateUserRequest, CreatedUser, ListParams, UpdateUserRequest, UserPage,
    UserResult,
};
use super::guard::Admin;
use super::users_repo::{self as repo, ListQuery};
use crate::accounts::Account;
use crate::audit::{self, kind, Actor, Event};
use crate::clock::rfc3339;
use crate::db::{write_tx, DbConn};
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;
use crate::twofa::service as twofa;
use crate::users::identity::validate_name;
use crate::users::{normalize_email, Role, TwofaStatus, User};

pub const MAX_BULK: usize = 500;

/// The list row of `user`.
pub fn row(user: &User, account: &Account, factors: (bool, bool), now: i64) -> AdminUser {
    let (has_recovery_code, has_webauthn) = factors;
    let required_by = twofa::required_by(user, account, now);
    let methods = twofa::methods(user.twofa_enrolled, has_recovery_code, has_webauthn);
    AdminUser {
        id: user.id.clone(),
        email: user.email.clone(),
        name: user.name.clone(),
        role: user.role(),
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
    let ids: Vec<String> = users.iter().map(|u| u.id.clone()).collect();
    let with_code: HashSet<String> = repo::with_recovery_code(conn, &ids)?.into_iter().collect();
    let with_keys: HashSet<String> = crate::webauthn::repo::users_with_credentials(conn, &ids)?
        .into_iter()
        .collect();
    Ok(users
        .iter()
        .map(|u| {
            row(
                u,
                account,
                (with_code.contains(&u.id), with_keys.contains(&u.id)),
                now,
            )
        })
        .collect())
}

pub async fn list(app: &AppState, admin: &Admin, params: ListParams) -> Result<UserPage, ApiError> {
    let now = app.now();
    let limit = cursor::limit(params.limit)?;
    let after = params
        .cursor
        .as_deref()
        .map(cursor::decode::<(String, String)>)
        .transpose()?;
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
    let (enrolled, required_flag) = match params.twofa_status.map(TwofaStatus::from) {
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
            let mut users = repo::page(
                conn,
                ListQuery {
                    account_id: &account.id,
                    term,
                    role: params.role.map(Role::as_str),
                    enrolled,
                    required_flag,
                    after,
                    limit,
                },
            )?;
            let more = users.len() > usize::try_from(limit).unwrap_or(usize::MAX);
            users.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
            let next_cursor = match (more, users.last()) {
                (true, Some(last)) => Some(cursor::encode(&(&last.name_lower, &last.id))),
                _ => None,
            };
            Ok(UserPage {
                items: rows(conn, &users, &account, now)?,
                next_cursor,
            })
        })
        .await
}

pub async fn get(app: &AppState, admin: &Admin, id: String) -> Result<AdminUser, ApiError> {
    let now = app.now();
    let account = admin.account.clone();
    app.db
        .run(move |conn| {
            let user = repo::find_in_account(conn, &account.id, &id)?.ok_or(ApiError::NotFound)?;
            Ok(rows(conn, &[user], &account, now)?.remove(0))
        })
        .await
}

fn event<'a>(
    admin: &'a Admin,
    subject: &'a str,
    kind: &'static str,
    ip: &str,
    detail: serde_json::Value,
) -> Event<'a> {
    Event {
        account_id: admin.account_id(),
        actor: Actor::User(admin.user_id().to_owned()),
        subject_user_id: Some(subject),
        kind,
        ip: Some(ip.to_owned()),
        detail,
    }
}

pub async fn create(
    app: &AppState,
    admin: Admin,
    input: CreateUserRequest,
    ip: String,
) -> Result<CreatedUser, ApiError> {
    let email = normalize_email("email", &input.email)?;
    let name = validate_name("name", &input.name)?;
    let password = crate::accounts::service::generate_password();
    let hash = app.passwords.hash(password.clone()).await?;
    let now = app.now();
    let mut user = User::new(admin.account_id(), email, name, input.role, hash, now);
    let created = app
        .db
        .run(move |conn| {
            write_tx(conn, |conn| {
                // Re-read the account in the transaction: seats are counted
                // against the current licence count, one creation at a time.
                let account = crate::accounts::repo::find(conn, admin.account_id())?
                    .ok_or(ApiError::NotFound)?;
                crate::accounts::repo::lock(conn, &account.id)?;
                if repo::count_in_account(conn, &account.id)? >= i64::from(account.licenses) {
                    return Err(ApiError::Conflict {
                        code: ErrorCode::LicenseLimitReached,
                        detail: format!(
                            "All {} licences of the account are in use.",
                            account.licenses
                        ),
                    });
                }
                crate::users::addresses::add(conn, &mut user)?;
                let detail = json!({ "email": user.email, "role": user.role });
                audit::record(
                    conn,
                    event(&admin, &user.id, kind::USER_CREATED, &ip, detail),
                    now,
                )?;
                Ok(row(&user, &account, (false, false), now))
            })
        })
        .await?;
    Ok(CreatedUser {
        user: created,
        initial_password: password,
    })
}

pub async fn update(
    app: &AppState,
    admin: Admin,
    id: String,
    input: UpdateUserRequest,
    ip: String,
) -> Result<AdminUser, ApiError> {
    let name = input
        .name
        .as_deref()
        .map(|n| validate_name("name", n))
        .transpose()?;
    if name.is_none() && input.role.is_none() {
        return Err(ApiError::field(
            "body",
            "give at least one of name and role",
        ));
    }
    let now = app.now();
    app.db
        .run(move |conn| {
            write_tx(conn, |conn| {
                // Two admins demoting each other at once would each count two
                // admins (READ COMMITTED) and leave none: a role change holds
                // the account row until commit, so count and update are one
                // step. SQLite's write transaction is exclusive already.
                if input.role.is_some() {
                    crate::accounts::repo::lock(conn, admin.account_id())?;
                }
                let user = repo::find_in_account(conn, admin.account_id(), &id)?
                    .ok_or(ApiError::NotFound)?;
                let demoting =
                    user.role() == Role::Admin && input.role.is_some_and(|r| r != Role::Admin);
                if demoting && repo::count_admins(conn, admin.account_id())? <= 1 {
                    return Err(ApiError::Conflict {
                        code: ErrorCode::LastAdmin,
                        detail: "The account's only admin cannot lose the admin role.".to_owned(),
                    });
                }
                repo::update_profile(
                    conn,
                    &user.id,
                    name.as_deref(),
                    input.role.map(Role::as_str),
                )?;
                let detail = json!({
                    "name": name,
                    "role": input.role.map(Role::as_str),
                    "previous_role": user.role,
                });
                audit::record(
                    conn,
                    event(&admin, &user.id, kind::USER_UPDATED, &ip, detail),
                    now,
                )?;
                let updated = repo::find_in_account(conn, admin.account_id(), &user.id)?
                    .ok_or(ApiError::NotFound)?;
                Ok(rows(conn, &[updated], &admin.account, now)?.remove(0))
            })
        })
        .await
}

/// Validates and de-duplicates bulk ids, keeping their order.
pub fn bulk_ids(ids: Vec<String>) -> Result<Vec<String>, ApiError> {
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

/// All of `ids`, from the admin's account, or 404 with nothing done.
fn targets(conn: &mut DbConn, admin: &Admin, ids: &[String]) -> Result<Vec<User>, ApiError> {
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

/// Requires 2FA for each user: they meet enrollment at their next login.
pub async fn enable(
    app: &AppState,
    admin: Admin,
    ids: Vec<String>,
    ip: String,
) -> Result<BulkResult, ApiError> {
    let ids = bulk_ids(ids)?;
    let now = app.now();
    app.db
        .run(move |conn| {
            write_tx(conn, |conn| {
                let mut results = Vec::new();
                for user in targets(conn, &admin, &ids)? {
                    let changed = repo::set_required(conn, &user.id)?;
                    if changed {
                        audit::record(
                            conn,
                            event(&admin, &user.id, kind::TWOFA_REQUIRED, &ip, json!({})),
                            now,
                        )?;
                    }
                    results.push(UserResult {
                        user_id: user.id.clone(),
                        changed,
                        twofa_status: twofa::status(user.twofa_enrolled, true),
                        sessions_revoked: None,
                    });
                }
                Ok(BulkResult { results })
            })
        })
        .await
}

/// Removes each user's second factors and ends their sessions; the next
/// login enrolls a new authenticator and recovery code.
pub async fn reset(
    app: &AppState,
    admin: Admin,
    ids: Vec<String>,
    ip: String,
) -> Result<BulkResult, ApiError> {
    let ids = bulk_ids(ids)?;
    let now = app.now();
    // A stolen session must not be able to strip its own account's
    // protection: resetting oneself needs a second factor just proven.
    if ids.iter().any(|id| id == admin.user_id()) && !admin.fresh_second_factor(now) {
        return Err(ApiError::ReauthenticationRequired);
    }
    app.db
        .run(move |conn| {
            write_tx(conn, |conn| {
                let mut results = Vec::new();
                for user in targets(conn, &admin, &ids)? {
                    let actor = Actor::User(admin.user_id().to_owned());
                    let revoked = twofa::reset(conn, &user, actor, Some(ip.clone()), now)?;
                    results.push(UserResult {
                        user_id: user.id.clone(),
                        changed: true,
                        twofa_status: TwofaStatus::Pending,
                        sessions_revoked: Some(revoked),
                    });
                }
                Ok(BulkResult { results })
            })
        })
        .await
}
