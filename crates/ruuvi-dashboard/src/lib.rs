//! What the dashboard shows, independent of how it reaches the screen (Tauri IPC or
//! `ruuvictl serve --ui`): a card per sensor made from its latest observation, and chart series
//! from the store, thinned to what a chart can draw.

use ruuvi_protocol::derived::Derived;
use ruuvi_protocol::{DataFormat, Feed, MacAddress, Observation, Readings};
use ruuvi_store::{ObservationStore, Query, StoreError};
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

/// One sensor on the dashboard.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct SensorCard {
    pub sensor: MacAddress,
    pub kind: SensorKind,
    pub format: Option<DataFormat>,
    /// Where the latest observation came from, for people: "Bluetooth", "gateway C8:…".
    pub source: String,
    pub feed: Feed,
    pub last_seen_ms: i64,
    pub rssi: Option<i16>,
    pub readings: Readings,
    /// Dew point, absolute humidity, … and the air-quality score (IAQS) of a Ruuvi Air.
    pub derived: Derived,
}

fn source(feed: &Feed) -> String {
    match feed {
        Feed::Ble => "Bluetooth".to_string(),
        Feed::GatewayPost { gateway: Some(g) } => format!("gateway {g}"),
        Feed::GatewayHistory { gateway: Some(g) } => format!("gateway {g} (polled)"),
        Feed::GatewayMqtt { gateway: Some(g) } => format!("gateway {g} (MQTT)"),
        Feed::GatewayPost { gateway: None }
        | Feed::GatewayHistory { gateway: None }
        | Feed::GatewayMqtt { gateway: None } => "a gateway".to_string(),
    }
}

impl SensorCard {
    pub fn from_observation(o: &Observation) -> Self {
        SensorCard {
            sensor: o.sensor,
            kind: SensorKind::of(o.format),
            format: o.format,
            source: source(&o.feed),
            feed: o.feed.clone(),
            last_seen_ms: o.received_at_ms,
            rssi: o.rssi,
            derived: Derived::from_readings(&o.readings),
            readings: o.readings.clone(),
        }
    }
}

/// The dashboard's first paint: every sensor's card, and whether it is demo data.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct Dashboard {
    pub demo: bool,
    pub cards: Vec<SensorCard>,
}

/// Cards for the latest observations, sorted by sensor.
pub fn cards(latest: &[Observation]) -> Vec<SensorCard> {
    let mut cards: Vec<SensorCard> = latest.iter().map(SensorCard::from_observation).collect();
    // Byte order is the order of the upper-case text form: no strings needed.
    cards.sort_by_key(|c| c.sensor);
    cards
}

/// One point of a chart.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct Point {
    pub at_ms: i64,
    pub readings: Readings,
}

/// A chart's data: one sensor's points.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct Series {
    pub sensor: MacAddress,
    pub points: Vec<Point>,
}

/// A sensor's observations in `[from_ms, to_ms)`, at most `max_points` of them: the range is
/// cut into that many equal buckets and the first observation of each is kept.
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
    let mut out: Vec<Point> = Vec::new();
    let mut last_bucket = None;
    let range = Query {
        sensor: Some(sensor),
        from_ms: Some(from_ms),
        to_ms: Some(to_ms),
        limit: None,
    };
    store.each(&range, &mut |o| {
        let bucket = (i128::from(o.received_at_ms) - i128::from(from_ms)) * buckets / span;
        if last_bucket != Some(bucket) {
            last_bucket = Some(bucket);
            out.push(Point {
                at_ms: o.received_at_ms,
                readings: o.readings,
            });
        }
        Ok(())
    })?;
    Ok(out)
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
        let c = cards(&[
            obs("BB:00:00:00:00:02", 5, DataFormat::E1, Feed::Ble),
            obs(
                "AA:00:00:00:00:01",
                7,
                DataFormat::Df5,
                Feed::GatewayPost { gateway: Some(gw) },
            ),
        ]);
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
}
