//! The code from the authenticator app at login, judged in one
//! transaction. The code is checked first (a few HMACs on what the flow's
//! read brought), then counted with its verdict by the statements that
//! reserve an attempt (the user's row locked before anything else, so
//! parallel guesses at one user are judged one at a time, each counting
//! the others): a full counter refuses a right code exactly as it refuses
//! a wrong one, before anything about it is told. Then either the failure
//! is recorded or the step is claimed and the session opened. One commit
//! either way.

use std::net::IpAddr;

use super::dto::LoginStep;
use super::flow::Step;
use super::flow::{allowed, Known};
use super::repo::Flow;
use super::repo::{self, AtCode};
use super::second_factor::{after_second_factor, finish_step, new_code_unless, CodeStep, Proven};
use crate::attempts::{self, Counted};
use crate::audit::detail::FailedFactor;
use crate::crypto::totp::{self, TotpSecret};
use crate::crypto::{sha256_hex, Secret};
use crate::db::{write_tx, DbConn};
use crate::error::ApiError;
use crate::net::address_bucket;
use crate::sessions::amr::Factor;
use crate::state::AppState;
use crate::twofa::{repo as factors, service as twofa};
use crate::users::User;

/// What the transaction judges a code with.
struct Check {
    secret: TotpSecret,
    /// Normalised: the six digits.
    code: String,
    /// Issued if the login ends here and the user has no recovery code.
    new_code: Option<(Secret, String)>,
    known: Known,
    ip: IpAddr,
    address_limit: i32,
    now: i64,
}

/// How a judged code ended once committed: a proven step, or a refusal
/// whose counting had to be kept (a wrong code, a replayed one).
enum Judged {
    Proven(Step),
    Refused(ApiError),
}

/// Second factor: a code from the authenticator app.
pub async fn totp(app: &AppState, step: CodeStep) -> Result<LoginStep, ApiError> {
    let now = app.now();
    let CodeStep {
        flow_token,
        code,
        remember_device,
        ip,
    } = step;
    let token_hash = sha256_hex(flow_token.expose());
    let AtCode {
        mut flow,
        user,
        authenticator,
        has_recovery_code,
        has_passkey,
        address_seen_at,
    } = app
        .db
        .run(move |conn| {
            let address = address_bucket(&ip.to_string());
            repo::find_at_code(conn, &token_hash, &address, now)
        })
        .await?
        .ok_or(ApiError::FlowExpired)?;
    flow.remember_device = remember_device;
    allowed(app, &user, ip).await?;
    let code = totp::normalize_code(code.expose()).ok_or_else(|| {
        ApiError::field("code", "must be the 6 digits the authenticator app shows")
    })?;
    let authenticator = authenticator.ok_or(ApiError::FlowExpired)?;
    let check = Check {
        secret: twofa::open(app, &user.id, &authenticator.secret_sealed)?,
        code,
        new_code: new_code_unless(app, has_recovery_code).await?,
        known: Known {
            has_passkey: Some(has_passkey),
            address_recent: attempts::address_still_known(address_seen_at, now),
        },
        ip,
        address_limit: app.config.address_failure_limit,
        now,
    };
    let turn = user.id.clone();
    let outcome = app
        .db
        .run_in_turn(turn.as_str(), move |conn| {
            match write_tx(conn, |conn| judge(conn, &flow, &user, check)) {
                Err(ApiError::CodeAlreadyUsed) => {
                    attempts::count_flow_try(conn, &flow.id)?;
                    Ok(Judged::Refused(ApiError::CodeAlreadyUsed))
                }
                judged => judged,
            }
        })
        .await
        .and_then(|judged| match judged {
            Judged::Proven(step) => Ok(step),
            Judged::Refused(e) => Err(e),
        });
    finish_step(app, "totp", outcome, now)
}

/// Inside the transaction: the code is checked, then counted with its
/// verdict (see [`attempts::count_checked_in_tx`]), then its step claimed
/// and the session opened.
fn judge(conn: &mut DbConn, flow: &Flow, user: &User, check: Check) -> Result<Judged, ApiError> {
    let Check {
        secret,
        code,
        new_code,
        known,
        ip,
        address_limit,
        now,
    } = check;
    let verdict = totp::verify(&secret, &code, now);
    let counted =
        attempts::count_checked_in_tx(conn, &flow.id, &user.id, ip, address_limit, verdict, now)?;
    let step = match counted {
        Counted::Right(step) => step,
        Counted::Wrong(attempt) => {
            let failure =
                twofa::verify::record_failure(conn, attempt, user, ip, FailedFactor::Totp, now)?;
            return Ok(Judged::Refused(failure.answer(ApiError::InvalidCode, now)));
        }
    };
    if !factors::claim_step(conn, &user.id, step, now)? {
        // A right code that a racing request (or a replay) used first: not
        // a wrong guess, but it must not end the run of failures either.
        // The transaction is rolled back and the flow's try counted alone.
        return Err(ApiError::CodeAlreadyUsed);
    }
    let proven = Proven {
        factor: Factor::Totp,
        counted: true,
        new_code,
        known,
    };
    after_second_factor(conn, flow, user, proven, ip, now).map(Judged::Proven)
}
