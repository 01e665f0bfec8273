//! Signing in with an assertion: as the second factor of a flow that has
//! passed the password, or passwordless with a discoverable passkey. Each
//! try is reserved against the attempt limits before anything is verified,
//! and the sign counter may only move forward.

use std::net::IpAddr;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use webauthn_rs::prelude::{
    DiscoverableAuthentication, DiscoverableKey, Passkey, PasskeyAuthentication,
    PublicKeyCredential,
};

use super::{internal, not_started, passkeys, rp, CEREMONY_TTL_SECS};
use crate::attempts::{self, UserCounter};
use crate::audit::detail::{CounterRegression, FailedFactor};
use crate::audit::Detail;
use crate::audit::{self, kind, Event};
use crate::crypto::{new_token, sha256_hex, Secret};
use crate::error::{ApiError, ErrorCode};
use crate::ids::{FlowId, UserId};
use crate::login::dto::LoginStep;
use crate::login::dto::{MfaRequiredStatus, PasskeyRequiredStatus};
use crate::login::repo::Flow;
use crate::login::service::{self as login, state};
use crate::sessions::service as sessions;
use crate::state::AppState;
use crate::twofa::service as twofa;
use crate::users::User;
use crate::webauthn::ceremony::CeremonyKind;
use crate::webauthn::dto::{PasskeyRequired, WebauthnMfaOptions};
use crate::webauthn::repo::{self, ChallengeOwner, Credential};

/// A verified assertion: matches it to the user's stored credential,
/// advances the sign counter (refusing and auditing one that went
/// backwards) and updates the backup flags.
async fn record_assertion(
    app: &AppState,
    user: &User,
    rows: Vec<Credential>,
    result: &webauthn_rs::prelude::AuthenticationResult,
    ip: IpAddr,
) -> Result<(), ApiError> {
    let now = app.now();
    let cred_id = URL_SAFE_NO_PAD.encode(result.cred_id().as_ref());
    let row = rows
        .into_iter()
        .find(|c| c.credential_id == cred_id)
        .ok_or(ApiError::WebauthnFailed)?;
    let mut passkey: Passkey = serde_json::from_str(&row.passkey).map_err(internal)?;
    passkey.update_credential(result);
    let json = serde_json::to_string(&passkey).map_err(internal)?;
    let counter = i64::from(result.counter());
    let (backup_eligible, backup_state) = (result.backup_eligible(), result.backup_state());
    let user = user.clone();
    let advanced = app
        .db
        .run(move |conn| {
            if repo::record_use(conn, &row, &json, counter, backup_state, now)? {
                if backup_eligible && !row.backup_eligible {
                    repo::mark_backup_eligible(conn, &row.id)?;
                }
                return Ok(true);
            }
            let detail = Detail::CounterRegression(CounterRegression {
                credential: row.id.clone(),
                stored: row.sign_count,
                presented: counter,
            });
            audit::record(
                conn,
                Event::of_user(&user, kind::WEBAUTHN_COUNTER_REGRESSION, ip, detail),
                now,
            )?;
            Ok(false)
        })
        .await?;
    if advanced {
        Ok(())
    } else {
        Err(ApiError::WebauthnFailed)
    }
}

/// Options for the second factor of a flow at `mfa_required`.
pub async fn second_factor_options(
    app: &AppState,
    flow_token: Secret,
    ip: IpAddr,
) -> Result<WebauthnMfaOptions, ApiError> {
    let now = app.now();
    let (flow, user) = login::load_user(app, &flow_token, state::MFA, ip).await?;
    let rows = {
        let id = user.id.clone();
        app.db.run(move |conn| repo::credentials(conn, &id)).await?
    };
    if rows.is_empty() {
        return Err(ApiError::Conflict {
            code: ErrorCode::NoWebauthnCredentials,
            detail: "This user has no WebAuthn credential; use another method.".to_owned(),
        });
    }
    let (options, authentication) = rp(app)?
        .start_passkey_authentication(&passkeys(&rows)?)
        .map_err(internal)?;
    let state = serde_json::to_string(&authentication).map_err(internal)?;
    let owner = ChallengeOwner::Flow(flow.id.clone());
    app.db
        .run(move |conn| {
            repo::put_challenge(
                conn,
                CeremonyKind::SecondFactor,
                &owner,
                &state,
                now + CEREMONY_TTL_SECS,
            )
        })
        .await?;
    Ok(WebauthnMfaOptions {
        status: MfaRequiredStatus,
        flow_token,
        expires_in: (flow.expires_at - now).max(0),
        options,
    })
}

