//! What an audit event records, as stored (`audit_events.kind`) and as
//! listed and filtered by `GET /v1/admin/audit-events`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The kind of an audit event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub enum AuditKind {
    #[serde(rename = "login.succeeded")]
    LoginSucceeded,
    #[serde(rename = "login.failed")]
    LoginFailed,
    #[serde(rename = "twofa.totp_enrolled")]
    TotpEnrolled,
    /// A passkey enrolled inside the login flow became active (its
    /// recovery code was confirmed).
    #[serde(rename = "twofa.passkey_enrolled")]
    PasskeyEnrolled,
    #[serde(rename = "twofa.recovery_code_used")]
    RecoveryCodeUsed,
    #[serde(rename = "twofa.recovery_code_rotated")]
    RecoveryCodeRotated,
    #[serde(rename = "twofa.locked")]
    TwofaLocked,
    #[serde(rename = "twofa.reset")]
    TwofaReset,
    #[serde(rename = "user.password_changed")]
    PasswordChanged,
    #[serde(rename = "session.refresh_token_reused")]
    RefreshTokenReused,
    #[serde(rename = "session.logged_out")]
    LoggedOut,
    #[serde(rename = "session.revoked")]
    SessionRevoked,
    #[serde(rename = "session.revoked_all")]
    SessionsRevoked,
    #[serde(rename = "user.created")]
    UserCreated,
    #[serde(rename = "user.updated")]
    UserUpdated,
    #[serde(rename = "user.deactivated")]
    UserDeactivated,
    #[serde(rename = "user.reactivated")]
    UserReactivated,
    #[serde(rename = "user.deleted")]
    UserDeleted,
    #[serde(rename = "twofa.required")]
    TwofaRequired,
    #[serde(rename = "account.billing_changed")]
    BillingChanged,
    #[serde(rename = "access.ip_denied")]
    IpDenied,
    #[serde(rename = "account.ip_allowlist_changed")]
    IpAllowlistChanged,
    #[serde(rename = "webauthn.registered")]
    WebauthnRegistered,
    #[serde(rename = "webauthn.removed")]
    WebauthnRemoved,
    #[serde(rename = "webauthn.counter_regression")]
    WebauthnCounterRegression,
    #[serde(rename = "device.remembered")]
    DeviceRemembered,
    #[serde(rename = "device.used")]
    DeviceUsed,
    #[serde(rename = "device.forgotten")]
    DeviceForgotten,
    #[serde(rename = "account.remember_device_changed")]
    RememberDeviceChanged,
}

impl AuditKind {
    pub const ALL: [Self; 29] = [
        Self::LoginSucceeded,
        Self::LoginFailed,
        Self::TotpEnrolled,
        Self::PasskeyEnrolled,
        Self::RecoveryCodeUsed,
        Self::RecoveryCodeRotated,
        Self::TwofaLocked,
        Self::TwofaReset,
        Self::PasswordChanged,
        Self::RefreshTokenReused,
        Self::LoggedOut,
        Self::SessionRevoked,
        Self::SessionsRevoked,
        Self::UserCreated,
        Self::UserUpdated,
        Self::UserDeactivated,
        Self::UserReactivated,
        Self::UserDeleted,
        Self::TwofaRequired,
        Self::BillingChanged,
        Self::IpDenied,
        Self::IpAllowlistChanged,
        Self::WebauthnRegistered,
        Self::WebauthnRemoved,
        Self::WebauthnCounterRegression,
        Self::DeviceRemembered,
        Self::DeviceUsed,
        Self::DeviceForgotten,
        Self::RememberDeviceChanged,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::LoginSucceeded => "login.succeeded",
            Self::LoginFailed => "login.failed",
            Self::TotpEnrolled => "twofa.totp_enrolled",
            Self::PasskeyEnrolled => "twofa.passkey_enrolled",
            Self::RecoveryCodeUsed => "twofa.recovery_code_used",
            Self::RecoveryCodeRotated => "twofa.recovery_code_rotated",
            Self::TwofaLocked => "twofa.locked",
            Self::TwofaReset => "twofa.reset",
            Self::PasswordChanged => "user.password_changed",
            Self::RefreshTokenReused => "session.refresh_token_reused",
            Self::LoggedOut => "session.logged_out",
            Self::SessionRevoked => "session.revoked",
            Self::SessionsRevoked => "session.revoked_all",
            Self::UserCreated => "user.created",
            Self::UserUpdated => "user.updated",
            Self::UserDeactivated => "user.deactivated",
            Self::UserReactivated => "user.reactivated",
            Self::UserDeleted => "user.deleted",
            Self::TwofaRequired => "twofa.required",
            Self::BillingChanged => "account.billing_changed",
            Self::IpDenied => "access.ip_denied",
            Self::IpAllowlistChanged => "account.ip_allowlist_changed",
            Self::WebauthnRegistered => "webauthn.registered",
            Self::WebauthnRemoved => "webauthn.removed",
            Self::WebauthnCounterRegression => "webauthn.counter_regression",
            Self::DeviceRemembered => "device.remembered",
            Self::DeviceUsed => "device.used",
            Self::DeviceForgotten => "device.forgotten",
            Self::RememberDeviceChanged => "account.remember_device_changed",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == name)
    }
}

