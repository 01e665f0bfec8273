//! HTTP for a signed-in user's own second factor (`/v1/me/2fa/...`):
//! voluntary enrollment, re-enrollment and a new recovery code. Replacing
//! a factor that exists needs a second factor proven in the last
//! 15 minutes, so a stolen session cannot swap in the thief's authenticator.

use actix_web::{get, post, web, HttpResponse};

use super::dto::{
    CodeRequest, ConfirmRequest, QrParams, RecoveryCodeIssued, TotpEnrollment, TwofaOverview,
};
use super::handlers::qr_image;
use super::{repo, service as twofa, Owner};
use crate::db::write_tx;
use crate::error::{ApiError, ErrorCode, Problem};
use crate::extract::{ApiJson, ClientIp};
use crate::ops::no_store;
use crate::sessions::service::Caller;
use crate::sessions::{Authenticated, Enrolling};
use crate::state::AppState;

/// Refuses unless the session proved a second factor recently, when the
/// user has one to prove.
async fn require_fresh(app: &AppState, caller: &Caller) -> Result<bool, ApiError> {
    let user_id = caller.user.id.clone();
    let enrolled = app
        .db
        .run(move |conn| Ok(repo::authenticator(conn, &user_id)?.is_some()))
        .await?;
    if enrolled && !caller.fresh_second_factor(app.now()) {
        return Err(ApiError::ReauthenticationRequired);
    }
    Ok(enrolled)
}

fn owner(caller: &Caller) -> Owner {
    Owner::Session(caller.session.id.clone())
}

/// The caller's 2FA status, methods, and whether it is required and why.
#[utoipa::path(
    operation_id = "me_twofa",
    tag = "me",
    security(("access_token" = [])),
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
    Ok(HttpResponse::Ok().json(twofa::overview(&app, &caller.user).await?))
}

/// Start (re-)enrolling an authenticator app.
///
/// The current authenticator, if any, keeps working until the new one is
/// verified and its recovery code confirmed.
#[utoipa::path(
    operation_id = "me_totp_start",
    tag = "me",
    security(("access_token" = [])),
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
    require_fresh(&app, &caller).await?;
    let enrollment = twofa::start_totp(&app, owner(&caller), &caller.user, None).await?;
    Ok(no_store(HttpResponse::Ok()).json(enrollment))
}

/// The pending enrollment's QR code as PNG.
#[utoipa::path(
    operation_id = "me_totp_qr_png",
    tag = "me",
    security(("access_token" = [])),
    params(QrParams),
    responses(
        (status = 200, description = "QR code of the otpauth URI", content_type = "image/png", body = Vec<u8>),
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
    let uri = twofa::pending_uri(&app, owner(&caller), &caller.user).await?;
    qr_image(&uri, false, query.size)
}

/// The pending enrollment's QR code as SVG.
#[utoipa::path(
    operation_id = "me_totp_qr_svg",
    tag = "me",
    security(("access_token" = [])),
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
    let uri = twofa::pending_uri(&app, owner(&caller), &caller.user).await?;
    qr_image(&uri, true, query.size)
}

/// Verify the new authenticator's first code; answers the recovery code.
#[utoipa::path(
    operation_id = "me_totp_verify",
    tag = "me",
    security(("access_token" = [])),
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
    let session_owner = owner(&caller);
    let (recovery_code, ()) = twofa::verify_pending(
        &app,
        session_owner,
        caller.user,
        &body.0.code,
        &ip.to_string(),
        None,
        |_| Ok(()),
    )
    .await?;
    Ok(no_store(HttpResponse::Ok()).json(RecoveryCodeIssued {
        status: "recovery_code_confirmation_required",
        recovery_code,
    }))
}

/// Issue a new recovery code (the old one works until this is confirmed).
#[utoipa::path(
    operation_id = "me_recovery_code_regenerate",
    tag = "me",
    security(("access_token" = [])),
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
    if !require_fresh(&app, &caller).await? {
        return Err(ApiError::Conflict {
            code: ErrorCode::TwofaNotEnabled,
            detail: "Enroll an authenticator first; a recovery code comes with it.".to_owned(),
        });
    }
    let now = app.now();
    let (display, hash) = twofa::new_recovery_code(&app).await?;
    let pending = repo::Pending {
        id: uuid::Uuid::new_v4().to_string(),
        user_id: caller.user.id.clone(),
        flow_id: None,
        session_id: Some(caller.session.id.clone()),
        secret_sealed: None,
        recovery_code_hash: Some(hash),
        created_at: now,
        expires_at: now + twofa::PENDING_TTL_SECS,
    };
    app.db
        .run(move |conn| repo::put_pending(conn, &pending))
        .await?;
    Ok(no_store(HttpResponse::Ok()).json(RecoveryCodeIssued {
        status: "recovery_code_confirmation_required",
        recovery_code: display,
    }))
}

/// Confirm the new recovery code is stored; what was pending becomes active.
#[utoipa::path(
    operation_id = "me_recovery_code_confirm",
    tag = "me",
    security(("access_token" = [])),
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
    if !body.0.confirmed {
        return Err(ApiError::field(
            "confirmed",
            "must be true once the recovery code is stored somewhere safe",
        ));
    }
    let now = app.now();
    let session_owner = owner(&caller);
    let user = caller.user.clone();
    let (ip, session_id) = (ip.to_string(), caller.session.id.clone());
    app.db
        .run(move |conn| {
            write_tx(conn, |conn| {
                let pending =
                    repo::pending(conn, &session_owner, now)?.ok_or_else(twofa::not_started)?;
                twofa::activate(conn, &pending, &user, Some(&session_id), &ip, now)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(twofa::overview(&app, &caller.user).await?))
}
