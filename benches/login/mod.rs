//! The parts of the login-throughput benchmark: the hashing ceiling, the
//! seeded users, the login clients, the CPU accounting and its sums over
//! the measured rounds.

pub mod ceiling;
pub mod cpu;
pub mod drive;
pub mod edges;
pub mod pgstat;
pub mod seed;
