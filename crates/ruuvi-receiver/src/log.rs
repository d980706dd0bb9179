//! What happened to each gateway's posts, for the UI: newest last, bounded per gateway and in
//! the number of gateways (the MAC in a post is whatever its sender wrote). Refusals also go to
//! the log file, at most one line per peer and kind of refusal a minute, so that a flood cannot
//! fill the disk.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use ruuvi_protocol::MacAddress;

use crate::connections::PeerKey;

/// Entries kept per gateway.
const PER_GATEWAY: usize = 200;
/// Gateways kept; beyond this the one that posted longest ago (preferring those never stored)
/// makes room.
const GATEWAYS: usize = 1024;
/// One log line per peer and kind of refusal per this long; the rest are counted.
const REFUSAL_LINE_EVERY: Duration = Duration::from_secs(60);
/// (peer, refusal) pairs remembered for that; past this, refusals share one line a minute.
const REFUSAL_KEYS: usize = 4096;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Stored {
        observations: usize,
    },
    AuthFailed,
    ClientCertMissing,
    ClientCertMismatch,
    BadSignature,
    BadJson,
    TooLarge,
    /// The body ended (or stalled) before its Content-Length.
    Truncated,
    UnknownGateway,
    Busy,
    StoreFailed,
    /// Signed Gateway API posts (ruuvi-network-api §2).
    NotWhitelisted,
    Blocked,
    BadTimestamp,
    Replay,
}

impl Outcome {
    /// A stable name (the `outcome` label of `/metrics`).
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Stored { .. } => "stored",
            Outcome::AuthFailed => "auth_failed",
            Outcome::ClientCertMissing => "client_cert_missing",
            Outcome::ClientCertMismatch => "client_cert_mismatch",
            Outcome::BadSignature => "bad_signature",
            Outcome::BadJson => "bad_json",
            Outcome::TooLarge => "too_large",
            Outcome::Truncated => "truncated",
            Outcome::UnknownGateway => "unknown_gateway",
            Outcome::Busy => "busy",
            Outcome::StoreFailed => "store_failed",
            Outcome::NotWhitelisted => "not_whitelisted",
            Outcome::Blocked => "blocked",
            Outcome::BadTimestamp => "bad_timestamp",
            Outcome::Replay => "replay",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
pub struct Received {
    pub at_ms: i64,
    /// The HTTP status answered.
    pub status: u16,
    pub outcome: Outcome,
    /// Header names that no gateway firmware sends by itself (lower case, at most
    /// [`UNEXPECTED_HEADERS`]): e.g. lines the web page's "extra HTTP headers" added.
    pub unexpected_headers: Vec<String>,
}

/// How many unexpected header names an entry keeps (a peer may send hundreds).
pub const UNEXPECTED_HEADERS: usize = 8;

/// What the gateway's HTTP client (and the signed Gateway API form) sends, in any firmware;
/// `accept`, `connection`, … come from other HTTP clients and carry nothing of the owner's.
const GATEWAY_HEADERS: &[&str] = &[
    "host",
    "user-agent",
    "content-type",
    "content-length",
    "authorization",
    "ruuvi-hmac-sha256",
    "x-request-timestamp",
    "x-ruuvi-timestamp",
    "x-ruuvi-nonce",
    "x-ruuvi-signature",
    "accept",
    "accept-encoding",
    "connection",
    "transfer-encoding",
    "expect",
    "te",
];

/// The names among `names` that are not [`GATEWAY_HEADERS`], lower case, each at most 64
/// characters, at most [`UNEXPECTED_HEADERS`] of them.
pub fn unexpected_headers<'a>(names: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for name in names {
        let name = name.to_ascii_lowercase();
        if GATEWAY_HEADERS.contains(&name.as_str()) || out.contains(&name) {
            continue;
        }
        if out.len() == UNEXPECTED_HEADERS {
            break;
        }
        out.push(name.chars().take(64).collect());
    }
    out
}

#[derive(Debug, Default)]
struct GatewayPosts {
    posts: VecDeque<Received>,
    ever_stored: bool,
}

/// When a (peer, refusal) last reached the log file, and how many were left out since.
#[derive(Debug)]
struct RefusalLines {
    since: Instant,
    left_out: u64,
}

