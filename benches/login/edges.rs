//! The counters read at each measured round's edges, and their sums over
//! the rounds (the pauses between rounds, where this process measures the
//! hashing ceiling, left out).

use std::cell::RefCell;
use std::collections::HashMap;
use std::time::Instant;

use super::cpu::{self, Usage};
use super::pgstat;

/// CPU counters at one edge of a measured round.
pub struct Snapshot {
    pub at: Instant,
    /// This process: the load generator.
    pub own: Usage,
    pub server: Usage,
    /// Ticks of the server's password pool threads.
    pub pool: u64,
    pub backends: HashMap<String, Usage>,
    /// PostgreSQL's counters for the bench database.
    pub pg: Option<(pgstat::Counters, Vec<pgstat::Table>)>,
}

pub fn snapshot(
    server_pid: &str,
    database: Option<&str>,
    stats: Option<&RefCell<pgstat::Stats>>,
) -> Snapshot {
    Snapshot {
        pg: stats.map(|stats| {
            let mut stats = stats.borrow_mut();
            (stats.read(), stats.tables())
        }),
        at: Instant::now(),
        own: cpu::usage("self").expect("own /proc stat"),
        server: cpu::usage(server_pid).expect("server /proc stat"),
        pool: cpu::thread_ticks(server_pid, "argon2-"),
        backends: database.map(cpu::postgres_backends).unwrap_or_default(),
    }
}

/// What the rounds used, added up.
pub struct Totals {
    /// Seconds between the rounds' edges.
    pub wall: f64,
    /// Ticks of the load generator.
    pub own: u64,
    pub server: Usage,
    /// Ticks of the server's password pool threads.
    pub pool: u64,
    /// Ticks of the bench database's PostgreSQL backends.
    pub backends: u64,
}

pub fn totals(rounds: &[(Snapshot, Snapshot)]) -> Totals {
    let mut totals = Totals {
        wall: 0.0,
        own: 0,
        server: Usage::default(),
        pool: 0,
        backends: 0,
    };
    for (start, stop) in rounds {
        totals.wall += (stop.at - start.at).as_secs_f64();
        totals.own += (stop.own - start.own).ticks;
        totals.server = totals.server + (stop.server - start.server);
        totals.pool += stop.pool - start.pool;
        totals.backends += cpu::backends_delta(&start.backends, &stop.backends);
    }
    totals
}
