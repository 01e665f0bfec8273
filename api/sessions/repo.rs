//! SQL for sessions and refresh tokens.

use diesel::prelude::*;

use crate::db::schema::{refresh_tokens, sessions, users};
use crate::db::DbConn;
use crate::error::ApiError;
use crate::ids::{AccountId, SessionId, UserId};
use crate::users::User;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = sessions)]
// An absent value is NULL, not `DEFAULT`: the INSERT has one SQL text,
// which each connection keeps prepared (see `crate::db::update`).
#[diesel(treat_none_as_default_value = false)]
pub struct Session {
    pub id: SessionId,
    pub user_id: UserId,
    pub account_id: AccountId,
    pub aal: i32,
    /// Space-separated method references, e.g. `pwd otp`.
    pub amr: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
    pub revoked_reason: Option<String>,
    /// Written at most once a minute (see [`touch`]).
    pub last_used_at: i64,
    /// The address the session signed in from.
    pub client_address: Option<String>,
    /// The client's cleaned `User-Agent` at sign-in; display only.
    pub user_agent: Option<String>,
}

impl Session {
    pub fn amr_list(&self) -> Vec<String> {
        self.amr.split_whitespace().map(str::to_owned).collect()
    }
}

pub fn insert(conn: &mut DbConn, session: &Session) -> Result<(), ApiError> {
    diesel::insert_into(sessions::table)
        .values(session)
        .execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut DbConn, session_id: &SessionId) -> Result<Option<Session>, ApiError> {
    Ok(sessions::table
        .find(session_id)
        .select(Session::as_select())
        .get_result(conn)
        .optional()?)
}

/// The session and its user, when the session is neither revoked nor
/// expired and the user is not deactivated. Deactivating revokes the
/// sessions too; this also covers one opened by a login that raced it.
pub fn find_live(
    conn: &mut DbConn,
    session_id: &SessionId,
    now: i64,
) -> Result<Option<(Session, User)>, ApiError> {
    Ok(sessions::table
        .inner_join(users::table)
        .filter(sessions::id.eq(session_id))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(now))
        .filter(users::deactivated_at.is_null())
        .select((Session::as_select(), User::as_select()))
        .get_result(conn)
        .optional()?)
}

pub fn revoke(
    conn: &mut DbConn,
    session_id: &SessionId,
    reason: &str,
    now: i64,
) -> Result<usize, ApiError> {
    Ok(crate::db::update(
        sessions::table
            .filter(sessions::id.eq(session_id))
            .filter(sessions::revoked_at.is_null()),
    )
    .set((
        sessions::revoked_at.eq(now),
        sessions::revoked_reason.eq(reason),
    ))
    .execute(conn)?)
}

/// Which of a user's live sessions to end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    All,
    /// Those that proved no second factor (aal 1).
    PasswordOnly,
}

/// Ends the user's live sessions of the `which` kind, but `keep`; returns
/// how many.
pub fn revoke_for_user(
    conn: &mut DbConn,
    user_id: &UserId,
    which: Which,
    keep: Option<&SessionId>,
    reason: &str,
    now: i64,
) -> Result<usize, ApiError> {
    let below_aal = match which {
        Which::All => i32::MAX,
        Which::PasswordOnly => 2,
    };
    let live = sessions::table
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(now))
        .filter(sessions::aal.lt(below_aal))
        .filter(sessions::id.ne(keep.map_or("", SessionId::as_str)));
    Ok(crate::db::update(live)
        .set((
            sessions::revoked_at.eq(now),
            sessions::revoked_reason.eq(reason),
        ))
        .execute(conn)?)
}

/// Records a use of the session, unless one was recorded in the last
/// `every` seconds: one conditional write, so a busy session costs one
/// write a minute, not one per request.
pub fn touch(conn: &mut DbConn, id: &SessionId, now: i64, every: i64) -> Result<(), ApiError> {
    crate::db::update(
        sessions::table
            .filter(sessions::id.eq(id))
            .filter(sessions::last_used_at.le(now - every)),
    )
    .set(sessions::last_used_at.eq(now))
    .execute(conn)?;
    Ok(())
}

/// A user's live sessions, newest first, after the `(created_at, id)` key
/// of a previous page; `limit` rows at most.
pub fn live_page(
    conn: &mut DbConn,
    user_id: &UserId,
    now: i64,
    after: Option<(i64, String)>,
    limit: i64,
) -> Result<Vec<Session>, ApiError> {
    let mut query = sessions::table
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(now))
        .into_boxed();
    if let Some((created_at, id)) = after {
        query = query.filter(
            sessions::created_at
                .lt(created_at)
                .or(sessions::created_at.eq(created_at).and(sessions::id.lt(id))),
        );
    }
    Ok(query
        .order((sessions::created_at.desc(), sessions::id.desc()))
        .limit(limit)
        .select(Session::as_select())
        .load(conn)?)
}

/// Ends the user's live sessions beyond the newest `keep`, oldest first
/// (the per-user cap); returns how many.
pub fn revoke_beyond(
    conn: &mut DbConn,
    user_id: &UserId,
    keep: i64,
    now: i64,
) -> Result<usize, ApiError> {
    let older: Vec<SessionId> = sessions::table
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(now))
        .order((sessions::created_at.desc(), sessions::id.desc()))
        .offset(keep)
        .select(sessions::id)
        .load(conn)?;
    if older.is_empty() {
        return Ok(0);
    }
    Ok(crate::db::update(
        sessions::table
            .filter(sessions::id.eq_any(&older))
            .filter(sessions::revoked_at.is_null()),
    )
    .set((
        sessions::revoked_at.eq(now),
        sessions::revoked_reason.eq("session_limit"),
    ))
    .execute(conn)?)
}

pub fn insert_refresh(
    conn: &mut DbConn,
    token_hash: &str,
    session_id: &SessionId,
    now: i64,
) -> Result<(), ApiError> {
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::token_hash.eq(token_hash),
            refresh_tokens::session_id.eq(session_id),
            refresh_tokens::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Marks a refresh token used, atomically: of two racing requests presenting
/// the same token exactly one sees `1` here.
pub fn spend_refresh(conn: &mut DbConn, token_hash: &str, now: i64) -> Result<bool, ApiError> {
    let spent = crate::db::update(
        refresh_tokens::table
            .filter(refresh_tokens::token_hash.eq(token_hash))
            .filter(refresh_tokens::used_at.is_null()),
    )
    .set(refresh_tokens::used_at.eq(now))
    .execute(conn)?;
    Ok(spent == 1)
}

pub fn refresh_session(conn: &mut DbConn, token_hash: &str) -> Result<Option<SessionId>, ApiError> {
    Ok(refresh_tokens::table
        .find(token_hash)
        .select(refresh_tokens::session_id)
        .get_result(conn)
        .optional()?)
}

/// Removes rows nobody can use any more: refresh tokens of sessions that
/// ended more than `keep_secs` ago (kept that long so reuse is still recognised).
pub fn purge_ended(conn: &mut DbConn, now: i64, keep_secs: i64) -> Result<usize, ApiError> {
    let cutoff = now - keep_secs;
    Ok(diesel::delete(
        sessions::table.filter(
            sessions::expires_at
                .lt(cutoff)
                .or(sessions::revoked_at.lt(cutoff)),
        ),
    )
    .execute(conn)?)
}
