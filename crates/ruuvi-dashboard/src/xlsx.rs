//! The XLSX export: a "Sensors" sheet (names, locations, notes, offsets, rows) and one sheet
//! per sensor with its observations in time order, measured and calibrated values side by
//! side. Sensor sheets are written row by row in constant memory (a year of one sensor is
//! half a million rows); a sheet that reaches Excel's row limit goes on in "<name> (2)".

use std::collections::HashSet;

pub use rust_xlsxwriter::Workbook;
use rust_xlsxwriter::{Format, Worksheet, XlsxError};
use ruuvi_protocol::{DataFormat, Feed, MacAddress, Observation, Profiles, SensorProfile};
use ruuvi_store::{ObservationStore, Query, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum XlsxExportError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("writing the workbook: {0}")]
    Xlsx(#[from] XlsxError),
}

/// Excel's last row index (1,048,576 rows; the first holds the header).
const LAST_ROW: u32 = 1_048_575;

/// Excel counts days from 1899-12-30; Unix time starts 25,569 days later.
fn excel_time(ms: i64) -> f64 {
    ms as f64 / 86_400_000.0 + 25_569.0
}

/// A sheet name Excel takes: at most 31 characters, none of `[]:*?/\`, not starting or ending
/// with an apostrophe, unique in the workbook (case-insensitive, as Excel compares).
fn sheet_name(wanted: &str, taken: &mut HashSet<String>) -> String {
    let clean: String = wanted
        .chars()
        .map(|c| if "[]:*?/\\".contains(c) { '_' } else { c })
        .collect();
    let clean = clean.trim_matches('\'').trim();
    let clean = if clean.is_empty() { "Sensor" } else { clean };
    for n in 1.. {
        let suffix = if n == 1 {
            String::new()
        } else {
            format!(" ({n})")
        };
        let room = 31 - suffix.chars().count();
        let name: String = clean.chars().take(room).collect::<String>() + &suffix;
        if taken.insert(name.to_lowercase()) {
            return name;
        }
    }
    unreachable!("some suffix is free")
}

/// What a sensor's sheet has: the climate columns always, air quality for a Ruuvi Air.
struct Columns {
    air: bool,
}

impl Columns {
    fn header(&self) -> Vec<&'static str> {
        let mut h = vec![
            "Time (UTC)",
            "Temperature (°C)",
            "Temperature calibrated (°C)",
            "Humidity (%)",
            "Humidity calibrated (%)",
            "Pressure (hPa)",
            "Pressure calibrated (hPa)",
            "Battery (V)",
            "RSSI (dBm)",
            "Movement counter",
            "Measurement sequence",
        ];
        if self.air {
            h.extend([
                "CO₂ (ppm)",
                "PM1.0 (µg/m³)",
                "PM2.5 (µg/m³)",
                "PM4.0 (µg/m³)",
                "PM10 (µg/m³)",
                "VOC index",
                "NOx index",
                "Light (lx)",
            ]);
        }
        h.push("Source");
        h
    }

    fn values(&self, o: &Observation, profile: &SensorProfile) -> Vec<Option<f64>> {
        let r = &o.readings;
        let c = profile.calibration.applied(r);
        let hpa = |p: Option<f64>| p.map(|p| p / 100.0);
        let mut v = vec![
            r.temperature_c,
            c.temperature_c,
            r.humidity_pct,
            c.humidity_pct,
            hpa(r.pressure_pa),
            hpa(c.pressure_pa),
            r.battery_v,
            o.rssi.map(f64::from),
            r.movement_counter.map(f64::from),
            r.measurement_sequence.map(f64::from),
        ];
        if self.air {
            v.extend([
                r.co2_ppm,
                r.pm1_0,
                r.pm2_5,
                r.pm4_0,
                r.pm10_0,
                r.voc_index,
                r.nox_index,
                r.luminosity_lux,
            ]);
        }
        v
    }
}

fn source(feed: &Feed) -> String {
    match feed {
        Feed::Ble => "Bluetooth".into(),
        Feed::BleHistory => "Bluetooth (the sensor's log)".into(),
        Feed::GatewayPost { gateway } => format!("gateway {}", opt(gateway)),
        Feed::GatewayHistory { gateway } => format!("gateway {} (history)", opt(gateway)),
        Feed::GatewayMqtt { gateway } => format!("gateway {} (MQTT)", opt(gateway)),
    }
}

fn opt(m: &Option<MacAddress>) -> String {
    m.map(|m| m.to_string()).unwrap_or_default()
}

fn write_header(sheet: &mut Worksheet, names: &[&str], bold: &Format) -> Result<(), XlsxError> {
    for (i, h) in names.iter().enumerate() {
        sheet.write_string_with_format(0, i as u16, *h, bold)?;
        sheet.set_column_width(i as u16, if i == 0 { 20 } else { 14 })?;
    }
    sheet.set_freeze_panes(1, 0)?;
    Ok(())
}

