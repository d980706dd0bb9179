//! The hub with a real SQLite store.

use ruuvi_hub::{Hub, HubError, HubOptions, Stored};
use ruuvi_protocol::{DataFormat, Feed, Observation, Readings};
use ruuvi_store::{ObservationStore, Query, Retention, SqliteStore};

fn o(sensor: &str, format: DataFormat, seq: u32, feed: Feed) -> Observation {
    Observation {
        sensor: sensor.parse().unwrap(),
        feed,
        received_at_ms: 1_000 + i64::from(seq),
        seen_at_s: None,
        rssi: Some(-60),
        format: Some(format),
        readings: Readings {
            temperature_c: Some(20.0 + f64::from(seq)),
            measurement_sequence: Some(seq),
            ..Readings::default()
        },
    }
}

const A: &str = "AA:AA:AA:AA:AA:01";
const B: &str = "BB:BB:BB:BB:BB:02";

#[tokio::test]
async fn copies_from_every_feed_are_stored_once_and_broadcast_once() {
    let (hub, task) = Hub::start(
        SqliteStore::open_in_memory().unwrap(),
        HubOptions::default(),
    );
    let mut updates = hub.subscribe();
    let gw = Some("C8:25:2D:8E:9C:2C".parse().unwrap());
    let first = hub
        .submit(vec![
            o(A, DataFormat::Df5, 1, Feed::Ble),
            o(B, DataFormat::E1, 0x0102, Feed::Ble),
        ])
        .await
        .unwrap();
    assert_eq!(
        first,
        Stored {
            stored: 2,
            duplicates: 0
        }
    );
    let copies = hub
        .submit(vec![
            o(A, DataFormat::Df5, 1, Feed::GatewayPost { gateway: gw }),
            o(A, DataFormat::Df5, 1, Feed::GatewayHistory { gateway: gw }),
            // The format-6 copy of B's E1 sample.
            o(B, DataFormat::Df6, 0x02, Feed::GatewayPost { gateway: gw }),
            o(A, DataFormat::Df5, 2, Feed::GatewayPost { gateway: gw }),
        ])
        .await
        .unwrap();
    assert_eq!(
        copies,
        Stored {
            stored: 1,
            duplicates: 3
        }
    );
    let mut seen = Vec::new();
    while let Ok(u) = updates.try_recv() {
        seen.push((u.sensor.to_string(), u.readings.measurement_sequence));
    }
    assert_eq!(
        seen,
        [
            (A.to_string(), Some(1)),
            (B.to_string(), Some(0x0102)),
            (A.to_string(), Some(2))
        ]
    );
    let latest = hub.latest();
    assert_eq!(latest.len(), 2);
    assert_eq!(latest[0].readings.measurement_sequence, Some(2));
    drop(hub);
    let mut store = task.await.unwrap();
    assert_eq!(
        store.count().unwrap(),
        3,
        "committed before submit answered"
    );
    let stored = store.query(&Query::default()).unwrap();
    let second_of_a = stored
        .iter()
        .find(|o| o.sensor.to_string() == A && o.readings.measurement_sequence == Some(2))
        .expect("A's second measurement is stored");
    assert_eq!(second_of_a.feed, Feed::GatewayPost { gateway: gw });
}

#[tokio::test]
async fn a_restarted_hub_knows_the_latest_state() {
    let mut store = SqliteStore::open_in_memory().unwrap();
    store
        .insert(&[o(A, DataFormat::Df5, 5, Feed::Ble)])
        .unwrap();
    let (hub, _task) = Hub::start(store, HubOptions::default());
    assert_eq!(hub.latest()[0].readings.measurement_sequence, Some(5));
}

