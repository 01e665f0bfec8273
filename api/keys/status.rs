//! `twofold keys status`: what each master key seals and which signing keys
//! exist, so an operator knows when an old master key may go and sees a
//! value this instance could not open.

use serde::Serialize;

use super::repo::{self, KeyRow};
use super::signing::RETIRED_GRACE_SECS;
use crate::crypto::keyring::MasterKeys;
use crate::db::DbConn;
use crate::error::ApiError;

#[derive(Debug, Serialize)]
pub struct Status {
    pub master_keys: Vec<MasterKeyStatus>,
    pub signing_keys: Vec<SigningKeyStatus>,
}

#[derive(Debug, Serialize)]
pub struct MasterKeyStatus {
    pub key_id: String,
    /// `current` (seals), `previous` (only opens) or `missing` (values are
    /// sealed under it but this configuration does not have it).
    pub role: &'static str,
    /// Values sealed under it.
    pub sealed: i64,
}

#[derive(Debug, Serialize)]
pub struct SigningKeyStatus {
    pub kid: String,
    /// `active`, `retired` (still verifies) or `expired` (verifies nothing).
    pub state: &'static str,
    pub created_at: i64,
    pub retired_at: Option<i64>,
    pub age_secs: i64,
    /// The master key its private half is sealed under.
    pub sealed_under: String,
}

pub fn status(conn: &mut DbConn, master: &MasterKeys, now: i64) -> Result<Status, ApiError> {
    let counts = repo::count_by_key(conn)?;
    let count = |id: &str| {
        counts
            .iter()
            .find(|(key_id, _)| key_id == id)
            .map_or(0, |(_, n)| *n)
    };
    let mut master_keys: Vec<MasterKeyStatus> = master
        .ids()
        .enumerate()
        .map(|(i, id)| MasterKeyStatus {
            key_id: id.to_owned(),
            role: if i == 0 { "current" } else { "previous" },
            sealed: count(id),
        })
        .collect();
    master_keys.extend(
        counts
            .iter()
            .filter(|(id, _)| !master.has(id))
            .map(|(id, n)| MasterKeyStatus {
                key_id: id.clone(),
                role: "missing",
                sealed: *n,
            }),
    );
    let signing_keys = repo::all(conn)?
        .into_iter()
        .map(|row| signing_status(row, now))
        .collect();
    Ok(Status {
        master_keys,
        signing_keys,
    })
}

fn signing_status(row: KeyRow, now: i64) -> SigningKeyStatus {
    let state = match row.retired_at {
        None => "active",
        Some(retired) if retired + RETIRED_GRACE_SECS > now => "retired",
        Some(_) => "expired",
    };
    SigningKeyStatus {
        sealed_under: crate::crypto::secretbox::key_id_of(&row.private_sealed)
            .unwrap_or("?")
            .to_owned(),
        kid: row.kid,
        state,
        created_at: row.created_at,
        retired_at: row.retired_at,
        age_secs: now - row.created_at,
    }
}

impl Status {
    /// The human form: one line per key.
    pub fn describe(&self) -> String {
        let mut out = String::from("master keys:\n");
        for key in &self.master_keys {
            out.push_str(&format!(
                "  {} {:<8} seals {}\n",
                key.key_id, key.role, key.sealed
            ));
        }
        out.push_str("signing keys:\n");
        for key in &self.signing_keys {
            out.push_str(&format!(
                "  {} {:<7} {} days old, sealed under {}\n",
                key.kid,
                key.state,
                key.age_secs / 86_400,
                key.sealed_under
            ));
        }
        out
    }
}
