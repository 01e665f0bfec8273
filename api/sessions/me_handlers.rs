//! HTTP for the signed-in user's sessions: `/v1/me/sessions`.

use actix_web::{delete, get, post, web, HttpResponse};

use super::dto::{SessionListParams, SessionPage, SessionsRevoked};
use super::manage::{self, Paging};
use crate::error::{ApiError, Problem};
use crate::extract::ClientIp;
use crate::ids::SessionId;
use crate::sessions::Authenticated;
use crate::state::AppState;

/// List the caller's live sessions.
///
/// Newest first, each with when it signed in and was last used (to the
/// minute), the address it signed in from, its browser's user agent and the
/// methods it proved; `current` marks the session of this access token.
#[utoipa::path(
    operation_id = "list_my_sessions",
    tag = "me",
    security(("accessToken" = [])),
    params(SessionListParams),
    responses(
        (status = 200, description = "One page of live sessions", body = SessionPage),
        (status = 400, description = "A bad `cursor` or `limit` (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing (`unauthorized`), invalid, expired or revoked (`invalid_token`) access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "2FA is required and not set up (`enrollment_required`), or the account's IP allow-list refuses this address (`ip_not_allowed`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/me/sessions")]
pub async fn list(
    app: web::Data<AppState>,
    Authenticated(caller): Authenticated,
    params: web::Query<SessionListParams>,
) -> Result<HttpResponse, ApiError> {
    let params = params.into_inner();
    let paging = Paging {
        cursor: params.cursor,
        limit: params.limit,
    };
    Ok(HttpResponse::Ok().json(manage::list_mine(&app, &caller, paging).await?))
}

/// End one of the caller's sessions.
///
/// Its access token stops working at once, on every instance, and its
/// refresh token with it. Ending the current session is a logout. A
/// session of someone else, or one already ended, answers 404. Audited
/// (`session.revoked`).
#[utoipa::path(
    operation_id = "end_my_session",
    tag = "me",
    security(("accessToken" = [])),
    params(("id" = uuid::Uuid, Path, description = "Session id, from `GET /v1/me/sessions`")),
    responses(
        (status = 204, description = "Ended"),
        (status = 401, description = "Missing (`unauthorized`), invalid, expired or revoked (`invalid_token`) access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "2FA is required and not set up (`enrollment_required`), or the account's IP allow-list refuses this address (`ip_not_allowed`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No live session of the caller has this id (`not_found`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete(
    "/v1/me/sessions/{id}",
    guard = "crate::ops::fallback::not_a_literal_path"
)]
pub async fn end(
    app: web::Data<AppState>,
    Authenticated(caller): Authenticated,
    ClientIp(ip): ClientIp,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = SessionId::from(id.into_inner());
    manage::end_mine(&app, &caller, id, ip).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// End every other session of the caller ("sign out everywhere else").
///
/// The calling session stays signed in. Audited (`session.revoked_all`,
/// with the count).
#[utoipa::path(
    operation_id = "revoke_my_other_sessions",
    tag = "me",
    security(("accessToken" = [])),
    responses(
        (status = 200, description = "How many sessions ended", body = SessionsRevoked),
        (status = 401, description = "Missing (`unauthorized`), invalid, expired or revoked (`invalid_token`) access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "2FA is required and not set up (`enrollment_required`), or the account's IP allow-list refuses this address (`ip_not_allowed`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/me/sessions/revoke-others")]
pub async fn revoke_others(
    app: web::Data<AppState>,
    Authenticated(caller): Authenticated,
    ClientIp(ip): ClientIp,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(manage::revoke_others(&app, &caller, ip).await?))
}
