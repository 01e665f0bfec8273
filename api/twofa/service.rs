//! Second-factor rules shared by the login flow and signed-in users.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::json;

use super::dto::{RecoveryCodeState, RequiredBy, TotpEnrollment, TotpMethod, TwofaOverview};
use super::repo::{self, Pending};
use super::Owner;
use crate::accounts::Account;
use crate::attempts::{self, Attempt, UserCounter};
use crate::audit::{self, kind, Actor, Event};
use crate::clock::rfc3339;
use crate::crypto::totp::{self, TotpSecret};
use crate::crypto::{qr, recovery, Secret};
use crate::db::DbConn;
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;
use crate::users::{TwofaStatus, User};

/// How long an enrollment in progress stays open.
pub const PENDING_TTL_SECS: i64 = 15 * 60;
/// A second factor counts as fresh (for re-enrolling or regenerating the
/// recovery code) this long after it was proven.
pub const FRESH_MFA_SECS: i64 = 15 * 60;

/// Why 2FA is required for `user`, if it is.
pub fn required_by(user: &User, account: &Account, now: i64) -> Vec<RequiredBy> {
    let mut why = Vec::new();
    if user.twofa_required {
        why.push(RequiredBy::Admin);
    }
    if account.enforces_twofa(now) {
        why.push(RequiredBy::Account);
    }
    why
}

/// The second factors a user has, as reported in `methods`.
pub fn methods(totp: bool, recovery_code: bool, webauthn: bool) -> Vec<String> {
    [
        (totp, "totp"),
        (recovery_code, "recovery_code"),
        (webauthn, "webauthn"),
    ]
    .into_iter()
    .filter(|(has, _)| *has)
    .map(|(_, name)| name.to_owned())
    .collect()
}

pub fn status(enrolled: bool, required: bool) -> TwofaStatus {
    match (enrolled, required) {
        (true, _) => TwofaStatus::Enabled,
        (false, true) => TwofaStatus::Pending,
        (false, false) => TwofaStatus::Disabled,
    }
}

pub fn seal(state: &AppState, user_id: &str, secret: &TotpSecret) -> Result<String, ApiError> {
    state
        .secrets
        .seal(secret.as_bytes(), user_id)
        .map_err(ApiError::internal)
}

pub fn open(state: &AppState, user_id: &str, sealed: &str) -> Result<TotpSecret, ApiError> {
    state
        .secrets
        .open(sealed, user_id)
        .map(TotpSecret::from_bytes)
        .map_err(|e| ApiError::internal(format!("TOTP secret of {user_id}: {e}")))
}

fn qr_path(owner: &Owner, ext: &str) -> String {
    match owner {
        Owner::Flow(_) => format!("/v1/auth/enrollment/totp/qr.{ext}"),
        Owner::Session(_) => format!("/v1/me/2fa/totp/qr.{ext}"),
    }
}

