//! What an audit event records besides who, whom, when and where: one type
//! per shape, so every place that records an event writes a shape the
//! contract documents (`AuditDetail` in `openapi.yaml`), and the shapes are
//! told apart by their fields. Stored as JSON; shown as stored.

use serde::Serialize;
use utoipa::ToSchema;

use crate::ids::SessionId;
use crate::sessions::amr::Factor;

/// The detail of an event, by the kinds that record it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(untagged)]
#[schema(as = AuditDetail)]
pub enum Detail {
    /// `twofa.required`, `twofa.totp_enrolled`, `twofa.passkey_enrolled`,
    /// `twofa.recovery_code_used`,
    /// `twofa.recovery_code_rotated`, `access.ip_denied`.
    Nothing(NoDetail),
    LoginSucceeded(LoginSucceeded),
    LoginFailed(LoginFailed),
    TwofaLocked(TwofaLocked),
    TwofaReset(TwofaReset),
    PasswordChanged(PasswordChanged),
    Session(SessionEnded),
    Sessions(SessionsEnded),
    UserCreated(UserCreated),
    UserUpdated(UserUpdated),
    UserDeactivated(UserDeactivated),
    UserReactivated(UserReactivated),
    UserDeleted(UserDeleted),
    BillingChanged(BillingChanged),
    AllowlistEntryAdded(AllowlistEntryAdded),
    AllowlistEntryRemoved(AllowlistEntryRemoved),
    AllowlistSwitched(AllowlistSwitched),
    Credential(CredentialChanged),
    CounterRegression(CounterRegression),
    DeviceRemembered(DeviceRemembered),
    DeviceUsed(DeviceUsed),
    DeviceForgotten(DeviceForgotten),
    RememberDeviceChanged(RememberDeviceChanged),
}

impl Detail {
    pub const NONE: Detail = Detail::Nothing(NoDetail {});
}

/// No detail: the kind says it all.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoDetail {}

/// `login.succeeded`: the methods the new session proved.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginSucceeded {
    pub amr: Vec<Factor>,
}

/// A factor a login step can fail at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FailedFactor {
    Password,
    Totp,
    RecoveryCode,
    Webauthn,
}

/// `login.failed`: the factor that was wrong; for a password, how many in
/// a row and until when the user's password is backing off.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginFailed {
    pub factor: FailedFactor,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consecutive: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    pub locked_until: Option<String>,
}

/// `twofa.locked`: the second factor is locked until then.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TwofaLocked {
    #[schema(format = DateTime)]
    pub until: String,
}

/// `twofa.reset`: whether factors were removed, and sessions ended.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TwofaReset {
    pub factors_removed: bool,
    pub sessions_revoked: usize,
}

/// `user.password_changed`: the other sessions it ended.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChanged {
    pub sessions_revoked: usize,
}

/// `session.logged_out`, `session.refresh_token_reused`, `session.revoked`:
/// the session that ended.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionEnded {
    #[schema(value_type = uuid::Uuid)]
    pub session_id: SessionId,
}

/// `session.revoked_all`: how many live sessions ended, and whether the
/// caller kept their own (a user's "sign out everywhere else").
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionsEnded {
    pub sessions_revoked: usize,
    pub kept_current: bool,
}

/// `user.created`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserCreated {
    pub email: String,
    pub role: crate::users::Role,
}

/// `user.updated`: the new name and role (null when unchanged) and the role
/// before.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserUpdated {
    pub name: Option<String>,
    pub role: Option<crate::users::Role>,
    pub previous_role: crate::users::Role,
}

/// `user.deactivated`: the user's email at the time, and the sessions that
/// ended with it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserDeactivated {
    pub email: String,
    pub sessions_revoked: usize,
}

/// `user.reactivated`: the user's email at the time.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserReactivated {
    pub email: String,
}

/// `user.deleted`: who the user was, so the trail still names them once
/// the user row (and with it the email) is gone.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserDeleted {
    pub email: String,
    pub name: String,
    pub role: crate::users::Role,
}

/// `account.billing_changed`: the new values (null: unchanged, or for
/// `paying_since` back on trial) and the previous ones.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BillingChanged {
    #[schema(format = DateTime)]
    pub paying_since: Option<String>,
    pub licenses: Option<i32>,
    #[schema(format = DateTime)]
    pub previous_paying_since: Option<String>,
    pub previous_licenses: i32,
}

/// `account.ip_allowlist_changed`: an entry was added.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AllowlistEntryAdded {
    pub added: String,
    pub description: String,
}

/// `account.ip_allowlist_changed`: an entry was removed.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AllowlistEntryRemoved {
    pub removed: String,
    /// Removed although it locked the admin out.
    pub forced: bool,
}

/// `account.ip_allowlist_changed`: the list was switched on or off, by the
/// admin (`forced` as sent) or by support (`via: support`).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AllowlistSwitched {
    pub enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forced: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(inline)]
    pub via: Option<SupportVia>,
}

crate::constant_string!(
    /// `support`.
    SupportVia = "support"
);

/// `webauthn.registered`, `webauthn.removed`: the credential, its name and
/// the session that acted.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CredentialChanged {
    #[schema(format = Uuid)]
    pub credential: String,
    pub name: String,
    #[schema(value_type = uuid::Uuid)]
    pub session: SessionId,
}

/// `webauthn.counter_regression`: the counter stored and the lower one
/// presented (a cloned authenticator).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CounterRegression {
    #[schema(format = Uuid)]
    pub credential: String,
    pub stored: i64,
    pub presented: i64,
}

