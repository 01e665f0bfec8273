//! SQL for WebAuthn credentials and ceremony state. Answers in domain
//! terms (an outcome, an `Option`, a `bool`); which of them the client
//! hears about, and with which code, is the service's decision.

use diesel::prelude::*;

use super::ceremony::CeremonyKind;
use crate::db::schema::{webauthn_challenges, webauthn_credentials};
use crate::db::DbConn;
use crate::error::ApiError;
use crate::ids::{FlowId, SessionId, UserId};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = webauthn_credentials)]
pub struct Credential {
    pub id: String,
    pub user_id: UserId,
    pub credential_id: String,
    pub passkey: String,
    pub name: String,
    pub sign_count: i64,
    pub backup_eligible: bool,
    pub backup_state: bool,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

/// Who a ceremony in progress belongs to.
#[derive(Debug, Clone)]
pub enum ChallengeOwner {
    Session(SessionId),
    Flow(FlowId),
}

pub fn credentials(conn: &mut DbConn, user_id: &UserId) -> Result<Vec<Credential>, ApiError> {
    Ok(webauthn_credentials::table
        .filter(webauthn_credentials::user_id.eq(user_id))
        .order((
            webauthn_credentials::created_at.asc(),
            webauthn_credentials::id.asc(),
        ))
        .select(Credential::as_select())
        .load(conn)?)
}

pub fn has_credentials(conn: &mut DbConn, user_id: &UserId) -> Result<bool, ApiError> {
    let n: i64 = webauthn_credentials::table
        .filter(webauthn_credentials::user_id.eq(user_id))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// Whether an authenticator's credential id (base64url) is stored, for
/// any user.
pub fn is_registered(conn: &mut DbConn, credential_id: &str) -> Result<bool, ApiError> {
    let n: i64 = webauthn_credentials::table
        .filter(webauthn_credentials::credential_id.eq(credential_id))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// Which of `ids` have at least one credential.
pub fn users_with_credentials(conn: &mut DbConn, ids: &[UserId]) -> Result<Vec<UserId>, ApiError> {
    Ok(webauthn_credentials::table
        .filter(webauthn_credentials::user_id.eq_any(ids))
        .select(webauthn_credentials::user_id)
        .distinct()
        .load(conn)?)
}

/// What became of a new credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum Inserted {
    Added,
    /// Its credential id is already stored (for this user or another): the
    /// unique key refused it. On PostgreSQL the transaction is aborted and
    /// must be ended.
    AlreadyRegistered,
}

pub fn insert(conn: &mut DbConn, credential: &Credential) -> Result<Inserted, ApiError> {
    match diesel::insert_into(webauthn_credentials::table)
        .values(credential)
        .execute(conn)
    {
        Ok(_) => Ok(Inserted::Added),
        Err(e) if crate::db::is_unique_violation(&e) => Ok(Inserted::AlreadyRegistered),
        Err(e) => Err(e.into()),
    }
}

/// Deletes one of the user's credentials; its name, or `None` when the user
/// has no such credential.
pub fn delete(conn: &mut DbConn, user_id: &UserId, id: &str) -> Result<Option<String>, ApiError> {
    let mine = webauthn_credentials::table
        .filter(webauthn_credentials::user_id.eq(user_id))
        .filter(webauthn_credentials::id.eq(id));
    let Some(name) = mine
        .select(webauthn_credentials::name)
        .get_result::<String>(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let n = diesel::delete(mine).execute(conn)?;
    Ok((n == 1).then_some(name))
}

pub fn delete_all(conn: &mut DbConn, user_id: &UserId) -> Result<usize, ApiError> {
    Ok(diesel::delete(
        webauthn_credentials::table.filter(webauthn_credentials::user_id.eq(user_id)),
    )
    .execute(conn)?)
}

/// Records a verified assertion. The sign counter may only move forward
/// (or stay 0 for authenticators that keep none): one conditional UPDATE,
/// so a cloned authenticator replaying an older counter is caught even
/// when two assertions race. `false` means the counter went backwards.
pub fn record_use(
    conn: &mut DbConn,
    credential: &Credential,
    passkey_json: &str,
    counter: i64,
    backup_state: bool,
    now: i64,
) -> Result<bool, ApiError> {
    let target = webauthn_credentials::table.filter(webauthn_credentials::id.eq(&credential.id));
    let changes = (
        webauthn_credentials::sign_count.eq(counter),
        webauthn_credentials::passkey.eq(passkey_json),
        webauthn_credentials::backup_state.eq(backup_state),
        webauthn_credentials::last_used_at.eq(now),
    );
    let updated = if counter == 0 {
        crate::db::update(target.filter(webauthn_credentials::sign_count.eq(0_i64)))
            .set(changes)
            .execute(conn)?
    } else {
        crate::db::update(target.filter(webauthn_credentials::sign_count.lt(counter)))
            .set(changes)
            .execute(conn)?
    };
    Ok(updated == 1)
}

/// The authenticator now says the credential may be backed up (synced);
/// the flag is only ever raised, never cleared by a later assertion.
pub fn mark_backup_eligible(conn: &mut DbConn, id: &str) -> Result<(), ApiError> {
    crate::db::update(webauthn_credentials::table.find(id))
        .set(webauthn_credentials::backup_eligible.eq(true))
        .execute(conn)?;
    Ok(())
}

/// Stores the state of a ceremony, replacing the owner's earlier one.
pub fn put_challenge(
    conn: &mut DbConn,
    kind: CeremonyKind,
    owner: &ChallengeOwner,
    state: &str,
    expires_at: i64,
) -> Result<(), ApiError> {
    let (session_id, flow_id) = match owner {
        ChallengeOwner::Session(id) => (Some(id.as_str()), None),
        ChallengeOwner::Flow(id) => (None, Some(id.as_str())),
    };
    let existing = webauthn_challenges::table.filter(webauthn_challenges::kind.eq(kind.as_str()));
    match owner {
        ChallengeOwner::Session(id) => {
            diesel::delete(existing.filter(webauthn_challenges::session_id.eq(id))).execute(conn)?
        }
        ChallengeOwner::Flow(id) => {
            diesel::delete(existing.filter(webauthn_challenges::flow_id.eq(id))).execute(conn)?
        }
    };
    diesel::insert_into(webauthn_challenges::table)
        .values((
            webauthn_challenges::id.eq(uuid::Uuid::new_v4().to_string()),
            webauthn_challenges::kind.eq(kind.as_str()),
            webauthn_challenges::session_id.eq(session_id),
            webauthn_challenges::flow_id.eq(flow_id),
            webauthn_challenges::state.eq(state),
            webauthn_challenges::expires_at.eq(expires_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// Takes (reads and deletes) the owner's unexpired ceremony state. The
/// delete is conditional: of two requests finishing one ceremony, one
/// gets the state and the other `None`, so an assertion cannot be replayed.
pub fn take_challenge(
    conn: &mut DbConn,
    kind: CeremonyKind,
    owner: &ChallengeOwner,
    now: i64,
) -> Result<Option<String>, ApiError> {
    let query = webauthn_challenges::table
        .filter(webauthn_challenges::kind.eq(kind.as_str()))
        .filter(webauthn_challenges::expires_at.gt(now))
        .select((webauthn_challenges::id, webauthn_challenges::state));
    let found: Option<(String, String)> = match owner {
        ChallengeOwner::Session(id) => query
            .filter(webauthn_challenges::session_id.eq(id))
            .get_result(conn)
            .optional()?,
        ChallengeOwner::Flow(id) => query
            .filter(webauthn_challenges::flow_id.eq(id))
            .get_result(conn)
            .optional()?,
    };
    let Some((id, state)) = found else {
        return Ok(None);
    };
    let taken = diesel::delete(webauthn_challenges::table.filter(webauthn_challenges::id.eq(&id)))
        .execute(conn)?;
    Ok((taken == 1).then_some(state))
}

pub fn purge_expired_challenges(conn: &mut DbConn, now: i64) -> Result<usize, ApiError> {
    Ok(
        diesel::delete(webauthn_challenges::table.filter(webauthn_challenges::expires_at.le(now)))
            .execute(conn)?,
    )
}
