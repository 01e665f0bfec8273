//! The billing commands: `accounts set-paying` prints the enforcement date, refuses what the operator API refuses, and is audited like it.

use super::*;

#[test]
fn set_paying_prints_when_two_factor_becomes_enforced() {
    let dir = tempfile::tempdir().unwrap();
    let created = create_account(&dir);
    let account = created["account_id"].as_str().unwrap();

    let out = run(
        twofold(&dir),
        &[
            "--json",
            "accounts",
            "set-paying",
            "--account",
            account,
            "--since",
            "2026-01-01T00:00:00Z",
            "--licenses",
            "25",
        ],
    );
    assert_eq!(
        json_ok(&out),
        json!({
            "account_id": account,
            "paying_since": "2026-01-01T00:00:00Z",
            "licenses": 25,
            "twofa_enforced_from": "2026-01-02T00:00:00Z",
        })
    );

    // An offset is normalised to UTC; licenses stay as they were.
    let out = run(
        twofold(&dir),
        &[
            "--json",
            "accounts",
            "set-paying",
            "--account",
            account,
            "--since",
            "2026-03-01T12:30:00+02:00",
        ],
    );
    let state = json_ok(&out);
    assert_eq!(state["paying_since"], "2026-03-01T10:30:00Z");
    assert_eq!(state["twofa_enforced_from"], "2026-03-02T10:30:00Z");
    assert_eq!(state["licenses"], 25);

    // Without --json: one human line with the same facts.
    let out = run(
        twofold(&dir),
        &[
            "accounts",
            "set-paying",
            "--account",
            account,
            "--since",
            "2026-01-01T00:00:00Z",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let line = text(&out.stdout);
    assert!(
        line.contains(account) && line.contains("2026-01-02T00:00:00Z"),
        "{line}"
    );
}

#[test]
fn set_paying_an_unknown_account_fails_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let missing = uuid::Uuid::new_v4().to_string();
    let args = [
        "accounts",
        "set-paying",
        "--account",
        &missing,
        "--since",
        "2026-01-01T00:00:00Z",
    ];

    let mut json_args = vec!["--json"];
    json_args.extend(args);
    let message = json_error(&run(twofold(&dir), &json_args));
    assert!(message.contains("account"), "{message}");

    let out = run(twofold(&dir), &args);
    assert!(!out.status.success());
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    assert!(
        text(&out.stderr).contains("account"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn set_paying_with_a_malformed_since_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let created = create_account(&dir);
    let account = created["account_id"].as_str().unwrap();
    for since in ["yesterday", "2026-01-01", "2026-13-01T00:00:00Z"] {
        let out = run(
            twofold(&dir),
            &[
                "--json",
                "accounts",
                "set-paying",
                "--account",
                account,
                "--since",
                since,
            ],
        );
        assert_eq!(out.status.code(), Some(2), "{since}: {}", text(&out.stderr));
        assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
        assert!(
            text(&out.stderr).contains("--since"),
            "{}",
            text(&out.stderr)
        );
    }
}

/// `set-paying --json` for `account` with extra arguments.
fn set_paying(dir: &tempfile::TempDir, account: &str, extra: &[&str]) -> Output {
    let mut args = vec!["--json", "accounts", "set-paying", "--account", account];
    args.extend(extra);
    run(twofold(dir), &args)
}

#[test]
fn set_paying_takes_the_operator_apis_licence_limits() {
    let dir = tempfile::tempdir().unwrap();
    let created = create_account(&dir);
    let account = created["account_id"].as_str().unwrap();
    for bad in ["0", "1000001"] {
        let message = json_error(&set_paying(&dir, account, &["--licenses", bad]));
        assert!(message.contains("--licenses"), "{bad}: {message}");
    }
    let state = json_ok(&set_paying(&dir, account, &["--licenses", "1000000"]));
    assert_eq!(state["licenses"], 1_000_000);
}

#[actix_web::test]
async fn set_paying_is_audited_like_the_operator_api() {
    use diesel::prelude::*;
    use twofold::db::schema::audit_events;

    let dir = tempfile::tempdir().unwrap();
    let created = create_account(&dir);
    let account = created["account_id"].as_str().unwrap().to_owned();
    let since = ["--since", "2026-01-01T00:00:00Z", "--licenses", "25"];
    json_ok(&set_paying(&dir, &account, &since));
    // A refused change leaves no event.
    json_error(&set_paying(&dir, &account, &["--licenses", "1000001"]));

    let db = Db::connect(&database_url(&dir)).unwrap();
    let id = account.clone();
    let events: Vec<(String, Option<String>, Option<String>, String)> = db
        .run(move |conn| {
            Ok(audit_events::table
                .filter(audit_events::account_id.eq(&id))
                .filter(audit_events::kind.eq("account.billing_changed"))
                .select((
                    audit_events::actor_kind,
                    audit_events::actor_user_id,
                    audit_events::ip,
                    audit_events::detail,
                ))
                .load(conn)?)
        })
        .await
        .unwrap();
    assert_eq!(events.len(), 1, "{events:?}");
    let (actor, user, ip, detail) = &events[0];
    assert_eq!((actor.as_str(), user, ip), ("cli", &None, &None));
    let detail: Value = serde_json::from_str(detail).unwrap();
    assert_eq!(
        detail,
        json!({
            "paying_since": "2026-01-01T00:00:00Z",
            "licenses": 25,
            "previous_paying_since": null,
            "previous_licenses": 1,
        })
    );
}
