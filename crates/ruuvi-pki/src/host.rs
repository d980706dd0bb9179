//! Which names the receiver's certificate carries, and which of them a given gateway should use.
//!
//! The gateway checks the server name against the certificate (mbedTLS with
//! `skip_cert_common_name_check=false`), so the URL pushed to a gateway must name a SAN the
//! gateway can also reach.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::issue::is_dns_name;

/// One of this machine's addresses with its network prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalAddress {
    pub ip: IpAddr,
    pub prefix_len: u8,
}

impl LocalAddress {
    pub fn new(ip: IpAddr, prefix_len: u8) -> Self {
        Self { ip, prefix_len }
    }

    /// Whether `other` is on this address's network.
    pub fn same_network(&self, other: IpAddr) -> bool {
        match (self.ip, other) {
            (IpAddr::V4(a), IpAddr::V4(b)) => {
                let bits = u32::from(self.prefix_len.min(32));
                let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
                u32::from(a) & mask == u32::from(b) & mask
            }
            (IpAddr::V6(a), IpAddr::V6(b)) => {
                let bits = u32::from(self.prefix_len.min(128));
                let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
                u128::from(a) & mask == u128::from(b) & mask
            }
            _ => false,
        }
    }
}

/// IPv6 link-local addresses need a zone (`%eth0`) that URLs and SANs cannot carry.
fn usable_in_url(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(_) => true,
        IpAddr::V6(v6) => (v6.segments()[0] & 0xffc0) != 0xfe80,
    }
}

/// This machine's non-loopback addresses, from the OS.
pub fn local_addresses() -> std::io::Result<Vec<LocalAddress>> {
    let mut out: Vec<LocalAddress> = if_addrs::get_if_addrs()?
        .into_iter()
        .filter(|i| !i.is_loopback())
        .map(|i| match i.addr {
            if_addrs::IfAddr::V4(a) => LocalAddress::new(IpAddr::V4(a.ip), a.prefixlen),
            if_addrs::IfAddr::V6(a) => LocalAddress::new(IpAddr::V6(a.ip), a.prefixlen),
        })
        .filter(|a| usable_in_url(a.ip))
        .collect();
    out.sort_by_key(|a| (a.ip.is_ipv6(), a.ip));
    out.dedup();
    Ok(out)
}

/// This machine's host name, lower-case, if it is a usable DNS label sequence.
pub fn local_host_name() -> Option<String> {
    let name = hostname::get()
        .ok()?
        .into_string()
        .ok()?
        .to_ascii_lowercase();
    // A name like "desk.example.org" stays; "desk.local" is not doubled below.
    is_dns_name(&name).then_some(name)
}

/// The SANs of the receiver's certificate: the host name, `<host>.local` (mDNS: the gateway's
/// lwIP resolves `.local` names, `CONFIG_LWIP_DNS_SUPPORT_MDNS_QUERIES=y`), every usable
/// non-loopback address, `localhost` and `127.0.0.1`. Order is stable so that an unchanged
/// machine gives an unchanged list.
pub fn server_names(host_name: Option<&str>, addresses: &[LocalAddress]) -> Vec<String> {
    let mut names = Vec::new();
    if let Some(host) = host_name.filter(|h| is_dns_name(h)) {
        let host = host.to_ascii_lowercase();
        let short = host.strip_suffix(".local").unwrap_or(&host).to_string();
        names.push(short.clone());
        names.push(format!("{short}.local"));
        if host != short && !names.contains(&host) {
            names.push(host);
        }
    }
    for a in addresses.iter().filter(|a| usable_in_url(a.ip)) {
        names.push(a.ip.to_string());
    }
    names.push("localhost".to_string());
    names.push(Ipv4Addr::LOCALHOST.to_string());
    let mut seen = std::collections::HashSet::new();
    names.retain(|n| seen.insert(n.clone()));
    names
}

