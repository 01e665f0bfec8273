//! The operator API under `/v1/operator/...`, for a billing system:
//! `Authorization: Bearer $TWOFOLD_OPERATOR_KEY`, compared in constant
//! time. With no key configured the whole API does not exist (404).

pub mod dto;
pub mod handlers;
pub mod service;

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::{ready, Ready};

use crate::crypto::{constant_time_eq, sha256_hex};
use crate::error::ApiError;
use crate::sessions::extract::bearer;
use crate::state::AppState;

/// A request made with the operator key.
pub struct Operator;

impl FromRequest for Operator {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let key = req
            .app_data::<web::Data<AppState>>()
            .and_then(|state| state.config.operator_key.clone());
        ready((|| {
            let Some(key) = key else {
                return Err(ApiError::NotFound);
            };
            let presented = bearer(req)?.ok_or(ApiError::Unauthorized)?;
            // Digests first: equal lengths, so the comparison time reveals
            // nothing about the key, its length included.
            let matches = constant_time_eq(
                sha256_hex(&presented).as_bytes(),
                sha256_hex(key.expose()).as_bytes(),
            );
            if matches {
                Ok(Operator)
            } else {
                Err(ApiError::InvalidToken)
            }
        })())
    }
}
