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
//! Each user has a turn of their own, kept only while someone holds it or
//! waits for it: a flood at one account queues behind that account alone,
//! never behind another user who happened to share a turn with it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{Mutex as Queue, OwnedMutexGuard};

/// The turns of the users someone holds or waits for.
#[derive(Debug, Default)]
pub struct Turns {
    users: Mutex<HashMap<Box<str>, Arc<Queue<()>>>>,
}

/// A user's turn; the next waiter's comes when it is dropped.
pub struct Turn<'a> {
    // Let go first, so that the ticket sees whether anyone else still
    // holds or waits for the user's queue.
    _held: OwnedMutexGuard<()>,
    _ticket: Ticket<'a>,
}

/// A place in a user's queue, held from the moment a turn is asked for
/// (a wait given up on, by a timeout, drops it too).
struct Ticket<'a> {
    turns: &'a Turns,
    user: Box<str>,
    queue: Arc<Queue<()>>,
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        let mut users = self
            .turns
            .users
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        // The table's handle and this one: nobody else holds or waits.
        if Arc::strong_count(&self.queue) == 2 {
            users.remove(&self.user);
        }
    }
}

impl Turns {
    /// Waits for `user`'s turn; it lasts as long as the [`Turn`].
    pub async fn take(&self, user: &str) -> Turn<'_> {
        let queue = {
            let mut users = self.users.lock().unwrap_or_else(PoisonError::into_inner);
            Arc::clone(users.entry(user.into()).or_default())
        };
        let ticket = Ticket {
            turns: self,
            user: user.into(),
            queue,
        };
        let held = Arc::clone(&ticket.queue).lock_owned().await;
        Turn {
            _held: held,
            _ticket: ticket,
        }
    }

    /// Users someone holds or waits for a turn of.
    #[cfg(test)]
    fn users(&self) -> usize {
        self.users
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

#[cfg(test)]
mod tests {
    use futures_util::FutureExt;

    use super::*;

    /// Whether `user`'s turn can be had at once (outside tokio's
    /// cooperative budget, which would make the thousandth try wait).
    fn free(turns: &Turns, user: &str) -> bool {
        tokio::task::unconstrained(turns.take(user))
            .now_or_never()
            .is_some()
    }

    #[actix_web::test]
    async fn one_user_waits_for_its_turn_and_no_other_user_does() {
        let turns = Turns::default();
        let held = turns.take("usr_a").await;
        assert!(!free(&turns, "usr_a"));
        // However many users there are, none shares the held user's turn.
        let waiting = (0..5_000)
            .filter(|n| !free(&turns, &format!("usr_{n}")))
            .count();
        assert_eq!(waiting, 0, "users waiting for another user's turn");
        drop(held);
        assert!(free(&turns, "usr_a"));
    }

    #[actix_web::test]
    async fn a_user_is_forgotten_once_nobody_holds_or_waits_for_their_turn() {
        let turns = Turns::default();
        let held = turns.take("usr_a").await;
        let given_up =
            tokio::time::timeout(std::time::Duration::from_millis(10), turns.take("usr_a")).await;
        assert!(given_up.is_err());
        let next = turns.take("usr_a");
        assert_eq!(turns.users(), 1);
        drop(held);
        drop(next.await);
        assert!(free(&turns, "usr_b"));
        assert_eq!(turns.users(), 0);
    }
}
