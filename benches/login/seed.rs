//! Enrolled users written straight into the database.
//!
//! Enrolling through the API costs an argon2id hash per user (and more for
//! the recovery code), which would make set-up take longer than the run. The
//! rows an enrollment leaves are simple, though: the user with 2FA required
//! and enrolled, an authenticator whose secret is sealed with the service's
//! own [`SecretBox`] (bound to the user id, under the master key the server
//! is given) and a recovery code. Every user shares one real argon2id hash
//! of one password, so each password step costs a full verification.
//!
//! Each user has also signed in before, as on a service that has been
//! running: yesterday, from the address the benchmark's clients use (so
//! it is known to them), in a session that has expired since and whose
//! refresh token was used. The tables a login writes then start at the
//! size they have in use, not empty.

use std::time::Instant;

use diesel::connection::SimpleConnection;
use twofold::crypto::secretbox::SecretBox;
use twofold::crypto::totp::TotpSecret;
use twofold::db::Db;
use twofold::ids::UserId;

/// A user who can log in with a password and an authenticator code.
pub struct User {
    pub email: String,
    pub secret: TotpSecret,
}

/// Rows per INSERT statement.
const BATCH: usize = 500;

/// Seeds `count` enrolled users into `account_id`, all with `hash`.
pub fn enrolled_users(
    url: &str,
    account_id: &str,
    count: usize,
    hash: &str,
    master: &SecretBox,
) -> Vec<User> {
    let started = Instant::now();
    let db = Db::connect(url).expect("connect to the bench database");
    let mut conn = db.conn().expect("connection");
    let t = if db.backend() == "postgres" {
        "TRUE"
    } else {
        "1"
    };
    let now = chrono::Utc::now().timestamp();
    let mut users = Vec::with_capacity(count);
    while users.len() < count {
        let n = BATCH.min(count - users.len());
        let mut rows = Vec::with_capacity(n);
        let mut authenticators = Vec::with_capacity(n);
        let mut codes = Vec::with_capacity(n);
        let mut before = Before::with_capacity(n);
        for _ in 0..n {
            let id = UserId::new();
            let k = users.len();
            let email = format!("login{k}@bench.test");
            let secret = TotpSecret::generate();
            let sealed = master
                .seal(secret.as_bytes(), id.as_str())
                .expect("seal a TOTP secret");
            rows.push(format!(
                "('{id}','{account_id}','{email}','{email}','Login {k}','login {k}','technician',\
                 '{hash}',{t},{t},{now},{now})",
                id = id.as_str(),
            ));
            authenticators.push(format!("('{}','{sealed}',{now},0)", id.as_str()));
            codes.push(format!("('{}','{hash}',{now})", id.as_str()));
            before.add(&id, account_id, k, now);
            users.push(User { email, secret });
        }
        let sql = format!(
            "BEGIN;\
             INSERT INTO users (id, account_id, email, email_normalized, name, name_lower, role, \
             password_hash, twofa_required, twofa_enrolled, created_at, password_changed_at) \
             VALUES {};\
             INSERT INTO totp_authenticators (user_id, secret_sealed, created_at, last_step) \
             VALUES {};\
             INSERT INTO recovery_codes (user_id, code_hash, created_at) VALUES {};\
             INSERT INTO known_addresses (user_id, address, last_success_at) VALUES {};\
             INSERT INTO sessions (id, user_id, account_id, aal, amr, created_at, expires_at, \
             last_used_at, client_address) VALUES {};\
             INSERT INTO refresh_tokens (token_hash, session_id, created_at, used_at) VALUES {};\
             COMMIT;",
            rows.join(","),
            authenticators.join(","),
            codes.join(","),
            before.addresses.join(","),
            before.sessions.join(","),
            before.tokens.join(","),
        );
        conn.batch_execute(&sql).expect("seed a batch of users");
    }
    // PostgreSQL's autovacuum analyses a table that changed this much; the
    // service never analyses SQLite (statistics there would make SQLite
    // re-plan every statement whose bound values it samples, at each
    // execution).
    if db.backend() == "postgres" {
        conn.batch_execute("ANALYZE").expect("analyze");
    }
    eprintln!(
        "set-up: {count} enrolled users seeded in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    users
}

/// The rows a user's login of yesterday left (see the module doc).
struct Before {
    addresses: Vec<String>,
    sessions: Vec<String>,
    tokens: Vec<String>,
}

impl Before {
    fn with_capacity(n: usize) -> Self {
        Self {
            addresses: Vec::with_capacity(n),
            sessions: Vec::with_capacity(n),
            tokens: Vec::with_capacity(n),
        }
    }

    fn add(&mut self, id: &UserId, account_id: &str, k: usize, now: i64) {
        let (id, then) = (id.as_str(), now - 24 * 60 * 60);
        let session = format!("ses_seed{k}");
        self.addresses.push(format!("('{id}','127.0.0.1',{then})"));
        self.sessions.push(format!(
            "('{session}','{id}','{account_id}',2,'pwd otp',{then},{},{then},'127.0.0.1')",
            then + 3600
        ));
        self.tokens.push(format!(
            "('{}','{session}',{then},{then})",
            twofold::crypto::sha256_hex(&session)
        ));
    }
}
