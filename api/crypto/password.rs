//! argon2id password hashing on a bounded pool of its own.
//!
//! Hashing is deliberately expensive (tens of milliseconds and ~19 MiB each).
//! It runs on a fixed set of threads sized to the CPU count, fed by a bounded
//! queue, so that a burst of logins can never occupy the async workers or the
//! blocking pool that cheap requests (a code step, a token refresh) use. When
//! the queue is full the caller gets a 503 with `Retry-After` at once instead
//! of waiting behind hundreds of hashes.
//!
//! A place in the queue is a [`Slot`], taken before anything else is done
//! for a password: a login the queue cannot take is refused before it reads
//! or writes the database, so a flood of password attempts beyond what the
//! workers can hash costs the database nothing.

use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread;

use argon2::password_hash::{Output, PasswordHash, PasswordHasher as _, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::{oneshot, Semaphore};

mod priority;
mod slot;

use slot::queue_full;
pub use slot::Slot;

use super::{random_bytes, Secret};
use crate::config::PasswordParams;
use crate::error::ApiError;

/// Jobs waiting per worker before new ones are refused.
const QUEUE_PER_WORKER: usize = 64;

enum Job {
    Hash {
        password: Secret,
        reply: oneshot::Sender<Result<String, String>>,
    },
    Verify {
        hash: String,
        password: Secret,
        reply: oneshot::Sender<bool>,
    },
}

/// Handle to the hashing pool; clones share the same workers.
#[derive(Clone)]
pub struct PasswordHasher {
    queue: SyncSender<Job>,
    /// One permit per place in the queue (see [`Slot`]).
    places: Arc<Semaphore>,
    argon2: Argon2<'static>,
    /// A real hash of a random password, verified when the email is unknown
    /// so that both answers cost the same time.
    dummy_hash: Arc<String>,
}

impl PasswordHasher {
    pub fn new(params: PasswordParams) -> Result<Self, String> {
        let argon2 = argon2_for(params)?;
        let workers = thread::available_parallelism().map_or(2, usize::from);
        let places = workers * QUEUE_PER_WORKER;
        let (queue, jobs) = mpsc::sync_channel(places);
        let jobs = Arc::new(Mutex::new(jobs));
        for n in 0..workers {
            let jobs = Arc::clone(&jobs);
            let argon2 = argon2.clone();
            thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || {
                    priority::lower();
                    work(&jobs, &argon2)
                })
                .map_err(|e| format!("cannot start password worker: {e}"))?;
        }
        let dummy = Secret::new(crate::crypto::new_token("").into_inner());
        let dummy_hash = Arc::new(hash_with(&argon2, &dummy)?);
        Ok(Self {
            queue,
            places: Arc::new(Semaphore::new(places)),
            argon2,
            dummy_hash,
        })
    }

    /// Hashes on the calling thread: for the CLI, which has no event loop to protect.
    pub fn hash_blocking(&self, password: &Secret) -> Result<String, String> {
        hash_with(&self.argon2, password)
    }

    /// A place in the queue, or 503 at once when there is none (see
    /// [`Slot`]).
    pub fn slot(&self) -> Result<Slot, ApiError> {
        let place = Arc::clone(&self.places)
            .try_acquire_owned()
            .map_err(|_| queue_full())?;
        Ok(Slot {
            hasher: self.clone(),
            _place: place,
        })
    }

    pub async fn hash(&self, password: Secret) -> Result<String, ApiError> {
        self.slot()?.hash(password).await
    }

    /// Verifies `password` against `hash`, or against the dummy hash when
    /// there is no user, so that unknown emails take as long as known ones.
    pub async fn verify(&self, hash: Option<String>, password: Secret) -> Result<bool, ApiError> {
        self.slot()?.verify(hash, password).await
    }

    /// True when `hash` was made with the configured algorithm and cost, so
    /// a successful login need not re-hash it. Hashes made under older
    /// settings keep verifying (each records its own parameters) and are
    /// replaced at the user's next successful login.
    pub fn is_current(&self, hash: &str) -> bool {
        let Ok(parsed) = PasswordHash::new(hash) else {
            return false;
        };
        let Ok(stored) = Params::try_from(&parsed) else {
            return false;
        };
        let wanted = self.argon2.params();
        parsed.algorithm == argon2::ARGON2ID_IDENT
            && parsed.version == Some(u32::from(Version::V0x13))
            && stored.m_cost() == wanted.m_cost()
            && stored.t_cost() == wanted.t_cost()
            && stored.p_cost() == wanted.p_cost()
    }

    fn submit(&self, job: Job) -> Result<(), ApiError> {
        self.queue.try_send(job).map_err(|e| match e {
            TrySendError::Full(_) => queue_full(),
            TrySendError::Disconnected(_) => ApiError::internal("password workers stopped"),
        })
    }
}

fn argon2_for(params: PasswordParams) -> Result<Argon2<'static>, String> {
    let params = Params::new(
        params.memory_kib,
        params.iterations,
        params.parallelism,
        None,
    )
    .map_err(|e| format!("invalid argon2 parameters: {e}"))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

