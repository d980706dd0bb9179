//! The same behaviour from both engines: every check runs on SQLite and, under
//! `tests/with-servers.sh`, on PostgreSQL; then what only a shared database must do: two
//! writers at once, one copy of each measurement.

use ruuvi_protocol::{DataFormat, Feed, Observation, Readings};
use ruuvi_store::testing::{fresh_postgres_database, postgres_execute, postgres_query};
use ruuvi_store::{Bucket, Level, ObservationStore, Query, Retention, SqliteStore, Trimmed};

/// The store's chart statistics of `sensor` against a recomputation from its raw rows: counts,
/// minima and maxima exact, means to 1e-9 (writers at once add in another order).
fn statistics_match_the_rows(s: &mut dyn ObservationStore, sensor: &str) {
    let mac = sensor.parse().unwrap();
    for level in Level::ALL {
        let mut want: Vec<Bucket> = Vec::new();
        s.each(
            &Query {
                sensor: Some(mac),
                ..Query::default()
            },
            &mut |o| {
                let start_ms = level.bucket_of(o.received_at_ms);
                if want.last().is_none_or(|b| b.start_ms != start_ms) {
                    want.push(Bucket {
                        start_ms,
                        stats: Default::default(),
                    });
                }
                want.last_mut().unwrap().stats.add(&o.readings);
                Ok(())
            },
        )
        .unwrap();
        let mut got = Vec::new();
        s.buckets(mac, i64::MIN / 2, i64::MAX, level, &mut |b| got.push(b))
            .unwrap();
        assert_eq!(got.len(), want.len(), "{sensor} {level:?}");
        for (g, w) in got.iter().zip(&want) {
            assert_eq!((g.start_ms, g.stats.count), (w.start_ms, w.stats.count));
            assert_eq!(g.stats.min(), w.stats.min());
            assert_eq!(g.stats.max(), w.stats.max());
            let (gm, wm) = (g.stats.mean(), w.stats.mean());
            let close = |a: Option<f64>, b: Option<f64>| match (a, b) {
                (Some(a), Some(b)) => (a - b).abs() <= 1e-9 * b.abs().max(1.0),
                (a, b) => a == b,
            };
            assert!(close(gm.temperature_c, wm.temperature_c), "{gm:?} {wm:?}");
        }
    }
}

fn obs(sensor: &str, at: i64, t: f64, seq: u32) -> Observation {
    Observation {
        sensor: sensor.parse().unwrap(),
        feed: Feed::GatewayPost {
            gateway: Some("C8:25:2D:8E:9C:2C".parse().unwrap()),
        },
        received_at_ms: at,
        seen_at_s: Some((at / 1000) as u64),
        rssi: Some(-60),
        format: Some(DataFormat::Df5),
        readings: Readings {
            temperature_c: Some(t),
            measurement_sequence: Some(seq),
            ..Readings::default()
        },
    }
}

fn sqlite() -> Box<dyn ObservationStore> {
    Box::new(SqliteStore::open_in_memory().unwrap())
}

fn postgres(hint: &str) -> Box<dyn ObservationStore> {
    fresh_postgres_database(hint)
        .expect("no PostgreSQL test server: run under tests/with-servers.sh")
        .open()
        .unwrap()
}

fn round_trip_latest_range_and_delete(s: &mut dyn ObservationStore) {
    let a = "AA:AA:AA:AA:AA:01";
    let b = "BB:BB:BB:BB:BB:02";
    s.insert(&[
        obs(a, 1_000, 20.5, 1),
        obs(b, 1_500, -3.25, 7),
        obs(a, 2_000, 21.0, 2),
    ])
    .unwrap();
    assert_eq!(s.count().unwrap(), 3);
    let latest = s.latest().unwrap();
    assert_eq!(latest.len(), 2);
    assert_eq!(
        latest[0],
        obs(a, 2_000, 21.0, 2),
        "the whole observation comes back"
    );
    assert_eq!(
        s.latest_of(b.parse().unwrap())
            .unwrap()
            .unwrap()
            .readings
            .temperature_c,
        Some(-3.25)
    );
    let only_a = s
        .query(&Query {
            sensor: Some(a.parse().unwrap()),
            ..Query::default()
        })
        .unwrap();
    assert_eq!(only_a.len(), 2);
    let window = s
        .query(&Query {
            from_ms: Some(1_200),
            to_ms: Some(2_000),
            ..Query::default()
        })
        .unwrap();
    assert_eq!(window, [obs(b, 1_500, -3.25, 7)]);
    assert_eq!(s.delete_older_than(1_600).unwrap(), 2);
    assert_eq!(s.count().unwrap(), 1);
}

