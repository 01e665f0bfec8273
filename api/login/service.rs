//! Login rules: the email step, the password step, and the second factor.

use serde_json::json;

use super::dto::{FlowResponse, FlowStatus, LoginStep, Method};
use super::repo::{self, Flow};
use crate::attempts::{self, Attempt, UserCounter};
use crate::audit::{self, kind, Event};
use crate::crypto::{new_token, sha256_hex, Secret};
use crate::db::{write_tx, DbConn};
use crate::error::ApiError;
use crate::sessions::service::{self as sessions, Assurance, Opened, PASSWORD_ONLY};
use crate::state::AppState;
use crate::twofa::{repo as factors, service as twofa, Owner};
use crate::users::identity::lookup_keys;
use crate::users::{self, User};

/// Lifetime of a flow token; each step gets this long.
pub const FLOW_TTL_SECS: i64 = 10 * 60;
/// No login, however many steps, stays open longer than this.
pub const FLOW_MAX_SECS: i64 = 30 * 60;

/// Flow states, as stored.
pub mod state {
    pub const PASSWORD: &str = "password_required";
    pub const MFA: &str = "mfa_required";
    pub const ENROLLMENT: &str = "enrollment_required";
    pub const CONFIRM: &str = "recovery_code_confirmation_required";
    /// A passwordless passkey login, before the assertion.
    pub const PASSKEY: &str = "passkey_required";
}

/// Opens a flow for `ip`, or answers 429 while that address holds `limit`
/// (`TWOFOLD_ADDRESS_FLOW_LIMIT`) open flows: anonymous calls (the email
/// step, passwordless options) insert rows, so they are bounded where they
/// come from. Finished flows do not count; an abandoned one counts until it
/// expires. The answer depends on the address only, never on the email.
pub fn open_flow(
    conn: &mut DbConn,
    mut flow: Flow,
    ip: &str,
    limit: i64,
    now: i64,
) -> Result<(), ApiError> {
    flow.client_address = Some(crate::net::address_bucket(ip));
    repo::insert_bounded(conn, &flow, limit, now)?.map_err(|retry_after| {
        ApiError::TooManyAttempts {
            retry_after: u64::try_from(retry_after).unwrap_or(1),
        }
    })
}

/// Step 1: the email. Known and unknown emails get the same answer after the
/// same work (one lookup, one insert); an unknown one fails at the password.
pub async fn start(state: &AppState, email: &str, ip: &str) -> Result<FlowResponse, ApiError> {
    let keys = lookup_keys("email", email)?;
    let now = state.now();
    let token = new_token("flw_");
    let token_hash = sha256_hex(token.expose());
    let (ip, limit) = (ip.to_owned(), state.config.address_flow_limit);
    state
        .db
        .run(move |conn| {
            let user = users::repo::find_by_any_email(conn, &keys)?;
            // An email no user has still gets a password counter of its
            // own, so the back-off answers alike for known and unknown ones.
            let unknown_subject = match &user {
                Some(_) => None,
                None => keys.first().map(|key| format!("email:{}", sha256_hex(key))),
            };
            let flow = Flow {
                id: uuid::Uuid::new_v4().to_string(),
                token_hash,
                user_id: user.map(|u| u.id),
                unknown_subject,
                state: state::PASSWORD.to_owned(),
                failed_attempts: 0,
                created_at: now,
                expires_at: now + FLOW_TTL_SECS,
                second_factor: None,
                client_address: None,
            };
            open_flow(conn, flow, &ip, limit, now)
        })
        .await?;
    Ok(next(FlowStatus::PasswordRequired, token))
}

fn next(status: FlowStatus, flow_token: Secret) -> FlowResponse {
    FlowResponse {
        status,
        flow_token,
        expires_in: FLOW_TTL_SECS,
        methods: None,
        recovery_code: None,
    }
}

/// The flow a token addresses at `expected` state, and its user.
pub async fn load(
    app: &AppState,
    flow_token: &Secret,
    expected: &'static str,
) -> Result<(Flow, Option<User>), ApiError> {
    let now = app.now();
    let token_hash = sha256_hex(flow_token.expose());
    app.db
        .run(move |conn| {
            let flow =
                repo::find_at(conn, &token_hash, expected, now)?.ok_or(ApiError::FlowExpired)?;
            let user = match &flow.user_id {
                Some(id) => users::repo::find(conn, id)?,
                None => None,
            };
            Ok((flow, user))
        })
        .await
}

