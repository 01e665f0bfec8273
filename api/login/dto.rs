//! Request and response bodies of the login steps.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::flow_state::FlowState;
use crate::crypto::Secret;
use crate::sessions::dto::{AuthenticatedStatus, TokenResponse};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "ada@example.com"}))]
pub struct StartRequest {
    #[schema(schema_with = crate::openapi::email_schema)]
    pub email: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"flow_token": "flw_Yp0wJ0m8cG2eM5qF3sQ1dT7uV9xZ4aB6cD8eF0gH2iJ", "password": "correct horse battery staple"}))]
pub struct PasswordRequest {
    /// The `flow_token` of the previous step's answer.
    #[schema(value_type = String)]
    pub flow_token: Secret,
    #[schema(value_type = String, format = Password)]
    pub password: Secret,
    /// The `device_token` of an earlier login on this browser: when it is
    /// still trusted for this user, the answer is `authenticated` without a
    /// second factor (`amr` `["pwd","dev"]`). Anything else is ignored: the
    /// answer is what it would be without it.
    #[serde(default)]
    #[schema(value_type = Option<String>, max_length = 100)]
    pub device_token: Option<Secret>,
}

/// A second factor the user can answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    Totp,
    RecoveryCode,
    /// A passkey, security key or platform biometric (WebAuthn).
    Webauthn,
}

/// A second factor a user can enroll inside the login flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EnrollmentMethod {
    /// An authenticator app: `POST /v1/auth/enrollment/totp`.
    Totp,
    /// A passkey (discoverable, with user verification):
    /// `POST /v1/auth/enrollment/webauthn/options`.
    Webauthn,
}

crate::constant_string!(
    /// `password_required`.
    PasswordRequiredStatus = FlowState::Password.as_str()
);
crate::constant_string!(
    /// `mfa_required`.
    MfaRequiredStatus = FlowState::Mfa.as_str()
);
crate::constant_string!(
    /// `enrollment_required`.
    EnrollmentRequiredStatus = FlowState::Enrollment.as_str()
);
crate::constant_string!(
    /// `recovery_code_confirmation_required`.
    RecoveryCodeConfirmationRequiredStatus = FlowState::Confirm.as_str()
);
crate::constant_string!(
    /// `passkey_required`.
    PasskeyRequiredStatus = FlowState::Passkey.as_str()
);

/// The email is taken: send the password with
/// `POST /v1/auth/login/password`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "status": "password_required",
    "flow_token": "flw_Yp0wJ0m8cG2eM5qF3sQ1dT7uV9xZ4aB6cD8eF0gH2iJ",
    "expires_in": 600
}))]
pub struct PasswordRequired {
    #[schema(inline)]
    pub status: PasswordRequiredStatus,
    /// Token for the next step; always use the latest one.
    #[schema(value_type = String)]
    pub flow_token: Secret,
    /// Seconds until `flow_token` expires.
    #[schema(example = 600)]
    pub expires_in: i64,
}

/// The password is right: send a second factor with
/// `POST /v1/auth/login/totp`, `/recovery-code` or `/webauthn`, one of
/// `methods`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "status": "mfa_required",
    "flow_token": "flw_Yp0wJ0m8cG2eM5qF3sQ1dT7uV9xZ4aB6cD8eF0gH2iJ",
    "expires_in": 600,
    "methods": ["totp", "recovery_code"]
}))]
pub struct MfaRequired {
    #[schema(inline)]
    pub status: MfaRequiredStatus,
    /// Token for the next step; always use the latest one.
    #[schema(value_type = String)]
    pub flow_token: Secret,
    /// Seconds until `flow_token` expires.
    #[schema(example = 600)]
    pub expires_in: i64,
    /// The second factors this user has.
    pub methods: Vec<Method>,
}

/// 2FA is required but not set up: enroll one of `enrollment_methods`, an
/// authenticator app with `POST /v1/auth/enrollment/totp` or a passkey with
/// `POST /v1/auth/enrollment/webauthn/options` (Bearer flow token).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "status": "enrollment_required",
    "flow_token": "flw_Yp0wJ0m8cG2eM5qF3sQ1dT7uV9xZ4aB6cD8eF0gH2iJ",
    "expires_in": 600,
    "enrollment_methods": ["totp", "webauthn"]
}))]
pub struct EnrollmentRequired {
    #[schema(inline)]
    pub status: EnrollmentRequiredStatus,
    /// The Bearer token of the enrollment steps; always use the latest one.
    #[schema(value_type = String)]
    pub flow_token: Secret,
    /// Seconds until `flow_token` expires.
    #[schema(example = 600)]
    pub expires_in: i64,
    /// What the user may enroll: always `totp`, and `webauthn` where
    /// WebAuthn is available (the service has a relying-party id).
    #[schema(example = json!(["totp", "webauthn"]))]
    pub enrollment_methods: Vec<EnrollmentMethod>,
}

