//! Importing history: our own CSV and JSON-lines exports (an export imported into an empty
//! store exports identically) and Ruuvi Station's CSV export. Rows already stored (the same
//! observation of the same sensor at the same time) are skipped, so importing a file twice
//! stores it once. A line that cannot be read stops the import with its number; what was
//! stored before it stays.
//!
//! Ruuvi Station's layout is the one of its Android app's `CsvExporter` (the 1.x–2.x app:
//! `timestamp,temperature (°C),humidity (%),pressure (hPa),rssi[,acceleration x,acceleration
//! y,acceleration z,voltage][,movement counter,measurement sequence number]`, times as
//! `yyyy-MM-dd'T'HH:mm:ssZ`, units as the user chose them). The file does not name the
//! sensor (its file name may: `<MAC>_<date>.csv`), so the caller says which sensor it is.

use std::collections::HashMap;
use std::io::BufRead;

use ruuvi_protocol::{DataFormat, Feed, MacAddress, Observation, Readings};

use crate::{ObservationStore, Query, StoreError};

/// Rows stored per transaction.
const BATCH: usize = 5_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportFormat {
    /// Our CSV export (`ruuvictl export`, the app's CSV button).
    Csv,
    /// Our JSON-lines export.
    JsonLines,
    /// Ruuvi Station's CSV export of one sensor.
    Station { sensor: MacAddress },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ImportReport {
    /// Observations read from the file.
    pub read: usize,
    pub stored: usize,
    /// Already in the store (or twice in the file).
    pub skipped: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("line {line}: {reason}")]
    Line { line: usize, reason: String },
    #[error("reading the file: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The format a file's first line says it is in (`None`: not one we read).
pub fn detect(first_line: &str) -> Option<ImportFormatKind> {
    let line = first_line.trim_start_matches('\u{feff}').trim();
    if line.starts_with('{') {
        Some(ImportFormatKind::JsonLines)
    } else if line.starts_with("sensor,received_at_ms,") {
        Some(ImportFormatKind::Csv)
    } else if line.starts_with("timestamp,temperature (") {
        Some(ImportFormatKind::Station)
    } else {
        None
    }
}

/// [`ImportFormat`] without the sensor Ruuvi Station's files leave out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportFormatKind {
    Csv,
    JsonLines,
    Station,
}

/// A MAC at the start of a Ruuvi Station export's file name (`C8:25:…_210304-1200.csv`, or
/// without colons).
pub fn sensor_in_file_name(name: &str) -> Option<MacAddress> {
    let stem = name.split('_').next()?;
    stem.parse().ok().or_else(|| {
        (stem.len() == 12)
            .then(|| {
                let pairs: Vec<&str> = (0..6).map(|i| &stem[i * 2..i * 2 + 2]).collect();
                pairs.join(":").parse().ok()
            })
            .flatten()
    })
}

/// Reads one line (its number, its text): an observation, nothing (a header or a blank
/// line), or why not.
type LineParser = dyn FnMut(usize, &str) -> Result<Option<Observation>, String>;

