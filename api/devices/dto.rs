//! Bodies of the remembered-device endpoints.

use serde::Serialize;
use utoipa::ToSchema;

/// A browser remembered for skipping the second factor.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "6f1c2a7e-3b7d-4e59-9c1a-2f8d5e4b3a10",
    "name": "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
    "created_at": "2026-11-28T09:00:00Z",
    "last_used_at": "2026-11-30T08:12:00Z",
    "expires_at": "2026-12-28T09:00:00Z"
}))]
pub struct DeviceView {
    #[schema(format = Uuid)]
    pub id: String,
    /// The browser's user agent when it was remembered (display only).
    #[schema(max_length = 200)]
    pub name: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// The last login it skipped the second factor of.
    #[schema(format = DateTime)]
    pub last_used_at: String,
    /// When trust ends: the window granted, or sooner if the account's
    /// admin has shortened it since.
    #[schema(format = DateTime)]
    pub expires_at: String,
}

/// The caller's remembered devices still trusted, newest first (at most 20).
#[derive(Debug, Serialize, ToSchema)]
pub struct DeviceList {
    pub items: Vec<DeviceView>,
}
