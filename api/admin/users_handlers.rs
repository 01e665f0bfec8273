//! HTTP for `/v1/admin/users`.

use actix_web::{get, patch, post, web, HttpResponse};

use super::dto::{
    AdminUser, BulkResult, CreateUserRequest, CreatedUser, ListParams, UpdateUserRequest,
    UserIdsRequest, UserPage,
};
use super::{users_service as service, Admin};
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ClientIp};
use crate::ops::no_store;
use crate::state::AppState;

/// List the account's users, filtered and paged.
///
/// Ordered by name (then id), stable under inserts; `next_cursor` pages
/// through every row exactly once. Deactivated users are listed too, with
/// `status: deactivated`; `status` filters them in or out.
#[utoipa::path(
    operation_id = "list_users",
    tag = "admin",
    security(("accessToken" = [])),
    params(ListParams),
    responses(
        (status = 200, description = "A page of users", body = UserPage),
        (status = 400, description = "A filter, cursor or limit out of range (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Bad access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin (`forbidden`), or a second factor is needed (`second_factor_required`, `enrollment_required`), or the IP allow-list refuses this address (`ip_not_allowed`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/admin/users")]
pub async fn list(
    app: web::Data<AppState>,
    admin: Admin,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(service::list(&app, &admin, params.into_inner()).await?))
}

/// Create a user in the admin's account.
///
/// Answers the user with an `initial_password`, shown this once. Counts
/// against the account's licences.
#[utoipa::path(
    operation_id = "create_user",
    tag = "admin",
    security(("accessToken" = [])),
    request_body = CreateUserRequest,
    responses(
        (status = 201, description = "Created", body = CreatedUser),
        (status = 400, description = "Malformed body or invalid email, name or role (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Bad access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin, or a second factor is needed, or the IP allow-list refuses this address (`ip_not_allowed`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A user of this account has the email (`email_taken`) or no licence free (`license_limit_reached`)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/admin/users")]
pub async fn create(
    app: web::Data<AppState>,
    admin: Admin,
    ClientIp(ip): ClientIp,
    body: ApiJson<CreateUserRequest>,
) -> Result<HttpResponse, ApiError> {
    let created = service::create(&app, admin, body.0, ip).await?;
    Ok(no_store(HttpResponse::Created()).json(created))
}

/// One user of the admin's account.
///
/// A user of another account answers 404, exactly like an id that does not
/// exist.
#[utoipa::path(
    operation_id = "get_user",
    tag = "admin",
    security(("accessToken" = [])),
    params(("id" = uuid::Uuid, Path, description = "User id")),
    responses(
        (status = 200, description = "The user", body = AdminUser),
        (status = 401, description = "Bad access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin, or a second factor is needed, or the IP allow-list refuses this address (`ip_not_allowed`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user in this account (`not_found`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get(
    "/v1/admin/users/{id}",
    guard = "crate::ops::fallback::not_a_literal_path"
)]
pub async fn get(
    app: web::Data<AppState>,
    admin: Admin,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(service::get(&app, &admin, id.into_inner().into()).await?))
}

