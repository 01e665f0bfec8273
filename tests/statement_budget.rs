//! How many SQL statements each login step sends: a budget per step, so a
//! change that adds round trips to the hot path fails here, not in a
//! benchmark weeks later. Counted by the pool's instrumentation
//! (`Db::statements`, every statement including `BEGIN` and `COMMIT`; the
//! pool's own ping of an idle connection is counted apart and not charged).

use serde_json::json;

use crate::common::{code_at, TestApp};

/// A step's budget on PostgreSQL, and how many of those statements SQLite
/// does not send: user row locks (`SELECT … FOR NO KEY UPDATE`), as its
/// `BEGIN IMMEDIATE` already holds the whole database, and the transaction
/// around a lone write whose commit need not wait for the disk, as no
/// commit waits there (`db::commit_deferred`).
struct Budget {
    statements: u64,
    postgres_only: u64,
}

impl Budget {
    fn on(&self, backend: &str) -> u64 {
        match backend {
            "sqlite" => self.statements - self.postgres_only,
            _ => self.statements,
        }
    }
}

/// The email: the user by any of the email's lookup keys (1), the new flow
/// (1; on PostgreSQL in a transaction of its own that does not wait for the
/// disk, 3), and the flows open from the client address, for its cap (1).
const EMAIL: Budget = Budget {
    statements: 5,
    postgres_only: 2,
};

/// The password, from an address the user signed in from before (as in
/// this test). The flow with its user and whether the address is known to
/// them (1). Reserving the attempt before the hash, in one transaction
/// (BEGIN, the flow's attempt, the address's failures, COMMIT: 4; from an
/// unknown address, the user's row lock and their counter too). After the
/// hash, one transaction moves the flow and settles the attempt (BEGIN,
/// lock, the account with the factors the user holds, the flow moved, the
/// address's try given back, COMMIT: 6). The account's allow-list is cached
/// and read at most every few seconds (2, charged here).
const PASSWORD: Budget = Budget {
    statements: 13,
    postgres_only: 1,
};

/// The code. The flow with its user, their authenticator, recovery code,
/// passkeys (for the "Log In Faster" offer) and when the client address was
/// last recorded as theirs (1). The code is checked before it is counted,
/// so counting it also settles it: one transaction, BEGIN, the user's try
/// counted and their run of failures ended (which takes the user's row
/// lock), the flow's try, the address's window (3), the step claimed, the
/// flow ended, the login time, the audit event, the session, the sessions
/// beyond the cap, the refresh token, COMMIT: 12. The address is recorded
/// again only when its record is over a day old (here the enrollment's
/// login made it moments ago).
const TOTP: Budget = Budget {
    statements: 13,
    postgres_only: 0,
};

/// An authenticated call: the session with its user (1); `/v1/me` then
/// reads the account and the authenticator (2).
const ME: Budget = Budget {
    statements: 3,
    postgres_only: 0,
};

/// A refresh: the token's session and user, read before the transaction
/// (3), then BEGIN, the token spent, the session re-read with its user,
/// the new token, the last use, the passkeys, COMMIT (8).
const REFRESH: Budget = Budget {
    statements: 11,
    postgres_only: 0,
};

/// Statements `step` sent.
async fn counted<T>(t: &TestApp, step: impl std::future::Future<Output = T>) -> (u64, T) {
    let before = t.state.db.statements();
    let out = step.await;
    (t.state.db.statements() - before, out)
}

#[actix_web::test]
async fn each_login_step_stays_within_its_statement_budget() {
    use twofold::clock::Clock as _;
    let t = TestApp::spawn().await;
    let admin = t.account("Budget").await;
    let user = t.enroll(&admin).await;
    t.advance(30);
    // The allow-list is read once here, then cached for the login below.
    let (email, start) = counted(
        &t,
        t.post("/v1/auth/login", json!({ "email": admin.email })),
    )
    .await;
    let flow = start.ok()["flow_token"].as_str().unwrap().to_owned();
    let body = json!({ "flow_token": flow, "password": admin.password });
    let (password, step) = counted(&t, t.post("/v1/auth/login/password", body)).await;
    assert_eq!(step.ok()["status"], "mfa_required");

    let flow = step.json["flow_token"].as_str().unwrap().to_owned();
    let code = code_at(&user.secret, t.clock.unix());
    let body = json!({ "flow_token": flow, "code": code });
    let (totp, done) = counted(&t, t.post("/v1/auth/login/totp", body)).await;
    assert_eq!(done.ok()["status"], "authenticated");

    let access = done.json["access_token"].as_str().unwrap().to_owned();
    let (me, answer) = counted(&t, t.get("/v1/me", Some(&access))).await;
    answer.ok();
    let body = json!({ "refresh_token": done.json["refresh_token"] });
    let (refresh, answer) = counted(&t, t.post("/v1/auth/token/refresh", body)).await;
    answer.ok();

    let spent = [
        ("email", email, EMAIL),
        ("password", password, PASSWORD),
        ("totp", totp, TOTP),
        ("me", me, ME),
        ("refresh", refresh, REFRESH),
    ];
    let backend = t.state.db.backend();
    for (step, sent, budget) in spent {
        let budget = budget.on(backend);
        assert!(
            sent <= budget,
            "the {step} step sent {sent} SQL statements; its budget is {budget}"
        );
    }
}

#[actix_web::test]
async fn a_wrong_code_costs_no_more_than_a_right_one() {
    use twofold::clock::Clock as _;
    let t = TestApp::spawn().await;
    let admin = t.account("Budget wrong").await;
    let user = t.enroll(&admin).await;
    t.advance(30);
    let start = t
        .post("/v1/auth/login", json!({ "email": admin.email }))
        .await;
    let body = json!({ "flow_token": start.ok()["flow_token"], "password": admin.password });
    let step = t.post("/v1/auth/login/password", body).await;
    let flow = step.ok()["flow_token"].as_str().unwrap().to_owned();
    let right = code_at(&user.secret, t.clock.unix());
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    let body = json!({ "flow_token": flow, "code": wrong });
    let (sent, answer) = counted(&t, t.post("/v1/auth/login/totp", body)).await;
    assert_eq!(answer.status, 401, "{:?}", answer.json);
    let budget = TOTP.on(t.state.db.backend());
    assert!(sent <= budget, "a wrong code sent {sent} statements");
}

/// A password step the hashing queue cannot take is refused before it
/// reads or writes the database: a flood of passwords beyond what the
/// workers can hash costs the database nothing, and counts nothing.
#[actix_web::test]
async fn a_password_step_the_hashing_queue_cannot_take_sends_no_statement() {
    let t = TestApp::spawn().await;
    let admin = t.account("Budget overload").await;
    let start = t
        .post("/v1/auth/login", json!({ "email": admin.email }))
        .await;
    let flow = start.ok()["flow_token"].as_str().unwrap().to_owned();
    let body = json!({ "flow_token": flow, "password": admin.password });
    let held: Vec<_> = std::iter::from_fn(|| t.state.passwords.slot().ok()).collect();
    let (sent, refused) = counted(&t, t.post("/v1/auth/login/password", body.clone())).await;
    assert_eq!(refused.status.as_u16(), 503, "{:?}", refused.json);
    assert_eq!(refused.json["code"], "service_unavailable");
    assert_eq!(
        sent, 0,
        "a refused password step sent {sent} SQL statements"
    );
    drop(held);
    // Nothing was counted against the flow: the same password goes on.
    t.post("/v1/auth/login/password", body).await.ok();
}
