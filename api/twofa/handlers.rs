//! HTTP for enrollment inside the login flow (`/v1/auth/enrollment/...`),
//! authorised by the flow token as `Authorization: Bearer`. Also the QR
//! image answer both enrollment owners share.

use std::net::IpAddr;

use actix_web::http::header;
use actix_web::{get, post, web, HttpResponse};

use super::dto::{CodeRequest, ConfirmRequest, QrParams, TotpEnrollment};
use super::service::{flow as enrollment, StartedTotp};
use crate::crypto::qr::{self, Format};
use crate::crypto::Secret;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ClientIp};
use crate::login::dto::RecoveryCodeConfirmationRequired;
use crate::login::extract::FlowToken;
use crate::ops::no_store;
use crate::sessions::dto::TokenResponse;
use crate::state::AppState;

/// Where the flow's QR images are served (without the extension).
const QR_PATH: &str = "/v1/auth/enrollment/totp/qr";

/// The QR image of `uri` in `format`; `size` is checked against sane bounds.
pub fn qr_answer(uri: &str, format: Format, params: &QrParams) -> Result<HttpResponse, ApiError> {
    let size = qr::checked_size(params.size).ok_or_else(|| {
        ApiError::field(
            "size",
            format!("must be {} to {} pixels", qr::MIN_SIZE, qr::MAX_SIZE),
        )
    })?;
    let body = qr::render(uri, format, size).map_err(ApiError::internal)?;
    Ok(no_store(HttpResponse::Ok())
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .content_type(format.content_type())
        .body(body))
}

/// The flow's QR image in `format`: the two QR endpoints differ only there.
async fn flow_qr(
    app: &AppState,
    token: Secret,
    ip: IpAddr,
    format: Format,
    params: &QrParams,
) -> Result<HttpResponse, ApiError> {
    qr_answer(&enrollment::uri(app, token, ip).await?, format, params)
}

/// A started enrollment as answered: never cached, QR URLs under `qr_path`.
pub fn enrollment_answer(
    app: &AppState,
    started: StartedTotp,
    qr_path: &str,
) -> Result<HttpResponse, ApiError> {
    let qr_url = format!("{}{qr_path}", app.config.audience());
    Ok(no_store(HttpResponse::Ok()).json(TotpEnrollment::new(started, &qr_url)?))
}

/// Start authenticator enrollment: a new secret and its QR code.
///
/// Calling it again replaces the secret; only the last one can be verified.
#[utoipa::path(
    operation_id = "start_enrollment_totp",
    tag = "enrollment",
    security(("flowToken" = [])),
    responses(
        (status = 200, description = "Scan the QR code (or type the secret), then send a code to `/v1/auth/enrollment/totp/verify`", body = TotpEnrollment),
        (status = 401, description = "Missing (`unauthorized`) or unknown, used or expired flow token, or a flow not at `enrollment_required` (`flow_expired`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The account's IP allow-list refuses this address (`ip_not_allowed`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/auth/enrollment/totp")]
pub async fn start(
    app: web::Data<AppState>,
    FlowToken(token): FlowToken,
    ClientIp(ip): ClientIp,
) -> Result<HttpResponse, ApiError> {
    let started = enrollment::start(&app, token, ip).await?;
    enrollment_answer(&app, started, QR_PATH)
}

