//! Bodies of the enrollment and second-factor endpoints.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::service::StartedTotp;
use crate::crypto::qr::{self, Format};
use crate::crypto::totp;
use crate::crypto::Secret;
use crate::error::ApiError;
use crate::login::dto::{EnrollmentRequiredStatus, RecoveryCodeConfirmationRequiredStatus};
use crate::users::TwofaStatus;

crate::constant_string!(
    /// The TOTP hash algorithm, `SHA1`: what every authenticator app supports.
    Sha1Algorithm = "SHA1"
);

/// A new authenticator secret, waiting for its first code: `status` is
/// `enrollment_required`; send the first code to `.../totp/verify`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "status": "enrollment_required",
    "flow_token": "flw_Yp0wJ0m8cG2eM5qF3sQ1dT7uV9xZ4aB6cD8eF0gH2iJ",
    "expires_in": 600,
    "secret": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
    "secret_grouped": "JBSW Y3DP EHPK 3PXP JBSW Y3DP EHPK 3PXP",
    "otpauth_uri": "otpauth://totp/twofold:ada%40example.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=twofold&algorithm=SHA1&digits=6&period=30",
    "issuer": "twofold",
    "account_name": "ada@example.com",
    "algorithm": "SHA1",
    "digits": 6,
    "period": 30,
    "qr_png_url": "http://localhost:8080/v1/auth/enrollment/totp/qr.png",
    "qr_svg_url": "http://localhost:8080/v1/auth/enrollment/totp/qr.svg",
    "qr_png_data_uri": "data:image/png;base64,iVBORw0KGgo...",
    "qr_svg_data_uri": "data:image/svg+xml;base64,PD94bWwg..."
}))]
pub struct TotpEnrollment {
    #[schema(inline)]
    pub status: EnrollmentRequiredStatus,
    /// The flow token to keep using (login-flow enrollment only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub flow_token: Option<Secret>,
    /// Seconds this enrollment stays open.
    pub expires_in: i64,
    /// Base32 (RFC 4648, no padding) for manual entry.
    #[schema(value_type = String)]
    pub secret: Secret,
    /// The same secret in groups of four, easier to type.
    #[schema(value_type = String)]
    pub secret_grouped: Secret,
    #[schema(value_type = String)]
    pub otpauth_uri: Secret,
    pub issuer: String,
    pub account_name: String,
    #[schema(inline)]
    pub algorithm: Sha1Algorithm,
    #[schema(example = 6)]
    pub digits: u32,
    #[schema(example = 30)]
    pub period: u64,
    /// PNG of the QR code; fetch with the same `Authorization` header.
    pub qr_png_url: String,
    /// SVG of the QR code; fetch with the same `Authorization` header.
    pub qr_svg_url: String,
    /// The PNG inline, for an `<img src>`.
    #[schema(value_type = String)]
    pub qr_png_data_uri: Secret,
    /// The SVG inline, for an `<img src>`.
    #[schema(value_type = String)]
    pub qr_svg_data_uri: Secret,
}

impl TotpEnrollment {
    /// The answer to a started enrollment; `qr_url` is where the handler
    /// serves this owner's QR images, without the `.png`/`.svg` extension.
    pub fn new(started: StartedTotp, qr_url: &str) -> Result<Self, ApiError> {
        let data_uri = |format: Format| -> Result<Secret, ApiError> {
            let image =
                qr::render(&started.uri, format, qr::DEFAULT_SIZE).map_err(ApiError::internal)?;
            let (mime, base64) = (format.content_type(), STANDARD.encode(image));
            Ok(Secret::new(format!("data:{mime};base64,{base64}")))
        };
        let qr_png_data_uri = data_uri(Format::Png)?;
        let qr_svg_data_uri = data_uri(Format::Svg)?;
        Ok(Self {
            status: EnrollmentRequiredStatus,
            flow_token: started.flow_token,
            expires_in: started.expires_in,
            secret_grouped: Secret::new(started.secret.grouped()),
            secret: Secret::new(started.secret.base32()),
            otpauth_uri: Secret::new(started.uri),
            issuer: started.issuer,
            account_name: started.account_name,
            algorithm: Sha1Algorithm,
            digits: totp::DIGITS,
            period: totp::STEP_SECS,
            qr_png_url: format!("{qr_url}.{}", Format::Png.extension()),
            qr_svg_url: format!("{qr_url}.{}", Format::Svg.extension()),
            qr_png_data_uri,
            qr_svg_data_uri,
        })
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"code": "492039"}))]
pub struct CodeRequest {
    /// The 6-digit code the authenticator app shows (spaces allowed).
    #[schema(value_type = String, example = "492039", pattern = r"^\s*(?:[0-9]\s*){6}$")]
    pub code: Secret,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"confirmed": true}))]
pub struct ConfirmRequest {
    #[schema(schema_with = crate::openapi::must_be_true)]
    pub confirmed: bool,
    /// Only where the confirmation ends a login
    /// (`/v1/auth/enrollment/recovery-code/confirm`): remember this browser,
    /// if the account allows it (`remember_device_days` > 0); the
    /// `authenticated` answer then carries `device_token`. Ignored at a
    /// signed-in user's confirmation, which ends no login.
    #[serde(default)]
    pub remember_device: bool,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct QrParams {
    /// Approximate width in pixels (120–1200, default 320).
    #[param(minimum = 120, maximum = 1200, default = 320)]
    pub size: Option<u32>,
}

/// A new recovery code for a signed-in user, shown this once.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "status": "recovery_code_confirmation_required",
    "recovery_code": "7G2K-9QXM-T4RA-1VZC-8HWN-3PJD"
}))]
pub struct RecoveryCodeIssued {
    #[schema(inline)]
    pub status: RecoveryCodeConfirmationRequiredStatus,
    /// 24 characters of Crockford base32 in groups of four. Shown once;
    /// confirm with `POST /v1/me/2fa/recovery-code/confirm`.
    #[schema(value_type = String)]
    pub recovery_code: Secret,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RequiredBy {
    /// An admin enabled 2FA for this user (or reset it).
    Admin,
    /// The account enforces 2FA for everyone (from `paying_since + 24h`).
    Account,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TotpMethod {
    #[schema(format = DateTime)]
    pub enrolled_at: String,
    #[schema(format = DateTime)]
    pub last_used_at: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecoveryCodeState {
    #[schema(format = DateTime)]
    pub created_at: String,
}

/// The signed-in user's second factor.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "status": "enabled",
    "required": true,
    "required_by": ["account"],
    "enforced_from": "2026-11-29T09:00:00Z",
    "methods": ["totp", "recovery_code"],
    "totp": {"enrolled_at": "2026-11-28T09:05:00Z", "last_used_at": "2026-11-28T09:05:00Z"},
    "recovery_code": {"created_at": "2026-11-28T09:05:00Z"},
    "locked_until": null
}))]
pub struct TwofaOverview {
    pub status: TwofaStatus,
    pub required: bool,
    pub required_by: Vec<RequiredBy>,
    /// When the account's enforcement starts (or started); null on trial.
    #[schema(format = DateTime)]
    pub enforced_from: Option<String>,
    /// Second factors usable at login.
    pub methods: Vec<crate::login::dto::Method>,
    pub totp: Option<TotpMethod>,
    pub recovery_code: Option<RecoveryCodeState>,
    /// Set while too many wrong codes lock the second factor.
    #[schema(format = DateTime)]
    pub locked_until: Option<String>,
}
