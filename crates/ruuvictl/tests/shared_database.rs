//! Several sites, one database (run under `tests/with-servers.sh`): two gateways set up with
//! `ruuvictl gateway config set-mqtt` publish to one mosquitto; two `ruuvictl serve`
//! processes both read that broker (each gets every message) and write to one PostgreSQL.
//! What a plain subscriber saw published is in the database exactly once: nothing lost,
//! nothing twice.

mod common;

use parking_lot::Mutex;
use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use ruuvi_gw_sim::{Firmware, GatewayOptions, RunningGateway};
use ruuvi_mqtt::testing::TestBroker;
use ruuvi_protocol::{MacAddress, MqttMessage, Observation};
use ruuvi_store::testing::fresh_postgres_database;
use ruuvi_store::Query;

type Measurements = BTreeSet<(MacAddress, u32)>;

async fn sim() -> RunningGateway {
    let mut o = GatewayOptions::new("127.0.0.1:0".parse().unwrap(), Firmware::Head);
    o.post_delay = Duration::from_millis(40);
    o.tags = 4;
    o.api_key_rw = "RW".into();
    RunningGateway::start(o).await.unwrap()
}

/// `ruuvictl gateway config set-mqtt <gateway> extra…` off the async runtime.
async fn set_mqtt(gateway: String, extra: Vec<String>, data: std::path::PathBuf) {
    let out = tokio::task::spawn_blocking(move || {
        let mut args = vec![
            "gateway",
            "config",
            "set-mqtt",
            gateway.as_str(),
            "--api-key",
        ];
        args.extend(extra.iter().map(String::as_str));
        common::ruuvictl_with(
            &args,
            &[
                ("RUUVI_GATEWAY_API_KEY", OsStr::new("RW")),
                ("RUUVI_DESK_DATA_DIR", data.as_os_str()),
            ],
            None,
        )
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "set-mqtt: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs mosquitto and PostgreSQL: tests/with-servers.sh"]
async fn two_serve_processes_share_one_database_without_loss_or_copies() {
    let dir = std::env::temp_dir().join(format!("ruuvictl-shared-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let broker = TestBroker::start(&dir.join("broker"), None).unwrap();
    let database = fresh_postgres_database("two_serves").expect("tests/with-servers.sh");
    let broker_url = format!("mqtt://127.0.0.1:{}", broker.plain);

    // A plain subscriber records every measurement published.
    let published: Arc<Mutex<Measurements>> = Arc::default();
    let (client, mut events) =
        AsyncClient::new(MqttOptions::new("witness", "127.0.0.1", broker.plain), 1024);
    let seen = published.clone();
    let witness = tokio::spawn(async move {
        while let Ok(event) = events.poll().await {
            match event {
                Event::Incoming(Packet::ConnAck(_)) => {
                    client.subscribe("site/#", QoS::AtLeastOnce).await.unwrap();
                }
                Event::Incoming(Packet::Publish(p)) => {
                    if let Ok(MqttMessage::Advertisement(adv)) =
                        MqttMessage::parse(&p.topic, &p.payload)
                    {
                        let o = Observation::from_mqtt(&adv, 0).unwrap();
                        let seq = o.readings.measurement_sequence.unwrap();
                        seen.lock().insert((o.sensor, seq));
                    }
                }
                _ => {}
            }
        }
    });

    // Two `ruuvictl serve`, each with its own data directory, one database, one broker.
    let serves: Vec<common::Serving> = (0..2)
        .map(|i| {
            let data = dir.join(format!("serve{i}"));
            common::spawn_serve(
                &[
                    "serve",
                    "--listen",
                    "127.0.0.1:0",
                    "--http",
                    "--no-admin",
                    "--store",
                    &database.to_string(),
                    "--mqtt",
                    &broker_url,
                    "--mqtt-topic",
                    "site/#",
                ],
                &[("RUUVI_DESK_DATA_DIR", data.as_os_str())],
                Stdio::inherit(),
            )
        })
        .collect();
    // Both have subscribed before anything is published.
    tokio::time::sleep(Duration::from_secs(2)).await;

    let gateways = [sim().await, sim().await];
    for (i, gw) in gateways.iter().enumerate() {
        set_mqtt(
            gw.addr.to_string(),
            vec![
                "--broker".into(),
                broker_url.clone(),
                "--prefix".into(),
                format!("site/gw{i}/"),
                "--format".into(),
                "ruuvi_raw_and_decoded".into(),
            ],
            dir.join("cli"),
        )
        .await;
    }
    // Relaying resumes 5 s after the set-up; then a few measurements per tag.
    tokio::time::sleep(Duration::from_secs(14)).await;
    for gw in &gateways {
        set_mqtt(gw.addr.to_string(), vec!["--off".into()], dir.join("cli")).await;
    }
    // What was published has reached both processes and their hubs have committed it.
    tokio::time::sleep(Duration::from_secs(3)).await;
    drop(serves);
    witness.abort();

    let published = published.lock().clone();
    let stored = tokio::task::spawn_blocking(move || {
        database.open().unwrap().query(&Query::default()).unwrap()
    })
    .await
    .unwrap();
    let mut copies: BTreeMap<(MacAddress, u32), usize> = BTreeMap::new();
    for o in &stored {
        *copies
            .entry((o.sensor, o.readings.measurement_sequence.unwrap()))
            .or_default() += 1;
    }
    let twice: Vec<_> = copies.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "stored more than once: {twice:?}");
    let in_database: Measurements = copies.keys().copied().collect();
    assert!(
        published.len() >= 8 * 2,
        "only {} measurements were published",
        published.len()
    );
    let lost: Vec<_> = published.difference(&in_database).collect();
    assert!(lost.is_empty(), "published but not stored: {lost:?}");
    assert_eq!(in_database, published);
    for gw in gateways {
        gw.stop().await;
    }
    let _ = std::fs::remove_dir_all(&dir);
}
