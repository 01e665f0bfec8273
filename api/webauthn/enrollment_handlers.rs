//! HTTP for enrolling a passkey inside the login flow
//! (`/v1/auth/enrollment/webauthn...`), authorised by the flow token as
//! `Authorization: Bearer`, like the authenticator-app enrollment steps.

use actix_web::{post, web, HttpResponse};

use super::dto::{EnrollmentRegistrationRequest, EnrollmentWebauthnOptions};
use super::service::enrollment;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ClientIp};
use crate::login::dto::RecoveryCodeConfirmationRequired;
use crate::login::extract::FlowToken;
use crate::ops::no_store;
use crate::state::AppState;

/// Start enrolling a passkey instead of an authenticator app.
///
/// For a flow at `enrollment_required` whose `enrollment_methods` include
/// `webauthn`. The options ask for a discoverable credential (it will also
/// sign in without a password) with user verification. Calling it again
/// replaces the ceremony; only the last one can be finished, once.
#[utoipa::path(
    operation_id = "create_enrollment_webauthn_options",
    tag = "enrollment",
    security(("flowToken" = [])),
    responses(
        (status = 200, description = "Creation options for navigator.credentials.create; send the answer to `POST /v1/auth/enrollment/webauthn`", body = EnrollmentWebauthnOptions),
        (status = 401, description = "Missing flow token (`unauthorized`), or an unknown, used or expired one, a session token, or a flow not at `enrollment_required` (`flow_expired`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The account's IP allow-list refuses this address (`ip_not_allowed`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "WebAuthn is not configured (`webauthn_unavailable`): enroll an authenticator app", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/auth/enrollment/webauthn/options")]
pub async fn options(
    app: web::Data<AppState>,
    FlowToken(token): FlowToken,
    ClientIp(ip): ClientIp,
) -> Result<HttpResponse, ApiError> {
    let options = enrollment::options(&app, token, ip).await?;
    Ok(no_store(HttpResponse::Ok()).json(options))
}

/// Finish enrolling the passkey with the browser's answer.
///
/// Answers `recovery_code_confirmation_required` with the recovery code,
/// shown this once, and a new flow token, exactly as after the first code
/// of an authenticator app. Nothing is active yet: the passkey becomes the
/// user's second factor at `POST /v1/auth/enrollment/recovery-code/confirm`,
/// which opens the session (`amr` `["pwd","hwk"]`).
#[utoipa::path(
    operation_id = "register_enrollment_webauthn_credential",
    tag = "enrollment",
    security(("flowToken" = [])),
    request_body = EnrollmentRegistrationRequest,
    responses(
        (status = 200, description = "Show the recovery code, then confirm it", body = RecoveryCodeConfirmationRequired),
        (status = 400, description = "Malformed body or a bad name (`validation_failed`), or a response that does not verify: wrong challenge or origin, no user verification, not discoverable (`registration_failed`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing flow token (`unauthorized`), or an unknown, used or expired one, a session token, or a flow not at `enrollment_required` (`flow_expired`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The account's IP allow-list refuses this address (`ip_not_allowed`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "No ceremony of this flow in progress, or it was used already (`ceremony_not_started`); the authenticator is registered already (`credential_exists`); WebAuthn is not configured (`webauthn_unavailable`)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/auth/enrollment/webauthn")]
pub async fn register(
    app: web::Data<AppState>,
    FlowToken(token): FlowToken,
    ClientIp(ip): ClientIp,
    body: ApiJson<EnrollmentRegistrationRequest>,
) -> Result<HttpResponse, ApiError> {
    let EnrollmentRegistrationRequest { credential, name } = body.0;
    let answer = enrollment::finish(&app, token, &credential, name.as_deref(), ip).await?;
    Ok(no_store(HttpResponse::Ok()).json(answer))
}
