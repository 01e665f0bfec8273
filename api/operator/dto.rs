//! Bodies of the operator API: an account's billing state and a change to it.

use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

use crate::ids::AccountId;

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
    #[schema(value_type = uuid::Uuid)]
    pub account_id: AccountId,
    pub name: String,
    #[schema(format = DateTime)]
    pub paying_since: Option<String>,
    pub licenses: i32,
    pub users: i64,
    /// `paying_since + 24h`: every user must use 2FA from then on.
    #[schema(format = DateTime)]
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
