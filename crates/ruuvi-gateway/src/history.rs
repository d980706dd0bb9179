//! A feed of observations from a gateway's `/history`, polled with an API key (or any login).
//! `/history` does not put the gateway into configuration mode, so polling it is harmless.

use std::time::Duration;

use ruuvi_protocol::{Feed, Observation};
use tokio::sync::{mpsc, watch};

use crate::client::GatewayClient;
use crate::GatewayError;

/// How a poll feed is doing (the Gateways page).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
pub struct PollReport {
    /// Answers read since the start.
    pub polls: u64,
    /// Observations taken from them (before the hub drops repeats).
    pub observations: u64,
    /// When the last answer came (Unix ms).
    pub last_ok_ms: Option<i64>,
    /// Why the last poll failed (`None`: it did not).
    pub error: Option<String>,
}

/// Polls every `period` until `stop` turns true or the receiver goes away; each tag of each
/// answer becomes an [`Observation`] stamped by `clock` (tags that do not decode are skipped
/// and logged). Errors are reported and polling goes on; a login error ends the feed.
/// `/history` is the firmware's polling endpoint: it neither enters configuration mode (as
/// `/ruuvi.json` would, pausing the gateway's relaying) nor changes anything.
pub async fn poll_history(
    mut client: GatewayClient,
    period: Duration,
    clock: ruuvi_protocol::clock::Clock,
    observations: mpsc::Sender<Observation>,
    report: watch::Sender<PollReport>,
    mut stop: watch::Receiver<bool>,
) -> Result<(), GatewayError> {
    loop {
        match client.history().await {
            Ok(doc) => {
                let now_ms = clock();
                let feed = Feed::GatewayHistory {
                    gateway: doc.gw_mac,
                };
                let (ok, failed) = Observation::from_gateway(&doc, feed, now_ms);
                for (mac, e) in failed {
                    tracing::debug!(gateway = %client.endpoint(), %mac, "undecodable tag: {e}");
                }
                report.send_modify(|r| {
                    r.polls += 1;
                    r.observations += ok.len() as u64;
                    r.last_ok_ms = Some(now_ms);
                    r.error = None;
                });
                for o in ok {
                    if observations.send(o).await.is_err() {
                        return Ok(());
                    }
                }
            }
            Err(e) => {
                report.send_modify(|r| r.error = Some(e.to_string()));
                if let GatewayError::Unauthorized(_) = e {
                    return Err(e);
                }
                tracing::warn!(gateway = %client.endpoint(), "history: {e}");
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(period) => {}
            _ = stop.changed() => {}
        }
        if *stop.borrow() {
            return Ok(());
        }
    }
}
