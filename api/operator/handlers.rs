//! HTTP for `/v1/operator/accounts/{id}`: billing state. Extract, call
//! [`super::service`], answer.

use actix_web::{get, patch, web, HttpResponse};

use super::dto::{Billing, BillingUpdate};
use super::{service, Operator};
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ClientIp};
use crate::state::AppState;

/// An account's billing state.
///
/// Whether the account pays, since when, how many licences it has, and when
/// 2FA becomes mandatory for it (one day after it starts paying).
#[utoipa::path(
    operation_id = "get_operator_account",
    tag = "operator",
    security(("operatorKey" = [])),
    params(("id" = uuid::Uuid, Path, description = "Account id")),
    responses(
        (status = 200, description = "Billing state", body = Billing),
        (status = 401, description = "Missing (`unauthorized`) or wrong (`invalid_token`) operator key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account, or the operator API is off", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/operator/accounts/{id}")]
pub async fn get(
    app: web::Data<AppState>,
    _operator: Operator,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(service::billing(&app, id.into_inner().into()).await?))
}

/// Set when an account started paying, and its licences.
///
/// 2FA becomes mandatory for all its users 24 hours after `paying_since`
/// (at once for a date more than a day ago).
#[utoipa::path(
    operation_id = "update_operator_account",
    tag = "operator",
    security(("operatorKey" = [])),
    params(("id" = uuid::Uuid, Path, description = "Account id")),
    request_body = BillingUpdate,
    responses(
        (status = 200, description = "The new billing state", body = Billing),
        (status = 400, description = "Malformed body, bad date or licences (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or wrong operator key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account, or the operator API is off", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/v1/operator/accounts/{id}")]
pub async fn update(
    app: web::Data<AppState>,
    _operator: Operator,
    ClientIp(ip): ClientIp,
    id: web::Path<String>,
    body: ApiJson<BillingUpdate>,
) -> Result<HttpResponse, ApiError> {
    let billing = service::update(&app, id.into_inner().into(), body.0, ip).await?;
    Ok(HttpResponse::Ok().json(billing))
}
