//! The first two login steps: the email, then the password, and where a
//! right password leads (a session, a second factor, or enrollment).
//!
//! Nothing here may let a caller tell a known email from an unknown one:
//! both get a flow, a password check against a hash and a counter of their
//! own, and the same answers.

use std::net::IpAddr;

use super::dto::{LoginStep, Method, PasswordRequired};
use super::flow::{self, allowed, load_at_password, password_required, Step, FLOW_TTL_SECS};
use super::flow_state::FlowState;
use super::password_next::{next_step, After};
use super::repo::{AtPassword, Flow};
use crate::attempts::{self, Attempt, UserCounter};
use crate::audit::detail::{FailedFactor, LoginFailed};
use crate::audit::{self, kind, Detail, Event};
use crate::crypto::{new_token, sha256_hex, Secret};
use crate::db::{commit_durably, write_tx_deferred};
use crate::error::ApiError;
use crate::ids::{FlowId, UserId};
use crate::sessions::service as sessions;
use crate::state::AppState;
use crate::twofa::service as twofa;
use crate::users::identity::lookup_keys;
use crate::users::{self, User};

/// Where a right password leads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterPassword {
    /// The user has an authenticator app or a passkey: a second factor
    /// comes next.
    SecondFactor,
    /// 2FA is required but nothing is set up: enroll a factor first.
    Enrollment,
    /// Neither: the password alone opens the session.
    Session,
}

/// The step after a right password. An authenticator app or a passkey
/// makes a user enrolled (either may be enrolled at login); a recovery
/// code alone never does, it only stands in for one of them.
pub fn after_password(has_second_factor: bool, twofa_required: bool) -> AfterPassword {
    if has_second_factor {
        AfterPassword::SecondFactor
    } else if twofa_required {
        AfterPassword::Enrollment
    } else {
        AfterPassword::Session
    }
}

/// The second factors offered to an enrolled user: what they hold, the
/// app first.
pub fn second_factor_methods(
    has_authenticator: bool,
    has_recovery_code: bool,
    has_passkey: bool,
) -> Vec<Method> {
    twofa::login_methods(has_authenticator, has_recovery_code, has_passkey)
}

/// Step 1: the email. Known and unknown emails get the same answer after the
/// same work (one lookup, one insert); an unknown one fails at the password.
pub async fn start(
    state: &AppState,
    email: &str,
    ip: IpAddr,
    user_agent: Option<String>,
) -> Result<PasswordRequired, ApiError> {
    let keys = lookup_keys("email", email)?;
    let now = state.now();
    let token = new_token("flw_");
    let token_hash = sha256_hex(token.expose());
    let limit = state.config.address_flow_limit;
    // Anyone can send emails in bulk: their work shares the password
    // step's lane, so a flood of them leaves the rest of the pool alone.
    state
        .db
        .password_lane()
        .run(move |conn| {
            let user = users::repo::find_by_any_email(conn, &keys)?;
            // An email no user has still gets a password counter of its
            // own, so the back-off answers alike for known and unknown ones.
            let unknown_subject = match &user {
                Some(_) => None,
                None => keys.first().map(|key| format!("email:{}", sha256_hex(key))),
            };
            let flow = Flow {
                id: FlowId::new(),
                token_hash,
                user_id: user.map(|u| u.id),
                unknown_subject,
                state: FlowState::Password,
                failed_attempts: 0,
                created_at: now,
                expires_at: now + FLOW_TTL_SECS,
                second_factor: None,
                client_address: None,
                user_agent,
                remember_device: false,
            };
            flow::open_flow(conn, flow, ip, limit, now)
        })
        .await?;
    Ok(password_required(token))
}

