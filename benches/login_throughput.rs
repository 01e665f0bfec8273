//! Complete logins per second, against what argon2id alone allows.
//!
//! In one run:
//! 1. the hashing ceiling: verifications per second of the service's own
//!    password pool (`PasswordHasher`, one thread per CPU, production
//!    argon2id parameters), kept saturated; measured before and after the
//!    logins, and averaged;
//! 2. complete logins (email → password → app code, ending `authenticated`)
//!    from `--clients` concurrent clients against the real `twofold serve`
//!    binary for `--seconds`, after a `--warm-up`; every other answer is an
//!    error, counted and printed;
//! 3. the CPU used meanwhile by this process (the load generator), by the
//!    server and, on PostgreSQL, by the backends serving the bench database.
//!
//! ```sh
//! cargo bench --bench login_throughput -- [--clients 16] [--seconds 20] \
//!     [--warm-up 3] [--database postgres://USER:PASS@HOST/DB] [--perf FILE]
//! ```
//! With `--perf FILE`, `perf record -g` samples the server during the
//! measured window into FILE (`scripts/bench-login.sh` summarises it); the
//! server then runs with `TWOFOLD_AUTOGROUP_NICE=0`, or perf would take its
//! CPUs (see the README's CPU scheduling).
//! Enrolled users are seeded straight into the database (see `login/seed.rs`):
//! enough that none comes round twice within one 30-second code step.

#![expect(
    clippy::expect_used,
    reason = "a benchmark harness stops loudly on any failure"
)]

use std::cell::RefCell;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use base64::Engine as _;
use twofold::config::PasswordParams;
use twofold::crypto::password::PasswordHasher;
use twofold::crypto::secretbox::SecretBox;
use twofold::crypto::{random_bytes, Secret};

mod common;
use common::server::{autogroup, create_account, free_port, serve};
mod login;
use common::{arg, Scratch};
use login::cpu::{self, Usage};
use login::{ceiling, drive, pgstat, seed};

const PASSWORD: &str = "correct horse battery staple";
/// Seconds of logins at the ceiling rate before a user comes round again:
/// more than one 30-second code step.
const ROTATION_SECS: f64 = 45.0;

fn number<T: std::str::FromStr>(name: &str, default: T) -> T {
    arg(name).map_or(default, |v| v.parse().ok().expect(name))
}

