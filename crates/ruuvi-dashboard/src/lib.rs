//! What the dashboard shows, independent of how it reaches the screen (Tauri IPC or
//! `ruuvictl serve --ui`): a card per sensor made from its latest observation, and chart series
//! from the store, thinned to what a chart can draw.

use ruuvi_protocol::derived::Derived;
use ruuvi_protocol::{
    Calibration, DataFormat, Feed, MacAddress, Observation, Profiles, Readings, SensorProfile,
};
use ruuvi_store::{Gather, Level, ObservationStore, Query, Stats, StoreError};
use serde::Serialize;

/// Which device it is, from the format it sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum SensorKind {
    RuuviTag,
    RuuviAir,
}

impl SensorKind {
    pub fn of(format: Option<DataFormat>) -> Self {
        match format {
            Some(DataFormat::Df6 | DataFormat::E1) => SensorKind::RuuviAir,
            _ => SensorKind::RuuviTag,
        }
    }
}

/// One sensor on the dashboard, its values calibrated.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct SensorCard {
    pub sensor: MacAddress,
    /// The owner's name for it, or the default one ("Ruuvi 4C88").
    pub name: String,
    /// Whether `name` was given by the owner.
    pub named: bool,
    pub location: String,
    pub note: String,
    pub calibration: Calibration,
    pub kind: SensorKind,
    pub format: Option<DataFormat>,
    /// Where the latest observation came from, for people: "Bluetooth", "gateway C8:…".
    pub source: String,
    pub feed: Feed,
    pub last_seen_ms: i64,
    pub rssi: Option<i16>,
    /// As shown: the calibration applied.
    pub readings: Readings,
    /// As measured, when a calibration changed them.
    pub measured: Option<Readings>,
    /// Dew point, absolute humidity, … (from the calibrated values) and the air-quality score
    /// (IAQS) of a Ruuvi Air.
    pub derived: Derived,
}

fn source(feed: &Feed) -> String {
    match feed {
        Feed::Ble => "Bluetooth".to_string(),
        Feed::BleHistory => "Bluetooth (the sensor's log)".to_string(),
        Feed::GatewayPost { gateway: Some(g) } => format!("gateway {g}"),
        Feed::GatewayHistory { gateway: Some(g) } => format!("gateway {g} (polled)"),
        Feed::GatewayMqtt { gateway: Some(g) } => format!("gateway {g} (MQTT)"),
        Feed::GatewayPost { gateway: None }
        | Feed::GatewayHistory { gateway: None }
        | Feed::GatewayMqtt { gateway: None } => "a gateway".to_string(),
    }
}

impl SensorCard {
    /// The card of `o`, named and calibrated by its sensor's profile (if it has one).
    pub fn from_observation(o: &Observation, profile: Option<&SensorProfile>) -> Self {
        let blank = SensorProfile::new(o.sensor);
        let profile = profile.unwrap_or(&blank);
        let calibration = profile.calibration;
        let readings = calibration.applied(&o.readings);
        SensorCard {
            sensor: o.sensor,
            name: profile.display_name(),
            named: !profile.name.is_empty(),
            location: profile.location.clone(),
            note: profile.note.clone(),
            calibration,
            kind: SensorKind::of(o.format),
            format: o.format,
            source: source(&o.feed),
            feed: o.feed.clone(),
            last_seen_ms: o.received_at_ms,
            rssi: o.rssi,
            derived: Derived::from_readings(&readings),
            measured: (readings != o.readings).then(|| o.readings.clone()),
            readings,
        }
    }
}

/// The dashboard's first paint: every sensor's card, and whether it is demo data.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct Dashboard {
    /// Demo gateways run now: the UI labels the data.
    pub demo: bool,
    /// The first-run guide may offer "Show demo data".
    pub demo_available: bool,
    pub cards: Vec<SensorCard>,
}

/// Cards for the latest observations, sorted by sensor.
pub fn cards(latest: &[Observation], profiles: &Profiles) -> Vec<SensorCard> {
    let mut cards: Vec<SensorCard> = latest
        .iter()
        .map(|o| SensorCard::from_observation(o, profiles.get(o.sensor).as_ref()))
        .collect();
    // Byte order is the order of the upper-case text form: no strings needed.
    cards.sort_by_key(|c| c.sensor);
    cards
}