/// Like [`load`], for steps only a real user's flow can reach: also
/// applies the account's IP allow-list to the client address.
pub async fn load_user(
    app: &AppState,
    flow_token: &Secret,
    expected: &'static str,
    ip: &str,
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
pub async fn allowed(app: &AppState, user: &User, ip: &str) -> Result<(), ApiError> {
    let ip = ip.parse().map_err(|_| ApiError::IpNotAllowed)?;
    crate::ip_allowlist::check(app, &user.account_id, &user.id, ip).await
}

/// Moves `flow` to `to` under a new token; `FlowExpired` if another request
/// moved it first.
pub fn advance(
    conn: &mut DbConn,
    flow: &Flow,
    to: &str,
    second_factor: Option<&str>,
    now: i64,
) -> Result<Secret, ApiError> {
    let token = new_token("flw_");
    let expires_at = (now + FLOW_TTL_SECS).min(flow.created_at + FLOW_MAX_SECS);
    let hash = sha256_hex(token.expose());
    if !repo::advance(
        conn,
        &flow.id,
        &flow.state,
        to,
        &hash,
        expires_at,
        second_factor,
    )? {
        return Err(ApiError::FlowExpired);
    }
    Ok(token)
}

/// Ends `flow` and opens the session, inside the caller's transaction.
pub fn complete(
    conn: &mut DbConn,
    flow: &Flow,
    user: &User,
    assurance: Assurance,
    ip: &str,
    now: i64,
) -> Result<Opened, ApiError> {
    if !repo::finish(conn, &flow.id, &flow.state)? {
        return Err(ApiError::FlowExpired);
    }
    users::repo::touch_login(conn, &user.id, now)?;
    crate::attempts::login_completed(conn, &user.id, ip, now)?;
    audit::record(
        conn,
        Event::of_user(
            user,
            kind::LOGIN_SUCCEEDED,
            ip,
            json!({ "amr": assurance.amr }),
        ),
        now,
    )?;
    sessions::open(conn, user, assurance, now)
}

pub fn assurance(second_factor: Option<&str>) -> Assurance {
    match second_factor {
        Some("rcv") => sessions::PASSWORD_AND_RECOVERY_CODE,
        Some("hwk") => sessions::PASSWORD_AND_KEY,
        _ => sessions::PASSWORD_AND_TOTP,
    }
}

/// Step 2: the password. Then, by what the user has and must have: a
/// session, a second factor, or enrollment.
pub async fn password(
    app: &AppState,
    flow_token: Secret,
    password: Secret,
    ip: &str,
) -> Result<LoginStep, ApiError> {
    let now = app.now();
    let (flow, user) = load(app, &flow_token, state::PASSWORD).await?;
    let attempt = {
        let flow_id = flow.id.clone();
        // A real user's counter, or the unknown email's: the same back-off.
        let user_id = user
            .as_ref()
            .map(|u| u.id.clone())
            .or_else(|| flow.unknown_subject.clone());
        let (address, limit) = (ip.to_owned(), app.config.address_failure_limit);
        app.db
            .run(move |conn| {
                let counter = user_id.as_deref().map(|id| (UserCounter::Password, id));
                attempts::reserve(conn, Some(&flow_id), counter, &address, limit, now)
            })
            .await?
    };
    let stored_hash = user.as_ref().map(|u| u.password_hash.clone());
    let matched = app.passwords.verify(stored_hash, password.clone()).await?;
    let Some(user) = user else {
        return Err(wrong_password(app, attempt, None, ip).await);
    };
    // From an address the account's allow-list refuses, the answer is the
    // same whether the password was right or not (the hash was checked
    // either way, so the timing matches too): the list must not let an
    // outsider test passwords. The try still counts.
    if let Err(refused) = allowed(app, &user, ip).await {
        app.db
            .run(move |conn| attempt.refused(conn, matched, now))
            .await?;
        app.metrics.login("password", refused.code());
        return Err(refused);
    }
    if !matched {
        return Err(wrong_password(app, attempt, Some(user), ip).await);
    }
    app.db.run(move |conn| attempt.succeeded(conn)).await?;
    if !app.passwords.is_current(&user.password_hash) {
        let new_hash = app.passwords.hash(password).await?;
        let (id, old_hash) = (user.id.clone(), user.password_hash.clone());
        app.db
            .run(move |conn| users::repo::rehash_password(conn, &id, &old_hash, &new_hash))
            .await?;
    }

    let ip = ip.to_owned();
    let step = app
        .db
        .run(move |conn| {
            write_tx(conn, |conn| {
                let account = crate::accounts::repo::find(conn, &user.account_id)?
                    .ok_or(ApiError::FlowExpired)?;
                let enrolled = factors::authenticator(conn, &user.id)?.is_some();
                let required = !twofa::required_by(&user, &account, now).is_empty();
                if enrolled {
                    let token = advance(conn, &flow, state::MFA, None, now)?;
                    let mut methods = vec![Method::Totp];
                    if factors::recovery_code(conn, &user.id)?.is_some() {
                        methods.push(Method::RecoveryCode);
                    }
                    if crate::webauthn::repo::has_credentials(conn, &user.id)? {
                        methods.push(Method::Webauthn);
                    }
                    let mut answer = next(FlowStatus::MfaRequired, token);
                    answer.methods = Some(methods);
                    return Ok(Step::Next(answer));
                }
                if required {
                    let token = advance(conn, &flow, state::ENROLLMENT, None, now)?;
                    return Ok(Step::Next(next(FlowStatus::EnrollmentRequired, token)));
                }
                complete(conn, &flow, &user, PASSWORD_ONLY, &ip, now)
                    .map(|opened| Step::Done(Box::new(opened)))
            })
        })
        .await?;
    match step {
        Step::Next(answer) => {
            let outcome = match answer.status {
                FlowStatus::MfaRequired => "mfa_required",
                _ => "enrollment_required",
            };
            app.metrics.login("password", outcome);
            Ok(LoginStep::Next(answer))
        }
        Step::Done(opened) => {
            app.metrics.login("password", "authenticated");
            Ok(LoginStep::Authenticated(sessions::tokens(
                app, *opened, now,
            )?))
        }
    }
}

enum Step {
    Next(FlowResponse),
    Done(Box<Opened>),
}

/// Settles a wrong password: counted, audited for a real user (at most once
/// a minute each, and whenever it starts a back-off, so guesses cannot flood
/// the trail) and answered `invalid_credentials`, or 429 when it started a
/// back-off or used up the flow.
pub async fn wrong_password(
    app: &AppState,
    attempt: Attempt,
    user: Option<User>,
    ip: &str,
) -> ApiError {
    let now = app.now();
    let ip = ip.to_owned();
    let settled = app
        .db
        .run(move |conn| {
            let failure = attempt.failed(conn, now)?;
            let Some(user) = user else {
                return Ok(failure);
            };
            let audit_now = failure.locked_until.is_some()
                || attempts::repo::claim_password_audit(
                    conn,
                    &user.id,
                    attempts::PASSWORD_AUDIT_EVERY_SECS,
                    now,
                )?;
            if audit_now {
                let detail = json!({
                    "factor": "password",
                    "consecutive": failure.consecutive,
                    "locked_until": failure.locked_until.map(crate::clock::rfc3339),
                });
                audit::record(
                    conn,
                    Event::of_user(&user, kind::LOGIN_FAILED, &ip, detail),
                    now,
                )?;
            }
            Ok(failure)
        })
        .await;
    let answer = match settled {
        Ok(failure) => failure.answer(ApiError::InvalidCredentials, now),
        Err(e) => e,
    };
    app.metrics.login("password", answer.code());
    answer
}

/// After a second factor: a session, unless the user has no recovery code
/// (the last one was spent and its successor never confirmed), in which
/// case a new one is issued and must be confirmed first. Runs inside the
/// caller's transaction.
fn after_second_factor(
    conn: &mut DbConn,
    flow: &Flow,
    user: &User,
    factor: &'static str,
    new_code: Option<(Secret, String)>,
    ip: &str,
    now: i64,
) -> Result<Step, ApiError> {
    attempts::repo::reset_user(conn, UserCounter::SecondFactor, &user.id)?;
    match new_code {
        Some((display, hash)) => {
            factors::put_pending(
                conn,
                &factors::Pending {
                    id: uuid::Uuid::new_v4().to_string(),
                    user_id: user.id.clone(),
                    flow_id: Some(flow.id.clone()),
                    session_id: None,
                    secret_sealed: None,
                    recovery_code_hash: Some(hash),
                    created_at: now,
                    expires_at: now + twofa::PENDING_TTL_SECS,
                },
            )?;
            let token = advance(conn, flow, state::CONFIRM, Some(factor), now)?;
            let mut answer = next(FlowStatus::RecoveryCodeConfirmationRequired, token);
            answer.recovery_code = Some(display);
            Ok(Step::Next(answer))
        }
        None => complete(conn, flow, user, assurance(Some(factor)), ip, now)
            .map(|opened| Step::Done(Box::new(opened))),
    }
}

/// Second factor: a code from the authenticator app.
pub async fn totp(
    app: &AppState,
    flow_token: Secret,
    code: Secret,
    ip: &str,
) -> Result<LoginStep, ApiError> {
    let now = app.now();
    let (flow, user) = load_user(app, &flow_token, state::MFA, ip).await?;
    let user_id = user.id.clone();
    let authenticator = app
        .db
        .run(move |conn| factors::authenticator(conn, &user_id))
        .await?
        .ok_or(ApiError::FlowExpired)?;
    let secret = twofa::open(app, &user.id, &authenticator.secret_sealed)?;
    let step = twofa::check_totp(app, &user, &secret, &code, ip, Some(flow.id.clone())).await;
    let step = match step {
        Ok(step) => step,
        Err(e) => {
            app.metrics.login("totp", e.code());
            return Err(e);
        }
    };
    let user_id = user.id.clone();
    finish_second_factor(app, flow, user, "otp", ip, move |conn| {
        if !factors::claim_step(conn, &user_id, step)? {
            return Err(ApiError::CodeAlreadyUsed);
        }
        factors::touch_authenticator(conn, &user_id, now)
    })
    .await
}

/// Ends a proven second factor: a session, or first a new recovery code
/// when the user has none. `proof` runs first in the same transaction (it
/// claims a TOTP step, for instance) and can still refuse.
pub async fn finish_second_factor(
    app: &AppState,
    flow: Flow,
    user: User,
    factor: &'static str,
    ip: &str,
    proof: impl FnOnce(&mut DbConn) -> Result<(), ApiError> + Send + 'static,
) -> Result<LoginStep, ApiError> {
    let now = app.now();
    let has_code = {
        let id = user.id.clone();
        app.db
            .run(move |conn| Ok(factors::recovery_code(conn, &id)?.is_some()))
            .await?
    };
    let new_code = if has_code {
        None
    } else {
        Some(twofa::new_recovery_code(app).await?)
    };
    let ip = ip.to_owned();
    let outcome = app
        .db
        .run(move |conn| {
            write_tx(conn, |conn| {
                proof(conn)?;
                after_second_factor(conn, &flow, &user, factor, new_code, &ip, now)
            })
        })
        .await;
    let step = match factor {
        "hwk" => "webauthn",
        _ => "totp",
    };
    finish_step(app, step, outcome, now)
}

/// Second factor: the recovery code. It is spent at once; a new one is
/// issued and must be confirmed before the session opens.
pub async fn recovery_code(
    app: &AppState,
    flow_token: Secret,
    code: Secret,
    ip: &str,
) -> Result<LoginStep, ApiError> {
    let now = app.now();
    let (flow, user) = load_user(app, &flow_token, state::MFA, ip).await?;
    let matched = twofa::check_recovery_code(app, &user, &code, ip, Some(flow.id.clone())).await;
    let matched = match matched {
        Ok(hash) => hash,
        Err(e) => {
            app.metrics.login("recovery_code", e.code());
            return Err(e);
        }
    };
    let new_code = twofa::new_recovery_code(app).await?;
    let ip = ip.to_owned();
    let outcome = app
        .db
        .run(move |conn| {
            write_tx(conn, |conn| {
                if !factors::spend_recovery_code(conn, &user.id, &matched)? {
                    return Err(ApiError::CodeAlreadyUsed);
                }
                audit::record(
                    conn,
                    Event::of_user(&user, kind::RECOVERY_CODE_USED, &ip, json!({})),
                    now,
                )?;
                after_second_factor(conn, &flow, &user, "rcv", Some(new_code), &ip, now)
            })
        })
        .await;
    finish_step(app, "recovery_code", outcome, now)
}

fn finish_step(
    app: &AppState,
    step: &str,
    outcome: Result<Step, ApiError>,
    now: i64,
) -> Result<LoginStep, ApiError> {
    match outcome {
        Ok(Step::Next(answer)) => {
            app.metrics
                .login(step, "recovery_code_confirmation_required");
            Ok(LoginStep::Next(answer))
        }
        Ok(Step::Done(opened)) => {
            app.metrics.login(step, "authenticated");
            Ok(LoginStep::Authenticated(sessions::tokens(
                app, *opened, now,
            )?))
        }
        Err(e) => {
            app.metrics.login(step, e.code());
            Err(e)
        }
    }
}

/// Flow-owned enrollment: the owner of a flow's pending enrollment.
pub fn owner(flow: &Flow) -> Owner {
    Owner::Flow(flow.id.clone())
}
