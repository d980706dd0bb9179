//! Beyond one machine, over real servers on 127.0.0.1 (run under `tests/with-servers.sh`):
//! `ruuvi-gw-sim` set up by the gateway client to publish over MQTT like the firmware →
//! mosquitto → the MQTT feed → the hub → PostgreSQL, compared with what the same gateway
//! POSTs over HTTP at the same time; the sink's messages read by a plain subscriber, Home
//! Assistant discovery among them; then the same over TLS with client certificates from our
//! own CA (the gateway publishing, and a feed reading the same listener) and over WebSocket
//! (another feed reading).

use parking_lot::RwLock;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use ruuvi_gateway::{
    push_http_profile, push_profile, ClientIdentity, ClientOptions, Credentials, CustomProfile,
    DataFormat, Endpoint, GatewayClient, GatewayState, HttpAuth, HttpProfile, MqttDataFormat,
    MqttProfile, MqttTarget,
};
use ruuvi_gw_sim::{Firmware, GatewayOptions, RunningGateway};
use ruuvi_hub::{Hub, HubOptions};
use ruuvi_mqtt::feed::FeedOptions;
use ruuvi_mqtt::sink::SinkOptions;
use ruuvi_mqtt::testing::{BrokerTls, TestBroker};
use ruuvi_mqtt::{Broker, Transport};
use ruuvi_pki::{KeyAlgorithm, LocalCa, OffsetDateTime, Validity};
use ruuvi_protocol::{Feed, MacAddress, Observation};
use ruuvi_receiver::{Policies, Receiver, ReceiverOptions};
use ruuvi_secrets::Sensitive;
use ruuvi_store::testing::fresh_postgres_database;
use ruuvi_store::{ObservationStore, Query, SqliteStore};
use ruuvi_wiring::{start_mqtt_feed, start_mqtt_sink, ToHub};

const TAGS: usize = 3;

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("ruuvi-mqtt-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn gateway() -> (RunningGateway, GatewayClient) {
    let mut o = GatewayOptions::new("127.0.0.1:0".parse().unwrap(), Firmware::Head);
    o.post_delay = Duration::from_millis(40);
    o.tags = TAGS;
    o.api_key_rw = "RW".into();
    let gw = RunningGateway::start(o).await.unwrap();
    let client = GatewayClient::new(
        Endpoint::new("127.0.0.1", gw.addr.port()),
        Credentials::ApiKey(Sensitive::new("RW".into())),
        ClientOptions::default(),
    );
    (gw, client)
}

fn target(transport: &str, port: u16) -> MqttTarget {
    MqttTarget {
        transport: transport.into(),
        server: "127.0.0.1".into(),
        port,
        prefix: "site1/".into(),
        client_id: String::new(),
        user: String::new(),
        password: None,
        data_format: MqttDataFormat::RuuviRawAndDecoded,
        sending_interval_s: 0,
        disable_retained_messages: false,
        client_identity: None,
        server_ca_pem: None,
    }
}

fn broker(transport: Transport, port: u16, client_id: &str) -> Broker {
    let scheme = match transport {
        Transport::Tcp => "mqtt",
        Transport::Tls => "mqtts",
        Transport::Ws => "ws",
        Transport::Wss => "wss",
    };
    Broker::parse_url(&format!("{scheme}://127.0.0.1:{port}"), client_id).unwrap()
}

