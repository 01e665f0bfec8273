//! Latency of the admin user list with many users in one account.
//!
//! Seeds N users into one account (bulk SQL; one fixed password hash, since
//! hashing a million passwords measures argon2, not the list), then calls
//! `GET /v1/admin/users` through the real HTTP app in-process and prints
//! p50/p99 per filter scenario.
//!
//! ```sh
//! cargo bench --bench list_users -- --users 100000,1000000 \
//!     [--database postgres://USER:PASS@HOST/DB] [--requests 200]
//! ```
//! With `--database postgres://…/DB`, a fresh database is created next to
//! DB for each size and dropped afterwards; without it, SQLite files in a
//! temporary directory are used.

#![expect(
    clippy::expect_used,
    reason = "a benchmark harness stops loudly on any failure"
)]

use std::sync::Arc;
use std::time::Instant;

use actix_web::test::{call_service, init_service, read_body, TestRequest};
use diesel::connection::SimpleConnection;
use twofold::accounts::service::{create, NewAccount};
use twofold::clock::SystemClock;
use twofold::config::Config;
use twofold::db::Db;
use twofold::sessions::keys::SigningKey;
use twofold::{app, AppState};

mod common;
use common::{arg, Scratch};

const WORDS: [&str; 40] = [
    "ada",
    "alan",
    "barbara",
    "brian",
    "carol",
    "claude",
    "dennis",
    "donald",
    "edsger",
    "frances",
    "grace",
    "guido",
    "hedy",
    "ivan",
    "james",
    "joan",
    "john",
    "ken",
    "leslie",
    "linus",
    "margaret",
    "mary",
    "niklaus",
    "radia",
    "richard",
    "robin",
    "shafi",
    "sophie",
    "steve",
    "tim",
    "tony",
    "vint",
    "whitfield",
    "yukihiro",
    "adele",
    "anita",
    "bjarne",
    "butler",
    "edgar",
    "fran",
];
const SURNAMES: [&str; 20] = [
    "lovelace",
    "turing",
    "liskov",
    "kernighan",
    "hopper",
    "shannon",
    "ritchie",
    "knuth",
    "dijkstra",
    "allen",
    "hamilton",
    "wirth",
    "perlman",
    "stallman",
    "goldwasser",
    "wilson",
    "hoare",
    "cerf",
    "diffie",
    "codd",
];

