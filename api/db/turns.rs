//! One turn at a time per user, within this instance, for the login steps'
//! transactions that lock the user's row.
//!
//! Those transactions take the user's row lock first
//! (`users::repo::lock`), so parallel attempts at one user are judged one
//! after the other. A transaction waiting for that lock holds a database
//! connection all the while. A flood of attempts at one account (from as
//! many addresses as an attacker rents) would then hold every connection of
//! the pool, and every other user's login would wait, then fail. So an
//! attempt first waits for its user's turn here, asynchronously, holding
//! no connection and no thread: at most one of this instance's connections
//! waits for any one user's row. Between instances the row lock still
//! decides; the turn only keeps the queue off the pool.
//!
//! Users share [`TURNS`] turns by a keyed hash of their id. Two users on
//! one turn wait for each other's transaction (a millisecond or so), never
//! for a password hash: hashing runs outside any turn.

use std::hash::{BuildHasher, RandomState};

use tokio::sync::{Mutex, MutexGuard};

/// How many turns users share.
pub const TURNS: usize = 1024;

pub struct Turns {
    turns: Box<[Mutex<()>]>,
    keys: RandomState,
}

impl Default for Turns {
    fn default() -> Self {
        Self {
            turns: (0..TURNS).map(|_| Mutex::new(())).collect(),
            keys: RandomState::new(),
        }
    }
}

impl std::fmt::Debug for Turns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Turns")
            .field("turns", &self.turns.len())
            .finish()
    }
}

impl Turns {
    /// Waits for `user`'s turn; it lasts as long as the guard.
    pub async fn take(&self, user: &str) -> MutexGuard<'_, ()> {
        let at = usize::try_from(self.keys.hash_one(user) % TURNS as u64).unwrap_or(0);
        self.turns[at].lock().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[actix_web::test]
    async fn one_user_waits_for_its_turn_and_others_do_not() {
        let turns = Turns::default();
        let held = turns.take("usr_a").await;
        assert!(futures_util::FutureExt::now_or_never(turns.take("usr_a")).is_none());
        // Another user is on another turn unless the hash puts them
        // together; of a few, most must be free.
        let free = ["usr_b", "usr_c", "usr_d", "usr_e", "usr_f"]
            .iter()
            .filter(|u| futures_util::FutureExt::now_or_never(turns.take(u)).is_some())
            .count();
        assert!(free >= 4, "{free} of 5 other users were free");
        drop(held);
        assert!(futures_util::FutureExt::now_or_never(turns.take("usr_a")).is_some());
    }
}
