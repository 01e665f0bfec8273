//! Remembered devices: a browser that proved a second factor, on an account
//! whose admin allows it, skips the second factor for a while. The password
//! is always still asked; the device only stands in for the second factor,
//! and never as one proven now (`dev` in `amr`, see
//! [`crate::sessions::service::Caller::fresh_second_factor`]).
//!
//! The rules of the account win: trust lasts the shorter of the window
//! granted and the account's current `remember_device_days` (so lowering the
//! setting shortens every device at once, and 0 ends them all), and the
//! password step consults a device only where it would otherwise ask for a
//! second factor: never when enrollment is due (a reset), never while the
//! user's second factor is locked, never from an address the IP allow-list
//! refuses (refused before).

use std::net::IpAddr;

use super::dto::{DeviceList, DeviceView};
use super::repo::{self, Device};
use crate::accounts::Account;
use crate::audit::detail::{DeviceForgotten, DeviceRemembered, DeviceUsed, ForgetReason};
use crate::audit::{self, kind, Actor, Detail, Event};
use crate::clock::rfc3339;
use crate::crypto::{new_token, sha256_hex, Secret};
use crate::db::{write_tx, DbConn};
use crate::error::ApiError;
use crate::ids::{AccountId, UserId};
use crate::sessions::service::Caller;
use crate::state::AppState;
use crate::users::User;

/// Devices one user may have remembered; a new one past it ends the oldest.
pub const MAX_DEVICES: usize = 20;

/// The longest window an admin may allow, in days.
pub const MAX_DAYS: i32 = 90;

const DAY_SECS: i64 = 86_400;

/// A device just remembered: the token to hand to the browser, once.
#[derive(Debug)]
pub struct Granted {
    pub token: Secret,
    pub expires_at: i64,
}

/// When trust in `device` ends under the account's current setting.
pub fn trusted_until(device: &Device, days: i32) -> i64 {
    device
        .expires_at
        .min(device.created_at + i64::from(days.max(0)) * DAY_SECS)
}

/// Remembers the browser of a login that proved a second factor, when the
/// account allows it. Inside the transaction that opens the session.
pub fn grant(
    conn: &mut DbConn,
    user: &User,
    name: Option<String>,
    ip: IpAddr,
    now: i64,
) -> Result<Option<Granted>, ApiError> {
    let days = crate::accounts::repo::find(conn, &user.account_id)?
        .map_or(0, |account| account.remember_device_days);
    if days <= 0 {
        return Ok(None);
    }
    let token = new_token("dev_");
    let expires_at = now + i64::from(days) * DAY_SECS;
    let device = Device {
        id: uuid::Uuid::new_v4().to_string(),
        user_id: user.id.clone(),
        token_hash: sha256_hex(token.expose()),
        name,
        created_at: now,
        last_used_at: now,
        expires_at,
    };
    repo::insert(conn, &device)?;
    repo::delete_beyond(conn, &user.id, MAX_DEVICES)?;
    let detail = Detail::DeviceRemembered(DeviceRemembered {
        device_id: device.id.clone(),
        expires_at: rfc3339(expires_at),
    });
    audit::record(
        conn,
        Event::of_user(user, kind::DEVICE_REMEMBERED, ip, detail),
        now,
    )?;
    Ok(Some(Granted { token, expires_at }))
}

/// The device `token` names when it is `user`'s and trusted now; `None`
/// for anything else (another user's token, an unknown, ended or expired
/// one), which the caller answers exactly like no token at all.
pub fn recognise(
    conn: &mut DbConn,
    user: &User,
    account: &Account,
    token: &Secret,
    now: i64,
) -> Result<Option<Device>, ApiError> {
    let found = repo::by_token(conn, &sha256_hex(token.expose()))?;
    Ok(found.filter(|device| {
        crate::crypto::constant_time_eq(
            device.user_id.as_str().as_bytes(),
            user.id.as_str().as_bytes(),
        ) && trusted_until(device, account.remember_device_days) > now
    }))
}

