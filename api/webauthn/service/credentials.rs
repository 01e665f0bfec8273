//! The user's own passkeys: listing them, and removing one (which, like
//! adding one, needs a recently proven second factor and is audited). The
//! last passkey of a user without an authenticator app is their second
//! factor: removing it would leave a single-use recovery code as the only
//! way in, so it is refused (`would_lock_out`).

use std::net::IpAddr;

use super::{require_fresh_second_factor, view};
use crate::audit::detail::CredentialChanged;
use crate::audit::Detail;
use crate::audit::{self, kind, Event};
use crate::error::{ApiError, ErrorCode};
use crate::sessions::service::Caller;
use crate::state::AppState;
use crate::webauthn::dto::CredentialView;
use crate::webauthn::repo;

pub async fn list(app: &AppState, caller: &Caller) -> Result<Vec<CredentialView>, ApiError> {
    let id = caller.user.id.clone();
    let rows = app.db.run(move |conn| repo::credentials(conn, &id)).await?;
    Ok(rows.into_iter().map(view).collect())
}

pub async fn remove(
    app: &AppState,
    caller: &Caller,
    id: String,
    ip: IpAddr,
) -> Result<(), ApiError> {
    let now = app.now();
    require_fresh_second_factor(caller, now)?;
    let user = caller.user.clone();
    let session = caller.session.id.clone();
    app.db
        .run(move |conn| {
            crate::db::write_tx(conn, |conn| {
                // The user's row first: a racing removal of the other
                // passkey, or a reset, runs wholly before or after.
                crate::users::repo::lock(conn, &user.id)?;
                let keys = repo::credentials(conn, &user.id)?;
                if !keys.iter().any(|key| key.id == id) {
                    return Err(ApiError::NotFound);
                }
                let has_app = crate::twofa::repo::authenticator(conn, &user.id)?.is_some();
                if !may_remove(has_app, keys.len()) {
                    return Err(last_factor());
                }
                let name = repo::delete(conn, &user.id, &id)?.ok_or(ApiError::NotFound)?;
                let detail = Detail::Credential(CredentialChanged {
                    credential: id,
                    name,
                    session,
                });
                audit::record(
                    conn,
                    Event::of_user(&user, kind::WEBAUTHN_REMOVED, ip, detail),
                    now,
                )
            })
        })
        .await
}

/// Whether one of a user's `passkeys` may go: not when it is the last
/// second factor of a user without an authenticator app.
pub fn may_remove(has_authenticator: bool, passkeys: usize) -> bool {
    has_authenticator || passkeys > 1
}

fn last_factor() -> ApiError {
    ApiError::Conflict {
        code: ErrorCode::WouldLockOut,
        detail: "This passkey is your only second factor. Enroll an authenticator app or another passkey first."
            .to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::may_remove;

    #[test]
    fn the_last_passkey_of_a_user_without_the_app_stays() {
        assert!(!may_remove(false, 1));
        assert!(may_remove(false, 2));
        assert!(may_remove(true, 1));
    }
}
