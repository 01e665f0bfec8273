//! Seeing and ending sessions: a user's own (`/v1/me/sessions`) and, for
//! an admin, those of a user of their account. Ending a session revokes its
//! row, so its access token fails on every instance at the next request and
//! its refresh token with it (refresh needs a live session).

use std::net::IpAddr;

use super::dto::{SessionInfo, SessionPage, SessionsRevoked};
use super::repo::{self, Session, Which};
use super::service::Caller;
use crate::admin::cursor;
use crate::admin::guard::Admin;
use crate::audit::detail::{ForgetReason, SessionEnded, SessionsEnded};
use crate::audit::Detail;
use crate::audit::{self, kind, Actor, Event};
use crate::clock::rfc3339;
use crate::db::{write_tx, DbConn};
use crate::error::ApiError;
use crate::ids::{AccountId, SessionId, UserId};
use crate::state::AppState;

/// Which page of a list.
#[derive(Debug, Clone, Default)]
pub struct Paging {
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

/// The caller's live sessions, newest first, the caller's own marked.
pub async fn list_mine(
    app: &AppState,
    caller: &Caller,
    paging: Paging,
) -> Result<SessionPage, ApiError> {
    let current = caller.session.id.clone();
    list(app, caller.user.id.clone(), Some(current), paging).await
}

/// Ends one of the caller's sessions (the current one too: that is a
/// logout). Another user's session, or one already ended, is 404.
pub async fn end_mine(
    app: &AppState,
    caller: &Caller,
    id: SessionId,
    ip: IpAddr,
) -> Result<(), ApiError> {
    let now = app.now();
    let user = caller.user.clone();
    app.db
        .run(move |conn| {
            write_tx(conn, |conn| {
                let owned = repo::find(conn, &id)?
                    .filter(|s| s.user_id == user.id && is_live(s, now))
                    .ok_or(ApiError::NotFound)?;
                repo::revoke(conn, &owned.id, "ended_by_user", now)?;
                audit::record(
                    conn,
                    Event {
                        account_id: &user.account_id,
                        actor: Actor::User(user.id.clone()),
                        subject_user_id: Some(&user.id),
                        kind: kind::SESSION_REVOKED,
                        ip: Some(ip.to_string()),
                        detail: Detail::Session(SessionEnded {
                            session_id: owned.id.clone(),
                        }),
                    },
                    now,
                )
            })
        })
        .await
}

/// Ends every live session of the caller but the calling one.
pub async fn revoke_others(
    app: &AppState,
    caller: &Caller,
    ip: IpAddr,
) -> Result<SessionsRevoked, ApiError> {
    let now = app.now();
    let user = caller.user.clone();
    let keep = caller.session.id.clone();
    app.db
        .run(move |conn| {
            write_tx(conn, |conn| {
                let ended = end_all(
                    conn,
                    &user.account_id,
                    &user.id,
                    &user.id,
                    Some(&keep),
                    ip,
                    now,
                )?;
                Ok(SessionsRevoked {
                    sessions_revoked: ended,
                })
            })
        })
        .await
}

/// The live sessions of a user of the admin's account (404 otherwise).
pub async fn list_for_admin(
    app: &AppState,
    admin: &Admin,
    user_id: UserId,
    paging: Paging,
) -> Result<SessionPage, ApiError> {
    let account = admin.account_id().clone();
    let lookup = user_id.clone();
    app.db
        .run(move |conn| {
            crate::admin::users_repo::find_in_account(conn, &account, &lookup)?
                .ok_or(ApiError::NotFound)
        })
        .await?;
    let current = Some(admin.caller.session.id.clone());
    list(app, user_id, current, paging).await
}

/// Ends every live session of a user of the admin's account (404
/// otherwise), the admin's own included when the user is the admin.
pub async fn revoke_for_admin(
    app: &AppState,
    admin: &Admin,
    user_id: UserId,
    ip: IpAddr,
) -> Result<SessionsRevoked, ApiError> {
    let now = app.now();
    let account = admin.account_id().clone();
    let actor = admin.user_id().clone();
    app.db
        .run(move |conn| {
            write_tx(conn, |conn| {
                let user = crate::admin::users_repo::find_in_account(conn, &account, &user_id)?
                    .ok_or(ApiError::NotFound)?;
                crate::users::repo::lock(conn, &user.id)?;
                let ended = end_all(conn, &account, &actor, &user.id, None, ip, now)?;
                Ok(SessionsRevoked {
                    sessions_revoked: ended,
                })
            })
        })
        .await
}

/// Ends `user`'s live sessions but `keep`, audited with the count.
fn end_all(
    conn: &mut DbConn,
    account: &AccountId,
    actor: &UserId,
    user: &UserId,
    keep: Option<&SessionId>,
    ip: IpAddr,
    now: i64,
) -> Result<usize, ApiError> {
    let reason = if actor == user {
        "ended_by_user"
    } else {
        "ended_by_admin"
    };
    let ended = repo::revoke_for_user(conn, user, Which::All, keep, reason, now)?;
    // Signing out everywhere ends the remembered devices too: a stolen
    // device token would otherwise skip the second factor again.
    crate::devices::service::end_all(
        conn,
        account,
        user,
        Actor::User(actor.clone()),
        if actor == user {
            ForgetReason::SignedOutEverywhere
        } else {
            ForgetReason::SessionsRevoked
        },
        Some(ip.to_string()),
        now,
    )?;
    audit::record(
        conn,
        Event {
            account_id: account,
            actor: Actor::User(actor.clone()),
            subject_user_id: Some(user),
            kind: kind::SESSIONS_REVOKED,
            ip: Some(ip.to_string()),
            detail: Detail::Sessions(SessionsEnded {
                sessions_revoked: ended,
                kept_current: keep.is_some(),
            }),
        },
        now,
    )?;
    Ok(ended)
}

async fn list(
    app: &AppState,
    user: UserId,
    current: Option<SessionId>,
    paging: Paging,
) -> Result<SessionPage, ApiError> {
    let now = app.now();
    let limit = cursor::limit(paging.limit)?;
    let after = cursor::start_after::<(i64, String)>(paging.cursor.as_deref())?;
    let rows = app
        .db
        .run(move |conn| repo::live_page(conn, &user, now, after, limit + 1))
        .await?;
    let page = cursor::page(rows, limit, |s: &Session| {
        (s.created_at, s.id.as_str().to_owned())
    });
    Ok(SessionPage {
        items: page
            .items
            .into_iter()
            .map(|s| info(s, current.as_ref()))
            .collect(),
        next_cursor: page.next_cursor,
    })
}

fn is_live(session: &Session, now: i64) -> bool {
    session.revoked_at.is_none() && session.expires_at > now
}

fn info(session: Session, current: Option<&SessionId>) -> SessionInfo {
    SessionInfo {
        current: current == Some(&session.id),
        created_at: rfc3339(session.created_at),
        last_used_at: rfc3339(session.last_used_at.max(session.created_at)),
        expires_at: rfc3339(session.expires_at),
        aal: u8::try_from(session.aal).unwrap_or(1),
        amr: session.amr_list(),
        client_address: session.client_address,
        user_agent: session.user_agent,
        id: session.id,
    }
}
