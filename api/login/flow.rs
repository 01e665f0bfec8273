//! A login flow's life: opening one (bounded per client address), loading
//! it at the step its token claims, moving it to the next step under a new
//! token, and completing it into a session.
//!
//! The flow row is the only state carried between steps. Every move is one
//! conditional write in [`super::repo`] that names the state the flow was
//! loaded at, so a flow token is single use and of two racing requests only
//! one advances the flow; this module must never read a flow and write it
//! back in two steps.

use std::net::IpAddr;

use super::dto::{
    EnrollmentMethod, EnrollmentRequired, EnrollmentRequiredStatus, LoginStep, Method, MfaRequired,
    MfaRequiredStatus, PasswordRequired, PasswordRequiredStatus, RecoveryCodeConfirmationRequired,
    RecoveryCodeConfirmationRequiredStatus,
};
use super::flow_state::FlowState;
use super::repo::{self, Flow};
use crate::audit::detail::LoginSucceeded;
use crate::audit::Detail;
use crate::audit::{self, kind, Event};
use crate::crypto::{new_token, sha256_hex, Secret};
use crate::db::{Db, DbConn};
use crate::error::ApiError;
use crate::sessions::amr::Factor;
use crate::sessions::service::{self as sessions, Assurance, Opened};
use crate::state::AppState;
use crate::twofa::Owner;
use crate::users::{self, User};

/// Lifetime of a flow token; each step gets this long.
pub const FLOW_TTL_SECS: i64 = 10 * 60;
/// No login, however many steps, stays open longer than this.
pub const FLOW_MAX_SECS: i64 = 30 * 60;

/// When the token of a step taken at `now` expires: a step's full
/// [`FLOW_TTL_SECS`], but never past [`FLOW_MAX_SECS`] after the flow
/// opened, so a login that keeps taking steps cannot stay open for ever.
pub fn step_expires_at(created_at: i64, now: i64) -> i64 {
    (now + FLOW_TTL_SECS).min(created_at + FLOW_MAX_SECS)
}

/// Opens a flow for `ip`, or answers 429 while that address holds `limit`
/// (`TWOFOLD_ADDRESS_FLOW_LIMIT`) open flows: anonymous calls (the email
/// step, passwordless options) insert rows, so they are bounded where they
/// come from. Finished flows do not count; an abandoned one counts until it
/// expires. The answer depends on the address only, never on the email.
pub fn open_flow(
    conn: &mut DbConn,
    mut flow: Flow,
    ip: IpAddr,
    limit: i64,
    now: i64,
) -> Result<(), ApiError> {
    flow.client_address = Some(crate::net::address_bucket(&ip.to_string()));
    repo::insert_bounded(conn, &flow, limit, now)?.map_err(|retry_after| {
        ApiError::TooManyAttempts {
            retry_after: u64::try_from(retry_after).unwrap_or(1),
        }
    })
}

/// The answer that sends the client to the password step.
pub(super) fn password_required(flow_token: Secret) -> PasswordRequired {
    PasswordRequired {
        status: PasswordRequiredStatus,
        flow_token,
        expires_in: FLOW_TTL_SECS,
    }
}

/// The answer that asks for one of `methods`.
pub(super) fn mfa_required(flow_token: Secret, methods: Vec<Method>) -> LoginStep {
    LoginStep::MfaRequired(MfaRequired {
        status: MfaRequiredStatus,
        flow_token,
        expires_in: FLOW_TTL_SECS,
        methods,
    })
}

/// The answer that sends the client to enroll a second factor: an
/// authenticator app, or a passkey where WebAuthn is available.
pub(super) fn enrollment_required(flow_token: Secret, webauthn: bool) -> LoginStep {
    let mut enrollment_methods = vec![EnrollmentMethod::Totp];
    if webauthn {
        enrollment_methods.push(EnrollmentMethod::Webauthn);
    }
    LoginStep::EnrollmentRequired(EnrollmentRequired {
        status: EnrollmentRequiredStatus,
        flow_token,
        expires_in: FLOW_TTL_SECS,
        enrollment_methods,
    })
}

/// The answer that shows a new recovery code to confirm.
pub fn recovery_code_confirmation_required(
    flow_token: Secret,
    recovery_code: Secret,
) -> RecoveryCodeConfirmationRequired {
    RecoveryCodeConfirmationRequired {
        status: RecoveryCodeConfirmationRequiredStatus,
        flow_token,
        expires_in: FLOW_TTL_SECS,
        recovery_code,
    }
}

/// Where a step inside a transaction led: another step, or a session.
pub(super) enum Step {
    Next(LoginStep),
    Done(Box<Opened>),
}

/// The flow a token addresses at `expected` state, and its user.
pub async fn load(
    app: &AppState,
    flow_token: &Secret,
    expected: FlowState,
) -> Result<(Flow, Option<User>), ApiError> {
    let token_hash = sha256_hex(flow_token.expose());
    let now = app.now();
    app.db
        .run(move |conn| {
            repo::find_at_with_user(conn, &token_hash, expected, now)?.ok_or(ApiError::FlowExpired)
        })
        .await
}

