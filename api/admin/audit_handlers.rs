//! `GET /v1/admin/audit-events`: the account's audit trail. HTTP only: the
//! filters, paging and how an event is shown are in [`super::audit_service`].

use actix_web::{get, web, HttpResponse};

use super::dto::{AuditPage, AuditParams};
use super::{audit_service as service, Admin};
use crate::error::{ApiError, Problem};
use crate::state::AppState;

/// Who did what to whom, when and from where; newest first.
///
/// Filter by `kind` and `user_id` (the subject or the actor); page with
/// `cursor` (the `next_cursor` of the previous page) and `limit`. Only
/// events of the admin's own account are listed.
#[utoipa::path(
    operation_id = "list_audit_events",
    tag = "admin",
    security(("accessToken" = [])),
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
    let page = service::list(&app, &admin, params.into_inner()).await?;
    Ok(HttpResponse::Ok().json(page))
}
