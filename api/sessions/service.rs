//! Session rules: opening, authenticating, rotating and revoking.

use std::net::IpAddr;

use super::amr::Factor;
use super::dto::TokenResponse;
use super::jwt::{AccessClaims, ACCESS_TTL_SECS};
use super::repo::{self, Session};
use crate::audit::detail::SessionEnded;
use crate::audit::Detail;
use crate::audit::{self, kind, Actor, Event};
use crate::clock::rfc3339;
use crate::crypto::{new_token, sha256_hex, Secret};
use crate::db::DbConn;
use crate::error::ApiError;
use crate::ids::SessionId;
use crate::state::AppState;
use crate::users::User;

/// Absolute lifetime of a session: refreshing never extends it past this.
pub const SESSION_TTL_SECS: i64 = 7 * 24 * 60 * 60;

/// How long ended sessions (and their spent refresh tokens) are kept, so a
/// stolen refresh token presented late is still recognised as reuse.
pub const ENDED_RETENTION_SECS: i64 = 30 * 24 * 60 * 60;

/// Live sessions one user may hold: a new one past it ends the oldest, so
/// no user (or script with their password) grows the table without bound.
pub const MAX_LIVE_SESSIONS: i64 = 50;

/// A session's last use is written at most this often.
pub const TOUCH_EVERY_SECS: i64 = 60;

/// Where a new session signs in from, as its holder will see it listed.
#[derive(Debug, Clone)]
pub struct Client {
    pub address: String,
    pub user_agent: Option<String>,
}

/// Authentication assurance of a new session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Assurance {
    pub aal: i32,
    pub amr: &'static [Factor],
}

pub const PASSWORD_ONLY: Assurance = Assurance {
    aal: 1,
    amr: &[Factor::Password],
};

pub const PASSWORD_AND_TOTP: Assurance = Assurance {
    aal: 2,
    amr: &[Factor::Password, Factor::Totp],
};

pub const PASSWORD_AND_RECOVERY_CODE: Assurance = Assurance {
    aal: 2,
    amr: &[Factor::Password, Factor::RecoveryCode],
};

pub const PASSWORD_AND_KEY: Assurance = Assurance {
    aal: 2,
    amr: &[Factor::Password, Factor::Key],
};

/// The password on a remembered device: `aal` 2 (the account's policy is
/// met), but no second factor proven now (see [`Caller::fresh_second_factor`]).
pub const PASSWORD_AND_DEVICE: Assurance = Assurance {
    aal: 2,
    amr: &[Factor::Password, Factor::Device],
};

/// Passwordless passkey login with user verification.
pub const PASSKEY_ONLY: Assurance = Assurance {
    aal: 2,
    amr: &[Factor::Key],
};

/// A session just opened, before its access token is signed.
pub struct Opened {
    session: Session,
    user: User,
    refresh_token: Secret,
    /// The browser remembered at this login, if it asked and may.
    pub device: Option<crate::devices::service::Granted>,
    /// Whether the user has a passkey when the session was opened (read
    /// with the login's flow, or in the transaction) or refreshed: the
    /// "Log In Faster" offer depends on it.
    has_passkey: bool,
}

/// Opens a session for `user` inside the caller's transaction; past
/// [`MAX_LIVE_SESSIONS`] the user's oldest live sessions end. Whether the
/// user has a passkey is read here unless the caller already knows it.
pub fn open(
    conn: &mut DbConn,
    user: &User,
    assurance: Assurance,
    client: &Client,
    has_passkey: Option<bool>,
    now: i64,
) -> Result<Opened, ApiError> {
    let session = Session {
        id: SessionId::new(),
        user_id: user.id.clone(),
        account_id: user.account_id.clone(),
        aal: assurance.aal,
        amr: assurance
            .amr
            .iter()
            .map(|factor| factor.as_str())
            .collect::<Vec<_>>()
            .join(" "),
        created_at: now,
        expires_at: now + SESSION_TTL_SECS,
        revoked_at: None,
        revoked_reason: None,
        last_used_at: now,
        client_address: Some(client.address.clone()),
        user_agent: client.user_agent.clone(),
    };
    repo::insert(conn, &session)?;
    repo::revoke_beyond(conn, &user.id, MAX_LIVE_SESSIONS, now)?;
    let refresh_token = new_token("rt_");
    repo::insert_refresh(conn, &sha256_hex(refresh_token.expose()), &session.id, now)?;
    Ok(Opened {
        session,
        user: user.clone(),
        refresh_token,
        device: None,
        has_passkey: match has_passkey {
            Some(known) => known,
            None => crate::webauthn::repo::has_credentials(conn, &user.id)?,
        },
    })
}

