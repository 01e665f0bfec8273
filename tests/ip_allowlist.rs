//! The IP allow-list: enforcement from the password step on and on every
//! authenticated call, client address resolution (spoofed headers ignored,
//! trusted proxies honoured, IPv6 and IPv4-mapped forms), entry validation,
//! the 409 lock-out guard, tenancy, roles, the support CLI and the audit.
//!
//! The server listens on 127.0.0.1, but Linux accepts connections from any
//! 127.x.y.z source: a client bound to 127.0.0.2 is "another address".

use std::process::Command;

use reqwest::header::AUTHORIZATION;
use reqwest::Method;
use serde_json::{json, Value};
use twofold::clock::Clock as _;
use twofold::users::Role;

use crate::common::{code_at, Answer, Person, TestApp};

/// Where requests come from: a loopback source address, plus headers a
/// proxy (or a liar) adds.
pub(crate) struct Src {
    client: reqwest::Client,
    headers: Vec<(&'static str, String)>,
}

/// Requests from 127.0.0.`last` carrying `headers`.
pub(crate) fn via(last: u8, headers: &[(&'static str, &str)]) -> Src {
    let client = reqwest::Client::builder()
        .local_address(Some(std::net::IpAddr::from([127, 0, 0, last])))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let headers = headers.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
    Src { client, headers }
}

/// A trusted proxy at 127.0.0.1 forwarding for `addr` in `X-Forwarded-For`.
pub(crate) fn xff(addr: &str) -> Src {
    via(1, &[("x-forwarded-for", addr)])
}

impl Src {
    pub(crate) async fn call(
        &self,
        t: &TestApp,
        method: Method,
        path: &str,
        bearer: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        let mut req = self.client.request(method, t.url(path));
        for (name, value) in &self.headers {
            req = req.header(*name, value);
        }
        if let Some(token) = bearer {
            req = req.header(AUTHORIZATION, format!("Bearer {token}"));
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let response = req.send().await.unwrap();
        let (status, headers) = (response.status(), response.headers().clone());
        let text = response.text().await.unwrap();
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            text,
            json,
        }
    }

    pub(crate) async fn get(&self, t: &TestApp, path: &str, bearer: &str) -> Answer {
        self.call(t, Method::GET, path, Some(bearer), None).await
    }

    pub(crate) async fn post(
        &self,
        t: &TestApp,
        path: &str,
        bearer: Option<&str>,
        body: Value,
    ) -> Answer {
        self.call(t, Method::POST, path, bearer, Some(body)).await
    }

    /// The email step (which never reveals anything) and then the password.
    pub(crate) async fn password(&self, t: &TestApp, email: &str, password: &str) -> Answer {
        let a = self
            .post(t, "/v1/auth/login", None, json!({ "email": email }))
            .await;
        assert_eq!(a.status, 200, "{}", a.text);
        assert_eq!(a.json["status"], "password_required", "{}", a.text);
        let flow = a.json["flow_token"].as_str().unwrap();
        let body = json!({ "flow_token": flow, "password": password });
        self.post(t, "/v1/auth/login/password", None, body).await
    }

    /// A full password login that must succeed; returns the tokens.
    pub(crate) async fn login(&self, t: &TestApp, p: &Person) -> Value {
        let a = self.password(t, &p.email, &p.password).await;
        assert_eq!(a.status, 200, "{}", a.text);
        assert_eq!(a.json["status"], "authenticated", "{}", a.text);
        a.json
    }

    /// A password login that must be refused for the address.
    pub(crate) async fn refused(&self, t: &TestApp, p: &Person) {
        let a = self.password(t, &p.email, &p.password).await;
        a.problem(403, "ip_not_allowed");
    }

    pub(crate) async fn add(&self, t: &TestApp, tok: &str, cidr: &str) -> Answer {
        let body = json!({ "cidr": cidr, "description": format!("entry {cidr}") });
        self.post(t, "/v1/admin/ip-allowlist", Some(tok), body)
            .await
    }

    /// Adds an entry that must be accepted; returns its id.
    pub(crate) async fn entry(&self, t: &TestApp, tok: &str, cidr: &str) -> String {
        let a = self.add(t, tok, cidr).await;
        assert_eq!(a.status, 201, "{}", a.text);
        a.json["id"].as_str().unwrap().to_owned()
    }

    pub(crate) async fn switch(
        &self,
        t: &TestApp,
        tok: &str,
        enabled: bool,
        force: bool,
    ) -> Answer {
        let body = json!({ "ip_allowlist_enabled": enabled, "force": force });
        self.call(
            t,
            Method::PATCH,
            "/v1/admin/security",
            Some(tok),
            Some(body),
        )
        .await
    }

    pub(crate) async fn delete(&self, t: &TestApp, tok: &str, id: &str, query: &str) -> Answer {
        let path = format!("/v1/admin/ip-allowlist/{id}{query}");
        self.call(t, Method::DELETE, &path, Some(tok), None).await
    }

    /// The admin's view of the list (must be allowed).
    pub(crate) async fn list(&self, t: &TestApp, tok: &str) -> Value {
        let a = self.get(t, "/v1/admin/ip-allowlist", tok).await;
        assert_eq!(a.status, 200, "{}", a.text);
        a.json
    }

    pub(crate) async fn events(&self, t: &TestApp, tok: &str, kind: &str) -> Vec<Value> {
        let a = self
            .get(
                t,
                &format!("/v1/admin/audit-events?kind={kind}&limit=200"),
                tok,
            )
            .await;
        assert_eq!(a.status, 200, "{}", a.text);
        a.json["items"].as_array().unwrap().clone()
    }
}

fn token(v: &Value, name: &str) -> String {
    v[name].as_str().unwrap().to_owned()
}

/// The `ip` of each event, sorted (events of one instant have no order).
pub(crate) fn ips(events: &[Value]) -> Vec<String> {
    let mut ips: Vec<String> = events.iter().map(|e| token(e, "ip")).collect();
    ips.sort();
    ips
}

#[actix_web::test]
async fn listed_addresses_pass_and_others_are_refused_at_login_and_on_every_call() {
    let t = TestApp::spawn().await;
    let (one, two) = (via(1, &[]), via(2, &[]));
    let admin = t.account("Allow").await;
    let tech = t.user(&admin.account_id, Role::Technician).await;
    let tok = t.access_token(&admin).await;
    // Signed in from .2 while the list is still off.
    let earlier = two.login(&t, &tech).await;
    let access = token(&earlier, "access_token");
    let refresh = token(&earlier, "refresh_token");

    let a = one.add(&t, &tok, "127.0.0.1").await;
    assert_eq!(a.status, 201, "{}", a.text);
    assert_eq!(a.json["cidr"], "127.0.0.1/32");
    let a = one.switch(&t, &tok, true, false).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.json["ip_allowlist_enabled"], true);

    one.login(&t, &tech).await;
    // From .2 the answer does not depend on the password (the list must
    // not let an outsider test passwords); an unknown email is just wrong.
    let a = two.password(&t, &tech.email, "not the password").await;
    a.problem(403, "ip_not_allowed");
    let a = two.password(&t, "nobody-here@example.test", "x").await;
    a.problem(401, "invalid_credentials");
    two.refused(&t, &tech).await;

    // The token obtained from .2 earlier stops working from .2 ...
    two.get(&t, "/v1/me", &access)
        .await
        .problem(403, "ip_not_allowed");
    let body = json!({ "refresh_token": refresh });
    two.post(&t, "/v1/auth/token/refresh", None, body.clone())
        .await
        .problem(403, "ip_not_allowed");
    two.get(&t, "/v1/admin/users", &tok)
        .await
        .problem(403, "ip_not_allowed");
    // ... while the session itself survives: from .1 it works, and the
    // refresh token refused from .2 was not spent.
    one.get(&t, "/v1/me", &access).await.ok();
    let a = one.post(&t, "/v1/auth/token/refresh", None, body).await;
    assert_eq!(a.status, 200, "{}", a.text);
    let access = token(&a.json, "access_token");
    let a = one
        .post(&t, "/v1/auth/logout", Some(&access), json!({}))
        .await;
    assert_eq!(a.status, 204, "{}", a.text);

    // One event per refusal, the wrong password's included (its answer and
    // effects must not differ from the right one's).
    let denied = one.events(&t, &tok, "access.ip_denied").await;
    assert_eq!(ips(&denied), vec!["127.0.0.2"; 5], "{denied:?}");
    let mut subjects: Vec<&str> = denied
        .iter()
        .map(|e| e["subject_user_id"].as_str().unwrap())
        .collect();
    subjects.sort_unstable();
    let mut expected = vec![tech.id.as_str(); 4];
    expected.push(&admin.id);
    expected.sort_unstable();
    assert_eq!(subjects, expected);
    assert!(denied.iter().all(|e| e["actor"]["kind"] == "user"));
}

#[actix_web::test]
async fn second_factor_and_enrollment_steps_are_refused_outside_the_list() {
    let t = TestApp::spawn().await;
    let (one, two) = (via(1, &[]), via(2, &[]));
    let admin = t.account("Steps").await;
    let tok = t.access_token(&admin).await;
    let enrolled = t
        .enroll(&t.user(&admin.account_id, Role::Technician).await)
        .await;
    let pending = t.user(&admin.account_id, Role::ReadOnly).await;
    t.require_twofa(&pending.id).await;
    one.entry(&t, &tok, "127.0.0.1").await;
    assert_eq!(one.switch(&t, &tok, true, false).await.status, 200);

    // Second factor: the flow begun at .1 cannot be finished from .2.
    let a = one
        .password(&t, &enrolled.person.email, &enrolled.person.password)
        .await;
    assert_eq!(a.json["status"], "mfa_required", "{}", a.text);
    let flow = token(&a.json, "flow_token");
    let code = code_at(&enrolled.secret, t.clock.unix());
    let totp = json!({ "flow_token": flow, "code": code });
    two.post(&t, "/v1/auth/login/totp", None, totp.clone())
        .await
        .problem(403, "ip_not_allowed");
    let rc = json!({ "flow_token": flow, "recovery_code": enrolled.recovery_code });
    two.post(&t, "/v1/auth/login/recovery-code", None, rc)
        .await
        .problem(403, "ip_not_allowed");
    let a = one.post(&t, "/v1/auth/login/totp", None, totp).await;
    assert_eq!(a.json["status"], "authenticated", "{}", a.text);

    // Enrollment: every step refused from .2, the same flow fine from .1.
    let a = one.password(&t, &pending.email, &pending.password).await;
    assert_eq!(a.json["status"], "enrollment_required", "{}", a.text);
    let flow = token(&a.json, "flow_token");
    let start = "/v1/auth/enrollment/totp";
    two.call(&t, Method::POST, start, Some(&flow), None)
        .await
        .problem(403, "ip_not_allowed");
    let a = one.call(&t, Method::POST, start, Some(&flow), None).await;
    let secret = token(a.ok(), "secret");
    two.get(&t, "/v1/auth/enrollment/totp/qr.png", &flow)
        .await
        .problem(403, "ip_not_allowed");
    two.get(&t, "/v1/auth/enrollment/totp/qr.svg", &flow)
        .await
        .problem(403, "ip_not_allowed");
    let verify = "/v1/auth/enrollment/totp/verify";
    let code = json!({ "code": code_at(&secret, t.clock.unix()) });
    two.post(&t, verify, Some(&flow), code.clone())
        .await
        .problem(403, "ip_not_allowed");
    let a = one.post(&t, verify, Some(&flow), code).await;
    assert_eq!(a.ok()["status"], "recovery_code_confirmation_required");
    let flow = token(&a.json, "flow_token");
    let confirm = "/v1/auth/enrollment/recovery-code/confirm";
    let yes = json!({ "confirmed": true });
    two.post(&t, confirm, Some(&flow), yes.clone())
        .await
        .problem(403, "ip_not_allowed");
    let a = one.post(&t, confirm, Some(&flow), yes).await;
    assert_eq!(a.ok()["status"], "authenticated");

    let denied = one.events(&t, &tok, "access.ip_denied").await;
    assert_eq!(ips(&denied), vec!["127.0.0.2"; 7], "{denied:?}");
}

#[actix_web::test]
async fn forwarding_headers_from_an_untrusted_peer_are_ignored() {
    let t = TestApp::spawn().await;
    let admin = t.account("Spoof").await;
    let tech = t.user(&admin.account_id, Role::Technician).await;
    let tok = t.access_token(&admin).await;
    let one = via(1, &[]);
    one.entry(&t, &tok, "127.0.0.1").await;
    assert_eq!(one.switch(&t, &tok, true, false).await.status, 200);

    let liar = via(
        2,
        &[
            ("x-forwarded-for", "127.0.0.1"),
            ("forwarded", "for=127.0.0.1"),
        ],
    );
    liar.refused(&t, &tech).await;
    let spoofed = via(1, &[("x-forwarded-for", "203.0.113.9")]);
    let view = spoofed.list(&t, &tok).await;
    assert_eq!(view["your_address"], "127.0.0.1");
    assert_eq!(view["your_address_listed"], true);
    // Nor can a header make a listed peer look unlisted.
    via(1, &[("x-forwarded-for", "127.0.0.2")])
        .login(&t, &tech)
        .await;
    let denied = one.events(&t, &tok, "access.ip_denied").await;
    assert_eq!(ips(&denied), vec!["127.0.0.2"]);
}

#[actix_web::test]
async fn a_trusted_proxy_forwards_the_client_address_in_every_form() {
    let t = TestApp::with_env(&[("TWOFOLD_TRUSTED_PROXIES", "127.0.0.1")]).await;
    let admin = t.account("Proxy").await;
    let tech = t.user(&admin.account_id, Role::Technician).await;
    let tok = t.access_token(&admin).await;
    let one = via(1, &[]);
    for cidr in ["127.0.0.1", "203.0.113.0/24", "2001:db8::/32", "127.0.0.2"] {
        one.entry(&t, &tok, cidr).await;
    }
    assert_eq!(one.switch(&t, &tok, true, false).await.status, 200);

    xff("203.0.113.9").login(&t, &tech).await;
    xff("198.51.100.7").refused(&t, &tech).await;
    // Chains: the right-most address that is not a trusted proxy decides.
    xff("198.51.100.1, 203.0.113.9").login(&t, &tech).await;
    xff("203.0.113.9, 198.51.100.1").refused(&t, &tech).await;
    xff("203.0.113.9, 10.1.2.3").refused(&t, &tech).await;
    xff("2001:db8::5").login(&t, &tech).await;
    xff("2001:db9::1").refused(&t, &tech).await;
    // An IPv4-mapped IPv6 address is the IPv4 address it carries.
    let mapped = xff("::ffff:127.0.0.2");
    mapped.login(&t, &tech).await;
    let view = mapped.list(&t, &tok).await;
    assert_eq!(view["your_address"], "127.0.0.2");
    assert_eq!(view["your_address_listed"], true);
    // Only the trusted peer is believed: .3 claiming a listed address is .3.
    via(3, &[("x-forwarded-for", "203.0.113.9")])
        .refused(&t, &tech)
        .await;

    let denied = one.events(&t, &tok, "access.ip_denied").await;
    let mut expected = vec![
        "198.51.100.7",
        "198.51.100.1",
        "10.1.2.3",
        "2001:db9::1",
        "127.0.0.3",
    ];
    expected.sort_unstable();
    assert_eq!(ips(&denied), expected, "{denied:?}");
}

#[actix_web::test]
async fn several_trusted_proxies_are_skipped_right_to_left() {
    let proxies = [("TWOFOLD_TRUSTED_PROXIES", "127.0.0.1,10.0.0.0/8")];
    let t = TestApp::with_env(&proxies).await;
    let admin = t.account("Proxies").await;
    let tech = t.user(&admin.account_id, Role::Technician).await;
    let tok = t.access_token(&admin).await;
    let one = via(1, &[]);
    let chain = xff("203.0.113.9, 10.1.2.3");
    assert_eq!(chain.list(&t, &tok).await["your_address"], "203.0.113.9");
    one.entry(&t, &tok, "127.0.0.1").await;
    one.entry(&t, &tok, "203.0.113.0/24").await;
    assert_eq!(one.switch(&t, &tok, true, false).await.status, 200);
    chain.login(&t, &tech).await;
    xff("203.0.113.9, 10.7.7.7, 10.1.2.3")
        .login(&t, &tech)
        .await;
    xff("198.51.100.1, 10.1.2.3").refused(&t, &tech).await;
}

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
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_twofold"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("TWOFOLD_") {
            cmd.env_remove(name);
        }
    }
    let config = &t.state.config;
    let out = cmd
        .env("TWOFOLD_DATABASE_URL", &config.database_url)
        .env("TWOFOLD_DATA_DIR", &config.data_dir)
        .env("TWOFOLD_ARGON2_MEMORY_KIB", "64")
        .env("TWOFOLD_ARGON2_ITERATIONS", "1")
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
