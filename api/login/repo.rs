//! SQL for login flows. The row's text columns become types here, at the
//! boundary: a row holding a value this version does not know is a flow
//! that does not exist (the client starts again), never a guess.

use diesel::prelude::*;

use super::flow_state::FlowState;
use crate::db::schema::login_flows;
use crate::db::DbConn;
use crate::error::ApiError;
use crate::ids::{FlowId, UserId};
use crate::sessions::amr::Factor;

mod find;

pub use find::{
    find_at, find_at_code, find_at_password, find_at_with_user, standing, AtCode, AtPassword,
    Standing,
};

/// A login in progress.
#[derive(Debug, Clone)]
pub struct Flow {
    pub id: FlowId,
    pub token_hash: String,
    pub user_id: Option<UserId>,
    pub state: FlowState,
    pub failed_attempts: i32,
    pub created_at: i64,
    pub expires_at: i64,
    /// The second factor passed so far.
    pub second_factor: Option<Factor>,
    /// The address (bucket) that opened the flow.
    pub client_address: Option<String>,
    /// For an email no user has: the key its wrong passwords count under.
    pub unknown_subject: Option<String>,
    /// The client's `User-Agent` when the flow opened (display only): the
    /// session it opens shows it.
    pub user_agent: Option<String>,
    /// The client asked to remember this device once a second factor is
    /// proven (see [`crate::devices`]).
    pub remember_device: bool,
}

/// A flow as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = login_flows)]
// An absent value is NULL, not `DEFAULT`: the INSERT has one SQL text,
// which each connection keeps prepared (see `crate::db::update`).
#[diesel(treat_none_as_default_value = false)]
struct FlowRow {
    id: FlowId,
    token_hash: String,
    user_id: Option<UserId>,
    state: String,
    failed_attempts: i32,
    created_at: i64,
    expires_at: i64,
    second_factor: Option<String>,
    client_address: Option<String>,
    unknown_subject: Option<String>,
    user_agent: Option<String>,
    remember_device: bool,
}

impl From<&Flow> for FlowRow {
    fn from(flow: &Flow) -> Self {
        FlowRow {
            id: flow.id.clone(),
            token_hash: flow.token_hash.clone(),
            user_id: flow.user_id.clone(),
            state: flow.state.as_str().to_owned(),
            failed_attempts: flow.failed_attempts,
            created_at: flow.created_at,
            expires_at: flow.expires_at,
            second_factor: flow.second_factor.map(|f| f.as_str().to_owned()),
            client_address: flow.client_address.clone(),
            unknown_subject: flow.unknown_subject.clone(),
            user_agent: flow.user_agent.clone(),
            remember_device: flow.remember_device,
        }
    }
}

impl FlowRow {
    /// The flow this row holds, or `None` when a column holds a value this
    /// version does not know.
    fn into_flow(self) -> Option<Flow> {
        let state = match FlowState::parse(&self.state) {
            Ok(state) => state,
            Err(unknown) => {
                tracing::warn!(flow = %self.id, ?unknown, "login flow refused: unknown state");
                return None;
            }
        };
        let second_factor = match self.second_factor.as_deref().map(Factor::parse) {
            None => None,
            Some(Ok(factor)) => Some(factor),
            Some(Err(unknown)) => {
                tracing::warn!(flow = %self.id, ?unknown, "login flow refused: unknown second factor");
                return None;
            }
        };
        Some(Flow {
            id: self.id,
            token_hash: self.token_hash,
            user_id: self.user_id,
            state,
            failed_attempts: self.failed_attempts,
            created_at: self.created_at,
            expires_at: self.expires_at,
            second_factor,
            client_address: self.client_address,
            unknown_subject: self.unknown_subject,
            user_agent: self.user_agent,
            remember_device: self.remember_device,
        })
    }
}

/// Opens `flow` unless its address already holds `limit` open flows; then
/// `Err(retry_after)`, when its oldest open flow expires. Insert first, then
/// count, each committed on its own: requests racing past the limit each
/// see the others' rows and withdraw their own, so the limit holds across
/// instances. The insert's commit does not wait for the disk: a crash that
/// forgets a new flow costs its client a new email step.
pub fn insert_bounded(
    conn: &mut DbConn,
    flow: &Flow,
    limit: i64,
    now: i64,
) -> Result<Result<(), i64>, ApiError> {
    let address = flow.client_address.clone().unwrap_or_default();
    // Expired flows do not count (the janitor deletes them).
    let mine = login_flows::table.filter(login_flows::client_address.eq(&address));
    crate::db::commit_deferred(conn, |conn| insert(conn, flow))?;
    let open: i64 = mine
        .filter(login_flows::expires_at.gt(now))
        .count()
        .get_result(conn)?;
    if open <= limit {
        return Ok(Ok(()));
    }
    diesel::delete(login_flows::table.find(&flow.id)).execute(conn)?;
    let oldest: Option<i64> = mine
        .filter(login_flows::expires_at.gt(now))
        .select(diesel::dsl::min(login_flows::expires_at))
        .get_result(conn)?;
    Ok(Err(oldest.map_or(1, |at| (at - now).max(1))))
}

