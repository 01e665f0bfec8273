//! Enrolling an authenticator and its recovery code, for both owners of an
//! enrollment (a login flow, a signed-in session): start (a new secret),
//! verify (its first code, which earns a recovery code) and activate (once
//! that code is confirmed stored). Nothing becomes active before the last
//! step; until then the secret and the code's hash wait in a pending row.
//! Routes and response bodies are the handlers' business, not this file's.

use std::net::IpAddr;

use super::policy;
use super::verify::check_totp;
use crate::attempts::{self, UserCounter};
use crate::audit::Detail;
use crate::audit::{self, kind, Event};
use crate::crypto::secretbox::SecretBoxError;
use crate::crypto::totp::{self, TotpSecret};
use crate::crypto::{recovery, Secret};
use crate::db::DbConn;
use crate::error::{ApiError, ErrorCode};
use crate::ids::{FlowId, SessionId, UserId};
use crate::state::AppState;
use crate::twofa::repo::{self, Pending};
use crate::twofa::Owner;
use crate::users::User;

/// What an enrollment in progress waits for.
#[derive(Debug)]
pub enum Waiting {
    /// The first code of a new authenticator (its sealed secret).
    Authenticator(String),
    /// The confirmation of a new recovery code (its hash), without a new
    /// authenticator: a rotated code.
    RecoveryCode(String),
    /// The confirmation of the recovery code (its hash) that comes with a
    /// passkey registered inside the login flow: the ceremony itself proved
    /// the authenticator, so nothing else is awaited.
    Passkey {
        passkey: String,
        name: String,
        recovery_code_hash: String,
    },
}

/// The one way to build an enrollment in progress: a fresh id, the owner
/// in its column, the thing it waits for.
pub fn new_pending(
    owner: &Owner,
    user_id: &UserId,
    waiting: Waiting,
    now: i64,
    expires_at: i64,
) -> Pending {
    let (secret_sealed, recovery_code_hash, passkey) = match waiting {
        Waiting::Authenticator(sealed) => (Some(sealed), None, None),
        Waiting::RecoveryCode(hash) => (None, Some(hash), None),
        Waiting::Passkey {
            passkey,
            name,
            recovery_code_hash,
        } => (None, Some(recovery_code_hash), Some((passkey, name))),
    };
    let (passkey, passkey_name) = passkey.unzip();
    let (flow_id, session_id) = match owner {
        Owner::Flow(id) => (Some(id.clone()), None),
        Owner::Session(id) => (None, Some(id.clone())),
    };
    Pending {
        id: uuid::Uuid::new_v4().to_string(),
        user_id: user_id.clone(),
        flow_id,
        session_id,
        secret_sealed,
        recovery_code_hash,
        created_at: now,
        expires_at,
        passkey,
        passkey_name,
    }
}

/// A started enrollment: the new secret and how an app learns it. The
/// handler turns it into its answer (QR images, their URLs).
#[derive(Debug)]
pub struct StartedTotp {
    /// The flow token to keep using (login-flow enrollment only).
    pub flow_token: Option<Secret>,
    pub expires_in: i64,
    pub secret: TotpSecret,
    /// The otpauth URI the QR codes encode.
    pub uri: String,
    pub issuer: String,
    pub account_name: String,
}

pub fn seal(state: &AppState, user_id: &UserId, secret: &TotpSecret) -> Result<String, ApiError> {
    Ok(state.secrets.seal(secret.as_bytes(), user_id.as_str())?)
}

/// The secret of `user_id`; a secret under a master key this instance lacks
/// answers `key_unavailable` (and logs the key id).
pub fn open(state: &AppState, user_id: &UserId, sealed: &str) -> Result<TotpSecret, ApiError> {
    match state.secrets.open(sealed, user_id.as_str()) {
        Ok(bytes) => Ok(TotpSecret::from_bytes(bytes)),
        Err(SecretBoxError::UnknownKey(key_id)) => Err(ApiError::KeyUnavailable(key_id)),
        Err(e) => Err(ApiError::internal(format!("TOTP secret of {user_id}: {e}"))),
    }
}

