//! The user row and the rules that read it.

use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::schema::users;
use crate::ids::{AccountId, UserId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
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

/// 2FA status as reported everywhere, and the admin list's filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TwofaStatus {
    /// Not required, nothing enrolled.
    Disabled,
    /// Required (by an admin or by the account's enforcement), not yet enrolled.
    Pending,
    /// Authenticator enrolled and recovery code confirmed.
    Enabled,
}

/// Whether a user may sign in and holds a licence, as the admin list shows
/// and filters it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UserStatus {
    Active,
    /// Taken off the account by an admin: cannot sign in, holds no licence.
    Deactivated,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: UserId,
    pub account_id: AccountId,
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
    /// Whether the email signs in as this user. An email signs in as one
    /// user across all accounts; a user an admin added with an address that
    /// already signed in elsewhere is not its owner and never signs in
    /// (see [`addresses::add`](super::addresses::add)).
    pub email_owner: bool,
    /// When an admin deactivated the user; `None` while active. A
    /// deactivated user cannot sign in, holds no licence and does not count
    /// as an admin.
    pub deactivated_at: Option<i64>,
}

impl User {
    /// A new user with a fresh id; `email` must come from
    /// [`normalize_email`](super::identity::normalize_email) and `name` from
    /// [`validate_name`](super::identity::validate_name).
    pub fn new(
        account_id: &AccountId,
        (email, email_normalized): (String, String),
        name: String,
        role: Role,
        password_hash: String,
        now: i64,
    ) -> Self {
        Self {
            id: UserId::new(),
            account_id: account_id.clone(),
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
            email_owner: true,
            deactivated_at: None,
        }
    }

    pub fn status(&self) -> UserStatus {
        match self.deactivated_at {
            None => UserStatus::Active,
            Some(_) => UserStatus::Deactivated,
        }
    }

    pub fn is_active(&self) -> bool {
        self.deactivated_at.is_none()
    }

    pub fn role(&self) -> Role {
        // The column has a CHECK constraint; an unknown value would be a
        // corrupted row, and the least privileged role is the safe reading.
        Role::parse(&self.role).unwrap_or(Role::ReadOnly)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip() {
        for role in [Role::Admin, Role::Technician, Role::ReadOnly] {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("root"), None);
    }
}
