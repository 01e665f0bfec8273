//! Who may use the admin surface (role, account, fresh second factor), and the account's security settings.

use super::*;

#[actix_web::test]
async fn an_admin_resets_their_own_two_factor_only_with_a_fresh_second_factor() {
    let t = TestApp::spawn().await;
    let mut d = Desk::open(&t, "Self").await;
    let mine = t.enroll(&d.admin).await;
    d.token = access(&mine.tokens);
    let tech = d.create("Tech", "tech", "technician").await;
    t.enroll(&tech).await;

    // Sixteen minutes on, the session is still aal 2 but its factor stale.
    t.advance(16 * 60);
    let refresh = json!({ "refresh_token": mine.tokens["refresh_token"] });
    let stale = access(t.post("/v1/auth/token/refresh", refresh).await.ok());
    d.token = stale.clone();
    let me = d.admin.id.clone();
    let a = d.one(&me, "reset").await;
    a.problem(403, "reauthentication_required");
    let a = d.bulk("reset", json!([tech.id, me])).await;
    a.problem(403, "reauthentication_required");
    let enabled = json!({ "twofa_status": "enabled", "methods": ["totp", "recovery_code"] });
    for id in [&me, &tech.id] {
        assert_eq!(pick(&d.user(id).await, "twofa_status methods"), enabled);
    }

    // A fresh second factor may.
    d.token = access(&t.login_with_totp(&mine).await);
    let a = d.one(&me, "reset").await;
    // This session and the stale one end (the password-only one from
    // before the enrollment already ended when the authenticator did).
    assert_eq!(*a.ok(), json!({ "results": [reset_done(&me, 2)] }));
    for token in [&d.token, &stale] {
        let a = t.get(USERS, Some(token)).await;
        a.problem(401, "invalid_token");
    }
    t.login_to_enrollment(&d.admin).await;
    t.advance(30); // the step of the last login stays spent for this user
    let renewed = t.enroll(&d.admin).await;
    assert_ne!(renewed.secret, mine.secret);
    d.token = access(&renewed.tokens);
    assert_eq!(d.user(&tech.id).await["twofa_status"], "enabled");
}

#[actix_web::test]
async fn only_admins_of_the_same_account_with_the_required_factor_may() {
    let t = TestApp::spawn().await;
    let d = Desk::open(&t, "Account A").await;
    let tech = t.user(&d.admin.account_id, Role::Technician).await;
    let ro = t.user(&d.admin.account_id, Role::ReadOnly).await;
    let enrolled = t.enroll(&tech).await;
    let (tech_tok, ro_tok) = (access(&enrolled.tokens), t.access_token(&ro).await);

    let one = format!("{USERS}/{}", tech.id);
    let ids = Some(json!({ "user_ids": [tech.id] }));
    let new_user = Some(json!({ "email": mail("x"), "name": "X", "role": "admin" }));
    let rename = Some(json!({ "name": "Hijacked", "role": "admin" }));
    let (get, post) = (Method::GET, Method::POST);
    let calls: Vec<(Method, String, Option<Value>)> = vec![
        (get.clone(), USERS.into(), None),
        (post.clone(), USERS.into(), new_user),
        (get.clone(), one.clone(), None),
        (Method::PATCH, one.clone(), rename),
        (post.clone(), format!("{USERS}/2fa/enable"), ids.clone()),
        (post.clone(), format!("{USERS}/2fa/reset"), ids),
        (post.clone(), format!("{one}/2fa/enable"), None),
        (post, format!("{one}/2fa/reset"), None),
        (get, SECURITY.into(), None),
    ];
    let refusals = [
        (Some(tech_tok.as_str()), 403, "forbidden"),
        (Some(ro_tok.as_str()), 403, "forbidden"),
        (None, 401, "unauthorized"),
        (Some("not-a-token"), 401, "invalid_token"),
    ];
    for (method, path, body) in &calls {
        for (bearer, status, code) in refusals {
            let a = t.call(method.clone(), path, bearer, body.clone()).await;
            a.problem(status, code);
        }
    }

    // An admin of account B sees no user of account A.
    let b = Desk::open(&t, "Account B").await;
    for (method, path, body) in &calls[2..8] {
        let a = b.call(method.clone(), path, body.clone()).await;
        a.problem(404, "not_found");
    }
    assert_eq!(b.names(&[]).await, [default_name(&b.admin)]);
    // Nothing changed in A.
    let keys = "name role methods";
    let expected = json!({
        "name": "Test technician", "role": "technician", "methods": ["totp", "recovery_code"],
    });
    assert_eq!(pick(&d.user(&tech.id).await, keys), expected);
    t.get("/v1/me", Some(&tech_tok)).await.ok();
    assert_eq!(d.get(SECURITY).await.ok()["users"], 3);

    // Enforcement: an unenrolled admin's aal-1 session stops sufficing.
    let c = Desk::open(&t, "Account C").await;
    let now = t.clock.unix();
    billing(&t, &c.admin.account_id, Some(now), None).await;
    c.get(USERS).await.ok();
    billing(&t, &c.admin.account_id, Some(now - 25 * 3600), None).await;
    c.get(USERS).await.problem(403, "enrollment_required");
    c.get(SECURITY).await.problem(403, "enrollment_required");
    let a = c.one(&c.admin.id, "reset").await;
    a.problem(403, "enrollment_required");
}