/// Change a user's name or role.
///
/// Send only the fields to change. Demoting the last admin of the account is
/// refused (`last_admin`). Audited.
#[utoipa::path(
    operation_id = "update_user",
    tag = "admin",
    security(("accessToken" = [])),
    params(("id" = uuid::Uuid, Path, description = "User id")),
    request_body = UpdateUserRequest,
    responses(
        (status = 200, description = "The updated user", body = AdminUser),
        (status = 400, description = "Malformed body, nothing to change, or an invalid value (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Bad access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin, or a second factor is needed, or the IP allow-list refuses this address (`ip_not_allowed`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user in this account", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Demoting the only admin (`last_admin`)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch(
    "/v1/admin/users/{id}",
    guard = "crate::ops::fallback::not_a_literal_path"
)]
pub async fn update(
    app: web::Data<AppState>,
    admin: Admin,
    ClientIp(ip): ClientIp,
    id: web::Path<String>,
    body: ApiJson<UpdateUserRequest>,
) -> Result<HttpResponse, ApiError> {
    let user = service::update(&app, admin, id.into_inner().into(), body.0, ip).await?;
    Ok(HttpResponse::Ok().json(user))
}

/// Require 2FA for the selected users (all or nothing).
///
/// Each meets enrollment at their next login. Unknown ids, or ids of
/// another account, answer 404 and change nothing. Deactivated users may be
/// included: the requirement applies when they are reactivated.
#[utoipa::path(
    operation_id = "enable_twofa_for_users",
    tag = "admin",
    security(("accessToken" = [])),
    request_body = UserIdsRequest,
    responses(
        (status = 200, description = "Per-user results", body = BulkResult),
        (status = 400, description = "Malformed body or 0 / more than 500 ids (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Bad access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin, or a second factor is needed, or the IP allow-list refuses this address (`ip_not_allowed`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "An id is not a user of this account; nothing changed", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/admin/users/2fa/enable")]
pub async fn enable_many(
    app: web::Data<AppState>,
    admin: Admin,
    ClientIp(ip): ClientIp,
    body: ApiJson<UserIdsRequest>,
) -> Result<HttpResponse, ApiError> {
    let result = service::enable(&app, admin, body.0.user_ids, ip).await?;
    Ok(HttpResponse::Ok().json(result))
}

/// Reset 2FA of the selected users (all or nothing).
///
/// Removes authenticator and recovery code, ends every session and refresh
/// token of each user at once; their next login shows a new QR code and a
/// new recovery code. Resetting yourself needs a second factor from the
/// last 15 minutes. Deactivated users may be included (say, a lost phone
/// before they come back): they enroll anew once reactivated.
#[utoipa::path(
    operation_id = "reset_twofa_for_users",
    tag = "admin",
    security(("accessToken" = [])),
    request_body = UserIdsRequest,
    responses(
        (status = 200, description = "Per-user results", body = BulkResult),
        (status = 400, description = "Malformed body or 0 / more than 500 ids (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Bad access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin, a second factor is needed, or resetting yourself without a fresh one (`reauthentication_required`), or the IP allow-list refuses this address (`ip_not_allowed`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "An id is not a user of this account; nothing changed", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/admin/users/2fa/reset")]
pub async fn reset_many(
    app: web::Data<AppState>,
    admin: Admin,
    ClientIp(ip): ClientIp,
    body: ApiJson<UserIdsRequest>,
) -> Result<HttpResponse, ApiError> {
    let result = service::reset(&app, admin, body.0.user_ids, ip).await?;
    Ok(HttpResponse::Ok().json(result))
}

/// Require 2FA for one user.
///
/// The user must enroll an authenticator at their next login; until then
/// their status is `pending`. Answers `changed: false` when 2FA was already
/// required. A deactivated user may be chosen too: it applies when they are
/// reactivated. Audited.
#[utoipa::path(
    operation_id = "enable_user_twofa",
    tag = "admin",
    security(("accessToken" = [])),
    params(("id" = uuid::Uuid, Path, description = "User id")),
    responses(
        (status = 200, description = "The result", body = BulkResult),
        (status = 401, description = "Bad access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin, or a second factor is needed, or the IP allow-list refuses this address (`ip_not_allowed`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user in this account", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/admin/users/{id}/2fa/enable")]
pub async fn enable_one(
    app: web::Data<AppState>,
    admin: Admin,
    ClientIp(ip): ClientIp,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let result = service::enable(&app, admin, vec![id.into_inner().into()], ip).await?;
    Ok(HttpResponse::Ok().json(result))
}

/// Reset one user's 2FA and end their sessions.
///
/// Removes the user's authenticator, recovery code and WebAuthn credentials
/// and ends every session, so the user enrolls again at the next login.
/// Answers `changed: false` when there was nothing to remove. A deactivated
/// user may be reset too: they enroll anew once reactivated. Audited.
#[utoipa::path(
    operation_id = "reset_user_twofa",
    tag = "admin",
    security(("accessToken" = [])),
    params(("id" = uuid::Uuid, Path, description = "User id")),
    responses(
        (status = 200, description = "The result", body = BulkResult),
        (status = 401, description = "Bad access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin, a second factor is needed, or resetting yourself without a fresh one, or the IP allow-list refuses this address (`ip_not_allowed`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user in this account", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/admin/users/{id}/2fa/reset")]
pub async fn reset_one(
    app: web::Data<AppState>,
    admin: Admin,
    ClientIp(ip): ClientIp,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let result = service::reset(&app, admin, vec![id.into_inner().into()], ip).await?;
    Ok(HttpResponse::Ok().json(result))
}