/// The "Log In Faster" offer: suggest adding a passkey after sign-in when
/// the service can register one and the user has none yet.
pub fn passkey_suggested(webauthn_available: bool, has_passkey: bool) -> bool {
    webauthn_available && !has_passkey
}

/// Signs the access token of an opened session: the `authenticated` answer.
pub fn tokens(state: &AppState, opened: Opened, now: i64) -> Result<TokenResponse, ApiError> {
    let claims = AccessClaims {
        iss: state.tokens.issuer().to_owned(),
        aud: state.tokens.audience().to_owned(),
        sub: opened.user.id.clone(),
        sid: opened.session.id.clone(),
        acct: opened.user.account_id.clone(),
        role: opened.user.role().as_str().to_owned(),
        aal: u8::try_from(opened.session.aal).unwrap_or(1),
        amr: opened.session.amr_list(),
        iat: now,
        // Never outlive the session itself.
        exp: (now + ACCESS_TTL_SECS).min(opened.session.expires_at),
        jti: uuid::Uuid::new_v4().to_string(),
    };
    Ok(TokenResponse {
        status: super::dto::AuthenticatedStatus,
        access_token: Secret::new(state.tokens.sign(&claims)?),
        refresh_token: opened.refresh_token,
        token_type: super::dto::BearerTokenType,
        expires_in: claims.exp - now,
        device_expires_at: opened.device.as_ref().map(|d| rfc3339(d.expires_at)),
        device_token: opened.device.map(|d| d.token),
        passkey_suggested: passkey_suggested(state.webauthn.is_some(), opened.has_passkey),
    })
}

/// The caller of an authenticated request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub session: Session,
    pub user: User,
}

impl Caller {
    /// True when this session proved a second factor in the last
    /// [`FRESH_MFA_SECS`](crate::twofa::service::FRESH_MFA_SECS). A session's
    /// age counts from its sign-in; refreshing never makes it fresh again,
    /// so a stolen refresh token cannot add or remove factors.
    pub fn fresh_second_factor(&self, now: i64) -> bool {
        self.session.aal >= 2
            && !self
                .session
                .amr_list()
                .iter()
                .any(|m| m == Factor::Device.as_str())
            && now - self.session.created_at <= crate::twofa::service::FRESH_MFA_SECS
    }
}

/// Refuses a password-only (aal 1) session of a user who must now use 2FA
/// (an admin required it, or the account's enforcement became due after the
/// session opened): such a session may only enroll (see
/// [`super::extract::Enrolling`]) and sign out; it cannot refresh nor reach
/// anything else, so it does not keep working for days past the rule.
pub async fn refuse_if_enrollment_due(
    state: &AppState,
    session: &Session,
    user: &User,
) -> Result<(), ApiError> {
    if session.aal >= 2 {
        return Ok(());
    }
    let now = state.now();
    let account_id = user.account_id.clone();
    let account = state
        .db
        .run(move |conn| crate::accounts::repo::find(conn, &account_id))
        .await?
        .ok_or(ApiError::InvalidToken)?;
    if crate::twofa::service::required_by(user, &account, now).is_empty() {
        Ok(())
    } else {
        Err(ApiError::EnrollmentRequired)
    }
}

/// Verifies an access token and that its session is still live.
pub async fn authenticate(state: &AppState, token: &str) -> Result<Caller, ApiError> {
    let now = state.now();
    let claims = state.tokens.verify(token, now).await?;
    let sid = claims.sid;
    let (session, user) = state
        .db
        .run(move |conn| {
            let found = repo::find_live(conn, &sid, now)?;
            if let Some((session, _)) = &found {
                if session.last_used_at <= now - TOUCH_EVERY_SECS {
                    repo::touch(conn, &session.id, now, TOUCH_EVERY_SECS)?;
                }
            }
            Ok(found)
        })
        .await?
        .ok_or(ApiError::InvalidToken)?;
    if session.user_id != claims.sub {
        return Err(ApiError::InvalidToken);
    }
    Ok(Caller { session, user })
}