/// How the gateway's TLS stack matches the URL's host against the certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NameCheck {
    /// An IP address in the URL matches an iPAddress SAN: mbedTLS 3.5+, which current firmware
    /// carries (`components/mbedtls`, sbom `version: 3.5.0`, `x509_crt_check_san_ip`).
    #[default]
    IpSans,
    /// Only DNS names match (mbedTLS 2.x compares the host with dNSName SANs only). Which older
    /// firmware releases still use mbedTLS 2.x is UNVERIFIED; a client that knows a gateway
    /// runs one picks this.
    DnsOnly,
}

/// The host a gateway at `gateway` should put in the receiver URL, chosen among `sans`:
/// 1. a gateway on this machine (the simulator) → the loopback address;
/// 2. our address on the gateway's own network (no name resolution involved);
/// 3. the address the OS routes to the gateway from (`route_source`, see [`route_source`]);
/// 4. `<host>.local`, then any DNS name in the SANs.
///
/// With [`NameCheck::DnsOnly`] steps 1–3 are skipped (and loopback becomes `localhost`).
/// `None` if no SAN fits (the certificate must be re-issued for the current addresses).
pub fn host_for_gateway(
    gateway: IpAddr,
    addresses: &[LocalAddress],
    route_source: Option<IpAddr>,
    sans: &[String],
    check: NameCheck,
) -> Option<String> {
    let in_sans = |ip: IpAddr| sans.iter().any(|s| s.parse::<IpAddr>() == Ok(ip));
    if check == NameCheck::DnsOnly {
        if gateway.is_loopback() && sans.iter().any(|s| s == "localhost") {
            return Some("localhost".to_string());
        }
        return dns_name(sans);
    }
    if gateway.is_loopback() {
        let lo = match gateway {
            IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
        };
        if in_sans(lo) {
            return Some(lo.to_string());
        }
        if sans.iter().any(|s| s == "localhost") {
            return Some("localhost".to_string());
        }
    }
    if let Some(a) = addresses
        .iter()
        .filter(|a| a.same_network(gateway) && usable_in_url(a.ip))
        // The most specific network first.
        .max_by_key(|a| a.prefix_len)
        .filter(|a| in_sans(a.ip))
    {
        return Some(a.ip.to_string());
    }
    if let Some(ip) = route_source.filter(|ip| !ip.is_loopback() && in_sans(*ip)) {
        return Some(ip.to_string());
    }
    dns_name(sans)
}

/// `<host>.local` first (it resolves on the LAN without a DNS server), then any other name.
fn dns_name(sans: &[String]) -> Option<String> {
    sans.iter()
        .find(|s| s.ends_with(".local"))
        .or_else(|| {
            sans.iter()
                .find(|s| s.parse::<IpAddr>().is_err() && *s != "localhost")
        })
        .cloned()
}

/// The local address the OS would send from to reach `gateway`. A UDP `connect` only consults
/// the routing table: no packet leaves the machine.
pub fn route_source(gateway: IpAddr) -> Option<IpAddr> {
    let bind: IpAddr = match gateway {
        IpAddr::V4(_) => Ipv4Addr::UNSPECIFIED.into(),
        IpAddr::V6(_) => Ipv6Addr::UNSPECIFIED.into(),
    };
    let socket = std::net::UdpSocket::bind((bind, 0)).ok()?;
    socket.connect((gateway, 9)).ok()?;
    Some(socket.local_addr().ok()?.ip())
}