/// Step 2: the password. Then, by what the user has and must have: a
/// session, a second factor, or enrollment.
pub async fn password(
    app: &AppState,
    flow_token: Secret,
    password: Secret,
    device_token: Option<Secret>,
    ip: IpAddr,
) -> Result<LoginStep, ApiError> {
    let now = app.now();
    // A place in the hashing queue first: when there is none the step is
    // refused before it reads or writes anything.
    let slot = app.passwords.slot()?;
    // Its database work goes through the password lane: a burst of
    // password steps leaves the rest of the pool to cheap requests.
    let db = app.db.password_lane();
    let AtPassword {
        flow,
        user,
        address_seen_at,
    } = load_at_password(&db, now, &flow_token, ip).await?;
    let attempt = {
        let flow_id = flow.id.clone();
        // A real user's counter, or the unknown email's: the same back-off.
        // The unknown email's subject stands in for a user id on purpose, so
        // both are counted (and answered) alike.
        let user_id = user
            .as_ref()
            .map(|u| u.id.clone())
            .or_else(|| flow.unknown_subject.clone().map(UserId::from));
        let limit = app.config.address_failure_limit;
        let turn = user_id
            .clone()
            .unwrap_or_else(|| UserId::from(flow_id.as_str().to_owned()));
        // From where the user signed in lately, wrong passwords start no
        // back-off: it would only lock the owner out (see `attempts`).
        let counted = user_id.filter(|_| !attempts::address_known(address_seen_at, now));
        db.run_in_turn(turn.as_str(), move |conn| {
            let counter = counted.as_ref().map(|id| (UserCounter::Password, id));
            attempts::reserve(conn, Some(&flow_id), counter, ip, limit, now)
        })
        .await?
    };
    let stored_hash = user.as_ref().map(|u| u.password_hash.clone());
    let matched = slot.verify(stored_hash, password.clone()).await?;
    let Some(user) = user else {
        return Err(wrong_password(app, attempt, None, ip).await);
    };
    // From an address the account's allow-list refuses, the answer is the
    // same whether the password was right or not (the hash was checked
    // either way, so the timing matches too): the list must not let an
    // outsider test passwords. The try still counts.
    if let Err(refused) = allowed(app, &user, ip).await {
        db.run(move |conn| attempt.refused(conn, matched, now))
            .await?;
        app.metrics.login("password", refused.code());
        return Err(refused);
    }
    // A deactivated user's right password is answered exactly like a wrong
    // one (counted, audited, `invalid_credentials`), after the same hash:
    // the answer must not tell who was taken off an account.
    if !matched || !user.is_active() {
        return Err(wrong_password(app, attempt, Some(user), ip).await);
    }
    if !app.passwords.is_current(&user.password_hash) {
        let new_hash = app.passwords.hash(password).await?;
        let (id, old_hash) = (user.id.clone(), user.password_hash.clone());
        db.run(move |conn| users::repo::rehash_password(conn, &id, &old_hash, &new_hash))
            .await?;
    }

    let address_limit = app.config.address_failure_limit;
    let webauthn = app.webauthn.is_some();
    let turn = user.id.clone();
    let step = db
        .run_in_turn(turn.as_str(), move |conn| {
            // Deferred unless it opens a session or counts a failure: a
            // crash that forgets a flow moved on costs the user a new
            // login, and a right password's attempt is settled in the
            // forgotten commit too.
            write_tx_deferred(conn, |conn| {
                // The user's row before the flow's, as a reset takes them.
                users::repo::lock(conn, &user.id)?;
                let at = After {
                    device_token: device_token.as_ref(),
                    webauthn,
                    address_recent: attempts::address_still_known(address_seen_at, now),
                    ip,
                    now,
                };
                let next = next_step(conn, &flow, &user, &at)?;
                // Settled with the step it led to, in one commit, last (see
                // `Attempt::succeeded`). Should the step fail (a racing
                // request moved the flow), the attempt stays counted.
                attempt.succeeded(conn)?;
                if next.wrong_device {
                    attempts::address_failure(conn, ip, address_limit, now)?;
                }
                if next.wrong_device || matches!(next.step, Step::Done(_)) {
                    commit_durably(conn)?;
                }
                Ok(next.step)
            })
        })
        .await?;
    match step {
        Step::Next(answer) => {
            app.metrics.login("password", answer.status());
            Ok(answer)
        }
        Step::Done(opened) => {
            app.metrics.login("password", "authenticated");
            Ok(LoginStep::Authenticated(sessions::tokens(
                app, *opened, now,
            )?))
        }
    }
}

/// Settles a wrong password: counted, audited for a real user (at most once
/// a minute each, and whenever it starts a back-off, so guesses cannot flood
/// the trail) and answered `invalid_credentials`, or 429 when it started a
/// back-off or used up the flow.
pub async fn wrong_password(
    app: &AppState,
    attempt: Attempt,
    user: Option<User>,
    ip: IpAddr,
) -> ApiError {
    let now = app.now();
    let settled = app
        .db
        .password_lane()
        .run(move |conn| {
            let failure = attempt.failed(conn, now)?;
            let Some(user) = user else {
                return Ok(failure);
            };
            let audit_now = failure.locked_until.is_some()
                || attempts::repo::claim_password_audit(
                    conn,
                    &user.id,
                    attempts::PASSWORD_AUDIT_EVERY_SECS,
                    now,
                )?;
            if audit_now {
                let detail = Detail::LoginFailed(LoginFailed {
                    factor: FailedFactor::Password,
                    consecutive: Some(failure.consecutive),
                    locked_until: failure.locked_until.map(crate::clock::rfc3339),
                });
                audit::record(
                    conn,
                    Event::of_user(&user, kind::LOGIN_FAILED, ip, detail),
                    now,
                )?;
            }
            Ok(failure)
        })
        .await;
    let answer = match settled {
        Ok(failure) => failure.answer(ApiError::InvalidCredentials, now),
        Err(e) => e,
    };
    app.metrics.login("password", answer.code());
    answer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_authenticator_app_always_asks_for_a_second_factor() {
        assert_eq!(after_password(true, false), AfterPassword::SecondFactor);
        assert_eq!(after_password(true, true), AfterPassword::SecondFactor);
    }

    #[test]
    fn required_2fa_without_an_app_means_enrollment() {
        assert_eq!(after_password(false, true), AfterPassword::Enrollment);
    }

    #[test]
    fn without_a_factor_or_a_requirement_the_password_suffices() {
        assert_eq!(after_password(false, false), AfterPassword::Session);
    }

    #[test]
    fn the_app_is_offered_first_then_what_else_the_user_holds() {
        assert_eq!(
            second_factor_methods(true, false, false),
            vec![Method::Totp]
        );
        assert_eq!(
            second_factor_methods(true, true, false),
            vec![Method::Totp, Method::RecoveryCode]
        );
        assert_eq!(
            second_factor_methods(true, false, true),
            vec![Method::Totp, Method::Webauthn]
        );
        assert_eq!(
            second_factor_methods(true, true, true),
            vec![Method::Totp, Method::RecoveryCode, Method::Webauthn]
        );
    }

    #[test]
    fn a_passkey_alone_is_offered_without_the_app() {
        assert_eq!(
            second_factor_methods(false, true, true),
            vec![Method::RecoveryCode, Method::Webauthn]
        );
    }
}
