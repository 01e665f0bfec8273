//! HTTP for taking users off the admin's account: deactivate, reactivate
//! and delete, one by one or in bulk. The bulk paths
//! (`/v1/admin/users/deactivate`…) are static segments beside
//! `/v1/admin/users/{id}`; every route here carries its method guard, so a
//! `POST` to them never lands on the `{id}` resource (see `api/lib.rs`).

use actix_web::{delete, post, web, HttpResponse};

use super::dto::{RemovedUsers, StatusChanges, UserIdsRequest};
use super::{users_service as service, Admin};
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ClientIp};
use crate::state::AppState;

/// Deactivate one user.
///
/// The user cannot sign in any more: every session and refresh token ends
/// at once, and so does any login or enrollment in progress. Their login
/// gets exactly the answer of a wrong password. Their licence is free;
/// their factors and email stay, for a later reactivation. Their 2FA can
/// still be required or reset meanwhile (it applies when they come back).
/// Deactivating a deactivated user changes nothing and answers
/// `changed: false`. An admin cannot deactivate themselves
/// (`cannot_act_on_self`), and the account keeps an active admin
/// (`last_admin`). Audited (`user.deactivated`).
#[utoipa::path(
    operation_id = "deactivate_user",
    tag = "admin",
    security(("accessToken" = [])),
    params(("id" = uuid::Uuid, Path, description = "User id")),
    responses(
        (status = 200, description = "The result", body = StatusChanges),
        (status = 401, description = "Bad access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin, or a second factor is needed, or the IP allow-list refuses this address (`ip_not_allowed`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user in this account (`not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The admin's own user (`cannot_act_on_self`), or the account's last active admin (`last_admin`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/admin/users/{id}/deactivate")]
pub async fn deactivate_one(
    app: web::Data<AppState>,
    admin: Admin,
    ClientIp(ip): ClientIp,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let result = service::deactivate(&app, admin, vec![id.into_inner().into()], ip).await?;
    Ok(HttpResponse::Ok().json(result))
}

/// Reactivate one user.
///
/// The user signs in again with the password and factors they had. Needs a
/// free licence (`license_limit_reached` otherwise). Reactivating an
/// active user changes nothing and answers `changed: false`. Audited
/// (`user.reactivated`).
#[utoipa::path(
    operation_id = "reactivate_user",
    tag = "admin",
    security(("accessToken" = [])),
    params(("id" = uuid::Uuid, Path, description = "User id")),
    responses(
        (status = 200, description = "The result", body = StatusChanges),
        (status = 401, description = "Bad access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin, or a second factor is needed, or the IP allow-list refuses this address (`ip_not_allowed`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user in this account (`not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Every licence is in use (`license_limit_reached`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/admin/users/{id}/reactivate")]
pub async fn reactivate_one(
    app: web::Data<AppState>,
    admin: Admin,
    ClientIp(ip): ClientIp,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let result = service::reactivate(&app, admin, vec![id.into_inner().into()], ip).await?;
    Ok(HttpResponse::Ok().json(result))
}

