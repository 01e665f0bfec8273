//! Client addresses.
//!
//! The client address is the TCP peer, unless the peer is one of the
//! configured trusted proxies: only then is the one header the deployment's
//! proxies set (`TWOFOLD_FORWARDED_HEADER`: `X-Forwarded-For` or RFC 7239
//! `Forwarded`) read, right to left, and the first address that is not
//! itself a trusted proxy is the client. A client can never choose its own
//! address by sending a header: an untrusted peer's headers are ignored
//! outright, the other forwarding header is never read, and what a client
//! wrote left of the last trusted hop is never parsed.

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

/// The key under which per-address limits count a client. An IPv6 client
/// usually holds a whole /64 (2^64 addresses to rotate through), so IPv6
/// addresses count by their /64; IPv4 addresses count alone. Anything that
/// is not an address counts under itself.
pub fn address_bucket(ip: &str) -> String {
    match ip.parse::<IpAddr>().map(canonical) {
        Ok(IpAddr::V6(v6)) => ipnet::Ipv6Net::new(v6, 64)
            .map(|net| net.trunc().to_string())
            .unwrap_or_else(|_| v6.to_string()),
        Ok(v4) => v4.to_string(),
        Err(_) => ip.to_owned(),
    }
}

fn is_trusted(addr: IpAddr, trusted: &[IpNet]) -> bool {
    trusted.iter().any(|net| net.contains(&addr))
}

/// The one forwarding header the deployment's proxies set
/// (`TWOFOLD_FORWARDED_HEADER`). The other one is never read: a proxy that
/// sets `X-Forwarded-For` passes a client's own `Forwarded` through
/// untouched, and believing it would let the client pick its address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForwardedHeader {
    /// `X-Forwarded-For: client, proxy1, proxy2`.
    XForwardedFor,
    /// RFC 7239 `Forwarded: for=client, for=proxy1`.
    Forwarded,
}

impl ForwardedHeader {
    pub fn parse(value: &str) -> Result<Self, String> {
        match value.trim().to_ascii_lowercase().as_str() {
            "x-forwarded-for" => Ok(Self::XForwardedFor),
            "forwarded" => Ok(Self::Forwarded),
            other => Err(format!("{other}: expected x-forwarded-for or forwarded")),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::XForwardedFor => "x-forwarded-for",
            Self::Forwarded => "forwarded",
        }
    }

    /// The address one element of this header names, or `None` when the
    /// element is malformed or names no address (`for=unknown`, `_hidden`).
    fn address(self, element: &str) -> Option<IpAddr> {
        match self {
            Self::XForwardedFor => parse_node(element.trim()),
            Self::Forwarded => {
                let mut found = None;
                for pair in element.split(';') {
                    let (key, node) = pair.trim().split_once('=')?;
                    if key.trim().eq_ignore_ascii_case("for") {
                        if found.is_some() {
                            return None; // two `for=` in one element
                        }
                        found = Some(parse_node(node.trim().trim_matches('"'))?);
                    }
                }
                found
            }
        }
    }
}

/// The hop where the walk through a trusted proxy's forwarding header
/// stopped could not be read, so the client's address is unknown.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the {header} header has an element that is not an address: {element:?}")]
pub struct MalformedForwarding {
    pub header: &'static str,
    /// The offending element, cut to 64 characters (it is logged).
    pub element: String,
}

/// Resolves the client address of a request from its peer and headers.
///
/// Only a trusted peer's `header` is read, right to left: each trusted
/// proxy vouches for the hop to its left, so the walk stops at the first
/// address that is not a trusted proxy, and elements left of it (which the
/// client wrote) are never parsed nor believed. A malformed element where
/// the walk stops makes the address unknown: an error, never a fallback to
/// the proxy's address (every client would share it and its limits) nor to
/// another header.
pub fn client_ip(
    peer: IpAddr,
    headers: &HeaderMap,
    trusted: &[IpNet],
    header: ForwardedHeader,
) -> Result<IpAddr, MalformedForwarding> {
    let peer = canonical(peer);
    if !is_trusted(peer, trusted) {
        return Ok(peer);
    }
    let mut client = peer;
    for line in headers.get_all(header.name()).rev() {
        let malformed = |element: &str| MalformedForwarding {
            header: header.name(),
            element: element.chars().take(64).collect(),
        };
        let line = line
            .to_str()
            .map_err(|_| malformed(&String::from_utf8_lossy(line.as_bytes())))?;
        for element in line.rsplit(',') {
            if element.trim().is_empty() && line.trim().is_empty() {
                continue; // an empty header line carries no hop
            }
            let hop = header
                .address(element)
                .map(canonical)
                .ok_or_else(|| malformed(element.trim()))?;
            client = hop;
            if !is_trusted(hop, trusted) {
                return Ok(client);
            }
        }
    }
    Ok(client)
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
}
