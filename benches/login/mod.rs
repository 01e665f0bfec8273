//! The parts of the login-throughput benchmark: the hashing ceiling, the
//! seeded users, the login clients and the CPU accounting.

pub mod ceiling;
pub mod cpu;
pub mod drive;
pub mod pgstat;
pub mod seed;
