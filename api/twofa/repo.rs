//! SQL for authenticators, recovery codes and pending enrollments.

use diesel::prelude::*;

use super::Owner;
use crate::db::schema::{pending_enrollments, recovery_codes, totp_authenticators, users};
use crate::db::DbConn;
use crate::error::ApiError;
use crate::ids::{FlowId, SessionId, UserId};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = totp_authenticators)]
pub struct Authenticator {
    pub user_id: UserId,
    pub secret_sealed: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = pending_enrollments)]
pub struct Pending {
    pub id: String,
    pub user_id: UserId,
    pub flow_id: Option<FlowId>,
    pub session_id: Option<SessionId>,
    pub secret_sealed: Option<String>,
    pub recovery_code_hash: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
    /// A passkey registered inside the login flow (webauthn-rs `Passkey`,
    /// JSON), active only once the recovery code is confirmed.
    pub passkey: Option<String>,
    pub passkey_name: Option<String>,
}

pub fn authenticator(
    conn: &mut DbConn,
    user_id: &UserId,
) -> Result<Option<Authenticator>, ApiError> {
    Ok(totp_authenticators::table
        .find(user_id)
        .select(Authenticator::as_select())
        .get_result(conn)
        .optional()?)
}

/// `(hash, created_at)` of the user's active recovery code.
pub fn recovery_code(
    conn: &mut DbConn,
    user_id: &UserId,
) -> Result<Option<(String, i64)>, ApiError> {
    Ok(recovery_codes::table
        .find(user_id)
        .select((recovery_codes::code_hash, recovery_codes::created_at))
        .get_result(conn)
        .optional()?)
}

/// Accepts TOTP step `step` for the user if no step at or after it was
/// accepted before, and records the authenticator as used at `now`. The
/// single conditional UPDATE is the whole decision: of any number of
/// concurrent callers with the same step, one sees `true`.
pub fn claim_step(
    conn: &mut DbConn,
    user_id: &UserId,
    step: i64,
    now: i64,
) -> Result<bool, ApiError> {
    let claimed = crate::db::update(
        totp_authenticators::table
            .filter(totp_authenticators::user_id.eq(user_id))
            .filter(totp_authenticators::last_step.lt(step)),
    )
    .set((
        totp_authenticators::last_step.eq(step),
        totp_authenticators::last_used_at.eq(now),
    ))
    .execute(conn)?;
    Ok(claimed == 1)
}

/// The same for the secret of an enrollment in progress: its first code is
/// accepted once, and stays used once the enrollment is active.
pub fn claim_pending_step(
    conn: &mut DbConn,
    pending_id: &str,
    step: i64,
) -> Result<bool, ApiError> {
    let claimed = crate::db::update(
        pending_enrollments::table
            .filter(pending_enrollments::id.eq(pending_id))
            .filter(pending_enrollments::last_step.lt(step)),
    )
    .set(pending_enrollments::last_step.eq(step))
    .execute(conn)?;
    Ok(claimed == 1)
}

/// Spends the recovery code whose hash the caller verified; `false` when it
/// was spent (or replaced) in the meantime.
pub fn spend_recovery_code(
    conn: &mut DbConn,
    user_id: &UserId,
    code_hash: &str,
) -> Result<bool, ApiError> {
    let spent = diesel::delete(
        recovery_codes::table
            .filter(recovery_codes::user_id.eq(user_id))
            .filter(recovery_codes::code_hash.eq(code_hash)),
    )
    .execute(conn)?;
    Ok(spent == 1)
}

/// Makes `secret_sealed` the user's authenticator, replacing any other.
/// Marks the user enrolled unless they already were; `false` when they were.
pub fn mark_enrolled_if_not(conn: &mut DbConn, user_id: &UserId) -> Result<bool, ApiError> {
    let n = crate::db::update(
        users::table
            .filter(users::id.eq(user_id))
            .filter(users::twofa_enrolled.eq(false)),
    )
    .set(users::twofa_enrolled.eq(true))
    .execute(conn)?;
    Ok(n == 1)
}

/// Makes the pending enrollment's secret the user's authenticator, with the
/// replay record of that secret (its enrollment code stays used).
pub fn activate_authenticator(
    conn: &mut DbConn,
    user_id: &UserId,
    pending_id: &str,
    secret_sealed: &str,
    now: i64,
) -> Result<(), ApiError> {
    let last_step: i64 = pending_enrollments::table
        .find(pending_id)
        .select(pending_enrollments::last_step)
        .get_result(conn)?;
    diesel::delete(totp_authenticators::table.find(user_id)).execute(conn)?;
    diesel::insert_into(totp_authenticators::table)
        .values((
            totp_authenticators::user_id.eq(user_id),
            totp_authenticators::secret_sealed.eq(secret_sealed),
            totp_authenticators::created_at.eq(now),
            totp_authenticators::last_step.eq(last_step),
        ))
        .execute(conn)?;
    crate::db::update(users::table.find(user_id))
        .set(users::twofa_enrolled.eq(true))
        .execute(conn)?;
    Ok(())
}

