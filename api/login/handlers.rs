//! HTTP for the login steps.

use actix_web::{post, web, HttpResponse};

use super::dto::{
    LoginStep, PasswordRequest, PasswordRequired, RecoveryCodeConfirmationRequired,
    RecoveryLoginRequest, StartRequest, TotpLoginRequest,
};
use super::service::{self, CodeStep};
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ClientIp, UserAgent};
use crate::ops::no_store;
use crate::state::AppState;

/// Start a login with an email address.
///
/// Always answers `password_required` with a flow token, whether or not the
/// email belongs to a user, so the answer reveals nothing.
#[utoipa::path(
    operation_id = "start_login",
    tag = "login",
    request_body = StartRequest,
    responses(
        (status = 200, description = "Send the password next", body = PasswordRequired),
        (status = 400, description = "Malformed body or not an email address (`malformed_json`, `validation_failed`)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "This address holds `TWOFOLD_ADDRESS_FLOW_LIMIT` (100) open logins (`too_many_attempts`); see `Retry-After`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/auth/login")]
pub async fn start(
    state: web::Data<AppState>,
    ClientIp(ip): ClientIp,
    UserAgent(user_agent): UserAgent,
    body: ApiJson<StartRequest>,
) -> Result<HttpResponse, ApiError> {
    let flow = service::start(&state, &body.0.email, ip, user_agent).await?;
    Ok(no_store(HttpResponse::Ok()).json(flow))
}

/// Send the password of the flow's user.
///
/// When the password is right, answers `authenticated` with tokens (2FA
/// neither required nor set up), `mfa_required` with the user's `methods`,
/// or `enrollment_required` (2FA required but not set up). With the
/// `device_token` of a browser the user asked to remember, and while the
/// account allows it, `mfa_required` becomes `authenticated` (`amr`
/// `["pwd","dev"]`); any other token is ignored. A wrong
/// password, or an email that belongs to nobody, answers
/// `invalid_credentials`; after five wrong passwords the flow is dead.
#[utoipa::path(
    operation_id = "submit_login_password",
    tag = "login",
    request_body = PasswordRequest,
    responses(
        (status = 200, description = "Signed in, or the next step", body = LoginStep),
        (status = 400, description = "Malformed body (`malformed_json`, `validation_failed`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Wrong password or unknown email (`invalid_credentials`), or a flow token that is unknown, used or expired (`flow_expired`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The account's IP allow-list refuses this address (`ip_not_allowed`), whether the password was right or not", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`too_many_attempts`: this login used up its five tries (start again at `POST /v1/auth/login`), the user's password is backing off after ten wrong in a row, or this address failed too often; see `Retry-After` when waiting helps", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Password checks saturated; retry after `Retry-After`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/auth/login/password")]
pub async fn password(
    state: web::Data<AppState>,
    ClientIp(ip): ClientIp,
    body: ApiJson<PasswordRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let step = service::password(
        &state,
        body.flow_token,
        body.password,
        body.device_token,
        ip,
    )
    .await?;
    Ok(no_store(HttpResponse::Ok()).json(step))
}

/// Second factor: a code from the authenticator app.
///
/// Each 30-second code is accepted once per user, ever: the same code
/// again, from any request or instance, is `code_already_used`. Answers
/// `authenticated` (`aal` 2, `amr` `["pwd","otp"]`), or
/// `recovery_code_confirmation_required` when the user has no recovery
/// code left. With `remember_device: true`, where the account allows it,
/// the answer carries a `device_token` for later logins.
#[utoipa::path(
    operation_id = "submit_login_totp",
    tag = "login",
    request_body = TotpLoginRequest,
    responses(
        (status = 200, description = "Signed in, or a new recovery code to confirm", body = LoginStep),
        (status = 400, description = "Malformed body or not a 6-digit code (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Wrong code (`invalid_code`), used code (`code_already_used`), or bad flow token (`flow_expired`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The account's IP allow-list refuses this address (`ip_not_allowed`)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`too_many_attempts`: the second factor is locked after ten wrong in a row, or this address failed too often (see `Retry-After`), or this login used up its five tries (start again at `POST /v1/auth/login`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/auth/login/totp")]
pub async fn totp(
    state: web::Data<AppState>,
    ClientIp(ip): ClientIp,
    body: ApiJson<TotpLoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let code = CodeStep {
        flow_token: body.flow_token,
        code: body.code,
        remember_device: body.remember_device,
        ip,
    };
    let step = service::totp(&state, code).await?;
    Ok(no_store(HttpResponse::Ok()).json(step))
}

/// Second factor: the recovery code, in place of the app's code.
///
/// The code is spent at once and a new one is issued: the answer is
/// `recovery_code_confirmation_required` with it; confirm it at
/// `POST /v1/auth/enrollment/recovery-code/confirm` to sign in
/// (`amr` `["pwd","rcv"]`).
#[utoipa::path(
    operation_id = "submit_login_recovery_code",
    tag = "login",
    request_body = RecoveryLoginRequest,
    responses(
        (status = 200, description = "The new recovery code to confirm", body = RecoveryCodeConfirmationRequired),
        (status = 400, description = "Malformed body or not a recovery code (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not the user's recovery code, including one spent earlier (`invalid_code`: a spent code is no longer theirs, and the answer does not tell it apart), the same code spent by another request at the same moment (`code_already_used`), or bad flow token (`flow_expired`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The account's IP allow-list refuses this address (`ip_not_allowed`)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`too_many_attempts`: the second factor is locked after ten wrong in a row, or this address failed too often (see `Retry-After`), or this login used up its five tries (start again at `POST /v1/auth/login`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/auth/login/recovery-code")]
pub async fn recovery_code(
    state: web::Data<AppState>,
    ClientIp(ip): ClientIp,
    body: ApiJson<RecoveryLoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let code = CodeStep {
        flow_token: body.flow_token,
        code: body.recovery_code,
        remember_device: body.remember_device,
        ip,
    };
    let step = service::recovery_code(&state, code).await?;
    Ok(no_store(HttpResponse::Ok()).json(step))
}
