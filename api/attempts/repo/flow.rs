//! The per-flow counter: tries at one step of one login flow, kept on the
//! flow row itself (`login_flows.failed_attempts`), so it ends with the
//! flow and a new step starts it again (see `login::repo::advance`).

use diesel::prelude::*;

use crate::db::schema::login_flows;
use crate::db::DbConn;
use crate::error::ApiError;
use crate::ids::FlowId;

/// One more attempt on a flow, if it has fewer than `limit` so far.
pub fn reserve_flow(conn: &mut DbConn, flow_id: &FlowId, limit: i32) -> Result<bool, ApiError> {
    let n = crate::db::update(
        login_flows::table
            .filter(login_flows::id.eq(flow_id))
            .filter(login_flows::failed_attempts.lt(limit)),
    )
    .set(login_flows::failed_attempts.eq(login_flows::failed_attempts + 1))
    .execute(conn)?;
    Ok(n == 1)
}

pub fn flow_attempts(conn: &mut DbConn, flow_id: &FlowId) -> Result<Option<i32>, ApiError> {
    Ok(login_flows::table
        .find(flow_id)
        .select(login_flows::failed_attempts)
        .get_result(conn)
        .optional()?)
}
