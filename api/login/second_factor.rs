//! The second login step for an enrolled user: a code from the
//! authenticator app or the recovery code (passkeys, in
//! [`crate::webauthn`], end through [`finish_second_factor`] too), and what
//! every second factor shares once proven: the counter reset, the session,
//! or first a new recovery code when the user has none left.
//!
//! A proof and the flow's move happen in one transaction, so a factor that
//! is refused at the last moment (a TOTP step or recovery code spent by a
//! racing request) leaves the flow where it was.

use std::net::IpAddr;

use super::dto::LoginStep;
use super::flow::{advance, complete, load_user, recovery_code_confirmation_required, Known, Step};
use super::flow_state::FlowState;
use super::repo::Flow;
use crate::attempts::{self, UserCounter};
use crate::audit::{self, kind, Detail, Event};
use crate::crypto::Secret;
use crate::db::{write_tx, DbConn};
use crate::error::ApiError;
use crate::sessions::amr::Factor;
use crate::sessions::service::{self as sessions, Assurance};
use crate::state::AppState;
use crate::twofa::{repo as factors, service as twofa};
use crate::users::User;

/// The assurance of a session opened after the password and
/// `second_factor`. A flow that recorded no second factor, or the password
/// as one, is refused as expired: it cannot have reached this point
/// honestly, and must not be read as the authenticator app.
pub fn assurance(second_factor: Option<Factor>) -> Result<Assurance, ApiError> {
    match second_factor {
        Some(Factor::Totp) => Ok(sessions::PASSWORD_AND_TOTP),
        Some(Factor::RecoveryCode) => Ok(sessions::PASSWORD_AND_RECOVERY_CODE),
        Some(Factor::Key) => Ok(sessions::PASSWORD_AND_KEY),
        Some(Factor::Password | Factor::Device) | None => Err(ApiError::FlowExpired),
    }
}

/// After a second factor: a session, unless the user has no recovery code
/// (the last one was spent and its successor never confirmed), in which
/// case a new one is issued and must be confirmed first. Runs inside the
/// caller's transaction.
pub(super) fn after_second_factor(
    conn: &mut DbConn,
    flow: &Flow,
    user: &User,
    proven: Proven,
    ip: IpAddr,
    now: i64,
) -> Result<Step, ApiError> {
    let Proven {
        factor,
        counted,
        new_code,
        known,
    } = proven;
    if !counted {
        attempts::repo::reset_user(conn, UserCounter::SecondFactor, &user.id)?;
    }
    let step = match new_code {
        Some((display, hash)) => {
            factors::put_pending(
                conn,
                &twofa::new_pending(
                    &super::flow::owner(flow),
                    &user.id,
                    twofa::Waiting::RecoveryCode(hash),
                    now,
                    now + twofa::PENDING_TTL_SECS,
                ),
            )?;
            let token = advance(conn, flow, FlowState::Confirm, Some(factor), now)?;
            if flow.remember_device {
                super::repo::remember_device(conn, &flow.id)?;
            }
            Step::Next(LoginStep::RecoveryCodeConfirmationRequired(
                recovery_code_confirmation_required(token, display),
            ))
        }
        None => complete(conn, flow, user, assurance(Some(factor))?, known, ip, now)
            .map(|opened| Step::Done(Box::new(opened)))?,
    };
    Ok(step)
}

/// A code sent to a second-factor step: the login it continues, the code,
/// and the client address it came from.
pub struct CodeStep {
    pub flow_token: Secret,
    pub code: Secret,
    /// Remember the browser once the login ends (see [`crate::devices`]).
    pub remember_device: bool,
    pub ip: IpAddr,
}

/// The time, flow and user of a second-factor step: the flow must be
/// waiting for one.
pub(super) async fn at_second_factor(
    app: &AppState,
    step: &CodeStep,
) -> Result<(i64, Flow, User), ApiError> {
    let now = app.now();
    let (mut flow, user) = load_user(app, &step.flow_token, FlowState::Mfa, step.ip).await?;
    flow.remember_device = step.remember_device;
    Ok((now, flow, user))
}

/// A second factor about to be proven: which, whether counting it ended
/// the user's run of failures already (the app's code, see
/// [`attempts::count_checked_in_tx`]), the new recovery code to issue when
/// the user has none left, and what is known already about the login.
pub(super) struct Proven {
    pub factor: Factor,
    pub counted: bool,
    pub new_code: Option<(Secret, String)>,
    pub known: Known,
}

