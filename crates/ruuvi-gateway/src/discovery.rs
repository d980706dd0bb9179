//! Finding gateways: mDNS (`_http._tcp` instances named `RuuviGateway*`, spec §9), hosts the
//! user names, and an optional probe of a list or range with `GET /` and the
//! `Server: Ruuvi Gateway` header. Never `GET /auth`: it would replace the pending login
//! challenge of someone who is logging in at that moment.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

use crate::http::{self, Endpoint, Method, Request};
use crate::GatewayError;

/// How a gateway was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
pub enum Found {
    Mdns,
    Probe,
    Manual,
}

/// One gateway found (or one address that did not turn out to be one).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
pub struct Discovered {
    pub endpoint: Endpoint,
    /// `RuuviGatewayXXXX` (mDNS instance / host name), when known.
    pub name: Option<String>,
    /// The last four hex digits of the gateway's MAC (`XXXX` of its name).
    pub mac_suffix: Option<String>,
    pub found: Found,
    /// The LAN auth mode as an unauthenticated `GET /status.json` reveals it:
    /// `lan_auth_default or lan_auth_ruuvi` (a redirect), `lan_auth_basic`, `lan_auth_digest`,
    /// `lan_auth_allow` or `lan_auth_deny`.
    pub lan_auth: Option<String>,
    /// The firmware version, when the gateway shows it to strangers (≤ v1.17.3, in the auth JSON
    /// of a 401/403).
    pub firmware: Option<String>,
    /// `Ok(())` when it answered like a Ruuvi Gateway; otherwise why not.
    #[serde(serialize_with = "reason")]
    #[ts(type = "string | null")]
    pub reachable: Result<(), String>,
}

fn reason<S: serde::Serializer>(r: &Result<(), String>, s: S) -> Result<S::Ok, S::Error> {
    match r {
        Ok(()) => s.serialize_none(),
        Err(e) => s.serialize_some(e),
    }
}

fn suffix_of(name: &str) -> Option<String> {
    let rest = name
        .get(..12)
        .filter(|p| p.eq_ignore_ascii_case("RuuviGateway"))?;
    let _ = rest;
    let tail = &name[12..];
    (tail.len() == 4 && tail.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| tail.to_ascii_uppercase())
}

/// Browses mDNS for `duration` and returns every `RuuviGateway*` instance resolved.
pub async fn browse_mdns(duration: Duration) -> Result<Vec<Discovered>, GatewayError> {
    tokio::task::spawn_blocking(move || {
        let daemon = mdns_sd::ServiceDaemon::new()
            .map_err(|e| GatewayError::Discovery(format!("mDNS: {e}")))?;
        let events = daemon
            .browse("_http._tcp.local.")
            .map_err(|e| GatewayError::Discovery(format!("mDNS browse: {e}")))?;
        let deadline = Instant::now() + duration;
        let mut found: Vec<Discovered> = Vec::new();
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            let Ok(event) = events.recv_timeout(left.min(Duration::from_millis(200))) else {
                continue;
            };
            let mdns_sd::ServiceEvent::ServiceResolved(info) = event else {
                continue;
            };
            let instance = info
                .get_fullname()
                .trim_end_matches("._http._tcp.local.")
                .to_string();
            if !instance.to_ascii_lowercase().starts_with("ruuvigateway") {
                continue;
            }
            let mut addrs: Vec<Ipv4Addr> = info.get_addresses_v4().into_iter().collect();
            addrs.sort();
            let host = addrs
                .first()
                .map(|a| a.to_string())
                .unwrap_or_else(|| info.get_hostname().trim_end_matches('.').to_string());
            let d = Discovered {
                endpoint: Endpoint::new(host, info.get_port()),
                mac_suffix: suffix_of(&instance),
                name: Some(instance),
                found: Found::Mdns,
                lan_auth: None,
                firmware: None,
                reachable: Ok(()),
            };
            if !found.iter().any(|f| f.endpoint == d.endpoint) {
                found.push(d);
            }
        }
        let _ = daemon.shutdown();
        found.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(found)
    })
    .await
    .map_err(|e| GatewayError::Discovery(e.to_string()))?
}

/// Browses mDNS, then probes what it found (reachability, LAN auth, firmware when shown).
pub async fn discover(
    mdns_for: Duration,
    timeout: Duration,
) -> Result<Vec<Discovered>, GatewayError> {
    let mut found = browse_mdns(mdns_for).await?;
    let probed = probe(
        found.iter().map(|d| d.endpoint.clone()).collect(),
        Found::Mdns,
        16,
        timeout,
    )
    .await;
    for (d, p) in found.iter_mut().zip(probed) {
        d.reachable = p.reachable;
        d.lan_auth = p.lan_auth;
        d.firmware = p.firmware;
    }
    Ok(found)
}

/// What a probe learnt of one address.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProbeInfo {
    pub lan_auth: Option<String>,
    pub firmware: Option<String>,
}