pub fn insert(conn: &mut DbConn, flow: &Flow) -> Result<(), ApiError> {
    diesel::insert_into(login_flows::table)
        .values(FlowRow::from(flow))
        .execute(conn)?;
    Ok(())
}

/// Ends a flow that is still at `state`; `false` when another request got
/// there first (the single-use guarantee).
pub fn finish(conn: &mut DbConn, id: &FlowId, state: FlowState) -> Result<bool, ApiError> {
    let deleted = diesel::delete(
        login_flows::table
            .filter(login_flows::id.eq(id))
            .filter(login_flows::state.eq(state.as_str())),
    )
    .execute(conn)?;
    Ok(deleted == 1)
}

/// Records that the flow's login asked to remember its device, for the
/// confirmation step that ends it.
pub fn remember_device(conn: &mut DbConn, id: &FlowId) -> Result<(), ApiError> {
    crate::db::update(login_flows::table.filter(login_flows::id.eq(id)))
        .set(login_flows::remember_device.eq(true))
        .execute(conn)?;
    Ok(())
}

/// Moves a flow from `from` to `to` under a new token, atomically: of two
/// requests advancing the same flow, one sees `true`. The failure counter
/// starts again for the new step.
pub fn advance(
    conn: &mut DbConn,
    id: &FlowId,
    from: FlowState,
    to: FlowState,
    token_hash: &str,
    expires_at: i64,
    second_factor: Option<Factor>,
) -> Result<bool, ApiError> {
    let target = login_flows::table
        .filter(login_flows::id.eq(id))
        .filter(login_flows::state.eq(from.as_str()));
    let changed = match second_factor {
        Some(factor) => crate::db::update(target)
            .set((
                login_flows::state.eq(to.as_str()),
                login_flows::token_hash.eq(token_hash),
                login_flows::expires_at.eq(expires_at),
                login_flows::failed_attempts.eq(0),
                login_flows::second_factor.eq(factor.as_str()),
            ))
            .execute(conn)?,
        None => crate::db::update(target)
            .set((
                login_flows::state.eq(to.as_str()),
                login_flows::token_hash.eq(token_hash),
                login_flows::expires_at.eq(expires_at),
                login_flows::failed_attempts.eq(0),
            ))
            .execute(conn)?,
    };
    Ok(changed == 1)
}

/// Ends every login in progress of a user (a password change, a reset).
pub fn delete_for_user(conn: &mut DbConn, user_id: &UserId) -> Result<usize, ApiError> {
    Ok(
        diesel::delete(login_flows::table.filter(login_flows::user_id.eq(user_id)))
            .execute(conn)?,
    )
}

/// Deletes flows that expired before `now`.
pub fn purge_expired(conn: &mut DbConn, now: i64) -> Result<usize, ApiError> {
    Ok(diesel::delete(login_flows::table.filter(login_flows::expires_at.le(now))).execute(conn)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(second_factor: Option<&str>) -> FlowRow {
        FlowRow {
            id: "f".into(),
            token_hash: "h".into(),
            user_id: Some("u".into()),
            state: "recovery_code_confirmation_required".into(),
            failed_attempts: 0,
            created_at: 0,
            expires_at: 600,
            second_factor: second_factor.map(str::to_owned),
            client_address: None,
            unknown_subject: None,
            user_agent: None,
            remember_device: false,
        }
    }

    #[test]
    fn a_stored_second_factor_reads_back_as_itself() {
        for factor in [Factor::Totp, Factor::RecoveryCode, Factor::Key] {
            let flow = row(Some(factor.as_str())).into_flow();
            assert_eq!(flow.and_then(|f| f.second_factor), Some(factor));
        }
        let flow = row(None).into_flow();
        assert!(flow.is_some_and(|f| f.second_factor.is_none()));
    }

    #[test]
    fn an_unknown_second_factor_is_a_flow_that_does_not_exist() {
        assert!(row(Some("sms")).into_flow().is_none());
        assert!(row(Some("")).into_flow().is_none());
    }

    #[test]
    fn a_flow_is_stored_as_it_was_read() {
        let flow = row(Some("rcv")).into_flow().unwrap();
        let stored = FlowRow::from(&flow);
        assert_eq!(stored.second_factor.as_deref(), Some("rcv"));
        assert_eq!(stored.state, "recovery_code_confirmation_required");
        assert_eq!(flow.state, FlowState::Confirm);
    }

    #[test]
    fn an_unknown_state_is_a_flow_that_does_not_exist() {
        let mut unknown = row(Some("otp"));
        unknown.state = "authenticated".into();
        assert!(unknown.into_flow().is_none());
    }
}
