//! `twofold keys reseal`: every sealed value re-encrypted under the current
//! master key, in small batches (one short transaction each), while the
//! service runs. A value changed meanwhile is left alone, a value sealed
//! under a key the ring lacks is skipped and counted, and a run that stops
//! half-way is finished by running it again.

use serde::Serialize;

use super::repo::{self, Sealed};
use crate::crypto::keyring::MasterKeys;
use crate::crypto::secretbox::SecretBoxError;
use crate::db::{write_tx, DbConn};
use crate::error::ApiError;

/// Values per batch.
pub const BATCH: i64 = 200;

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct Resealed {
    /// Values re-encrypted by this run.
    pub resealed: u64,
    /// Values still sealed under another key after it: under a key the ring
    /// lacks, or written by an instance still sealing under an old key.
    pub remaining: u64,
}

pub fn reseal(conn: &mut DbConn, master: &MasterKeys) -> Result<Resealed, ApiError> {
    let mut done = Resealed::default();
    for table in Sealed::ALL {
        let mut after = String::new();
        loop {
            let batch = repo::not_under(conn, table, master.current_id(), &after, BATCH)?;
            let Some(last) = batch.last() else { break };
            after.clone_from(&last.row);
            done.resealed += write_tx(conn, |conn| {
                let mut resealed = 0;
                for value in &batch {
                    let plain = match master.open(&value.sealed, &value.owner) {
                        Ok(plain) => plain,
                        Err(SecretBoxError::UnknownKey(key_id)) => {
                            tracing::warn!(key_id = %key_id, ?table, "sealed under a key this ring lacks; left as is");
                            continue;
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, ?table, "a sealed value does not open; left as is");
                            continue;
                        }
                    };
                    let new = master.seal(&plain, &value.owner)?;
                    if repo::replace(conn, table, &value.row, &value.sealed, &new)? {
                        resealed += 1;
                    }
                }
                Ok(resealed)
            })?;
        }
    }
    done.remaining = repo::count_by_key(conn)?
        .into_iter()
        .filter(|(key_id, _)| key_id != master.current_id())
        .map(|(_, n)| u64::try_from(n).unwrap_or(0))
        .sum();
    Ok(done)
}
