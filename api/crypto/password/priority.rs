//! The password workers' place in the CPU scheduler: behind everything else.
//!
//! A hash is throughput work; a code step, a refresh and the database
//! serving them are latency work. On Linux the workers run under
//! `SCHED_IDLE`: the scheduler then preempts a worker the moment any other
//! thread wakes on its CPU (a request's thread, a PostgreSQL backend woken
//! by a query), where a lower nice value still lets the worker finish its
//! time slice first, a few milliseconds at every one of a request's round
//! trips. Hashes still use every CPU nobody else wants; on a host where
//! other busy programs share the process's CPU group, they get only what
//! those leave (see the README's CPU scheduling).
//!
//! Where the policy cannot be set, the workers fall back to nice 10; on
//! other systems they keep the process's priority.

/// Nice value of the workers when `SCHED_IDLE` is refused (0 is the
/// process's default, 19 the lowest priority).
#[cfg(target_os = "linux")]
const FALLBACK_NICE: i32 = 10;

/// Lowers the calling thread's CPU priority as far as the system allows.
pub(super) fn lower() {
    #[cfg(target_os = "linux")]
    if let Err(idle) = sched_idle() {
        let tid = rustix::thread::gettid();
        match rustix::process::setpriority_process(Some(tid), FALLBACK_NICE) {
            Ok(()) => tracing::warn!(error = %idle, "password workers at nice 10, not SCHED_IDLE"),
            Err(e) => tracing::warn!(error = %e, "cannot lower the password workers' priority"),
        }
    }
}

/// Puts the calling thread (Linux schedules threads, and pid 0 is the
/// caller) under `SCHED_IDLE`, which any thread may choose for itself.
#[cfg(target_os = "linux")]
#[expect(
    unsafe_code,
    reason = "sched_setscheduler has no safe wrapper in std or rustix"
)]
fn sched_idle() -> std::io::Result<()> {
    let param = libc::sched_param { sched_priority: 0 };
    // SAFETY: `param` is an initialised `sched_param` that outlives the
    // call, which only reads it; pid 0 names the calling thread.
    let rc = unsafe { libc::sched_setscheduler(0, libc::SCHED_IDLE, &param) };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    /// The calling thread's scheduling policy, from `/proc`.
    fn own_policy() -> Option<u32> {
        let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
        // Fields after the command name, which is in parentheses and may
        // hold spaces: state is field 3, policy field 41.
        let (_, rest) = stat.rsplit_once(')')?;
        rest.split_whitespace().nth(41 - 3)?.parse().ok()
    }

    #[test]
    fn a_lowered_thread_runs_under_sched_idle_and_others_do_not() {
        const SCHED_OTHER: u32 = 0;
        const SCHED_IDLE: u32 = 5;
        let lowered = std::thread::spawn(|| {
            super::lower();
            own_policy()
        });
        assert_eq!(lowered.join().unwrap(), Some(SCHED_IDLE));
        let untouched = std::thread::spawn(own_policy);
        assert_eq!(untouched.join().unwrap(), Some(SCHED_OTHER));
    }
}
