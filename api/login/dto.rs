//! Request and response bodies of the login steps.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::crypto::Secret;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "ada@example.com"}))]
pub struct StartRequest {
    #[schema(example = "ada@example.com")]
    pub email: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"flow_token": "flw_Yp0wJ0m8cG2eM5qF3sQ1dT7uV9xZ4aB6cD8eF0gH2iJ", "password": "correct horse battery staple"}))]
pub struct PasswordRequest {
    /// The `flow_token` of the previous step's answer.
    #[schema(value_type = String)]
    pub flow_token: Secret,
    #[schema(value_type = String, format = Password)]
    pub password: Secret,
}

/// What the client must do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FlowStatus {
    /// Send the password with `POST /v1/auth/login/password`.
    PasswordRequired,
}

/// A step of the login flow that is not finished yet.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "status": "password_required",
    "flow_token": "flw_Yp0wJ0m8cG2eM5qF3sQ1dT7uV9xZ4aB6cD8eF0gH2iJ",
    "expires_in": 600
}))]
pub struct FlowResponse {
    pub status: FlowStatus,
    /// Single-use token for the next step; always use the latest one.
    #[schema(value_type = String)]
    pub flow_token: Secret,
    /// Seconds until `flow_token` expires.
    #[schema(example = 600)]
    pub expires_in: i64,
}
