//! `twofold keys ...`: rotate the token-signing key, rotate a generated
//! master key, reseal every secret under the current master key, and show
//! what each key seals. Each command opens the database, migrates it and
//! calls [`crate::keys`]; running instances need no restart.

use super::dispatch::{open_db, print};
use super::KeysCommand;
use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::crypto::keyring::{self, MasterKeys};
use crate::db::DbConn;
use crate::keys::reseal::{reseal, Resealed};
use crate::keys::signing::{self, RELOAD_SECS};
use crate::keys::status::status;
use crate::state::key_source;

pub fn run(json: bool, config: &Config, command: KeysCommand) -> Result<(), String> {
    let db = open_db(config)?;
    db.migrate().map_err(|e| e.to_string())?;
    let mut conn = db.conn().map_err(|e| e.to_string())?;
    let now = SystemClock.unix();
    match command {
        KeysCommand::RotateSigning => {
            let master = load(config)?;
            let kid = rotate_signing(&mut conn, &master, config, now)?;
            let value = serde_json::json!({ "kid": kid });
            print(json, &value, || {
                format!(
                    "token-signing key {kid} is active; every instance signs with it within \
                     {RELOAD_SECS} s, and tokens signed before stay valid until they expire"
                )
            })
        }
        KeysCommand::RotateMaster => {
            if config.master_key.is_some() {
                return Err(
                    "TWOFOLD_MASTER_KEY is set, so the master key is not generated: \
                     rotate it by hand (README, \"Rotating the master key\")"
                        .to_owned(),
                );
            }
            let rotated = keyring::rotate_generated(&config.data_dir).map_err(|e| e.to_string())?;
            let done = reseal_all(&mut conn, config)?;
            let value = serde_json::json!({
                "key_id": rotated.key_id,
                "retired_key_id": rotated.retired_key_id,
                "resealed": done.resealed,
                "remaining": done.remaining,
            });
            print(json, &value, || {
                format!(
                    "master key {} replaces {} (kept as a retired key that only opens)\n{}",
                    rotated.key_id,
                    rotated.retired_key_id,
                    describe(&done)
                )
            })
        }
        KeysCommand::Reseal => {
            let done = reseal_all(&mut conn, config)?;
            let value = serde_json::to_value(&done).map_err(|e| e.to_string())?;
            print(json, &value, || describe(&done))
        }
        KeysCommand::Status => {
            let master = load(config)?;
            let found = status(&mut conn, &master, now).map_err(|e| e.to_string())?;
            let value = serde_json::to_value(&found).map_err(|e| e.to_string())?;
            print(json, &value, || found.describe())
        }
    }
}

fn load(config: &Config) -> Result<MasterKeys, String> {
    MasterKeys::load(&key_source(config)).map_err(|e| format!("TWOFOLD_DATA_DIR: {e}"))
}

/// Rotates the signing key, creating the first one on a new database. A
/// rotation that races another (two operators, or an instance rotating by
/// age) tries again against the key that won.
fn rotate_signing(
    conn: &mut DbConn,
    master: &MasterKeys,
    config: &Config,
    now: i64,
) -> Result<String, String> {
    signing::ensure_active(conn, master, &config.data_dir, now).map_err(|e| e.to_string())?;
    for _ in 0..3 {
        let active = signing::active_kid(conn)
            .map_err(|e| e.to_string())?
            .ok_or("no active signing key")?;
        if let Some(kid) = signing::rotate(conn, master, &active, now).map_err(|e| e.to_string())? {
            return Ok(kid);
        }
    }
    Err("the signing key kept changing under this rotation; try again".to_owned())
}

fn reseal_all(conn: &mut DbConn, config: &Config) -> Result<Resealed, String> {
    let master = load(config)?;
    reseal(conn, &master).map_err(|e| e.to_string())
}

fn describe(done: &Resealed) -> String {
    let mut text = format!(
        "{} value(s) resealed; {} still under another key",
        done.resealed, done.remaining
    );
    if done.remaining > 0 {
        text.push_str(&format!(
            " (under a key this configuration lacks, or written by an instance that has not \
             reloaded its keys yet: `twofold keys status` tells which; run `twofold keys reseal` \
             again after {RELOAD_SECS} s)"
        ));
    }
    text
}