/// Records that `device` stood in for the second factor of a login.
pub fn used(
    conn: &mut DbConn,
    user: &User,
    device: &Device,
    ip: IpAddr,
    now: i64,
) -> Result<(), ApiError> {
    repo::touch(conn, &device.id, now)?;
    let detail = Detail::DeviceUsed(DeviceUsed {
        device_id: device.id.clone(),
    });
    audit::record(
        conn,
        Event::of_user(user, kind::DEVICE_USED, ip, detail),
        now,
    )
}

/// Ends every remembered device of a user (a reset, a password change, a
/// revocation of their sessions), audited with the count when there was
/// any. Inside the caller's transaction.
pub fn end_all(
    conn: &mut DbConn,
    account_id: &AccountId,
    user_id: &UserId,
    actor: Actor,
    reason: ForgetReason,
    ip: Option<String>,
    now: i64,
) -> Result<usize, ApiError> {
    let ended = repo::delete_all(conn, user_id)?;
    if ended > 0 {
        audit::record(
            conn,
            Event {
                account_id,
                actor,
                subject_user_id: Some(user_id),
                kind: kind::DEVICE_FORGOTTEN,
                ip,
                detail: Detail::DeviceForgotten(DeviceForgotten {
                    devices: ended,
                    reason,
                    device_id: None,
                }),
            },
            now,
        )?;
    }
    Ok(ended)
}

/// The caller's remembered devices still trusted, newest first.
pub async fn list(app: &AppState, caller: &Caller) -> Result<DeviceList, ApiError> {
    let now = app.now();
    let user = caller.user.clone();
    app.db
        .run(move |conn| {
            let days = crate::accounts::repo::find(conn, &user.account_id)?
                .map_or(0, |account| account.remember_device_days);
            let items = repo::of_user(conn, &user.id)?
                .into_iter()
                .filter_map(|device| {
                    let until = trusted_until(&device, days);
                    (until > now).then(|| DeviceView {
                        id: device.id,
                        name: device.name,
                        created_at: rfc3339(device.created_at),
                        last_used_at: rfc3339(device.last_used_at),
                        expires_at: rfc3339(until),
                    })
                })
                .collect();
            Ok(DeviceList { items })
        })
        .await
}

/// Forgets one of the caller's devices: its token is refused at once.
/// Another user's device, or one already gone, is 404.
pub async fn forget(
    app: &AppState,
    caller: &Caller,
    id: String,
    ip: IpAddr,
) -> Result<(), ApiError> {
    let now = app.now();
    let user = caller.user.clone();
    app.db
        .run(move |conn| {
            write_tx(conn, |conn| {
                if !repo::delete_one(conn, &user.id, &id)? {
                    return Err(ApiError::NotFound);
                }
                let detail = Detail::DeviceForgotten(DeviceForgotten {
                    devices: 1,
                    reason: ForgetReason::User,
                    device_id: Some(id.clone()),
                });
                audit::record(
                    conn,
                    Event::of_user(&user, kind::DEVICE_FORGOTTEN, ip, detail),
                    now,
                )
            })
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trust_ends_with_the_shorter_of_the_grant_and_the_setting() {
        let device = Device {
            id: "d".into(),
            user_id: "u".into(),
            token_hash: "h".into(),
            name: None,
            created_at: 1_000,
            last_used_at: 1_000,
            expires_at: 1_000 + 30 * DAY_SECS,
        };
        assert_eq!(trusted_until(&device, 30), 1_000 + 30 * DAY_SECS);
        assert_eq!(trusted_until(&device, 90), 1_000 + 30 * DAY_SECS);
        assert_eq!(trusted_until(&device, 10), 1_000 + 10 * DAY_SECS);
        assert_eq!(trusted_until(&device, 0), 1_000);
        assert_eq!(trusted_until(&device, -5), 1_000);
    }
}