/// Deterministic pseudo-random numbers (xorshift): the same population on
/// every run and backend.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn seed(db: &Db, account_id: &str, users: usize, hash: &str) {
    let mut conn = db.conn().expect("connection");
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let started = Instant::now();
    let batch = 1000;
    let mut done = 0;
    while done < users {
        let n = batch.min(users - done);
        let mut sql = String::from(
            "INSERT INTO users (id, account_id, email, email_normalized, name, name_lower, role, \
             password_hash, twofa_required, twofa_enrolled, created_at, password_changed_at, \
             last_login_at) VALUES ",
        );
        let mut codes =
            String::from("INSERT INTO recovery_codes (user_id, code_hash, created_at) VALUES ");
        let mut any_code = false;
        for i in 0..n {
            let r = rng.next();
            let first = WORDS[(r % 40) as usize];
            let last = SURNAMES[((r >> 8) % 20) as usize];
            let k = done + i;
            let name = format!("{} {} {k}", capitalise(first), capitalise(last));
            let email = format!("{first}.{last}.{k}@example.test");
            let role = match (r >> 16) % 100 {
                0 => "admin",
                1..=70 => "technician",
                _ => "read_only",
            };
            let enrolled = (r >> 24) % 10 < 3;
            let required = (r >> 32) % 10 < 2;
            let id = format!("{:032x}", (u128::from(r) << 64) | k as u128);
            let (t, f) = if db.backend() == "postgres" {
                ("TRUE", "FALSE")
            } else {
                ("1", "0")
            };
            if i > 0 {
                sql.push(',');
            }
            sql.push_str(&format!(
                "('{id}','{account_id}','{email}','{email}','{name}','{lower}','{role}','{hash}',{req},{enr},1700000000,1700000000,{login})",
                lower = name.to_lowercase(),
                req = if required { t } else { f },
                enr = if enrolled { t } else { f },
                login = if r % 3 == 0 { "NULL".to_owned() } else { "1795000000".to_owned() },
            ));
            if enrolled {
                if any_code {
                    codes.push(',');
                }
                codes.push_str(&format!("('{id}','{hash}',1700000000)"));
                any_code = true;
            }
        }
        let mut statements = sql;
        statements.push(';');
        if any_code {
            statements.push_str(&codes);
            statements.push(';');
        }
        conn.batch_execute(&format!("BEGIN; {statements} COMMIT;"))
            .expect("seed batch");
        done += n;
    }
    // PostgreSQL: VACUUM too. A users table at rest has been vacuumed
    // (autovacuum does so after bulk inserts), and index-only scans need the
    // visibility map that VACUUM sets; measuring right after the load would
    // measure whenever autovacuum happened to arrive.
    conn.batch_execute(if db.backend() == "postgres" {
        "VACUUM ANALYZE"
    } else {
        "ANALYZE;"
    })
    .expect("analyze");
    eprintln!(
        "seeded {users} users in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[actix_web::main]
async fn main() {
    let sizes: Vec<usize> = arg("--users")
        .unwrap_or_else(|| "100000".into())
        .split(',')
        .map(|s| s.trim().parse().expect("--users N[,N]"))
        .collect();
    let requests: usize = arg("--requests").map_or(200, |r| r.parse().expect("--requests N"));
    let base = arg("--database");
    let dir = tempfile::tempdir().expect("tempdir");
    println!("backend   users     scenario                               p50_ms   p99_ms   rows");
    for size in sizes {
        let scratch = Scratch::new(base.as_deref(), &size.to_string(), &dir);
        let url = scratch.url.clone();
        let data_dir = dir.path().display().to_string();
        let config = Config::from_lookup(|name| match name {
            "TWOFOLD_DATABASE_URL" => Some(url.clone()),
            "TWOFOLD_DATA_DIR" => Some(data_dir.clone()),
            "TWOFOLD_ARGON2_MEMORY_KIB" => Some("64".into()),
            "TWOFOLD_ARGON2_ITERATIONS" => Some("1".into()),
            _ => None,
        })
        .expect("config");
        let db = Db::connect(&url).expect("database");
        db.migrate().expect("migrate");
        // A fixed key: the benchmark's database may outlive this run's
        // generated master key.
        let state = AppState::with_fixed_key(
            config,
            db.clone(),
            Arc::new(SystemClock),
            SigningKey::generate().expect("key"),
        )
        .expect("state");
        let now = chrono::Utc::now().timestamp();
        let admin = {
            let mut conn = db.conn().expect("conn");
            create(
                &mut conn,
                &state.passwords,
                &NewAccount {
                    name: "Bench MSP",
                    admin_email: &format!("bench-admin-{size}-{}@example.test", std::process::id()),
                    admin_name: Some("Aaron Admin"),
                    licenses: i32::try_from(size + 10).unwrap_or(i32::MAX),
                },
                now,
            )
            .expect("account")
        };
        let hash = state
            .passwords
            .hash_blocking(&twofold::crypto::Secret::new("bench password"))
            .expect("hash");
        seed(&db, admin.account_id.as_str(), size, &hash);

        let service = init_service(app(state.clone())).await;
        let login = |path: &str, body: serde_json::Value| {
            TestRequest::post().uri(path).set_json(body).to_request()
        };
        let flow: serde_json::Value = serde_json::from_slice(
            &read_body(
                call_service(
                    &service,
                    login("/v1/auth/login", serde_json::json!({"email": admin.email})),
                )
                .await,
            )
            .await,
        )
        .expect("flow");
        let tokens: serde_json::Value = serde_json::from_slice(&read_body(
            call_service(
                &service,
                login(
                    "/v1/auth/login/password",
                    serde_json::json!({"flow_token": flow["flow_token"], "password": admin.password.expose()}),
                ),
            )
            .await,
        ).await)
        .expect("tokens");
        let bearer = format!(
            "Bearer {}",
            tokens["access_token"].as_str().expect("access token")
        );

        let scenarios: [(&str, &str); 8] = [
            ("first page, no filter", ""),
            ("role=read_only", "role=read_only"),
            ("twofa_status=enabled", "twofa_status=enabled"),
            ("twofa_status=pending", "twofa_status=pending"),
            ("name=hopper (common)", "name=hopper"),
            ("name=4242 (rare)", "name=4242"),
            ("name=zzqx (no match: worst case)", "name=zzqx"),
            (
                "role+status+name combined",
                "role=technician&twofa_status=enabled&name=ada",
            ),
        ];
        for (label, query) in scenarios {
            let mut times = Vec::with_capacity(requests);
            let mut rows = 0;
            for _ in 0..requests {
                let req = TestRequest::get()
                    .uri(&format!("/v1/admin/users?limit=50&{query}"))
                    .insert_header(("authorization", bearer.as_str()))
                    .to_request();
                let started = Instant::now();
                let body = read_body(call_service(&service, req).await).await;
                times.push(started.elapsed().as_secs_f64() * 1000.0);
                let page: serde_json::Value = serde_json::from_slice(&body).expect("page");
                rows = page["items"].as_array().map_or(0, Vec::len);
            }
            times.sort_by(f64::total_cmp);
            println!(
                "{:<9} {:<9} {:<38} {:>7.2}  {:>7.2}  {rows}",
                db.backend(),
                size,
                label,
                percentile(&times, 0.5),
                percentile(&times, 0.99)
            );
        }

        // Keyset paging stays flat however deep: walk 40 pages.
        let mut times = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..40 {
            let uri = match &cursor {
                Some(c) => format!("/v1/admin/users?limit=50&cursor={c}"),
                None => "/v1/admin/users?limit=50".to_owned(),
            };
            let req = TestRequest::get()
                .uri(&uri)
                .insert_header(("authorization", bearer.as_str()))
                .to_request();
            let started = Instant::now();
            let body = read_body(call_service(&service, req).await).await;
            times.push(started.elapsed().as_secs_f64() * 1000.0);
            let page: serde_json::Value = serde_json::from_slice(&body).expect("page");
            cursor = page["next_cursor"].as_str().map(str::to_owned);
        }
        times.sort_by(f64::total_cmp);
        println!(
            "{:<9} {:<9} {:<38} {:>7.2}  {:>7.2}  50",
            db.backend(),
            size,
            "next pages (40 keyset cursors)",
            percentile(&times, 0.5),
            percentile(&times, 0.99)
        );
        drop(service);
        drop(state);
        drop(db);
        drop(scratch);
    }
}