/// Writes `sensors`' observations in `[from_ms, to_ms)` into `workbook` (sheets in the order
/// given) and returns how many rows; the caller saves it.
pub fn export(
    store: &mut dyn ObservationStore,
    sensors: &[MacAddress],
    from_ms: i64,
    to_ms: i64,
    workbook: &mut Workbook,
) -> Result<usize, XlsxExportError> {
    export_rows(store, sensors, from_ms, to_ms, workbook, LAST_ROW)
}

/// [`export`] with sheets of at most `last_row` data rows (tests split sheets early).
fn export_rows(
    store: &mut dyn ObservationStore,
    sensors: &[MacAddress],
    from_ms: i64,
    to_ms: i64,
    workbook: &mut Workbook,
    last_row: u32,
) -> Result<usize, XlsxExportError> {
    let profiles = Profiles::of(store.profiles()?);
    let bold = Format::new().set_bold();
    let time = Format::new().set_num_format("yyyy-mm-dd hh:mm:ss");
    let mut taken = HashSet::new();
    taken.insert("sensors".to_string());
    // The summary first (random access: its row counts are written last).
    let summary = workbook.add_worksheet();
    summary.set_name("Sensors")?;
    write_header(
        summary,
        &[
            "MAC",
            "Name",
            "Location",
            "Note",
            "Temperature offset (°C)",
            "Humidity offset (%)",
            "Pressure offset (hPa)",
            "Rows",
            "Sheet",
        ],
        &bold,
    )?;
    let mut counts = Vec::new();
    let mut total = 0;
    // Sheets are reached by index: a row's sheet may change in the middle of a sensor.
    for sensor in sensors {
        let profile = profiles
            .get(*sensor)
            .unwrap_or_else(|| SensorProfile::new(*sensor));
        let air = matches!(
            store.latest_of(*sensor)?.and_then(|o| o.format),
            Some(DataFormat::Df6 | DataFormat::E1)
        );
        let columns = Columns { air };
        let header = columns.header();
        let base = sheet_name(&profile.display_name(), &mut taken);
        let mut sheet_names = vec![base.clone()];
        let sheet = workbook.add_worksheet_with_constant_memory()?;
        sheet.set_name(&base)?;
        write_header(sheet, &header, &bold)?;
        let mut index = workbook.worksheets().len() - 1;
        let mut row = 0u32;
        let mut rows = 0usize;
        let mut failed: Option<XlsxError> = None;
        let q = Query {
            sensor: Some(*sensor),
            from_ms: Some(from_ms),
            to_ms: Some(to_ms),
            limit: None,
        };
        store.each(&q, &mut |o| {
            if failed.is_some() {
                return Ok(());
            }
            let mut write = || -> Result<(), XlsxError> {
                if row == last_row {
                    let next = sheet_name(&base, &mut taken);
                    sheet_names.push(next.clone());
                    let sheet = workbook.add_worksheet_with_constant_memory()?;
                    sheet.set_name(&next)?;
                    write_header(sheet, &header, &bold)?;
                    index = workbook.worksheets().len() - 1;
                    row = 0;
                }
                let sheet = workbook.worksheet_from_index(index)?;
                row += 1;
                sheet.write_number_with_format(row, 0, excel_time(o.received_at_ms), &time)?;
                let values = columns.values(&o, &profile);
                for (i, v) in values.iter().enumerate() {
                    if let Some(v) = v.filter(|v| v.is_finite()) {
                        sheet.write_number(row, i as u16 + 1, v)?;
                    }
                }
                sheet.write_string(row, values.len() as u16 + 1, source(&o.feed))?;
                Ok(())
            };
            match write() {
                Ok(()) => rows += 1,
                Err(e) => failed = Some(e),
            }
            Ok(())
        })?;
        if let Some(e) = failed {
            return Err(e.into());
        }
        total += rows;
        counts.push((profile, rows, sheet_names.join(", ")));
    }
    let summary = workbook.worksheet_from_name("Sensors")?;
    for (i, (p, rows, sheets)) in counts.iter().enumerate() {
        let r = i as u32 + 1;
        summary.write_string(r, 0, p.sensor.to_string())?;
        summary.write_string(r, 1, p.display_name())?;
        summary.write_string(r, 2, &p.location)?;
        summary.write_string(r, 3, &p.note)?;
        summary.write_number(r, 4, p.calibration.temperature_c)?;
        summary.write_number(r, 5, p.calibration.humidity_pct)?;
        summary.write_number(r, 6, p.calibration.pressure_pa / 100.0)?;
        summary.write_number(r, 7, *rows as f64)?;
        summary.write_string(r, 8, sheets)?;
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sheet_names_are_what_excel_takes() {
        let mut taken = HashSet::new();
        taken.insert("sensors".into());
        assert_eq!(
            sheet_name("Sauna [upstairs]: 2/3", &mut taken),
            "Sauna _upstairs__ 2_3"
        );
        assert_eq!(sheet_name("Sensors", &mut taken), "Sensors (2)");
        let long = "Olohuoneen ikkunalaudan lämpömittari";
        let a = sheet_name(long, &mut taken);
        let b = sheet_name(long, &mut taken);
        assert_eq!(a.chars().count(), 31);
        assert_eq!(b, "Olohuoneen ikkunalaudan läm (2)");
        assert_eq!(sheet_name("''", &mut taken), "Sensor");
    }

    #[test]
    fn a_workbook_reads_back_with_names_both_values_and_split_sheets() {
        use calamine::{Data, Reader, Xlsx};
        use ruuvi_protocol::{Calibration, Readings};
        let mut store = ruuvi_store::SqliteStore::open_in_memory().unwrap();
        let tag: MacAddress = "AA:00:00:00:00:01".parse().unwrap();
        let air: MacAddress = "AA:00:00:00:00:02".parse().unwrap();
        let obs = |sensor, i: i64, format| Observation {
            sensor,
            feed: Feed::Ble,
            received_at_ms: 1_796_558_400_000 + i * 60_000,
            seen_at_s: None,
            rssi: Some(-70),
            format: Some(format),
            readings: Readings {
                temperature_c: Some(20.0 + i as f64),
                pressure_pa: Some(100_000.0),
                co2_ppm: (format == DataFormat::E1).then_some(600.0),
                ..Readings::default()
            },
        };
        let mut rows: Vec<Observation> = (0..3).map(|i| obs(tag, i, DataFormat::Df5)).collect();
        rows.extend((0..2).map(|i| obs(air, i, DataFormat::E1)));
        store.insert(&rows).unwrap();
        store
            .save_profile(&SensorProfile {
                name: "Sauna: lauteet".into(),
                location: "Mökki".into(),
                calibration: Calibration {
                    temperature_c: -1.0,
                    pressure_pa: 50.0,
                    ..Calibration::default()
                },
                ..SensorProfile::new(tag)
            })
            .unwrap();
        let mut workbook = Workbook::new();
        let n = export_rows(&mut store, &[tag, air], 0, i64::MAX, &mut workbook, 2).unwrap();
        assert_eq!(n, 5);
        let bytes = workbook.save_to_buffer().unwrap();
        let mut book: Xlsx<_> =
            calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
        assert_eq!(
            book.sheet_names(),
            [
                "Sensors",
                "Sauna_ lauteet",
                "Sauna_ lauteet (2)",
                "Ruuvi 0002"
            ]
        );
        let sensors = book.worksheet_range("Sensors").unwrap();
        assert_eq!(
            sensors.get((1, 1)),
            Some(&Data::String("Sauna: lauteet".into()))
        );
        assert_eq!(sensors.get((1, 2)), Some(&Data::String("Mökki".into())));
        assert_eq!(sensors.get((1, 4)), Some(&Data::Float(-1.0)));
        assert_eq!(sensors.get((1, 6)), Some(&Data::Float(0.5)));
        assert_eq!(sensors.get((1, 7)), Some(&Data::Float(3.0)));
        assert_eq!(
            sensors.get((1, 8)),
            Some(&Data::String("Sauna_ lauteet, Sauna_ lauteet (2)".into()))
        );
        let first = book.worksheet_range("Sauna_ lauteet").unwrap();
        assert_eq!(
            first.get((0, 2)),
            Some(&Data::String("Temperature calibrated (°C)".into()))
        );
        assert_eq!(first.height(), 3, "the header and two rows");
        assert_eq!(first.get((1, 1)), Some(&Data::Float(20.0)));
        assert_eq!(first.get((1, 2)), Some(&Data::Float(19.0)));
        assert_eq!(first.get((1, 6)), Some(&Data::Float(1000.5)));
        let rest = book.worksheet_range("Sauna_ lauteet (2)").unwrap();
        assert_eq!(
            rest.get((1, 1)),
            Some(&Data::Float(22.0)),
            "the third row goes on"
        );
        let time = match rest.get((1, 0)) {
            Some(Data::DateTime(t)) => t.as_f64(),
            other => panic!("{other:?}"),
        };
        assert!((time - (46_362.5 + 2.0 / 1440.0)).abs() < 1e-9);
        let airs = book.worksheet_range("Ruuvi 0002").unwrap();
        assert_eq!(airs.get((0, 11)), Some(&Data::String("CO₂ (ppm)".into())));
        assert_eq!(airs.get((1, 11)), Some(&Data::Float(600.0)));
        assert_eq!(
            airs.get((1, 2)),
            Some(&Data::Float(20.0)),
            "no offsets: the same"
        );
    }

    #[test]
    fn excel_counts_days_from_1899_12_30() {
        assert_eq!(excel_time(0), 25_569.0);
        // 2026-12-06 12:00 UTC.
        assert_eq!(excel_time(1_796_558_400_000), 46_362.5);
    }
}
