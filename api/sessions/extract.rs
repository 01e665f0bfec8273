//! The `Authenticated` extractor: `Authorization: Bearer <access_token>`.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;

use super::service::{authenticate, refuse_if_enrollment_due, Caller};
use crate::error::ApiError;
use crate::extract::ClientIp;
use crate::state::AppState;

/// A request made with a live session's access token.
#[derive(Debug, Clone)]
pub struct Authenticated(pub Caller);

/// The token of an `Authorization: Bearer` header, if any.
pub fn bearer(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| ApiError::InvalidToken)?;
    let (scheme, token) = value.split_once(' ').ok_or(ApiError::InvalidToken)?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(ApiError::InvalidToken);
    }
    Ok(Some(token.trim().to_owned()))
}

/// A live session allowed here, from an allowed address, that may be a
/// password-only session of a user who must enroll: only for what
/// enrollment needs (`/v1/me`, `/v1/me/2fa/...`). Everything else takes
/// [`Authenticated`], which refuses such a session.
#[derive(Debug, Clone)]
pub struct Enrolling(pub Caller);

/// A live session's own holder, from any address: only for ending that
/// session. Signing out must work from wherever the holder is, also from
/// an address the account's IP allow-list refuses (it grants nothing).
#[derive(Debug, Clone)]
pub struct SessionHolder(pub Caller);

impl FromRequest for Enrolling {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = bearer(req);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let client = ClientIp::extract(req).into_inner();
        Box::pin(async move {
            let token = token?.ok_or(ApiError::Unauthorized)?;
            let state = state.ok_or_else(|| ApiError::internal("state missing"))?;
            let ClientIp(ip) = client?;
            let caller = authenticate(&state, &token).await?;
            crate::ip_allowlist::check(&state, &caller.user.account_id, &caller.user.id, ip)
                .await?;
            Ok(Enrolling(caller))
        })
    }
}

impl FromRequest for Authenticated {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let enrolling = Enrolling::from_request(req, payload);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let Enrolling(caller) = enrolling.await?;
            let state = state.ok_or_else(|| ApiError::internal("state missing"))?;
            refuse_if_enrollment_due(&state, &caller.session, &caller.user).await?;
            Ok(Authenticated(caller))
        })
    }
}

impl FromRequest for SessionHolder {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = bearer(req);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let token = token?.ok_or(ApiError::Unauthorized)?;
            let state = state.ok_or_else(|| ApiError::internal("state missing"))?;
            Ok(SessionHolder(authenticate(&state, &token).await?))
        })
    }
}
