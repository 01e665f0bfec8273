//! `GET /v1/admin/security`: the account's enforcement state and settings.

use actix_web::{get, web, HttpResponse};

use super::dto::{EnforcementState, SecuritySettings};
use super::{users_repo, Admin};
use crate::accounts::Account;
use crate::clock::rfc3339;
use crate::error::{ApiError, Problem};
use crate::state::AppState;

pub fn settings(account: &Account, users: i64, now: i64) -> SecuritySettings {
    let enforcement = match account.enforced_from() {
        None => EnforcementState::Trial,
        Some(from) if now < from => EnforcementState::Scheduled,
        Some(_) => EnforcementState::Enforced,
    };
    SecuritySettings {
        account_id: account.id.clone(),
        name: account.name.clone(),
        licenses: account.licenses,
        users,
        paying_since: account.paying_since.map(rfc3339),
        enforcement,
        enforced_from: account.enforced_from().map(rfc3339),
        ip_allowlist_enabled: account.ip_allowlist_enabled,
        remember_device_days: account.remember_device_days,
    }
}

/// The account's security settings and 2FA enforcement state.
///
/// `enforcement` is `trial` (2FA only for users an admin chose), `scheduled`
/// or `enforced` (every user must use 2FA); `enforced_from` is when it
/// becomes mandatory for everyone: one day after the account starts paying.
#[utoipa::path(
    operation_id = "get_security_settings",
    tag = "admin",
    security(("accessToken" = [])),
    responses(
        (status = 200, description = "Settings", body = SecuritySettings),
        (status = 401, description = "Bad access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin, or a second factor is needed, or the IP allow-list refuses this address (`ip_not_allowed`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/admin/security")]
pub async fn get(app: web::Data<AppState>, admin: Admin) -> Result<HttpResponse, ApiError> {
    let now = app.now();
    let account = admin.account;
    let users = {
        let id = account.id.clone();
        app.db
            .run(move |conn| users_repo::count_in_account(conn, &id))
            .await?
    };
    Ok(HttpResponse::Ok().json(settings(&account, users, now)))
}