/// One point of a chart: the mean of what was measured in its stretch of time, and the
/// spread (lowest and highest) when it holds more than one observation.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct Point {
    /// The first observation's time (from raw rows), or the first rolled-up bucket's start.
    pub at_ms: i64,
    pub readings: Readings,
    pub low: Option<Readings>,
    pub high: Option<Readings>,
}

impl Point {
    /// Applies a sensor's offsets to the mean and the spread.
    pub fn calibrate(&mut self, c: &Calibration) {
        c.apply_to(&mut self.readings);
        for r in [self.low.as_mut(), self.high.as_mut()]
            .into_iter()
            .flatten()
        {
            c.apply_to(r);
        }
    }
}

/// A chart's data: one sensor's points.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct Series {
    pub sensor: MacAddress,
    pub points: Vec<Point>,
}

/// Charts of spans up to this read raw rows; up to [`HOURLY_UP_TO_MS`] hourly statistics;
/// beyond, daily ones. Each reads at most a few thousand rows whatever the history holds.
pub mod xlsx;

pub const RAW_UP_TO_MS: i64 = 2 * 86_400_000;
pub const HOURLY_UP_TO_MS: i64 = 120 * 86_400_000;

/// A chart point being gathered.
struct Gathering {
    at_ms: i64,
    /// The first observation's readings (raw rows), for counters and flags.
    first: Option<Readings>,
    stats: Stats,
}

impl Gathering {
    fn point(self) -> Point {
        let spread = self.stats.count > 1;
        Point {
            at_ms: self.at_ms,
            readings: match self.first {
                Some(first) => self.stats.mean_onto(first),
                None => self.stats.mean(),
            },
            low: spread.then(|| self.stats.min()),
            high: spread.then(|| self.stats.max()),
        }
    }
}

/// A sensor's history in `[from_ms, to_ms)` as at most `max_points` points: the range is cut
/// into that many equal buckets, each point the mean (with low and high) of its bucket —
/// from raw rows for short spans, from the store's hourly or daily statistics for long ones.
pub fn series(
    store: &mut dyn ObservationStore,
    sensor: MacAddress,
    from_ms: i64,
    to_ms: i64,
    max_points: usize,
) -> Result<Vec<Point>, StoreError> {
    // In i128: the range comes from the UI (any two i64), and a bucket index multiplies by the
    // point count.
    let span = (i128::from(to_ms) - i128::from(from_ms)).max(1);
    let buckets = max_points.max(1) as i128;
    let bucket_of = |at: i64| (i128::from(at.max(from_ms)) - i128::from(from_ms)) * buckets / span;
    let mut out: Vec<Point> = Vec::new();
    let mut emit = |_, g: Gathering| out.push(g.point());
    let mut gather = Gather::default();
    let mut take = |at_ms: i64, first: Option<&Readings>, stats: &Stats| {
        gather
            .group(bucket_of(at_ms), &mut emit, |_| Gathering {
                at_ms,
                first: first.cloned(),
                stats: Stats::default(),
            })
            .stats
            .merge(stats);
    };
    if span <= i128::from(RAW_UP_TO_MS) {
        let range = Query {
            sensor: Some(sensor),
            from_ms: Some(from_ms),
            to_ms: Some(to_ms),
            limit: None,
        };
        store.each(&range, &mut |o| {
            let mut one = Stats::default();
            one.add(&o.readings);
            take(o.received_at_ms, Some(&o.readings), &one);
            Ok(())
        })?;
    } else {
        let level = if span <= i128::from(HOURLY_UP_TO_MS) {
            Level::Hour
        } else {
            Level::Day
        };
        store.buckets(sensor, from_ms, to_ms, level, &mut |b| {
            take(b.start_ms, None, &b.stats)
        })?;
    }
    gather.finish(&mut emit);
    Ok(out)
}

/// A card's trend: the last 24 hours' hourly mean temperatures (calibrated), oldest first,
/// `None` for an hour without one. From the store's hourly statistics: a few dozen rows per
/// sensor whatever the history holds.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct Sparkline {
    pub sensor: MacAddress,
    /// Where the first hour starts (Unix ms).
    pub from_ms: i64,
    pub hourly: Vec<Option<f64>>,
}

pub const SPARKLINE_HOURS: usize = 24;