/// Starts (or restarts) an enrollment: a fresh secret replaces any earlier
/// one of the same owner, so an abandoned QR code is never activated.
pub async fn start_totp(
    state: &AppState,
    owner: Owner,
    user: &User,
    flow: Option<(Secret, i64)>,
) -> Result<StartedTotp, ApiError> {
    let now = state.now();
    let (flow_token, flow_expires_at) = flow.unzip();
    let expires_at = policy::pending_expires_at(now, flow_expires_at);
    let secret = TotpSecret::generate();
    let sealed = seal(state, &user.id, &secret)?;
    let pending = new_pending(
        &owner,
        &user.id,
        Waiting::Authenticator(sealed),
        now,
        expires_at,
    );
    state
        .db
        .run(move |conn| repo::put_pending(conn, &pending))
        .await?;
    let issuer = state.config.issuer.clone();
    Ok(StartedTotp {
        flow_token,
        expires_in: (expires_at - now).max(0),
        uri: totp::otpauth_uri(&issuer, &user.email, &secret),
        secret,
        issuer,
        account_name: user.email.clone(),
    })
}

/// Opens a new recovery code for `owner` to confirm; the old code (if any)
/// works until then. Returns the code to show, once.
pub async fn issue_recovery_code(
    state: &AppState,
    owner: &Owner,
    user_id: &UserId,
) -> Result<Secret, ApiError> {
    let now = state.now();
    let (display, hash) = new_recovery_code(state).await?;
    let expires_at = policy::pending_expires_at(now, None);
    let pending = new_pending(owner, user_id, Waiting::RecoveryCode(hash), now, expires_at);
    state
        .db
        .run(move |conn| repo::put_pending(conn, &pending))
        .await?;
    Ok(display)
}

/// The otpauth URI of the owner's enrollment in progress.
pub async fn pending_uri(state: &AppState, owner: Owner, user: &User) -> Result<String, ApiError> {
    let now = state.now();
    let pending = state
        .db
        .run(move |conn| repo::pending(conn, &owner, now))
        .await?
        .ok_or_else(not_started)?;
    let sealed = pending.secret_sealed.ok_or_else(not_started)?;
    let secret = open(state, &user.id, &sealed)?;
    Ok(totp::otpauth_uri(
        &state.config.issuer,
        &user.email,
        &secret,
    ))
}

pub fn not_started() -> ApiError {
    ApiError::Conflict {
        code: ErrorCode::EnrollmentNotStarted,
        detail: "No authenticator enrollment is in progress; start one with POST .../totp first."
            .to_owned(),
    }
}

/// Confirming before a code from the app was verified.
pub fn code_not_verified() -> ApiError {
    ApiError::Conflict {
        code: ErrorCode::CodeNotVerified,
        detail: "Verify a code from the authenticator app (or register a passkey) first."
            .to_owned(),
    }
}

/// A confirmation must say `true`: the user states the recovery code is
/// stored, and anything else leaves the enrollment waiting.
pub fn require_confirmed(confirmed: bool) -> Result<(), ApiError> {
    if confirmed {
        return Ok(());
    }
    Err(ApiError::field(
        "confirmed",
        "must be true once the recovery code is stored somewhere safe",
    ))
}