fn wait_ready(base: &str) {
    actix_web::rt::System::new().block_on(async {
        let client = reqwest::Client::new();
        for _ in 0..200 {
            let ready = client.get(format!("{base}/readyz")).send().await;
            if ready.is_ok_and(|r| r.status() == 200) {
                return;
            }
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("twofold serve did not become ready");
    });
}

/// CPU counters at one edge of the measured window.
struct Snapshot {
    at: Instant,
    own: Usage,
    server: Usage,
    /// Ticks of the server's password pool threads.
    pool: u64,
    backends: std::collections::HashMap<String, Usage>,
    /// PostgreSQL's counters for the bench database.
    pg: Option<(pgstat::Counters, Vec<pgstat::Table>)>,
}

fn snapshot(
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

fn percentile(samples: &mut [Duration], p: f64) -> f64 {
    if samples.is_empty() {
        return f64::NAN;
    }
    samples.sort();
    let rank = ((p * samples.len() as f64).ceil() as usize).clamp(1, samples.len());
    samples[rank - 1].as_secs_f64() * 1000.0
}

fn main() {
    let clients: usize = number("--clients", 16);
    let window = Duration::from_secs(number("--seconds", 20));
    let warm_up = Duration::from_secs(number("--warm-up", 3));
    let ceiling_window = Duration::from_secs(number("--ceiling-seconds", 4));
    let perf_file = arg("--perf");
    let cores = std::thread::available_parallelism().map_or(1, usize::from);

    // 1. The ceiling, with the service's own pool and parameters.
    let params = PasswordParams::default();
    let hasher = PasswordHasher::new(params).expect("password pool");
    let hash = hasher
        .hash_blocking(&Secret::new(PASSWORD))
        .expect("hash the bench password");
    let before = ceiling::measure(&hasher, &hash, PASSWORD, cores, ceiling_window);

    // 2. A server over enough enrolled users.
    let users = ((before.per_second * ROTATION_SECS).ceil() as usize).max(clients * 8);
    let dir = tempfile::tempdir().expect("temporary directory");
    let database = Scratch::new(arg("--database").as_deref(), "login", &dir);
    let postgres = database.url.starts_with("postgres");
    let db_name = postgres.then(|| {
        let path = database.url.split('?').next().unwrap_or("");
        path.rsplit('/').next().unwrap_or("").to_owned()
    });
    let key = random_bytes::<32>();
    let port = free_port();
    let mut env: Vec<(String, String)> = vec![
        ("TWOFOLD_DATABASE_URL".into(), database.url.clone()),
        ("TWOFOLD_DATA_DIR".into(), dir.path().display().to_string()),
        ("TWOFOLD_BIND".into(), format!("127.0.0.1:{port}")),
        ("TWOFOLD_LOG".into(), "warn".into()),
        (
            "TWOFOLD_MASTER_KEY".into(),
            base64::engine::general_purpose::STANDARD.encode(key),
        ),
    ];
    if perf_file.is_some() {
        // `perf record` runs in this benchmark's session, at nice 0: against
        // the server's default autogroup weight it would take the CPUs from
        // the server it samples.
        env.push(("TWOFOLD_AUTOGROUP_NICE".into(), "0".into()));
    }
    let created = create_account(&env, users + 10);
    let account_id = created["account_id"].as_str().expect("account_id");
    let master = SecretBox::from_key(&key);
    let seeded = seed::enrolled_users(&database.url, account_id, users, &hash, &master);

    let server = serve(&env);
    let server_pid = server.0.id().to_string();
    let base = format!("http://127.0.0.1:{port}");
    wait_ready(&base);

    // 3. Logins, with the CPU counters read at the window's edges.
    let stats = db_name
        .as_deref()
        .map(|name| RefCell::new(pgstat::Stats::connect(&database.url, name)));
    let begin = || {
        // The warm-up's rows analysed (see `Scratch::analyze`).
        database.analyze();
        let perf = perf_file.as_ref().map(|file| {
            Command::new(std::env::var("PERF").unwrap_or_else(|_| "perf".into()))
                .args(["record", "-g", "-q", "-o", file, "-p", &server_pid])
                .args(["--", "sleep", &window.as_secs().to_string()])
                .spawn()
                .expect("start perf record")
        });
        (
            snapshot(&server_pid, db_name.as_deref(), stats.as_ref()),
            perf,
        )
    };
    let end = |(start, perf): (Snapshot, Option<Child>)| {
        let stop = snapshot(&server_pid, db_name.as_deref(), stats.as_ref());
        if let Some(mut perf) = perf {
            let _ = perf.wait();
        }
        (start, stop)
    };
    let password = PASSWORD.to_owned();
    let (mut outcome, (start, stop)) =
        drive::run(base, password, seeded, clients, warm_up, window, begin, end);
    drop(server);
    drop(stats);
    let after = ceiling::measure(&hasher, &hash, PASSWORD, cores, ceiling_window);
    drop(database);

    // 4. The numbers.
    let tick = cpu::ticks_per_second();
    let wall = (stop.at - start.at).as_secs_f64();
    let cores_of = |ticks: u64| ticks as f64 / tick / wall;
    let loadgen = cores_of((stop.own - start.own).ticks);
    let server_use = stop.server - start.server;
    let server_cores = cores_of(server_use.ticks);
    let backends = cores_of(cpu::backends_delta(&start.backends, &stop.backends));
    let ceiling = (before.per_second + after.per_second) / 2.0;
    let rate = outcome.logins as f64 / outcome.seconds;
    let n = outcome.logins.max(1) as f64;
    let per_login_ms = server_cores * wall * 1000.0 / n;
    let hash_ms = (before.cpu_ms + after.cpu_ms) / 2.0;
    let backend = if postgres { "PostgreSQL" } else { "SQLite" };

    println!(
        "== login throughput on {backend}: {cores} CPUs ({}), argon2id m={} KiB t={} p={}, \
         {clients} clients, {:.0} s measured after {} s warm-up, {users} seeded users",
        autogroup(),
        params.memory_kib,
        params.iterations,
        params.parallelism,
        outcome.seconds,
        warm_up.as_secs(),
    );
    println!(
        "hashing ceiling (PasswordHasher, {cores} threads): {ceiling:.1} verifications/s \
         (before {:.1}, after {:.1}); {hash_ms:.1} ms CPU per verification \
         (so {:.1}/s if the {cores} CPUs were free)",
        before.per_second,
        after.per_second,
        cores as f64 * 1000.0 / hash_ms,
    );
    println!(
        "logins: {} authenticated in {:.1} s = {rate:.1} logins/s",
        outcome.logins, outcome.seconds
    );
    let errors: usize = outcome.errors.values().sum();
    println!("errors: {errors}");
    for (what, count) in &outcome.errors {
        println!("  {count:>6} × {what}");
    }
    println!("efficiency: {:.3} of the ceiling", rate / ceiling);
    // Other load on the machine changes how much CPU either phase got;
    // per CPU-second it cancels out.
    let pool_cores = ceiling * hash_ms / 1000.0;
    println!(
        "per CPU-second: the ceiling's pool used {pool_cores:.2} of {cores} cores, the server \
         {server_cores:.2}; logins per server CPU-second ÷ verifications per pool CPU-second = {:.3}",
        (rate / server_cores) / (1000.0 / hash_ms)
    );
    let left = ceiling * (cores as f64 - loadgen) / cores as f64;
    println!(
        "load generator: {loadgen:.2} cores ({:.1} ms CPU per login); \
         efficiency corrected for it: {:.3}",
        loadgen * wall * 1000.0 / n,
        rate / left
    );
    let pool_ms = (stop.pool - start.pool) as f64 / tick * 1000.0 / n;
    println!(
        "server: {server_cores:.2} cores; {per_login_ms:.1} ms CPU per login: {pool_ms:.1} on the \
         argon2 pool threads ({:.0}%), {:.1} on all other threads; {:.1} minor page faults per login",
        100.0 * pool_ms / per_login_ms,
        per_login_ms - pool_ms,
        server_use.minor_faults as f64 / n,
    );
    if postgres {
        let backend_ms = backends * wall * 1000.0 / n;
        println!(
            "PostgreSQL backends of the bench database: {backends:.2} cores; {backend_ms:.1} ms CPU \
             per login; with them, hashing is {:.0}% of a login's CPU",
            100.0 * pool_ms / (per_login_ms + backend_ms)
        );
    }
    if let (Some((first, tables_then)), Some((last, tables_now))) = (start.pg, stop.pg) {
        let d = last - first;
        let per = |v: i64| v as f64 / n;
        println!(
            "PostgreSQL per login: {:.1} commits, {:.1} rollbacks; rows returned {:.1}, \
             fetched {:.1}, inserted {:.1}, updated {:.1}, deleted {:.1}",
            per(d.commits),
            per(d.rollbacks),
            per(d.returned),
            per(d.fetched),
            per(d.inserted),
            per(d.updated),
            per(d.deleted),
        );
        for t in pgstat::table_deltas(&tables_then, &tables_now)
            .iter()
            .take(5)
        {
            println!(
                "  {:<22} per login: {:.1} seq scans reading {:.1} rows, \
                 {:.1} index scans fetching {:.1} rows",
                t.name,
                per(t.seq_scans),
                per(t.seq_rows),
                per(t.idx_scans),
                per(t.idx_rows),
            );
        }
    }
    println!("{:<16} {:>8} {:>8}", "latency (ms)", "p50", "p99");
    let lat = &mut outcome.latencies;
    for (label, samples) in [
        ("email step", &mut lat.email),
        ("password step", &mut lat.password),
        ("code step", &mut lat.code),
        ("whole login", &mut lat.whole),
    ] {
        println!(
            "{label:<16} {:>8.2} {:>8.2}",
            percentile(samples, 0.5),
            percentile(samples, 0.99)
        );
    }
}