/// Who acted, as listed in an event's `actor.kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    /// A user of the account (self-service or an admin).
    User,
    /// The operator command line (support).
    Cli,
    /// The operator API (a billing system).
    Operator,
    /// twofold itself (e.g. an automatic lockout).
    System,
}

impl ActorKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Cli => "cli",
            Self::Operator => "operator",
            Self::System => "system",
        }
    }
}

/// The kinds under the names the code records them by.
pub mod kind {
    use super::AuditKind;

    pub const LOGIN_SUCCEEDED: AuditKind = AuditKind::LoginSucceeded;
    pub const LOGIN_FAILED: AuditKind = AuditKind::LoginFailed;
    pub const TOTP_ENROLLED: AuditKind = AuditKind::TotpEnrolled;
    pub const PASSKEY_ENROLLED: AuditKind = AuditKind::PasskeyEnrolled;
    pub const RECOVERY_CODE_USED: AuditKind = AuditKind::RecoveryCodeUsed;
    pub const RECOVERY_CODE_ROTATED: AuditKind = AuditKind::RecoveryCodeRotated;
    pub const TWOFA_LOCKED: AuditKind = AuditKind::TwofaLocked;
    pub const TWOFA_RESET: AuditKind = AuditKind::TwofaReset;
    pub const PASSWORD_CHANGED: AuditKind = AuditKind::PasswordChanged;
    pub const REFRESH_TOKEN_REUSED: AuditKind = AuditKind::RefreshTokenReused;
    pub const LOGGED_OUT: AuditKind = AuditKind::LoggedOut;
    pub const SESSION_REVOKED: AuditKind = AuditKind::SessionRevoked;
    pub const SESSIONS_REVOKED: AuditKind = AuditKind::SessionsRevoked;
    pub const USER_CREATED: AuditKind = AuditKind::UserCreated;
    pub const USER_UPDATED: AuditKind = AuditKind::UserUpdated;
    pub const USER_DEACTIVATED: AuditKind = AuditKind::UserDeactivated;
    pub const USER_REACTIVATED: AuditKind = AuditKind::UserReactivated;
    pub const USER_DELETED: AuditKind = AuditKind::UserDeleted;
    pub const TWOFA_REQUIRED: AuditKind = AuditKind::TwofaRequired;
    pub const BILLING_CHANGED: AuditKind = AuditKind::BillingChanged;
    pub const IP_DENIED: AuditKind = AuditKind::IpDenied;
    pub const IP_ALLOWLIST_CHANGED: AuditKind = AuditKind::IpAllowlistChanged;
    pub const WEBAUTHN_REGISTERED: AuditKind = AuditKind::WebauthnRegistered;
    pub const WEBAUTHN_REMOVED: AuditKind = AuditKind::WebauthnRemoved;
    pub const WEBAUTHN_COUNTER_REGRESSION: AuditKind = AuditKind::WebauthnCounterRegression;
    pub const DEVICE_REMEMBERED: AuditKind = AuditKind::DeviceRemembered;
    pub const DEVICE_USED: AuditKind = AuditKind::DeviceUsed;
    pub const DEVICE_FORGOTTEN: AuditKind = AuditKind::DeviceForgotten;
    pub const REMEMBER_DEVICE_CHANGED: AuditKind = AuditKind::RememberDeviceChanged;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_named_alike_in_rust_and_json_and_parses_back() {
        let mut seen = std::collections::HashSet::new();
        for kind in AuditKind::ALL {
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
            assert_eq!(AuditKind::parse(kind.as_str()), Some(kind));
            assert!(seen.insert(kind.as_str()), "{} twice", kind.as_str());
        }
        assert_eq!(AuditKind::parse("twofa.nonsense"), None);
    }
}
