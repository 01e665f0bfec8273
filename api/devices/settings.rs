//! The admin's `remember_device_days` (in `PATCH /v1/admin/security`).

use std::net::IpAddr;

use super::service::MAX_DAYS;
use crate::admin::Admin;
use crate::audit::detail::RememberDeviceChanged;
use crate::audit::{self, kind, Actor, Detail, Event};
use crate::db::DbConn;
use crate::error::ApiError;

/// Sets the account's window, audited when it changes. Inside the caller's
/// transaction. Devices are not touched: their trust is computed against
/// the current setting whenever they are presented.
pub fn set_days(
    conn: &mut DbConn,
    admin: &Admin,
    days: i32,
    ip: IpAddr,
    now: i64,
) -> Result<(), ApiError> {
    if !(0..=MAX_DAYS).contains(&days) {
        return Err(ApiError::field(
            "remember_device_days",
            format!("must be 0 to {MAX_DAYS}"),
        ));
    }
    crate::accounts::repo::lock(conn, admin.account_id())?;
    let previous = crate::accounts::repo::set_remember_device_days(conn, admin.account_id(), days)?
        .ok_or(ApiError::NotFound)?;
    if previous != days {
        audit::record(
            conn,
            Event {
                account_id: admin.account_id(),
                actor: Actor::User(admin.user_id().clone()),
                subject_user_id: None,
                kind: kind::REMEMBER_DEVICE_CHANGED,
                ip: Some(ip.to_string()),
                detail: Detail::RememberDeviceChanged(RememberDeviceChanged {
                    remember_device_days: days,
                    previous_days: previous,
                }),
            },
            now,
        )?;
    }
    Ok(())
}
