//! twofold's weight among the host's sessions under the kernel's autogroup.
//!
//! Where `kernel.sched_autogroup_enabled` is on and no CPU cgroup holds the
//! process, Linux first shares a CPU between sessions, each weighed as one
//! task of the session's nice value, and only then among a session's
//! threads. PostgreSQL starts every backend in a session of its own, so a
//! backend woken by one of twofold's queries is weighed against the whole
//! of twofold: against its password workers too, whatever their own policy
//! (see `crypto::password::priority`). It can wait tens of milliseconds for
//! a CPU, and the request that sent the query waits with it.
//!
//! So a `twofold serve` that leads its own session (systemd starts every
//! service so, as does `setsid`) lowers that session's weight to
//! `TWOFOLD_AUTOGROUP_NICE`: the database's backends then get a CPU as soon
//! as they wake, and hashing takes what they leave. The same holds against
//! every other session on the host, which is the price (see the README's
//! CPU scheduling). A process started from a shell shares the shell's
//! session, and its autogroup is left alone: changing it would change the
//! shell's, and everything started from it, after twofold exits too.

use std::io;

/// What [`lower`] did.
#[derive(Debug)]
pub enum Autogroup {
    /// The session's nice value is now this.
    Lowered(u32),
    /// Left as it was, and why.
    Unchanged(&'static str),
    /// The kernel refused the new value.
    Refused(io::Error),
}

/// Sets the nice value of the process's autogroup to `nice` if the process
/// leads its session; 0 leaves it alone.
pub fn lower(nice: u32) -> Autogroup {
    if nice == 0 {
        return Autogroup::Unchanged("TWOFOLD_AUTOGROUP_NICE is 0");
    }
    set(nice)
}

#[cfg(target_os = "linux")]
fn set(nice: u32) -> Autogroup {
    const PATH: &str = "/proc/self/autogroup";
    if !leads_session() {
        return Autogroup::Unchanged("the process shares its session with others");
    }
    // The kernel takes one change every 100 ms from the whole host, and
    // answers EAGAIN to the next one sooner.
    let mut tries = 0;
    loop {
        match std::fs::write(PATH, nice.to_string()) {
            Ok(()) => return Autogroup::Lowered(nice),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Autogroup::Unchanged("the kernel has no autogroup")
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock && tries < 5 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(110));
            }
            Err(e) => return Autogroup::Refused(e),
        }
    }
}

/// Whether this process leads its session (its session id is its pid).
///
/// Read from `/proc/self/stat` rather than asked with `getsid`: a process
/// whose session leader lives outside its PID namespace (`docker exec`, a
/// CI runner's sandbox) has session id 0 there, which rustix's `getsid`
/// takes for a broken kernel and panics on.
#[cfg(target_os = "linux")]
fn leads_session() -> bool {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|stat| session_of(&stat))
        .is_some_and(|sid| sid == std::process::id())
}

/// The session id in a `/proc/<pid>/stat` line: the fourth field after the
/// command name, which is in parentheses and may itself hold any byte.
#[cfg(target_os = "linux")]
fn session_of(stat: &str) -> Option<u32> {
    let (_, after_comm) = stat.rsplit_once(')')?;
    after_comm.split_whitespace().nth(3)?.parse().ok()
}

#[cfg(not(target_os = "linux"))]
fn set(_nice: u32) -> Autogroup {
    Autogroup::Unchanged("autogroup is Linux's")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    #[test]
    fn the_session_is_read_past_any_command_name() {
        let stat = "4242 (a) b (c)) S 1 4242 4242 0 -1 4194560 120 0 0 0";
        assert_eq!(session_of(stat), Some(4242));
        // A session led from outside the process's PID namespace.
        assert_eq!(session_of("7 (twofold) S 0 0 0 0 -1 4194560"), Some(0));
        assert_eq!(session_of("7 (twofold"), None);
        assert_eq!(session_of("7 (twofold) S 0"), None);
    }

    #[test]
    fn zero_leaves_the_autogroup_alone() {
        assert!(matches!(lower(0), Autogroup::Unchanged(_)));
    }

    /// The test harness runs in the session of whoever started it: its
    /// autogroup, shared with that shell, must stay as it is.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_process_that_does_not_lead_its_session_changes_nothing() {
        if leads_session() {
            // Started by `setsid` or a service manager: the case the
            // spawned-server test covers.
            return;
        }
        let before = std::fs::read_to_string("/proc/self/autogroup").ok();
        assert!(matches!(lower(10), Autogroup::Unchanged(_)));
        assert_eq!(std::fs::read_to_string("/proc/self/autogroup").ok(), before);
    }
}
