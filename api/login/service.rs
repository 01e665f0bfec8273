//! Login rules.

use super::dto::{FlowResponse, FlowStatus};
use super::repo::{self, Flow};
use crate::crypto::{new_token, sha256_hex, Secret};
use crate::error::ApiError;
use crate::sessions::dto::TokenResponse;
use crate::sessions::service::{self as sessions, PASSWORD_ONLY};
use crate::state::AppState;
use crate::users::{self, normalize_email};

/// Lifetime of a flow token.
pub const FLOW_TTL_SECS: i64 = 10 * 60;
/// Wrong passwords one flow may take before it is dead.
pub const PASSWORD_ATTEMPTS_PER_FLOW: i32 = 5;

const PASSWORD_REQUIRED: &str = "password_required";

/// Step 1: the email. Known and unknown emails get the same answer after the
/// same work (one lookup, one insert); an unknown one fails at the password.
pub async fn start(state: &AppState, email: &str) -> Result<FlowResponse, ApiError> {
    let (_, normalized) = normalize_email("email", email)?;
    let now = state.now();
    let token = new_token("flw_");
    let token_hash = sha256_hex(token.expose());
    state
        .db
        .run(move |conn| {
            let user = users::repo::find_by_email(conn, &normalized)?;
            repo::insert(
                conn,
                &Flow {
                    id: uuid::Uuid::new_v4().to_string(),
                    token_hash,
                    user_id: user.map(|u| u.id),
                    state: PASSWORD_REQUIRED.to_owned(),
                    failed_attempts: 0,
                    created_at: now,
                    expires_at: now + FLOW_TTL_SECS,
                },
            )
        })
        .await?;
    Ok(FlowResponse {
        status: FlowStatus::PasswordRequired,
        flow_token: token,
        expires_in: FLOW_TTL_SECS,
    })
}

/// Step 2: the password.
pub async fn password(
    state: &AppState,
    flow_token: Secret,
    password: Secret,
) -> Result<TokenResponse, ApiError> {
    let now = state.now();
    let token_hash = sha256_hex(flow_token.expose());
    let (flow, user) = state
        .db
        .run(move |conn| {
            let flow = repo::find_at(conn, &token_hash, PASSWORD_REQUIRED, now)?
                .ok_or(ApiError::FlowExpired)?;
            let user = match &flow.user_id {
                Some(id) => users::repo::find(conn, id)?,
                None => None,
            };
            Ok((flow, user))
        })
        .await?;

    let stored_hash = user.as_ref().map(|u| u.password_hash.clone());
    let matched = state.passwords.verify(stored_hash, password).await?;
    let (true, Some(user)) = (matched, user) else {
        let flow_id = flow.id.clone();
        state
            .db
            .run(move |conn| repo::record_failure(conn, &flow_id, PASSWORD_ATTEMPTS_PER_FLOW))
            .await?;
        state.metrics.login("password", "invalid_credentials");
        return Err(ApiError::InvalidCredentials);
    };

    let opened = state
        .db
        .run(move |conn| {
            crate::db::write_tx(conn, |conn| {
                if !repo::finish(conn, &flow.id, PASSWORD_REQUIRED)? {
                    return Err(ApiError::FlowExpired);
                }
                users::repo::touch_login(conn, &user.id, now)?;
                sessions::open(conn, &user, PASSWORD_ONLY, now)
            })
        })
        .await?;
    state.metrics.login("password", "authenticated");
    sessions::tokens(state, opened, now)
}
