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
mod tests;
