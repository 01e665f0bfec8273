//! HTTP for the login steps.

use actix_web::{post, web, HttpResponse};

use super::dto::{FlowResponse, PasswordRequest, StartRequest};
use super::service;
use crate::error::{ApiError, Problem};
use crate::extract::ApiJson;
use crate::ops::no_store;
use crate::sessions::dto::TokenResponse;
use crate::state::AppState;

/// Start a login with an email address.
///
/// Always answers `password_required` with a flow token, whether or not the
/// email belongs to a user, so the answer reveals nothing.
#[utoipa::path(
    security(()),
    tag = "login",
    request_body = StartRequest,
    responses(
        (status = 200, description = "Send the password next", body = FlowResponse),
        (status = 400, description = "Malformed body or not an email address (`malformed_json`, `validation_failed`)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/auth/login")]
pub async fn start(
    state: web::Data<AppState>,
    body: ApiJson<StartRequest>,
) -> Result<HttpResponse, ApiError> {
    let flow = service::start(&state, &body.0.email).await?;
    Ok(no_store(HttpResponse::Ok()).json(flow))
}

/// Send the password of the flow's user.
///
/// Answers `authenticated` with tokens when the password is right. A wrong
/// password, or an email that belongs to nobody, answers
/// `invalid_credentials`; after five wrong passwords the flow is dead.
#[utoipa::path(
    security(()),
    tag = "login",
    request_body = PasswordRequest,
    responses(
        (status = 200, description = "Signed in", body = TokenResponse),
        (status = 400, description = "Malformed body (`malformed_json`, `validation_failed`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Wrong password or unknown email (`invalid_credentials`), or a flow token that is unknown, used or expired (`flow_expired`)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Password checks saturated; retry after `Retry-After`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/auth/login/password")]
pub async fn password(
    state: web::Data<AppState>,
    body: ApiJson<PasswordRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let tokens = service::password(&state, body.flow_token, body.password).await?;
    Ok(no_store(HttpResponse::Ok()).json(tokens))
}
