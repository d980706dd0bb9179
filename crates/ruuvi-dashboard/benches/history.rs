//! History at the size users reach: a store of `SENSORS` DF5 sensors observed every `EVERY_S`
//! seconds for `DAYS` days, built through the store's public API (`insert`, in batches as
//! the hub writes them), then what a user waits for, each against the same query on a store
//! holding one observation per sensor (the baseline, measured in the same run):
//! `latest()`, one sensor's 30-day and 1-year chart (600 points), the compare view (two
//! sensors' 30-day charts), a 30-day CSV export streamed to a file, and bytes per
//! observation on disk. Ingest is timed while the store is built.
//!
//! ```sh
//! # a month of 100 sensors (25.9 M observations, ~1 GB; the store is kept and reused)
//! RUUVI_HISTORY_DIR=/var/tmp/history RUUVI_HISTORY=100x30x10 \
//!     cargo bench -p ruuvi-dashboard --bench history
//! # the small run CI does (debug build, seconds)
//! RUUVI_HISTORY=5x3x60 cargo test -p ruuvi-dashboard --bench history
//! ```
//! `RUUVI_HISTORY` is `SENSORS x DAYS x EVERY_S`. With `RUUVI_HISTORY_MIGRATE=1` the store is
//! written in the previous version's layout (schema 3) and migrated on open, timed.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use ruuvi_protocol::{
    decode_payload, DataFormat, Feed, MacAddress, Measurement, Observation, Readings,
};
use ruuvi_store::{ObservationStore, Query, Retention, SqliteStore};

const DAY_MS: i64 = 86_400_000;
/// Batches as a busy hub writes them.
const BATCH: usize = 5_000;
/// The history ends here (the "now" of every query).
const END_MS: i64 = 1_800_000_000_000;

struct Scale {
    sensors: u32,
    days: i64,
    every_s: i64,
}

impl Scale {
    fn from_env() -> Self {
        let text = std::env::var("RUUVI_HISTORY").unwrap_or_else(|_| "5x3x60".into());
        let parts: Vec<i64> = text
            .split('x')
            .map(|p| {
                p.trim()
                    .parse()
                    .expect("RUUVI_HISTORY is SENSORSxDAYSxEVERY_S")
            })
            .collect();
        assert_eq!(parts.len(), 3, "RUUVI_HISTORY is SENSORSxDAYSxEVERY_S");
        Scale {
            sensors: parts[0] as u32,
            days: parts[1],
            every_s: parts[2],
        }
    }

    fn observations(&self) -> i64 {
        i64::from(self.sensors) * self.days * DAY_MS / (self.every_s * 1000)
    }
}

fn sensor(i: u32) -> MacAddress {
    MacAddress([0xAA, 0x00, 0x00, 0x00, (i >> 8) as u8, i as u8])
}

/// Sensor `i`'s observation number `k`: values move like a room's do, every field of DF5, as
/// the decoder gives them (through a DF5 payload, as every feed's observations are).
fn observation(i: u32, k: i64, at_ms: i64) -> Observation {
    let mut o = approximate(i, k, at_ms);
    let payload = Measurement::from_readings(DataFormat::Df5, &o.readings).encode();
    o.readings = decode_payload(&payload).unwrap().readings();
    o
}

fn approximate(i: u32, k: i64, at_ms: i64) -> Observation {
    let mac = sensor(i);
    let phase = (k % 8640) as f64 / 8640.0 * std::f64::consts::TAU;
    let raw_t = (4000.0 + 600.0 * phase.sin()).round() + f64::from(i % 7);
    Observation {
        sensor: mac,
        feed: Feed::GatewayPost {
            gateway: Some(MacAddress([0xC8, 0x25, 0x2D, 0x8E, 0x9C, (i % 4) as u8])),
        },
        received_at_ms: at_ms,
        seen_at_s: Some((at_ms / 1000 - 1) as u64),
        rssi: Some(-60 - (k % 30) as i16),
        format: Some(DataFormat::Df5),
        readings: Readings {
            temperature_c: Some(raw_t * 0.005),
            humidity_pct: Some((16_000 + k % 2000) as f64 * 0.0025),
            pressure_pa: Some((50_000 + k % 3000) as f64 + 50_000.0),
            accel_x_g: Some(0.012),
            accel_y_g: Some(-0.076),
            accel_z_g: Some(0.992),
            battery_v: Some(2.95),
            tx_power_dbm: Some(4),
            movement_counter: Some((k / 1000 % 255) as u32),
            measurement_sequence: Some((k % 65_535) as u32),
            mac: Some(mac),
            ..Readings::default()
        },
    }
}

