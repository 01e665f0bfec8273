//! What the benchmarks share: command-line options, scratch databases and
//! the real binary.

#[allow(dead_code, reason = "the list benchmark starts no server")]
pub mod server;

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};

/// The value after `name` on the command line.
pub fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

/// The `p` quantile of `samples` (sorted in place), in milliseconds; NaN
/// when there are none.
#[allow(dead_code, reason = "the list benchmark's samples are not durations")]
pub fn percentile(samples: &mut [std::time::Duration], p: f64) -> f64 {
    if samples.is_empty() {
        return f64::NAN;
    }
    samples.sort();
    let rank = ((p * samples.len() as f64).ceil() as usize).clamp(1, samples.len());
    samples[rank - 1].as_secs_f64() * 1000.0
}

/// Sends `request` with a bearer token and a JSON body if given: the
/// status, the body, and the time from sending to the whole body read.
#[allow(
    dead_code,
    reason = "the list and login benchmarks time no single call"
)]
pub async fn timed(
    mut request: reqwest::RequestBuilder,
    bearer: Option<&str>,
    body: Option<serde_json::Value>,
) -> (reqwest::StatusCode, Vec<u8>, std::time::Duration) {
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let started = std::time::Instant::now();
    let response = request.send().await.expect("server answers");
    let status = response.status();
    let bytes = response.bytes().await.expect("body");
    (status, bytes.to_vec(), started.elapsed())
}

/// A benchmark's database: a fresh PostgreSQL database next to `--database`
/// (dropped with this value), or a SQLite file in `dir`.
pub struct Scratch {
    pub url: String,
    postgres: Option<(String, String)>,
}

impl Scratch {
    pub fn new(base: Option<&str>, label: &str, dir: &tempfile::TempDir) -> Self {
        let Some(base) = base else {
            let file = dir.path().join(format!("bench-{label}.db"));
            return Self {
                url: format!("sqlite://{}", file.display()),
                postgres: None,
            };
        };
        let name = format!("twofold_bench_{label}_{}", std::process::id());
        twofold::db::init_tls();
        let mut admin = PgConnection::establish(base).expect("connect to --database");
        // Separate statements: sent together they run as one implicit
        // transaction, which DROP and CREATE DATABASE refuse.
        admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))
            .expect("drop an old bench database");
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create bench database");
        // The same server and options (`?sslmode=…`), another database.
        let (base_only, options) = base.split_once('?').unwrap_or((base, ""));
        let (prefix, _) = base_only.rsplit_once('/').expect("URL ends in /DB");
        let options = if options.is_empty() {
            String::new()
        } else {
            format!("?{options}")
        };
        Self {
            url: format!("{prefix}/{name}{options}"),
            postgres: Some((base.to_owned(), name)),
        }
    }

    /// On PostgreSQL, analyses every table, as autovacuum does on a running
    /// database (after 50 rows + 10 % changed; but its first pass may come
    /// a minute after start, after a benchmark's window). Without it, the
    /// plans the server's connections prepared while the tables were empty
    /// (sequential scans) stay cached through the whole run.
    #[allow(dead_code, reason = "the list and QR benchmarks analyse nothing")]
    pub fn analyze(&self) {
        if self.postgres.is_some() {
            let mut conn =
                PgConnection::establish(&self.url).expect("connect to the bench database");
            conn.batch_execute("ANALYZE")
                .expect("ANALYZE the bench database");
        }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Some((base, name)) = &self.postgres {
            if let Ok(mut admin) = PgConnection::establish(base) {
                let _ =
                    admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        }
    }
}