/// The second factor: an assertion from one of the user's credentials.
pub async fn second_factor(
    app: &AppState,
    flow_token: Secret,
    credential: &PublicKeyCredential,
    remember_device: bool,
    ip: IpAddr,
) -> Result<LoginStep, ApiError> {
    let now = app.now();
    let (mut flow, user) = login::load_user(app, &flow_token, state::MFA, ip).await?;
    flow.remember_device = remember_device;
    let owner = ChallengeOwner::Flow(flow.id.clone());
    let saved = app
        .db
        .run(move |conn| repo::take_challenge(conn, CeremonyKind::SecondFactor, &owner, now))
        .await?
        .ok_or_else(not_started)?;
    let authentication: PasskeyAuthentication = serde_json::from_str(&saved).map_err(internal)?;
    let attempt = twofa::reserve(app, &user.id, ip, Some(flow.id.clone())).await?;
    let verified = match rp(app)?.finish_passkey_authentication(credential, &authentication) {
        Ok(result) => {
            let rows = {
                let id = user.id.clone();
                app.db.run(move |conn| repo::credentials(conn, &id)).await?
            };
            record_assertion(app, &user, rows, &result, ip).await
        }
        Err(_) => Err(ApiError::WebauthnFailed),
    };
    match verified {
        Ok(()) => twofa::verified(app, attempt).await?,
        // `failed` answers with the error of a failure count it could not
        // write, in place of `wrong`: returned as is, never swallowed.
        Err(ApiError::WebauthnFailed) => {
            let wrong = ApiError::WebauthnFailed;
            return Err(
                twofa::failed(app, attempt, &user, ip, FailedFactor::Webauthn, wrong).await,
            );
        }
        Err(other) => return Err(other),
    }
    login::finish_second_factor(app, flow, user, login::Factor::Key, ip, |_| Ok(())).await
}

/// Options for passwordless login: a new flow, no user named yet.
pub async fn passkey_options(
    app: &AppState,
    ip: IpAddr,
    user_agent: Option<String>,
) -> Result<PasskeyRequired, ApiError> {
    let now = app.now();
    let (options, authentication) = rp(app)?
        .start_discoverable_authentication()
        .map_err(internal)?;
    let state = serde_json::to_string(&authentication).map_err(internal)?;
    let token = new_token("flw_");
    let flow = Flow {
        id: FlowId::new(),
        token_hash: sha256_hex(token.expose()),
        user_id: None,
        state: state::PASSKEY.to_owned(),
        failed_attempts: 0,
        created_at: now,
        expires_at: now + CEREMONY_TTL_SECS,
        second_factor: None,
        client_address: None,
        unknown_subject: None,
        user_agent,
        remember_device: false,
    };
    let owner = ChallengeOwner::Flow(flow.id.clone());
    let limit = app.config.address_flow_limit;
    app.db
        .run(move |conn| {
            // Bounded per address, counted outside a transaction (see
            // `insert_bounded`); a flow whose challenge failed to save is
            // refused later as expired.
            login::open_flow(conn, flow, ip, limit, now)?;
            repo::put_challenge(
                conn,
                CeremonyKind::Passkey,
                &owner,
                &state,
                now + CEREMONY_TTL_SECS,
            )
        })
        .await?;
    Ok(PasskeyRequired {
        status: PasskeyRequiredStatus,
        flow_token: token,
        expires_in: CEREMONY_TTL_SECS,
        options,
    })
}

