//! Checking a second factor at login (and at the first code of an
//! enrollment): every check reserves an attempt before anything is
//! verified, so parallel guesses are counted before they are judged; a
//! wrong factor stays counted, is audited, and may lock the user. Claiming
//! a matched TOTP step or spending a matched recovery code is the caller's
//! job, inside the transaction that acts on it.

use std::net::IpAddr;

use crate::attempts::{self, Attempt, Failure, UserCounter};
use crate::audit::detail::{FailedFactor, LoginFailed, TwofaLocked};
use crate::audit::{self, kind, Detail, Event};
use crate::clock::rfc3339;
use crate::crypto::totp::{self, TotpSecret};
use crate::crypto::{recovery, Secret};
use crate::db::DbConn;
use crate::error::ApiError;
use crate::ids::{FlowId, UserId};
use crate::state::AppState;
use crate::twofa::repo;
use crate::users::User;

/// Reserves one second-factor attempt for `user` on the flow (if any), the
/// user and the client address, before anything is verified.
pub async fn reserve(
    state: &AppState,
    user_id: &UserId,
    ip: IpAddr,
    flow_id: Option<FlowId>,
) -> Result<Attempt, ApiError> {
    let now = state.now();
    let limit = state.config.address_failure_limit;
    let user_id = user_id.to_owned();
    let turn = user_id.clone();
    state
        .db
        .run_in_turn(turn.as_str(), move |conn| {
            let user = Some((UserCounter::SecondFactor, &user_id));
            attempts::reserve(conn, flow_id.as_ref(), user, ip, limit, now)
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
    ip: IpAddr,
    factor: FailedFactor,
    wrong: ApiError,
) -> ApiError {
    let now = state.now();
    let user = user.clone();
    let recorded = state
        .db
        .run(move |conn| record_failure(conn, attempt, &user, ip, factor, now))
        .await;
    match recorded {
        Ok(failure) => failure.answer(wrong, now),
        Err(e) => e,
    }
}

/// [`failed`] on the caller's connection (inside its transaction, if any):
/// the failure recorded and audited; the caller answers it.
pub fn record_failure(
    conn: &mut DbConn,
    attempt: Attempt,
    user: &User,
    ip: IpAddr,
    factor: FailedFactor,
    now: i64,
) -> Result<Failure, ApiError> {
    let failure = attempt.failed(conn, now)?;
    let event = |kind, detail| Event::of_user(user, kind, ip, detail);
    audit::record(
        conn,
        event(
            kind::LOGIN_FAILED,
            Detail::LoginFailed(LoginFailed {
                factor,
                consecutive: None,
                locked_until: None,
            }),
        ),
        now,
    )?;
    if let Some(until) = failure.locked_until {
        let detail = Detail::TwofaLocked(TwofaLocked {
            until: rfc3339(until),
        });
        audit::record(conn, event(kind::TWOFA_LOCKED, detail), now)?;
    }
    Ok(failure)
}

/// Checks a TOTP code for `user` against `secret` (reserving the attempt
/// first); returns the matching step, not yet claimed: the caller claims it
/// in the transaction that acts on it.
pub async fn check_totp(
    state: &AppState,
    user: &User,
    secret: &TotpSecret,
    code: &Secret,
    ip: IpAddr,
    flow_id: Option<FlowId>,
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
        None => Err(failed(
            state,
            attempt,
            user,
            ip,
            FailedFactor::Totp,
            ApiError::InvalidCode,
        )
        .await),
    }
}

/// Checks a recovery code (reserving the attempt first); returns the stored
/// hash it matched, which the caller spends with a conditional delete.
pub async fn check_recovery_code(
    state: &AppState,
    user: &User,
    code: &Secret,
    ip: IpAddr,
    flow_id: Option<FlowId>,
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
        FailedFactor::RecoveryCode,
        ApiError::InvalidCode,
    )
    .await)
}
