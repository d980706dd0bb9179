//! The MQTT feed: subscribes to the gateways' topics on a broker and yields an
//! [`Observation`] per advertisement (it knows nothing of where they go).

use std::collections::BTreeMap;
use std::time::Duration;

use rumqttc::{AsyncClient, Event, Packet, QoS};
use ruuvi_protocol::{MacAddress, MqttMessage, Observation};
use tokio::sync::{mpsc, watch};

use crate::Broker;

#[derive(Debug, Clone)]
pub struct FeedOptions {
    pub broker: Broker,
    /// Topic filters; gateways publish on `<mqtt_prefix><TAG MAC>`, `ruuvi/<GW MAC>/…` by
    /// default, so `ruuvi/#` reads every gateway with the default prefix.
    pub topics: Vec<String>,
}

/// What the feed has done, for a status line.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FeedStatus {
    pub connected: bool,
    pub observations: u64,
    /// Messages that were not a gateway's advertisement or state, or did not decode.
    pub rejected: u64,
    /// Retained data messages skipped on subscribing (old, not live).
    pub retained_skipped: u64,
    pub last_error: Option<String>,
    /// Gateways' `gw_status`, by the topic's gateway MAC when it names one.
    pub gateways: BTreeMap<String, bool>,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// The gateway MAC a topic names (`ruuvi/<GW MAC>/…`), if any level is one.
fn gateway_of(topic: &str) -> Option<MacAddress> {
    let mut levels: Vec<&str> = topic.split('/').collect();
    levels.pop();
    levels.iter().rev().find_map(|l| l.parse().ok())
}

/// Reads until `observations` is closed, reconnecting (every 2 s) when the broker is away.
pub async fn run(
    options: FeedOptions,
    observations: mpsc::Sender<Observation>,
    status: watch::Sender<FeedStatus>,
) {
    let mqtt = match options.broker.options(None) {
        Ok(o) => o,
        Err(e) => {
            status.send_modify(|s| s.last_error = Some(e.to_string()));
            tracing::error!("MQTT feed from {}: {e}", options.broker.url());
            return;
        }
    };
    let (client, mut events) = AsyncClient::new(mqtt, 256);
    let url = options.broker.url();
    loop {
        let event = tokio::select! {
            _ = observations.closed() => {
                let _ = client.disconnect().await;
                return;
            }
            event = events.poll() => event,
        };
        match event {
            Ok(Event::Incoming(Packet::ConnAck(_))) => {
                tracing::info!("MQTT feed connected to {url}");
                status.send_modify(|s| {
                    s.connected = true;
                    s.last_error = None;
                });
                for topic in &options.topics {
                    if let Err(e) = client.subscribe(topic, QoS::AtLeastOnce).await {
                        tracing::warn!("subscribing to {topic}: {e}");
                    }
                }
            }
            Ok(Event::Incoming(Packet::Publish(p))) => {
                match MqttMessage::parse(&p.topic, &p.payload) {
                    // A retained advertisement is the broker's memory of an old one.
                    Ok(MqttMessage::Advertisement(_)) if p.retain => {
                        status.send_modify(|s| s.retained_skipped += 1);
                    }
                    Ok(MqttMessage::Advertisement(adv)) => {
                        match Observation::from_mqtt(&adv, now_ms()) {
                            Ok(o) => {
                                if observations.send(o).await.is_err() {
                                    let _ = client.disconnect().await;
                                    return;
                                }
                                status.send_modify(|s| s.observations += 1);
                            }
                            Err(e) => {
                                tracing::debug!(topic = %p.topic, "not decoded: {e}");
                                status.send_modify(|s| s.rejected += 1);
                            }
                        }
                    }
                    Ok(MqttMessage::GatewayState { gateway, online }) => {
                        let gateway = gateway
                            .or_else(|| gateway_of(&p.topic))
                            .map(|g| g.to_string())
                            .unwrap_or_else(|| p.topic.clone());
                        tracing::info!(%gateway, online, "gateway state");
                        status.send_modify(|s| {
                            s.gateways.insert(gateway, online);
                        });
                    }
                    Err(e) => {
                        tracing::debug!(topic = %p.topic, "not a gateway message: {e}");
                        status.send_modify(|s| s.rejected += 1);
                    }
                }
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!("MQTT feed from {url}: {e}");
                status.send_modify(|s| {
                    s.connected = false;
                    s.last_error = Some(e.to_string());
                });
                tokio::select! {
                    _ = observations.closed() => return,
                    _ = tokio::time::sleep(Duration::from_secs(2)) => {}
                }
            }
        }
    }
}
