//! The real `twofold serve` and the kernel's autogroup: started in a session
//! of its own, as a service manager starts it, the server lowers that
//! session's weight to `TWOFOLD_AUTOGROUP_NICE` (5 by default); started
//! from the tests' own session, which it shares with them and with whoever
//! ran them, it leaves the autogroup as it was. Each server runs on a
//! SQLite file of its own whatever the suite's database.

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::common::binary::{bare, bare_in_own_session, free_addr, on_sqlite_file};

/// A `twofold serve` child, killed when the test ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The autogroup line of `pid` ("/autogroup-7 nice 0"), or `None` on a
/// kernel without autogroup.
fn autogroup(pid: u32) -> Option<String> {
    std::fs::read_to_string(format!("/proc/{pid}/autogroup"))
        .ok()
        .map(|line| line.trim().to_owned())
}

/// `twofold serve` on a fresh SQLite file in `dir`, in a session of its
/// own when `own_session`, with `env` added.
/// Waits until it answers `/healthz`: its autogroup is settled by then.
async fn serve(dir: &Path, own_session: bool, env: &[(&str, &str)]) -> Server {
    let addr = free_addr();
    let mut cmd = if own_session {
        bare_in_own_session(dir)
    } else {
        bare(dir)
    };
    on_sqlite_file(&mut cmd, dir)
        .arg("serve")
        .env("TWOFOLD_BIND", addr.to_string())
        .envs(env.iter().copied())
        .stdout(Stdio::null());
    let server = Server(cmd.spawn().expect("start twofold serve"));
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    let health = format!("http://{addr}/healthz");
    while Instant::now() < deadline {
        if client
            .get(&health)
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            return server;
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("twofold serve did not answer /healthz within 30 s");
}

/// Whether a process leading a session of its own may set that session's
/// nice value here: a sandbox may mount `/proc` read-only. Tried like the
/// server tries, past the kernel's limit of one change per 100 ms.
fn a_session_may_set_its_autogroup() -> bool {
    (0..6).any(|attempt| {
        if attempt > 0 {
            std::thread::sleep(Duration::from_millis(110));
        }
        std::process::Command::new("setsid")
            .args(["sh", "-c", "echo 3 > /proc/self/autogroup"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    })
}

#[actix_web::test]
async fn a_server_leading_its_session_lowers_its_weight_and_one_sharing_a_session_does_not() {
    let Some(ours) = autogroup(std::process::id()) else {
        eprintln!("no autogroup in this kernel: nothing to check");
        return;
    };
    if !a_session_may_set_its_autogroup() {
        eprintln!("this system refuses autogroup changes: nothing to check");
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");

    let alone = serve(dir.path(), true, &[]).await;
    let line = autogroup(alone.0.id()).expect("the server's autogroup");
    assert!(line.ends_with(" nice 5"), "{line}");
    assert_ne!(line, ours, "setsid gave the server an autogroup of its own");
    drop(alone);

    let told_not_to = serve(dir.path(), true, &[("TWOFOLD_AUTOGROUP_NICE", "0")]).await;
    let line = autogroup(told_not_to.0.id()).expect("the server's autogroup");
    assert!(line.ends_with(" nice 0"), "{line}");
    drop(told_not_to);

    let shared = serve(dir.path(), false, &[]).await;
    assert_eq!(autogroup(shared.0.id()).as_deref(), Some(ours.as_str()));
    assert_eq!(
        autogroup(std::process::id()).as_deref(),
        Some(ours.as_str())
    );
}