/// Verifies the first code of `owner`'s enrollment in progress. In one
/// transaction it claims the code's step (so it can never be used again,
/// also not at the next login), attaches a new recovery code's hash to the
/// enrollment and runs `then` (the login flow moves on there). Returns the
/// recovery code to show, once, and what `then` returned.
pub async fn verify_pending<T: Send + 'static>(
    app: &AppState,
    owner: Owner,
    user: User,
    code: &Secret,
    ip: IpAddr,
    flow_id: Option<FlowId>,
    then: impl FnOnce(&mut DbConn) -> Result<T, ApiError> + Send + 'static,
) -> Result<(Secret, T), ApiError> {
    let now = app.now();
    let pending = app
        .db
        .run(move |conn| repo::pending(conn, &owner, now))
        .await?
        .ok_or_else(not_started)?;
    let sealed = pending.secret_sealed.clone().ok_or_else(not_started)?;
    let secret = open(app, &user.id, &sealed)?;
    let step = check_totp(app, &user, &secret, code, ip, flow_id).await?;
    let (display, hash) = new_recovery_code(app).await?;
    let outcome = app
        .db
        .run(move |conn| {
            crate::db::write_tx(conn, |conn| {
                crate::users::repo::lock(conn, &user.id)?;
                if !repo::claim_pending_step(conn, &pending.id, step)? {
                    return Err(ApiError::CodeAlreadyUsed);
                }
                if !repo::set_pending_recovery_hash(conn, &pending.id, &hash)? {
                    return Err(not_started());
                }
                attempts::repo::reset_user(conn, UserCounter::SecondFactor, &user.id)?;
                then(conn)
            })
        })
        .await?;
    Ok((display, outcome))
}

/// A new recovery code: the display form (shown once) and its hash.
pub async fn new_recovery_code(state: &AppState) -> Result<(Secret, String), ApiError> {
    let canonical = recovery::generate();
    let display = recovery::display(&canonical);
    let hash = state.passwords.hash(canonical).await?;
    Ok((display, hash))
}

/// Makes a confirmed enrollment active, inside the caller's transaction:
/// the secret or passkey (if any) and the recovery code replace the user's
/// old ones, every enrollment in progress of the user is dropped. A new
/// authenticator or passkey also ends the user's password-only (aal 1)
/// sessions but `keep` (the session that enrolled): from now on the account
/// needs the second factor, and a session that never proved one must not
/// outlive that.
pub fn activate(
    conn: &mut DbConn,
    pending: &Pending,
    user: &User,
    keep: Option<&SessionId>,
    ip: IpAddr,
    now: i64,
) -> Result<(), ApiError> {
    let hash = pending
        .recovery_code_hash
        .as_deref()
        .ok_or_else(code_not_verified)?;
    // A login flow enrolls a user who had no second factor when it started.
    // If one was enrolled since (another flow, another device), this stale
    // flow must not add its own: one conditional write decides, also
    // between racing flows.
    let stale = |conn: &mut DbConn| -> Result<(), ApiError> {
        if pending.flow_id.is_some() && !repo::mark_enrolled_if_not(conn, &user.id)? {
            return Err(ApiError::FlowExpired);
        }
        Ok(())
    };
    let kind = match (&pending.secret_sealed, &pending.passkey) {
        (Some(sealed), _) => {
            stale(conn)?;
            repo::activate_authenticator(conn, &user.id, &pending.id, sealed, now)?;
            end_password_only_sessions(conn, user, keep, now)?;
            kind::TOTP_ENROLLED
        }
        (None, Some(passkey)) => {
            stale(conn)?;
            use crate::webauthn::service::enrollment as passkeys;
            let name = pending
                .passkey_name
                .as_deref()
                .unwrap_or(passkeys::DEFAULT_NAME);
            passkeys::activate(conn, &user.id, passkey, name, now)?;
            end_password_only_sessions(conn, user, keep, now)?;
            kind::PASSKEY_ENROLLED
        }
        (None, None) => kind::RECOVERY_CODE_ROTATED,
    };
    repo::activate_recovery_code(conn, &user.id, hash, now)?;
    repo::delete_pending_for_user(conn, &user.id)?;
    attempts::repo::reset_user(conn, UserCounter::SecondFactor, &user.id)?;
    audit::record(conn, Event::of_user(user, kind, ip, Detail::NONE), now)
}

fn end_password_only_sessions(
    conn: &mut DbConn,
    user: &User,
    keep: Option<&SessionId>,
    now: i64,
) -> Result<usize, ApiError> {
    crate::sessions::repo::revoke_for_user(
        conn,
        &user.id,
        crate::sessions::repo::Which::PasswordOnly,
        keep,
        "second_factor_enrolled",
        now,
    )
}
