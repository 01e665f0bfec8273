//! A signed-in user's own second factor (`/v1/me/2fa/...`): the overview,
//! voluntary enrollment, re-enrollment and a new recovery code. The
//! session owns the enrollment in progress. Replacing a factor that exists
//! needs one proven recently ([`Caller::fresh_second_factor`], judged by
//! [`policy::may_replace`]), so a stolen session cannot swap in the thief's
//! authenticator.

use std::net::IpAddr;

use super::enrollment::{self, StartedTotp};
use super::policy;
use crate::clock::rfc3339;
use crate::crypto::Secret;
use crate::db::write_tx;
use crate::error::{ApiError, ErrorCode};
use crate::sessions::service::Caller;
use crate::state::AppState;
use crate::twofa::dto::{RecoveryCodeState, TotpMethod, TwofaOverview};
use crate::twofa::{repo, Owner};
use crate::users::User;

fn owner(caller: &Caller) -> Owner {
    Owner::Session(caller.session.id.clone())
}

/// Refuses unless the session proved a second factor recently, when the
/// user has one to prove (an authenticator app or a passkey); answers
/// whether they have one.
async fn require_fresh(app: &AppState, caller: &Caller) -> Result<bool, ApiError> {
    let user_id = caller.user.id.clone();
    let enrolled = app
        .db
        .run(move |conn| {
            Ok(repo::authenticator(conn, &user_id)?.is_some()
                || crate::webauthn::repo::has_credentials(conn, &user_id)?)
        })
        .await?;
    policy::may_replace(enrolled, caller.fresh_second_factor(app.now()))?;
    Ok(enrolled)
}

/// The user's second factor as `GET /v1/me/2fa` reports it.
pub async fn overview(state: &AppState, user: &User) -> Result<TwofaOverview, ApiError> {
    let now = state.now();
    let (user_id, account_id) = (user.id.clone(), user.account_id.clone());
    let (account, totp, code, keys, locked_until) = state
        .db
        .run(move |conn| {
            let account =
                crate::accounts::repo::find(conn, &account_id)?.ok_or(ApiError::NotFound)?;
            let totp = repo::authenticator(conn, &user_id)?;
            let code = repo::recovery_code(conn, &user_id)?;
            let keys = crate::webauthn::repo::has_credentials(conn, &user_id)?;
            let locked = repo::locked_until(conn, &user_id)?;
            Ok((account, totp, code, keys, locked))
        })
        .await?;
    let why = policy::required_by(user, &account, now);
    let methods = policy::methods(totp.is_some(), code.is_some(), keys);
    Ok(TwofaOverview {
        status: policy::status(totp.is_some() || keys, !why.is_empty()),
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

/// Starts (re-)enrolling an authenticator; the current one, if any, keeps
/// working until the new one is verified and its recovery code confirmed.
pub async fn start(app: &AppState, caller: &Caller) -> Result<StartedTotp, ApiError> {
    require_fresh(app, caller).await?;
    enrollment::start_totp(app, owner(caller), &caller.user, None).await
}

/// The otpauth URI of the session's enrollment, for the QR endpoints.
pub async fn qr_uri(app: &AppState, caller: &Caller) -> Result<String, ApiError> {
    enrollment::pending_uri(app, owner(caller), &caller.user).await
}

/// Verifies the new authenticator's first code; returns the recovery code
/// to show, once.
pub async fn verify(
    app: &AppState,
    caller: &Caller,
    code: &Secret,
    ip: IpAddr,
) -> Result<Secret, ApiError> {
    let user = caller.user.clone();
    let (recovery_code, ()) =
        enrollment::verify_pending(app, owner(caller), user, code, ip, None, |_| Ok(())).await?;
    Ok(recovery_code)
}

/// A new recovery code for a user with an authenticator app or a passkey
/// (the old code works until this one is confirmed); returns it to show,
/// once.
pub async fn regenerate(app: &AppState, caller: &Caller) -> Result<Secret, ApiError> {
    if !require_fresh(app, caller).await? {
        return Err(ApiError::Conflict {
            code: ErrorCode::TwofaNotEnabled,
            detail: "Enroll an authenticator first; a recovery code comes with it.".to_owned(),
        });
    }
    enrollment::issue_recovery_code(app, &owner(caller), &caller.user.id).await
}

/// The user confirms the recovery code is stored: what was pending becomes
/// active (ending their other password-only sessions if it is a new
/// authenticator). Returns the new state.
pub async fn confirm(
    app: &AppState,
    caller: &Caller,
    confirmed: bool,
    ip: IpAddr,
) -> Result<TwofaOverview, ApiError> {
    enrollment::require_confirmed(confirmed)?;
    let now = app.now();
    let session_owner = owner(caller);
    let user = caller.user.clone();
    let session_id = caller.session.id.clone();
    app.db
        .run(move |conn| {
            write_tx(conn, |conn| {
                crate::users::repo::lock(conn, &user.id)?;
                let pending = repo::pending(conn, &session_owner, now)?
                    .ok_or_else(enrollment::not_started)?;
                enrollment::activate(conn, &pending, &user, Some(&session_id), ip, now)
            })
        })
        .await?;
    overview(app, &caller.user).await
}
