//! Complete logins per second, against what argon2id alone allows.
//!
//! In one run:
//! 1. the hashing ceiling: verifications per second of the service's own
//!    password pool (`PasswordHasher`, one thread per CPU, production
//!    argon2id parameters), kept saturated for `--ceiling-seconds`;
//! 2. complete logins (email → password → app code, ending `authenticated`)
//!    from `--clients` concurrent clients against the real `twofold serve`
//!    binary for `--seconds` in all, after a `--warm-up`; every other answer
//!    is an error, counted and printed;
//! 3. the CPU used meanwhile by this process (the load generator), by the
//!    server and, on PostgreSQL, by the backends serving the bench database.
//!
//! The logins are cut into `--rounds` rounds, and the ceiling is measured
//! before the first, between every two (the clients paused, the server
//! idle) and after the last: this machine's speed for argon2 drifts by up
//! to a quarter within a minute, so each round is set against the ceiling
//! measured on either side of it, not against one taken a minute away.
//!
//! ```sh
//! cargo bench --bench login_throughput -- [--clients 16] [--seconds 20] \
//!     [--rounds 8] [--warm-up 3] [--ceiling-seconds 2] \
//!     [--database postgres://USER:PASS@HOST/DB] [--perf FILE]
//! ```
//! With `--perf FILE`, `perf record -g` samples the server during one
//! measured window (`--rounds` is then 1) into FILE (`scripts/bench-login.sh`
//! summarises it); the server then runs with `TWOFOLD_AUTOGROUP_NICE=0`, or
//! perf would take its CPUs (see the README's CPU scheduling).
//! Enrolled users are seeded straight into the database (see `login/seed.rs`):
//! enough that none comes round twice within one 30-second code step.

#![expect(
    clippy::expect_used,
    reason = "a benchmark harness stops loudly on any failure"
)]

use std::cell::RefCell;
use std::process::{Child, Command};
use std::time::Duration;

use base64::Engine as _;
use twofold::config::PasswordParams;
use twofold::crypto::password::PasswordHasher;
use twofold::crypto::secretbox::SecretBox;
use twofold::crypto::{random_bytes, Secret};

mod common;
use common::server::{autogroup, create_account, free_port, serve};
mod login;
use common::{arg, percentile, Scratch};
use login::cpu;
use login::edges::{self, Snapshot, Totals};
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