fn retention_expires_and_thins_in_whole_buckets(s: &mut dyn ObservationStore) {
    const MIN: i64 = 60_000;
    const DAY: i64 = 86_400_000;
    let now = 100 * DAY;
    let a = "AA:AA:AA:AA:AA:01";
    let b = "BB:BB:BB:BB:BB:02";
    let mut rows = Vec::new();
    // Three days of one post every 10 s from two sensors: 2 × 25,920 rows.
    for i in 0..(3 * DAY / 10_000) {
        let at = now - 3 * DAY + i * 10_000;
        rows.push(obs(a, at, 20.0, i as u32));
        rows.push(obs(b, at, 5.0, i as u32));
    }
    s.insert(&rows).unwrap();
    let policy = Retention::from_plan(Some(2), Some(15));
    assert_eq!(policy.resolution_ms, Some(15 * MIN));
    let mut total = Trimmed::default();
    let mut calls = 0;
    loop {
        let t = s.trim(&policy, now, 5_000).unwrap();
        assert!(t.expired + t.thinned <= 5_000, "bounded per call");
        total.expired += t.expired;
        total.thinned += t.thinned;
        calls += 1;
        if !t.more {
            break;
        }
    }
    assert!(calls > 2, "{calls} calls: the work was split");
    // Day 1 is gone; day 2 is one row per sensor per 15 minutes; day 3 is untouched.
    assert_eq!(total.expired, 2 * 8_640);
    let mut day2 = |sensor: &str| {
        s.query(&Query {
            sensor: Some(sensor.parse().unwrap()),
            from_ms: Some(now - 2 * DAY),
            to_ms: Some(now - DAY),
            limit: None,
        })
        .unwrap()
    };
    let kept = day2(a);
    assert_eq!(kept.len(), 96);
    assert!(kept
        .windows(2)
        .all(|w| w[1].received_at_ms - w[0].received_at_ms == 15 * MIN));
    assert_eq!(
        kept[0].received_at_ms % (15 * MIN),
        0,
        "the first of each bucket"
    );
    assert_eq!(day2(b).len(), 96);
    assert_eq!(s.count().unwrap(), 2 * 96 + 2 * 8_640);
    // Nothing more to do; the next day's trim only looks at the new buckets.
    assert_eq!(s.trim(&policy, now, 5_000).unwrap(), Trimmed::default());
    // A finer plan starts over without touching what a coarser one kept.
    let fine = Retention::from_plan(None, Some(5));
    assert_eq!(s.trim(&fine, now, 100_000).unwrap().thinned, 0);
    // No limits: nothing is removed.
    assert_eq!(
        s.trim(&Retention::default(), now + 10 * DAY, 100).unwrap(),
        Trimmed::default()
    );
}

fn exports_csv_and_json_lines(s: &mut dyn ObservationStore) {
    s.insert(&[obs("AA:AA:AA:AA:AA:01", 1_000, 20.5, 1)])
        .unwrap();
    let mut csv = Vec::new();
    assert_eq!(s.export_csv(&Query::default(), &mut csv).unwrap(), 1);
    let csv = String::from_utf8(csv).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let row: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(header.len(), row.len());
    let col = |name: &str| row[header.iter().position(|h| *h == name).unwrap()];
    assert_eq!(col("temperature_c"), "20.5");
    assert_eq!(col("humidity_pct"), "");
    assert_eq!(col("gateway"), "C8:25:2D:8E:9C:2C");
    assert_eq!(col("format"), "Df5");
    let mut json = Vec::new();
    s.export_json(&Query::default(), &mut json).unwrap();
    let back: Observation = serde_json::from_slice(json.trim_ascii_end()).unwrap();
    assert_eq!(back, obs("AA:AA:AA:AA:AA:01", 1_000, 20.5, 1));
}

