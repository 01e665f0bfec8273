//! Counting an attempt before its outcome is told: [`reserve`] before a
//! secret is verified (a password's hash is the expensive part the limits
//! bound), and [`count_checked_in_tx`] for the app's code, cheap enough to
//! be checked first, whose verdict is then written by the very statements
//! that reserve, so one counts and settles in the same round trips.
//!
//! Either way, while a counter is full the attempt is refused by the same
//! statements, whatever the secret was: its answer, and how long it takes,
//! say nothing about it.

use std::net::IpAddr;

use super::{limit_of, repo, Attempt, UserCounter, ADDRESS_WINDOW_SECS, FLOW_ATTEMPTS};
use crate::db::{write_tx_deferred, DbConn};
use crate::error::ApiError;
use crate::ids::{FlowId, UserId};
use crate::net::address_bucket;

/// Reserves one attempt on every counter that applies, in one transaction:
/// either all count it, or none does and the answer is 429. `user` is the
/// counter of a real user (`None` for an unknown email, or for a passkey
/// assertion whose owner is not proven yet, or for a password sent to a
/// login flow from an address the user is known at: the login step reads
/// that with its flow, while a signed-in caller guessing the current
/// password (`POST /v1/me/password`) always counts). Must not run inside
/// another transaction.
pub fn reserve(
    conn: &mut DbConn,
    flow: Option<&FlowId>,
    user: Option<(UserCounter, &UserId)>,
    ip: IpAddr,
    address_limit: i32,
    now: i64,
) -> Result<Attempt, ApiError> {
    // Its commit need not wait for the disk: a crash that forgets it also
    // fails the request that reserved it, before its secret is answered.
    write_tx_deferred(conn, |conn| {
        count(conn, flow, user, ip, address_limit, false, now)
    })
}

/// How an attempt whose secret was checked before it was counted stands.
#[must_use = "a wrong attempt must be settled with failed"]
pub enum Counted<T> {
    /// Right, and settled already: the user's run of failures is over and
    /// the address was not charged. Carries what proved it.
    Right(T),
    /// Wrong: counted like a reserved attempt, to be settled as failed.
    Wrong(Attempt),
}

/// Counts a second factor at a login flow whose `verdict` is known already
/// (`Some` when right), inside the caller's transaction, which must begin
/// with it (it takes the user's row lock first, as every writer of the
/// user does). The flow's try is counted either way; a right one also ends
/// the user's run of failures and gives the address nothing to count. A
/// refusal must roll the transaction back, and so must anything that
/// refuses a right verdict after it (a replayed step): the run it ended
/// would stay ended.
pub fn count_checked_in_tx<T>(
    conn: &mut DbConn,
    flow: &FlowId,
    user: &UserId,
    ip: IpAddr,
    address_limit: i32,
    verdict: Option<T>,
    now: i64,
) -> Result<Counted<T>, ApiError> {
    let user = Some((UserCounter::SecondFactor, user));
    let right = verdict.is_some();
    let attempt = count(conn, Some(flow), user, ip, address_limit, right, now)?;
    Ok(match verdict {
        Some(proof) => Counted::Right(proof),
        None => Counted::Wrong(attempt),
    })
}

/// One more try at `flow`, alone: for a right second factor refused after
/// its transaction was rolled back (a replayed step), which must still use
/// up a try of the flow and nothing else.
pub fn count_flow_try(conn: &mut DbConn, flow: &FlowId) -> Result<(), ApiError> {
    if repo::reserve_flow(conn, flow, FLOW_ATTEMPTS)? {
        return Ok(());
    }
    Err(flow_refusal(conn, flow)?)
}

fn flow_refusal(conn: &mut DbConn, flow: &FlowId) -> Result<ApiError, ApiError> {
    Ok(match repo::flow_attempts(conn, flow)? {
        Some(_) => ApiError::FlowAttemptsExhausted,
        None => ApiError::FlowExpired,
    })
}

/// The statements of [`reserve`] and [`count_checked_in_tx`]. `right` only
/// changes values bound into them, never which statements run.
fn count(
    conn: &mut DbConn,
    flow: Option<&FlowId>,
    user: Option<(UserCounter, &UserId)>,
    ip: IpAddr,
    address_limit: i32,
    right: bool,
    now: i64,
) -> Result<Attempt, ApiError> {
    let address = address_bucket(&ip.to_string());
    // The user's row before the flow's: the order a reset takes them in
    // (see `users::repo::lock`), so the two never deadlock. The second
    // factor's counter is on that row, and its conditional write below
    // takes the lock (a refused one has written nothing and needs none);
    // the password's counter has a table of its own, so the row is locked
    // first.
    if let Some((UserCounter::Password, id)) = user {
        crate::users::repo::lock(conn, id)?;
    }
    let user = match user {
        Some((which, id)) => {
            if !repo::reserve_user(conn, which, id, limit_of(which), right, now)? {
                let counter = repo::user_counter(conn, which, id)?;
                // Locked, or its last tries are being verified right now.
                let until = counter
                    .locked_until
                    .filter(|until| *until > now)
                    .unwrap_or(now + 1);
                return Err(ApiError::TooManyAttempts {
                    retry_after: u64::try_from(until - now).unwrap_or(1),
                });
            }
            Some((which, id.clone()))
        }
        None => None,
    };
    if let Some(flow_id) = flow {
        if !repo::reserve_flow(conn, flow_id, FLOW_ATTEMPTS)? {
            return Err(flow_refusal(conn, flow_id)?);
        }
    }
    let counts = i32::from(!right);
    if let Err(retry_after) = repo::reserve_address(
        conn,
        &address,
        address_limit,
        ADDRESS_WINDOW_SECS,
        counts,
        now,
    )? {
        return Err(ApiError::TooManyAttempts {
            retry_after: u64::try_from(retry_after).unwrap_or(1),
        });
    }
    Ok(Attempt {
        flow: flow.cloned(),
        user,
        address,
    })
}
