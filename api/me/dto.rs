//! Bodies of `/v1/me`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::crypto::Secret;
use crate::ids::{AccountId, SessionId, UserId};
use crate::users::{Role, TwofaStatus};

#[derive(Debug, Serialize, ToSchema)]
pub struct AccountSummary {
    #[schema(value_type = uuid::Uuid)]
    pub id: AccountId,
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionSummary {
    #[schema(value_type = uuid::Uuid)]
    pub id: SessionId,
    /// Authentication assurance level of this session: 1 or 2.
    #[schema(example = 1)]
    pub aal: i32,
    /// Methods used to sign in, e.g. `["pwd"]`.
    #[schema(value_type = Vec<crate::sessions::amr::Factor>, example = json!(["pwd"]))]
    pub amr: Vec<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// The session ends then at the latest, refreshed or not.
    #[schema(format = DateTime)]
    pub expires_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0b4e7c5e-2f0a-4a8e-9b51-7f3f2f6d9a10",
    "email": "ada@example.com",
    "name": "Ada Lovelace",
    "role": "admin",
    "account": {"id": "5d0c1c7a-8b1e-4f43-a0e4-1f1b8f3e2c55", "name": "Acme MSP"},
    "twofa_status": "disabled",
    "twofa_required": false,
    "session": {
        "id": "9f1d2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b",
        "aal": 1,
        "amr": ["pwd"],
        "created_at": "2026-11-28T09:00:00Z",
        "expires_at": "2026-12-05T09:00:00Z"
    }
}))]
pub struct MeResponse {
    #[schema(value_type = uuid::Uuid)]
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub account: AccountSummary,
    pub twofa_status: TwofaStatus,
    /// Whether this user must use 2FA (set by an admin, or by the account's
    /// enforcement from `paying_since + 24h`).
    pub twofa_required: bool,
    pub session: SessionSummary,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"current_password": "old password here", "new_password": "a much longer new passphrase"}))]
pub struct ChangePasswordRequest {
    #[schema(value_type = String, format = Password)]
    pub current_password: Secret,
    /// 10 to 256 characters, no control characters, different from the current one.
    #[schema(value_type = String, format = Password, min_length = 10, max_length = 256, pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*$")]
    pub new_password: Secret,
}
