//! Bodies of the allow-list endpoints.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "3c9a1f2e-7d4b-4e8a-9f0c-1b2d3e4f5a6b",
    "cidr": "203.0.113.0/24",
    "description": "Head office",
    "created_at": "2026-11-28T09:00:00Z"
}))]
pub struct EntryView {
    #[schema(format = Uuid)]
    pub id: String,
    /// Canonical form: host bits clear; a single address as /32 or /128; an
    /// IPv4-mapped range (`::ffff:10.0.0.0/104`) as its IPv4 range (`10.0.0.0/8`).
    pub cidr: String,
    pub description: String,
    #[schema(format = DateTime)]
    pub created_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AllowlistView {
    /// Whether the list is enforced (switch it in `PATCH /v1/admin/security`).
    pub enabled: bool,
    /// The address this request came from, as twofold sees it.
    pub your_address: String,
    /// Whether `your_address` is on the list.
    pub your_address_listed: bool,
    pub entries: Vec<EntryView>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"cidr": "203.0.113.0/24", "description": "Head office"}))]
pub struct NewEntry {
    /// An IPv4 or IPv6 address or CIDR range, e.g. `10.0.0.0/8`, `2001:db8::/32`, `198.51.100.7`.
    pub cidr: String,
    #[serde(default)]
    #[schema(schema_with = crate::text::description_schema)]
    pub description: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeleteParams {
    /// Delete even if the list would then refuse your own address.
    pub force: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"ip_allowlist_enabled": true, "remember_device_days": 30}))]
pub struct SecurityUpdate {
    /// Turn the IP allow-list on or off.
    pub ip_allowlist_enabled: Option<bool>,
    /// How many days a browser that proved a second factor may skip it (0
    /// turns remembered devices off). Lowering it shortens every device's
    /// trust at once; 0 ends them all.
    #[schema(minimum = 0, maximum = 90)]
    pub remember_device_days: Option<i32>,
    /// Apply even if it would refuse your own current address.
    #[serde(default)]
    pub force: bool,
}
