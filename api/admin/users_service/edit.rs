//! Adding a user to the admin's account (within its licences) and changing
//! a user's name or role (never leaving the account without an admin).

use std::net::IpAddr;

use super::{event, row, rows, Factors};
use crate::admin::dto::{AdminUser, CreateUserRequest, CreatedUser, UpdateUserRequest};
use crate::admin::guard::Admin;
use crate::admin::users_repo as repo;
use crate::audit::detail::{UserCreated, UserUpdated};
use crate::audit::Detail;
use crate::audit::{self, kind};
use crate::db::write_tx;
use crate::error::{ApiError, ErrorCode};
use crate::ids::UserId;
use crate::state::AppState;
use crate::users::identity::validate_name;
use crate::users::{normalize_email, Role, User};

pub async fn create(
    app: &AppState,
    admin: Admin,
    input: CreateUserRequest,
    ip: IpAddr,
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
                    return Err(super::lifecycle::no_licence_free(account.licenses));
                }
                crate::users::addresses::add(conn, &mut user)?;
                let detail = Detail::UserCreated(UserCreated {
                    email: user.email.clone(),
                    role: user.role(),
                });
                audit::record(
                    conn,
                    event(&admin, &user.id, kind::USER_CREATED, ip, detail),
                    now,
                )?;
                Ok(row(&user, &account, Factors::default(), now))
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
    id: UserId,
    input: UpdateUserRequest,
    ip: IpAddr,
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
                // Only an active admin keeps the account administrable.
                let demoting = user.role() == Role::Admin
                    && user.is_active()
                    && input.role.is_some_and(|r| r != Role::Admin);
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
                let detail = Detail::UserUpdated(UserUpdated {
                    name: name.clone(),
                    role: input.role,
                    previous_role: user.role(),
                });
                audit::record(
                    conn,
                    event(&admin, &user.id, kind::USER_UPDATED, ip, detail),
                    now,
                )?;
                let updated = repo::find_in_account(conn, admin.account_id(), &user.id)?
                    .ok_or(ApiError::NotFound)?;
                Ok(rows(conn, &[updated], &admin.account, now)?.remove(0))
            })
        })
        .await
}
