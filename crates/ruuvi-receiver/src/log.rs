//! What happened to each gateway's posts, for the UI: newest last, bounded per gateway.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use ruuvi_protocol::MacAddress;

/// Entries kept per gateway.
const PER_GATEWAY: usize = 200;

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
}

/// Posts per gateway; posts whose gateway could not be read are under `None`.
#[derive(Debug, Default)]
pub struct ReceiveLog {
    entries: Mutex<HashMap<Option<MacAddress>, VecDeque<Received>>>,
    /// Posts per outcome and observations stored since the start (never trimmed).
    totals: Mutex<(HashMap<&'static str, u64>, u64)>,
}

impl ReceiveLog {
    pub fn record(&self, gateway: Option<MacAddress>, status: u16, outcome: Outcome) {
        match &outcome {
            Outcome::Stored { .. } => tracing::debug!(?gateway, status, ?outcome, "post"),
            _ => tracing::info!(?gateway, status, ?outcome, "post refused"),
        }
        let at_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        if let Ok(mut totals) = self.totals.lock() {
            *totals.0.entry(outcome.label()).or_default() += 1;
            if let Outcome::Stored { observations } = outcome {
                totals.1 += observations as u64;
            }
        }
        if let Ok(mut map) = self.entries.lock() {
            let log = map.entry(gateway).or_default();
            if log.len() == PER_GATEWAY {
                log.pop_front();
            }
            log.push_back(Received {
                at_ms,
                status,
                outcome,
            });
        }
    }

    /// A gateway's entries, oldest first.
    pub fn of(&self, gateway: Option<MacAddress>) -> Vec<Received> {
        self.entries
            .lock()
            .map(|m| {
                m.get(&gateway)
                    .map(|l| l.iter().cloned().collect())
                    .unwrap_or_default()
            })
            .unwrap_or_default()
    }

    /// Posts per outcome label, sorted, and the observations stored, since the start.
    pub fn totals(&self) -> (Vec<(&'static str, u64)>, u64) {
        let Ok(totals) = self.totals.lock() else {
            return (Vec::new(), 0);
        };
        let mut posts: Vec<_> = totals.0.iter().map(|(k, v)| (*k, *v)).collect();
        posts.sort();
        (posts, totals.1)
    }

    /// Gateways that posted, known or not.
    pub fn gateways(&self) -> Vec<MacAddress> {
        let mut all: Vec<MacAddress> = self
            .entries
            .lock()
            .map(|m| m.keys().flatten().copied().collect())
            .unwrap_or_default();
        all.sort();
        all
    }
}
