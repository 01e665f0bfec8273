//! Rules for the signed-in user's own data.

use std::net::IpAddr;

use super::dto::{AccountSummary, MeResponse, SessionSummary};
use crate::accounts;
use crate::attempts::{self, UserCounter};
use crate::clock::rfc3339;
use crate::crypto::Secret;
use crate::error::ApiError;
use crate::login::service::wrong_password;
use crate::sessions::service::Caller;
use crate::state::AppState;

pub const MIN_PASSWORD_CHARS: usize = 10;
pub const MAX_PASSWORD_CHARS: usize = 256;

pub async fn profile(state: &AppState, caller: Caller) -> Result<MeResponse, ApiError> {
    let now = state.now();
    let (account_id, user_id) = (caller.user.account_id.clone(), caller.user.id.clone());
    let (account, enrolled) = state
        .db
        .run(move |conn| {
            let account = accounts::repo::find(conn, &account_id)?.ok_or(ApiError::InvalidToken)?;
            let enrolled = crate::twofa::repo::authenticator(conn, &user_id)?.is_some();
            Ok((account, enrolled))
        })
        .await?;
    let required = !crate::twofa::service::required_by(&caller.user, &account, now).is_empty();
    let Caller { session, user } = caller;
    Ok(MeResponse {
        twofa_status: crate::twofa::service::status(enrolled, required),
        twofa_required: required,
        role: user.role(),
        id: user.id,
        email: user.email,
        name: user.name,
        account: AccountSummary {
            id: account.id,
            name: account.name,
        },
        session: SessionSummary {
            aal: session.aal,
            amr: session.amr_list(),
            created_at: rfc3339(session.created_at),
            expires_at: rfc3339(session.expires_at),
            id: session.id,
        },
    })
}

/// Checks the new password's shape; the field is named in the error.
pub fn validate_new_password(password: &Secret, current: &Secret) -> Result<(), ApiError> {
    let chars = password.expose().chars().count();
    if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&chars) {
        return Err(ApiError::field(
            "new_password",
            format!("must be {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters"),
        ));
    }
    if password.expose().chars().any(char::is_control) {
        return Err(ApiError::field(
            "new_password",
            "must not contain control characters",
        ));
    }
    if password == current {
        return Err(ApiError::field(
            "new_password",
            "must differ from the current password",
        ));
    }
    Ok(())
}

/// Changes the caller's password and revokes every other session and open
/// login of theirs: whoever else knew the old password is signed out.
///
/// Once the user has a second factor, this needs one proven in the last 15
/// minutes: otherwise a password-only session (or an old one kept alive by
/// refresh) could change the password and lock the owner out. A wrong
/// current password counts toward the per-user password limit, like a
/// wrong password at login, and is audited the same way.
pub async fn change_password(
    state: &AppState,
    caller: Caller,
    current: Secret,
    new: Secret,
    ip: IpAddr,
) -> Result<(), ApiError> {
    validate_new_password(&new, &current)?;
    let now = state.now();
    if caller.user.twofa_enrolled && !caller.fresh_second_factor(now) {
        return Err(ApiError::ReauthenticationRequired);
    }
    let attempt = {
        let user_id = caller.user.id.clone();
        let limit = state.config.address_failure_limit;
        state
            .db
            .run(move |conn| {
                let counter = Some((UserCounter::Password, &user_id));
                attempts::reserve(conn, None, counter, ip, limit, now)
            })
            .await?
    };
    let matched = state
        .passwords
        .verify(Some(caller.user.password_hash.clone()), current)
        .await?;
    if !matched {
        return Err(wrong_password(state, attempt, Some(caller.user), ip).await);
    }
    state.db.run(move |conn| attempt.succeeded(conn)).await?;
    let hash = state.passwords.hash(new).await?;
    state
        .db
        .run(move |conn| {
            crate::db::write_tx(conn, |conn| {
                crate::users::repo::set_password(conn, &caller.user.id, &hash, now)?;
                crate::login::repo::delete_for_user(conn, &caller.user.id)?;
                let revoked = crate::sessions::repo::revoke_for_user(
                    conn,
                    &caller.user.id,
                    crate::sessions::repo::Which::All,
                    Some(&caller.session.id),
                    "password_changed",
                    now,
                )?;
                crate::devices::service::end_all(
                    conn,
                    &caller.user.account_id,
                    &caller.user.id,
                    crate::audit::Actor::User(caller.user.id.clone()),
                    crate::audit::detail::ForgetReason::PasswordChanged,
                    Some(ip.to_string()),
                    now,
                )?;
                crate::audit::record(
                    conn,
                    crate::audit::Event {
                        account_id: &caller.user.account_id,
                        actor: crate::audit::Actor::User(caller.user.id.clone()),
                        subject_user_id: Some(&caller.user.id),
                        kind: crate::audit::kind::PASSWORD_CHANGED,
                        ip: Some(ip.to_string()),
                        detail: crate::audit::Detail::PasswordChanged(
                            crate::audit::detail::PasswordChanged {
                                sessions_revoked: revoked,
                            },
                        ),
                    },
                    now,
                )
            })
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_password_rules() {
        let current = Secret::new("current password");
        assert!(validate_new_password(&Secret::new("short"), &current).is_err());
        assert!(validate_new_password(&Secret::new("x".repeat(257)), &current).is_err());
        assert!(validate_new_password(&current.clone(), &current).is_err());
        assert!(validate_new_password(&Secret::new("tab\there ok?"), &current).is_err());
        assert!(validate_new_password(&Secret::new("ten chars!"), &current).is_ok());
    }
}
