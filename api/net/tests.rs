//! Unit tests of client-address resolution: trusted hops, both forwarding
//! headers, and the headers a client may forge.

use super::*;
use actix_web::http::header::{HeaderName, HeaderValue};

fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (k, v) in pairs {
        map.append(HeaderName::from_static(k), HeaderValue::from_static(v));
    }
    map
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn cidr_parsing() {
    assert_eq!(
        parse_cidr_or_ip("10.1.2.3").unwrap().to_string(),
        "10.1.2.3/32"
    );
    assert_eq!(parse_cidr_or_ip("::1").unwrap().to_string(), "::1/128");
    assert_eq!(
        parse_cidr_or_ip("10.0.0.0/8").unwrap().to_string(),
        "10.0.0.0/8"
    );
    let err = parse_cidr_or_ip("10.1.2.3/8").unwrap_err();
    assert!(err.contains("10.0.0.0/8"), "{err}");
    assert!(parse_cidr_or_ip("nonsense").is_err());
    assert!(parse_cidr_or_ip("10.0.0.0/33").is_err());
}

const XFF: ForwardedHeader = ForwardedHeader::XForwardedFor;
const RFC: ForwardedHeader = ForwardedHeader::Forwarded;

#[test]
fn untrusted_peer_headers_are_ignored() {
    let h = headers(&[("x-forwarded-for", "1.2.3.4"), ("forwarded", "for=5.6.7.8")]);
    assert_eq!(client_ip(ip("9.9.9.9"), &h, &[], XFF), Ok(ip("9.9.9.9")));
    let h = headers(&[("x-forwarded-for", "garbage")]);
    assert_eq!(client_ip(ip("9.9.9.9"), &h, &[], XFF), Ok(ip("9.9.9.9")));
}

#[test]
fn trusted_proxy_chain_takes_rightmost_untrusted() {
    let trusted = vec![parse_cidr_or_ip("10.0.0.0/8").unwrap()];
    let h = headers(&[("x-forwarded-for", "6.6.6.6, 1.2.3.4, 10.0.0.7")]);
    assert_eq!(
        client_ip(ip("10.0.0.1"), &h, &trusted, XFF),
        Ok(ip("1.2.3.4"))
    );
    let h = headers(&[("forwarded", "for=\"[2001:db8::1]:4711\", for=10.0.0.9")]);
    assert_eq!(
        client_ip(ip("10.0.0.1"), &h, &trusted, RFC),
        Ok(ip("2001:db8::1"))
    );
    // Several header lines form one list, in order.
    let h = headers(&[
        ("x-forwarded-for", "1.2.3.4"),
        ("x-forwarded-for", "10.0.0.2"),
    ]);
    assert_eq!(
        client_ip(ip("10.0.0.1"), &h, &trusted, XFF),
        Ok(ip("1.2.3.4"))
    );
    // No header: the proxy itself is the client (a health check, say).
    assert_eq!(
        client_ip(ip("10.0.0.1"), &HeaderMap::new(), &trusted, XFF),
        Ok(ip("10.0.0.1"))
    );
}

#[test]
fn only_the_configured_header_is_read() {
    let trusted = vec![parse_cidr_or_ip("10.0.0.0/8").unwrap()];
    let h = headers(&[
        ("x-forwarded-for", "1.2.3.4"),
        ("forwarded", "for=203.0.113.77"),
    ]);
    assert_eq!(
        client_ip(ip("10.0.0.1"), &h, &trusted, XFF),
        Ok(ip("1.2.3.4"))
    );
    assert_eq!(
        client_ip(ip("10.0.0.1"), &h, &trusted, RFC),
        Ok(ip("203.0.113.77"))
    );
}

#[test]
fn garbage_left_of_the_client_is_never_parsed_but_at_the_stop_it_is_an_error() {
    let trusted = vec![parse_cidr_or_ip("10.0.0.0/8").unwrap()];
    let h = headers(&[("x-forwarded-for", "garbage, 1.2.3.4")]);
    assert_eq!(
        client_ip(ip("10.0.0.1"), &h, &trusted, XFF),
        Ok(ip("1.2.3.4"))
    );
    let h = headers(&[("x-forwarded-for", "1.2.3.4, garbage")]);
    assert!(client_ip(ip("10.0.0.1"), &h, &trusted, XFF).is_err());
    let h = headers(&[("forwarded", "for=unknown")]);
    assert!(client_ip(ip("10.0.0.1"), &h, &trusted, RFC).is_err());
    let h = headers(&[("forwarded", "proto=https")]);
    assert!(client_ip(ip("10.0.0.1"), &h, &trusted, RFC).is_err());
    assert_eq!(ForwardedHeader::parse("Forwarded"), Ok(RFC));
    assert!(ForwardedHeader::parse("x-real-ip").is_err());
}

#[test]
fn ipv6_clients_count_by_their_64() {
    assert_eq!(address_bucket("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
    assert_eq!(address_bucket("2001:db8:1:2:bbbb::9"), "2001:db8:1:2::/64");
    assert_eq!(address_bucket("203.0.113.9"), "203.0.113.9");
    assert_eq!(address_bucket("::ffff:203.0.113.9"), "203.0.113.9");
}

#[test]
fn ipv4_mapped_ranges_are_ipv4_ranges() {
    let net = |s: &str| parse_cidr_or_ip(s).map(|n| n.to_string());
    assert_eq!(net("::ffff:10.0.0.0/104").unwrap(), "10.0.0.0/8");
    assert_eq!(net("::ffff:0:0/96").unwrap(), "0.0.0.0/0");
    assert_eq!(net("::ffff:192.0.2.7/128").unwrap(), "192.0.2.7/32");
    let err = net("::ffff:10.1.2.3/104").unwrap_err();
    assert!(err.contains("did you mean 10.0.0.0/8"), "{err}");
    let err = net("::ffff:0:0/95").unwrap_err();
    assert!(err.contains("/96"), "{err}");
    // Plain IPv6 ranges stay IPv6, even those that contain the block.
    assert_eq!(net("::/0").unwrap(), "::/0");
    assert_eq!(net("2001:db8::/32").unwrap(), "2001:db8::/32");
    let stored: IpNet = "::ffff:10.0.0.0/104".parse().unwrap();
    assert_eq!(canonical_net(stored).to_string(), "10.0.0.0/8");
    assert!(canonical_net(stored).contains(&ip("10.9.9.9")));
}

#[test]
fn mapped_ipv6_is_ipv4() {
    assert_eq!(canonical(ip("::ffff:127.0.0.1")), ip("127.0.0.1"));
}
