//! The user row and the rules that read it.

use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::schema::users;
use crate::error::ApiError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Technician,
    ReadOnly,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Technician => "technician",
            Self::ReadOnly => "read_only",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "admin" => Some(Self::Admin),
            "technician" => Some(Self::Technician),
            "read_only" => Some(Self::ReadOnly),
            _ => None,
        }
    }
}

/// 2FA status as reported everywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TwofaStatus {
    /// Not required, nothing enrolled.
    Disabled,
    /// Required (by an admin or by the account's enforcement), not yet enrolled.
    Pending,
    /// Authenticator enrolled and recovery code confirmed.
    Enabled,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: String,
    pub account_id: String,
    pub email: String,
    pub email_normalized: String,
    pub name: String,
    pub role: String,
    pub password_hash: String,
    pub twofa_required: bool,
    pub created_at: i64,
    pub password_changed_at: i64,
    pub last_login_at: Option<i64>,
    /// `name` lower-cased: the sort key and search target of the admin list.
    pub name_lower: String,
    /// Whether an authenticator is active (kept with `totp_authenticators`).
    pub twofa_enrolled: bool,
}

impl User {
    /// A new user with a fresh id; `email` must come from [`normalize_email`]
    /// and `name` from [`validate_name`].
    pub fn new(
        account_id: &str,
        (email, email_normalized): (String, String),
        name: String,
        role: Role,
        password_hash: String,
        now: i64,
    ) -> Self {
        Self {
            id: uuid::Uuid::new_v4().to_string(),
            account_id: account_id.to_owned(),
            email,
            email_normalized,
            name_lower: name.to_lowercase(),
            name,
            role: role.as_str().to_owned(),
            password_hash,
            twofa_required: false,
            created_at: now,
            password_changed_at: now,
            last_login_at: None,
            twofa_enrolled: false,
        }
    }

    pub fn role(&self) -> Role {
        // The column has a CHECK constraint; an unknown value would be a
        // corrupted row, and the least privileged role is the safe reading.
        Role::parse(&self.role).unwrap_or(Role::ReadOnly)
    }
}

/// Trims and validates an email; returns `(as_given, normalized)` where
/// `normalized` (lower-case) is the case-insensitive unique key.
pub fn normalize_email(field: &str, input: &str) -> Result<(String, String), ApiError> {
    let email = input.trim();
    let valid = email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && local.len() <= 64
                && !domain.is_empty()
                && !domain.contains('@')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        });
    if !valid {
        return Err(ApiError::field(field, "must be a valid email address"));
    }
    Ok((email.to_owned(), email.to_lowercase()))
}

/// Validates a display name.
pub fn validate_name(field: &str, input: &str) -> Result<String, ApiError> {
    let name = input.trim();
    if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
        return Err(ApiError::field(
            field,
            "must be 1 to 200 printable characters",
        ));
    }
    Ok(name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_and_keyed_case_insensitively() {
        let (email, key) = normalize_email("email", "  Ada@Example.COM ").unwrap();
        assert_eq!(email, "Ada@Example.COM");
        assert_eq!(key, "ada@example.com");
        for bad in [
            "",
            "ada",
            "@x.com",
            "ada@",
            "a da@x.com",
            "a@b@c",
            "ada@.x",
            "ada@x.",
        ] {
            assert!(normalize_email("email", bad).is_err(), "{bad}");
        }
        assert!(normalize_email("email", &format!("{}@x.com", "a".repeat(65))).is_err());
    }

    #[test]
    fn roles_round_trip() {
        for role in [Role::Admin, Role::Technician, Role::ReadOnly] {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("root"), None);
    }
}
