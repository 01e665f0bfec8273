//! The audit trail: who did what to whom, when, from where.
//!
//! Events are written with the connection of the change they record, inside
//! its transaction, so a change without its event (or the reverse) cannot be
//! committed. Details never hold secrets, codes or tokens.

use std::net::IpAddr;

use diesel::prelude::*;
use serde_json::Value;

use crate::db::schema::audit_events;
use crate::db::DbConn;
use crate::error::ApiError;
use crate::ids::{AccountId, UserId};

/// Who acted.
#[derive(Debug, Clone)]
pub enum Actor {
    /// A user of the account (self-service or an admin).
    User(UserId),
    /// The operator command line (support).
    Cli,
    /// The operator API (a billing system).
    Operator,
    /// twofold itself (e.g. an automatic lockout).
    System,
}

pub struct Event<'a> {
    pub account_id: &'a AccountId,
    pub actor: Actor,
    pub subject_user_id: Option<&'a UserId>,
    pub kind: &'static str,
    pub ip: Option<String>,
    pub detail: Value,
}

impl<'a> Event<'a> {
    /// An event in which `user` acts on their own account (login,
    /// enrollment, recovery code, password).
    pub fn of_user(
        user: &'a crate::users::User,
        kind: &'static str,
        ip: IpAddr,
        detail: Value,
    ) -> Self {
        Self {
            account_id: &user.account_id,
            actor: Actor::User(user.id.clone()),
            subject_user_id: Some(&user.id),
            kind,
            ip: Some(ip.to_string()),
            detail,
        }
    }
}

pub fn record(conn: &mut DbConn, event: Event<'_>, now: i64) -> Result<(), ApiError> {
    let (actor_kind, actor_user_id) = match &event.actor {
        Actor::User(id) => ("user", Some(id.as_str())),
        Actor::Cli => ("cli", None),
        Actor::Operator => ("operator", None),
        Actor::System => ("system", None),
    };
    diesel::insert_into(audit_events::table)
        .values((
            // Time-ordered (UUIDv7): events of the same second page in the
            // order they happened.
            audit_events::id.eq(uuid::Uuid::now_v7().to_string()),
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
    pub const LOGGED_OUT: &str = "session.logged_out";
    pub const USER_CREATED: &str = "user.created";
    pub const USER_UPDATED: &str = "user.updated";
    pub const TWOFA_REQUIRED: &str = "twofa.required";
    pub const BILLING_CHANGED: &str = "account.billing_changed";
    pub const IP_DENIED: &str = "access.ip_denied";
    pub const IP_ALLOWLIST_CHANGED: &str = "account.ip_allowlist_changed";
    pub const WEBAUTHN_REGISTERED: &str = "webauthn.registered";
    pub const WEBAUTHN_REMOVED: &str = "webauthn.removed";
    pub const WEBAUTHN_COUNTER_REGRESSION: &str = "webauthn.counter_regression";

    /// Every kind, for validating filters.
    pub const ALL: &[&str] = &[
        LOGIN_SUCCEEDED,
        LOGIN_FAILED,
        TOTP_ENROLLED,
        RECOVERY_CODE_USED,
        RECOVERY_CODE_ROTATED,
        TWOFA_LOCKED,
        TWOFA_RESET,
        PASSWORD_CHANGED,
        REFRESH_TOKEN_REUSED,
        LOGGED_OUT,
        USER_CREATED,
        USER_UPDATED,
        TWOFA_REQUIRED,
        BILLING_CHANGED,
        IP_DENIED,
        IP_ALLOWLIST_CHANGED,
        WEBAUTHN_REGISTERED,
        WEBAUTHN_REMOVED,
        WEBAUTHN_COUNTER_REGRESSION,
    ];
}

/// A stored event.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_events)]
pub struct Row {
    pub id: String,
    pub account_id: AccountId,
    pub actor_kind: String,
    pub actor_user_id: Option<UserId>,
    pub subject_user_id: Option<UserId>,
    pub kind: String,
    pub ip: Option<String>,
    pub detail: String,
    pub created_at: i64,
}

/// One page of an account's events, newest first, after `before`
/// (`(created_at, id)` of the last row of the previous page).
pub fn page(
    conn: &mut DbConn,
    account_id: &AccountId,
    user_id: Option<&UserId>,
    kind: Option<&str>,
    before: Option<(i64, String)>,
    limit: i64,
) -> Result<Vec<Row>, ApiError> {
    let mut query = audit_events::table
        .filter(audit_events::account_id.eq(account_id))
        .select(Row::as_select())
        .into_boxed::<crate::db::MultiBackend>();
    if let Some(user) = user_id {
        query = query.filter(
            audit_events::subject_user_id
                .eq(user.to_owned())
                .or(audit_events::actor_user_id.eq(user.to_owned())),
        );
    }
    if let Some(kind) = kind {
        query = query.filter(audit_events::kind.eq(kind.to_owned()));
    }
    if let Some((at, id)) = before {
        query = query
            .filter(audit_events::created_at.le(at))
            .filter(audit_events::created_at.lt(at).or(audit_events::id.lt(id)));
    }
    Ok(query
        .order((audit_events::created_at.desc(), audit_events::id.desc()))
        .limit(limit + 1)
        .load(conn)?)
}
