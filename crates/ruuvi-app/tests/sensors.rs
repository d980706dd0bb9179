//! A sensor named and calibrated through the command table (the window and `ruuvictl serve
//! --ui` call the same): its card, its chart, an alert rule's threshold, the CSV export and the
//! alert's name all follow. Data from the demo gateways posting to the receiver on 127.0.0.1;
//! no keychain needed.

mod common;

use common::call;

use std::sync::Arc;
use std::time::Duration;

use ruuvi_app::{api, Desk, DeskConfig};
use serde_json::{json, Value};

fn config(dir: &std::path::Path) -> DeskConfig {
    DeskConfig {
        demo: common::demo(1, 2, 7),
        ..common::desk_config(dir, "ruuvi-app-sensors-test")
    }
}

async fn card(desk: &Arc<Desk>, sensor: &str) -> Value {
    let d = call(desk, "dashboard", json!({})).await;
    d["cards"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["sensor"] == sensor)
        .cloned()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_named_calibrated_sensor_is_shown_charted_alerted_and_exported_calibrated() {
    let dir = std::env::temp_dir().join(format!("ruuvi-app-sensors-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let desk = Desk::start(config(&dir)).await.unwrap();
    let mut cards = Vec::new();
    for _ in 0..100 {
        cards = call(&desk, "dashboard", json!({})).await["cards"]
            .as_array()
            .unwrap()
            .clone();
        if cards.len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let tag = cards
        .iter()
        .find(|c| c["kind"] == "ruuvi_tag" && c["readings"]["temperature_c"].is_number())
        .expect("a RuuviTag with a temperature")
        .clone();
    let sensor = tag["sensor"].as_str().unwrap().to_string();
    assert_eq!(tag["named"], false);
    assert!(tag["name"].as_str().unwrap().starts_with("Ruuvi "));
    let measured = tag["readings"]["temperature_c"].as_f64().unwrap();

    // A rule 20 °C over what the tag measures: never fires on the raw values.
    let rule = call(
        &desk,
        "alerts_save",
        json!({"rule": {"id": 0, "sensor": sensor, "name": "", "alert_type": "Temperature",
            "trigger": "Over", "threshold": measured + 20.0, "unit": "C"}}),
    )
    .await;
    assert_eq!(
        rule["name"], tag["name"],
        "a rule without a name takes the sensor's"
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        call(&desk, "alerts", json!({})).await["history"],
        json!([]),
        "not fired by raw values"
    );

    // Bad input is refused with its reason, and nothing is kept.
    let e = api::call(
        &desk,
        "sensor_save",
        json!({"sensor": sensor, "name": "x".repeat(65)}),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code, "bad_input");
    assert!(e.message.contains("64 characters"), "{}", e.message);
    let e = api::call(
        &desk,
        "sensor_save",
        json!({"sensor": sensor, "calibration": {"temperature_c": 80.0}}),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code, "bad_input");
    assert_eq!(call(&desk, "sensors", json!({})).await, json!([]));

    let mut events = desk.subscribe();
    let saved = call(
        &desk,
        "sensor_save",
        json!({"sensor": sensor, "name": "Sauna, lauteet", "location": "Mökki",
            "note": "ylälaude", "calibration": {"temperature_c": 30.0, "humidity_pct": 0.0,
            "pressure_pa": 0.0}}),
    )
    .await;
    assert_eq!(saved["name"], "Sauna, lauteet");
    // Its card is sent again at once, named and calibrated.
    let sent = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if let Ok(ruuvi_app::Event::Card(c)) = events.recv().await {
                if c.sensor.to_string() == sensor && c.named {
                    return c;
                }
            }
        }
    })
    .await
    .expect("a card event after the change");
    assert_eq!(sent.name, "Sauna, lauteet");
    assert_eq!(sent.location, "Mökki");

    // The next observations: calibrated on the card, the measured value beside it.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let c = card(&desk, &sensor).await;
    let shown = c["readings"]["temperature_c"].as_f64().unwrap();
    let raw = c["measured"]["temperature_c"].as_f64().unwrap();
    assert!((shown - raw - 30.0).abs() < 1e-9, "{shown} vs {raw}");

    // The alert fires on the calibrated value, under the sensor's name.
    let mut fired = Value::Null;
    for _ in 0..50 {
        let view = call(&desk, "alerts", json!({})).await;
        if let Some(h) = view["history"].as_array().and_then(|h| h.first()) {
            fired = h.clone();
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(fired["fired"]["sensor"], sensor, "fired: {fired}");
    assert!(fired["fired"]["current"].as_f64().unwrap() > measured + 20.0);
    assert_eq!(
        fired["fired"]["name"], "Sauna, lauteet",
        "the rule took the new name"
    );

    // The chart: every point calibrated.
    let now = ruuvi_protocol::clock::now_ms();
    let series = call(
        &desk,
        "series",
        json!({"sensor": sensor, "fromMs": now - 600_000, "toMs": now + 1000, "points": 500}),
    )
    .await;
    let points = series["points"].as_array().unwrap();
    assert!(points.len() > 2);
    assert!(points
        .iter()
        .all(|p| p["readings"]["temperature_c"].as_f64().unwrap() > measured + 20.0));

    // The card's trend: this hour's mean, calibrated.
    let lines = call(&desk, "sparklines", json!({"sensors": [sensor]})).await;
    let hourly = lines[0]["hourly"].as_array().unwrap();
    assert_eq!(hourly.len(), 24);
    assert!(hourly[23].as_f64().unwrap() > measured + 20.0, "{hourly:?}");

    // The export: measured and calibrated columns, and the name.
    let said = call(
        &desk,
        "export_csv",
        json!({"sensor": sensor, "fromMs": 0, "toMs": now + 60_000}),
    )
    .await;
    let path = said
        .as_str()
        .unwrap()
        .rsplit(" to ")
        .next()
        .unwrap()
        .to_string();
    let csv = std::fs::read_to_string(&path).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let row = csv
        .lines()
        .nth(1)
        .unwrap()
        .replace("\"Sauna, lauteet\"", "NAME");
    let cells: Vec<&str> = row.split(',').collect();
    let col = |n: &str| cells[header.iter().position(|h| *h == n).unwrap()];
    assert_eq!(col("name"), "NAME");
    let t: f64 = col("temperature_c").parse().unwrap();
    let tc: f64 = col("temperature_c_calibrated").parse().unwrap();
    assert!((tc - t - 30.0).abs() < 1e-9);

    // And as a workbook: a sheet named after the sensor.
    let said = call(
        &desk,
        "export_xlsx",
        json!({"sensors": [sensor], "fromMs": 0, "toMs": now + 60_000}),
    )
    .await;
    let path = said
        .as_str()
        .unwrap()
        .rsplit(" to ")
        .next()
        .unwrap()
        .to_string();
    assert!(path.ends_with(".xlsx"), "{said}");
    assert_eq!(&std::fs::read(&path).unwrap()[..2], b"PK");

    // Cleared: back to the default name and the measured values.
    call(
        &desk,
        "sensor_save",
        json!({"sensor": sensor, "name": "", "location": "", "note": "",
            "calibration": {"temperature_c": 0.0, "humidity_pct": 0.0, "pressure_pa": 0.0}}),
    )
    .await;
    assert_eq!(call(&desk, "sensors", json!({})).await, json!([]));
    let c = card(&desk, &sensor).await;
    assert_eq!(c["named"], false);
    assert!(c["measured"].is_null());
    desk.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// The Gateways page lists every gateway Ruuvi Desk knows of before any search: here the demo
/// gateway, which posts to the receiver, with its address, its factory password, its posts and
/// its sensors.
#[tokio::test(flavor = "multi_thread")]
async fn gateways_known_before_any_search_include_the_demo_posting_here() {
    let dir = std::env::temp_dir().join(format!("ruuvi-app-known-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    // The receiver on, as `make run` has it: the demo posts to it.
    let mut with_receiver = config(&dir);
    with_receiver.receiver.always_on = true;
    let desk = Desk::start(with_receiver).await.unwrap();
    assert_eq!(
        call(&desk, "gateways_list", json!({})).await,
        json!([]),
        "none added"
    );
    let mut known = Value::Null;
    for _ in 0..100 {
        known = call(&desk, "gateways_known", json!({})).await;
        if known[0]["sensors"] == 2 && known[0]["posts_stored"].as_u64() > Some(0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let rows = known.as_array().unwrap();
    assert_eq!(rows.len(), 1, "{known}");
    let g = &rows[0];
    assert_eq!(g["demo"], true);
    assert_eq!(g["added"], false);
    assert!(
        g["demo_password"].as_str().is_some_and(|p| p.len() == 23),
        "{g}"
    );
    assert!(g["endpoint"].as_str().unwrap().starts_with("127.0.0.1:"));
    assert_eq!(g["sensors"], 2);
    assert_eq!(g["posts_refused"], 0);
    // The gateway the cards say their data came through.
    let cards = call(&desk, "dashboard", json!({})).await;
    let source = cards["cards"][0]["source"].as_str().unwrap().to_string();
    assert_eq!(source, format!("gateway {}", g["mac"].as_str().unwrap()));
    desk.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}
