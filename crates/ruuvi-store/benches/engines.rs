//! Observations per second into each engine, the same batches in the same run: SQLite (a WAL
//! file, the baseline) and PostgreSQL (the server `tests/with-servers.sh` starts: loopback,
//! default durability, i.e. every commit flushed). Run:
//! `tests/with-servers.sh cargo bench -p ruuvi-store --bench engines`; without the server only
//! SQLite is measured.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use ruuvi_protocol::{DataFormat, Feed, Observation, Readings};
use ruuvi_store::testing::fresh_postgres_database;
use ruuvi_store::{ObservationStore, SqliteStore};

const BATCH: usize = 500;

/// One gateway post's worth of DF5 observations from 500 sensors, with fresh sequence numbers
/// on every call (PostgreSQL would otherwise drop repeats as copies).
fn batch(round: u32) -> Vec<Observation> {
    (0..BATCH as u32)
        .map(|i| Observation {
            sensor: format!("AA:00:00:00:{:02X}:{:02X}", i >> 8, i & 0xFF)
                .parse()
                .unwrap(),
            feed: Feed::GatewayPost {
                gateway: Some("C8:25:2D:8E:9C:2C".parse().unwrap()),
            },
            received_at_ms: 1_800_000_000_000 + i64::from(round) * 1000,
            seen_at_s: Some(1_800_000_000 + u64::from(round)),
            rssi: Some(-60),
            format: Some(DataFormat::Df5),
            readings: Readings {
                temperature_c: Some(21.5),
                humidity_pct: Some(45.25),
                pressure_pa: Some(100_812.0),
                accel_x_g: Some(0.012),
                accel_y_g: Some(-0.076),
                accel_z_g: Some(0.992),
                battery_v: Some(2.95),
                tx_power_dbm: Some(4),
                movement_counter: Some(12),
                measurement_sequence: Some(round),
                ..Readings::default()
            },
        })
        .collect()
}

fn insert_into(c: &mut Criterion, name: &str, mut store: Box<dyn ObservationStore>) {
    let mut group = c.benchmark_group("insert");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.sample_size(30);
    let mut round = 0u32;
    group.bench_function(name, |b| {
        b.iter_batched(
            || {
                round += 1;
                batch(round)
            },
            |rows| {
                let kept = store.insert(&rows).unwrap();
                assert!(kept.iter().all(|k| *k));
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

fn engines(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("ruuvi-store-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    insert_into(
        c,
        "sqlite",
        Box::new(SqliteStore::open(&dir.join("bench.sqlite")).unwrap()),
    );
    match fresh_postgres_database("bench") {
        Some(location) => insert_into(c, "postgres", location.open().unwrap()),
        None => eprintln!("no PostgreSQL (run under tests/with-servers.sh): SQLite only"),
    }
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, engines);
criterion_main!(benches);