/// Makes `code_hash` the user's recovery code, replacing any other.
pub fn activate_recovery_code(
    conn: &mut DbConn,
    user_id: &UserId,
    code_hash: &str,
    now: i64,
) -> Result<(), ApiError> {
    diesel::delete(recovery_codes::table.find(user_id)).execute(conn)?;
    diesel::insert_into(recovery_codes::table)
        .values((
            recovery_codes::user_id.eq(user_id),
            recovery_codes::code_hash.eq(code_hash),
            recovery_codes::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Replaces the owner's enrollment in progress with `pending`.
pub fn put_pending(conn: &mut DbConn, pending: &Pending) -> Result<(), ApiError> {
    match (&pending.flow_id, &pending.session_id) {
        (Some(flow), _) => {
            diesel::delete(pending_enrollments::table.filter(pending_enrollments::flow_id.eq(flow)))
                .execute(conn)?
        }
        (None, Some(session)) => diesel::delete(
            pending_enrollments::table.filter(pending_enrollments::session_id.eq(session)),
        )
        .execute(conn)?,
        (None, None) => return Err(ApiError::internal("pending enrollment without an owner")),
    };
    // The owner can vanish in between: a reset deletes the user's login
    // flows, a revocation their sessions. The enrollment then has nobody to
    // finish it, as if the token had expired.
    diesel::insert_into(pending_enrollments::table)
        .values(pending)
        .execute(conn)
        .map_err(|e| match e {
            diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::ForeignKeyViolation,
                _,
            ) if pending.flow_id.is_some() => ApiError::FlowExpired,
            diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::ForeignKeyViolation,
                _,
            ) => ApiError::InvalidToken,
            other => other.into(),
        })?;
    Ok(())
}

/// The owner's unexpired enrollment in progress.
pub fn pending(conn: &mut DbConn, owner: &Owner, now: i64) -> Result<Option<Pending>, ApiError> {
    let query = pending_enrollments::table
        .filter(pending_enrollments::expires_at.gt(now))
        .select(Pending::as_select());
    Ok(match owner {
        Owner::Flow(id) => query
            .filter(pending_enrollments::flow_id.eq(id))
            .get_result(conn)
            .optional()?,
        Owner::Session(id) => query
            .filter(pending_enrollments::session_id.eq(id))
            .get_result(conn)
            .optional()?,
    })
}

/// Attaches the verified recovery-code hash to an enrollment whose secret
/// was just proven; `false` if the enrollment is gone.
pub fn set_pending_recovery_hash(
    conn: &mut DbConn,
    id: &str,
    hash: &str,
) -> Result<bool, ApiError> {
    let updated = crate::db::update(pending_enrollments::table.find(id))
        .set(pending_enrollments::recovery_code_hash.eq(hash))
        .execute(conn)?;
    Ok(updated == 1)
}

pub fn delete_pending_for_user(conn: &mut DbConn, user_id: &UserId) -> Result<usize, ApiError> {
    Ok(
        diesel::delete(pending_enrollments::table.filter(pending_enrollments::user_id.eq(user_id)))
            .execute(conn)?,
    )
}

/// Deletes enrollments in progress that expired before `now`.
pub fn purge_expired_pending(conn: &mut DbConn, now: i64) -> Result<usize, ApiError> {
    Ok(
        diesel::delete(pending_enrollments::table.filter(pending_enrollments::expires_at.le(now)))
            .execute(conn)?,
    )
}

/// After a reset: enrollment is required at the next login and the run of
/// wrong second factors (with its lock) starts over, in one statement.
pub fn require_enrollment(conn: &mut DbConn, user_id: &UserId) -> Result<(), ApiError> {
    crate::db::update(users::table.find(user_id))
        .set((
            users::twofa_required.eq(true),
            users::mfa_failures.eq(0),
            users::mfa_lockouts.eq(0),
            users::mfa_locked_until.eq(None::<i64>),
        ))
        .execute(conn)?;
    Ok(())
}

/// Until when wrong second factors lock the user (possibly in the past).
pub fn locked_until(conn: &mut DbConn, user_id: &UserId) -> Result<Option<i64>, ApiError> {
    Ok(users::table
        .find(user_id)
        .select(users::mfa_locked_until)
        .get_result(conn)?)
}

/// Removes every second factor of a user (a reset); returns whether there
/// was anything to remove.
pub fn remove_all(conn: &mut DbConn, user_id: &UserId) -> Result<bool, ApiError> {
    let totp = diesel::delete(totp_authenticators::table.find(user_id)).execute(conn)?;
    crate::db::update(users::table.find(user_id))
        .set(users::twofa_enrolled.eq(false))
        .execute(conn)?;
    let codes = diesel::delete(recovery_codes::table.find(user_id)).execute(conn)?;
    let pending = delete_pending_for_user(conn, user_id)?;
    let keys = crate::webauthn::repo::delete_all(conn, user_id)?;
    Ok(totp + codes + pending + keys > 0)
}
