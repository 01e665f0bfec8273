//! WebAuthn rules, one file per use case: [`registration`] adds a passkey
//! for a signed-in user, [`enrollment`] enrolls one inside the login flow,
//! [`credentials`] lists and removes the user's
//! passkeys, and [`authentication`] checks an assertion, as the second
//! factor after the password or as passwordless passkey login. This module
//! holds what they share: the relying party, the freshness rule for
//! changing credentials, and the translation of stored rows. It never runs
//! SQL itself; that is `super::repo`'s.

pub mod authentication;
pub mod credentials;
pub mod enrollment;
pub mod registration;

pub use authentication::{passkey, passkey_options, second_factor, second_factor_options};
pub use credentials::{list, remove};
pub use registration::{register, registration_options};

use webauthn_rs::prelude::Passkey;

use super::dto::CredentialView;
use super::repo::Credential;
use crate::clock::rfc3339;
use crate::error::{ApiError, ErrorCode};
use crate::sessions::service::Caller;
use crate::state::AppState;
use crate::users::User;

/// How long a ceremony may take.
pub const CEREMONY_TTL_SECS: i64 = 5 * 60;

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::internal(format!("webauthn state: {e}"))
}

fn view(c: Credential) -> CredentialView {
    CredentialView {
        id: c.id,
        name: c.name,
        created_at: rfc3339(c.created_at),
        last_used_at: c.last_used_at.map(rfc3339),
        backup_eligible: c.backup_eligible,
        backup_state: c.backup_state,
    }
}

fn user_handle(user: &User) -> Result<uuid::Uuid, ApiError> {
    uuid::Uuid::parse_str(user.id.as_str()).map_err(internal)
}

fn passkeys(rows: &[Credential]) -> Result<Vec<Passkey>, ApiError> {
    rows.iter()
        .map(|c| serde_json::from_str(&c.passkey).map_err(internal))
        .collect()
}

/// The relying party, or 409 `webauthn_unavailable` when the configuration
/// has none (an IP-address public URL without `TWOFOLD_RP_ID`).
fn rp(app: &AppState) -> Result<&webauthn_rs::Webauthn, ApiError> {
    app.webauthn.as_deref().ok_or_else(|| ApiError::Conflict {
        code: ErrorCode::WebauthnUnavailable,
        detail: "WebAuthn is not configured: TWOFOLD_PUBLIC_URL must use a host name (see TWOFOLD_RP_ID)."
            .to_owned(),
    })
}

/// Adding or removing a passkey changes how the account can be entered, so
/// it needs what TOTP re-enrollment needs: a second factor proven in the
/// last 15 minutes. An old aal-2 session kept alive by refresh (a stolen
/// one, say) must not plant a passkey that outlives a password change.
fn require_fresh_second_factor(caller: &Caller, now: i64) -> Result<(), ApiError> {
    if caller.session.aal < 2 {
        return Err(ApiError::SecondFactorRequired);
    }
    if !caller.fresh_second_factor(now) {
        return Err(ApiError::ReauthenticationRequired);
    }
    Ok(())
}

/// The authenticator's answer to a registration did not verify.
/// Creation options for `user` (excluding `exclude`) that ask for a
/// discoverable credential as `resident_key` says (`required` or
/// `preferred`), and the ceremony state to keep until the answer.
fn creation_options(
    app: &AppState,
    user: &User,
    exclude: Option<Vec<webauthn_rs::prelude::CredentialID>>,
    resident_key: &str,
) -> Result<(serde_json::Value, String), ApiError> {
    let (options, registration) = rp(app)?
        .start_passkey_registration(user_handle(user)?, &user.email, &user.name, exclude)
        .map_err(internal)?;
    let mut options = serde_json::to_value(options).map_err(internal)?;
    if let Some(selection) = options
        .pointer_mut("/publicKey/authenticatorSelection")
        .and_then(serde_json::Value::as_object_mut)
    {
        selection.insert("residentKey".to_owned(), resident_key.into());
        selection.insert(
            "requireResidentKey".to_owned(),
            (resident_key == "required").into(),
        );
    }
    let state = serde_json::to_string(&registration).map_err(internal)?;
    Ok((options, state))
}

fn registration_failed(e: impl std::fmt::Display) -> ApiError {
    ApiError::BadRequest {
        code: ErrorCode::RegistrationFailed,
        detail: format!("The authenticator's response was not accepted: {e}."),
    }
}

fn not_started() -> ApiError {
    ApiError::Conflict {
        code: ErrorCode::CeremonyNotStarted,
        detail: "No WebAuthn ceremony is in progress (or it expired); request options first."
            .to_owned(),
    }
}
