//! Alerts next to a real hub and store: every stored observation is evaluated (copies from a
//! second feed are not), a fired alert is kept, handed to the face, and reaches the webhook.

use parking_lot::Mutex;
use std::sync::Arc;
use std::time::Duration;

use ruuvi_alerts::{AlertStore, AlertType, Alerting, Rule, TriggerType, Webhook};
use ruuvi_hub::{Hub, HubOptions};
use ruuvi_protocol::{Feed, Observation, Readings};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn obs(seq: u32, temperature: f64, feed: Feed) -> Observation {
    Observation {
        sensor: "C8:25:2D:8E:9C:2C".parse().unwrap(),
        feed,
        received_at_ms: 1_800_000_000_000 + i64::from(seq) * 1000,
        seen_at_s: None,
        rssi: None,
        format: Some(ruuvi_protocol::DataFormat::Df5),
        readings: Readings {
            temperature_c: Some(temperature),
            measurement_sequence: Some(seq),
            ..Readings::default()
        },
    }
}

#[test]
fn stored_observations_fire_rules_into_history_face_and_webhook() {
    let dir = std::env::temp_dir().join(format!("ruuvi-alerts-hub-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(fire_rules(&dir.join("alerts.sqlite")));
    // The alert tasks hold the database until their runtime ends, and Windows deletes no open
    // file ("sharing violation"): remove the folder only after that.
    drop(runtime);
    std::fs::remove_dir_all(&dir).unwrap();
}

async fn fire_rules(db: &std::path::Path) {
    let db = db.to_path_buf();
    AlertStore::open(&db)
        .unwrap()
        .add(Rule {
            id: 0,
            sensor: "C8:25:2D:8E:9C:2C".parse().unwrap(),
            name: "Sauna".into(),
            alert_type: AlertType::Temperature,
            trigger: TriggerType::Over,
            threshold: 80.0,
            unit: "C".into(),
            tolerance: 0.0,
            hysteresis: 5.0,
            cooldown_s: 0,
            text: "The sauna is ready".into(),
            enabled: true,
        })
        .unwrap();
    // A webhook that takes everything and keeps the bodies.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let bodies = Arc::new(Mutex::new(Vec::<String>::new()));
    let kept = bodies.clone();
    tokio::spawn(async move {
        loop {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 65536];
            let mut n = 0;
            loop {
                let m = s.read(&mut buf[n..]).await.unwrap();
                n += m;
                let text = String::from_utf8_lossy(&buf[..n]).to_string();
                if let Some(i) = text.find("\r\n\r\n") {
                    if text[i + 4..].contains('}') && text.ends_with('}') {
                        kept.lock().push(text[i + 4..].to_string());
                        break;
                    }
                }
                if m == 0 {
                    break;
                }
            }
            let _ = s
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                .await;
        }
    });
    let told = Arc::new(Mutex::new(Vec::new()));
    let face = told.clone();
    let (alerting, _delivery) = Alerting::start(
        &db,
        Some(Webhook::new(url)),
        Arc::new(|| 1_800_000_000_000),
        Arc::new(move |e| face.lock().push(e.clone())),
    )
    .unwrap();
    let (hub, _task) = Hub::start_evaluated(
        ruuvi_store::SqliteStore::open_in_memory().unwrap(),
        HubOptions::default(),
        Some(alerting.evaluate()),
    );
    let gw = Feed::GatewayPost { gateway: None };
    // 70 → 85 (fires) → the same measurement again from a gateway (a copy: not evaluated
    // twice) → 78 (within the hysteresis) → 90 (still firing) → 70 (re-armed) → 81 (fires).
    hub.submit(vec![obs(1, 70.0, Feed::Ble), obs(2, 85.0, Feed::Ble)])
        .await
        .unwrap();
    hub.submit(vec![obs(2, 85.0, gw.clone())]).await.unwrap();
    for (seq, t) in [(3, 78.0), (4, 90.0), (5, 70.0), (6, 81.0)] {
        hub.submit(vec![obs(seq, t, Feed::Ble)]).await.unwrap();
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while bodies.lock().len() < 2 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "two webhook posts within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let told = told.lock().clone();
    assert_eq!(
        told.iter().map(|e| e.fired.current).collect::<Vec<_>>(),
        [85.0, 81.0]
    );
    let history = AlertStore::open(&db).unwrap().history(10).unwrap();
    assert_eq!(history.len(), 2);
    let first: serde_json::Value = serde_json::from_str(&bodies.lock()[0]).unwrap();
    assert_eq!(
        first["notification"]["title"],
        "Ruuvi Temperature alert: Sauna"
    );
    assert_eq!(first["data"]["currentValue"], "85");
    // The delivery log has the attempt that delivered each (written after the answer).
    let store = AlertStore::open(&db).unwrap();
    for h in &history {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        let log = loop {
            let log = store.deliveries(h.id).unwrap();
            if !log.is_empty() || tokio::time::Instant::now() > deadline {
                break log;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        assert_eq!(log.len(), 1, "{log:?}");
        assert_eq!(log[0].status, Some(200));
    }
}