/// The enrollment QR code as PNG.
///
/// The `otpauth://` URI of the pending enrollment as a QR code, for the user
/// to scan with an authenticator app. `size` is the width in pixels (120 to
/// 1200, default 320).
#[utoipa::path(
    operation_id = "get_enrollment_totp_qr_png",
    tag = "enrollment",
    security(("flowToken" = [])),
    params(QrParams),
    responses(
        (status = 200, description = "QR code of the otpauth URI (error correction M, quiet zone 4)", content_type = "image/png", body = inline(crate::openapi::PngImage)),
        (status = 400, description = "`size` out of bounds (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Bad flow token (`unauthorized`, `flow_expired`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The account's IP allow-list refuses this address (`ip_not_allowed`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "No enrollment started (`enrollment_not_started`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/auth/enrollment/totp/qr.png")]
pub async fn qr_png(
    app: web::Data<AppState>,
    FlowToken(token): FlowToken,
    ClientIp(ip): ClientIp,
    query: web::Query<QrParams>,
) -> Result<HttpResponse, ApiError> {
    flow_qr(&app, token, ip, Format::Png, &query).await
}

/// The enrollment QR code as SVG.
///
/// The same QR code as a scalable SVG document, for pages that prefer vector
/// images.
#[utoipa::path(
    operation_id = "get_enrollment_totp_qr_svg",
    tag = "enrollment",
    security(("flowToken" = [])),
    params(QrParams),
    responses(
        (status = 200, description = "QR code of the otpauth URI", content_type = "image/svg+xml", body = String),
        (status = 400, description = "`size` out of bounds (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Bad flow token (`unauthorized`, `flow_expired`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The account's IP allow-list refuses this address (`ip_not_allowed`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "No enrollment started (`enrollment_not_started`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/auth/enrollment/totp/qr.svg")]
pub async fn qr_svg(
    app: web::Data<AppState>,
    FlowToken(token): FlowToken,
    ClientIp(ip): ClientIp,
    query: web::Query<QrParams>,
) -> Result<HttpResponse, ApiError> {
    flow_qr(&app, token, ip, Format::Svg, &query).await
}

/// Verify the first code of the new authenticator.
///
/// Answers `recovery_code_confirmation_required` with the recovery code,
/// shown this once, and a new flow token. Nothing is active yet.
#[utoipa::path(
    operation_id = "verify_enrollment_totp",
    tag = "enrollment",
    security(("flowToken" = [])),
    request_body = CodeRequest,
    responses(
        (status = 200, description = "Show the recovery code, then confirm it", body = RecoveryCodeConfirmationRequired),
        (status = 400, description = "Malformed body or not a 6-digit code (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Wrong code (`invalid_code`), code already used (`code_already_used`), bad flow token (`flow_expired`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The account's IP allow-list refuses this address (`ip_not_allowed`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "No enrollment started (`enrollment_not_started`)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`too_many_attempts`: the second factor is locked after ten wrong in a row, this address failed too often (see `Retry-After`), or this enrollment flow used up its five tries (start again at `POST /v1/auth/login`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/auth/enrollment/totp/verify")]
pub async fn verify(
    app: web::Data<AppState>,
    FlowToken(token): FlowToken,
    ClientIp(ip): ClientIp,
    body: ApiJson<CodeRequest>,
) -> Result<HttpResponse, ApiError> {
    let answer = enrollment::verify(&app, token, body.0.code, ip).await?;
    Ok(no_store(HttpResponse::Ok()).json(answer))
}

/// Confirm the recovery code is stored; the session opens.
///
/// Until this call nothing of the enrollment is active and no session
/// exists. Also ends a recovery-code login (after its new code is shown).
#[utoipa::path(
    operation_id = "confirm_enrollment_recovery_code",
    tag = "enrollment",
    security(("flowToken" = [])),
    request_body = ConfirmRequest,
    responses(
        (status = 200, description = "Signed in with `aal` 2", body = TokenResponse),
        (status = 400, description = "Malformed body or `confirmed` not true (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Bad, expired or used flow token, or a login whose user enrolled an authenticator elsewhere since it started (`flow_expired`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The account's IP allow-list refuses this address (`ip_not_allowed`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "No code from the authenticator app was verified yet (`code_not_verified`)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/auth/enrollment/recovery-code/confirm")]
pub async fn confirm(
    app: web::Data<AppState>,
    FlowToken(token): FlowToken,
    ClientIp(ip): ClientIp,
    body: ApiJson<ConfirmRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let tokens = enrollment::confirm(&app, token, body.confirmed, body.remember_device, ip).await?;
    Ok(no_store(HttpResponse::Ok()).json(tokens))
}
