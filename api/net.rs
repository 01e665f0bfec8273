//! Client addresses.
//!
//! The client address is the TCP peer, unless the peer is one of the
//! configured trusted proxies: only then are `Forwarded` (RFC 7239) and
//! `X-Forwarded-For` read, right to left, and the first address that is not
//! itself a trusted proxy is the client. A client can never choose its own
//! address by sending a header, because an untrusted peer's headers are
//! ignored outright.

use std::net::IpAddr;

use actix_web::http::header::HeaderMap;
use ipnet::IpNet;

/// Parses `10.0.0.0/8`, `2001:db8::/32` or a bare address (a /32 or /128).
/// A range with host bits set is refused, naming the network that was meant.
pub fn parse_cidr_or_ip(input: &str) -> Result<IpNet, String> {
    let input = input.trim();
    if let Ok(addr) = input.parse::<IpAddr>() {
        return Ok(IpNet::from(canonical(addr)));
    }
    let net: IpNet = input
        .parse()
        .map_err(|_| format!("{input}: not an IP address or CIDR range"))?;
    if net.trunc() != net {
        return Err(format!(
            "{input}: host bits are set; did you mean {}?",
            net.trunc()
        ));
    }
    Ok(net)
}

/// IPv4-mapped IPv6 (`::ffff:10.1.2.3`) is the IPv4 address it carries.
pub fn canonical(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

fn is_trusted(addr: IpAddr, trusted: &[IpNet]) -> bool {
    trusted.iter().any(|net| net.contains(&addr))
}

/// Resolves the client address of a request from its peer and headers.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let peer = canonical(peer);
    if !is_trusted(peer, trusted) {
        return peer;
    }
    // `Forwarded` is the standard; `X-Forwarded-For` the common practice.
    // When a proxy sends both, the standard wins.
    let chain = forwarded_chain(headers).or_else(|| x_forwarded_for_chain(headers));
    let Some(chain) = chain else {
        return peer;
    };
    let mut client = peer;
    for hop in chain.iter().rev() {
        client = *hop;
        if !is_trusted(*hop, trusted) {
            break;
        }
    }
    client
}

/// The addresses of `X-Forwarded-For`, left (client) to right (nearest
/// proxy). `None` when the header is absent or any element is unparseable:
/// a malformed chain is not evidence of anything.
fn x_forwarded_for_chain(headers: &HeaderMap) -> Option<Vec<IpAddr>> {
    let mut chain = Vec::new();
    for value in headers.get_all("x-forwarded-for") {
        for item in value.to_str().ok()?.split(',') {
            chain.push(canonical(parse_node(item.trim())?));
        }
    }
    (!chain.is_empty()).then_some(chain)
}

/// The `for=` addresses of `Forwarded`, left to right.
fn forwarded_chain(headers: &HeaderMap) -> Option<Vec<IpAddr>> {
    let mut chain = Vec::new();
    for value in headers.get_all("forwarded") {
        for element in value.to_str().ok()?.split(',') {
            for pair in element.split(';') {
                let Some((key, node)) = pair.trim().split_once('=') else {
                    continue;
                };
                if key.trim().eq_ignore_ascii_case("for") {
                    chain.push(canonical(parse_node(node.trim().trim_matches('"'))?));
                }
            }
        }
    }
    (!chain.is_empty()).then_some(chain)
}

/// An address as proxies write it: `1.2.3.4`, `1.2.3.4:5678`, `[::1]`,
/// `[::1]:5678` or a bare `::1`.
fn parse_node(node: &str) -> Option<IpAddr> {
    if let Ok(addr) = node.parse::<IpAddr>() {
        return Some(addr);
    }
    if let Some(rest) = node.strip_prefix('[') {
        let (inside, _) = rest.split_once(']')?;
        return inside.parse().ok();
    }
    let (host, port) = node.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    host.parse().ok()
}

#[cfg(test)]
mod tests {
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

    #[test]
    fn untrusted_peer_headers_are_ignored() {
        let h = headers(&[("x-forwarded-for", "1.2.3.4"), ("forwarded", "for=5.6.7.8")]);
        assert_eq!(client_ip(ip("9.9.9.9"), &h, &[]), ip("9.9.9.9"));
    }

    #[test]
    fn trusted_proxy_chain_takes_rightmost_untrusted() {
        let trusted = vec![parse_cidr_or_ip("10.0.0.0/8").unwrap()];
        let h = headers(&[("x-forwarded-for", "6.6.6.6, 1.2.3.4, 10.0.0.7")]);
        assert_eq!(client_ip(ip("10.0.0.1"), &h, &trusted), ip("1.2.3.4"));
        let h = headers(&[("forwarded", "for=\"[2001:db8::1]:4711\", for=10.0.0.9")]);
        assert_eq!(client_ip(ip("10.0.0.1"), &h, &trusted), ip("2001:db8::1"));
        let h = headers(&[("x-forwarded-for", "garbage")]);
        assert_eq!(client_ip(ip("10.0.0.1"), &h, &trusted), ip("10.0.0.1"));
    }

    #[test]
    fn mapped_ipv6_is_ipv4() {
        assert_eq!(canonical(ip("::ffff:127.0.0.1")), ip("127.0.0.1"));
    }
}
