//! Enrollment inside the login flow, for a user who must set up 2FA before
//! signing in. The flow token is the credential (`Authorization: Bearer`);
//! no session exists until the recovery code is confirmed. The flow owns
//! the enrollment in progress; the steps themselves are [`super::enrollment`].

use std::net::IpAddr;

use super::enrollment::{self, StartedTotp};
use crate::crypto::Secret;
use crate::db::write_tx;
use crate::error::ApiError;
use crate::login::dto::RecoveryCodeConfirmationRequired;
use crate::login::service::{self as login, state};
use crate::sessions::dto::TokenResponse;
use crate::sessions::service as sessions;
use crate::state::AppState;
use crate::twofa::repo;

/// A new secret for the flow's user (replacing any earlier, unverified one).
pub async fn start(
    app: &AppState,
    flow_token: Secret,
    ip: IpAddr,
) -> Result<StartedTotp, ApiError> {
    let (flow, user) = login::load_user(app, &flow_token, state::ENROLLMENT, ip).await?;
    let expires_at = flow.expires_at;
    enrollment::start_totp(
        app,
        login::owner(&flow),
        &user,
        Some((flow_token, expires_at)),
    )
    .await
}

/// The otpauth URI of the flow's enrollment, for the QR endpoints.
pub async fn uri(app: &AppState, flow_token: Secret, ip: IpAddr) -> Result<String, ApiError> {
    let (flow, user) = login::load_user(app, &flow_token, state::ENROLLMENT, ip).await?;
    enrollment::pending_uri(app, login::owner(&flow), &user).await
}

/// The first code proves the app holds the secret; the answer carries the
/// recovery code, shown this once.
pub async fn verify(
    app: &AppState,
    flow_token: Secret,
    code: Secret,
    ip: IpAddr,
) -> Result<RecoveryCodeConfirmationRequired, ApiError> {
    let now = app.now();
    let (flow, user) = login::load_user(app, &flow_token, state::ENROLLMENT, ip).await?;
    let owner = login::owner(&flow);
    let flow_id = Some(flow.id.clone());
    let (recovery_code, token) =
        enrollment::verify_pending(app, owner, user, &code, ip, flow_id, move |conn| {
            login::advance(conn, &flow, state::CONFIRM, Some(login::Factor::Totp), now)
        })
        .await?;
    Ok(login::recovery_code_confirmation_required(
        token,
        recovery_code,
    ))
}

/// The user confirms the recovery code is stored: the enrollment (or the
/// rotated recovery code) becomes active and the session opens.
pub async fn confirm(
    app: &AppState,
    flow_token: Secret,
    confirmed: bool,
    remember_device: bool,
    ip: IpAddr,
) -> Result<TokenResponse, ApiError> {
    enrollment::require_confirmed(confirmed)?;
    let now = app.now();
    let (flow, user) = match login::load_user(app, &flow_token, state::CONFIRM, ip).await {
        // Still at enrollment: nothing to confirm yet, and the answer says so.
        Err(ApiError::FlowExpired) => {
            login::load_user(app, &flow_token, state::ENROLLMENT, ip).await?;
            return Err(enrollment::code_not_verified());
        }
        other => other?,
    };
    let mut flow = flow;
    flow.remember_device |= remember_device;
    let opened = app
        .db
        .run(move |conn| {
            write_tx(conn, |conn| {
                // First, so a reset of this user runs wholly before or after.
                crate::users::repo::lock(conn, &user.id)?;
                let pending =
                    repo::pending(conn, &login::owner(&flow), now)?.ok_or(ApiError::FlowExpired)?;
                enrollment::activate(conn, &pending, &user, None, ip, now)?;
                let assurance = login::assurance(flow.second_factor)?;
                login::complete(
                    conn,
                    &flow,
                    &user,
                    assurance,
                    login::Known::default(),
                    ip,
                    now,
                )
            })
        })
        .await?;
    app.metrics.login("recovery_code_confirm", "authenticated");
    sessions::tokens(app, opened, now)
}
