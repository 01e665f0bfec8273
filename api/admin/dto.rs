//! Bodies of the admin endpoints.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::crypto::Secret;
use crate::ids::{AccountId, UserId};
use crate::twofa::dto::RequiredBy;
use crate::users::{Role, TwofaStatus, UserStatus};

/// A user as the admin list shows it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0b4e7c5e-2f0a-4a8e-9b51-7f3f2f6d9a10",
    "email": "grace@example.com",
    "name": "Grace Hopper",
    "role": "technician",
    "status": "active",
    "deactivated_at": null,
    "twofa_status": "enabled",
    "twofa_required": true,
    "required_by": ["account"],
    "methods": ["totp", "recovery_code"],
    "last_login_at": "2026-11-28T09:00:00Z",
    "created_at": "2026-11-01T12:00:00Z"
}))]
pub struct AdminUser {
    #[schema(value_type = uuid::Uuid)]
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub role: Role,
    /// `deactivated`: cannot sign in and holds no licence.
    pub status: UserStatus,
    /// When an admin deactivated the user; null while active.
    #[schema(format = DateTime)]
    pub deactivated_at: Option<String>,
    pub twofa_status: TwofaStatus,
    /// Whether 2FA is required for this user now.
    pub twofa_required: bool,
    /// Why it is required: set by an admin, and/or the account's enforcement.
    pub required_by: Vec<RequiredBy>,
    /// Enrolled second factors.
    pub methods: Vec<crate::login::dto::Method>,
    #[schema(format = DateTime)]
    pub last_login_at: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserPage {
    pub items: Vec<AdminUser>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// Case-insensitive substring of the name or the email.
    #[param(max_length = 200)]
    pub name: Option<String>,
    pub role: Option<Role>,
    pub twofa_status: Option<TwofaStatus>,
    /// `active` or `deactivated`; all users when absent.
    pub status: Option<UserStatus>,
    /// From the previous page's `next_cursor` (absent or empty: the first page).
    pub cursor: Option<String>,
    /// 1 to 200; default 50.
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "grace@example.com", "name": "Grace Hopper", "role": "technician"}))]
pub struct CreateUserRequest {
    #[schema(schema_with = crate::openapi::new_email_schema)]
    pub email: String,
    #[schema(schema_with = crate::text::name_schema)]
    pub name: String,
    pub role: Role,
}

/// The new user, with a password shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedUser {
    #[serde(flatten)]
    pub user: AdminUser,
    /// Hand this to the user; they change it with `POST /v1/me/password`.
    #[schema(value_type = String, example = "Jx3f9KqP2mVt8ZbR4nYc7LwA")]
    pub initial_password: Secret,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"role": "read_only"}))]
pub struct UpdateUserRequest {
    #[schema(schema_with = crate::text::optional_name_schema)]
    pub name: Option<String>,
    pub role: Option<Role>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"user_ids": ["0b4e7c5e-2f0a-4a8e-9b51-7f3f2f6d9a10", "5d0c1c7a-8b1e-4f43-a0e4-1f1b8f3e2c55"]}))]
pub struct UserIdsRequest {
    /// 1 to 500 user ids of the admin's account; duplicates count once.
    #[schema(value_type = Vec<uuid::Uuid>, min_items = 1, max_items = 500)]
    pub user_ids: Vec<UserId>,
}

/// What a bulk or single 2FA action did to one user.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserResult {
    #[schema(value_type = uuid::Uuid)]
    pub user_id: UserId,
    /// False when the user was already in the requested state.
    pub changed: bool,
    pub twofa_status: TwofaStatus,
    /// Sessions ended (reset only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sessions_revoked: Option<usize>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BulkResult {
    pub results: Vec<UserResult>,
}

/// What deactivating or reactivating did to one user.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "user_id": "0b4e7c5e-2f0a-4a8e-9b51-7f3f2f6d9a10",
    "changed": true,
    "status": "deactivated",
    "deactivated_at": "2026-11-30T10:00:00Z",
    "sessions_revoked": 2
}))]
pub struct StatusChange {
    #[schema(value_type = uuid::Uuid)]
    pub user_id: UserId,
    /// False when the user already had the requested status: nothing was
    /// done (the call is idempotent).
    pub changed: bool,
    pub status: UserStatus,
    #[schema(format = DateTime)]
    pub deactivated_at: Option<String>,
    /// Sessions ended (deactivation only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sessions_revoked: Option<usize>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StatusChanges {
    pub results: Vec<StatusChange>,
}

