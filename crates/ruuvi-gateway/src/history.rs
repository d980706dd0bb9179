//! A feed of observations from a gateway's `/history`, polled with an API key (or any login).
//! `/history` does not put the gateway into configuration mode, so polling it is harmless.

use std::time::Duration;

use ruuvi_protocol::{Feed, Observation};
use tokio::sync::{mpsc, watch};

use crate::client::GatewayClient;
use crate::GatewayError;

/// Polls every `period` until `stop` turns true or the receiver goes away; each tag of each
/// answer becomes an [`Observation`] (tags that do not decode are skipped and logged). Errors
/// are logged and polling goes on; a login error ends the feed.
pub async fn poll_history(
    mut client: GatewayClient,
    period: Duration,
    observations: mpsc::Sender<Observation>,
    mut stop: watch::Receiver<bool>,
) -> Result<(), GatewayError> {
    loop {
        match client.history().await {
            Ok(doc) => {
                let now_ms = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_millis() as i64)
                    .unwrap_or(0);
                let feed = Feed::GatewayHistory {
                    gateway: doc.gw_mac,
                };
                let (ok, failed) = Observation::from_gateway(&doc, feed, now_ms);
                for (mac, e) in failed {
                    tracing::debug!(gateway = %client.endpoint(), %mac, "undecodable tag: {e}");
                }
                for o in ok {
                    if observations.send(o).await.is_err() {
                        return Ok(());
                    }
                }
            }
            Err(e @ GatewayError::Unauthorized(_)) => return Err(e),
            Err(e) => tracing::warn!(gateway = %client.endpoint(), "history: {e}"),
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