/// Delete one user.
///
/// Removes the person for good: their authenticator, recovery code,
/// passkeys, sessions, refresh tokens and logins in progress. The email is
/// free again (a new user may be created with it and signs in with it).
/// The audit trail keeps the user's id; `user.deleted` records the email,
/// name and role they had. An admin cannot delete themselves
/// (`cannot_act_on_self`), and the account keeps an active admin
/// (`last_admin`).
#[utoipa::path(
    operation_id = "delete_user",
    tag = "admin",
    security(("accessToken" = [])),
    params(("id" = uuid::Uuid, Path, description = "User id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Bad access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin, or a second factor is needed, or the IP allow-list refuses this address (`ip_not_allowed`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user in this account (`not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The admin's own user (`cannot_act_on_self`), or the account's last active admin (`last_admin`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete(
    "/v1/admin/users/{id}",
    guard = "crate::ops::fallback::not_a_literal_path"
)]
pub async fn delete_one(
    app: web::Data<AppState>,
    admin: Admin,
    ClientIp(ip): ClientIp,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    service::delete(&app, admin, vec![id.into_inner().into()], ip).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Deactivate the selected users (all or nothing).
///
/// As `POST /v1/admin/users/{id}/deactivate`, for each: one result and one
/// audit event per user. Unknown ids, or ids of another account, answer 404
/// and a refused user (yourself, the last admin) 409, with nothing changed.
#[utoipa::path(
    operation_id = "deactivate_users",
    tag = "admin",
    security(("accessToken" = [])),
    request_body = UserIdsRequest,
    responses(
        (status = 200, description = "Per-user results", body = StatusChanges),
        (status = 400, description = "Malformed body or 0 / more than 500 ids (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Bad access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin, or a second factor is needed, or the IP allow-list refuses this address (`ip_not_allowed`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "An id is not a user of this account; nothing changed", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The ids include the admin (`cannot_act_on_self`) or the last active admin (`last_admin`); nothing changed", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/admin/users/deactivate")]
pub async fn deactivate_many(
    app: web::Data<AppState>,
    admin: Admin,
    ClientIp(ip): ClientIp,
    body: ApiJson<UserIdsRequest>,
) -> Result<HttpResponse, ApiError> {
    let result = service::deactivate(&app, admin, body.0.user_ids, ip).await?;
    Ok(HttpResponse::Ok().json(result))
}

/// Reactivate the selected users (all or nothing).
///
/// As `POST /v1/admin/users/{id}/reactivate`, for each; the licences must
/// cover every user it reactivates (`license_limit_reached` otherwise, with
/// nothing changed). Unknown ids, or ids of another account, answer 404.
#[utoipa::path(
    operation_id = "reactivate_users",
    tag = "admin",
    security(("accessToken" = [])),
    request_body = UserIdsRequest,
    responses(
        (status = 200, description = "Per-user results", body = StatusChanges),
        (status = 400, description = "Malformed body or 0 / more than 500 ids (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Bad access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin, or a second factor is needed, or the IP allow-list refuses this address (`ip_not_allowed`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "An id is not a user of this account; nothing changed", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not enough free licences (`license_limit_reached`); nothing changed", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/admin/users/reactivate")]
pub async fn reactivate_many(
    app: web::Data<AppState>,
    admin: Admin,
    ClientIp(ip): ClientIp,
    body: ApiJson<UserIdsRequest>,
) -> Result<HttpResponse, ApiError> {
    let result = service::reactivate(&app, admin, body.0.user_ids, ip).await?;
    Ok(HttpResponse::Ok().json(result))
}

/// Delete the selected users (all or nothing).
///
/// As `DELETE /v1/admin/users/{id}`, for each, answering who was removed.
/// Unknown ids, or ids of another account, answer 404 and a refused user
/// (yourself, the last admin) 409, with nothing changed.
#[utoipa::path(
    operation_id = "delete_users",
    tag = "admin",
    security(("accessToken" = [])),
    request_body = UserIdsRequest,
    responses(
        (status = 200, description = "The users removed", body = RemovedUsers),
        (status = 400, description = "Malformed body or 0 / more than 500 ids (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Bad access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin, or a second factor is needed, or the IP allow-list refuses this address (`ip_not_allowed`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "An id is not a user of this account; nothing changed", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The ids include the admin (`cannot_act_on_self`) or the last active admin (`last_admin`); nothing changed", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/admin/users/delete")]
pub async fn delete_many(
    app: web::Data<AppState>,
    admin: Admin,
    ClientIp(ip): ClientIp,
    body: ApiJson<UserIdsRequest>,
) -> Result<HttpResponse, ApiError> {
    let result = service::delete(&app, admin, body.0.user_ids, ip).await?;
    Ok(HttpResponse::Ok().json(result))
}
