//! The `twofold` binary as an operator runs it: no `TWOFOLD_*` variable
//! leaks in from the environment the tests run in.

use std::path::Path;
use std::process::{Command, Stdio};

use super::TestApp;

/// The binary with every inherited `TWOFOLD_*` variable removed, run in `cwd`.
pub fn bare(cwd: &Path) -> Command {
    without_twofold_env(Command::new(env!("CARGO_BIN_EXE_twofold")), cwd)
}

/// [`bare`] in a session of its own, as a service manager starts it:
/// `setsid` runs it in place (the child is no process group leader), so the
/// child's pid is the binary's.
pub fn bare_in_own_session(cwd: &Path) -> Command {
    let mut cmd = Command::new("setsid");
    cmd.arg(env!("CARGO_BIN_EXE_twofold"));
    without_twofold_env(cmd, cwd)
}

fn without_twofold_env(mut cmd: Command, cwd: &Path) -> Command {
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("TWOFOLD_") {
            cmd.env_remove(name);
        }
    }
    cmd.current_dir(cwd).stdin(Stdio::null());
    cmd
}

/// A local address nobody listens on right now, for a spawned server.
pub fn free_addr() -> std::net::SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address")
}

/// `cmd` on a SQLite file and data directory of its own in `dir`, whatever
/// the suite's database.
pub fn on_sqlite_file<'c>(cmd: &'c mut Command, dir: &Path) -> &'c mut Command {
    cmd.env(
        "TWOFOLD_DATABASE_URL",
        format!("sqlite://{}", dir.join("twofold.db").display()),
    )
    .env("TWOFOLD_DATA_DIR", dir)
}

/// Starts a login for `email` on the server at `base` (a spawned binary);
/// returns the flow token of its `password_required` answer.
pub async fn start_login(client: &reqwest::Client, base: &str, email: &str) -> String {
    let start: serde_json::Value = client
        .post(format!("{base}/v1/auth/login"))
        .json(&serde_json::json!({ "email": email }))
        .send()
        .await
        .expect("login request")
        .json()
        .await
        .expect("login answer");
    assert_eq!(start["status"], "password_required", "{start}");
    start["flow_token"].as_str().expect("flow_token").to_owned()
}

/// The binary on the database, data directory and master key of `t`, with
/// cheap argon2,
/// run in `cwd`.
pub fn on_app(t: &TestApp, cwd: &Path) -> Command {
    let config = &t.state.config;
    let mut cmd = bare(cwd);
    cmd.env("TWOFOLD_DATABASE_URL", &config.database_url)
        .env("TWOFOLD_DATA_DIR", &config.data_dir)
        .env("TWOFOLD_MASTER_KEY", super::MASTER_KEY)
        .env("TWOFOLD_ARGON2_MEMORY_KIB", "64")
        .env("TWOFOLD_ARGON2_ITERATIONS", "1");
    cmd
}
