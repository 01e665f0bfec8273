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
///
/// Client addresses are compared in their [`canonical`] form, so a range
/// written in IPv4-mapped form (`::ffff:10.0.0.0/104`) is stored as the IPv4
/// range it names (`10.0.0.0/8`): kept as IPv6 it would never match anyone.
pub fn parse_cidr_or_ip(input: &str) -> Result<IpNet, String> {
    let input = input.trim();
    if let Ok(addr) = input.parse::<IpAddr>() {
        return Ok(IpNet::from(canonical(addr)));
    }
    let parsed: IpNet = input
        .parse()
        .map_err(|_| format!("{input}: not an IP address or CIDR range"))?;
    let net = match parsed {
        IpNet::V6(v6) if v6.addr().to_ipv4_mapped().is_some() => mapped_to_ipv4(input, v6)?,
        other => other,
    };
    if net.trunc() != net {
        return Err(format!(
            "{input}: host bits are set; did you mean {}?",
            net.trunc()
        ));
    }
    Ok(net)
}

/// The IPv4 range an IPv4-mapped range names: `::ffff:a.b.c.d/(96+n)` is
/// `a.b.c.d/n`. A shorter prefix reaches beyond the mapped block and has no
/// IPv4 equivalent.
fn mapped_to_ipv4(input: &str, v6: ipnet::Ipv6Net) -> Result<IpNet, String> {
    let v4 = v6.addr().to_ipv4_mapped();
    match (v4, v6.prefix_len().checked_sub(96)) {
        (Some(v4), Some(prefix)) => ipnet::Ipv4Net::new(v4, prefix)
            .map(IpNet::V4)
            .map_err(|_| format!("{input}: not a CIDR range")),
        _ => Err(format!(
            "{input}: an IPv4-mapped range needs a prefix of /96 or longer; \
             write the IPv4 range instead (e.g. 10.0.0.0/8)"
        )),
    }
}

/// An allow-list entry as stored, in the form client addresses are compared
/// with: entries saved before mapped ranges were converted match as well.
pub fn canonical_net(net: IpNet) -> IpNet {
    match net {
        IpNet::V6(v6) if v6.prefix_len() >= 96 => match v6.addr().to_ipv4_mapped() {
            Some(v4) => ipnet::Ipv4Net::new(v4, v6.prefix_len() - 96)
                .map(|n| IpNet::V4(n.trunc()))
                .unwrap_or(net),
            None => net,
        },
        other => other,
    }
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
}
