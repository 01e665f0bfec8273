//! The audit trail: who did what to whom, when, from where.
//!
//! Events are written with the connection of the change they record, inside
//! its transaction, so a change without its event (or the reverse) cannot be
//! committed. Details never hold secrets, codes or tokens.

use diesel::prelude::*;
use serde_json::Value;

use crate::db::schema::audit_events;
use crate::db::DbConn;
use crate::error::ApiError;

/// Who acted.
#[derive(Debug, Clone)]
pub enum Actor {
    /// A user of the account (self-service or an admin).
    User(String),
    /// The operator command line (support).
    Cli,
    /// twofold itself (e.g. an automatic lockout).
    System,
}

pub struct Event<'a> {
    pub account_id: &'a str,
    pub actor: Actor,
    pub subject_user_id: Option<&'a str>,
    pub kind: &'static str,
    pub ip: Option<String>,
    pub detail: Value,
}

pub fn record(conn: &mut DbConn, event: Event<'_>, now: i64) -> Result<(), ApiError> {
    let (actor_kind, actor_user_id) = match &event.actor {
        Actor::User(id) => ("user", Some(id.as_str())),
        Actor::Cli => ("cli", None),
        Actor::System => ("system", None),
    };
    diesel::insert_into(audit_events::table)
        .values((
            audit_events::id.eq(uuid::Uuid::new_v4().to_string()),
            audit_events::account_id.eq(event.account_id),
            audit_events::actor_kind.eq(actor_kind),
            audit_events::actor_user_id.eq(actor_user_id),
            audit_events::subject_user_id.eq(event.subject_user_id),
            audit_events::kind.eq(event.kind),
            audit_events::ip.eq(event.ip),
            audit_events::detail.eq(event.detail.to_string()),
            audit_events::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Kinds of events, as stored and reported.
pub mod kind {
    pub const LOGIN_SUCCEEDED: &str = "login.succeeded";
    pub const LOGIN_FAILED: &str = "login.failed";
    pub const TOTP_ENROLLED: &str = "twofa.totp_enrolled";
    pub const RECOVERY_CODE_USED: &str = "twofa.recovery_code_used";
    pub const RECOVERY_CODE_ROTATED: &str = "twofa.recovery_code_rotated";
    pub const TWOFA_LOCKED: &str = "twofa.locked";
    pub const TWOFA_RESET: &str = "twofa.reset";
    pub const PASSWORD_CHANGED: &str = "user.password_changed";
    pub const REFRESH_TOKEN_REUSED: &str = "session.refresh_token_reused";
}
