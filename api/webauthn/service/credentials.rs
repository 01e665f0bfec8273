//! The user's own passkeys: listing them, and removing one (which, like
//! adding one, needs a recently proven second factor and is audited).

use std::net::IpAddr;

use super::{require_fresh_second_factor, view};
use crate::audit::detail::CredentialChanged;
use crate::audit::Detail;
use crate::audit::{self, kind, Event};
use crate::error::ApiError;
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
