//! HTTP for a signed-in user's own second factor (`/v1/me/2fa/...`):
//! voluntary enrollment, re-enrollment and a new recovery code. Each
//! handler makes one call into [`super::service::me`], where the rules live
//! (among them: replacing a factor needs one proven in the last 15 minutes).

use actix_web::{get, post, web, HttpResponse};

use super::dto::{
    CodeRequest, ConfirmRequest, QrParams, RecoveryCodeIssued, TotpEnrollment, TwofaOverview,
};
use super::handlers::{enrollment_answer, qr_answer};
use super::service::me;
use crate::crypto::qr::Format;
use crate::crypto::Secret;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ClientIp};
use crate::ops::no_store;
use crate::sessions::service::Caller;
use crate::sessions::{Authenticated, Enrolling};
use crate::state::AppState;

/// Where the session's QR images are served (without the extension).
const QR_PATH: &str = "/v1/me/2fa/totp/qr";

/// A new recovery code, shown once: never cached.
fn issued(recovery_code: Secret) -> HttpResponse {
    no_store(HttpResponse::Ok()).json(RecoveryCodeIssued {
        status: crate::login::dto::RecoveryCodeConfirmationRequiredStatus,
        recovery_code,
    })
}

/// The session's QR image in `format`: the two QR endpoints differ only there.
async fn session_qr(
    app: &AppState,
    caller: &Caller,
    format: Format,
    params: &QrParams,
) -> Result<HttpResponse, ApiError> {
    qr_answer(&me::qr_uri(app, caller).await?, format, params)
}

/// The caller's 2FA status, methods, and whether it is required and why.
///
/// `status` is `enabled`, `pending` (required, not set up yet) or `disabled`;
/// `required_by` says why 2FA is required (`admin`, `account`).
#[utoipa::path(
    operation_id = "get_my_twofa",
    tag = "me",
    security(("accessToken" = [])),
    responses(
        (status = 200, description = "Second-factor state", body = TwofaOverview),
        (status = 401, description = "Bad access token (`unauthorized`, `invalid_token`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The account's IP allow-list refuses this address (`ip_not_allowed`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/me/2fa")]
pub async fn overview(
    app: web::Data<AppState>,
    Enrolling(caller): Enrolling,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(me::overview(&app, &caller.user).await?))
}

/// Start (re-)enrolling an authenticator app.
///
/// The current authenticator, if any, keeps working until the new one is
/// verified and its recovery code confirmed.
#[utoipa::path(
    operation_id = "start_my_totp",
    tag = "me",
    security(("accessToken" = [])),
    responses(
        (status = 200, description = "Scan the QR code, then send a code to `/v1/me/2fa/totp/verify`", body = TotpEnrollment),
        (status = 401, description = "Bad access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Replacing an authenticator needs a second factor from the last 15 minutes (`reauthentication_required`), or the IP allow-list refuses this address (`ip_not_allowed`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/me/2fa/totp")]
pub async fn start(
    app: web::Data<AppState>,
    Enrolling(caller): Enrolling,
) -> Result<HttpResponse, ApiError> {
    let started = me::start(&app, &caller).await?;
    enrollment_answer(&app, started, QR_PATH)
}

