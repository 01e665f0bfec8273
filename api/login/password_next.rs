//! Where a right password leads, decided inside the transaction that
//! settles the attempt: a session (the password alone, or with a
//! remembered device), a second factor, or enrollment.

use std::net::IpAddr;

use super::flow::{advance, complete, enrollment_required, mfa_required, Known, Step};
use super::flow_state::FlowState;
use super::password::{after_password, second_factor_methods, AfterPassword};
use super::repo::{standing, Flow, Standing};
use crate::attempts;
use crate::crypto::Secret;
use crate::db::DbConn;
use crate::devices::service as devices;
use crate::error::ApiError;
use crate::sessions::service::{PASSWORD_AND_DEVICE, PASSWORD_ONLY};
use crate::twofa::service as twofa;
use crate::users::User;

/// What the step after a right password depends on besides the user.
pub(super) struct After<'a> {
    /// The remembered device the browser presented, if any.
    pub device_token: Option<&'a Secret>,
    /// Whether passkeys can be enrolled (offered at enrollment).
    pub webauthn: bool,
    /// The client address was recorded as the user's within the day.
    pub address_recent: bool,
    pub ip: IpAddr,
    pub now: i64,
}

/// The step after a right password, and whether the browser presented a
/// device token that is not a remembered device (a guess, counted against
/// the address once the password's attempt is settled).
pub(super) struct Next {
    pub step: Step,
    pub wrong_device: bool,
}

/// The step after `user`'s right password on `flow`; runs inside the
/// caller's transaction, with the user's row locked.
pub(super) fn next_step(
    conn: &mut DbConn,
    flow: &Flow,
    user: &User,
    at: &After<'_>,
) -> Result<Next, ApiError> {
    let mut wrong_device = false;
    let step = step_for(conn, flow, user, at, &mut wrong_device)?;
    Ok(Next { step, wrong_device })
}

fn step_for(
    conn: &mut DbConn,
    flow: &Flow,
    user: &User,
    at: &After<'_>,
    wrong_device: &mut bool,
) -> Result<Step, ApiError> {
    let Standing {
        account,
        has_app,
        has_recovery_code,
        has_passkey,
    } = standing(conn, &user.id)?.ok_or(ApiError::FlowExpired)?;
    let required = !twofa::required_by(user, &account, at.now).is_empty();
    match after_password(has_app || has_passkey, required) {
        AfterPassword::SecondFactor => {
            if let Some(token) = at.device_token {
                let trusted = devices::recognise(conn, user, &account, token, at.now)?;
                match trusted {
                    Some(device) if !attempts::second_factor_locked(conn, &user.id, at.now)? => {
                        devices::used(conn, user, &device, at.ip, at.now)?;
                        return complete(
                            conn,
                            flow,
                            user,
                            PASSWORD_AND_DEVICE,
                            Known {
                                has_passkey: Some(has_passkey),
                                address_recent: at.address_recent,
                            },
                            at.ip,
                            at.now,
                        )
                        .map(|opened| Step::Done(Box::new(opened)));
                    }
                    Some(_) => {}
                    None => *wrong_device = true,
                }
            }
            let token = advance(conn, flow, FlowState::Mfa, None, at.now)?;
            let methods = second_factor_methods(has_app, has_recovery_code, has_passkey);
            Ok(Step::Next(mfa_required(token, methods)))
        }
        AfterPassword::Enrollment => {
            let token = advance(conn, flow, FlowState::Enrollment, None, at.now)?;
            Ok(Step::Next(enrollment_required(token, at.webauthn)))
        }
        AfterPassword::Session => complete(
            conn,
            flow,
            user,
            PASSWORD_ONLY,
            Known {
                has_passkey: Some(has_passkey),
                address_recent: at.address_recent,
            },
            at.ip,
            at.now,
        )
        .map(|opened| Step::Done(Box::new(opened))),
    }
}
