//! CPU time of processes, read from `/proc/<pid>/stat`.
//!
//! The same kernel counters `getrusage` reports (user + system time of all
//! threads, children excluded), in clock ticks; `unsafe` is forbidden in
//! this crate, so the benchmark reads them from procfs instead of calling
//! libc. Over a window of seconds a tick (10 ms) is noise.

use std::collections::HashMap;
use std::fs;
use std::process::Command;

/// Clock ticks per second (`getconf CLK_TCK`; 100 on Linux when unknown).
pub fn ticks_per_second() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8_lossy(&out.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

/// What one process has used so far.
#[derive(Debug, Clone, Copy, Default)]
pub struct Usage {
    /// User + system time, in clock ticks.
    pub ticks: u64,
    /// Minor page faults (a page mapped for the first time).
    pub minor_faults: u64,
}

impl std::ops::Sub for Usage {
    type Output = Usage;
    fn sub(self, earlier: Usage) -> Usage {
        Usage {
            ticks: self.ticks.saturating_sub(earlier.ticks),
            minor_faults: self.minor_faults.saturating_sub(earlier.minor_faults),
        }
    }
}

impl std::ops::Add for Usage {
    type Output = Usage;
    fn add(self, other: Usage) -> Usage {
        Usage {
            ticks: self.ticks + other.ticks,
            minor_faults: self.minor_faults + other.minor_faults,
        }
    }
}

/// The usage of `pid` (`"self"` for this process), if it still runs.
pub fn usage(pid: &str) -> Option<Usage> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces and parentheses; fields follow the
    // last ')'. Field 3 (state) is index 0 below: minflt is field 10,
    // utime 14, stime 15.
    let (_, rest) = stat.rsplit_once(')')?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |n: usize| fields.get(n - 3).and_then(|f| f.parse::<u64>().ok());
    Some(Usage {
        ticks: field(14)? + field(15)?,
        minor_faults: field(10)?,
    })
}

/// Ticks used so far by the threads of `pid` whose name starts with
/// `prefix` (the password pool's threads are `argon2-N`). Threads persist,
/// so deltas of this sum are exact; the rest of the process is its total
/// minus this.
pub fn thread_ticks(pid: &str, prefix: &str) -> u64 {
    let Ok(tasks) = fs::read_dir(format!("/proc/{pid}/task")) else {
        return 0;
    };
    tasks
        .flatten()
        .filter_map(|task| {
            let tid = task.file_name().to_string_lossy().into_owned();
            let stat = fs::read_to_string(format!("/proc/{pid}/task/{tid}/stat")).ok()?;
            let name = stat.split_once('(')?.1.rsplit_once(')')?.0;
            name.starts_with(prefix)
                .then(|| usage(&format!("{pid}/task/{tid}")))
                .flatten()
        })
        .map(|usage| usage.ticks)
        .sum()
}

/// PostgreSQL backends serving `database` (their command line reads
/// `postgres: USER DATABASE HOST(PORT) STATE`), by pid.
pub fn postgres_backends(database: &str) -> HashMap<String, Usage> {
    let mut found = HashMap::new();
    let Ok(entries) = fs::read_dir("/proc") else {
        return found;
    };
    for entry in entries.flatten() {
        let pid = entry.file_name().to_string_lossy().into_owned();
        if !pid.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let Ok(cmdline) = fs::read(format!("/proc/{pid}/cmdline")) else {
            continue;
        };
        let cmdline = String::from_utf8_lossy(&cmdline);
        let ours = cmdline.starts_with("postgres: ")
            && cmdline.split_whitespace().any(|word| word == database);
        if let (true, Some(usage)) = (ours, usage(&pid)) {
            found.insert(pid, usage);
        }
    }
    found
}

/// Ticks the backends in `after` used since `before` (a backend that
/// started in between counts from zero).
pub fn backends_delta(before: &HashMap<String, Usage>, after: &HashMap<String, Usage>) -> u64 {
    after
        .iter()
        .map(|(pid, now)| (*now - before.get(pid).copied().unwrap_or_default()).ticks)
        .sum()
}