/// Show `recovery_code` to the user, then
/// `POST /v1/auth/enrollment/recovery-code/confirm` (Bearer flow token).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "status": "recovery_code_confirmation_required",
    "flow_token": "flw_Yp0wJ0m8cG2eM5qF3sQ1dT7uV9xZ4aB6cD8eF0gH2iJ",
    "expires_in": 600,
    "recovery_code": "7G2K-9QXM-T4RA-1VZC-8HWN-3PJD"
}))]
pub struct RecoveryCodeConfirmationRequired {
    #[schema(inline)]
    pub status: RecoveryCodeConfirmationRequiredStatus,
    /// The Bearer token of the confirmation; always use the latest one.
    #[schema(value_type = String)]
    pub flow_token: Secret,
    /// Seconds until `flow_token` expires.
    #[schema(example = 600)]
    pub expires_in: i64,
    /// The new recovery code, 24 characters of Crockford base32 in groups
    /// of four. Shown once.
    #[schema(value_type = String, example = "7G2K-9QXM-T4RA-1VZC-8HWN-3PJD", pattern = "^[0-9A-Z]{4}(?:-[0-9A-Z]{4}){5}$")]
    pub recovery_code: Secret,
}

/// The answer of a login step: the next step, or the session. Narrow it on
/// `status`. (The mapping's keys are literals because the derive cannot take
/// paths there; a test keeps them equal to the status constants.)
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
#[schema(discriminator(property_name = "status", mapping(
    ("mfa_required" = "#/components/schemas/MfaRequired"),
    ("enrollment_required" = "#/components/schemas/EnrollmentRequired"),
    ("recovery_code_confirmation_required" = "#/components/schemas/RecoveryCodeConfirmationRequired"),
    ("authenticated" = "#/components/schemas/TokenResponse"),
)))]
pub enum LoginStep {
    MfaRequired(MfaRequired),
    EnrollmentRequired(EnrollmentRequired),
    RecoveryCodeConfirmationRequired(RecoveryCodeConfirmationRequired),
    Authenticated(TokenResponse),
}

impl LoginStep {
    /// The `status` this answer carries (for metrics).
    pub fn status(&self) -> &'static str {
        match self {
            LoginStep::MfaRequired(_) => MfaRequiredStatus::VALUE,
            LoginStep::EnrollmentRequired(_) => EnrollmentRequiredStatus::VALUE,
            LoginStep::RecoveryCodeConfirmationRequired(_) => {
                RecoveryCodeConfirmationRequiredStatus::VALUE
            }
            LoginStep::Authenticated(_) => AuthenticatedStatus::VALUE,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"flow_token": "flw_Yp0wJ0m8cG2eM5qF3sQ1dT7uV9xZ4aB6cD8eF0gH2iJ", "code": "492039"}))]
pub struct TotpLoginRequest {
    #[schema(value_type = String)]
    pub flow_token: Secret,
    /// The 6-digit code of the authenticator app (spaces allowed).
    #[schema(value_type = String, example = "492039", pattern = r"^\s*(?:[0-9]\s*){6}$")]
    pub code: Secret,
    /// Remember this browser once the second factor is proven, if the
    /// account allows it (`remember_device_days` > 0): the `authenticated`
    /// answer then carries `device_token`.
    #[serde(default)]
    pub remember_device: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"flow_token": "flw_Yp0wJ0m8cG2eM5qF3sQ1dT7uV9xZ4aB6cD8eF0gH2iJ", "recovery_code": "7G2K-9QXM-T4RA-1VZC-8HWN-3PJD"}))]
pub struct RecoveryLoginRequest {
    #[schema(value_type = String)]
    pub flow_token: Secret,
    /// Case-insensitive; spaces and hyphens are ignored.
    #[schema(value_type = String, example = "7G2K-9QXM-T4RA-1VZC-8HWN-3PJD")]
    pub recovery_code: Secret,
    /// Remember this browser once the new recovery code is confirmed, if the
    /// account allows it (`remember_device_days` > 0): the `authenticated`
    /// answer then carries `device_token`.
    #[serde(default)]
    pub remember_device: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_login_step_is_narrowed_by_the_stored_name_of_its_state() {
        let schema = serde_json::to_value(<LoginStep as utoipa::PartialSchema>::schema()).unwrap();
        let mapping = schema["discriminator"]["mapping"].as_object().unwrap();
        let keys: Vec<&str> = mapping.keys().map(String::as_str).collect();
        let mut expected = vec![
            FlowState::Mfa.as_str(),
            FlowState::Enrollment.as_str(),
            FlowState::Confirm.as_str(),
            AuthenticatedStatus::VALUE,
        ];
        expected.sort_unstable();
        assert_eq!(keys, expected);
        assert_eq!(schema["discriminator"]["propertyName"], "status");
        assert_eq!(PasswordRequiredStatus::VALUE, FlowState::Password.as_str());
        assert_eq!(PasskeyRequiredStatus::VALUE, FlowState::Passkey.as_str());
    }
}