/// `device.remembered`: the device and when its window ends.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceRemembered {
    #[schema(format = Uuid)]
    pub device_id: String,
    #[schema(format = DateTime)]
    pub expires_at: String,
}

/// `device.used`: the device that stood in for the second factor.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceUsed {
    #[schema(format = Uuid)]
    pub device_id: String,
}

/// Why remembered devices were forgotten.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ForgetReason {
    /// The user forgot one (`DELETE /v1/me/devices/{id}`).
    User,
    /// The user signed out everywhere else.
    SignedOutEverywhere,
    PasswordChanged,
    TwofaReset,
    /// An admin ended the user's sessions.
    SessionsRevoked,
    /// An admin deactivated the user.
    UserDeactivated,
}

/// `device.forgotten`: how many, why, and which one when it was one.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceForgotten {
    pub devices: usize,
    pub reason: ForgetReason,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = Uuid)]
    pub device_id: Option<String>,
}

/// `account.remember_device_changed`: the new and previous window in days.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RememberDeviceChanged {
    pub remember_device_days: i32,
    pub previous_days: i32,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::openapi::validate;
    use crate::users::Role;

    fn samples() -> Vec<Detail> {
        let session = SessionId::new();
        let when = "2026-11-30T08:00:00Z".to_owned();
        let credential = "018f0c1e-7a1b-7c2d-8e3f-4a5b6c7d8e9f".to_owned();
        vec![
            Detail::NONE,
            Detail::LoginSucceeded(LoginSucceeded {
                amr: vec![Factor::Password, Factor::Totp],
            }),
            Detail::LoginFailed(LoginFailed {
                factor: FailedFactor::Totp,
                consecutive: None,
                locked_until: None,
            }),
            Detail::LoginFailed(LoginFailed {
                factor: FailedFactor::Password,
                consecutive: Some(10),
                locked_until: Some(when.clone()),
            }),
            Detail::TwofaLocked(TwofaLocked {
                until: when.clone(),
            }),
            Detail::TwofaReset(TwofaReset {
                factors_removed: true,
                sessions_revoked: 2,
            }),
            Detail::PasswordChanged(PasswordChanged {
                sessions_revoked: 1,
            }),
            Detail::Session(SessionEnded {
                session_id: session.clone(),
            }),
            Detail::Sessions(SessionsEnded {
                sessions_revoked: 2,
                kept_current: true,
            }),
            Detail::DeviceRemembered(DeviceRemembered {
                device_id: "6f1c2a7e-3b7d-4e59-9c1a-2f8d5e4b3a10".into(),
                expires_at: "2026-12-28T09:00:00Z".into(),
            }),
            Detail::DeviceUsed(DeviceUsed {
                device_id: "6f1c2a7e-3b7d-4e59-9c1a-2f8d5e4b3a10".into(),
            }),
            Detail::DeviceForgotten(DeviceForgotten {
                devices: 1,
                reason: ForgetReason::User,
                device_id: Some("6f1c2a7e-3b7d-4e59-9c1a-2f8d5e4b3a10".into()),
            }),
            Detail::RememberDeviceChanged(RememberDeviceChanged {
                remember_device_days: 30,
                previous_days: 0,
            }),
            Detail::UserCreated(UserCreated {
                email: "a@example.com".into(),
                role: Role::Technician,
            }),
            Detail::UserUpdated(UserUpdated {
                name: None,
                role: Some(Role::Admin),
                previous_role: Role::Technician,
            }),
            Detail::UserDeactivated(UserDeactivated {
                email: "a@example.com".into(),
                sessions_revoked: 2,
            }),
            Detail::UserReactivated(UserReactivated {
                email: "a@example.com".into(),
            }),
            Detail::UserDeleted(UserDeleted {
                email: "a@example.com".into(),
                name: "Ada".into(),
                role: Role::Technician,
            }),
            Detail::BillingChanged(BillingChanged {
                paying_since: Some(when.clone()),
                licenses: None,
                previous_paying_since: None,
                previous_licenses: 1,
            }),
            Detail::AllowlistEntryAdded(AllowlistEntryAdded {
                added: "10.0.0.0/8".into(),
                description: "Office".into(),
            }),
            Detail::AllowlistEntryRemoved(AllowlistEntryRemoved {
                removed: "10.0.0.0/8".into(),
                forced: false,
            }),
            Detail::AllowlistSwitched(AllowlistSwitched {
                enabled: true,
                forced: Some(false),
                via: None,
            }),
            Detail::AllowlistSwitched(AllowlistSwitched {
                enabled: false,
                forced: None,
                via: Some(SupportVia),
            }),
            Detail::Credential(CredentialChanged {
                credential: credential.clone(),
                name: "Key".into(),
                session,
            }),
            Detail::CounterRegression(CounterRegression {
                credential,
                stored: 7,
                presented: 3,
            }),
        ]
    }

    #[test]
    fn every_shape_matches_exactly_one_documented_form() {
        for detail in samples() {
            let value = serde_json::to_value(&detail).unwrap();
            let found = validate::component("AuditDetail", &value, true);
            assert!(found.is_empty(), "{value}: {found:?}");
        }
    }

    #[test]
    fn a_shape_no_kind_records_is_refused() {
        for value in [
            serde_json::json!({"amr": ["pwd"], "extra": 1}),
            serde_json::json!({"factor": "sms"}),
            serde_json::json!({"sessions_revoked": 1, "session_id": "x"}),
        ] {
            assert!(
                !validate::component("AuditDetail", &value, true).is_empty(),
                "{value}"
            );
        }
    }
}