/// The flow a token addresses if it waits for the password, through `db`
/// (the password step's lane), with its user and when `ip` was last
/// recorded as an address of theirs (see [`crate::attempts`]).
pub async fn load_at_password(
    db: &Db,
    now: i64,
    flow_token: &Secret,
    ip: IpAddr,
) -> Result<repo::AtPassword, ApiError> {
    let token_hash = sha256_hex(flow_token.expose());
    let address = crate::net::address_bucket(&ip.to_string());
    db.run(move |conn| {
        repo::find_at_password(conn, &token_hash, &address, now)?.ok_or(ApiError::FlowExpired)
    })
    .await
}

/// Like [`load`], for steps only a real user's flow can reach: also
/// applies the account's IP allow-list to the client address.
pub async fn load_user(
    app: &AppState,
    flow_token: &Secret,
    expected: FlowState,
    ip: IpAddr,
) -> Result<(Flow, User), ApiError> {
    match load(app, flow_token, expected).await? {
        (flow, Some(user)) => {
            allowed(app, &user, ip).await?;
            Ok((flow, user))
        }
        _ => Err(ApiError::FlowExpired),
    }
}

/// The account's IP allow-list, for the client address of a login step.
pub async fn allowed(app: &AppState, user: &User, ip: IpAddr) -> Result<(), ApiError> {
    crate::ip_allowlist::check(app, &user.account_id, &user.id, ip).await
}

/// Moves `flow` to `to` under a new token; `FlowExpired` if another request
/// moved it first.
pub fn advance(
    conn: &mut DbConn,
    flow: &Flow,
    to: FlowState,
    second_factor: Option<Factor>,
    now: i64,
) -> Result<Secret, ApiError> {
    let token = new_token("flw_");
    let expires_at = step_expires_at(flow.created_at, now);
    let hash = sha256_hex(token.expose());
    if !repo::advance(
        conn,
        &flow.id,
        flow.state,
        to,
        &hash,
        expires_at,
        second_factor,
    )? {
        return Err(ApiError::FlowExpired);
    }
    Ok(token)
}

/// What the caller's own reads already know about a login about to
/// complete, so that [`complete`] need not ask again.
#[derive(Debug, Clone, Copy, Default)]
pub struct Known {
    /// Whether the user has a passkey, when the caller read it.
    pub has_passkey: Option<bool>,
    /// The client address was recorded as the user's lately enough not to
    /// be recorded again (see [`crate::attempts::address_still_known`]).
    pub address_recent: bool,
}

/// Ends `flow` and opens the session, inside the caller's transaction.
pub fn complete(
    conn: &mut DbConn,
    flow: &Flow,
    user: &User,
    assurance: Assurance,
    known: Known,
    ip: IpAddr,
    now: i64,
) -> Result<Opened, ApiError> {
    if !repo::finish(conn, &flow.id, flow.state)? {
        return Err(ApiError::FlowExpired);
    }
    users::repo::touch_login(conn, &user.id, now)?;
    if !known.address_recent {
        crate::attempts::login_completed(conn, &user.id, ip, now)?;
    }
    audit::record(
        conn,
        Event::of_user(
            user,
            kind::LOGIN_SUCCEEDED,
            ip,
            Detail::LoginSucceeded(LoginSucceeded {
                amr: assurance.amr.to_vec(),
            }),
        ),
        now,
    )?;
    let client = sessions::Client {
        address: crate::net::canonical(ip).to_string(),
        user_agent: flow.user_agent.clone(),
    };
    let mut opened = sessions::open(conn, user, assurance, &client, known.has_passkey, now)?;
    if flow.remember_device && proves_second_factor(assurance) {
        opened.device =
            crate::devices::service::grant(conn, user, flow.user_agent.clone(), ip, now)?;
    }
    Ok(opened)
}

/// The password and a second factor proven now: what earns a remembered
/// device (never a device itself, nor a passwordless passkey login).
fn proves_second_factor(assurance: Assurance) -> bool {
    assurance.amr.contains(&Factor::Password)
        && assurance
            .amr
            .iter()
            .any(|f| matches!(f, Factor::Totp | Factor::RecoveryCode | Factor::Key))
}

/// Flow-owned enrollment: the owner of a flow's pending enrollment.
pub fn owner(flow: &Flow) -> Owner {
    Owner::Flow(flow.id.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_gets_its_full_lifetime_early_in_a_flow() {
        assert_eq!(step_expires_at(1_000, 1_000), 1_000 + FLOW_TTL_SECS);
        assert_eq!(step_expires_at(1_000, 1_300), 1_300 + FLOW_TTL_SECS);
    }

    #[test]
    fn a_passkey_is_offered_for_enrollment_only_where_webauthn_works() {
        let methods =
            |webauthn| match enrollment_required(Secret::new("flw_x".to_owned()), webauthn) {
                LoginStep::EnrollmentRequired(step) => step.enrollment_methods,
                _ => Vec::new(),
            };
        assert_eq!(methods(false), [EnrollmentMethod::Totp]);
        assert_eq!(
            methods(true),
            [EnrollmentMethod::Totp, EnrollmentMethod::Webauthn]
        );
    }

    #[test]
    fn no_step_outlives_the_flow_maximum() {
        let opened = 1_000;
        let late = opened + FLOW_MAX_SECS - 60;
        assert_eq!(step_expires_at(opened, late), opened + FLOW_MAX_SECS);
        let after = opened + FLOW_MAX_SECS + 600;
        assert_eq!(step_expires_at(opened, after), opened + FLOW_MAX_SECS);
    }
}
