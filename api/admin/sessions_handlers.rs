//! HTTP for an admin seeing and ending the sessions of a user of their
//! account: `/v1/admin/users/{id}/sessions`.

use actix_web::{get, post, web, HttpResponse};

use super::guard::Admin;
use crate::error::{ApiError, Problem};
use crate::extract::ClientIp;
use crate::ids::UserId;
use crate::sessions::dto::{SessionListParams, SessionPage, SessionsRevoked};
use crate::sessions::manage::{self, Paging};
use crate::state::AppState;

/// List a user's live sessions.
///
/// Newest first, as the user sees them in `GET /v1/me/sessions`; `current`
/// marks the admin's own session when the user is the admin. A user of
/// another account answers 404.
#[utoipa::path(
    operation_id = "list_user_sessions",
    tag = "admin",
    security(("accessToken" = [])),
    params(("id" = uuid::Uuid, Path, description = "User id"), SessionListParams),
    responses(
        (status = 200, description = "One page of live sessions", body = SessionPage),
        (status = 400, description = "A bad `cursor` or `limit` (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Bad access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin, or a second factor is needed, or the IP allow-list refuses this address (`ip_not_allowed`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user in this account", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/admin/users/{id}/sessions")]
pub async fn list(
    app: web::Data<AppState>,
    admin: Admin,
    id: web::Path<String>,
    params: web::Query<SessionListParams>,
) -> Result<HttpResponse, ApiError> {
    let params = params.into_inner();
    let paging = Paging {
        cursor: params.cursor,
        limit: params.limit,
    };
    let user = UserId::from(id.into_inner());
    Ok(HttpResponse::Ok().json(manage::list_for_admin(&app, &admin, user, paging).await?))
}

/// End every session of a user.
///
/// Their access tokens stop working at once on every instance, and their
/// refresh tokens with them; they must sign in again. On yourself it ends
/// your own session too. Audited (`session.revoked_all`, with the count).
#[utoipa::path(
    operation_id = "revoke_user_sessions",
    tag = "admin",
    security(("accessToken" = [])),
    params(("id" = uuid::Uuid, Path, description = "User id")),
    responses(
        (status = 200, description = "How many sessions ended", body = SessionsRevoked),
        (status = 401, description = "Bad access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin, or a second factor is needed, or the IP allow-list refuses this address (`ip_not_allowed`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user in this account", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/admin/users/{id}/sessions/revoke")]
pub async fn revoke(
    app: web::Data<AppState>,
    admin: Admin,
    ClientIp(ip): ClientIp,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let user = UserId::from(id.into_inner());
    Ok(HttpResponse::Ok().json(manage::revoke_for_admin(&app, &admin, user, ip).await?))
}