/// Reads `input` in `format` into `store`; `progress` is told how many rows were read so far
/// after every batch.
pub fn import(
    store: &mut dyn ObservationStore,
    input: &mut dyn BufRead,
    format: ImportFormat,
    progress: &mut dyn FnMut(&ImportReport),
) -> Result<ImportReport, ImportError> {
    let mut report = ImportReport::default();
    let mut parse: Box<LineParser> = match format {
        ImportFormat::JsonLines => Box::new(|_, line: &str| {
            if line.trim().is_empty() {
                return Ok(None);
            }
            serde_json::from_str(line)
                .map(Some)
                .map_err(|e| e.to_string())
        }),
        ImportFormat::Csv => {
            let mut columns: Option<OurColumns> = None;
            Box::new(move |number, line: &str| match &columns {
                None if number == 1 => {
                    columns = Some(OurColumns::from_header(line)?);
                    Ok(None)
                }
                None => unreachable!("the header is line 1"),
                Some(c) if line.trim().is_empty() => {
                    let _ = c;
                    Ok(None)
                }
                Some(c) => c.row(line).map(Some),
            })
        }
        ImportFormat::Station { sensor } => {
            let mut columns: Option<StationColumns> = None;
            Box::new(move |number, line: &str| match &columns {
                None if number == 1 => {
                    columns = Some(StationColumns::from_header(line)?);
                    Ok(None)
                }
                None => unreachable!("the header is line 1"),
                Some(_) if line.trim().is_empty() => Ok(None),
                Some(c) => c.row(sensor, line).map(Some),
            })
        }
    };
    let mut batch = Vec::with_capacity(BATCH);
    let mut line = String::new();
    let mut number = 0;
    loop {
        line.clear();
        if input.read_line(&mut line)? == 0 {
            break;
        }
        number += 1;
        let text = line.trim_end_matches(['\n', '\r']);
        let text = if number == 1 {
            text.trim_start_matches('\u{feff}')
        } else {
            text
        };
        match parse(number, text) {
            Ok(Some(o)) => batch.push(o),
            Ok(None) => {}
            Err(reason) => {
                store_new(store, &mut batch, &mut report)?;
                return Err(ImportError::Line {
                    line: number,
                    reason,
                });
            }
        }
        if batch.len() == BATCH {
            store_new(store, &mut batch, &mut report)?;
            progress(&report);
        }
    }
    store_new(store, &mut batch, &mut report)?;
    progress(&report);
    Ok(report)
}

/// Stores what of `batch` is not stored yet.
fn store_new(
    store: &mut dyn ObservationStore,
    batch: &mut Vec<Observation>,
    report: &mut ImportReport,
) -> Result<(), StoreError> {
    if batch.is_empty() {
        return Ok(());
    }
    report.read += batch.len();
    let mut by_sensor: HashMap<MacAddress, (i64, i64)> = HashMap::new();
    for o in batch.iter() {
        let span = by_sensor
            .entry(o.sensor)
            .or_insert((o.received_at_ms, o.received_at_ms));
        span.0 = span.0.min(o.received_at_ms);
        span.1 = span.1.max(o.received_at_ms);
    }
    let mut stored: HashMap<(MacAddress, i64), Vec<Observation>> = HashMap::new();
    for (sensor, (from, to)) in by_sensor {
        store.each(
            &Query {
                sensor: Some(sensor),
                from_ms: Some(from),
                to_ms: Some(to.saturating_add(1)),
                limit: None,
            },
            &mut |o| {
                stored
                    .entry((o.sensor, o.received_at_ms))
                    .or_default()
                    .push(o);
                Ok(())
            },
        )?;
    }
    let mut new = Vec::with_capacity(batch.len());
    for o in batch.drain(..) {
        let same = stored.entry((o.sensor, o.received_at_ms)).or_default();
        if same.contains(&o) {
            report.skipped += 1;
        } else {
            same.push(o.clone());
            new.push(o);
        }
    }
    let kept = store.insert(&new)?;
    let stored_now = kept.iter().filter(|k| **k).count();
    report.stored += stored_now;
    report.skipped += kept.len() - stored_now;
    Ok(())
}

/// Our CSV's columns, by header name.
struct OurColumns {
    names: Vec<String>,
}

impl OurColumns {
    fn from_header(line: &str) -> Result<Self, String> {
        let names: Vec<String> = line.split(',').map(str::to_string).collect();
        for required in ["sensor", "received_at_ms", "feed"] {
            if !names.iter().any(|n| n == required) {
                return Err(format!("no {required} column"));
            }
        }
        let known = crate::csv::column_names();
        if let Some(unknown) = names.iter().find(|n| !known.contains(&n.as_str())) {
            return Err(format!("unknown column {unknown:?}"));
        }
        Ok(Self { names })
    }

    fn row(&self, line: &str) -> Result<Observation, String> {
        let owned = crate::csv::split_cells(line);
        let cells: Vec<&str> = owned.iter().map(|c| c.as_ref()).collect();
        if cells.len() != self.names.len() {
            return Err(format!(
                "{} cells where the header has {}",
                cells.len(),
                self.names.len()
            ));
        }
        crate::csv::parse_row(&self.names, &cells)
    }
}

/// Ruuvi Station's columns and the units its header names.
struct StationColumns {
    names: Vec<String>,
    temperature: fn(f64) -> f64,
    pressure: fn(f64) -> f64,
}

