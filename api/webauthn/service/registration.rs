//! Adding a passkey for a signed-in user: the creation options (which
//! exclude the user's existing credentials) and the check of the
//! authenticator's answer. Both need a recently proven second factor; the
//! ceremony state waits in the database between the two calls.

use std::net::IpAddr;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use webauthn_rs::prelude::{PasskeyRegistration, RegisterPublicKeyCredential};

use super::{
    creation_options, internal, not_started, passkeys, registration_failed,
    require_fresh_second_factor, rp, view, CEREMONY_TTL_SECS,
};
use crate::audit::detail::CredentialChanged;
use crate::audit::Detail;
use crate::audit::{self, kind, Event};
use crate::error::{ApiError, ErrorCode};
use crate::sessions::service::Caller;
use crate::state::AppState;
use crate::webauthn::ceremony::CeremonyKind;
use crate::webauthn::dto::{CredentialView, RegistrationOptions};
use crate::webauthn::repo::{self, ChallengeOwner, Credential, Inserted};

pub async fn registration_options(
    app: &AppState,
    caller: &Caller,
) -> Result<RegistrationOptions, ApiError> {
    let now = app.now();
    require_fresh_second_factor(caller, now)?;
    let user = caller.user.clone();
    let existing = {
        let id = user.id.clone();
        app.db.run(move |conn| repo::credentials(conn, &id)).await?
    };
    let exclude = passkeys(&existing)?
        .iter()
        .map(|p| p.cred_id().clone())
        .collect::<Vec<_>>();
    // Discoverable where the authenticator can, so the same credential
    // also serves passwordless login.
    let (options, state) = creation_options(app, &user, Some(exclude), "preferred")?;
    let owner = ChallengeOwner::Session(caller.session.id.clone());
    app.db
        .run(move |conn| {
            repo::put_challenge(
                conn,
                CeremonyKind::Registration,
                &owner,
                &state,
                now + CEREMONY_TTL_SECS,
            )
        })
        .await?;
    Ok(RegistrationOptions {
        options,
        expires_in: CEREMONY_TTL_SECS,
    })
}

pub async fn register(
    app: &AppState,
    caller: &Caller,
    credential: &RegisterPublicKeyCredential,
    name: &str,
    ip: IpAddr,
) -> Result<CredentialView, ApiError> {
    require_fresh_second_factor(caller, app.now())?;
    let name = crate::text::validate("name", name, 1, 100)?;
    let now = app.now();
    let owner = ChallengeOwner::Session(caller.session.id.clone());
    let saved = app
        .db
        .run(move |conn| repo::take_challenge(conn, CeremonyKind::Registration, &owner, now))
        .await?
        .ok_or_else(not_started)?;
    let registration: PasskeyRegistration = serde_json::from_str(&saved).map_err(internal)?;
    let passkey = rp(app)?
        .finish_passkey_registration(credential, &registration)
        .map_err(registration_failed)?;
    let row = Credential {
        id: uuid::Uuid::now_v7().to_string(),
        user_id: caller.user.id.clone(),
        credential_id: URL_SAFE_NO_PAD.encode(passkey.cred_id().as_ref()),
        passkey: serde_json::to_string(&passkey).map_err(internal)?,
        name: name.to_owned(),
        sign_count: 0,
        backup_eligible: false,
        backup_state: false,
        created_at: now,
        last_used_at: None,
    };
    let (user, saved_row) = (caller.user.clone(), row.clone());
    let session = caller.session.id.clone();
    app.db
        .run(move |conn| {
            crate::db::write_tx(conn, |conn| {
                if repo::insert(conn, &saved_row)? == Inserted::AlreadyRegistered {
                    return Err(credential_exists());
                }
                let detail = Detail::Credential(CredentialChanged {
                    credential: saved_row.id.clone(),
                    name: saved_row.name.clone(),
                    session,
                });
                audit::record(
                    conn,
                    Event::of_user(&user, kind::WEBAUTHN_REGISTERED, ip, detail),
                    now,
                )
            })
        })
        .await?;
    Ok(view(row))
}

/// The authenticator's credential id is stored already: registering it
/// twice (for this user or another) would let one key stand for two.
pub(super) fn credential_exists() -> ApiError {
    ApiError::Conflict {
        code: ErrorCode::CredentialExists,
        detail: "This authenticator is already registered.".to_owned(),
    }
}