#[actix_web::test]
async fn security_settings_show_trial_scheduled_and_enforced() {
    let t = TestApp::spawn().await;
    let mut d = Desk::open(&t, "Acme MSP").await;
    let mine = t.enroll(&d.admin).await;
    d.token = access(&mine.tokens);
    d.create("Tech", "tech", "technician").await;
    d.create("Viewer", "viewer", "read_only").await;

    let trial = d.get(SECURITY).await;
    let expected = json!({
        "account_id": d.admin.account_id, "name": "Acme MSP", "licenses": 10, "users": 3,
        "paying_since": null, "enforcement": "trial", "enforced_from": null,
        "ip_allowlist_enabled": false, "remember_device_days": 0,
    });
    assert_eq!(*trial.ok(), expected);
    assert_eq!(d.names(&[DISABLED]).await, ["Tech", "Viewer"]);

    let since = t.clock.unix(); // 2026-11-28T09:00:30Z, after the enrollment
    billing(&t, &d.admin.account_id, Some(since), Some(25)).await;
    let keys = "enforcement paying_since enforced_from licenses users";
    let state = |enforcement: &str| {
        json!({
            "enforcement": enforcement, "paying_since": "2026-11-28T09:00:30Z",
            "enforced_from": "2026-11-29T09:00:30Z", "licenses": 25, "users": 3,
        })
    };
    assert_eq!(pick(d.get(SECURITY).await.ok(), keys), state("scheduled"));

    // One second before the effective date, then at it.
    t.advance(since + 24 * 3600 - 1 - t.clock.unix());
    d.token = access(&t.login_with_totp(&mine).await);
    assert_eq!(pick(d.get(SECURITY).await.ok(), keys), state("scheduled"));
    t.advance(1);
    assert_eq!(pick(d.get(SECURITY).await.ok(), keys), state("enforced"));

    // Enforced: nobody is merely "disabled"; the unenrolled are pending.
    assert!(d.names(&[DISABLED]).await.is_empty());
    assert_eq!(d.names(&[PENDING]).await, ["Tech", "Viewer"]);
    assert_eq!(d.names(&[ENABLED]).await, [default_name(&d.admin)]);
    let viewer = d.list("name=viewer").await.ok()["items"][0].clone();
    let expected = json!({ "twofa_required": true, "required_by": ["account"] });
    assert_eq!(pick(&viewer, "twofa_required required_by"), expected);
    let both = json!(["admin", "account"]);
    assert_eq!(d.user(&d.admin.id).await["required_by"], both);
}