/// Every sensor's history in receive order.
fn history(scale: &Scale) -> impl Iterator<Item = Observation> + '_ {
    let start = END_MS - scale.days * DAY_MS;
    let step = scale.every_s * 1000;
    let rounds = (scale.days * DAY_MS / step).max(0);
    (0..rounds).flat_map(move |k| {
        (0..scale.sensors).map(move |i| {
            // Spread over the interval, as independent sensors are.
            let offset = i64::from(i) * step / i64::from(scale.sensors.max(1));
            observation(i, k, start + k * step + offset)
        })
    })
}

/// The history stored one batch at a time; returns how many and the time spent in `insert`.
fn build(store: &mut SqliteStore, scale: &Scale) -> (u64, Duration) {
    let mut busy = Duration::ZERO;
    let mut n = 0u64;
    let mut all = history(scale);
    loop {
        let batch: Vec<Observation> = all.by_ref().take(BATCH).collect();
        if batch.is_empty() {
            return (n, busy);
        }
        let t = Instant::now();
        store.insert(&batch).unwrap();
        busy += t.elapsed();
        n += batch.len() as u64;
    }
}

/// The median of `runs` timings of `f` (after one warm-up run).
fn time(runs: usize, mut f: impl FnMut()) -> Duration {
    f();
    let mut all: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    all.sort();
    all[all.len() / 2]
}

struct Figures {
    latest: Duration,
    chart_30d: Duration,
    chart_1y: Duration,
    compare: Duration,
    export: Duration,
    exported: usize,
    /// The 24-hour trends of a screenful of cards (48).
    sparklines: Duration,
    /// The same 30 days as an Excel workbook (one sheet, saved to a file).
    xlsx: Duration,
    xlsx_rows: usize,
    /// What a downloaded 10-day log is checked against: one sensor's times over 10 days, from
    /// the key (`times`) and, for comparison, by reading the observations.
    times_10d: Duration,
    times_10d_read: Duration,
    times_count: usize,
}

