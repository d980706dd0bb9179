//! The MQTT sink: republishes every stored observation as one JSON message on a documented
//! topic (retained: the latest state), with Home Assistant discovery so sensors appear there
//! by themselves. Layout in [`crate::discovery`].

use std::collections::HashMap;
use std::time::Duration;

use rumqttc::{AsyncClient, Event, Packet, QoS};
use ruuvi_protocol::{MacAddress, Observation};
use tokio::sync::{broadcast, watch};

use crate::discovery::{discovery_messages, state_payload, state_topic, status_topic};
use crate::Broker;

#[derive(Debug, Clone)]
pub struct SinkOptions {
    pub broker: Broker,
    /// `ruuvi_desk` by default.
    pub prefix: String,
    /// Home Assistant's discovery prefix (`homeassistant`); `None`: no discovery messages.
    pub discovery_prefix: Option<String>,
    /// Shown to Home Assistant as the origin's version.
    pub version: String,
    /// The sensors' names (Home Assistant's device names) and calibrations (applied to the
    /// published values).
    pub profiles: ruuvi_protocol::Profiles,
}

/// What the sink has done, for a status line.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, ts_rs::TS)]
pub struct SinkStatus {
    pub connected: bool,
    pub published: u64,
    pub last_error: Option<String>,
}

/// Publishes what `updates` brings until its sender is gone; the broker connection is kept
/// (and retried every 2 s) on a task of its own.
pub async fn run(
    options: SinkOptions,
    mut updates: broadcast::Receiver<Observation>,
    status: watch::Sender<SinkStatus>,
) {
    let will = (status_topic(&options.prefix), "offline".to_string());
    let mqtt = match options.broker.options(Some(will)) {
        Ok(o) => o,
        Err(e) => {
            status.send_modify(|s| s.last_error = Some(e.to_string()));
            tracing::error!("MQTT sink to {}: {e}", options.broker.url());
            return;
        }
    };
    let (client, mut events) = AsyncClient::new(mqtt, 1024);
    // Sensors whose discovery messages went out on this connection.
    let (connected_tx, mut connected) = watch::channel(0u64);
    let poller = {
        let client = client.clone();
        let status = status.clone();
        let online = status_topic(&options.prefix);
        let url = options.broker.url();
        tokio::spawn(async move {
            let mut connections = 0;
            loop {
                match events.poll().await {
                    Ok(Event::Incoming(Packet::ConnAck(_))) => {
                        tracing::info!("MQTT sink connected to {url}");
                        let _ = client
                            .publish(&online, QoS::AtLeastOnce, true, "online")
                            .await;
                        connections += 1;
                        let _ = connected_tx.send(connections);
                        status.send_modify(|s| {
                            s.connected = true;
                            s.last_error = None;
                        });
                    }
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!("MQTT sink to {url}: {e}");
                        status.send_modify(|s| {
                            s.connected = false;
                            s.last_error = Some(e.to_string());
                        });
                        tokio::time::sleep(Duration::from_secs(2)).await;
                    }
                }
            }
        })
    };
    // Sensors announced on this connection, by the name they were announced with: a new
    // name is announced again, so Home Assistant renames the device.
    let mut announced: HashMap<MacAddress, String> = HashMap::new();
    loop {
        let o = match updates.recv().await {
            Ok(o) => o,
            Err(broadcast::error::RecvError::Lagged(n)) => {
                tracing::warn!("the MQTT sink skipped {n} observations (broker too slow)");
                continue;
            }
            Err(broadcast::error::RecvError::Closed) => break,
        };
        if connected.has_changed().unwrap_or(false) {
            connected.borrow_and_update();
            announced.clear();
        }
        let o = options.profiles.calibrated(&o);
        if let Some(discovery) = &options.discovery_prefix {
            let name = options.profiles.get(o.sensor).map(|p| p.name);
            let name = name.filter(|n| !n.is_empty());
            let shown = name.clone().unwrap_or_default();
            if announced.get(&o.sensor) != Some(&shown) {
                announced.insert(o.sensor, shown);
                for (topic, payload) in discovery_messages(
                    discovery,
                    &options.prefix,
                    &o,
                    name.as_deref(),
                    &options.version,
                ) {
                    let _ = client.publish(topic, QoS::AtLeastOnce, true, payload).await;
                }
            }
        }
        let topic = state_topic(&options.prefix, o.sensor);
        if client
            .publish(topic, QoS::AtLeastOnce, true, state_payload(&o))
            .await
            .is_ok()
        {
            status.send_modify(|s| s.published += 1);
        }
    }
    let _ = client
        .publish(
            status_topic(&options.prefix),
            QoS::AtLeastOnce,
            true,
            "offline",
        )
        .await;
    let _ = client.disconnect().await;
    // Give the poller a moment to send what is queued, then stop it.
    tokio::time::sleep(Duration::from_millis(200)).await;
    poller.abort();
}