/// Ends a proven second factor: a session, or first a new recovery code
/// when the user has none. `proof` runs first in the same transaction (it
/// claims a TOTP step, for instance) and can still refuse.
pub async fn finish_second_factor(
    app: &AppState,
    flow: Flow,
    user: User,
    factor: Factor,
    ip: IpAddr,
    proof: impl FnOnce(&mut DbConn) -> Result<(), ApiError> + Send + 'static,
) -> Result<LoginStep, ApiError> {
    let has_code = {
        let id = user.id.clone();
        app.db
            .run(move |conn| Ok(factors::recovery_code(conn, &id)?.is_some()))
            .await?
    };
    let proven = Proven {
        factor,
        counted: false,
        new_code: new_code_unless(app, has_code).await?,
        known: Known {
            // A passkey proven now is one.
            has_passkey: (factor == Factor::Key).then_some(true),
            ..Known::default()
        },
    };
    finish_proven(app, flow, user, proven, ip, proof).await
}

/// A new recovery code (shown once, and its hash) unless the user has one.
pub(super) async fn new_code_unless(
    app: &AppState,
    has_code: bool,
) -> Result<Option<(Secret, String)>, ApiError> {
    if has_code {
        return Ok(None);
    }
    twofa::new_recovery_code(app).await.map(Some)
}

async fn finish_proven(
    app: &AppState,
    flow: Flow,
    user: User,
    proven: Proven,
    ip: IpAddr,
    proof: impl FnOnce(&mut DbConn) -> Result<(), ApiError> + Send + 'static,
) -> Result<LoginStep, ApiError> {
    let now = app.now();
    let factor = proven.factor;
    let turn = user.id.clone();
    let outcome = app
        .db
        .run_in_turn(turn.as_str(), move |conn| {
            write_tx(conn, |conn| {
                // The user's row first, as a reset takes it (see
                // `users::repo::lock`).
                crate::users::repo::lock(conn, &user.id)?;
                proof(conn)?;
                after_second_factor(conn, &flow, &user, proven, ip, now)
            })
        })
        .await;
    let step = match factor {
        Factor::Key => "webauthn",
        _ => "totp",
    };
    finish_step(app, step, outcome, now)
}

/// Second factor: the recovery code. It is spent at once; a new one is
/// issued and must be confirmed before the session opens.
pub async fn recovery_code(app: &AppState, step: CodeStep) -> Result<LoginStep, ApiError> {
    let (now, flow, user) = at_second_factor(app, &step).await?;
    let CodeStep { code, ip, .. } = step;
    let matched = twofa::check_recovery_code(app, &user, &code, ip, Some(flow.id.clone()))
        .await
        .inspect_err(|e| app.metrics.login("recovery_code", e.code()))?;
    let new_code = twofa::new_recovery_code(app).await?;
    let turn = user.id.clone();
    let outcome = app
        .db
        .run_in_turn(turn.as_str(), move |conn| {
            write_tx(conn, |conn| {
                crate::users::repo::lock(conn, &user.id)?;
                if !factors::spend_recovery_code(conn, &user.id, &matched)? {
                    return Err(ApiError::CodeAlreadyUsed);
                }
                audit::record(
                    conn,
                    Event::of_user(&user, kind::RECOVERY_CODE_USED, ip, Detail::NONE),
                    now,
                )?;
                let proven = Proven {
                    factor: Factor::RecoveryCode,
                    counted: false,
                    new_code: Some(new_code),
                    known: Known::default(),
                };
                after_second_factor(conn, &flow, &user, proven, ip, now)
            })
        })
        .await;
    finish_step(app, "recovery_code", outcome, now)
}

/// Answers a second-factor step and counts it under `step` in the metrics.
pub(super) fn finish_step(
    app: &AppState,
    step: &str,
    outcome: Result<Step, ApiError>,
    now: i64,
) -> Result<LoginStep, ApiError> {
    match outcome {
        Ok(Step::Next(answer)) => {
            app.metrics.login(step, answer.status());
            Ok(answer)
        }
        Ok(Step::Done(opened)) => {
            app.metrics.login(step, "authenticated");
            Ok(LoginStep::Authenticated(sessions::tokens(
                app, *opened, now,
            )?))
        }
        Err(e) => {
            app.metrics.login(step, e.code());
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn amr(factor: Option<Factor>) -> Option<(i32, &'static [Factor])> {
        assurance(factor).ok().map(|a| (a.aal, a.amr))
    }

    #[test]
    fn each_second_factor_opens_a_session_that_names_it() {
        use Factor::{Key, Password, RecoveryCode, Totp};
        assert_eq!(amr(Some(Totp)), Some((2, &[Password, Totp][..])));
        assert_eq!(
            amr(Some(RecoveryCode)),
            Some((2, &[Password, RecoveryCode][..]))
        );
        assert_eq!(amr(Some(Key)), Some((2, &[Password, Key][..])));
    }

    #[test]
    fn a_flow_without_a_second_factor_is_never_read_as_the_app() {
        assert!(matches!(assurance(None), Err(ApiError::FlowExpired)));
        assert!(matches!(
            assurance(Some(Factor::Password)),
            Err(ApiError::FlowExpired)
        ));
    }
}
