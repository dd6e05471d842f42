//! The client's address, for throttling: the peer Spin reports
//! (`spin-client-addr`), unless that peer is one of the `trusted_proxies`
//! (CIDRs: the ingress controller), in which case the address the proxy
//! forwards (`X-Forwarded-For`, else `X-Real-IP`). Anyone else's
//! forwarding headers are ignored: a client cannot choose its own address.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use mth_shared::{ApiError, config, request};
use spin_sdk::http::Request;

/// An address range, `10.0.0.0/8` or `fd00::/8` (a bare address is /32 or /128).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        let (address, prefix) = raw.split_once('/').unwrap_or((raw, ""));
        let network: IpAddr = address
            .parse()
            .map_err(|_| format!("{raw:?} is not an address or CIDR range"))?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            "" => max,
            p => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{raw:?} has a prefix length outside 0..={max}"))?,
        };
        Ok(Cidr { network, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let bits = |ip: IpAddr| -> (u128, u32) {
            match canonical(ip) {
                IpAddr::V4(v4) => (u128::from(u32::from(v4)) << 96, 32),
                IpAddr::V6(v6) => (u128::from(v6), 128),
            }
        };
        let ((net, net_len), (addr, addr_len)) = (bits(self.network), bits(ip));
        if net_len != addr_len {
            return false;
        }
        let mask = match self.prefix {
            0 => 0,
            p => u128::MAX << (128 - u32::from(p)),
        };
        net & mask == addr & mask
    }
}

/// IPv4-mapped IPv6 (`::ffff:1.2.3.4`) is the IPv4 address it maps.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The ranges in `raw` (separated by commas or spaces).
pub fn parse_list(raw: &str) -> Result<Vec<Cidr>, String> {
    raw.split([',', ' '])
        .filter(|s| !s.trim().is_empty())
        .map(Cidr::parse)
        .collect()
}

/// The `trusted_proxies` variable; a bad entry is the operator's mistake
/// (500 naming it), never silently "trust nobody" or "trust everybody".
pub fn trusted_proxies() -> Result<Vec<Cidr>, ApiError> {
    parse_list(&config::var("trusted_proxies")?).map_err(|why| {
        ApiError::internal(format!(
            "Server misconfigured: variable 'trusted_proxies': {why}."
        ))
    })
}

fn parse_ip(raw: &str) -> Option<IpAddr> {
    let raw = raw.trim();
    raw.parse::<SocketAddr>()
        .map(|s| s.ip())
        .or_else(|_| raw.trim_matches(['[', ']']).parse::<IpAddr>())
        .ok()
        .map(canonical)
}

/// The client's address given the peer and the forwarding headers.
pub fn resolve(
    peer: Option<&str>,
    forwarded_for: Option<&str>,
    real_ip: Option<&str>,
    trusted: &[Cidr],
) -> Option<IpAddr> {
    let peer = peer.and_then(parse_ip)?;
    let is_trusted = |ip: IpAddr| trusted.iter().any(|c| c.contains(ip));
    if !is_trusted(peer) {
        return Some(peer);
    }
    // Each proxy appends the address it got the request from: the rightmost
    // entry that is not one of our proxies is the client. Entries left of
    // it were written by the client and prove nothing.
    if let Some(chain) = forwarded_for {
        let hops: Vec<IpAddr> = chain.split(',').filter_map(parse_ip).collect();
        if let Some(client) = hops.iter().rev().find(|ip| !is_trusted(**ip)) {
            return Some(*client);
        }
        if let Some(first) = hops.first() {
            return Some(*first);
        }
    }
    real_ip.and_then(parse_ip).or(Some(peer))
}

/// The request's client address (see the module's documentation).
pub fn address(req: &Request) -> Result<Option<IpAddr>, ApiError> {
    Ok(resolve(
        request::header(req, "spin-client-addr"),
        request::header(req, "x-forwarded-for"),
        request::header(req, "x-real-ip"),
        &trusted_proxies()?,
    ))
}

/// The throttle key of an address. IPv6 counts per /64: one subscriber
/// usually holds a whole /64, and would otherwise have 2^64 fresh keys.
pub fn key(ip: IpAddr) -> String {
    match canonical(ip) {
        IpAddr::V4(v4) => format!("client:{v4}"),
        IpAddr::V6(v6) => {
            let network = u128::from(v6) & (u128::MAX << 64);
            format!("client:{}/64", Ipv6Addr::from(network))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn ranges_parse_and_contain() {
        let ten = Cidr::parse("10.0.0.0/8").unwrap();
        assert!(ten.contains(ip("10.1.2.3")) && !ten.contains(ip("11.0.0.1")));
        assert!(ten.contains(ip("::ffff:10.9.9.9")));
        let one = Cidr::parse("127.0.0.1").unwrap();
        assert!(one.contains(ip("127.0.0.1")) && !one.contains(ip("127.0.0.2")));
        let v6 = Cidr::parse("fd00::/8").unwrap();
        assert!(v6.contains(ip("fd12::1")) && !v6.contains(ip("fe80::1")));
        assert!(!v6.contains(ip("10.0.0.1")));
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
        for bad in ["10.0.0.0/33", "nope", "10.0.0/8", "::/129", "1.2.3.4/x"] {
            assert!(Cidr::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_list(" 10.0.0.0/8, fd00::/8 ").unwrap().len(), 2);
        assert_eq!(parse_list("").unwrap(), []);
    }

    #[test]
    fn forwarding_headers_count_only_from_trusted_proxies() {
        let trusted = parse_list("10.0.0.0/8").unwrap();
        let peer = Some("127.0.0.2:5000");
        // A client that is no proxy names any address it likes: ignored.
        assert_eq!(
            resolve(peer, Some("1.2.3.4"), Some("5.6.7.8"), &trusted),
            Some(ip("127.0.0.2"))
        );
        assert_eq!(
            resolve(peer, None, Some("5.6.7.8"), &[]),
            Some(ip("127.0.0.2"))
        );
        // Through the ingress: the rightmost address that is not a proxy.
        let ingress = Some("10.0.0.5:443");
        assert_eq!(
            resolve(
                ingress,
                Some("6.6.6.6, 203.0.113.9, 10.0.0.7"),
                None,
                &trusted
            ),
            Some(ip("203.0.113.9"))
        );
        assert_eq!(
            resolve(ingress, None, Some("203.0.113.9"), &trusted),
            Some(ip("203.0.113.9"))
        );
        assert_eq!(resolve(ingress, None, None, &trusted), Some(ip("10.0.0.5")));
        assert_eq!(resolve(Some("[::1]:80"), None, None, &[]), Some(ip("::1")));
        assert_eq!(resolve(None, Some("1.2.3.4"), None, &trusted), None);
    }

    #[test]
    fn ipv6_counts_per_64() {
        assert_eq!(key(ip("203.0.113.7")), "client:203.0.113.7");
        assert_eq!(key(ip("::ffff:203.0.113.7")), "client:203.0.113.7");
        assert_eq!(
            key(ip("2001:db8:1:2:aaaa::1")),
            key(ip("2001:db8:1:2:bbbb::2"))
        );
        assert_eq!(key(ip("2001:db8:1:2::9")), "client:2001:db8:1:2::/64");
        assert_ne!(key(ip("2001:db8:1:2::1")), key(ip("2001:db8:1:3::1")));
    }
}
