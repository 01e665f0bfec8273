//! HTTP for the signed-in user's remembered devices: `/v1/me/devices`.

use actix_web::{delete, get, web, HttpResponse};

use super::dto::DeviceList;
use super::service;
use crate::error::{ApiError, Problem};
use crate::extract::ClientIp;
use crate::sessions::Authenticated;
use crate::state::AppState;

/// List the browsers remembered for skipping the second factor.
///
/// Each was remembered at a login that proved a second factor with
/// `remember_device: true`, on an account whose admin allows it
/// (`remember_device_days`). `expires_at` is when its trust ends, sooner
/// than granted if the admin has shortened the window since.
#[utoipa::path(
    operation_id = "list_my_devices",
    tag = "me",
    security(("accessToken" = [])),
    responses(
        (status = 200, description = "Remembered devices, newest first", body = DeviceList),
        (status = 401, description = "Missing (`unauthorized`), invalid, expired or revoked (`invalid_token`) access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "2FA is required and not set up (`enrollment_required`), or the account's IP allow-list refuses this address (`ip_not_allowed`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/me/devices")]
pub async fn list(
    app: web::Data<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(service::list(&app, &caller).await?))
}

/// Forget one remembered device.
///
/// Its device token is refused from now on: the next login from that
/// browser asks for the second factor again. Audited (`device.forgotten`).
#[utoipa::path(
    operation_id = "delete_my_device",
    tag = "me",
    security(("accessToken" = [])),
    params(("id" = uuid::Uuid, Path, description = "Device id, from `GET /v1/me/devices`")),
    responses(
        (status = 204, description = "Forgotten"),
        (status = 401, description = "Missing (`unauthorized`), invalid, expired or revoked (`invalid_token`) access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "2FA is required and not set up (`enrollment_required`), or the account's IP allow-list refuses this address (`ip_not_allowed`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No remembered device of the caller has this id (`not_found`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/v1/me/devices/{id}")]
pub async fn forget(
    app: web::Data<AppState>,
    Authenticated(caller): Authenticated,
    ClientIp(ip): ClientIp,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    service::forget(&app, &caller, id.into_inner(), ip).await?;
    Ok(HttpResponse::NoContent().finish())
}