pub fn sparkline(
    store: &mut dyn ObservationStore,
    sensor: MacAddress,
    now_ms: i64,
    calibration: &Calibration,
) -> Result<Sparkline, StoreError> {
    let hour = Level::Hour.width_ms();
    // The current hour is the last one, however far into it we are.
    let from_ms = Level::Hour.bucket_of(now_ms) - (SPARKLINE_HOURS as i64 - 1) * hour;
    let mut hourly = vec![None; SPARKLINE_HOURS];
    store.buckets(
        sensor,
        from_ms,
        now_ms.saturating_add(1),
        Level::Hour,
        &mut |b| {
            let at = (b.start_ms - from_ms).div_euclid(hour);
            if let Some(slot) = usize::try_from(at).ok().and_then(|i| hourly.get_mut(i)) {
                *slot = calibration.applied(&b.stats.mean()).temperature_c;
            }
        },
    )?;
    Ok(Sparkline {
        sensor,
        from_ms,
        hourly,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(sensor: &str, at: i64, format: DataFormat, feed: Feed) -> Observation {
        Observation {
            sensor: sensor.parse().unwrap(),
            feed,
            received_at_ms: at,
            seen_at_s: None,
            rssi: Some(-71),
            format: Some(format),
            readings: Readings {
                temperature_c: Some(20.0),
                humidity_pct: Some(50.0),
                pm2_5: Some(5.0),
                co2_ppm: Some(500.0),
                ..Readings::default()
            },
        }
    }

    #[test]
    fn cards_say_kind_source_and_air_quality() {
        let gw: MacAddress = "C8:25:2D:8E:9C:2C".parse().unwrap();
        let profiles = Profiles::default();
        profiles.set(SensorProfile {
            name: "Olohuone".into(),
            location: "Koti".into(),
            calibration: Calibration {
                temperature_c: 1.0,
                humidity_pct: -10.0,
                pressure_pa: 0.0,
            },
            ..SensorProfile::new("BB:00:00:00:00:02".parse().unwrap())
        });
        let c = cards(
            &[
                obs("BB:00:00:00:00:02", 5, DataFormat::E1, Feed::Ble),
                obs(
                    "AA:00:00:00:00:01",
                    7,
                    DataFormat::Df5,
                    Feed::GatewayPost { gateway: Some(gw) },
                ),
            ],
            &profiles,
        );
        // Named and calibrated; the values as measured kept beside.
        assert_eq!((c[1].name.as_str(), c[1].named), ("Olohuone", true));
        assert_eq!(c[1].location, "Koti");
        assert_eq!(c[1].readings.temperature_c, Some(21.0));
        assert_eq!(c[1].readings.humidity_pct, Some(40.0));
        let dew = |t: f64, h: f64| {
            Derived::from_readings(&Readings {
                temperature_c: Some(t),
                humidity_pct: Some(h),
                ..Readings::default()
            })
            .dew_point
        };
        assert_eq!(
            c[1].derived.dew_point,
            dew(21.0, 40.0),
            "derived from calibrated"
        );
        assert_eq!(c[1].measured.as_ref().unwrap().temperature_c, Some(20.0));
        // Without a profile: the default name and nothing measured apart.
        assert_eq!((c[0].name.as_str(), c[0].named), ("Ruuvi 0001", false));
        assert!(c[0].measured.is_none());
        assert_eq!(c[0].sensor.to_string(), "AA:00:00:00:00:01");
        assert_eq!(
            (c[0].kind, c[0].source.as_str()),
            (SensorKind::RuuviTag, "gateway C8:25:2D:8E:9C:2C")
        );
        assert_eq!(
            (c[1].kind, c[1].source.as_str()),
            (SensorKind::RuuviAir, "Bluetooth")
        );
        assert!(c[1].derived.iaqs.is_some());
        assert!(c[1].derived.dew_point.is_some());
        let json = serde_json::to_value(&c[1]).unwrap();
        assert_eq!(json["kind"], "ruuvi_air");
        assert_eq!(json["last_seen_ms"], 5);
    }

    #[test]
    fn a_sparkline_has_the_last_24_hours_calibrated_with_gaps() {
        let mut store = ruuvi_store::SqliteStore::open_in_memory().unwrap();
        let sensor: MacAddress = "AA:00:00:00:00:01".parse().unwrap();
        let hour = 3_600_000;
        let now = 100 * hour + 1_800_000;
        // Two days of one observation an hour, but none 5 hours ago.
        let rows: Vec<Observation> = (50..=100)
            .filter(|h| *h != 95)
            .map(|h| {
                let mut o = obs(
                    "AA:00:00:00:00:01",
                    h * hour + 60_000,
                    DataFormat::Df5,
                    Feed::Ble,
                );
                o.readings.temperature_c = Some(h as f64);
                o
            })
            .collect();
        store.insert(&rows).unwrap();
        let c = Calibration {
            temperature_c: -0.5,
            ..Calibration::default()
        };
        let s = sparkline(&mut store, sensor, now, &c).unwrap();
        assert_eq!(s.from_ms, 77 * hour);
        assert_eq!(s.hourly.len(), 24);
        assert_eq!(s.hourly[0], Some(76.5));
        assert_eq!(s.hourly[23], Some(99.5), "the current hour");
        assert_eq!(s.hourly[95 - 77], None, "the hour without data");
        let none = sparkline(&mut store, "BB:00:00:00:00:02".parse().unwrap(), now, &c).unwrap();
        assert!(none.hourly.iter().all(Option::is_none));
    }

    #[test]
    fn series_takes_any_range_without_overflow() {
        let mut store = ruuvi_store::SqliteStore::open_in_memory().unwrap();
        let sensor: MacAddress = "AA:00:00:00:00:01".parse().unwrap();
        store
            .insert(&[obs("AA:00:00:00:00:01", 5_000, DataFormat::Df5, Feed::Ble)])
            .unwrap();
        for (from, to) in [(i64::MIN, i64::MAX), (i64::MAX, i64::MIN), (0, i64::MAX)] {
            let points = series(&mut store, sensor, from, to, 5000).unwrap();
            assert!(points.len() <= 1, "{from}..{to}");
        }
    }

    #[test]
    fn series_is_thinned_to_the_points_a_chart_can_draw() {
        let mut store = ruuvi_store::SqliteStore::open_in_memory().unwrap();
        let rows: Vec<Observation> = (0..1000)
            .map(|i| obs("AA:00:00:00:00:01", i * 1000, DataFormat::Df5, Feed::Ble))
            .collect();
        store.insert(&rows).unwrap();
        let sensor = "AA:00:00:00:00:01".parse().unwrap();
        let thin = series(&mut store, sensor, 0, 1_000_000, 100).unwrap();
        assert_eq!(thin.len(), 100);
        assert_eq!(thin[1].at_ms, 10_000, "the first of each 10 s bucket");
        let window = series(&mut store, sensor, 5_000, 8_000, 100).unwrap();
        assert_eq!(
            window.iter().map(|p| p.at_ms).collect::<Vec<_>>(),
            [5_000, 6_000, 7_000]
        );
        assert!(
            series(&mut store, "BB:00:00:00:00:02".parse().unwrap(), 0, 10, 10)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn long_ranges_come_from_statistics_with_their_spread() {
        let mut store = ruuvi_store::SqliteStore::open_in_memory().unwrap();
        let sensor: MacAddress = "AA:00:00:00:00:01".parse().unwrap();
        // Ten days, one observation a minute; the temperature swings 10..30 every day.
        let minute = 60_000;
        let rows: Vec<Observation> = (0..10 * 1440)
            .map(|i| {
                let mut o = obs("AA:00:00:00:00:01", i * minute, DataFormat::Df5, Feed::Ble);
                o.readings.temperature_c = Some(10.0 + (i % 1440) as f64 / 72.0);
                o
            })
            .collect();
        store.insert(&rows).unwrap();
        let days = series(&mut store, sensor, 0, 10 * 86_400_000, 10).unwrap();
        assert_eq!(
            days.len(),
            10,
            "one point a day, from the hourly statistics"
        );
        for (d, p) in days.iter().enumerate() {
            assert_eq!(p.at_ms, d as i64 * 86_400_000);
            let day: Vec<f64> = rows[d * 1440..(d + 1) * 1440]
                .iter()
                .map(|o| o.readings.temperature_c.unwrap())
                .collect();
            let low = p.low.as_ref().unwrap().temperature_c.unwrap();
            let high = p.high.as_ref().unwrap().temperature_c.unwrap();
            assert_eq!(low, day.iter().cloned().fold(f64::MAX, f64::min));
            assert_eq!(high, day.iter().cloned().fold(f64::MIN, f64::max));
            let mean = day.iter().sum::<f64>() / day.len() as f64;
            assert!((p.readings.temperature_c.unwrap() - mean).abs() < 1e-9);
        }
        // A year's span reads the daily statistics: the same ten days.
        let year = series(&mut store, sensor, 0, 365 * 86_400_000, 365).unwrap();
        assert_eq!(year.len(), 10);
        assert_eq!(year[3].low, days[3].low);
    }
}
