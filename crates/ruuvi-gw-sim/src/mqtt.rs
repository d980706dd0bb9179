//! MQTT relaying (gateway-local-api §7.5, firmware `main/mqtt.c`, `main/mqtt_json.c`): with
//! `use_mqtt`, the gateway keeps a connection to `mqtt_server:mqtt_port` over
//! `mqtt_transport`, with `mqtt_client_id`, `mqtt_user`/`mqtt_pass` and, when enabled, the
//! `mqtt_cli_cert`/`mqtt_cli_key` and `mqtt_srv_cert` files. On connecting it publishes
//! `{"state":"online"}` (retained) on `<mqtt_prefix>gw_status`, whose last will is
//! `{"state":"offline"}`; then every advertisement on `<mqtt_prefix><TAG MAC>` (QoS 1,
//! retained unless `mqtt_disable_retained_messages`), as `mqtt_data_format` says, at once
//! (`mqtt_sending_interval` 0) or every that many seconds. Relaying pauses in configuration
//! mode. A change of settings reconnects.
//!
//! Simulated: one advertisement per tag per advertising interval (the tags' own), checked
//! every second; the broker's TLS name is checked against `mqtt_server` like HTTPS targets.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use rumqttc::{AsyncClient, Event, Packet, QoS};
use ruuvi_mqtt::{Broker, Transport};
use ruuvi_protocol::mqtt::{state_payload, MqttAdvertisement, STATUS_TOPIC};
use ruuvi_protocol::{MacAddress, TagFields};
use ruuvi_secrets::Sensitive;
use tokio::sync::{watch, Mutex};

use crate::gateway::{now_ms, GatewayState};

/// The MQTT settings in force (`None`: `use_mqtt` is off).
#[derive(Debug)]
struct Settings {
    broker: Broker,
    prefix: String,
    fields: TagFields,
    interval: Duration,
    retain: bool,
}

fn settings(st: &GatewayState) -> Option<Settings> {
    let c = &st.config;
    if !c.bool("use_mqtt") {
        return None;
    }
    let text =
        |name: &str| String::from_utf8_lossy(c.files.get(name).map_or(&[][..], |v| v)).into_owned();
    let user = c.str("mqtt_user");
    let password = c.secret("mqtt_pass");
    let client_cert = c.bool("mqtt_use_ssl_client_cert");
    let broker = Broker {
        host: c.str("mqtt_server").to_string(),
        port: c.u64("mqtt_port") as u16,
        transport: Transport::from_firmware(c.str("mqtt_transport")).unwrap_or(Transport::Tcp),
        ws_path: "/mqtt".into(),
        client_id: c.str("mqtt_client_id").to_string(),
        user: (!user.is_empty()).then(|| user.to_string()),
        password: (!password.is_empty()).then(|| Arc::new(Sensitive::new(password.to_string()))),
        server_ca_pem: c
            .bool("mqtt_use_ssl_server_cert")
            .then(|| text("mqtt_srv_cert")),
        client_cert_pem: client_cert.then(|| text("mqtt_cli_cert")),
        client_key_pem: client_cert.then(|| Arc::new(Sensitive::new(text("mqtt_cli_key")))),
    };
    let v1_15 = st.firmware().has_http_period();
    let fields = match c.str("mqtt_data_format") {
        "ruuvi_raw_and_decoded" if v1_15 => TagFields::RawAndDecoded,
        "ruuvi_decoded" if v1_15 => TagFields::Decoded,
        _ => TagFields::Raw,
    };
    let interval = if v1_15 {
        c.u64("mqtt_sending_interval")
    } else {
        0
    };
    Some(Settings {
        broker,
        prefix: c.str("mqtt_prefix").to_string(),
        fields,
        interval: Duration::from_secs(interval.max(1)),
        retain: !c.bool("mqtt_disable_retained_messages"),
    })
}

/// Relays until the gateway stops.
pub async fn run(state: Arc<Mutex<GatewayState>>, mut stopped: watch::Receiver<bool>) {
    let config_changed = state.lock().await.config_changed.clone();
    loop {
        let current = settings(&*state.lock().await);
        let Some(current) = current else {
            tokio::select! {
                _ = stopped.changed() => return,
                _ = config_changed.notified() => continue,
            }
        };
        tokio::select! {
            _ = stopped.changed() => return,
            _ = config_changed.notified() => {}
            _ = relay(&state, current) => {}
        }
    }
}

/// One connection with one set of settings, until it cannot be made (then retried).
async fn relay(state: &Arc<Mutex<GatewayState>>, s: Settings) {
    let status = format!("{}{STATUS_TOPIC}", s.prefix);
    let options = match s
        .broker
        .options(Some((status.clone(), state_payload(false).to_string())))
    {
        Ok(o) => o,
        Err(e) => {
            tracing::debug!("MQTT settings unusable: {e}");
            // Like a broker that cannot be reached: nothing is relayed until settings change.
            std::future::pending::<()>().await;
            return;
        }
    };
    let (client, mut events) = AsyncClient::new(options, 1024);
    let (connected_tx, connected) = watch::channel(false);
    let poller = {
        let client = client.clone();
        tokio::spawn(async move {
            loop {
                match events.poll().await {
                    Ok(Event::Incoming(Packet::ConnAck(_))) => {
                        let _ = client
                            .publish(&status, QoS::AtLeastOnce, true, state_payload(true))
                            .await;
                        let _ = connected_tx.send(true);
                    }
                    Ok(_) => {}
                    Err(e) => {
                        tracing::debug!("MQTT: {e}");
                        let _ = connected_tx.send(false);
                        tokio::time::sleep(Duration::from_secs(5)).await;
                    }
                }
            }
        })
    };
    let _stop_poller = AbortOnDrop(poller);
    // What was last published per tag: an advertisement goes out once.
    let mut sent: HashMap<MacAddress, Vec<u8>> = HashMap::new();
    loop {
        tokio::time::sleep(s.interval).await;
        if !*connected.borrow() {
            continue;
        }
        let messages = {
            let mut st = state.lock().await;
            if st.in_config_mode() || st.validating {
                continue;
            }
            let advs = st.latest_advertisements();
            let doc = st.document(&advs, None);
            let gateway_time = doc
                .timestamp
                .or(st.config.bool("ntp_use").then(|| now_ms() / 1000));
            doc.tags
                .into_iter()
                .filter(|t| sent.get(&t.mac) != t.data.as_ref())
                .map(|tag| MqttAdvertisement {
                    gw_mac: doc.gw_mac,
                    gateway_time,
                    coordinates: doc.coordinates.clone(),
                    tag,
                })
                .collect::<Vec<_>>()
        };
        let mut published = 0;
        for m in messages {
            let payload = m.to_firmware_json(s.fields);
            if client
                .publish(m.topic(&s.prefix), QoS::AtLeastOnce, s.retain, payload)
                .await
                .is_ok()
            {
                published += 1;
                sent.insert(m.tag.mac, m.tag.data.clone().unwrap_or_default());
            }
        }
        state.lock().await.stats.mqtt_published += published;
    }
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
