//! `GET /v1/admin/audit-events`: the account's audit trail.

use actix_web::{get, web, HttpResponse};

use super::cursor;
use super::dto::{AuditActor, AuditEvent, AuditPage, AuditParams};
use super::Admin;
use crate::audit;
use crate::clock::rfc3339;
use crate::error::{ApiError, Problem};
use crate::state::AppState;

/// Who did what to whom, when and from where; newest first.
#[utoipa::path(
    operation_id = "admin_list_audit_events",
    tag = "admin",
    security(("access_token" = [])),
    params(AuditParams),
    responses(
        (status = 200, description = "A page of events", body = AuditPage),
        (status = 400, description = "Unknown kind, bad cursor or limit (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Bad access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin, or a second factor is needed, or the IP allow-list refuses this address (`ip_not_allowed`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/admin/audit-events")]
pub async fn list(
    app: web::Data<AppState>,
    admin: Admin,
    params: web::Query<AuditParams>,
) -> Result<HttpResponse, ApiError> {
    let params = params.into_inner();
    let limit = cursor::limit(params.limit)?;
    if let Some(kind) = &params.kind {
        if !audit::kind::ALL.contains(&kind.as_str()) {
            return Err(ApiError::field(
                "kind",
                format!("one of: {}", audit::kind::ALL.join(", ")),
            ));
        }
    }
    let before = params
        .cursor
        .as_deref()
        .map(cursor::decode::<(i64, String)>)
        .transpose()?;
    let account_id = admin.account_id().to_owned();
    let mut rows = app
        .db
        .run(move |conn| {
            audit::page(
                conn,
                &account_id,
                params.user_id.as_deref(),
                params.kind.as_deref(),
                before,
                limit,
            )
        })
        .await?;
    let page_size = usize::try_from(limit).unwrap_or(usize::MAX);
    let more = rows.len() > page_size;
    rows.truncate(page_size);
    let next_cursor = match (more, rows.last()) {
        (true, Some(last)) => Some(cursor::encode(&(last.created_at, &last.id))),
        _ => None,
    };
    let items = rows
        .into_iter()
        .map(|row| AuditEvent {
            detail: serde_json::from_str(&row.detail).unwrap_or(serde_json::Value::Null),
            created_at: rfc3339(row.created_at),
            actor: AuditActor {
                kind: row.actor_kind,
                user_id: row.actor_user_id,
            },
            id: row.id,
            kind: row.kind,
            subject_user_id: row.subject_user_id,
            ip: row.ip,
        })
        .collect();
    Ok(HttpResponse::Ok().json(AuditPage { items, next_cursor }))
}