#[derive(Debug, Default)]
struct RefusalLog {
    keys: HashMap<(Option<PeerKey>, &'static str), RefusalLines>,
    /// Refusals past `REFUSAL_KEYS` distinct pairs: one shared line a minute.
    overflow: Option<RefusalLines>,
}

impl RefusalLog {
    /// Whether this refusal gets a line, and how many like it were left out before it.
    fn admit(&mut self, key: (Option<PeerKey>, &'static str), now: Instant) -> Option<u64> {
        let fresh = |lines: &mut RefusalLines| {
            if now.duration_since(lines.since) >= REFUSAL_LINE_EVERY {
                let left_out = lines.left_out;
                *lines = RefusalLines {
                    since: now,
                    left_out: 0,
                };
                Some(left_out)
            } else {
                lines.left_out += 1;
                None
            }
        };
        if let Some(lines) = self.keys.get_mut(&key) {
            return fresh(lines);
        }
        if self.keys.len() >= REFUSAL_KEYS {
            self.keys
                .retain(|_, l| now.duration_since(l.since) < REFUSAL_LINE_EVERY || l.left_out > 0);
        }
        if self.keys.len() >= REFUSAL_KEYS {
            return match &mut self.overflow {
                Some(lines) => fresh(lines),
                None => {
                    self.overflow = Some(RefusalLines {
                        since: now,
                        left_out: 0,
                    });
                    Some(0)
                }
            };
        }
        self.keys.insert(
            key,
            RefusalLines {
                since: now,
                left_out: 0,
            },
        );
        Some(0)
    }
}

/// Posts per gateway; posts whose gateway could not be read are under `None`.
#[derive(Debug, Default)]
pub struct ReceiveLog {
    entries: Mutex<HashMap<Option<MacAddress>, GatewayPosts>>,
    /// Posts per outcome and observations stored since the start (never trimmed).
    totals: Mutex<(HashMap<&'static str, u64>, u64)>,
    refusals: Mutex<RefusalLog>,
}

impl ReceiveLog {
    /// Records one post; `peer` is the address it came from.
    pub fn record(
        &self,
        gateway: Option<MacAddress>,
        peer: Option<IpAddr>,
        status: u16,
        outcome: Outcome,
    ) {
        self.record_post(gateway, peer, status, outcome, Vec::new());
    }

    /// [`Self::record`] with the header names of the post that no firmware sends by itself.
    pub fn record_post(
        &self,
        gateway: Option<MacAddress>,
        peer: Option<IpAddr>,
        status: u16,
        outcome: Outcome,
        unexpected_headers: Vec<String>,
    ) {
        match &outcome {
            Outcome::Stored { .. } => tracing::debug!(?gateway, ?peer, status, ?outcome, "post"),
            _ => {
                let key = (peer.map(PeerKey::of), outcome.label());
                let line = self.refusals.lock().admit(key, Instant::now());
                match line {
                    Some(0) => tracing::info!(?gateway, ?peer, status, ?outcome, "post refused"),
                    Some(left_out) => tracing::info!(
                        ?gateway,
                        ?peer,
                        status,
                        ?outcome,
                        "post refused ({left_out} more like it in the minute before were not logged)"
                    ),
                    None => {}
                }
            }
        }
        let at_ms = ruuvi_protocol::clock::now_ms();
        {
            let mut totals = self.totals.lock();
            *totals.0.entry(outcome.label()).or_default() += 1;
            if let Outcome::Stored { observations } = outcome {
                totals.1 += observations as u64;
            }
        }
        let mut map = self.entries.lock();
        if !map.contains_key(&gateway) && map.len() >= GATEWAYS {
            // Room for a new gateway: drop the one that posted longest ago, one that never got
            // a post stored first (a flood of made-up MACs must not push real gateways out).
            let victim = map
                .iter()
                .filter(|(k, _)| k.is_some())
                .min_by_key(|(_, g)| (g.ever_stored, g.posts.back().map(|r| r.at_ms)))
                .map(|(k, _)| *k);
            if let Some(victim) = victim {
                map.remove(&victim);
            }
        }
        let log = map.entry(gateway).or_default();
        if log.posts.len() == PER_GATEWAY {
            log.posts.pop_front();
        }
        log.ever_stored |= matches!(outcome, Outcome::Stored { .. });
        log.posts.push_back(Received {
            at_ms,
            status,
            outcome,
            unexpected_headers,
        });
    }

