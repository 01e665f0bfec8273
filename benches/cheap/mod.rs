//! The parts of the cheap-requests-under-load benchmark.

pub mod client;