/// Passwordless login with a discoverable credential (user verification
/// required): `aal` 2, `amr` `["hwk"]`. The account's rules (IP allow-list,
/// attempt limits) apply as for any login.
pub async fn passkey(
    app: &AppState,
    flow_token: Secret,
    credential: &PublicKeyCredential,
    ip: IpAddr,
) -> Result<crate::sessions::dto::TokenResponse, ApiError> {
    let now = app.now();
    let (flow, _) = login::load(app, &flow_token, state::PASSKEY).await?;
    // The challenge is single use: taken before anything else, so one flow
    // is one try, whoever the assertion names.
    let owner = ChallengeOwner::Flow(flow.id.clone());
    let saved = app
        .db
        .run(move |conn| repo::take_challenge(conn, CeremonyKind::Passkey, &owner, now))
        .await?
        .ok_or(ApiError::FlowExpired)?;
    let authentication: DiscoverableAuthentication =
        serde_json::from_str(&saved).map_err(internal)?;
    let limit = app.config.address_failure_limit;
    let attempt = app
        .db
        .run(move |conn| attempts::reserve(conn, None, None, ip, limit, now))
        .await?;
    // Until a signature verifies against a credential the named user really
    // owns, the `userHandle` is only the caller's word: a failure counts
    // against the flow and the address, never the user, writes nothing into
    // the user's account and answers like an unknown credential.
    let verified = match rp(app)?.identify_discoverable_authentication(credential) {
        Ok((handle, _)) => {
            let user_id = UserId::from(handle.to_string());
            let (user, rows) = app
                .db
                .run(move |conn| {
                    let user = crate::users::repo::find(conn, &user_id)?;
                    let rows = repo::credentials(conn, &user_id)?;
                    Ok((user, rows))
                })
                .await?;
            let keys: Vec<DiscoverableKey> =
                passkeys(&rows)?.iter().map(DiscoverableKey::from).collect();
            match (
                user,
                rp(app)?.finish_discoverable_authentication(credential, authentication, &keys),
            ) {
                // A deactivated user's passkey fails like an unknown one.
                (Some(user), Ok(result)) if !keys.is_empty() && user.is_active() => {
                    Some((user, rows, result))
                }
                _ => None,
            }
        }
        Err(_) => None,
    };
    let Some((user, rows, result)) = verified else {
        let flow_id = flow.id.clone();
        // Whether this delete or a racing one ended the flow does not
        // matter: its challenge is taken, so it cannot be tried again. The
        // failure's own answer is kept, so a counter that could not be
        // written (or a limit that was reached) is what the client hears.
        let failure = app
            .db
            .run(move |conn| {
                crate::login::repo::finish(conn, &flow_id, state::PASSKEY)?;
                attempt.failed(conn, now)
            })
            .await?;
        app.metrics.login("passkey", "webauthn_failed");
        return Err(failure.answer(ApiError::WebauthnFailed, now));
    };
    twofa::verified(app, attempt).await?;
    // Proven: now the user's own rules apply (lock, allow-list).
    let user_id = user.id.clone();
    let counter = app
        .db
        .run(move |conn| attempts::repo::user_counter(conn, UserCounter::SecondFactor, &user_id))
        .await?;
    if let Some(until) = counter.locked_until.filter(|until| *until > now) {
        return Err(ApiError::TooManyAttempts {
            retry_after: u64::try_from(until - now).unwrap_or(1),
        });
    }
    login::allowed(app, &user, ip).await?;
    record_assertion(app, &user, rows, &result, ip).await?;
    let opened = app
        .db
        .run(move |conn| {
            crate::db::write_tx(conn, |conn| {
                attempts::repo::reset_user(conn, UserCounter::SecondFactor, &user.id)?;
                // The passkey just used is one.
                let known = login::Known {
                    has_passkey: Some(true),
                    ..login::Known::default()
                };
                login::complete(conn, &flow, &user, sessions::PASSKEY_ONLY, known, ip, now)
            })
        })
        .await?;
    app.metrics.login("passkey", "authenticated");
    sessions::tokens(app, opened, now)
}