    /// A gateway's entries, oldest first.
    pub fn of(&self, gateway: Option<MacAddress>) -> Vec<Received> {
        self.entries
            .lock()
            .get(&gateway)
            .map(|l| l.posts.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Posts per outcome label, sorted, and the observations stored, since the start.
    pub fn totals(&self) -> (Vec<(&'static str, u64)>, u64) {
        let totals = self.totals.lock();
        let mut posts: Vec<_> = totals.0.iter().map(|(k, v)| (*k, *v)).collect();
        posts.sort();
        (posts, totals.1)
    }

    /// Gateways that posted, known or not.
    pub fn gateways(&self) -> Vec<MacAddress> {
        let mut all: Vec<MacAddress> = self.entries.lock().keys().flatten().copied().collect();
        all.sort();
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_of_made_up_gateways_keeps_the_real_ones_and_stays_bounded() {
        let log = ReceiveLog::default();
        let real: MacAddress = "C8:25:2D:8E:9C:2C".parse().unwrap();
        log.record(Some(real), None, 200, Outcome::Stored { observations: 3 });
        for i in 0..(3 * GATEWAYS as u64) {
            let b = (0xAA00_0000_0000u64 + i).to_be_bytes();
            let fake = MacAddress::from([b[2], b[3], b[4], b[5], b[6], b[7]]);
            log.record(Some(fake), None, 403, Outcome::UnknownGateway);
        }
        let gateways = log.gateways();
        assert_eq!(gateways.len(), GATEWAYS);
        assert!(gateways.contains(&real));
        assert_eq!(
            log.totals().0,
            vec![("stored", 1), ("unknown_gateway", 3072)]
        );
    }

    #[test]
    fn refusals_get_one_line_per_peer_and_kind_a_minute() {
        let mut r = RefusalLog::default();
        let t0 = Instant::now();
        let a = Some(PeerKey::of("10.0.0.1".parse().unwrap()));
        let b = Some(PeerKey::of("10.0.0.2".parse().unwrap()));
        assert_eq!(r.admit((a, "auth_failed"), t0), Some(0));
        for _ in 0..100 {
            assert_eq!(r.admit((a, "auth_failed"), t0), None);
        }
        // Another kind, another peer: their own lines.
        assert_eq!(r.admit((a, "bad_json"), t0), Some(0));
        assert_eq!(r.admit((b, "auth_failed"), t0), Some(0));
        // A minute later: one line that says how many were left out.
        let later = t0 + REFUSAL_LINE_EVERY;
        assert_eq!(r.admit((a, "auth_failed"), later), Some(100));
        assert_eq!(r.admit((a, "auth_failed"), later), None);
    }

    #[test]
    fn too_many_peers_share_one_line_a_minute() {
        let mut r = RefusalLog::default();
        let t0 = Instant::now();
        let mut lines = 0;
        for i in 0..(REFUSAL_KEYS as u32 + 1000) {
            let peer = Some(PeerKey::of(std::net::IpAddr::V4(i.into())));
            lines += usize::from(r.admit((peer, "auth_failed"), t0).is_some());
        }
        assert_eq!(lines, REFUSAL_KEYS + 1);
        assert!(r.keys.len() <= REFUSAL_KEYS);
    }

    #[test]
    fn only_headers_no_firmware_sends_are_named_and_they_are_bounded() {
        let names = [
            "Host",
            "Content-Type",
            "Ruuvi-HMAC-SHA256",
            "X-Old-Site",
            "x-old-site",
            "Authorization",
            "X-Request-Timestamp",
        ];
        assert_eq!(unexpected_headers(names.into_iter()), ["x-old-site"]);
        let many: Vec<String> = (0..100)
            .map(|i| format!("x-{i}-{}", "a".repeat(100)))
            .collect();
        let kept = unexpected_headers(many.iter().map(String::as_str));
        assert_eq!(kept.len(), UNEXPECTED_HEADERS);
        assert!(kept.iter().all(|n| n.len() == 64));
    }
}
