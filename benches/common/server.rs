//! The real `twofold` binary, as the HTTP benchmarks start it.

use std::net::TcpListener;
use std::process::{Child, Command};

/// The binary Cargo built with this benchmark; `TWOFOLD_BIN` measures
/// another build instead (an older one, for a before/after).
const BIN: &str = env!("CARGO_BIN_EXE_twofold");

/// The server process; killed when dropped.
pub struct Server(pub Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `twofold` with exactly `env` (and `PATH`).
pub fn twofold(env: &[(String, String)]) -> Command {
    with_env(Command::new(bin()), env)
}

/// The binary under test.
fn bin() -> String {
    std::env::var("TWOFOLD_BIN").unwrap_or_else(|_| BIN.to_owned())
}

fn with_env(mut command: Command, env: &[(String, String)]) -> Command {
    command.env_clear().envs(env.iter().cloned());
    if let Ok(path) = std::env::var("PATH") {
        command.env("PATH", path);
    }
    command
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("local address").port()
}

/// Creates the "Bench" account (admin `admin@bench.test`) with `licenses`
/// through the CLI, as an operator would; its `--json` answer.
pub fn create_account(env: &[(String, String)], licenses: usize) -> serde_json::Value {
    let licenses = licenses.to_string();
    let created = twofold(env)
        .args(["--json", "accounts", "create", "--name", "Bench"])
        .args(["--admin-email", "admin@bench.test", "--licenses", &licenses])
        .output()
        .expect("run twofold accounts create");
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    serde_json::from_slice(&created.stdout).expect("accounts create --json")
}

/// `twofold serve` with `env`, its output discarded, in a session of its
/// own as a service manager starts it (systemd does): not in this
/// benchmark's, whose load generator would then share its autogroup.
/// `setsid` runs it in place (the child leads no process group), so the
/// child is the server.
pub fn serve(env: &[(String, String)]) -> Server {
    let mut setsid = Command::new("setsid");
    setsid.arg(bin());
    Server(
        with_env(setsid, env)
            .arg("serve")
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("start twofold serve (setsid is util-linux's)"),
    )
}

/// Whether the kernel groups CPU time by session (autogroup). It decides
/// how the server's threads share CPUs with PostgreSQL's backends, each of
/// which starts a session of its own: under autogroup every backend is a
/// group of its own, weighed against the whole server.
pub fn autogroup() -> &'static str {
    let setting = std::fs::read_to_string("/proc/sys/kernel/sched_autogroup_enabled");
    match setting.as_deref().map(str::trim) {
        Ok("1") => "sched autogroup on",
        Ok("0") => "sched autogroup off",
        _ => "no sched autogroup",
    }
}