/// Waits (at most `secs`) until `ready` holds.
async fn until(secs: u64, mut ready: impl FnMut() -> bool) -> bool {
    for _ in 0..secs * 10 {
        if ready() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    ready()
}

/// A plain subscriber: every message on `filters`, by topic (the newest), with its retain flag.
type Heard = Arc<RwLock<HashMap<String, (String, bool)>>>;

fn subscriber(port: u16, id: &str, filters: &[&str]) -> (Heard, tokio::task::JoinHandle<()>) {
    let heard: Heard = Arc::default();
    let (client, mut events) = AsyncClient::new(MqttOptions::new(id, "127.0.0.1", port), 256);
    let filters: Vec<String> = filters.iter().map(|f| f.to_string()).collect();
    let out = heard.clone();
    let task = tokio::spawn(async move {
        while let Ok(event) = events.poll().await {
            match event {
                Event::Incoming(Packet::ConnAck(_)) => {
                    for f in &filters {
                        client.subscribe(f, QoS::AtLeastOnce).await.unwrap();
                    }
                }
                Event::Incoming(Packet::Publish(p)) => {
                    let text = String::from_utf8_lossy(&p.payload).into_owned();
                    out.write().insert(p.topic.clone(), (text, p.retain));
                }
                _ => {}
            }
        }
    });
    (heard, task)
}

fn by_measurement(rows: Vec<Observation>) -> HashMap<(MacAddress, u32), Observation> {
    rows.into_iter()
        .filter_map(|o| Some(((o.sensor, o.readings.measurement_sequence?), o)))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs mosquitto and PostgreSQL: tests/with-servers.sh"]
async fn gateway_over_mqtt_into_postgres_matches_http_and_is_republished() {
    let dir = temp_dir("pipeline");
    let mosquitto = TestBroker::start(&dir, None).unwrap();
    let (gw, mut client) = gateway().await;
    let gw_mac = gw.identity().await.ble_mac;

    // Ruuvi Desk: the MQTT feed into a hub over PostgreSQL, the sink back to the broker.
    let pg = fresh_postgres_database("mqtt_pipeline").expect("tests/with-servers.sh");
    let reader = pg.clone();
    let store = tokio::task::spawn_blocking(move || pg.open().unwrap())
        .await
        .unwrap();
    let (hub, _hub_task) = Hub::start(store, HubOptions::default());
    let (_feed_tasks, feed_status) = start_mqtt_feed(
        &hub,
        FeedOptions {
            broker: broker(Transport::Tcp, mosquitto.plain, "ruuvi-desk-feed"),
            topics: vec!["site1/#".into()],
        },
    );
    let profiles = ruuvi_protocol::Profiles::default();
    let (sink_task, sink_status) = start_mqtt_sink(
        &hub,
        SinkOptions {
            broker: broker(Transport::Tcp, mosquitto.plain, "ruuvi-desk-sink"),
            prefix: "ruuvi_desk".into(),
            discovery_prefix: Some("homeassistant".into()),
            version: "0.1.0".into(),
            profiles: profiles.clone(),
        },
    );
    let (heard, listener) = subscriber(
        mosquitto.plain,
        "plain-subscriber",
        &["ruuvi_desk/#", "homeassistant/#"],
    );

    // The same gateway also POSTs over HTTP (every second) to a receiver with its own store.
    let http_db = dir.join("http.sqlite");
    let (http_hub, _http_task) =
        Hub::start(SqliteStore::open(&http_db).unwrap(), HubOptions::default());
    let receiver = Receiver::start(
        ReceiverOptions::new("127.0.0.1:0".parse().unwrap()),
        Arc::new(RwLock::new(Policies::default())),
        Arc::new(ToHub(http_hub.clone())),
    )
    .await
    .unwrap();
    let http = HttpProfile {
        ruuvi_cloud: false,
        custom: Some(CustomProfile {
            extra: Default::default(),
            url: format!("http://{}/record", receiver.addr),
            data_format: DataFormat::Ruuvi,
            period_s: 1,
            auth: HttpAuth::None,
            client_identity: None,
            server_ca_pem: None,
        }),
    };
    let outcome = push_http_profile(&mut client, &http, &|_| {}).await;
    assert_eq!(outcome.state, GatewayState::Applied, "{:?}", outcome.error);

    // The gateway's MQTT target, pushed like the HTTP backend: validated, posted, read back.
    let outcome = push_profile(
        &mut client,
        &MqttProfile {
            target: Some(target("TCP", mosquitto.plain)),
        },
        &|_| {},
    )
    .await;
    assert_eq!(outcome.state, GatewayState::Applied, "{:?}", outcome.error);
    let read_back = outcome.read_back.unwrap().areas().mqtt;
    assert!(read_back.use_mqtt);
    assert_eq!(read_back.mqtt_prefix, "site1/");
    assert_eq!(
        read_back.mqtt_data_format.as_deref(),
        Some("ruuvi_raw_and_decoded")
    );

    // Every tag arrives over MQTT, and the gateway says it is online.
    let sensors = || hub.latest().len();
    assert!(
        until(40, || sensors() == TAGS).await,
        "MQTT gave {} of {TAGS} sensors; feed: {:?}",
        sensors(),
        *feed_status.borrow()
    );
    assert!(
        until(10, || feed_status
            .borrow()
            .gateways
            .get(&gw_mac.to_string())
            == Some(&true))
        .await,
        "{:?}",
        *feed_status.borrow()
    );
    // Let both paths collect several measurements of each tag.
    tokio::time::sleep(Duration::from_secs(6)).await;
    // What PostgreSQL has, read over a connection of its own.
    let reader2 = reader.clone();
    let mqtt_rows = tokio::task::spawn_blocking(move || {
        reader.open().unwrap().query(&Query::default()).unwrap()
    })
    .await
    .unwrap();
    let http_rows = http_hub.latest();
    assert_eq!(http_rows.len(), TAGS, "HTTP gave every tag too");
    let mqtt = by_measurement(mqtt_rows.clone());
    assert!(mqtt_rows.iter().all(|o| o.feed
        == Feed::GatewayMqtt {
            gateway: Some(gw_mac)
        }));

    // The same measurements over both paths carry the same values (one decoder, one
    // Observation), whichever way they came.
    let http_all = by_measurement(
        SqliteStore::open(&http_db)
            .unwrap()
            .query(&Query::default())
            .unwrap(),
    );
    let both: Vec<_> = mqtt.keys().filter(|k| http_all.contains_key(k)).collect();
    assert!(
        both.len() >= TAGS,
        "{} measurements came both ways ({} over MQTT, {} over HTTP)",
        both.len(),
        mqtt.len(),
        http_all.len()
    );
    for key in both {
        let (m, h) = (&mqtt[key], &http_all[key]);
        assert_eq!(m.readings, h.readings, "{key:?}");
        assert_eq!(m.format, h.format);
        assert_eq!(
            h.feed,
            Feed::GatewayPost {
                gateway: Some(gw_mac)
            }
        );
    }

    // The sink: a state message per sensor and Home Assistant discovery, retained.
    assert!(until(10, || sink_status.borrow().published > 0).await);
    let sensor = mqtt_rows[0].sensor;
    let id = sensor.to_string().replace(':', "").to_ascii_lowercase();
    let state_topic = format!("ruuvi_desk/{id}");
    let config_topic = format!("homeassistant/sensor/ruuvi_{id}/temperature_c/config");
    assert!(
        until(10, || {
            let h = heard.read();
            h.contains_key(&state_topic) && h.contains_key(&config_topic)
        })
        .await,
        "heard: {:?}",
        heard.read().keys().collect::<Vec<_>>()
    );
    let state: serde_json::Value = serde_json::from_str(&heard.read()[&state_topic].0).unwrap();
    assert_eq!(state["sensor"], sensor.to_string());
    assert_eq!(state["feed"], "gateway_mqtt");
    assert_eq!(state["gateway"], gw_mac.to_string());
    assert!(state["temperature_c"].is_number());
    let config: serde_json::Value = serde_json::from_str(&heard.read()[&config_topic].0).unwrap();
    assert_eq!(config["state_topic"], state_topic);
    assert_eq!(config["value_template"], "{{ value_json.temperature_c }}");
    assert_eq!(config["device_class"], "temperature");
    assert_eq!(config["unit_of_measurement"], "°C");
    assert_eq!(config["unique_id"], format!("ruuvi_{id}_temperature_c"));
    assert_eq!(config["device"]["identifiers"][0], format!("ruuvi_{id}"));
    assert_eq!(config["availability_topic"], "ruuvi_desk/status");
    assert_eq!(heard.read()["ruuvi_desk/status"].0, "online");
    assert_eq!(
        config["device"]["name"],
        format!("RuuviTag {}", &id[8..].to_ascii_uppercase())
    );
    // The owner names and calibrates the sensor: Home Assistant's device is renamed (the
    // discovery is sent again) and the published temperature is the calibrated one.
    profiles.set(ruuvi_protocol::SensorProfile {
        name: "Sauna".into(),
        calibration: ruuvi_protocol::Calibration {
            temperature_c: 10.0,
            ..Default::default()
        },
        ..ruuvi_protocol::SensorProfile::new(sensor)
    });
    let renamed = || {
        heard.read().get(&config_topic).is_some_and(|(c, _)| {
            serde_json::from_str::<serde_json::Value>(c).unwrap()["device"]["name"] == "Sauna"
        })
    };
    assert!(until(15, renamed).await, "Home Assistant's device renamed");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let state: serde_json::Value = serde_json::from_str(&heard.read()[&state_topic].0).unwrap();
    let seq = state["measurement_sequence"].as_u64().unwrap() as u32;
    let measured = tokio::task::spawn_blocking(move || {
        reader2
            .open()
            .unwrap()
            .query(&Query {
                sensor: Some(sensor),
                ..Query::default()
            })
            .unwrap()
    })
    .await
    .unwrap()
    .into_iter()
    .find(|o| o.readings.measurement_sequence == Some(seq))
    .expect("the published measurement is stored");
    let shown = state["temperature_c"].as_f64().unwrap();
    assert!(
        (shown - (measured.readings.temperature_c.unwrap() + 10.0)).abs() < 1e-9,
        "published {shown}, measured {:?}",
        measured.readings.temperature_c
    );
    // A subscriber that comes later gets the latest state and the discovery: retained.
    let (late, late_task) = subscriber(mosquitto.plain, "late-subscriber", &["ruuvi_desk/#"]);
    assert!(
        until(10, || late
            .read()
            .get(&state_topic)
            .is_some_and(|(_, r)| *r))
        .await
    );
    late_task.abort();
    listener.abort();
    sink_task.abort();
    gw.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs mosquitto: tests/with-servers.sh"]
async fn gateway_publishes_over_mutual_tls_and_the_feed_reads_over_websocket() {
    let dir = temp_dir("mtls");
    let now = OffsetDateTime::now_utc();
    let ca = LocalCa::generate(
        "Ruuvi Desk CA",
        KeyAlgorithm::EcdsaP256,
        Validity::days_from(now, 30),
    )
    .unwrap();
    let server = ca
        .issue_server(&["127.0.0.1".into()], Validity::days_from(now, 30))
        .unwrap();
    for (name, text) in [
        ("ca.pem", ca.cert_pem.as_str()),
        ("server.pem", server.cert_pem.as_str()),
        ("server.key", server.key_pem.expose().as_str()),
    ] {
        std::fs::write(dir.join(name), text).unwrap();
    }
    let mosquitto = TestBroker::start(
        &dir,
        Some(BrokerTls {
            ca: dir.join("ca.pem"),
            cert: dir.join("server.pem"),
            key: dir.join("server.key"),
        }),
    )
    .unwrap();
    let tls_port = mosquitto.tls.unwrap();
    let (gw, mut client) = gateway().await;
    let gw_mac = gw.identity().await.ble_mac;

    // A second feed reads the mTLS listener itself, with a client certificate of our CA.
    let (tls_hub, _tls_hub_task) = Hub::start(
        SqliteStore::open_in_memory().unwrap(),
        HubOptions::default(),
    );
    let desk = ca
        .issue_client("ruuvi-desk", Validity::days_from(now, 30))
        .unwrap();
    let mut over_tls = broker(Transport::Tls, tls_port, "feed-over-mtls");
    over_tls.server_ca_pem = Some(ca.cert_pem.clone());
    over_tls.client_cert_pem = Some(desk.cert_pem.clone());
    over_tls.client_key_pem = Some(Arc::new(Sensitive::new(desk.key_pem.expose().clone())));
    let (_tls_feed, tls_status) = start_mqtt_feed(
        &tls_hub,
        FeedOptions {
            broker: over_tls,
            topics: vec!["site1/#".into()],
        },
    );
    // Without our CA's client certificate the broker turns a feed away.
    let mut anonymous = broker(Transport::Tls, tls_port, "feed-without-cert");
    anonymous.server_ca_pem = Some(ca.cert_pem.clone());
    let (refused_hub, _refused_task) = Hub::start(
        SqliteStore::open_in_memory().unwrap(),
        HubOptions::default(),
    );
    let (_refused_feed, refused_status) = start_mqtt_feed(
        &refused_hub,
        FeedOptions {
            broker: anonymous,
            topics: vec!["site1/#".into()],
        },
    );

    // Without a client certificate the broker refuses the gateway: nothing arrives.
    let (hub, _hub_task) = Hub::start(
        SqliteStore::open_in_memory().unwrap(),
        HubOptions::default(),
    );
    let (_feed, status) = start_mqtt_feed(
        &hub,
        FeedOptions {
            broker: broker(Transport::Ws, mosquitto.websocket, "feed-over-ws"),
            topics: vec!["site1/#".into()],
        },
    );
    let mut no_cert = target("SSL", tls_port);
    no_cert.server_ca_pem = Some(ca.cert_pem.clone());
    let outcome = push_profile(
        &mut client,
        &MqttProfile {
            target: Some(no_cert.clone()),
        },
        &|_| {},
    )
    .await;
    assert_eq!(outcome.state, GatewayState::Applied, "{:?}", outcome.error);
    assert!(
        until(10, || status.borrow().connected).await,
        "{:?}",
        *status.borrow()
    );
    tokio::time::sleep(Duration::from_secs(8)).await;
    assert!(
        hub.latest().is_empty(),
        "published without a client certificate"
    );

    // With the gateway's client certificate from our CA: validated, uploaded, published.
    let issued = ca
        .issue_client(&gw_mac.to_string(), Validity::days_from(now, 30))
        .unwrap();
    let mut with_cert = no_cert;
    with_cert.client_identity = Some(ClientIdentity {
        cert_pem: issued.cert_pem.clone(),
        key_pem: Sensitive::new(issued.key_pem.expose().clone()),
    });
    let outcome = push_profile(
        &mut client,
        &MqttProfile {
            target: Some(with_cert),
        },
        &|_| {},
    )
    .await;
    assert_eq!(outcome.state, GatewayState::Applied, "{:?}", outcome.error);
    let storage = outcome.read_back.unwrap().storage();
    assert!(
        storage.has("mqtt_cli_cert") && storage.has("mqtt_cli_key") && storage.has("mqtt_srv_cert")
    );
    assert!(
        until(40, || hub.latest().len() == TAGS).await,
        "{} sensors; feed {:?}",
        hub.latest().len(),
        *status.borrow()
    );
    assert!(
        until(20, || tls_hub.latest().len() == TAGS).await,
        "over mTLS: {} sensors; feed {:?}",
        tls_hub.latest().len(),
        *tls_status.borrow()
    );
    assert!(tls_status.borrow().connected);
    assert!(
        !refused_status.borrow().connected && refused_status.borrow().last_error.is_some(),
        "{:?}",
        *refused_status.borrow()
    );

    // Turning MQTT off is pushed the same way; the broker is told the gateway went offline.
    let outcome = push_profile(&mut client, &MqttProfile { target: None }, &|_| {}).await;
    assert_eq!(outcome.state, GatewayState::Applied, "{:?}", outcome.error);
    assert!(
        until(20, || status.borrow().gateways.get(&gw_mac.to_string())
            == Some(&false))
        .await,
        "{:?}",
        *status.borrow()
    );
    gw.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}
