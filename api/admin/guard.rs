//! Who may use the admin surface: role `admin`, inside its own account,
//! with a second factor when the account enforces 2FA or the admin has one.

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;

use crate::accounts::Account;
use crate::error::ApiError;
use crate::sessions::service::Caller;
use crate::sessions::Authenticated;
use crate::state::AppState;
use crate::users::Role;

/// An admin's authenticated request, with its account.
pub struct Admin {
    pub caller: Caller,
    pub account: Account,
}

impl Admin {
    pub fn account_id(&self) -> &str {
        &self.account.id
    }

    pub fn user_id(&self) -> &str {
        &self.caller.user.id
    }

    /// True when the session proved a second factor in the last 15 minutes.
    pub fn fresh_second_factor(&self, now: i64) -> bool {
        self.caller.fresh_second_factor(now)
    }
}

/// The admin rule, apart from HTTP.
pub fn authorize(caller: &Caller, account: &Account, now: i64) -> Result<(), ApiError> {
    if caller.user.role() != Role::Admin {
        return Err(ApiError::Forbidden("This needs the admin role."));
    }
    let needs_second_factor =
        account.enforces_twofa(now) || caller.user.twofa_required || caller.user.twofa_enrolled;
    if needs_second_factor && caller.session.aal < 2 {
        return Err(if caller.user.twofa_enrolled {
            ApiError::SecondFactorRequired
        } else {
            ApiError::EnrollmentRequired
        });
    }
    Ok(())
}

impl FromRequest for Admin {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let authenticated = Authenticated::from_request(req, payload);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let Authenticated(caller) = authenticated.await?;
            let state = state.ok_or_else(|| ApiError::internal("state missing"))?;
            let account_id = caller.user.account_id.clone();
            let account = state
                .db
                .run(move |conn| crate::accounts::repo::find(conn, &account_id))
                .await?
                .ok_or(ApiError::InvalidToken)?;
            authorize(&caller, &account, state.now())?;
            Ok(Admin { caller, account })
        })
    }
}
