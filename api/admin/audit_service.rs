//! Reading the account's audit trail: which filters are valid, one page of
//! events, and how a stored row is shown. The trail is read-only here;
//! events are written where they happen, through [`crate::audit::record`].

use super::cursor;
use super::dto::{AuditActor, AuditEvent, AuditPage, AuditParams};
use super::Admin;
use crate::audit::{self, AuditKind, Row};
use crate::clock::rfc3339;
use crate::error::ApiError;
use crate::ids::UserId;
use crate::state::AppState;

/// A page of the admin's account's events, newest first.
pub async fn list(
    app: &AppState,
    admin: &Admin,
    params: AuditParams,
) -> Result<AuditPage, ApiError> {
    let limit = cursor::limit(params.limit)?;
    check_kind(params.kind.as_deref())?;
    let before = cursor::start_after::<(i64, String)>(params.cursor.as_deref())?;
    let account_id = admin.account_id().to_owned();
    // A user id is a UUID, as the contract says: anything else is a
    // mistake to name, not a filter that quietly matches nothing.
    if let Some(id) = params.user_id.as_deref() {
        if uuid::Uuid::parse_str(id).is_err() {
            return Err(ApiError::field("user_id", "must be a user id (a UUID)"));
        }
    }
    let user_id = params.user_id.map(UserId::from);
    let rows = app
        .db
        .run(move |conn| {
            audit::page(
                conn,
                &account_id,
                user_id.as_ref(),
                params.kind.as_deref(),
                before,
                limit,
            )
        })
        .await?;
    let page = cursor::page(rows, limit, |last| (last.created_at, last.id.clone()));
    Ok(AuditPage {
        items: page.items.into_iter().map(event).collect(),
        next_cursor: page.next_cursor,
    })
}

/// An unknown kind is a client's mistake, not a filter that matches
/// nothing: say which kinds exist.
fn check_kind(kind: Option<&str>) -> Result<(), ApiError> {
    match kind {
        Some(name) if AuditKind::parse(name).is_none() => {
            let names: Vec<&str> = AuditKind::ALL.iter().map(|k| k.as_str()).collect();
            Err(ApiError::field(
                "kind",
                format!("one of: {}", names.join(", ")),
            ))
        }
        _ => Ok(()),
    }
}

/// How a stored event is shown. The detail was written as JSON by
/// `audit::record`; a row that no longer parses shows `null` rather than
/// hiding the event.
fn event(row: Row) -> AuditEvent {
    AuditEvent {
        detail: serde_json::from_str(&row.detail).unwrap_or(serde_json::Value::Null),
        created_at: rfc3339(row.created_at),
        actor: AuditActor {
            kind: row.actor_kind,
            user_id: row.actor_user_id,
        },
        id: row.id,
        kind: row.kind,
        subject_user_id: row.subject_user_id,
        ip: row.ip,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_outside_the_list_are_refused_with_the_list() {
        assert!(check_kind(None).is_ok());
        assert!(check_kind(Some(AuditKind::ALL[0].as_str())).is_ok());
        let err = check_kind(Some("twofa.nonsense")).unwrap_err();
        assert_eq!(err.code(), "validation_failed");
        assert!(format!("{err:?}").contains(AuditKind::ALL[0].as_str()));
    }

    #[test]
    fn unreadable_detail_shows_as_null() {
        let row = Row {
            id: "e1".into(),
            account_id: "a1".into(),
            actor_kind: "user".into(),
            actor_user_id: Some("u1".into()),
            subject_user_id: None,
            kind: "twofa.reset".into(),
            ip: None,
            detail: "{not json".into(),
            created_at: 0,
        };
        let shown = event(row);
        assert_eq!(shown.detail, serde_json::Value::Null);
        assert_eq!(shown.created_at, "1970-01-01T00:00:00Z");
        assert_eq!(shown.actor.user_id.as_ref().map(UserId::as_str), Some("u1"));
    }
}
