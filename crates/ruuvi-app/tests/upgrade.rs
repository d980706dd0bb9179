//! Starting over a store an earlier version wrote (schema 3): the history is moved before
//! anything reads it, the face is told how far it is, and the dashboard and charts see all of
//! it afterwards.

mod common;

use std::sync::Arc;

use parking_lot::Mutex;
use ruuvi_app::{api, Desk, DeskConfig, Migration};
use ruuvi_protocol::{DataFormat, Feed, MacAddress, Observation, Readings};

fn old_history() -> impl Iterator<Item = Observation> {
    (0..120_000i64).map(|i| Observation {
        sensor: MacAddress([0xAA, 0, 0, 0, 0, (i % 4) as u8]),
        feed: Feed::Ble,
        received_at_ms: 1_790_000_000_000 + i * 2_500,
        seen_at_s: None,
        rssi: Some(-70),
        format: Some(DataFormat::Df5),
        readings: Readings {
            temperature_c: Some(20.0 + (i % 100) as f64 * 0.005),
            measurement_sequence: Some(i as u32),
            ..Readings::default()
        },
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_earlier_versions_store_is_moved_with_progress_and_then_read_whole() {
    let dir = std::env::temp_dir().join(format!("ruuvi-app-upgrade-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let written =
        ruuvi_store::testing::write_schema_3(&dir.join("observations.sqlite"), &mut old_history())
            .unwrap();
    assert_eq!(written, 120_000);
    let told: Arc<Mutex<Vec<Migration>>> = Arc::default();
    let record = told.clone();
    let config = DeskConfig {
        on_migration: Some(Arc::new(move |m| record.lock().push(m))),
        ..common::desk_config(&dir, "ruuvi-app-upgrade-test")
    };
    let desk = Desk::start(config).await.unwrap();
    let steps = told.lock().clone();
    assert!(steps.len() >= 2, "{steps:?}");
    assert!(steps.windows(2).all(|w| w[0].done < w[1].done));
    assert_eq!(
        steps.last(),
        Some(&Migration {
            done: 120_000,
            total: 120_000
        })
    );
    let dashboard = api::call(&desk, "dashboard", serde_json::json!({}))
        .await
        .unwrap();
    assert_eq!(dashboard["cards"].as_array().unwrap().len(), 4);
    // A sensor's whole span (3.5 days: hourly statistics) reads every observation moved.
    let series = api::call(
        &desk,
        "series",
        serde_json::json!({"sensor": "AA:00:00:00:00:01", "fromMs": 1_790_000_000_000i64,
                           "toMs": 1_790_000_000_000i64 + 120_000 * 2_500, "points": 100}),
    )
    .await
    .unwrap();
    assert!(!series["points"].as_array().unwrap().is_empty());
    desk.stop().await;
    std::fs::remove_dir_all(&dir).unwrap();
}
