//! SQL of the attempt counters. Every reservation is one conditional
//! UPDATE (or an INSERT that ignores a row already there): the database,
//! not a read followed by a write, decides whether one more attempt fits.
//! Inserts never fail on a race, because callers run inside a transaction
//! that a unique violation would abort on PostgreSQL.
//!
//! One file per counter: [`flow`] (tries at a login step), [`user`] (wrong
//! passwords and second factors of a user) and [`address`] (failures from a
//! client address, and the addresses a user is known at). Callers use the
//! re-exports below.

mod address;
mod flow;
mod user;

pub use address::{
    purge_ended_windows, purge_known_addresses, release_address, remember_address, reserve_address,
};
pub use flow::{flow_attempts, reserve_flow};
pub use user::{
    claim_password_audit, lock_user, release_user, reserve_user, reset_user, user_counter, Counter,
    UserCounter,
};