/// The pending enrollment's QR code as PNG.
///
/// The `otpauth://` URI of the caller's pending enrollment as a QR code.
/// `size` is the width in pixels (120 to 1200, default 320).
#[utoipa::path(
    operation_id = "get_my_totp_qr_png",
    tag = "me",
    security(("accessToken" = [])),
    params(QrParams),
    responses(
        (status = 200, description = "QR code of the otpauth URI", content_type = "image/png", body = inline(crate::openapi::PngImage)),
        (status = 400, description = "`size` out of bounds (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Bad access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The account's IP allow-list refuses this address (`ip_not_allowed`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "No enrollment started (`enrollment_not_started`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/me/2fa/totp/qr.png")]
pub async fn qr_png(
    app: web::Data<AppState>,
    Enrolling(caller): Enrolling,
    query: web::Query<QrParams>,
) -> Result<HttpResponse, ApiError> {
    session_qr(&app, &caller, Format::Png, &query).await
}

/// The pending enrollment's QR code as SVG.
///
/// The same QR code as a scalable SVG document.
#[utoipa::path(
    operation_id = "get_my_totp_qr_svg",
    tag = "me",
    security(("accessToken" = [])),
    params(QrParams),
    responses(
        (status = 200, description = "QR code of the otpauth URI", content_type = "image/svg+xml", body = String),
        (status = 400, description = "`size` out of bounds (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Bad access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The account's IP allow-list refuses this address (`ip_not_allowed`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "No enrollment started (`enrollment_not_started`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/me/2fa/totp/qr.svg")]
pub async fn qr_svg(
    app: web::Data<AppState>,
    Enrolling(caller): Enrolling,
    query: web::Query<QrParams>,
) -> Result<HttpResponse, ApiError> {
    session_qr(&app, &caller, Format::Svg, &query).await
}

/// Verify the new authenticator's first code; answers the recovery code.
///
/// Send a current code of the newly scanned authenticator. The answer carries
/// a recovery code to show once; the authenticator becomes active only when
/// the code is confirmed with `POST /v1/me/2fa/recovery-code/confirm`.
#[utoipa::path(
    operation_id = "verify_my_totp",
    tag = "me",
    security(("accessToken" = [])),
    request_body = CodeRequest,
    responses(
        (status = 200, description = "The new recovery code, shown once; confirm it next", body = RecoveryCodeIssued),
        (status = 400, description = "Malformed body or not a 6-digit code (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Wrong (`invalid_code`) or used (`code_already_used`) code, or bad access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The account's IP allow-list refuses this address (`ip_not_allowed`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "No enrollment started (`enrollment_not_started`)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many wrong codes (`too_many_attempts`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/me/2fa/totp/verify")]
pub async fn verify(
    app: web::Data<AppState>,
    Enrolling(caller): Enrolling,
    ClientIp(ip): ClientIp,
    body: ApiJson<CodeRequest>,
) -> Result<HttpResponse, ApiError> {
    let recovery_code = me::verify(&app, &caller, &body.0.code, ip).await?;
    Ok(issued(recovery_code))
}

/// Issue a new recovery code (the old one works until this is confirmed).
///
/// Needs a session with a recent second factor. The new code is shown once,
/// in this answer; confirm it with `POST /v1/me/2fa/recovery-code/confirm`.
#[utoipa::path(
    operation_id = "regenerate_my_recovery_code",
    tag = "me",
    security(("accessToken" = [])),
    responses(
        (status = 200, description = "The new recovery code, shown once; confirm it next", body = RecoveryCodeIssued),
        (status = 401, description = "Bad access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs a second factor from the last 15 minutes (`reauthentication_required`), or the IP allow-list refuses this address (`ip_not_allowed`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "No authenticator enrolled (`twofa_not_enabled`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/me/2fa/recovery-code")]
pub async fn regenerate(
    app: web::Data<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<HttpResponse, ApiError> {
    Ok(issued(me::regenerate(&app, &caller).await?))
}

/// Confirm the new recovery code is stored; what was pending becomes active.
///
/// Send `saved: true` once the user has stored the code shown. The previous
/// recovery code stops working at this moment, never before.
#[utoipa::path(
    operation_id = "confirm_my_recovery_code",
    tag = "me",
    security(("accessToken" = [])),
    request_body = ConfirmRequest,
    responses(
        (status = 200, description = "Active; the new state", body = TwofaOverview),
        (status = 400, description = "Malformed body or `confirmed` not true (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Bad access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The account's IP allow-list refuses this address (`ip_not_allowed`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Nothing to confirm (`enrollment_not_started`, `code_not_verified`)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/me/2fa/recovery-code/confirm")]
pub async fn confirm(
    app: web::Data<AppState>,
    Enrolling(caller): Enrolling,
    ClientIp(ip): ClientIp,
    body: ApiJson<ConfirmRequest>,
) -> Result<HttpResponse, ApiError> {
    let state = me::confirm(&app, &caller, body.0.confirmed, ip).await?;
    Ok(HttpResponse::Ok().json(state))
}