/// Reads in the same order on both engines, the newest by time (not by arrival), and the
/// same chart statistics (SQLite from its rollups, PostgreSQL from the raw rows).
fn order_latest_and_statistics(s: &mut dyn ObservationStore) {
    let (a, b) = ("AA:AA:AA:AA:AA:01", "BB:BB:BB:BB:BB:02");
    let hour = 3_600_000;
    let mut sent = Vec::new();
    for i in 0..30 {
        sent.push(obs(b, 1_000 + i * 600_000, 10.0 + i as f64 * 0.5, i as u32));
        sent.push(obs(
            a,
            2_000 + i * 600_000,
            30.0 - i as f64 * 0.25,
            100 + i as u32,
        ));
    }
    s.insert(&sent).unwrap();
    // A late observation from long ago (a history download) is not the newest.
    let late = obs(a, 500, 99.0, 999);
    s.insert(std::slice::from_ref(&late)).unwrap();
    let all = s.query(&Query::default()).unwrap();
    let keys: Vec<(String, i64)> = all
        .iter()
        .map(|o| (o.sensor.to_string(), o.received_at_ms))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "sensor by sensor, each in time order");
    assert_eq!(all[0], late);
    let newest_a = s.latest_of(a.parse().unwrap()).unwrap().unwrap();
    assert_eq!(newest_a.received_at_ms, 2_000 + 29 * 600_000);
    let mut buckets = Vec::new();
    s.buckets(
        a.parse().unwrap(),
        0,
        6 * hour,
        ruuvi_store::Level::Hour,
        &mut |b| buckets.push(b),
    )
    .unwrap();
    assert_eq!(
        buckets.iter().map(|b| b.start_ms).collect::<Vec<_>>(),
        [0, hour, 2 * hour, 3 * hour, 4 * hour]
    );
    let first = &buckets[0].stats;
    assert_eq!(first.count, 7, "the late one and six of ten minutes");
    assert_eq!(first.max().temperature_c, Some(99.0));
    assert_eq!(first.min().temperature_c, Some(30.0 - 5.0 * 0.25));
    statistics_match_the_rows(s, a);
    // An explicit delete in the middle of an hour: the statistics follow the rows left.
    s.delete_older_than(2 * hour + 1_234).unwrap();
    statistics_match_the_rows(s, a);
    statistics_match_the_rows(s, b);
}

