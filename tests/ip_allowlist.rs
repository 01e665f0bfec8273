//! The IP allow-list: enforcement from the password step on and on every
//! authenticated call, client address resolution (spoofed headers ignored,
//! trusted proxies honoured, IPv6 and IPv4-mapped forms), entry validation,
//! the 409 lock-out guard, tenancy, roles, the support CLI and the audit.
//!
//! The server listens on 127.0.0.1, but Linux accepts connections from any
//! 127.x.y.z source: a client bound to 127.0.0.2 is "another address".

use reqwest::header::AUTHORIZATION;
use reqwest::Method;
use serde_json::{json, Value};
use twofold::clock::Clock as _;
use twofold::users::Role;

use crate::common::{answer, binary, code_at, Answer, Person, TestApp};

mod managing;

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
        answer(req.send().await.unwrap()).await
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
