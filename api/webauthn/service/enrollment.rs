//! Enrolling a passkey inside the login flow, for a user who must set up
//! 2FA before signing in: the creation options and the check of the
//! authenticator's answer, both authorised by the flow token at
//! `enrollment_required`, like the authenticator-app steps.
//!
//! The ceremony belongs to the flow (kind `enrollment`, owner the flow id),
//! so neither a signed-in session nor another flow can finish it, and it is
//! single use. A verified passkey is not a credential yet: it waits in the
//! flow's pending enrollment beside its recovery code, and becomes one in
//! [`activate`] only when that code is confirmed. An abandoned enrollment
//! leaves nothing that signs in.

use std::net::IpAddr;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use webauthn_rs::prelude::{Passkey, PasskeyRegistration, RegisterPublicKeyCredential};

use super::registration::credential_exists;
use super::{creation_options, internal, not_started, registration_failed, rp, CEREMONY_TTL_SECS};
use crate::crypto::Secret;
use crate::db::DbConn;
use crate::error::ApiError;
use crate::ids::UserId;
use crate::login::dto::{EnrollmentRequiredStatus, RecoveryCodeConfirmationRequired};
use crate::login::service::{self as login, state, Factor};
use crate::state::AppState;
use crate::twofa::service::{self as twofa, Waiting};
use crate::webauthn::ceremony::CeremonyKind;
use crate::webauthn::dto::EnrollmentWebauthnOptions;
use crate::webauthn::repo::{self, ChallengeOwner, Credential, Inserted};

/// The name of a passkey enrolled without one.
pub const DEFAULT_NAME: &str = "Passkey";

/// Creation options for the flow's user: a discoverable credential (so the
/// same passkey serves passwordless login) with user verification.
pub async fn options(
    app: &AppState,
    flow_token: Secret,
    ip: IpAddr,
) -> Result<EnrollmentWebauthnOptions, ApiError> {
    let now = app.now();
    let (flow, user) = login::load_user(app, &flow_token, state::ENROLLMENT, ip).await?;
    // A user at this step has no passkey (one would have made them
    // enrolled), so there is nothing to exclude.
    let (options, saved) = creation_options(app, &user, None, "required")?;
    let expires_at = (now + CEREMONY_TTL_SECS).min(flow.expires_at);
    let owner = ChallengeOwner::Flow(flow.id.clone());
    app.db
        .run(move |conn| {
            repo::put_challenge(conn, CeremonyKind::Enrollment, &owner, &saved, expires_at)
        })
        .await?;
    Ok(EnrollmentWebauthnOptions {
        status: EnrollmentRequiredStatus,
        flow_token,
        expires_in: (expires_at - now).max(0),
        options,
    })
}

/// Checks the authenticator's answer to the flow's ceremony. On success the
/// passkey and a new recovery code's hash wait in the flow's pending
/// enrollment, the flow moves to the confirmation (its second factor the
/// key) and the answer carries the recovery code, shown this once.
pub async fn finish(
    app: &AppState,
    flow_token: Secret,
    credential: &RegisterPublicKeyCredential,
    name: Option<&str>,
    ip: IpAddr,
) -> Result<RecoveryCodeConfirmationRequired, ApiError> {
    let name = match name {
        Some(name) => crate::text::validate("name", name, 1, 100)?,
        None => DEFAULT_NAME.to_owned(),
    };
    let now = app.now();
    let (flow, user) = login::load_user(app, &flow_token, state::ENROLLMENT, ip).await?;
    let rp = rp(app)?;
    // Taken before it is checked: one ceremony, one try.
    let owner = ChallengeOwner::Flow(flow.id.clone());
    let saved = app
        .db
        .run(move |conn| repo::take_challenge(conn, CeremonyKind::Enrollment, &owner, now))
        .await?
        .ok_or_else(not_started)?;
    let registration: PasskeyRegistration = serde_json::from_str(&saved).map_err(internal)?;
    // The browser reports whether the credential is discoverable
    // (`credProps`); one it says is not could not sign in without a
    // password, which is what this enrollment promises.
    let not_discoverable = credential
        .extensions
        .cred_props
        .as_ref()
        .and_then(|props| props.rk)
        == Some(false);
    if not_discoverable {
        return Err(registration_failed("the credential is not discoverable"));
    }
    let passkey = rp
        .finish_passkey_registration(credential, &registration)
        .map_err(registration_failed)?;
    let credential_id = URL_SAFE_NO_PAD.encode(passkey.cred_id().as_ref());
    let passkey = serde_json::to_string(&passkey).map_err(internal)?;
    let registered = app
        .db
        .run(move |conn| repo::is_registered(conn, &credential_id))
        .await?;
    if registered {
        return Err(credential_exists());
    }
    let (display, hash) = twofa::new_recovery_code(app).await?;
    let pending = twofa::new_pending(
        &login::owner(&flow),
        &user.id,
        Waiting::Passkey {
            passkey,
            name,
            recovery_code_hash: hash,
        },
        now,
        twofa::pending_expires_at(now, Some(login::step_expires_at(flow.created_at, now))),
    );
    let token = app
        .db
        .run(move |conn| {
            crate::db::write_tx(conn, |conn| {
                // The user's row first, as a reset takes it.
                crate::users::repo::lock(conn, &user.id)?;
                crate::twofa::repo::put_pending(conn, &pending)?;
                login::advance(conn, &flow, state::CONFIRM, Some(Factor::Key), now)
            })
        })
        .await?;
    app.metrics
        .login("enrollment_webauthn", "recovery_code_confirmation_required");
    Ok(login::recovery_code_confirmation_required(token, display))
}

/// Makes a confirmed pending passkey one of the user's credentials, inside
/// the caller's transaction (see `twofa::service::enrollment::activate`).
pub fn activate(
    conn: &mut DbConn,
    user_id: &UserId,
    passkey_json: &str,
    name: &str,
    now: i64,
) -> Result<(), ApiError> {
    let passkey: Passkey = serde_json::from_str(passkey_json).map_err(internal)?;
    let row = Credential {
        id: uuid::Uuid::now_v7().to_string(),
        user_id: user_id.clone(),
        credential_id: URL_SAFE_NO_PAD.encode(passkey.cred_id().as_ref()),
        passkey: passkey_json.to_owned(),
        name: name.to_owned(),
        sign_count: 0,
        backup_eligible: false,
        backup_state: false,
        created_at: now,
        last_used_at: None,
    };
    // Registered elsewhere since the ceremony: the unique key decides.
    if repo::insert(conn, &row)? == Inserted::AlreadyRegistered {
        return Err(credential_exists());
    }
    crate::twofa::repo::mark_enrolled_if_not(conn, user_id)?;
    Ok(())
}
