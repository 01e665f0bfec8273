//! The hashing ceiling: how many password verifications per second the
//! service's own argon2id pool ([`PasswordHasher`], one thread per CPU,
//! production parameters) completes when it never waits for work. No login
//! can be faster than this, since each costs one verification.

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use twofold::crypto::password::PasswordHasher;
use twofold::crypto::Secret;

use super::cpu;

/// What the pool did while saturated.
#[derive(Debug, Clone, Copy)]
pub struct Ceiling {
    /// Verifications completed per second of wall time.
    pub per_second: f64,
    /// CPU time (this process: the pool's threads) per verification, in
    /// milliseconds; unlike the rate, other load on the machine does not
    /// change it.
    pub cpu_ms: f64,
}

/// Jobs kept in flight per pool thread: enough that a worker always finds
/// the next one queued, far below the queue's bound (64 per worker).
const IN_FLIGHT_PER_WORKER: usize = 4;

/// Verifications of `password` against `hash`, counted over `window` after
/// one second in which every worker makes its first allocation.
pub fn measure(
    hasher: &PasswordHasher,
    hash: &str,
    password: &str,
    workers: usize,
    window: Duration,
) -> Ceiling {
    let warm_up = Duration::from_secs(1);
    actix_web::rt::System::new().block_on(async {
        let started = Instant::now();
        let counted = Rc::new(Cell::new(0usize));
        let used = Rc::new(Cell::new((None, None)));
        let mut loops = Vec::new();
        for _ in 0..workers * IN_FLIGHT_PER_WORKER {
            let (hasher, counted, used) = (hasher.clone(), Rc::clone(&counted), Rc::clone(&used));
            let (hash, password) = (hash.to_owned(), password.to_owned());
            loops.push(actix_web::rt::spawn(async move {
                loop {
                    let verified = hasher
                        .verify(Some(hash.clone()), Secret::new(password.clone()))
                        .await;
                    assert!(matches!(verified, Ok(true)), "{verified:?}");
                    let at = started.elapsed();
                    let (first, last) = used.get();
                    if at >= warm_up + window {
                        if last.is_none() {
                            used.set((first, cpu::usage("self")));
                        }
                        return;
                    }
                    if at >= warm_up {
                        if first.is_none() {
                            used.set((cpu::usage("self"), None));
                        }
                        counted.set(counted.get() + 1);
                    }
                }
            }));
        }
        for handle in loops {
            handle.await.expect("verification loop");
        }
        let counted = counted.get();
        let (Some(first), Some(last)) = used.get() else {
            panic!("no verification finished inside the window");
        };
        let seconds = (last - first).ticks as f64 / cpu::ticks_per_second();
        Ceiling {
            per_second: counted as f64 / window.as_secs_f64(),
            cpu_ms: seconds * 1000.0 / counted.max(1) as f64,
        }
    })
}
