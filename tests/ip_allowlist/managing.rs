//! Managing the list: entries are validated, a change that would lock the caller out needs `force`, only the account's admins manage it, and the support CLI turns it off.

use super::*;

#[actix_web::test]
async fn entries_are_validated_canonical_and_unique() {
    let t = TestApp::spawn().await;
    let admin = t.account("Valid").await;
    let tok = t.access_token(&admin).await;
    let one = via(1, &[]);

    for bad in ["10.1.2.3/8", "nonsense", "10.0.0.0/33", "::1/129", ""] {
        let a = one.add(&t, &tok, bad).await;
        a.problem(400, "validation_failed");
        assert_eq!(a.json["errors"][0]["field"], "cidr", "{bad}: {}", a.text);
    }
    let a = one.add(&t, &tok, "10.1.2.3/8").await;
    let hint = a.json["errors"][0]["message"].as_str().unwrap();
    assert!(hint.contains("10.0.0.0/8"), "{hint}");

    let long = json!({ "cidr": "10.9.0.0/16", "description": "x".repeat(201) });
    let a = one
        .post(&t, "/v1/admin/ip-allowlist", Some(&tok), long)
        .await;
    a.problem(400, "validation_failed");
    assert_eq!(a.json["errors"][0]["field"], "description", "{}", a.text);
    let ok = json!({ "cidr": "10.9.0.0/16", "description": "y".repeat(200) });
    let a = one.post(&t, "/v1/admin/ip-allowlist", Some(&tok), ok).await;
    assert_eq!(a.status, 201, "{}", a.text);
    assert_eq!(a.json["description"], "y".repeat(200));
    assert_eq!(a.json["created_at"], "2026-11-28T09:00:00Z");

    let a = one.add(&t, &tok, "10.0.0.1").await;
    assert_eq!(
        (a.status.as_u16(), &a.json["cidr"]),
        (201, &json!("10.0.0.1/32"))
    );
    let a = one.add(&t, &tok, "2001:DB8::1").await;
    assert_eq!(a.status, 201, "{}", a.text);
    assert_eq!(a.json["cidr"], "2001:db8::1/128");
    for dup in ["10.0.0.1", "10.0.0.1/32", "2001:db8:0::1", "10.9.0.0/16"] {
        one.add(&t, &tok, dup).await.problem(409, "duplicate_entry");
    }

    let view = one.list(&t, &tok).await;
    let mut cidrs: Vec<&str> = view["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["cidr"].as_str().unwrap())
        .collect();
    cidrs.sort_unstable(); // one instant: no order among them
    assert_eq!(cidrs, ["10.0.0.1/32", "10.9.0.0/16", "2001:db8::1/128"]);
    assert_eq!(view["enabled"], false);
    assert_eq!(view["your_address"], "127.0.0.1");
    assert_eq!(view["your_address_listed"], false);
    // Uniqueness is per account.
    let other = t.account("Other").await;
    let other_tok = t.access_token(&other).await;
    assert_eq!(one.add(&t, &other_tok, "10.0.0.1").await.status, 201);
}

#[actix_web::test]
async fn changes_that_would_lock_out_the_caller_need_force() {
    let t = TestApp::spawn().await;
    let (one, two, three) = (via(1, &[]), via(2, &[]), via(3, &[]));
    let admin = t.account("Guard").await;
    let second = t.user(&admin.account_id, Role::Admin).await;
    let tech = t.user(&admin.account_id, Role::Technician).await;
    let tok = t.access_token(&admin).await;
    let tok2 = t.access_token(&second).await;
    let tech_tok = t.access_token(&tech).await;

    let a = one.switch(&t, &tok, true, false).await;
    a.problem(409, "would_lock_out");
    assert!(
        a.json["detail"].as_str().unwrap().contains("127.0.0.1"),
        "{}",
        a.text
    );
    let two_id = one.entry(&t, &tok, "127.0.0.2").await;
    one.switch(&t, &tok, true, false)
        .await
        .problem(409, "would_lock_out");
    assert_eq!(one.list(&t, &tok).await["enabled"], false);
    let a = one.switch(&t, &tok, true, true).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.json["ip_allowlist_enabled"], true);
    // The forcing admin is now refused at .1; the list lets .2 in.
    one.get(&t, "/v1/admin/ip-allowlist", &tok)
        .await
        .problem(403, "ip_not_allowed");
    one.get(&t, "/v1/me", &tok)
        .await
        .problem(403, "ip_not_allowed");
    three
        .get(&t, "/v1/me", &tech_tok)
        .await
        .problem(403, "ip_not_allowed");
    let view = two.list(&t, &tok2).await;
    assert_eq!(
        (&view["enabled"], &view["your_address"]),
        (&json!(true), &json!("127.0.0.2"))
    );
    assert_eq!(view["your_address_listed"], true);

    // Deleting: guarded only when no remaining entry matches the caller.
    let net_id = two.entry(&t, &tok2, "127.0.0.0/30").await;
    let a = two.delete(&t, &tok2, &two_id, "").await;
    assert_eq!(a.status, 204, "{}", a.text);
    two.entry(&t, &tok2, "127.0.0.1").await;
    two.delete(&t, &tok2, &net_id, "")
        .await
        .problem(409, "would_lock_out");
    two.delete(&t, &tok2, &net_id, "?force=false")
        .await
        .problem(409, "would_lock_out");
    let a = two.delete(&t, &tok2, &net_id, "?force=true").await;
    assert_eq!(a.status, 204, "{}", a.text);
    two.get(&t, "/v1/me", &tok2)
        .await
        .problem(403, "ip_not_allowed");
    three
        .get(&t, "/v1/me", &tech_tok)
        .await
        .problem(403, "ip_not_allowed");

    // Turning it off needs no force and lets everyone in at once.
    let a = one.switch(&t, &tok, false, false).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.json["ip_allowlist_enabled"], false);
    two.get(&t, "/v1/me", &tok2).await.ok();
    three.get(&t, "/v1/me", &tech_tok).await.ok();
    assert_eq!(two.list(&t, &tok2).await["your_address_listed"], false);

    // Another account's entry is not found, forced or not, and survives.
    let other = t.account("Elsewhere").await;
    let other_tok = t.access_token(&other).await;
    let foreign = one.entry(&t, &other_tok, "127.0.0.1").await;
    for query in ["", "?force=true"] {
        one.delete(&t, &tok, &foreign, query)
            .await
            .problem(404, "not_found");
        one.delete(&t, &tok, "no-such-entry", query)
            .await
            .problem(404, "not_found");
    }
    let view = one.list(&t, &other_tok).await;
    assert_eq!(view["entries"][0]["id"], json!(foreign));
}

