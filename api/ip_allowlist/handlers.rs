//! HTTP for `/v1/admin/ip-allowlist` and the switch in
//! `PATCH /v1/admin/security`.

use actix_web::{delete, get, patch, post, web, HttpResponse};
use serde_json::json;

use super::dto::{AllowlistView, DeleteParams, EntryView, NewEntry, SecurityUpdate};
use super::repo::{self, Entry};
use super::{Rule, MAX_ENTRIES};
use crate::admin::dto::SecuritySettings;
use crate::admin::Admin;
use crate::audit::{self, kind, Actor, Event};
use crate::clock::rfc3339;
use crate::db::write_tx;
use crate::error::{ApiError, ErrorCode, Problem};
use crate::extract::{ApiJson, ClientIp};
use crate::net::{canonical, parse_cidr_or_ip};
use crate::state::AppState;

fn view(entry: Entry) -> EntryView {
    EntryView {
        id: entry.id,
        cidr: entry.cidr,
        description: entry.description,
        created_at: rfc3339(entry.created_at),
    }
}

fn would_lock_out(ip: std::net::IpAddr) -> ApiError {
    ApiError::Conflict {
        code: ErrorCode::WouldLockOut,
        detail: format!(
            "Your current address {} would no longer be allowed. Add an entry for it first, or repeat with force: true.",
            canonical(ip)
        ),
    }
}

fn changed<'a>(admin: &'a Admin, ip: &str, detail: serde_json::Value) -> Event<'a> {
    Event {
        account_id: admin.account_id(),
        actor: Actor::User(admin.user_id().to_owned()),
        subject_user_id: None,
        kind: kind::IP_ALLOWLIST_CHANGED,
        ip: Some(ip.to_owned()),
        detail,
    }
}

/// The account's allow-list, and whether this request's address is on it.
#[utoipa::path(
    operation_id = "admin_get_ip_allowlist",
    tag = "admin",
    security(("access_token" = [])),
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
    let account_id = admin.account_id().to_owned();
    let entries = app
        .db
        .run(move |conn| repo::list(conn, &account_id))
        .await?;
    let nets = entries
        .iter()
        .filter_map(|e| repo::parse_stored(&e.cidr))
        .collect();
    let listed = Rule {
        enabled: true,
        nets,
    }
    .allows(ip);
    Ok(HttpResponse::Ok().json(AllowlistView {
        // The Admin extractor read the account during this request.
        enabled: admin.account.ip_allowlist_enabled,
        your_address: canonical(ip).to_string(),
        your_address_listed: listed,
        entries: entries.into_iter().map(view).collect(),
    }))
}

/// Add an address or CIDR range.
#[utoipa::path(
    operation_id = "admin_add_ip_allowlist_entry",
    tag = "admin",
    security(("access_token" = [])),
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
    let body = body.0;
    let net = parse_cidr_or_ip(&body.cidr).map_err(|hint| ApiError::field("cidr", hint))?;
    let description = crate::text::validate("description", &body.description, 0, 200)?;
    let now = app.now();
    let entry = Entry {
        // Time-ordered, so entries of the same second list in order.
        id: uuid::Uuid::now_v7().to_string(),
        account_id: admin.account_id().to_owned(),
        cidr: net.to_string(),
        description,
        created_at: now,
        created_by: Some(admin.user_id().to_owned()),
    };
    let account_id = admin.account_id().to_owned();
    let saved = entry.clone();
    app.db
        .run(move |conn| {
            write_tx(conn, |conn| {
                crate::accounts::repo::lock(conn, admin.account_id())?;
                if repo::count(conn, admin.account_id())? >= MAX_ENTRIES {
                    return Err(ApiError::Conflict {
                        code: ErrorCode::AllowlistFull,
                        detail: format!("An allow-list holds at most {MAX_ENTRIES} entries."),
                    });
                }
                repo::insert(conn, &saved)?;
                let detail = json!({ "added": saved.cidr, "description": saved.description });
                audit::record(conn, changed(&admin, &ip.to_string(), detail), now)
            })
        })
        .await?;
    app.allowlists.invalidate(&account_id);
    Ok(HttpResponse::Created().json(view(entry)))
}

/// Remove an entry.
///
/// Refused with 409 `would_lock_out` when the list is on and your own
/// address would no longer be allowed, unless `force=true`.
#[utoipa::path(
    operation_id = "admin_delete_ip_allowlist_entry",
    tag = "admin",
    security(("access_token" = [])),
    params(("id" = String, Path, description = "Entry id"), DeleteParams),
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
    let now = app.now();
    let account_id = admin.account_id().to_owned();
    app.db
        .run(move |conn| {
            write_tx(conn, |conn| {
                let entry = repo::find(conn, admin.account_id(), &id)?.ok_or(ApiError::NotFound)?;
                let mut rule = repo::rule(conn, admin.account_id())?;
                let removed = repo::parse_stored(&entry.cidr);
                rule.nets.retain(|net| Some(*net) != removed);
                if !force && !rule.allows(ip) {
                    return Err(would_lock_out(ip));
                }
                repo::delete(conn, &entry.id)?;
                let detail = json!({ "removed": entry.cidr, "forced": force });
                audit::record(conn, changed(&admin, &ip.to_string(), detail), now)
            })
        })
        .await?;
    app.allowlists.invalidate(&account_id);
    Ok(HttpResponse::NoContent().finish())
}

/// Change the account's security settings: turn the IP allow-list on or off.
///
/// Turning it on so that your own current address would be refused answers
/// 409 `would_lock_out`, unless `force` is true.
#[utoipa::path(
    operation_id = "admin_update_security",
    tag = "admin",
    security(("access_token" = [])),
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
    let update = body.0;
    let now = app.now();
    let account_id = admin.account_id().to_owned();
    let settings = app
        .db
        .run(move |conn| {
            write_tx(conn, |conn| {
                if let Some(enabled) = update.ip_allowlist_enabled {
                    let mut rule = repo::rule(conn, admin.account_id())?;
                    rule.enabled = enabled;
                    if enabled && !update.force && !rule.allows(ip) {
                        return Err(would_lock_out(ip));
                    }
                    repo::set_enabled(conn, admin.account_id(), enabled)?;
                    let detail = json!({ "enabled": enabled, "forced": update.force });
                    audit::record(conn, changed(&admin, &ip.to_string(), detail), now)?;
                }
                let account = crate::accounts::repo::find(conn, admin.account_id())?
                    .ok_or(ApiError::NotFound)?;
                let users = crate::admin::users_repo::count_in_account(conn, &account.id)?;
                Ok(crate::admin::security::settings(&account, users, now))
            })
        })
        .await?;
    app.allowlists.invalidate(&account_id);
    Ok(HttpResponse::Ok().json(settings))
}
