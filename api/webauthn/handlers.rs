//! HTTP for a signed-in user's WebAuthn credentials (`/v1/me/webauthn/...`).

use actix_web::{delete, get, post, web, HttpResponse};

use super::dto::{CredentialList, CredentialView, RegistrationOptions, RegistrationRequest};
use super::service;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ClientIp};
use crate::ops::no_store;
use crate::sessions::Authenticated;
use crate::state::AppState;

/// Start registering a passkey, security key or platform biometric.
///
/// Needs a session signed in with a second factor (`aal` 2). The options
/// require user verification, prefer a discoverable credential (so it also
/// serves passwordless login) and exclude the user's existing credentials.
#[utoipa::path(
    operation_id = "create_my_webauthn_registration_options",
    tag = "webauthn",
    security(("accessToken" = [])),
    responses(
        (status = 200, description = "Creation options for navigator.credentials.create", body = RegistrationOptions),
        (status = 401, description = "Bad access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs a session whose second factor was proven in the last 15 minutes (`second_factor_required` for an aal-1 session, `reauthentication_required` when the proof is older), or the IP allow-list refuses this address (`ip_not_allowed`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "WebAuthn is not configured (`webauthn_unavailable`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/me/webauthn/registration/options")]
pub async fn registration_options(
    app: web::Data<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<HttpResponse, ApiError> {
    let options = service::registration_options(&app, &caller).await?;
    Ok(no_store(HttpResponse::Ok()).json(options))
}

/// Finish the registration with the browser's answer and a name.
///
/// Send the browser's answer to `navigator.credentials.create` and a name for
/// the credential. The ceremony of `POST
/// /v1/me/webauthn/registration/options` is single use.
#[utoipa::path(
    operation_id = "register_my_webauthn_credential",
    tag = "webauthn",
    security(("accessToken" = [])),
    request_body = RegistrationRequest,
    responses(
        (status = 201, description = "Registered", body = CredentialView),
        (status = 400, description = "Malformed body, a bad name (`validation_failed`), or a response that does not verify (`registration_failed`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Bad access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs a session whose second factor was proven in the last 15 minutes (`second_factor_required` for an aal-1 session, `reauthentication_required` when the proof is older), or the IP allow-list refuses this address (`ip_not_allowed`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "No registration in progress (`ceremony_not_started`) or already registered (`credential_exists`), or WebAuthn is not configured (`webauthn_unavailable`)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/me/webauthn/registration")]
pub async fn register(
    app: web::Data<AppState>,
    Authenticated(caller): Authenticated,
    ClientIp(ip): ClientIp,
    body: ApiJson<RegistrationRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let created = service::register(&app, &caller, &body.credential, &body.name, ip).await?;
    Ok(HttpResponse::Created().json(created))
}

/// The caller's WebAuthn credentials.
///
/// Each credential with its name, when it was added and last used, and
/// whether it is a synced passkey.
#[utoipa::path(
    operation_id = "list_my_webauthn_credentials",
    tag = "webauthn",
    security(("accessToken" = [])),
    responses(
        (status = 200, description = "Credentials", body = CredentialList),
        (status = 401, description = "Bad access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The IP allow-list refuses this address (`ip_not_allowed`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/me/webauthn/credentials")]
pub async fn list(
    app: web::Data<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<HttpResponse, ApiError> {
    let items = service::list(&app, &caller).await?;
    Ok(HttpResponse::Ok().json(CredentialList { items }))
}

/// Remove one of the caller's credentials; it stops working at once.
///
/// Needs a session with a recent second factor. The last passkey of a user
/// without an authenticator app is their second factor and cannot be
/// removed (`would_lock_out`): enroll an authenticator app first, or ask an
/// admin for a 2FA reset.
#[utoipa::path(
    operation_id = "delete_my_webauthn_credential",
    tag = "webauthn",
    security(("accessToken" = [])),
    params(("id" = uuid::Uuid, Path, description = "Credential id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "Bad access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs a session whose second factor was proven in the last 15 minutes (`second_factor_required` for an aal-1 session, `reauthentication_required` when the proof is older), or the IP allow-list refuses this address (`ip_not_allowed`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such credential of the caller", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "It is the last second factor of a user without an authenticator app (`would_lock_out`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/v1/me/webauthn/credentials/{id}")]
pub async fn remove(
    app: web::Data<AppState>,
    Authenticated(caller): Authenticated,
    ClientIp(ip): ClientIp,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    service::remove(&app, &caller, id.into_inner(), ip).await?;
    Ok(HttpResponse::NoContent().finish())
}