#[actix_web::test]
async fn only_admins_manage_the_list_and_only_their_own_accounts() {
    let t = TestApp::spawn().await;
    let one = via(1, &[]);
    let admin = t.account("Roles").await;
    let tok = t.access_token(&admin).await;
    let id = one.entry(&t, &tok, "127.0.0.1").await;
    for role in [Role::Technician, Role::ReadOnly] {
        let p = t.user(&admin.account_id, role).await;
        let low = t.access_token(&p).await;
        let path = "/v1/admin/ip-allowlist";
        one.get(&t, path, &low).await.problem(403, "forbidden");
        one.add(&t, &low, "10.0.0.0/8")
            .await
            .problem(403, "forbidden");
        one.delete(&t, &low, &id, "")
            .await
            .problem(403, "forbidden");
        one.switch(&t, &low, true, true)
            .await
            .problem(403, "forbidden");
    }
    let view = one.list(&t, &tok).await;
    assert_eq!(view["enabled"], false);
    assert_eq!(view["entries"].as_array().unwrap().len(), 1);

    // Another account's admin sees only their own list, and its switch
    // binds only its own users.
    let other = t.account("Others").await;
    let other_tok = t.access_token(&other).await;
    let view = one.list(&t, &other_tok).await;
    assert_eq!(view["entries"], json!([]));
    let mine = one.entry(&t, &other_tok, "198.51.100.0/24").await;
    assert_eq!(one.switch(&t, &other_tok, true, true).await.status, 200);
    let view = one.list(&t, &tok).await;
    let entries = view["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(
        (&entries[0]["id"], &entries[0]["cidr"]),
        (&json!(id), &json!("127.0.0.1/32"))
    );
    assert_ne!(mine, id);
    let two = via(2, &[]);
    two.refused(&t, &other).await;
    one.refused(&t, &t.user(&other.account_id, Role::Technician).await)
        .await;
    two.login(&t, &t.user(&admin.account_id, Role::Technician).await)
        .await;
}

/// `twofold accounts disable-ip-allowlist --account ID --json` against the
/// test's database; returns its JSON output.
fn disable_by_cli(t: &TestApp, account_id: &str) -> Value {
    let out = binary::on_app(t, &t.state.config.data_dir)
        .args([
            "accounts",
            "disable-ip-allowlist",
            "--account",
            account_id,
            "--json",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{}: {stdout} {stderr}", out.status);
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

#[actix_web::test]
async fn the_support_cli_turns_the_list_off_and_every_change_is_audited() {
    let t = TestApp::spawn().await;
    let one = via(1, &[]);
    let admin = t.account("Support").await;
    let tok = t.access_token(&admin).await;
    one.entry(&t, &tok, "127.0.0.2").await;
    assert_eq!(one.switch(&t, &tok, true, true).await.status, 200);
    one.get(&t, "/v1/me", &tok)
        .await
        .problem(403, "ip_not_allowed");

    let out = disable_by_cli(&t, &admin.account_id);
    assert_eq!(
        out,
        json!({ "account_id": admin.account_id, "ip_allowlist_enabled": false, "changed": true })
    );
    // The CLI is another process: this server's cached rule still refuses
    // until it expires, one second later by the injected clock.
    one.get(&t, "/v1/me", &tok)
        .await
        .problem(403, "ip_not_allowed");
    t.advance(twofold::ip_allowlist::CACHE_TTL_SECS);
    let a = one.get(&t, "/v1/me", &tok).await;
    assert_eq!(
        a.status, 200,
        "still refused after the cache's TTL: {}",
        a.text
    );
    let view = one.list(&t, &tok).await;
    assert_eq!(view["enabled"], false);
    assert_eq!(view["entries"][0]["cidr"], "127.0.0.2/32");
    assert_eq!(disable_by_cli(&t, &admin.account_id)["changed"], false);

    let changes = one.events(&t, &tok, "account.ip_allowlist_changed").await;
    assert_eq!(changes.len(), 3, "{changes:?}");
    let by = |kind: &str| -> Vec<&Value> {
        changes
            .iter()
            .filter(|e| e["actor"]["kind"] == kind)
            .collect()
    };
    let users = by("user");
    assert_eq!(users.len(), 2, "{changes:?}");
    for e in &users {
        assert_eq!(e["actor"]["user_id"], json!(admin.id));
        assert_eq!(e["ip"], "127.0.0.1");
    }
    assert!(users.iter().any(|e| e["detail"]["added"] == "127.0.0.2/32"));
    assert!(users
        .iter()
        .any(|e| e["detail"]["enabled"] == true && e["detail"]["forced"] == true));
    let cli = by("cli");
    assert_eq!(cli.len(), 1, "{changes:?}");
    assert_eq!(cli[0]["actor"]["user_id"], Value::Null);
    assert_eq!(cli[0]["detail"]["enabled"], false);
}