/// A user removed for good.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "user_id": "0b4e7c5e-2f0a-4a8e-9b51-7f3f2f6d9a10",
    "email": "grace@example.com",
    "sessions_revoked": 1
}))]
pub struct RemovedUser {
    #[schema(value_type = uuid::Uuid)]
    pub user_id: UserId,
    /// The email the user had; it is free for a new user now.
    pub email: String,
    /// Live sessions that ended with the user.
    pub sessions_revoked: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RemovedUsers {
    pub results: Vec<RemovedUser>,
}

/// Where the account stands on enforcement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EnforcementState {
    /// Not paying: 2FA only for users an admin chose.
    Trial,
    /// Paying; enforcement for everyone starts at `enforced_from`.
    Scheduled,
    /// Every user must use 2FA.
    Enforced,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "account_id": "5d0c1c7a-8b1e-4f43-a0e4-1f1b8f3e2c55",
    "name": "Acme MSP",
    "licenses": 25,
    "users": 12,
    "paying_since": "2026-11-27T09:00:00Z",
    "enforcement": "scheduled",
    "enforced_from": "2026-11-28T09:00:00Z",
    "ip_allowlist_enabled": false,
    "remember_device_days": 30
}))]
pub struct SecuritySettings {
    #[schema(value_type = uuid::Uuid)]
    pub account_id: AccountId,
    pub name: String,
    pub licenses: i32,
    /// Users holding a licence (deactivated users do not).
    pub users: i64,
    #[schema(format = DateTime)]
    pub paying_since: Option<String>,
    pub enforcement: EnforcementState,
    #[schema(format = DateTime)]
    pub enforced_from: Option<String>,
    pub ip_allowlist_enabled: bool,
    /// Days a browser that proved a second factor may skip it at later
    /// logins (the user asks with `remember_device: true`); 0: never.
    #[schema(minimum = 0, maximum = 90)]
    pub remember_device_days: i32,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditParams {
    /// Events where this user acted or was acted upon.
    #[param(value_type = Option<uuid::Uuid>)]
    pub user_id: Option<String>,
    /// One kind, e.g. `twofa.reset`.
    #[param(value_type = Option<crate::audit::AuditKind>)]
    pub kind: Option<String>,
    /// From the previous page's `next_cursor` (absent or empty: the first page).
    pub cursor: Option<String>,
    /// 1 to 200; default 50.
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditActor {
    /// Who acted: a user, the operator CLI, the operator API, or twofold.
    #[schema(value_type = crate::audit::ActorKind)]
    pub kind: String,
    #[schema(value_type = Option<uuid::Uuid>)]
    pub user_id: Option<UserId>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "f0c1d2e3-a4b5-4c6d-8e7f-9a0b1c2d3e4f",
    "kind": "twofa.reset",
    "actor": {"kind": "user", "user_id": "5d0c1c7a-8b1e-4f43-a0e4-1f1b8f3e2c55"},
    "subject_user_id": "0b4e7c5e-2f0a-4a8e-9b51-7f3f2f6d9a10",
    "ip": "203.0.113.7",
    "detail": {"factors_removed": true, "sessions_revoked": 2},
    "created_at": "2026-11-28T09:12:00Z"
}))]
pub struct AuditEvent {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(value_type = crate::audit::AuditKind)]
    pub kind: String,
    pub actor: AuditActor,
    #[schema(value_type = Option<uuid::Uuid>)]
    pub subject_user_id: Option<UserId>,
    pub ip: Option<String>,
    /// What else the event records, by kind (see `AuditDetail`); null
    /// for an event whose stored detail cannot be read.
    #[schema(value_type = Option<crate::audit::Detail>)]
    pub detail: serde_json::Value,
    #[schema(format = DateTime)]
    pub created_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    pub items: Vec<AuditEvent>,
    pub next_cursor: Option<String>,
}