fn hash_with(argon2: &Argon2<'_>, password: &Secret) -> Result<String, String> {
    let salt = SaltString::encode_b64(&random_bytes::<16>()).map_err(|e| e.to_string())?;
    argon2
        .hash_password(password.expose().as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// Verifies `password` against the PHC string `hash`, which carries its own
/// algorithm, version, cost and salt (hashes made under older settings
/// still verify). The work area is the worker's own, reused from one
/// verification to the next: allocating and filling ~19 MiB afresh for
/// each would add about a tenth to every login's cost.
fn verify_with(hash: &str, password: &Secret, memory: &mut Vec<Block>) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(parsed.algorithm) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from).transpose() {
        Ok(version) => version.unwrap_or_default(),
        Err(_) => return false,
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    let mut salt_bytes = [0_u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let blocks = params.block_count();
    if memory.len() < blocks {
        memory.resize(blocks, Block::default());
    }
    let mut out = [0_u8; 64];
    let Some(out) = out.get_mut(..expected.len()) else {
        return false;
    };
    Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(password.expose().as_bytes(), salt, out, &mut memory[..])
        .is_ok()
        // `Output` compares in constant time.
        && Output::new(out).is_ok_and(|computed| computed == expected)
}

fn work(jobs: &Mutex<Receiver<Job>>, argon2: &Argon2<'static>) {
    let mut memory = Vec::new();
    loop {
        let job = {
            let Ok(receiver) = jobs.lock() else { return };
            match receiver.recv() {
                Ok(job) => job,
                // Every handle is gone: the app shut down.
                Err(_) => return,
            }
        };
        match job {
            Job::Hash { password, reply } => {
                let _ = reply.send(hash_with(argon2, &password));
            }
            Job::Verify {
                hash,
                password,
                reply,
            } => {
                let _ = reply.send(verify_with(&hash, &password, &mut memory));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> PasswordHasher {
        PasswordHasher::new(PasswordParams {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        })
        .unwrap()
    }

    #[actix_web::test]
    async fn hashes_are_argon2id_and_verify() {
        let hasher = cheap();
        let hash = hasher.hash(Secret::new("correct horse")).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=64,t=1,p=1$"));
        assert!(hasher
            .verify(Some(hash.clone()), Secret::new("correct horse"))
            .await
            .unwrap());
        assert!(!hasher
            .verify(Some(hash), Secret::new("wrong"))
            .await
            .unwrap());
    }

    #[actix_web::test]
    async fn with_every_place_taken_a_password_is_refused_at_once() {
        let hasher = cheap();
        let held: Vec<Slot> = std::iter::from_fn(|| hasher.slot().ok()).collect();
        let places = thread::available_parallelism().map_or(2, usize::from) * QUEUE_PER_WORKER;
        assert_eq!(held.len(), places);
        let refused = hasher.verify(None, Secret::new("anything")).await;
        assert!(matches!(
            refused,
            Err(ApiError::Unavailable { retry_after: 1, .. })
        ));
        // A place is given back when its job is done, and is taken again.
        let mut held = held.into_iter();
        let one = held.next().unwrap();
        assert!(!one.verify(None, Secret::new("anything")).await.unwrap());
        let again = hasher.slot().unwrap();
        let hash = again.hash(Secret::new("correct horse")).await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(hasher.slot().is_ok());
    }

    #[actix_web::test]
    async fn unknown_user_never_verifies() {
        let hasher = cheap();
        assert!(!hasher.verify(None, Secret::new("anything")).await.unwrap());
    }

    #[test]
    fn a_reused_work_area_verifies_hashes_of_any_cost_and_refuses_the_rest() {
        let cost = |m, t| {
            let params = Params::new(m, t, 1, None).unwrap();
            let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
            hash_with(&argon2, &Secret::new("pw")).unwrap()
        };
        let (big, small) = (cost(256, 2), cost(64, 1));
        let mut memory = Vec::new();
        // Larger first, so the smaller hash runs in a dirty, oversized area.
        for hash in [&big, &small, &big] {
            assert!(verify_with(hash, &Secret::new("pw"), &mut memory), "{hash}");
            assert!(!verify_with(hash, &Secret::new("pW"), &mut memory));
        }
        assert_eq!(memory.len(), 256);
        let last = if small.ends_with('A') { "B" } else { "A" };
        let tampered = format!("{}{last}", &small[..small.len() - 1]);
        assert!(!verify_with(&tampered, &Secret::new("pw"), &mut memory));
        assert!(!verify_with(
            "$argon2id$v=19$m=64",
            &Secret::new("pw"),
            &mut memory
        ));
        assert!(!verify_with("", &Secret::new("pw"), &mut memory));
    }

    #[test]
    fn default_parameters_are_owasp() {
        let hasher = PasswordHasher::new(PasswordParams::default()).unwrap();
        let hash = hasher.hash_blocking(&Secret::new("pw")).unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
    }
}
