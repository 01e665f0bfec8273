//! HTTP for token refresh and logout.

use actix_web::{post, web, HttpResponse};

use super::dto::{RefreshRequest, TokenResponse};
use super::extract::SessionHolder;
use super::service;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ClientIp};
use crate::ops::no_store;
use crate::state::AppState;

/// Exchange a refresh token for a new token pair.
///
/// The refresh token is single use: the answer carries its replacement.
/// Presenting a token that was already used revokes the whole session
/// (it means the token was copied), and answers `invalid_token`.
#[utoipa::path(
    operation_id = "refresh_tokens",
    tag = "sessions",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "New access and refresh tokens", body = TokenResponse),
        (status = 400, description = "Malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Unknown, used, expired or revoked refresh token (`invalid_token`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The account's IP allow-list refuses this address (`ip_not_allowed`), or the session proved no second factor and 2FA became required for its user (`enrollment_required`: sign in again and enroll)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/auth/token/refresh")]
pub async fn refresh(
    state: web::Data<AppState>,
    ClientIp(ip): ClientIp,
    body: ApiJson<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    let tokens = service::refresh(&state, body.0.refresh_token, ip).await?;
    Ok(no_store(HttpResponse::Ok()).json(tokens))
}

/// End the current session.
///
/// Revokes the session of the presented access token at once: its access
/// token and every refresh token of it stop working. Works from any
/// address, also one the account's IP allow-list refuses.
#[utoipa::path(
    operation_id = "logout",
    tag = "sessions",
    security(("accessToken" = [])),
    responses(
        (status = 204, description = "Logged out"),
        (status = 401, description = "Missing, invalid or already revoked access token", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/auth/logout")]
pub async fn logout(
    state: web::Data<AppState>,
    SessionHolder(caller): SessionHolder,
    ClientIp(ip): ClientIp,
) -> Result<HttpResponse, ApiError> {
    service::logout(&state, &caller, ip).await?;
    Ok(HttpResponse::NoContent().finish())
}