/// Starts (or restarts) an enrollment: a fresh secret replaces any earlier
/// one of the same owner, so an abandoned QR code is never activated.
pub async fn start_totp(
    state: &AppState,
    owner: Owner,
    user: &User,
    flow: Option<(Secret, i64)>,
) -> Result<TotpEnrollment, ApiError> {
    let now = state.now();
    // Inside a login, the enrollment cannot outlive the flow that owns it:
    // `expires_in` says when the flow token dies, not a longer promise.
    let (flow_token, expires_at) = match flow {
        Some((token, flow_expires_at)) => {
            (Some(token), flow_expires_at.min(now + PENDING_TTL_SECS))
        }
        None => (None, now + PENDING_TTL_SECS),
    };
    let secret = TotpSecret::generate();
    let sealed = seal(state, &user.id, &secret)?;
    let pending = Pending {
        id: uuid::Uuid::new_v4().to_string(),
        user_id: user.id.clone(),
        flow_id: match &owner {
            Owner::Flow(id) => Some(id.clone()),
            Owner::Session(_) => None,
        },
        session_id: match &owner {
            Owner::Session(id) => Some(id.clone()),
            Owner::Flow(_) => None,
        },
        secret_sealed: Some(sealed),
        recovery_code_hash: None,
        created_at: now,
        expires_at,
    };
    state
        .db
        .run(move |conn| repo::put_pending(conn, &pending))
        .await?;

    let issuer = state.config.issuer.clone();
    let uri = totp::otpauth_uri(&issuer, &user.email, &secret);
    let png = qr::png(&uri, qr::DEFAULT_SIZE).map_err(ApiError::internal)?;
    let svg = qr::svg(&uri, qr::DEFAULT_SIZE).map_err(ApiError::internal)?;
    let base = state.config.audience();
    Ok(TotpEnrollment {
        status: "enrollment_required",
        flow_token,
        expires_in: (expires_at - now).max(0),
        secret_grouped: Secret::new(secret.grouped()),
        secret: Secret::new(secret.base32()),
        otpauth_uri: Secret::new(uri),
        issuer,
        account_name: user.email.clone(),
        algorithm: "SHA1",
        digits: totp::DIGITS,
        period: totp::STEP_SECS,
        qr_png_url: format!("{base}{}", qr_path(&owner, "png")),
        qr_svg_url: format!("{base}{}", qr_path(&owner, "svg")),
        qr_png_data_uri: Secret::new(format!("data:image/png;base64,{}", STANDARD.encode(png))),
        qr_svg_data_uri: Secret::new(format!(
            "data:image/svg+xml;base64,{}",
            STANDARD.encode(svg)
        )),
    })
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

/// Reserves one second-factor attempt for `user` on the flow (if any), the
/// user and the client address, before anything is verified.
pub async fn reserve(
    state: &AppState,
    user_id: &str,
    ip: &str,
    flow_id: Option<String>,
) -> Result<Attempt, ApiError> {
    let now = state.now();
    let limit = state.config.address_failure_limit;
    let (user_id, ip) = (user_id.to_owned(), ip.to_owned());
    state
        .db
        .run(move |conn| {
            let user = Some((UserCounter::SecondFactor, user_id.as_str()));
            attempts::reserve(conn, flow_id.as_deref(), user, &ip, limit, now)
        })
        .await
}

/// A verified second factor: the reservation is given back (see
/// [`Attempt::verified`]); the caller ends the run of failures once the
/// factor is used.
pub async fn verified(state: &AppState, attempt: Attempt) -> Result<(), ApiError> {
    state.db.run(move |conn| attempt.verified(conn)).await
}

/// Settles a wrong second factor: it stays counted, is audited (with the
/// lock it started, if any) and answered: `wrong`, or 429 when it locked
/// the user or used up the flow.
pub async fn failed(
    state: &AppState,
    attempt: Attempt,
    user: &User,
    ip: &str,
    factor: &'static str,
    wrong: ApiError,
) -> ApiError {
    let now = state.now();
    let (user, ip) = (user.clone(), ip.to_owned());
    let recorded = state
        .db
        .run(move |conn| {
            let failure = attempt.failed(conn, now)?;
            let event = |kind, detail| Event::of_user(&user, kind, &ip, detail);
            audit::record(
                conn,
                event(kind::LOGIN_FAILED, json!({ "factor": factor })),
                now,
            )?;
            if let Some(until) = failure.locked_until {
                let detail = json!({ "until": rfc3339(until) });
                audit::record(conn, event(kind::TWOFA_LOCKED, detail), now)?;
            }
            Ok(failure)
        })
        .await;
    match recorded {
        Ok(failure) => failure.answer(wrong, now),
        Err(e) => e,
    }
}

/// Checks a TOTP code for `user` against `secret` (reserving the attempt
/// first); returns the matching step, not yet claimed: the caller claims it
/// in the transaction that acts on it.
pub async fn check_totp(
    state: &AppState,
    user: &User,
    secret: &TotpSecret,
    code: &Secret,
    ip: &str,
    flow_id: Option<String>,
) -> Result<i64, ApiError> {
    let code = totp::normalize_code(code.expose()).ok_or_else(|| {
        ApiError::field("code", "must be the 6 digits the authenticator app shows")
    })?;
    let attempt = reserve(state, &user.id, ip, flow_id).await?;
    match totp::verify(secret, &code, state.now()) {
        Some(step) => {
            verified(state, attempt).await?;
            Ok(step)
        }
        None => Err(failed(state, attempt, user, ip, "totp", ApiError::InvalidCode).await),
    }
}

/// Checks a recovery code (reserving the attempt first); returns the stored
/// hash it matched, which the caller spends with a conditional delete.
pub async fn check_recovery_code(
    state: &AppState,
    user: &User,
    code: &Secret,
    ip: &str,
    flow_id: Option<String>,
) -> Result<String, ApiError> {
    let canonical = recovery::normalize(code.expose()).ok_or_else(|| {
        ApiError::field(
            "recovery_code",
            "must be the 24-character recovery code (spaces and hyphens are ignored)",
        )
    })?;
    let attempt = reserve(state, &user.id, ip, flow_id).await?;
    let user_id = user.id.clone();
    let stored = state
        .db
        .run(move |conn| repo::recovery_code(conn, &user_id))
        .await?
        .map(|(hash, _)| hash);
    // Without a stored code the dummy hash is checked, at the same cost.
    if state.passwords.verify(stored.clone(), canonical).await? {
        if let Some(hash) = stored {
            verified(state, attempt).await?;
            return Ok(hash);
        }
    }
    Err(failed(
        state,
        attempt,
        user,
        ip,
        "recovery_code",
        ApiError::InvalidCode,
    )
    .await)
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
    ip: &str,
    flow_id: Option<String>,
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

/// Confirming before a code from the app was verified.
pub fn code_not_verified() -> ApiError {
    ApiError::Conflict {
        code: ErrorCode::CodeNotVerified,
        detail: "Verify a code from the authenticator app first.".to_owned(),
    }
}

/// A new recovery code: the display form (shown once) and its hash.
pub async fn new_recovery_code(state: &AppState) -> Result<(Secret, String), ApiError> {
    let canonical = recovery::generate();
    let display = recovery::display(&canonical);
    let hash = state.passwords.hash(canonical).await?;
    Ok((display, hash))
}

/// Makes a confirmed enrollment active, inside the caller's transaction:
/// the secret (if any) and the recovery code replace the user's old ones,
/// every enrollment in progress of the user is dropped. A new authenticator
/// also ends the user's password-only (aal 1) sessions but `keep` (the
/// session that enrolled): from now on the account needs the second factor,
/// and a session that never proved one must not outlive that.
pub fn activate(
    conn: &mut DbConn,
    pending: &Pending,
    user: &User,
    keep: Option<&str>,
    ip: &str,
    now: i64,
) -> Result<(), ApiError> {
    let hash = pending
        .recovery_code_hash
        .as_deref()
        .ok_or_else(code_not_verified)?;
    let kind = match &pending.secret_sealed {
        Some(sealed) => {
            // A login flow enrolls a user who had no authenticator when it
            // started. If one was enrolled since (another flow, another
            // device), this stale flow must not overwrite it: one
            // conditional write decides, also between racing flows.
            if pending.flow_id.is_some() && !repo::mark_enrolled_if_not(conn, &user.id)? {
                return Err(ApiError::FlowExpired);
            }
            repo::activate_authenticator(conn, &user.id, &pending.id, sealed, now)?;
            crate::sessions::repo::revoke_password_only_for_user(
                conn,
                &user.id,
                keep,
                "second_factor_enrolled",
                now,
            )?;
            kind::TOTP_ENROLLED
        }
        None => kind::RECOVERY_CODE_ROTATED,
    };
    repo::activate_recovery_code(conn, &user.id, hash, now)?;
    repo::delete_pending_for_user(conn, &user.id)?;
    attempts::repo::reset_user(conn, UserCounter::SecondFactor, &user.id)?;
    audit::record(conn, Event::of_user(user, kind, ip, json!({})), now)
}

/// Removes every second factor of `user`, requires enrollment at next
/// login, and ends every session and login in progress of theirs.
pub fn reset(
    conn: &mut DbConn,
    user: &User,
    actor: Actor,
    ip: Option<String>,
    now: i64,
) -> Result<usize, ApiError> {
    use crate::db::schema::{login_flows, users};
    use diesel::prelude::*;
    let removed = repo::remove_all(conn, &user.id)?;
    diesel::update(users::table.find(&user.id))
        .set((
            users::twofa_required.eq(true),
            users::mfa_failures.eq(0),
            users::mfa_lockouts.eq(0),
            users::mfa_locked_until.eq(None::<i64>),
        ))
        .execute(conn)?;
    diesel::delete(login_flows::table.filter(login_flows::user_id.eq(&user.id))).execute(conn)?;
    let revoked =
        crate::sessions::repo::revoke_all_for_user(conn, &user.id, None, "twofa_reset", now)?;
    audit::record(
        conn,
        Event {
            account_id: &user.account_id,
            actor,
            subject_user_id: Some(&user.id),
            kind: kind::TWOFA_RESET,
            ip,
            detail: json!({ "factors_removed": removed, "sessions_revoked": revoked }),
        },
        now,
    )?;
    Ok(revoked)
}

/// What `users reset-2fa` prints.
#[derive(Debug, serde::Serialize)]
pub struct ResetDone {
    pub user_id: String,
    pub email: String,
    pub sessions_revoked: usize,
}

/// The support path: reset by email from the operator CLI.
pub fn reset_by_email(conn: &mut DbConn, email: &str, now: i64) -> Result<ResetDone, ApiError> {
    let keys = crate::users::identity::lookup_keys("email", email)?;
    crate::db::write_tx(conn, |conn| {
        let user = crate::users::repo::find_by_any_email(conn, &keys)?.ok_or(ApiError::NotFound)?;
        let revoked = reset(conn, &user, Actor::Cli, None, now)?;
        Ok(ResetDone {
            user_id: user.id,
            email: user.email,
            sessions_revoked: revoked,
        })
    })
}

/// The user's second factor as `GET /v1/me/2fa` reports it.
pub async fn overview(state: &AppState, user: &User) -> Result<TwofaOverview, ApiError> {
    let now = state.now();
    let (user_id, account_id) = (user.id.clone(), user.account_id.clone());
    let (account, totp, code, keys, locked_until) = state
        .db
        .run(move |conn| {
            use crate::db::schema::users;
            use diesel::prelude::*;
            let account =
                crate::accounts::repo::find(conn, &account_id)?.ok_or(ApiError::NotFound)?;
            let totp = repo::authenticator(conn, &user_id)?;
            let code = repo::recovery_code(conn, &user_id)?;
            let keys = crate::webauthn::repo::has_credentials(conn, &user_id)?;
            let locked: Option<i64> = users::table
                .find(&user_id)
                .select(users::mfa_locked_until)
                .first(conn)?;
            Ok((account, totp, code, keys, locked))
        })
        .await?;
    let why = required_by(user, &account, now);
    let methods = methods(totp.is_some(), code.is_some(), keys);
    Ok(TwofaOverview {
        status: status(totp.is_some(), !why.is_empty()),
        required: !why.is_empty(),
        required_by: why,
        enforced_from: account.enforced_from().map(rfc3339),
        methods,
        totp: totp.map(|t| TotpMethod {
            enrolled_at: rfc3339(t.created_at),
            last_used_at: t.last_used_at.map(rfc3339),
        }),
        recovery_code: code.map(|(_, created)| RecoveryCodeState {
            created_at: rfc3339(created),
        }),
        locked_until: locked_until.filter(|until| *until > now).map(rfc3339),
    })
}