/// Whether something at `endpoint` is a Ruuvi Gateway (`GET /` and its `Server` header), and
/// what an unauthenticated `GET /status.json` says about its LAN auth. Neither creates a login
/// challenge (only `GET /auth` does).
pub async fn probe_one(endpoint: &Endpoint, timeout: Duration) -> Result<ProbeInfo, String> {
    let response = http::send(endpoint, &Request::new(Method::Get, "/"), timeout)
        .await
        .map_err(|e| e.to_string())?;
    match response.header("Server") {
        Some("Ruuvi Gateway") => {}
        Some(other) => return Err(format!("answers, but is {other:?}, not a Ruuvi Gateway")),
        None => return Err("answers, but not as a Ruuvi Gateway (no Server header)".to_string()),
    }
    let Ok(status) = http::send(
        endpoint,
        &Request::new(Method::Get, "/status.json"),
        timeout,
    )
    .await
    else {
        return Ok(ProbeInfo::default());
    };
    let info = crate::auth::AuthInfo::parse(&status.body);
    let lan_auth = match status.status {
        200 => Some("lan_auth_allow".to_string()),
        302 => Some("lan_auth_default or lan_auth_ruuvi".to_string()),
        401 | 403 => info
            .as_ref()
            .map(|i| i.lan_auth_type.clone())
            .filter(|t| !t.is_empty()),
        _ => None,
    };
    Ok(ProbeInfo {
        lan_auth,
        firmware: info.and_then(|i| i.fw_ver),
    })
}

/// Probes every endpoint, at most `concurrency` at a time, each within `timeout`.
pub async fn probe(
    endpoints: Vec<Endpoint>,
    found: Found,
    concurrency: usize,
    timeout: Duration,
) -> Vec<Discovered> {
    let permits = Arc::new(Semaphore::new(concurrency.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for (i, endpoint) in endpoints.into_iter().enumerate() {
        let permits = permits.clone();
        tasks.spawn(async move {
            let _p = permits.acquire_owned().await.expect("never closed");
            let probed = probe_one(&endpoint, timeout).await;
            let name = endpoint
                .host
                .parse::<IpAddr>()
                .is_err()
                .then(|| endpoint.host.trim_end_matches(".local").to_string());
            let (lan_auth, firmware) = match &probed {
                Ok(p) => (p.lan_auth.clone(), p.firmware.clone()),
                Err(_) => (None, None),
            };
            (
                i,
                Discovered {
                    mac_suffix: name.as_deref().and_then(suffix_of),
                    name,
                    endpoint,
                    found,
                    lan_auth,
                    firmware,
                    reachable: probed.map(|_| ()),
                },
            )
        });
    }
    let mut out = Vec::new();
    while let Some(r) = tasks.join_next().await {
        out.push(r.expect("probe tasks do not panic"));
    }
    out.sort_by_key(|(i, _)| *i);
    out.into_iter().map(|(_, d)| d).collect()
}

/// The most addresses one probe may cover.
pub const MAX_PROBE_HOSTS: usize = 1024;

/// Hosts the user typed: `a, b, c`, each a name, an address (`:port` allowed) or an IPv4 range
/// `192.168.1.10-40` (last octet). At most [`MAX_PROBE_HOSTS`].
pub fn parse_targets(text: &str) -> Result<Vec<Endpoint>, GatewayError> {
    let mut out = Vec::new();
    for item in text
        .split([',', ' ', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let (spec, port) = match item.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') => (
                h,
                p.parse::<u16>()
                    .map_err(|_| GatewayError::BadInput(format!("{item:?}: bad port")))?,
            ),
            _ => (item, 80),
        };
        if let Some((first, last)) = spec.split_once('-').filter(|_| spec.contains('.')) {
            let start: Ipv4Addr = first
                .parse()
                .map_err(|_| GatewayError::BadInput(format!("{item:?}: bad range start")))?;
            let end: u8 = last.parse().map_err(|_| {
                GatewayError::BadInput(format!("{item:?}: range end must be the last octet"))
            })?;
            let [a, b, c, from] = start.octets();
            if end < from {
                return Err(GatewayError::BadInput(format!("{item:?}: empty range")));
            }
            for d in from..=end {
                out.push(Endpoint::new(Ipv4Addr::new(a, b, c, d).to_string(), port));
            }
        } else {
            let mut e = Endpoint::parse(spec)?;
            e.port = port;
            out.push(e);
        }
        if out.len() > MAX_PROBE_HOSTS {
            return Err(GatewayError::BadInput(format!(
                "more than {MAX_PROBE_HOSTS} hosts: narrow the range"
            )));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_and_names() {
        let t = parse_targets("192.0.2.10-12, ruuvigateway9c2c.local 127.0.0.1:8080").unwrap();
        let hosts: Vec<String> = t.iter().map(|e| e.to_string()).collect();
        assert_eq!(
            hosts,
            [
                "192.0.2.10",
                "192.0.2.11",
                "192.0.2.12",
                "ruuvigateway9c2c.local",
                "127.0.0.1:8080"
            ]
        );
        assert!(parse_targets(
            "10.0.0.0-255, 10.0.1.0-255, 10.0.2.0-255, 10.0.3.0-255, 10.0.4.0-1"
        )
        .is_err());
        assert!(parse_targets("192.0.2.9-3").is_err());
        assert_eq!(suffix_of("RuuviGateway9c2c").as_deref(), Some("9C2C"));
        assert_eq!(suffix_of("ruuvigateway9C2C").as_deref(), Some("9C2C"));
        assert_eq!(suffix_of("Printer"), None);
    }
}