impl StationColumns {
    fn from_header(line: &str) -> Result<Self, String> {
        let names: Vec<String> = line.split(',').map(|s| s.trim().to_string()).collect();
        let unit = |prefix: &str| -> Result<String, String> {
            names
                .iter()
                .find_map(|n| {
                    n.strip_prefix(prefix)
                        .and_then(|u| u.strip_prefix(" ("))
                        .and_then(|u| u.strip_suffix(')'))
                })
                .map(str::to_string)
                .ok_or_else(|| format!("no {prefix} column"))
        };
        let temperature: fn(f64) -> f64 = match unit("temperature")?.as_str() {
            "°C" | "C" => |v| v,
            "°F" | "F" => |v| (v - 32.0) * 5.0 / 9.0,
            "K" => |v| v - 273.15,
            other => return Err(format!("temperature in {other:?}: °C, °F or K")),
        };
        match unit("humidity")?.as_str() {
            "%" | "%RH" => {}
            other => {
                return Err(format!(
                    "humidity in {other:?} cannot be turned back into relative humidity: export it from Ruuvi Station in %"
                ))
            }
        }
        let pressure: fn(f64) -> f64 = match unit("pressure")?.as_str() {
            "hPa" | "mbar" => |v| v * 100.0,
            "Pa" => |v| v,
            "mmHg" => |v| v * 133.322_387_415,
            "inHg" => |v| v * 3_386.388_666_6,
            other => return Err(format!("pressure in {other:?}: hPa, Pa, mmHg or inHg")),
        };
        Ok(Self {
            names,
            temperature,
            pressure,
        })
    }

    fn row(&self, sensor: MacAddress, line: &str) -> Result<Observation, String> {
        let cells: Vec<&str> = line.split(',').map(str::trim).collect();
        if cells.len() != self.names.len() {
            return Err(format!(
                "{} cells where the header has {}",
                cells.len(),
                self.names.len()
            ));
        }
        let mut r = Readings::default();
        let mut at_ms = None;
        let mut rssi = None;
        for (name, cell) in self.names.iter().zip(&cells) {
            let number = || -> Result<Option<f64>, String> {
                match *cell {
                    "" | "null" | "NaN" => Ok(None),
                    v => v
                        .parse::<f64>()
                        .map(Some)
                        .map_err(|_| format!("{name}: {v:?} is not a number")),
                }
            };
            let whole = |v: Option<f64>| v.map(|v| v.round() as u32);
            match name.as_str() {
                "timestamp" => at_ms = Some(parse_station_time(cell)?),
                n if n.starts_with("temperature") => {
                    r.temperature_c = number()?.map(self.temperature)
                }
                n if n.starts_with("humidity") => r.humidity_pct = number()?,
                n if n.starts_with("pressure") => r.pressure_pa = number()?.map(self.pressure),
                "rssi" => rssi = number()?.map(|v| v as i16),
                "acceleration x" => r.accel_x_g = number()?,
                "acceleration y" => r.accel_y_g = number()?,
                "acceleration z" => r.accel_z_g = number()?,
                "voltage" => r.battery_v = number()?,
                "movement counter" => r.movement_counter = whole(number()?),
                "measurement sequence number" => r.measurement_sequence = whole(number()?),
                other => return Err(format!("unknown column {other:?}")),
            }
        }
        let has = |n: &str| self.names.iter().any(|c| c == n);
        Ok(Observation {
            sensor,
            feed: Feed::Ble,
            received_at_ms: at_ms.ok_or("no timestamp")?,
            seen_at_s: None,
            rssi,
            format: if has("movement counter") {
                Some(DataFormat::Df5)
            } else if has("voltage") {
                Some(DataFormat::Df3)
            } else {
                None
            },
            readings: r,
        })
    }
}

