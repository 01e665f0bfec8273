//! The audit trail: who did what to whom, when, from where.
//!
//! Events are written with the connection of the change they record, inside
//! its transaction, so a change without its event (or the reverse) cannot be
//! committed. Details never hold secrets, codes or tokens.

use std::net::IpAddr;

use diesel::prelude::*;

use crate::db::schema::audit_events;
use crate::db::DbConn;
use crate::error::ApiError;
use crate::ids::{AccountId, UserId};
pub use detail::Detail;

pub mod detail;
mod kinds;

pub use kinds::{kind, ActorKind, AuditKind};

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
    pub kind: AuditKind,
    pub ip: Option<String>,
    pub detail: Detail,
}

impl<'a> Event<'a> {
    /// An event in which `user` acts on their own account (login,
    /// enrollment, recovery code, password).
    pub fn of_user(
        user: &'a crate::users::User,
        kind: AuditKind,
        ip: IpAddr,
        detail: Detail,
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
        Actor::User(id) => (ActorKind::User, Some(id.as_str())),
        Actor::Cli => (ActorKind::Cli, None),
        Actor::Operator => (ActorKind::Operator, None),
        Actor::System => (ActorKind::System, None),
    };
    diesel::insert_into(audit_events::table)
        .values((
            // Time-ordered (UUIDv7): events of the same second page in the
            // order they happened.
            audit_events::id.eq(uuid::Uuid::now_v7().to_string()),
            audit_events::account_id.eq(event.account_id),
            audit_events::actor_kind.eq(actor_kind.as_str()),
            audit_events::actor_user_id.eq(actor_user_id),
            audit_events::subject_user_id.eq(event.subject_user_id),
            audit_events::kind.eq(event.kind.as_str()),
            audit_events::ip.eq(event.ip),
            audit_events::detail
                .eq(serde_json::to_string(&event.detail).map_err(ApiError::internal)?),
            audit_events::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
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