/// `values` with `decimals` decimals, comma-separated.
fn list(values: impl Iterator<Item = f64>, decimals: usize) -> String {
    values
        .map(|v| format!("{v:.decimals$}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn main() {
    let clients: usize = number("--clients", 16);
    let window = Duration::from_secs(number("--seconds", 20));
    let perf_file = arg("--perf");
    // A profile is taken over one window: with pauses between rounds,
    // `perf record -p` was seen spinning on both CPUs while the server
    // idled, and the ceiling measured then found none free.
    let round_count: u32 = if perf_file.is_some() {
        1
    } else {
        number("--rounds", 8).max(1)
    };
    let rounds = drive::Rounds {
        count: round_count as usize,
        seconds: window / round_count,
        re_warm_up: Duration::from_secs(1),
    };
    let warm_up = Duration::from_secs(number("--warm-up", 3));
    let ceiling_window = Duration::from_secs(number("--ceiling-seconds", 2));
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

    // 3. Logins, with the CPU counters read at each round's edges, and the
    // ceiling again between rounds.
    let stats = db_name
        .as_deref()
        .map(|name| RefCell::new(pgstat::Stats::connect(&database.url, name)));
    let perf: RefCell<Option<Child>> = RefCell::new(None);
    let first_round = std::cell::Cell::new(true);
    let begin = || {
        if first_round.replace(false) {
            // The warm-up's rows analysed (see `Scratch::analyze`).
            database.analyze();
            *perf.borrow_mut() = perf_file.as_ref().map(|file| {
                Command::new(std::env::var("PERF").unwrap_or_else(|_| "perf".into()))
                    .args(["record", "-g", "-q", "-o", file, "-p", &server_pid])
                    .args(["--", "sleep", &window.as_secs().to_string()])
                    .spawn()
                    .expect("start perf record")
            });
        }
        edges::snapshot(&server_pid, db_name.as_deref(), stats.as_ref())
    };
    let end = |start: Snapshot| {
        let stop = edges::snapshot(&server_pid, db_name.as_deref(), stats.as_ref());
        (start, stop)
    };
    let ceilings = RefCell::new(vec![before]);
    let between = || {
        // On a thread of its own: the clients' runtime is this thread's.
        let measured = std::thread::scope(|scope| {
            scope
                .spawn(|| ceiling::measure(&hasher, &hash, PASSWORD, cores, ceiling_window))
                .join()
                .expect("ceiling between rounds")
        });
        ceilings.borrow_mut().push(measured);
    };
    let password = PASSWORD.to_owned();
    let (mut outcome, round_edges) = drive::run(
        base, password, seeded, clients, warm_up, &rounds, begin, end, between,
    );
    if let Some(mut perf) = perf.take() {
        let _ = perf.wait();
    }
    drop(server);
    drop(stats);
    let mut ceilings = ceilings.into_inner();
    ceilings.push(ceiling::measure(
        &hasher,
        &hash,
        PASSWORD,
        cores,
        ceiling_window,
    ));
    drop(database);

    // 4. The numbers. Each round against the mean of the ceilings on
    // either side of it; CPU counters added up over the rounds.
    let tick = cpu::ticks_per_second();
    let Totals {
        wall,
        own,
        server: server_use,
        pool,
        backends: backend_ticks,
    } = edges::totals(&round_edges);
    let cores_of = |ticks: u64| ticks as f64 / tick / wall;
    let loadgen = cores_of(own);
    let server_cores = cores_of(server_use.ticks);
    let backends = cores_of(backend_ticks);
    let round_ceilings: Vec<f64> = ceilings
        .windows(2)
        .map(|pair| (pair[0].per_second + pair[1].per_second) / 2.0)
        .collect();
    // The verifications the ceiling allowed in the rounds' time.
    let allowed: f64 = outcome
        .rounds
        .iter()
        .zip(&round_ceilings)
        .map(|((_, seconds), ceiling)| seconds * ceiling)
        .sum();
    let ceiling = allowed / outcome.seconds;
    let rate = outcome.logins as f64 / outcome.seconds;
    let n = outcome.logins.max(1) as f64;
    let per_login_ms = server_cores * wall * 1000.0 / n;
    let hash_ms = ceilings.iter().map(|c| c.cpu_ms).sum::<f64>() / ceilings.len() as f64;
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
         over the rounds' time (measured {}); {hash_ms:.1} ms CPU per verification \
         (so {:.1}/s if the {cores} CPUs were free)",
        list(ceilings.iter().map(|c| c.per_second), 1),
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
    println!(
        "by round (logins/s ÷ the mean of the ceilings either side): {}",
        list(
            outcome
                .rounds
                .iter()
                .zip(&round_ceilings)
                .map(|((logins, seconds), ceiling)| *logins as f64 / seconds / ceiling),
            3
        )
    );
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
    let pool_ms = pool as f64 / tick * 1000.0 / n;
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
    let first_pg = round_edges.first().and_then(|(start, _)| start.pg.clone());
    let last_pg = round_edges.last().and_then(|(_, stop)| stop.pg.clone());
    if let (Some((first, tables_then)), Some((last, tables_now))) = (first_pg, last_pg) {
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
            .take(6)
        {
            println!(
                "  {:<22} per login: {:.1} seq scans reading {:.1} rows, \
                 {:.1} index scans fetching {:.1} rows, {:.1} rows updated ({:.1} HOT)",
                t.name,
                per(t.seq_scans),
                per(t.seq_rows),
                per(t.idx_scans),
                per(t.idx_rows),
                per(t.updated),
                per(t.hot_updated),
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