#[tokio::test]
async fn a_full_queue_says_so_instead_of_blocking() {
    let options = HubOptions {
        queue: 1,
        ..HubOptions::default()
    };
    let (hub, _task) = Hub::start(SqliteStore::open_in_memory().unwrap(), options);
    // On this single-threaded runtime the hub cannot run until we wait: the second is refused.
    let first = hub
        .try_submit(vec![o(A, DataFormat::Df5, 1, Feed::Ble)])
        .unwrap();
    assert_eq!(
        hub.try_submit(vec![o(A, DataFormat::Df5, 2, Feed::Ble)])
            .err(),
        Some(HubError::Full)
    );
    assert_eq!(first.stored().await.unwrap().stored, 1);
    // Once drained, there is room again; `submit` waits instead of failing.
    assert_eq!(
        hub.submit(vec![o(A, DataFormat::Df5, 2, Feed::Ble)])
            .await
            .unwrap()
            .stored,
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_submitters_in_batches() {
    let (hub, task) = Hub::start(
        SqliteStore::open_in_memory().unwrap(),
        HubOptions::default(),
    );
    let mut tasks = Vec::new();
    for t in 0..8u32 {
        let hub = hub.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..50u32 {
                let sensor = format!("AA:AA:AA:AA:{:02X}:{:02X}", t, i % 4);
                hub.submit(vec![o(&sensor, DataFormat::Df5, i, Feed::Ble)])
                    .await
                    .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    drop(hub);
    assert_eq!(task.await.unwrap().count().unwrap(), 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_runs_between_batches_and_is_counted() {
    let (hub, task) = Hub::start(
        SqliteStore::open_in_memory().unwrap(),
        HubOptions::default(),
    );
    // 200 old observations (received at 1,000 + seq ms), then trimming while new ones arrive.
    let old: Vec<Observation> = (0..200)
        .map(|i| o(A, DataFormat::Df5, i, Feed::Ble))
        .collect();
    hub.submit(old).await.unwrap();
    let keep_one_day = Retention::from_plan(Some(1), None);
    let now = 1_000 + 86_400_000 + 150;
    let writer = {
        let hub = hub.clone();
        tokio::spawn(async move {
            for i in 0..50u32 {
                hub.submit(vec![o(B, DataFormat::Df5, 1000 + i, Feed::Ble)])
                    .await
                    .unwrap();
            }
        })
    };
    let mut removed = 0;
    loop {
        let t = hub.trim(keep_one_day, now, 40).await.unwrap();
        assert!(t.expired <= 40);
        removed += t.expired;
        if !t.more {
            break;
        }
    }
    writer.await.unwrap();
    // Everything received before `now - 1 day` (the first 150 of A) is gone, nothing else.
    assert_eq!(removed, 150);
    let stats = hub.stats();
    assert_eq!(stats.stored, 250);
    assert_eq!(stats.trimmed, 150);
    assert_eq!(stats.sensors, 2);
    assert!(
        stats.batches >= 2 && stats.commit_seconds > 0.0,
        "{stats:?}"
    );
    drop(hub);
    assert_eq!(task.await.unwrap().count().unwrap(), 100);
}

#[tokio::test]
async fn retain_runs_a_policy_to_the_end_and_nothing_without_one() {
    let (hub, task) = Hub::start(
        SqliteStore::open_in_memory().unwrap(),
        HubOptions::default(),
    );
    let old: Vec<Observation> = (0..25_000)
        .map(|i| o(A, DataFormat::Df5, i, Feed::Ble))
        .collect();
    for chunk in old.chunks(5_000) {
        hub.submit(chunk.to_vec()).await.unwrap();
    }
    let now = 1_000 + 86_400_000 + 20_000;
    // No limits: nothing is touched.
    assert_eq!(
        hub.retain(Retention::from_plan(None, None), now).await,
        (0, 0)
    );
    // Keep one day: the 20,000 older ones go, in steps of at most 10,000 (three steps here).
    let (expired, thinned) = hub.retain(Retention::from_plan(Some(1), None), now).await;
    assert_eq!((expired, thinned), (20_000, 0));
    drop(hub);
    assert_eq!(task.await.unwrap().count().unwrap(), 5_000);
}

#[tokio::test]
async fn history_is_stored_but_is_not_news() {
    let evaluated = std::sync::Arc::new(parking_lot::Mutex::new(Vec::new()));
    let seen = evaluated.clone();
    let (hub, _task) = Hub::start_evaluated(
        SqliteStore::open_in_memory().unwrap(),
        HubOptions::default(),
        Some(std::sync::Arc::new(move |o: &Observation| {
            seen.lock().push((o.feed.clone(), o.received_at_ms))
        })),
    );
    let mut updates = hub.subscribe();
    let mut live = o(A, DataFormat::Df5, 500, Feed::Ble);
    live.received_at_ms = 10_000_000;
    hub.submit(vec![live.clone()]).await.unwrap();
    // The sensor's log: older than what is known, stored, not the latest, not told, not
    // alerted on; a log record newer than the live one (the sensor seen only by its log since)
    // becomes the state but is still not alerted on.
    let mut log: Vec<Observation> = (0..3)
        .map(|i| {
            let mut r = o(A, DataFormat::Df5, 0, Feed::BleHistory);
            r.format = None;
            r.readings.measurement_sequence = None;
            r.received_at_ms = 9_000_000 + i * 300_000;
            r
        })
        .collect();
    log[2].received_at_ms = 10_500_000;
    let stored = hub.submit(log).await.unwrap();
    assert_eq!(stored.stored, 3);
    assert_eq!(updates.recv().await.unwrap(), live);
    let told = updates.recv().await.unwrap();
    assert_eq!(
        (told.feed, told.received_at_ms),
        (Feed::BleHistory, 10_500_000)
    );
    assert!(
        updates.try_recv().is_err(),
        "the older records were not told"
    );
    assert_eq!(hub.latest()[0].received_at_ms, 10_500_000);
    assert_eq!(*evaluated.lock(), vec![(Feed::Ble, 10_000_000)]);
}