enum Rotation {
    Rotated(Box<Opened>),
    /// A spent token came back: whoever holds it is not the rightful
    /// client, or the rightful client is racing a thief. Either way the
    /// session is revoked.
    Reused,
    Invalid,
}

/// Exchanges a refresh token for a new pair. The account's IP allow-list
/// is checked before the token is spent, so a refused address does not
/// cost the rightful client its session.
pub async fn refresh(
    state: &AppState,
    token: Secret,
    ip: std::net::IpAddr,
) -> Result<TokenResponse, ApiError> {
    let now = state.now();
    let hash = sha256_hex(token.expose());
    let lookup = hash.clone();
    let owner = state
        .db
        .run(move |conn| match repo::refresh_session(conn, &lookup)? {
            Some(session_id) => repo::find(conn, &session_id),
            None => Ok(None),
        })
        .await?;
    if let Some(session) = owner {
        crate::ip_allowlist::check(state, &session.account_id, &session.user_id, ip).await?;
        let user_id = session.user_id.clone();
        let user = state
            .db
            .run(move |conn| crate::users::repo::find(conn, &user_id))
            .await?;
        if let Some(user) = user {
            refuse_if_enrollment_due(state, &session, &user).await?;
        }
    }
    let outcome = state
        .db
        .run(move |conn| {
            crate::db::write_tx(conn, |conn| {
                if !repo::spend_refresh(conn, &hash, now)? {
                    return match repo::refresh_session(conn, &hash)? {
                        Some(session_id) => {
                            let revoked =
                                repo::revoke(conn, &session_id, "refresh_token_reuse", now)?;
                            if let (1, Some(session)) = (revoked, repo::find(conn, &session_id)?) {
                                audit::record(
                                    conn,
                                    Event {
                                        account_id: &session.account_id,
                                        actor: Actor::System,
                                        subject_user_id: Some(&session.user_id),
                                        kind: kind::REFRESH_TOKEN_REUSED,
                                        ip: Some(crate::net::canonical(ip).to_string()),
                                        detail: Detail::Session(SessionEnded {
                                            session_id: session.id.clone(),
                                        }),
                                    },
                                    now,
                                )?;
                            }
                            Ok(Rotation::Reused)
                        }
                        None => Ok(Rotation::Invalid),
                    };
                }
                let Some(session_id) = repo::refresh_session(conn, &hash)? else {
                    return Ok(Rotation::Invalid);
                };
                let Some((session, user)) = repo::find_live(conn, &session_id, now)? else {
                    return Ok(Rotation::Invalid);
                };
                let refresh_token = new_token("rt_");
                repo::insert_refresh(conn, &sha256_hex(refresh_token.expose()), &session.id, now)?;
                repo::touch(conn, &session.id, now, TOUCH_EVERY_SECS)?;
                let has_passkey = crate::webauthn::repo::has_credentials(conn, &user.id)?;
                Ok(Rotation::Rotated(Box::new(Opened {
                    session,
                    user,
                    refresh_token,
                    device: None,
                    has_passkey,
                })))
            })
        })
        .await?;
    match outcome {
        Rotation::Rotated(opened) => tokens(state, *opened, now),
        Rotation::Reused => {
            tracing::warn!("refresh token reused; session revoked");
            Err(ApiError::InvalidToken)
        }
        Rotation::Invalid => Err(ApiError::InvalidToken),
    }
}

pub async fn logout(state: &AppState, caller: &Caller, ip: IpAddr) -> Result<(), ApiError> {
    let now = state.now();
    let session = caller.session.clone();
    state
        .db
        .run(move |conn| {
            if repo::revoke(conn, &session.id, "logout", now)? == 1 {
                audit::record(
                    conn,
                    Event {
                        account_id: &session.account_id,
                        actor: Actor::User(session.user_id.clone()),
                        subject_user_id: Some(&session.user_id),
                        kind: kind::LOGGED_OUT,
                        ip: Some(ip.to_string()),
                        detail: Detail::Session(SessionEnded {
                            session_id: session.id.clone(),
                        }),
                    },
                    now,
                )?;
            }
            Ok(())
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::passkey_suggested;

    #[test]
    fn a_passkey_is_suggested_only_where_one_can_be_added_and_none_exists() {
        assert!(passkey_suggested(true, false));
        assert!(!passkey_suggested(true, true));
        assert!(!passkey_suggested(false, false));
        assert!(!passkey_suggested(false, true));
    }
}
