//! A place in the hashing queue (see the parent module).

use tokio::sync::{oneshot, OwnedSemaphorePermit};

use super::{Job, PasswordHasher};
use crate::crypto::Secret;
use crate::error::ApiError;

/// A place in the hashing queue, held from before a password step does
/// anything until its hash is done. There are as many as the queue holds,
/// so a job sent with one is never refused.
pub struct Slot {
    pub(super) hasher: PasswordHasher,
    pub(super) _place: OwnedSemaphorePermit,
}

impl Slot {
    pub async fn hash(self, password: Secret) -> Result<String, ApiError> {
        let (reply, answer) = oneshot::channel();
        self.hasher.submit(Job::Hash { password, reply })?;
        answer
            .await
            .map_err(ApiError::internal)?
            .map_err(ApiError::internal)
    }

    /// [`PasswordHasher::verify`] in this place.
    pub async fn verify(self, hash: Option<String>, password: Secret) -> Result<bool, ApiError> {
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| self.hasher.dummy_hash.as_str().to_owned());
        let (reply, answer) = oneshot::channel();
        self.hasher.submit(Job::Verify {
            hash,
            password,
            reply,
        })?;
        let matched = answer.await.map_err(ApiError::internal)?;
        Ok(known && matched)
    }
}

pub(super) fn queue_full() -> ApiError {
    ApiError::Unavailable {
        detail: "Too many password checks are queued; retry shortly.",
        retry_after: 1,
    }
}
