//! HTTP for `/v1/me`.

use actix_web::{get, post, web, HttpResponse};

use super::dto::{ChangePasswordRequest, MeResponse};
use super::service;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ClientIp};
use crate::sessions::{Authenticated, Enrolling};
use crate::state::AppState;

/// The signed-in user, their account, 2FA status and current session.
///
/// Works with any session, including one opened with the password only (`aal`
/// 1) while 2FA is not required.
#[utoipa::path(
    operation_id = "get_me",
    tag = "me",
    security(("accessToken" = [])),
    responses(
        (status = 200, description = "The caller", body = MeResponse),
        (status = 401, description = "Missing (`unauthorized`), invalid, expired or revoked (`invalid_token`) access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The account's IP allow-list refuses this address (`ip_not_allowed`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/me")]
pub async fn me(
    state: web::Data<AppState>,
    Enrolling(caller): Enrolling,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(service::profile(&state, caller).await?))
}

/// Change the caller's password.
///
/// Needs the current password. Every other session of the user is revoked;
/// the calling session stays signed in.
#[utoipa::path(
    operation_id = "change_my_password",
    tag = "me",
    security(("accessToken" = [])),
    request_body = ChangePasswordRequest,
    responses(
        (status = 204, description = "Changed"),
        (status = 400, description = "Malformed body, or a new password that breaks the rules (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Wrong current password (`invalid_credentials`) or bad access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The user has a second factor and this session did not prove it in the last 15 minutes (`reauthentication_required`), or the account's IP allow-list refuses this address (`ip_not_allowed`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`too_many_attempts`: ten wrong passwords in a row (here or at login) started a back-off, or this address failed too often; see `Retry-After`", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/me/password")]
pub async fn change_password(
    state: web::Data<AppState>,
    Authenticated(caller): Authenticated,
    ClientIp(ip): ClientIp,
    body: ApiJson<ChangePasswordRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    service::change_password(&state, caller, body.current_password, body.new_password, ip).await?;
    Ok(HttpResponse::NoContent().finish())
}