fn measure(store: &mut SqliteStore, scale: &Scale, dir: &std::path::Path) -> Figures {
    let runs = 9;
    let a = sensor(0);
    let b = sensor(scale.sensors.saturating_sub(1));
    let latest = time(runs, || {
        assert_eq!(store.latest().unwrap().len(), scale.sensors as usize);
    });
    let chart = |store: &mut SqliteStore, s: MacAddress, days: i64| {
        let points =
            ruuvi_dashboard::series(store, s, END_MS - days * DAY_MS, END_MS, 600).unwrap();
        assert!(!points.is_empty() && points.len() <= 600);
    };
    let chart_30d = time(runs, || chart(store, a, 30));
    let chart_1y = time(runs, || chart(store, a, 365));
    let compare = time(runs, || {
        chart(store, a, 30);
        chart(store, b, 30);
    });
    let path = dir.join("export.csv");
    let mut exported = 0;
    let export = time(3, || {
        let file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        let mut file = file;
        exported = store
            .export_csv(
                &Query {
                    sensor: Some(a),
                    from_ms: Some(END_MS - 30 * DAY_MS),
                    to_ms: Some(END_MS),
                    limit: None,
                },
                &mut file,
            )
            .unwrap();
        std::io::Write::flush(&mut file).unwrap();
    });
    let _ = std::fs::remove_file(&path);
    let screenful: Vec<MacAddress> = (0..scale.sensors.min(48)).map(sensor).collect();
    let none = ruuvi_protocol::Calibration::default();
    let sparklines = time(runs, || {
        for s in &screenful {
            let line = ruuvi_dashboard::sparkline(store, *s, END_MS, &none).unwrap();
            assert_eq!(line.hourly.len(), 24);
        }
    });
    let book = dir.join("export.xlsx");
    let mut xlsx_rows = 0;
    let xlsx = time(3, || {
        let mut workbook = ruuvi_dashboard::xlsx::Workbook::new();
        xlsx_rows =
            ruuvi_dashboard::xlsx::export(store, &[a], END_MS - 30 * DAY_MS, END_MS, &mut workbook)
                .unwrap();
        workbook.save(&book).unwrap();
    });
    let _ = std::fs::remove_file(&book);
    let ten_days = (END_MS - 10 * DAY_MS, END_MS);
    let mut times_count = 0;
    let times_10d = time(runs, || {
        times_count = store.times(a, ten_days.0, ten_days.1).unwrap().len();
    });
    let times_10d_read = time(3, || {
        let mut n = 0;
        let range = Query {
            sensor: Some(a),
            from_ms: Some(ten_days.0),
            to_ms: Some(ten_days.1),
            limit: None,
        };
        store
            .each(&range, &mut |o| {
                n += usize::from(o.received_at_ms > 0);
                Ok(())
            })
            .unwrap();
        assert_eq!(n, times_count);
    });
    Figures {
        times_10d,
        times_10d_read,
        times_count,
        latest,
        chart_30d,
        chart_1y,
        compare,
        export,
        exported,
        sparklines,
        xlsx,
        xlsx_rows,
    }
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn ratio(big: Duration, base: Duration) -> String {
    format!("{:.1}×", big.as_secs_f64() / base.as_secs_f64().max(1e-9))
}

fn file_size(path: &std::path::Path) -> u64 {
    ["", "-wal"]
        .iter()
        .filter_map(|s| std::fs::metadata(format!("{}{s}", path.display())).ok())
        .map(|m| m.len())
        .sum()
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --bench history` runs the same code.
    let scale = Scale::from_env();
    let dir = std::env::var_os("RUUVI_HISTORY_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            std::env::temp_dir().join(format!("ruuvi-history-{}", std::process::id()))
        });
    let keep = std::env::var_os("RUUVI_HISTORY_DIR").is_some();
    std::fs::create_dir_all(&dir).unwrap();

    // The baseline: one observation per sensor.
    let base_path = dir.join("baseline.sqlite");
    let _ = std::fs::remove_file(&base_path);
    let mut base = SqliteStore::open(&base_path).unwrap();
    let one_each: Vec<Observation> = (0..scale.sensors)
        .map(|i| observation(i, 0, END_MS - 1000))
        .collect();
    base.insert(&one_each).unwrap();
    let base_scale = Scale {
        sensors: scale.sensors,
        days: 1,
        every_s: 86_400,
    };
    let baseline = measure(&mut base, &base_scale, &dir);

    let name = format!(
        "history-{}x{}x{}.sqlite",
        scale.sensors, scale.days, scale.every_s
    );
    let path = dir.join(name);
    let mut store = SqliteStore::open(&path).unwrap();
    let expected = scale.observations() as u64;
    let mut migration = None;
    // Kept stores lose a few rows to the retention steps below: rebuild only when short.
    let ingest = if store.count().unwrap() < expected - expected / 50 {
        drop(store);
        let _ = std::fs::remove_file(&path);
        let _ = std::fs::remove_file(format!("{}-wal", path.display()));
        if std::env::var_os("RUUVI_HISTORY_MIGRATE").is_some() {
            // Written as the previous version did, then moved on open, as an upgrade does.
            ruuvi_store::testing::write_schema_3(&path, &mut history(&scale)).unwrap();
            let t = Instant::now();
            store = SqliteStore::open(&path).unwrap();
            migration = Some(t.elapsed());
            None
        } else {
            store = SqliteStore::open(&path).unwrap();
            Some(build(&mut store, &scale))
        }
    } else {
        None
    };
    let count = store.count().unwrap();
    let figures = measure(&mut store, &scale, &dir);
    // What ingest waits for while retention runs: one step of the hub's size
    // expiring the oldest hour, and one thinning a day to one observation per 15 minutes.
    let oldest = END_MS - scale.days * DAY_MS;
    let expire = Retention {
        max_history_ms: Some(END_MS - oldest - 3_600_000),
        resolution_ms: None,
        full_resolution_ms: DAY_MS,
    };
    let t = Instant::now();
    let expired = store
        .trim(&expire, END_MS, ruuvi_hub::RETENTION_STEP)
        .unwrap();
    let expire_step = t.elapsed();
    let thin = Retention {
        max_history_ms: None,
        resolution_ms: Some(900_000),
        full_resolution_ms: END_MS - oldest - 2 * DAY_MS,
    };
    let t = Instant::now();
    let thinned = store
        .trim(&thin, END_MS, ruuvi_hub::RETENTION_STEP)
        .unwrap();
    let thin_step = t.elapsed();
    // Checkpointed, so the file holds everything.
    drop(store);
    let bytes = file_size(&path);

    println!(
        "history: {} sensors × {} days every {} s = {count} observations",
        scale.sensors, scale.days, scale.every_s
    );
    if let Some(took) = migration {
        println!(
            "  migration from schema 3: {:.1} s = {:.0} obs/s",
            took.as_secs_f64(),
            count as f64 / took.as_secs_f64()
        );
    }
    if let Some((n, busy)) = ingest {
        println!(
            "  ingest (insert, batches of {BATCH}): {:.0} obs/s",
            n as f64 / busy.as_secs_f64()
        );
    }
    println!(
        "  size on disk: {:.1} bytes per observation ({:.2} GB)",
        bytes as f64 / count.max(1) as f64,
        bytes as f64 / 1e9
    );
    for (what, big, base) in [
        ("latest() of every sensor", figures.latest, baseline.latest),
        (
            "30-day chart (600 points)",
            figures.chart_30d,
            baseline.chart_30d,
        ),
        (
            "1-year chart (600 points)",
            figures.chart_1y,
            baseline.chart_1y,
        ),
        (
            "compare two sensors (30 days)",
            figures.compare,
            baseline.compare,
        ),
        (
            "sparklines of 48 cards (24 h)",
            figures.sparklines,
            baseline.sparklines,
        ),
    ] {
        println!(
            "  {what:32} {:>10}  baseline {:>9}  {}",
            ms(big),
            ms(base),
            ratio(big, base)
        );
    }
    println!(
        "  retention step (≤ {} rows): expire {} rows in {}, thin {} rows in {}",
        ruuvi_hub::RETENTION_STEP,
        expired.expired,
        ms(expire_step),
        thinned.thinned,
        ms(thin_step)
    );
    println!(
        "  30-day CSV export: {} rows in {} = {:.0} rows/s (baseline {})",
        figures.exported,
        ms(figures.export),
        figures.exported as f64 / figures.export.as_secs_f64(),
        ms(baseline.export)
    );
    println!(
        "  30-day XLSX export: {} rows in {} = {:.0} rows/s ({} the CSV's time)",
        figures.xlsx_rows,
        ms(figures.xlsx),
        figures.xlsx_rows as f64 / figures.xlsx.as_secs_f64(),
        ratio(figures.xlsx, figures.export)
    );
    println!(
        "  a 10-day log's check: {} times in {} ({} reading the observations: {})",
        figures.times_count,
        ms(figures.times_10d),
        ms(figures.times_10d_read),
        ratio(figures.times_10d_read, figures.times_10d)
    );
    drop(base);
    if !keep {
        std::fs::remove_dir_all(&dir).unwrap();
    } else {
        let _ = std::fs::remove_file(&base_path);
    }
}
