//! Users stored before the identity profile (`identity.rs`) who fall
//! outside it: an email that would be refused today or is not stored in its
//! normal form, a name with control, bidirectional or invisible characters.
//!
//! This only reports, by user id (never the email or name: they are
//! personal data and, here, possibly crafted to mislead a reader). It never
//! rewrites a row: which of two lookalike accounts is the real person is a
//! decision for their admin, not for a migration.

use diesel::prelude::*;
use serde::Serialize;

use super::identity;
use crate::db::schema::users;
use crate::db::DbConn;
use crate::error::ApiError;
use crate::ids::UserId;

/// Rows read per query, so a large table never sits in memory at once.
const BATCH: i64 = 1000;

/// One user outside the profile and which of its fields are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub user_id: UserId,
    pub fields: Vec<&'static str>,
}

/// Every user outside the profile, in id order.
pub fn users_outside_profile(conn: &mut DbConn) -> Result<Vec<Finding>, ApiError> {
    let mut findings = Vec::new();
    let mut after = String::new();
    loop {
        let rows: Vec<(UserId, String, String, String)> = users::table
            .filter(users::id.gt(&after))
            .order(users::id.asc())
            .limit(BATCH)
            .select((
                users::id,
                users::email,
                users::email_normalized,
                users::name,
            ))
            .load(conn)?;
        let Some((last, ..)) = rows.last() else {
            return Ok(findings);
        };
        after = last.to_string();
        for (id, email, key, name) in rows {
            let fields = identity::outside_profile(&email, &key, &name);
            if !fields.is_empty() {
                findings.push(Finding {
                    user_id: id,
                    fields,
                });
            }
        }
    }
}

/// One line for people: how many, and each id with its fields.
pub fn describe(findings: &[Finding]) -> String {
    if findings.is_empty() {
        return "every user's email and name are within the identity profile".to_owned();
    }
    let list = findings
        .iter()
        .map(|f| format!("{} ({})", f.user_id, f.fields.join(", ")))
        .collect::<Vec<_>>()
        .join("; ");
    format!(
        "{} user(s) outside the identity profile, left unchanged (see api/users/identity.rs): {list}",
        findings.len()
    )
}
