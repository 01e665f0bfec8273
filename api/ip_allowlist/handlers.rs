//! HTTP for `/v1/admin/ip-allowlist` and the switch in
//! `PATCH /v1/admin/security`: extract, call [`super::service`], answer.

use actix_web::{delete, get, patch, post, web, HttpResponse};

use super::dto::{AllowlistView, DeleteParams, EntryView, NewEntry, SecurityUpdate};
use super::service;
use crate::admin::dto::SecuritySettings;
use crate::admin::Admin;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ClientIp};
use crate::state::AppState;

/// The account's allow-list, and whether this request's address is on it.
///
/// While the list is off (`ip_allowlist_enabled` in `/v1/admin/security`),
/// every address may sign in. `your_address` is the address this request
/// came from, as the service sees it (after `TWOFOLD_TRUSTED_PROXIES`), so an
/// admin can add it before switching the list on.
#[utoipa::path(
    operation_id = "get_ip_allowlist",
    tag = "admin",
    security(("accessToken" = [])),
    responses(
        (status = 200, description = "The list", body = AllowlistView),
        (status = 401, description = "Bad access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin, a second factor is needed, or this address is not allowed (`ip_not_allowed`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/admin/ip-allowlist")]
pub async fn list(
    app: web::Data<AppState>,
    admin: Admin,
    ClientIp(ip): ClientIp,
) -> Result<HttpResponse, ApiError> {
    let view = service::list(&app, &admin, ip).await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Add an address or CIDR range.
///
/// A single address (IPv4 or IPv6) or a CIDR range, with a description.
/// Adding an entry only widens the list, so it never locks anyone out.
/// Audited.
#[utoipa::path(
    operation_id = "add_ip_allowlist_entry",
    tag = "admin",
    security(("accessToken" = [])),
    request_body = NewEntry,
    responses(
        (status = 201, description = "Added", body = EntryView),
        (status = 400, description = "Not an address or range, or host bits set — the hint names the network (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Bad access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin, a second factor is needed, or this address is not allowed, or the IP allow-list refuses this address (`ip_not_allowed`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already listed (`duplicate_entry`) or the list is full (`allowlist_full`)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/admin/ip-allowlist")]
pub async fn add(
    app: web::Data<AppState>,
    admin: Admin,
    ClientIp(ip): ClientIp,
    body: ApiJson<NewEntry>,
) -> Result<HttpResponse, ApiError> {
    let entry = service::add(&app, admin, ip, body.0).await?;
    Ok(HttpResponse::Created().json(entry))
}

/// Remove an entry.
///
/// Refused with 409 `would_lock_out` when the list is on and your own
/// address would no longer be allowed, unless `force=true`.
#[utoipa::path(
    operation_id = "delete_ip_allowlist_entry",
    tag = "admin",
    security(("accessToken" = [])),
    params(("id" = uuid::Uuid, Path, description = "Entry id"), DeleteParams),
    responses(
        (status = 204, description = "Removed"),
        (status = 400, description = "Bad `force` value (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Bad access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin, a second factor is needed, or this address is not allowed, or the IP allow-list refuses this address (`ip_not_allowed`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such entry in this account", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Would refuse your own address (`would_lock_out`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/v1/admin/ip-allowlist/{id}")]
pub async fn remove(
    app: web::Data<AppState>,
    admin: Admin,
    ClientIp(ip): ClientIp,
    id: web::Path<String>,
    params: web::Query<DeleteParams>,
) -> Result<HttpResponse, ApiError> {
    let force = params.force.unwrap_or(false);
    service::remove(&app, admin, ip, id.into_inner(), force).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Change the account's security settings: the IP allow-list and remembered devices.
///
/// Turning the allow-list on so that your own current address would be
/// refused answers 409 `would_lock_out`, unless `force` is true.
/// `remember_device_days` (0–90) lets users skip the second factor on a
/// browser that proved one that many days ago at most; lowering it
/// shortens every remembered device at once, 0 ends them all. Both audited.
#[utoipa::path(
    operation_id = "update_security_settings",
    tag = "admin",
    security(("accessToken" = [])),
    request_body = SecurityUpdate,
    responses(
        (status = 200, description = "The new settings", body = SecuritySettings),
        (status = 400, description = "Malformed body (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Bad access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin, a second factor is needed, or this address is not allowed, or the IP allow-list refuses this address (`ip_not_allowed`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Would refuse your own address (`would_lock_out`)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/v1/admin/security")]
pub async fn update_security(
    app: web::Data<AppState>,
    admin: Admin,
    ClientIp(ip): ClientIp,
    body: ApiJson<SecurityUpdate>,
) -> Result<HttpResponse, ApiError> {
    let settings = service::update_security(&app, admin, ip, body.0).await?;
    Ok(HttpResponse::Ok().json(settings))
}
