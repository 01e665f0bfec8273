//! HTTP for WebAuthn at login: the second factor after the password, and
//! passwordless passkey login.

use actix_web::{post, web, HttpResponse};

use super::dto::{AssertionRequest, FlowTokenRequest, PasskeyRequired, WebauthnMfaOptions};
use super::service;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ClientIp, UserAgent};
use crate::login::dto::LoginStep;
use crate::ops::no_store;
use crate::sessions::dto::TokenResponse;
use crate::state::AppState;

/// Options for a WebAuthn second factor ("log in faster").
///
/// For a flow at `mfa_required` whose `methods` include `webauthn`.
#[utoipa::path(
    operation_id = "create_login_webauthn_options",
    tag = "login",
    request_body = FlowTokenRequest,
    responses(
        (status = 200, description = "Request options for navigator.credentials.get", body = WebauthnMfaOptions),
        (status = 400, description = "Malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Bad flow token (`flow_expired`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The IP allow-list refuses this address (`ip_not_allowed`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The user has no credential (`no_webauthn_credentials`), or WebAuthn is not configured (`webauthn_unavailable`)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/auth/login/webauthn/options")]
pub async fn second_factor_options(
    app: web::Data<AppState>,
    ClientIp(ip): ClientIp,
    body: ApiJson<FlowTokenRequest>,
) -> Result<HttpResponse, ApiError> {
    let options = service::second_factor_options(&app, body.0.flow_token, ip).await?;
    Ok(no_store(HttpResponse::Ok()).json(options))
}

/// Second factor: the authenticator's assertion.
///
/// Answers `authenticated` (`amr` `["pwd","hwk"]`), or a new recovery code
/// to confirm when the user has none left.
#[utoipa::path(
    operation_id = "submit_login_webauthn",
    tag = "login",
    request_body = AssertionRequest,
    responses(
        (status = 200, description = "Signed in, or a new recovery code to confirm", body = LoginStep),
        (status = 400, description = "Malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "The assertion does not verify (`webauthn_failed`), or a bad flow token (`flow_expired`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The IP allow-list refuses this address (`ip_not_allowed`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "No ceremony in progress (`ceremony_not_started`), or WebAuthn is not configured (`webauthn_unavailable`)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`too_many_attempts`: the second factor is locked after ten wrong in a row, or this address failed too often (see `Retry-After`), or this login used up its five tries (start again at `POST /v1/auth/login`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/auth/login/webauthn")]
pub async fn second_factor(
    app: web::Data<AppState>,
    ClientIp(ip): ClientIp,
    body: ApiJson<AssertionRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let step = service::second_factor(
        &app,
        body.flow_token,
        &body.credential,
        body.remember_device,
        ip,
    )
    .await?;
    Ok(no_store(HttpResponse::Ok()).json(step))
}

/// Start a passwordless passkey login: options for a discoverable
/// credential (no user named) and a flow token.
///
/// Pass `options.publicKey` (base64url fields decoded) to
/// `navigator.credentials.get`; the browser lets the user pick a passkey.
/// Then send its answer with the flow token to `POST /v1/auth/passkey`.
#[utoipa::path(
    operation_id = "create_passkey_options",
    tag = "login",
    responses(
        (status = 200, description = "Request options for navigator.credentials.get", body = PasskeyRequired),
        (status = 409, description = "WebAuthn is not configured (`webauthn_unavailable`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "This address holds `TWOFOLD_ADDRESS_FLOW_LIMIT` (100) open logins (`too_many_attempts`); see `Retry-After`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/auth/passkey/options")]
pub async fn passkey_options(
    app: web::Data<AppState>,
    ClientIp(ip): ClientIp,
    UserAgent(user_agent): UserAgent,
) -> Result<HttpResponse, ApiError> {
    let options = service::passkey_options(&app, ip, user_agent).await?;
    Ok(no_store(HttpResponse::Ok()).json(options))
}

/// Finish a passwordless passkey login (`aal` 2, `amr` `["hwk"]`).
///
/// Send the browser's answer to `navigator.credentials.get` with the flow
/// token of `POST /v1/auth/passkey/options`. The account's IP allow-list and
/// the address limits apply as for any login; a wrong or unknown credential
/// answers `invalid_credentials`.
#[utoipa::path(
    operation_id = "submit_passkey_login",
    tag = "login",
    request_body = AssertionRequest,
    responses(
        (status = 200, description = "Signed in", body = TokenResponse),
        (status = 400, description = "Malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "The assertion does not verify (`webauthn_failed`), or a bad flow token (`flow_expired`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The IP allow-list refuses this address (`ip_not_allowed`)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failures (`too_many_attempts`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "WebAuthn is not configured (`webauthn_unavailable`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/auth/passkey")]
pub async fn passkey(
    app: web::Data<AppState>,
    ClientIp(ip): ClientIp,
    body: ApiJson<AssertionRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let tokens = service::passkey(&app, body.flow_token, &body.credential, ip).await?;
    Ok(no_store(HttpResponse::Ok()).json(tokens))
}