/// How a host goes into a URL (`[v6]`).
pub fn url_host(host: &str) -> String {
    match host.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) => format!("[{v6}]"),
        _ => host.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn machine() -> Vec<LocalAddress> {
        vec![
            LocalAddress::new(ip("192.168.1.20"), 24),
            LocalAddress::new(ip("10.8.0.5"), 16),
            LocalAddress::new(ip("2001:db8:1::20"), 64),
        ]
    }

    #[test]
    fn san_set_has_every_form_once_in_a_stable_order() {
        let names = server_names(Some("Desk"), &machine());
        assert_eq!(
            names,
            [
                "desk",
                "desk.local",
                "192.168.1.20",
                "10.8.0.5",
                "2001:db8:1::20",
                "localhost",
                "127.0.0.1"
            ]
        );
        // A host name that already ends in .local is not doubled; a bad one is left out.
        assert_eq!(
            server_names(Some("desk.local"), &[])[..2],
            ["desk", "desk.local"]
        );
        assert_eq!(
            server_names(Some("bad name"), &[]),
            ["localhost", "127.0.0.1"]
        );
        // Link-local IPv6 cannot be named in a URL, so it is not a SAN.
        let with_ll = [LocalAddress::new(ip("fe80::1"), 64)];
        assert!(!server_names(None, &with_ll).contains(&"fe80::1".to_string()));
    }

    #[test]
    fn picks_our_address_on_the_gateways_network() {
        let sans = server_names(Some("desk"), &machine());
        let pick = |gw: &str, route: Option<&str>| {
            host_for_gateway(ip(gw), &machine(), route.map(ip), &sans, NameCheck::IpSans)
        };
        assert_eq!(pick("192.168.1.77", None).as_deref(), Some("192.168.1.20"));
        assert_eq!(pick("10.8.200.1", None).as_deref(), Some("10.8.0.5"));
        assert_eq!(
            pick("2001:db8:1::77", None).as_deref(),
            Some("2001:db8:1::20")
        );
        // The simulator on this machine.
        assert_eq!(pick("127.0.0.1", None).as_deref(), Some("127.0.0.1"));
        assert_eq!(pick("::1", None).as_deref(), Some("localhost"));
        // A routed gateway: the OS's source address if it is a SAN, else the mDNS name.
        assert_eq!(
            pick("172.16.5.5", Some("10.8.0.5")).as_deref(),
            Some("10.8.0.5")
        );
        assert_eq!(pick("172.16.5.5", None).as_deref(), Some("desk.local"));
        // Addresses that changed since the certificate was issued do not count.
        let old_sans = server_names(Some("desk"), &[]);
        assert_eq!(
            host_for_gateway(
                ip("192.168.1.77"),
                &machine(),
                None,
                &old_sans,
                NameCheck::IpSans
            )
            .as_deref(),
            Some("desk.local")
        );
        assert_eq!(
            host_for_gateway(
                ip("192.168.1.77"),
                &machine(),
                None,
                &["10.0.0.1".into()],
                NameCheck::IpSans
            ),
            None
        );
        // A gateway whose mbedTLS matches DNS names only gets a name.
        let dns_only =
            |gw: &str| host_for_gateway(ip(gw), &machine(), None, &sans, NameCheck::DnsOnly);
        assert_eq!(dns_only("192.168.1.77").as_deref(), Some("desk.local"));
        assert_eq!(dns_only("127.0.0.1").as_deref(), Some("localhost"));
    }

    #[test]
    fn network_membership() {
        let a = LocalAddress::new(ip("192.168.1.20"), 24);
        assert!(a.same_network(ip("192.168.1.1")));
        assert!(!a.same_network(ip("192.168.2.1")));
        assert!(!a.same_network(ip("::1")));
        assert!(LocalAddress::new(ip("10.0.0.1"), 0).same_network(ip("8.8.8.8")));
        assert!(LocalAddress::new(ip("10.0.0.1"), 32).same_network(ip("10.0.0.1")));
        assert!(!LocalAddress::new(ip("10.0.0.1"), 32).same_network(ip("10.0.0.2")));
        assert_eq!(url_host("2001:db8::1"), "[2001:db8::1]");
        assert_eq!(url_host("desk.local"), "desk.local");
    }

    #[test]
    fn route_source_of_loopback_is_loopback() {
        // Only the routing table is consulted; 127.0.0.1 never leaves the machine anyway.
        assert_eq!(route_source(ip("127.0.0.1")), Some(ip("127.0.0.1")));
    }
}