/// `2021-03-04T12:34:56+0200` (Java's `yyyy-MM-dd'T'HH:mm:ssZ`; `Z`, `+02:00` also read).
fn parse_station_time(text: &str) -> Result<i64, String> {
    let bad = || format!("timestamp {text:?}: expected 2021-03-04T12:34:56+0200");
    let (date, rest) = text.split_once('T').ok_or_else(bad)?;
    let (time, offset) = if let Some(t) = rest.strip_suffix('Z') {
        (t, 0)
    } else {
        let at = rest.rfind(['+', '-']).ok_or_else(bad)?;
        let (t, o) = rest.split_at(at);
        let sign = if o.starts_with('-') { -1 } else { 1 };
        let digits: String = o[1..].chars().filter(|c| *c != ':').collect();
        if digits.len() != 4 {
            return Err(bad());
        }
        let hours: i64 = digits[..2].parse().map_err(|_| bad())?;
        let minutes: i64 = digits[2..].parse().map_err(|_| bad())?;
        (t, sign * (hours * 3600 + minutes * 60))
    };
    let numbers = |s: &str, sep: char| -> Result<Vec<i64>, String> {
        s.split(sep)
            .map(|p| p.parse::<i64>().map_err(|_| bad()))
            .collect()
    };
    let d = numbers(date, '-')?;
    let t = numbers(time, ':')?;
    if d.len() != 3 || t.len() != 3 || !(1..=12).contains(&d[1]) || !(1..=31).contains(&d[2]) {
        return Err(bad());
    }
    if t[0] > 23 || t[1] > 59 || t[2] > 60 {
        return Err(bad());
    }
    let days = days_from_civil(d[0], d[1], d[2]);
    Ok((days * 86_400 + t[0] * 3600 + t[1] * 60 + t[2] - offset) * 1000)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SqliteStore;

    fn observations() -> Vec<Observation> {
        let gw = MacAddress([0xC8, 0x25, 0x2D, 0x8E, 0x9C, 0x2C]);
        (0..12_000)
            .map(|i: i64| Observation {
                sensor: MacAddress([0xAA, 0, 0, 0, 0, (i % 3) as u8]),
                feed: match i % 4 {
                    0 => Feed::Ble,
                    1 => Feed::GatewayPost { gateway: Some(gw) },
                    2 => Feed::GatewayMqtt { gateway: None },
                    _ => Feed::GatewayHistory { gateway: Some(gw) },
                },
                received_at_ms: 1_700_000_000_000 + i * 1_000,
                seen_at_s: (i % 2 == 0).then_some(1_700_000_000 + i as u64),
                rssi: Some(-50 - (i % 40) as i16),
                format: Some(if i % 5 == 0 {
                    DataFormat::E1
                } else {
                    DataFormat::Df5
                }),
                readings: Readings {
                    temperature_c: Some(20.0 + i as f64 * 0.001),
                    humidity_pct: (i % 7 != 0).then_some(40.125),
                    pressure_pa: Some(100_000.0 + i as f64),
                    co2_ppm: (i % 5 == 0).then_some(612.0),
                    measurement_sequence: Some(i as u32),
                    button_pressed: (i % 9 == 0).then_some(true),
                    mac_suffix: (i % 11 == 0).then_some([1, 2, 3]),
                    ..Readings::default()
                },
            })
            .collect()
    }

    fn export(store: &mut SqliteStore, csv: bool) -> Vec<u8> {
        let mut out = Vec::new();
        if csv {
            store.export_csv(&Query::default(), &mut out).unwrap();
        } else {
            store.export_json(&Query::default(), &mut out).unwrap();
        }
        out
    }

    #[test]
    fn our_exports_round_trip_and_a_second_import_stores_nothing() {
        let mut original = SqliteStore::open_in_memory().unwrap();
        original.insert(&observations()).unwrap();
        for (csv, format) in [(true, ImportFormat::Csv), (false, ImportFormat::JsonLines)] {
            let exported = export(&mut original, csv);
            let first = std::str::from_utf8(&exported[..40]).unwrap();
            assert_eq!(
                detect(first),
                Some(if csv {
                    ImportFormatKind::Csv
                } else {
                    ImportFormatKind::JsonLines
                })
            );
            let mut copy = SqliteStore::open_in_memory().unwrap();
            let mut progress = Vec::new();
            let report = import(&mut copy, &mut &exported[..], format, &mut |r| {
                progress.push(r.read)
            })
            .unwrap();
            assert_eq!(
                report,
                ImportReport {
                    read: 12_000,
                    stored: 12_000,
                    skipped: 0
                }
            );
            assert_eq!(progress, [5_000, 10_000, 12_000]);
            assert_eq!(export(&mut copy, csv), exported, "export → import → export");
            let again = import(&mut copy, &mut &exported[..], format, &mut |_| {}).unwrap();
            assert_eq!((again.stored, again.skipped), (0, 12_000));
            assert_eq!(copy.count().unwrap(), 12_000);
        }
    }

    #[test]
    fn a_bad_line_is_named_and_what_came_before_it_is_kept() {
        let mut original = SqliteStore::open_in_memory().unwrap();
        original.insert(&observations()[..10]).unwrap();
        let mut text = String::from_utf8(export(&mut original, true)).unwrap();
        text.push_str("AA:00:00:00:00:01,not-a-time,,ble,,,Df5");
        text.push_str(&",".repeat(30));
        text.push('\n');
        let mut copy = SqliteStore::open_in_memory().unwrap();
        let e = import(
            &mut copy,
            &mut text.as_bytes(),
            ImportFormat::Csv,
            &mut |_| {},
        )
        .unwrap_err();
        assert!(
            matches!(&e, ImportError::Line { line: 12, reason } if reason.contains("received_at_ms")),
            "{e}"
        );
        assert_eq!(copy.count().unwrap(), 10);
        let e = import(
            &mut copy,
            &mut "sensor,received_at_ms,feed,colour\n".as_bytes(),
            ImportFormat::Csv,
            &mut |_| {},
        )
        .unwrap_err();
        assert_eq!(e.to_string(), "line 1: unknown column \"colour\"");
    }

    #[test]
    fn ruuvi_station_exports_are_read_in_their_units() {
        let file = "timestamp,temperature (°F),humidity (%),pressure (hPa),rssi,acceleration x,acceleration y,acceleration z,voltage,movement counter,measurement sequence number\n\
                    2021-03-04T12:34:56+0200,68.0,45.5,1013.25,-71,0.004,-0.004,1.036,2.977,66,205\n\
                    2021-03-04T12:35:56+0200,68.9,null,1013.3,-70,0.004,-0.004,1.036,2.977,66,206\n";
        let sensor: MacAddress = "C8:25:2D:8E:9C:2C".parse().unwrap();
        assert_eq!(
            detect(file.lines().next().unwrap()),
            Some(ImportFormatKind::Station)
        );
        let mut store = SqliteStore::open_in_memory().unwrap();
        let report = import(
            &mut store,
            &mut file.as_bytes(),
            ImportFormat::Station { sensor },
            &mut |_| {},
        )
        .unwrap();
        assert_eq!(report.stored, 2);
        let rows = store.query(&Query::default()).unwrap();
        // 2021-03-04 10:34:56 UTC.
        assert_eq!(rows[0].received_at_ms, 1_614_854_096_000);
        assert!((rows[0].readings.temperature_c.unwrap() - 20.0).abs() < 1e-9);
        assert_eq!(rows[0].readings.pressure_pa, Some(101_325.0));
        assert_eq!(rows[0].readings.measurement_sequence, Some(205));
        assert_eq!(rows[0].format, Some(DataFormat::Df5));
        assert_eq!(rows[1].readings.humidity_pct, None);
        let dew = "timestamp,temperature (°C),humidity (°C),pressure (hPa),rssi\n";
        let e = import(
            &mut store,
            &mut dew.as_bytes(),
            ImportFormat::Station { sensor },
            &mut |_| {},
        )
        .unwrap_err();
        assert!(
            e.to_string().starts_with("line 1: humidity in \"°C\""),
            "{e}"
        );
        assert_eq!(
            sensor_in_file_name("C8252D8E9C2C_210304-1234.csv"),
            Some(sensor)
        );
        assert_eq!(
            sensor_in_file_name("C8:25:2D:8E:9C:2C_210304-1234.csv"),
            Some(sensor)
        );
        assert_eq!(sensor_in_file_name("Sauna_210304-1234.csv"), None);
        assert_eq!(parse_station_time("1970-01-01T00:00:00Z"), Ok(0));
        assert!(parse_station_time("2021-13-01T00:00:00Z").is_err());
    }
}
