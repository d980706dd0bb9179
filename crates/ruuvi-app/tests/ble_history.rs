//! A Bluetooth sensor's log downloaded by the app (`ble_history`), on btleplug's real Linux
//! backend with BlueZ and the sensor played by the stand-in on a private D-Bus (no radio
//! here). The store already holds what the app received live before it was closed and since
//! it was opened again; the download fills the gap between, and only the gap.

mod common;

use std::time::Duration;

use common::call;
use ruuvi_app::{AppSettings, Desk, DeskConfig, SettingsSource};
use ruuvi_bluez_standin::{Behaviour, BlueZ, Policy, PrivateBus, SensorLog};
use ruuvi_gw_sim::rng::Rng;
use ruuvi_gw_sim::tags::{SimTag, TagKind};
use ruuvi_protocol::clock::now_ms;
use ruuvi_protocol::{Feed, Observation};
use serde_json::{json, Value};

const HOUR_MS: i64 = 3_600_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_downloaded_log_fills_the_gap_once_without_alerts() {
    let bus = PrivateBus::start(Policy::Allowed).await.unwrap();
    // Only this test runs in this binary: libdbus reads the variable once per process.
    std::env::set_var("DBUS_SYSTEM_BUS_ADDRESS", bus.address());
    let bluez = BlueZ::start(&bus).await.unwrap();
    bluez.add_adapter("hci0", true).await.unwrap();

    let dir = std::env::temp_dir().join(format!("ruuvi-app-ble-history-{}", std::process::id()));
    let desk = Desk::start(DeskConfig {
        settings: SettingsSource::Fixed(Box::new(AppSettings {
            bluetooth: true,
            ..AppSettings::default()
        })),
        ..common::desk_config(&dir, "ruuvi-app-ble-history-test")
    })
    .await
    .unwrap();
    // A RuuviTag that has logged every 5 minutes for two days.
    let now = now_ms();
    let from_s = ((now - 48 * HOUR_MS) / 1000) as u32;
    let mut tag = SimTag::new(&Rng::new(5), 0, TagKind::RuuviTag, u64::from(from_s) * 1000);
    let log = SensorLog::from_sim_tag(&mut tag, from_s, (now / 1000) as u32, 300);
    let live_tag = tag.latest(now as u64, true);
    let sensor = live_tag.mac;
    bluez.keep_log("hci0", sensor, log);
    // What the app received live: once a minute from 24 h to 14 h ago, and the last hour.
    let live: Vec<Observation> = (0..24 * 60)
        .map(|m| now - 24 * HOUR_MS + m * 60_000)
        .filter(|t| *t < now - 14 * HOUR_MS || *t >= now - HOUR_MS)
        .map(|t| {
            let mut o =
                Observation::from_advertisement(sensor, &live_tag.data, Some(-60), t).unwrap();
            o.feed = Feed::Ble;
            o
        })
        .collect();
    let lines: Vec<String> = live
        .iter()
        .map(|o| serde_json::to_string(o).unwrap())
        .collect();
    let imported = call(
        &desk,
        "import_history",
        json!({"fileName": "live.jsonl", "content": lines.join("\n"), "sensor": null}),
    )
    .await;
    assert_eq!(imported["stored"], live.len());
    // The scan hears the tag (so the download finds it at once).
    for _ in 0..50 {
        if bluez.discovering("hci0").await.unwrap() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bluez
        .advertise("hci0", sensor, live_tag.rssi, &live_tag.data)
        .await
        .unwrap();
    // An alert that every logged temperature would trip.
    call(&desk, "alerts_save", json!({"rule": {"id": 0, "sensor": sensor.to_string(), "name": "", "alert_type": "Temperature",
        "trigger": "Over", "threshold": -100.0, "unit": "C"}})).await;

    let mut events = desk.subscribe();
    let report = call(
        &desk,
        "ble_history",
        json!({"sensor": sensor.to_string(), "sinceMs": now - 24 * HOUR_MS}),
    )
    .await;
    assert_eq!(report["kind"], "ruuvi_tag");
    assert_eq!(report["error"], Value::Null);
    let received = report["received"].as_u64().unwrap();
    assert!((287..=289).contains(&received), "{report}");
    // The gap is 13 hours: 156 five-minute records, give or take the edges.
    let stored = report["stored"].as_u64().unwrap();
    assert!((150..=158).contains(&stored), "{report}");
    assert_eq!(report["already_had"].as_u64().unwrap(), received - stored);
    // Progress went out as `download` events, ending with the count.
    let mut steps = Vec::new();
    while let Ok(e) = events.try_recv() {
        if e.name() == "download" {
            steps.push(serde_json::to_value(&e).unwrap());
        }
    }
    assert_eq!(steps.first().unwrap()["step"], "finding", "{steps:?}");
    assert_eq!(steps.last().unwrap()["step"], "done", "{steps:?}");
    assert_eq!(steps.last().unwrap()["records"], received);

    // The chart of the last day has no hole any more.
    let series = call(&desk, "series", json!({"sensor": sensor.to_string(), "fromMs": now - 24 * HOUR_MS, "toMs": now, "points": 2000})).await;
    let times: Vec<i64> = series["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["at_ms"].as_i64().unwrap())
        .collect();
    let widest = times.windows(2).map(|w| w[1] - w[0]).max().unwrap();
    assert!(
        widest <= 6 * 60_000,
        "a gap of {} min is left",
        widest / 60_000
    );

    // Downloading again stores nothing new; the sensor's card still shows the live reading;
    // the log fired no alert.
    let again = call(
        &desk,
        "ble_history",
        json!({"sensor": sensor.to_string(), "sinceMs": now - 24 * HOUR_MS}),
    )
    .await;
    assert_eq!(again["stored"], 0, "{again}");
    let dashboard = call(&desk, "dashboard", json!({})).await;
    let card = dashboard["cards"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["sensor"] == sensor.to_string().as_str())
        .unwrap()
        .clone();
    assert_eq!(card["feed"]["kind"], "ble", "{card}");
    assert_eq!(call(&desk, "alerts", json!({})).await["history"], json!([]));

    // Nothing to cancel now.
    assert_eq!(
        call(
            &desk,
            "ble_history_cancel",
            json!({"sensor": sensor.to_string()})
        )
        .await,
        json!(false)
    );

    // A slow sensor's download stopped from the app: what arrived is stored, the rest not.
    let mut slow = SimTag::new(&Rng::new(5), 1, TagKind::RuuviTag, u64::from(from_s) * 1000);
    let mut log = SensorLog::from_sim_tag(&mut slow, from_s, (now / 1000) as u32, 300);
    log.behaviour = Behaviour {
        delay: Duration::from_millis(20),
        ..Behaviour::default()
    };
    let heard = slow.latest(now_ms() as u64, true);
    bluez.keep_log("hci0", heard.mac, log);
    bluez
        .advertise("hci0", heard.mac, heard.rssi, &heard.data)
        .await
        .unwrap();
    let mut events = desk.subscribe();
    let downloading = {
        let desk = desk.clone();
        let sensor = heard.mac.to_string();
        tokio::spawn(async move {
            call(
                &desk,
                "ble_history",
                json!({"sensor": sensor, "sinceMs": null}),
            )
            .await
        })
    };
    loop {
        let e = serde_json::to_value(
            tokio::time::timeout(Duration::from_secs(10), events.recv())
                .await
                .unwrap()
                .unwrap(),
        )
        .unwrap();
        if e["step"] == "reading" && e["records"].as_u64().unwrap() >= 5 {
            break;
        }
    }
    // A second download of the same sensor is refused while one runs.
    let twice = ruuvi_app::api::call(
        &desk,
        "ble_history",
        json!({"sensor": heard.mac.to_string(), "sinceMs": null}),
    )
    .await
    .unwrap_err();
    assert_eq!(twice.code, "bad_input");
    assert_eq!(
        call(
            &desk,
            "ble_history_cancel",
            json!({"sensor": heard.mac.to_string()})
        )
        .await,
        json!(true)
    );
    let report = tokio::time::timeout(Duration::from_secs(5), downloading)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(report["error"], "cancelled", "{report}");
    let stored = report["stored"].as_u64().unwrap();
    assert!((5..100).contains(&stored), "{report}");
    assert_eq!(
        report["stored"], report["received"],
        "nothing of it was here before"
    );
    desk.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}
