//! HTTP for `/v1/operator/accounts/{id}`: billing state.

use actix_web::{get, patch, web, HttpResponse};
use chrono::DateTime;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::Operator;
use crate::audit::{self, kind, Actor, Event};
use crate::clock::rfc3339;
use crate::db::write_tx;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ClientIp};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "account_id": "5d0c1c7a-8b1e-4f43-a0e4-1f1b8f3e2c55",
    "name": "Acme MSP",
    "paying_since": "2026-11-27T09:00:00Z",
    "licenses": 25,
    "users": 12,
    "twofa_enforced_from": "2026-11-28T09:00:00Z"
}))]
pub struct Billing {
    pub account_id: String,
    pub name: String,
    pub paying_since: Option<String>,
    pub licenses: i32,
    pub users: i64,
    /// `paying_since + 24h`: every user must use 2FA from then on.
    pub twofa_enforced_from: Option<String>,
}

/// Absent and `null` mean different things for `paying_since`.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"paying_since": "2026-11-27T09:00:00Z", "licenses": 25}))]
pub struct BillingUpdate {
    /// RFC 3339; `null` puts the account back on trial. Omit to keep.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub paying_since: Option<Option<String>>,
    /// Seats, at least 1. Omit to keep.
    pub licenses: Option<i32>,
}

async fn billing(app: &AppState, id: String) -> Result<Billing, ApiError> {
    app.db
        .run(move |conn| {
            let account = crate::accounts::repo::find(conn, &id)?.ok_or(ApiError::NotFound)?;
            let users = crate::admin::users_repo::count_in_account(conn, &id)?;
            Ok(Billing {
                paying_since: account.paying_since.map(rfc3339),
                twofa_enforced_from: account.enforced_from().map(rfc3339),
                account_id: account.id,
                name: account.name,
                licenses: account.licenses,
                users,
            })
        })
        .await
}

/// An account's billing state.
#[utoipa::path(
    operation_id = "operator_get_account",
    tag = "operator",
    security(("operator_key" = [])),
    params(("id" = String, Path, description = "Account id")),
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
    Ok(HttpResponse::Ok().json(billing(&app, id.into_inner()).await?))
}

/// Set when an account started paying, and its licences.
///
/// 2FA becomes mandatory for all its users 24 hours after `paying_since`
/// (at once for a date more than a day ago).
#[utoipa::path(
    operation_id = "operator_update_account",
    tag = "operator",
    security(("operator_key" = [])),
    params(("id" = String, Path, description = "Account id")),
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
    let update = body.0;
    let paying_since = match &update.paying_since {
        None => None,
        Some(None) => Some(None),
        Some(Some(raw)) => Some(Some(
            DateTime::parse_from_rfc3339(raw)
                .map_err(|_| {
                    ApiError::field(
                        "paying_since",
                        "must be RFC 3339, e.g. 2026-11-28T09:00:00Z",
                    )
                })?
                .timestamp(),
        )),
    };
    if update
        .licenses
        .is_some_and(|n| !(1..=1_000_000).contains(&n))
    {
        return Err(ApiError::field("licenses", "must be 1 to 1000000"));
    }
    let id = id.into_inner();
    let now = app.now();
    let account_id = id.clone();
    app.db
        .run(move |conn| {
            write_tx(conn, |conn| {
                let before =
                    crate::accounts::repo::find(conn, &account_id)?.ok_or(ApiError::NotFound)?;
                crate::accounts::repo::set_billing(
                    conn,
                    &account_id,
                    paying_since,
                    update.licenses,
                )?;
                audit::record(
                    conn,
                    Event {
                        account_id: &account_id,
                        actor: Actor::Operator,
                        subject_user_id: None,
                        kind: kind::BILLING_CHANGED,
                        ip: Some(ip.to_string()),
                        detail: json!({
                            "paying_since": paying_since.map(|p| p.map(rfc3339)),
                            "licenses": update.licenses,
                            "previous_paying_since": before.paying_since.map(rfc3339),
                            "previous_licenses": before.licenses,
                        }),
                    },
                    now,
                )
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(billing(&app, id).await?))
}
