//! Attacks on the client address behind a trusted proxy: a client's own
//! forwarding header, garbage in the chain, and the header the deployment
//! did not choose. The server listens on 127.0.0.1; a client bound to
//! 127.0.0.1 plays the trusted proxy (see `ip_allowlist::via`).

use twofold::users::Role;

use crate::common::TestApp;
use crate::ip_allowlist::{ips, via, xff};

const PROXY: (&str, &str) = ("TWOFOLD_TRUSTED_PROXIES", "127.0.0.1");

/// Behind the README's nginx config: nginx appends the peer it saw to
/// `X-Forwarded-For` and passes the client's own `Forwarded` through.
#[actix_web::test]
async fn a_client_forwarded_header_behind_nginx_cannot_pick_its_address() {
    let t = TestApp::with_env(&[PROXY]).await;
    let admin = t.account("Nginx").await;
    let tech = t.user(&admin.account_id, Role::Technician).await;
    let tok = t.access_token(&admin).await;
    let proxy = via(1, &[]);
    for cidr in ["127.0.0.1", "203.0.113.77"] {
        proxy.entry(&t, &tok, cidr).await;
    }
    assert_eq!(proxy.switch(&t, &tok, true, false).await.status, 200);

    let liar = via(
        1,
        &[
            ("forwarded", "for=203.0.113.77"),
            ("x-forwarded-for", "198.51.100.23"),
        ],
    );
    liar.refused(&t, &tech).await;
    let denied = proxy.events(&t, &tok, "access.ip_denied").await;
    assert_eq!(ips(&denied), vec!["198.51.100.23"], "{denied:?}");
}

/// `TWOFOLD_FORWARDED_HEADER=forwarded`: RFC 7239 is read and a client's
/// `X-Forwarded-For` is not.
#[actix_web::test]
async fn with_forwarded_configured_x_forwarded_for_is_the_clients_word() {
    let t = TestApp::with_env(&[PROXY, ("TWOFOLD_FORWARDED_HEADER", "forwarded")]).await;
    let admin = t.account("Rfc7239").await;
    let tech = t.user(&admin.account_id, Role::Technician).await;
    let tok = t.access_token(&admin).await;
    let proxy = via(1, &[]);
    for cidr in ["127.0.0.1", "2001:db8::/32"] {
        proxy.entry(&t, &tok, cidr).await;
    }
    assert_eq!(proxy.switch(&t, &tok, true, false).await.status, 200);

    // A quoted, bracketed IPv6 address with a port.
    let rfc = via(
        1,
        &[("forwarded", "for=\"[2001:db8::5]:4711\";proto=https")],
    );
    rfc.login(&t, &tech).await;
    let view = rfc.list(&t, &tok).await;
    assert_eq!(view["your_address"], "2001:db8::5");
    via(1, &[("forwarded", "for=\"[2001:db9::1]\"")])
        .refused(&t, &tech)
        .await;
    // The client's X-Forwarded-For names a listed address; it is not read.
    via(
        1,
        &[
            ("x-forwarded-for", "2001:db8::5"),
            ("forwarded", "for=198.51.100.4"),
        ],
    )
    .refused(&t, &tech)
    .await;
}

/// A malformed hop used to discard the whole chain, so every client
/// became the proxy (listed, and sharing one set of address limits).
#[actix_web::test]
async fn garbage_in_the_forwarding_chain_is_refused_not_blamed_on_the_proxy() {
    let t = TestApp::with_env(&[PROXY]).await;
    let admin = t.account("Garbage").await;
    let tech = t.user(&admin.account_id, Role::Technician).await;
    let tok = t.access_token(&admin).await;
    let proxy = via(1, &[]);
    proxy.entry(&t, &tok, "127.0.0.1").await;
    assert_eq!(proxy.switch(&t, &tok, true, false).await.status, 200);

    for chain in ["garbage", "203.0.113.5, garbage", "203.0.113.5,,127.0.0.1"] {
        let body = serde_json::json!({ "email": tech.email });
        let a = xff(chain).post(&t, "/v1/auth/login", None, body).await;
        a.problem(400, "invalid_forwarding");
        let a = xff(chain).get(&t, "/v1/admin/ip-allowlist", &tok).await;
        a.problem(400, "invalid_forwarding");
    }
    // What the client wrote left of the last untrusted hop is never parsed:
    // the hop nginx saw decides.
    xff("garbage, 198.51.100.9").refused(&t, &tech).await;
    let denied = proxy.events(&t, &tok, "access.ip_denied").await;
    assert_eq!(ips(&denied), vec!["198.51.100.9"], "{denied:?}");
}
