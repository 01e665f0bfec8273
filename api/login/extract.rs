//! `FlowToken`: the flow token of enrollment steps, sent as
//! `Authorization: Bearer <flow_token>`.

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use futures_util::future::{ready, Ready};

use crate::crypto::Secret;
use crate::error::ApiError;
use crate::sessions::extract::bearer;

pub struct FlowToken(pub Secret);

impl FromRequest for FlowToken {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(match bearer(req) {
            Ok(Some(token)) => Ok(FlowToken(Secret::new(token))),
            Ok(None) => Err(ApiError::Unauthorized),
            Err(_) => Err(ApiError::FlowExpired),
        })
    }
}
