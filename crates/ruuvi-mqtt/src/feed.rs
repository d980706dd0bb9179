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
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, ts_rs::TS)]
pub struct FeedStatus {
    pub connected: bool,
    pub observations: u64,
    /// Messages that were not a gateway's advertisement or state, or did not decode.
    pub rejected: u64,
    /// Retained data messages skipped on subscribing (old, not live).
    pub retained_skipped: u64,
    pub last_error: Option<String>,
    /// Gateways' `gw_status` (online or not), by gateway MAC once one of its advertisements
    /// has named it (else by the topic prefix).
    pub gateways: BTreeMap<String, bool>,
}

use ruuvi_protocol::clock::now_ms;

/// `<prefix>` of `<prefix><last level>`.
fn prefix_of(topic: &str) -> &str {
    topic.rfind('/').map_or("", |i| &topic[..=i])
}

/// Which gateway publishes under which prefix, and their states.
#[derive(Default)]
struct Gateways {
    by_prefix: BTreeMap<String, MacAddress>,
    states: BTreeMap<String, bool>,
}

impl Gateways {
    /// The states by gateway MAC (by prefix while the prefix's gateway is not known yet).
    fn named(&self) -> BTreeMap<String, bool> {
        self.states
            .iter()
            .map(|(prefix, online)| {
                let name = self
                    .by_prefix
                    .get(prefix)
                    .map(|m| m.to_string())
                    .unwrap_or_else(|| prefix.clone());
                (name, *online)
            })
            .collect()
    }
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
    let mut gateways = Gateways::default();
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
                        if let Some(gw) = adv.gw_mac {
                            let prefix = prefix_of(&p.topic);
                            if gateways.by_prefix.get(prefix) != Some(&gw) {
                                gateways.by_prefix.insert(prefix.to_string(), gw);
                                let named = gateways.named();
                                status.send_modify(|s| s.gateways = named);
                            }
                        }
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
                        // Older firmware: `<prefix><GW MAC>`, the MAC in the topic.
                        let prefix = prefix_of(&p.topic).to_string();
                        if let Some(gw) = gateway {
                            gateways.by_prefix.insert(prefix.clone(), gw);
                        }
                        tracing::info!(topic = %p.topic, online, "gateway state");
                        gateways.states.insert(prefix, online);
                        let named = gateways.named();
                        status.send_modify(|s| s.gateways = named);
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