/// A sensor's profile is kept with the data, replaced whole, removed when emptied, and the
/// CSV export names the sensor and gives calibrated values next to the measured ones.
fn profiles_kept_and_applied_in_the_export(s: &mut dyn ObservationStore) {
    use ruuvi_protocol::{Calibration, SensorProfile};
    let sensor = "AA:AA:AA:AA:AA:01".parse().unwrap();
    assert!(s.profiles().unwrap().is_empty());
    let sauna = SensorProfile {
        name: "Sauna, lauteet".into(),
        location: "Mökki".into(),
        note: "Ylälaude".into(),
        calibration: Calibration {
            temperature_c: -1.5,
            humidity_pct: 2.0,
            pressure_pa: 0.0,
        },
        updated_ms: 42,
        ..SensorProfile::new(sensor)
    };
    s.save_profile(&sauna).unwrap();
    assert_eq!(s.profiles().unwrap(), std::slice::from_ref(&sauna));
    let renamed = SensorProfile {
        name: "Löylyhuone".into(),
        ..sauna.clone()
    };
    s.save_profile(&renamed).unwrap();
    assert_eq!(s.profiles().unwrap(), std::slice::from_ref(&renamed));
    s.insert(&[obs("AA:AA:AA:AA:AA:01", 1_000, 80.5, 1)])
        .unwrap();
    let mut csv = Vec::new();
    s.export_csv(&Query::default(), &mut csv).unwrap();
    let csv = String::from_utf8(csv).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let row: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| row[header.iter().position(|h| *h == name).unwrap()];
    assert_eq!(col("temperature_c"), "80.5");
    assert_eq!(col("temperature_c_calibrated"), "79.0");
    assert_eq!(col("name"), "Löylyhuone");
    // An export reads back as what was measured.
    let mut store = ruuvi_store::SqliteStore::open_in_memory().unwrap();
    let report = ruuvi_store::import::import(
        &mut store,
        &mut csv.as_bytes(),
        ruuvi_store::import::ImportFormat::Csv,
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(report.stored, 1);
    assert_eq!(
        store.query(&Query::default()).unwrap()[0]
            .readings
            .temperature_c,
        Some(80.5)
    );
    s.save_profile(&SensorProfile::new(sensor)).unwrap();
    assert!(s.profiles().unwrap().is_empty());
}

/// Each check on both engines: `sqlite_<name>` always, `postgres_<name>` under
/// `tests/with-servers.sh` (ignored otherwise).
macro_rules! on_both_engines {
    ($($check:ident => $sqlite:ident, $postgres:ident;)*) => {$(
        #[test]
        fn $sqlite() {
            $check(&mut *sqlite());
        }

        #[test]
        #[ignore = "needs PostgreSQL: tests/with-servers.sh"]
        fn $postgres() {
            $check(&mut *postgres(stringify!($check)));
        }
    )*};
}

on_both_engines! {
    round_trip_latest_range_and_delete => sqlite_round_trip, postgres_round_trip;
    retention_expires_and_thins_in_whole_buckets => sqlite_retention, postgres_retention;
    exports_csv_and_json_lines => sqlite_exports, postgres_exports;
    order_latest_and_statistics => sqlite_order_and_statistics, postgres_order_and_statistics;
    profiles_kept_and_applied_in_the_export => sqlite_profiles, postgres_profiles;
}

/// Two processes store what they both received (two gateways heard the same tags, or both
/// read one MQTT broker), at the same moment and in different orders: every measurement is
/// stored once, and each writer is told which of its copies were the stored ones.
#[test]
#[ignore = "needs PostgreSQL: tests/with-servers.sh"]
fn postgres_two_writers_store_each_measurement_once() {
    let location = fresh_postgres_database("two_writers").expect("tests/with-servers.sh");
    let sensors = [
        "AA:00:00:00:00:01",
        "AA:00:00:00:00:02",
        "AA:00:00:00:00:03",
    ];
    let batches = |writer: i64| -> Vec<Vec<Observation>> {
        (0..40u32)
            .map(|b| {
                let mut batch: Vec<Observation> = (0..25u32)
                    .flat_map(|i| {
                        sensors.iter().map(move |s| {
                            let seq = b * 25 + i;
                            // Each writer received it at its own moment, within a second.
                            let mut o = obs(
                                s,
                                1_000_000 + i64::from(seq) * 1000 + writer * 300,
                                20.0,
                                seq,
                            );
                            o.seen_at_s = None;
                            o
                        })
                    })
                    .collect();
                if writer == 1 {
                    batch.reverse();
                }
                batch
            })
            .collect()
    };
    let writers: Vec<_> = (0..2)
        .map(|writer| {
            let location = location.clone();
            let batches = batches(writer);
            std::thread::spawn(move || {
                let mut store = location.open().unwrap();
                let mut stored = 0;
                for batch in &batches {
                    let kept = store.insert(batch).unwrap();
                    assert_eq!(kept.len(), batch.len());
                    stored += kept.iter().filter(|k| **k).count();
                }
                stored
            })
        })
        .collect();
    let stored: Vec<usize> = writers.into_iter().map(|w| w.join().unwrap()).collect();
    let total = 3 * 40 * 25;
    assert_eq!(
        stored.iter().sum::<usize>(),
        total,
        "stored by each: {stored:?}"
    );
    let mut s = location.open().unwrap();
    assert_eq!(s.count().unwrap(), total as u64);
    for sensor in sensors {
        let mut seqs: Vec<u32> = s
            .query(&Query {
                sensor: Some(sensor.parse().unwrap()),
                ..Query::default()
            })
            .unwrap()
            .iter()
            .map(|o| o.readings.measurement_sequence.unwrap())
            .collect();
        seqs.sort();
        assert_eq!(
            seqs,
            (0..1000).collect::<Vec<_>>(),
            "{sensor}: none lost, none twice"
        );
        // The statistics both writers added to describe exactly what was stored.
        statistics_match_the_rows(&mut *s, sensor);
    }
}

/// A database an earlier version wrote (no rollups): its history still charts (from raw
/// rows), new rows go to rollups, and an explicit delete keeps both consistent.
#[test]
#[ignore = "needs PostgreSQL: tests/with-servers.sh"]
fn postgres_an_upgraded_database_charts_its_old_history() {
    let location = fresh_postgres_database("upgraded").expect("tests/with-servers.sh");
    let a = "AA:AA:AA:AA:AA:01";
    let hour = 3_600_000;
    let now = ruuvi_protocol::clock::now_ms();
    let old: Vec<Observation> = (0..48)
        .map(|i| {
            obs(
                a,
                now - 10 * 86_400_000 + i * hour / 2,
                20.0 + i as f64,
                i as u32,
            )
        })
        .collect();
    {
        let mut s = location.open().unwrap();
        s.insert(&old).unwrap();
    }
    // As the previous version left it: schema 1, no rollups.
    postgres_execute(
        &location,
        "DELETE FROM rollups; DELETE FROM meta WHERE key = 'rollups_from_ms';
         UPDATE meta SET value = 1 WHERE key = 'schema_version';",
    );
    let mut s = location.open().unwrap();
    let new: Vec<Observation> = (0..10)
        .map(|i| obs(a, now + 2 * 86_400_000 + i * 60_000, 5.0, 1000 + i as u32))
        .collect();
    s.insert(&new).unwrap();
    statistics_match_the_rows(&mut *s, a);
    // A cut in the middle of the old history.
    s.delete_older_than(now - 10 * 86_400_000 + 7 * hour + 1)
        .unwrap();
    statistics_match_the_rows(&mut *s, a);
}

/// A sequence number seen again long after (the counter wrapped) is a new measurement; the
/// same one again within the window is a copy, also inside one batch.
#[test]
#[ignore = "needs PostgreSQL: tests/with-servers.sh"]
fn postgres_a_wrapped_counter_is_a_new_measurement() {
    let mut s = postgres("wrapped");
    let a = "AA:00:00:00:00:01";
    assert_eq!(
        s.insert(&[obs(a, 1_000_000, 20.0, 7), obs(a, 1_000_500, 20.0, 7)])
            .unwrap(),
        [true, false]
    );
    assert_eq!(s.insert(&[obs(a, 1_200_000, 20.0, 7)]).unwrap(), [false]);
    assert_eq!(
        s.insert(&[obs(a, 1_000_000 + 3_600_000, 21.0, 7)]).unwrap(),
        [true]
    );
    let mut no_seq = obs(a, 5, 1.0, 0);
    no_seq.readings.measurement_sequence = None;
    assert_eq!(
        s.insert(&[no_seq.clone(), no_seq]).unwrap(),
        [true, true],
        "nothing to tell copies by"
    );
    assert_eq!(s.count().unwrap(), 4);
}

/// The reads a chart and the dashboard make walk PostgreSQL's indexes (the planner is told
/// not to scan, so a query that cannot use them shows a scan whatever the table's size).
#[test]
#[ignore = "needs PostgreSQL: tests/with-servers.sh"]
fn postgres_reads_use_the_sensor_time_index() {
    let location = fresh_postgres_database("plans").expect("tests/with-servers.sh");
    location.open().unwrap();
    let plan = |sql: &str| {
        postgres_query(
            &location,
            &format!("SET enable_seqscan = off; EXPLAIN {sql}"),
        )
        .join("\n")
    };
    let range = plan(
        "SELECT * FROM observations WHERE sensor = 'AA:AA:AA:AA:AA:01'
         AND received_at_ms >= 0 AND received_at_ms < 9 ORDER BY received_at_ms, id LIMIT 600",
    );
    assert!(
        range.contains("observations_sensor_time") && range.contains("Index Cond"),
        "{range}"
    );
    let rollups = plan(
        "SELECT bucket_ms, field, min, max, sum, count FROM rollups
         WHERE sensor = 'AA:AA:AA:AA:AA:01' AND level = 1 AND bucket_ms >= 0 AND bucket_ms < 9
         ORDER BY bucket_ms, field",
    );
    assert!(
        rollups.contains("rollups_pkey") && rollups.contains("Index Cond"),
        "{rollups}"
    );
}
