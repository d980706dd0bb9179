//! The CSV export's rows, written straight into a byte buffer (no intermediate JSON): a
//! year's export is tens of millions of rows. Numbers are written as JSON writes them
//! (shortest round-trip form), so a value reads back exactly.

use std::io::Write;

use ruuvi_protocol::{DataFormat, Feed, MacAddress, Observation, Readings};

/// A reading's value in a CSV cell.
trait Cell {
    fn cell(&self, out: &mut Vec<u8>);

    /// [`Cell::cell`] for column `column` of a run of rows: a number repeats the text written
    /// for the same value in the row before (a sensor's battery, pressure, acceleration change
    /// rarely from one observation to the next; shortest round-trip formatting is most of an
    /// export's time).
    fn cell_in(&self, out: &mut Vec<u8>, _previous: &mut Previous, _column: usize) {
        self.cell(out);
    }
}

/// The text last written for each number column.
#[derive(Default)]
pub(crate) struct Previous {
    columns: Vec<Option<(u64, Vec<u8>)>>,
}

impl Cell for f64 {
    fn cell(&self, out: &mut Vec<u8>) {
        if self.is_finite() {
            out.extend_from_slice(ryu::Buffer::new().format_finite(*self).as_bytes());
        }
    }

    fn cell_in(&self, out: &mut Vec<u8>, previous: &mut Previous, column: usize) {
        if previous.columns.len() <= column {
            previous.columns.resize(column + 1, None);
        }
        let slot = &mut previous.columns[column];
        match slot {
            Some((bits, text)) if *bits == self.to_bits() => out.extend_from_slice(text),
            _ => {
                let start = out.len();
                self.cell(out);
                *slot = Some((self.to_bits(), out[start..].to_vec()));
            }
        }
    }
}

macro_rules! integer_cell {
    ($($t:ty),*) => {$(
        impl Cell for $t {
            fn cell(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(itoa::Buffer::new().format(*self).as_bytes());
            }
        }
    )*};
}

integer_cell!(i16, u32, i64, u64);

impl Cell for bool {
    fn cell(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(if *self { b"true" } else { b"false" });
    }
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

fn hex(b: u8, out: &mut Vec<u8>) {
    out.extend_from_slice(&[HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
}

impl Cell for MacAddress {
    /// Upper-case, colon-separated, as `Display` writes it.
    fn cell(&self, out: &mut Vec<u8>) {
        for (i, b) in self.0.iter().enumerate() {
            if i > 0 {
                out.push(b':');
            }
            hex(*b, out);
        }
    }
}

impl Cell for [u8; 3] {
    /// The last three bytes of the MAC, as hex (`4C884F`).
    fn cell(&self, out: &mut Vec<u8>) {
        for b in self {
            hex(*b, out);
        }
    }
}

/// A cell read back into a reading's value.
trait FromCell: Sized {
    fn from_cell(cell: &str) -> Option<Self>;
}

macro_rules! parsed_cell {
    ($($t:ty),*) => {$(
        impl FromCell for $t {
            fn from_cell(cell: &str) -> Option<Self> {
                cell.parse().ok()
            }
        }
    )*};
}

parsed_cell!(f64, i16, u32, bool, MacAddress);

impl FromCell for [u8; 3] {
    fn from_cell(cell: &str) -> Option<Self> {
        let bytes = cell.as_bytes();
        if bytes.len() != 6 {
            return None;
        }
        let mut out = [0u8; 3];
        for (i, o) in out.iter_mut().enumerate() {
            *o = u8::from_str_radix(&cell[i * 2..i * 2 + 2], 16).ok()?;
        }
        Some(out)
    }
}

fn read<T: FromCell>(name: &str, cell: &str) -> Result<Option<T>, String> {
    if cell.is_empty() {
        return Ok(None);
    }
    T::from_cell(cell)
        .map(Some)
        .ok_or_else(|| format!("{name}: cannot read {cell:?}"))
}

macro_rules! reading_columns {
    ($($field:ident),* $(,)?) => {
        const READINGS: &str = concat!($(",", stringify!($field)),*);
        const READING_NAMES: &[&str] = &[$(stringify!($field)),*];

        /// Sets the reading `name` from `cell`; `false`: no reading of that name.
        fn set_reading(r: &mut Readings, name: &str, cell: &str) -> Result<bool, String> {
            match name {
                $(stringify!($field) => r.$field = read(name, cell)?,)*
                _ => return Ok(false),
            }
            Ok(true)
        }

        fn readings(r: &Readings, out: &mut Vec<u8>, previous: &mut Previous) {
            let Readings { $($field),* } = r;
            let mut column = 0;
            $(
                out.push(b',');
                if let Some(v) = $field {
                    v.cell_in(out, previous, column);
                }
                column += 1;
            )*
            let _ = column;
        }
    };
}

// Every field, in declaration order (a new field does not compile until it is listed).
reading_columns!(
    temperature_c,
    humidity_pct,
    pressure_pa,
    accel_x_g,
    accel_y_g,
    accel_z_g,
    battery_v,
    tx_power_dbm,
    movement_counter,
    measurement_sequence,
    pm1_0,
    pm2_5,
    pm4_0,
    pm10_0,
    co2_ppm,
    voc_index,
    nox_index,
    luminosity_lux,
    sound_inst_dba,
    sound_avg_dba,
    sound_peak_spl_db,
    calibration_in_progress,
    button_pressed,
    rtc_running_on_boot,
    mac,
    mac_suffix,
);

const FIXED: [&str; 7] = [
    "sensor",
    "received_at_ms",
    "seen_at_s",
    "feed",
    "gateway",
    "rssi",
    "format",
];

/// Columns after the readings: the sensor's name and the calibrated values (derived from the
/// sensor's profile when exported; an import skips them and keeps the measured values).
pub(crate) const LABELS: [&str; 4] = [
    "name",
    "temperature_c_calibrated",
    "humidity_pct_calibrated",
    "pressure_pa_calibrated",
];

/// Every column the export writes.
pub(crate) fn column_names() -> Vec<&'static str> {
    FIXED
        .iter()
        .chain(READING_NAMES)
        .chain(LABELS.iter())
        .copied()
        .collect()
}

/// Writes the [`LABELS`] columns of each row, the name quoted once per sensor.
pub(crate) struct Labels {
    profiles: ruuvi_protocol::Profiles,
    sensor: Option<MacAddress>,
    name: Vec<u8>,
    calibration: ruuvi_protocol::Calibration,
}

impl Labels {
    pub(crate) fn new(profiles: ruuvi_protocol::Profiles) -> Self {
        Self {
            profiles,
            sensor: None,
            name: Vec::new(),
            calibration: Default::default(),
        }
    }

    /// The label cells of `o` and the row's newline.
    pub(crate) fn append(&mut self, o: &Observation, out: &mut Vec<u8>, previous: &mut Previous) {
        if self.sensor != Some(o.sensor) {
            self.sensor = Some(o.sensor);
            self.name.clear();
            quoted(&self.profiles.display_name(o.sensor), &mut self.name);
            self.calibration = self.profiles.calibration(o.sensor);
        }
        out.push(b',');
        out.extend_from_slice(&self.name);
        let r = &o.readings;
        let c = &self.calibration;
        // Columns numbered after the readings' own, so each keeps its own previous text.
        let base = READING_NAMES.len();
        for (i, v) in [
            r.temperature_c.map(|v| v + c.temperature_c),
            r.humidity_pct
                .map(|v| (v + c.humidity_pct).clamp(0.0, 100.0)),
            r.pressure_pa.map(|v| v + c.pressure_pa),
        ]
        .into_iter()
        .enumerate()
        {
            out.push(b',');
            if let Some(v) = v {
                v.cell_in(out, previous, base + i);
            }
        }
        out.push(b'\n');
    }
}

/// A text cell as RFC 4180 writes it: quoted when it holds a comma, quote or line break.
fn quoted(text: &str, out: &mut Vec<u8>) {
    if text.contains([',', '"', '\n', '\r']) {
        out.push(b'"');
        out.extend_from_slice(text.replace('"', "\"\"").as_bytes());
        out.push(b'"');
    } else {
        out.extend_from_slice(text.as_bytes());
    }
}

/// Splits a CSV line into cells, undoing [`quoted`].
pub(crate) fn split_cells(line: &str) -> Vec<std::borrow::Cow<'_, str>> {
    if !line.contains('"') {
        return line.split(',').map(std::borrow::Cow::Borrowed).collect();
    }
    let mut cells = Vec::new();
    let mut cell = String::new();
    let mut in_quotes = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, in_quotes) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            ('"', true) => in_quotes = false,
            ('"', false) if cell.is_empty() => in_quotes = true,
            (',', false) => cells.push(std::borrow::Cow::Owned(std::mem::take(&mut cell))),
            (c, _) => cell.push(c),
        }
    }
    cells.push(std::borrow::Cow::Owned(cell));
    cells
}

/// A row of the export read back (`names` from its header).
pub(crate) fn parse_row(names: &[String], cells: &[&str]) -> Result<Observation, String> {
    let mut sensor = None;
    let mut received_at_ms = None;
    let mut seen_at_s = None;
    let mut feed = None;
    let mut gateway: Option<MacAddress> = None;
    let mut rssi = None;
    let mut format = None;
    let mut readings = Readings::default();
    for (name, cell) in names.iter().zip(cells) {
        let name = name.as_str();
        match name {
            "sensor" => sensor = read::<MacAddress>(name, cell)?,
            "received_at_ms" => {
                received_at_ms = Some(
                    cell.parse::<i64>()
                        .map_err(|_| format!("received_at_ms: cannot read {cell:?}"))?,
                )
            }
            "seen_at_s" => {
                seen_at_s = match *cell {
                    "" => None,
                    c => Some(
                        c.parse::<u64>()
                            .map_err(|_| format!("seen_at_s: cannot read {c:?}"))?,
                    ),
                }
            }
            "feed" => feed = Some(*cell),
            "gateway" => gateway = read(name, cell)?,
            "rssi" => rssi = read(name, cell)?,
            "format" => {
                format = match *cell {
                    "" => None,
                    c => Some(
                        DataFormat::ALL
                            .into_iter()
                            .find(|f| format_name(*f) == c)
                            .ok_or_else(|| format!("format: unknown {c:?}"))?,
                    ),
                }
            }
            // Written from the profile at export time; the measured values are what is kept.
            n if LABELS.contains(&n) => {}
            other => {
                if !set_reading(&mut readings, other, cell)? {
                    return Err(format!("unknown column {other:?}"));
                }
            }
        }
    }
    let feed = match feed.ok_or("no feed")? {
        "ble" => Feed::Ble,
        "ble_history" => Feed::BleHistory,
        "gateway_history" => Feed::GatewayHistory { gateway },
        "gateway_post" => Feed::GatewayPost { gateway },
        "gateway_mqtt" => Feed::GatewayMqtt { gateway },
        other => return Err(format!("feed: unknown {other:?}")),
    };
    Ok(Observation {
        sensor: sensor.ok_or("no sensor")?,
        feed,
        received_at_ms: received_at_ms.ok_or("no received_at_ms")?,
        seen_at_s,
        rssi,
        format,
        readings,
    })
}

pub(crate) fn header(out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(
        out,
        "sensor,received_at_ms,seen_at_s,feed,gateway,rssi,format{READINGS},{}",
        LABELS.join(",")
    )
}

fn format_name(f: DataFormat) -> &'static str {
    match f {
        DataFormat::Df3 => "Df3",
        DataFormat::Df5 => "Df5",
        DataFormat::C5 => "C5",
        DataFormat::Df6 => "Df6",
        DataFormat::E1 => "E1",
        DataFormat::Df8 => "Df8",
    }
}

/// One observation's cells up to its readings (the labels and newline follow from
/// [`Labels::append`]); `previous` carries the numbers' text from row to row.
pub(crate) fn row(o: &Observation, out: &mut Vec<u8>, previous: &mut Previous) {
    let (feed, gateway) = match &o.feed {
        Feed::Ble => ("ble", None),
        Feed::BleHistory => ("ble_history", None),
        Feed::GatewayHistory { gateway } => ("gateway_history", *gateway),
        Feed::GatewayPost { gateway } => ("gateway_post", *gateway),
        Feed::GatewayMqtt { gateway } => ("gateway_mqtt", *gateway),
    };
    o.sensor.cell(out);
    out.push(b',');
    o.received_at_ms.cell(out);
    out.push(b',');
    if let Some(s) = o.seen_at_s {
        s.cell(out);
    }
    out.push(b',');
    out.extend_from_slice(feed.as_bytes());
    out.push(b',');
    if let Some(g) = gateway {
        g.cell(out);
    }
    out.push(b',');
    if let Some(r) = o.rssi {
        r.cell(out);
    }
    out.push(b',');
    if let Some(f) = o.format {
        out.extend_from_slice(format_name(f).as_bytes());
    }
    readings(&o.readings, out, previous);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_format_is_named_as_serde_names_it_and_values_read_back() {
        for f in DataFormat::ALL {
            assert_eq!(
                serde_json::to_value(f).unwrap().as_str(),
                Some(format_name(f))
            );
        }
        let o = Observation {
            sensor: MacAddress([0xAA, 0, 0, 0, 0, 1]),
            feed: Feed::Ble,
            received_at_ms: 1_700_000_000_123,
            seen_at_s: None,
            rssi: Some(-71),
            format: Some(DataFormat::Df6),
            readings: Readings {
                temperature_c: Some(20.025),
                pressure_pa: Some(100_011.0),
                pm2_5: Some(f64::NAN),
                button_pressed: Some(true),
                mac_suffix: Some([0x4C, 0x88, 0x4F]),
                ..Readings::default()
            },
        };
        let mut line = Vec::new();
        let mut previous = Previous::default();
        row(&o, &mut line, &mut previous);
        let profiles = ruuvi_protocol::Profiles::default();
        profiles.set(ruuvi_protocol::SensorProfile {
            name: "Sauna, \"upstairs\"".into(),
            calibration: ruuvi_protocol::Calibration {
                temperature_c: -0.025,
                pressure_pa: 50.0,
                ..Default::default()
            },
            ..ruuvi_protocol::SensorProfile::new(o.sensor)
        });
        Labels::new(profiles).append(&o, &mut line, &mut previous);
        let line = String::from_utf8(line).unwrap();
        assert!(line.ends_with('\n'));
        let mut head = Vec::new();
        header(&mut head).unwrap();
        let head = String::from_utf8(head).unwrap();
        let split = split_cells(line.trim_end());
        let cells: Vec<&str> = split.iter().map(|c| c.as_ref()).collect();
        let names: Vec<&str> = head.trim_end().split(',').collect();
        assert_eq!(cells.len(), names.len(), "{line}");
        let col = |n: &str| cells[names.iter().position(|x| *x == n).unwrap()];
        assert_eq!(col("temperature_c"), "20.025");
        assert_eq!(col("pressure_pa"), "100011.0");
        assert_eq!(col("pm2_5"), "", "no NaN in a CSV");
        assert_eq!(col("button_pressed"), "true");
        assert_eq!(col("mac_suffix"), "4C884F");
        assert_eq!(col("format"), "Df6");
        assert_eq!(col("feed"), "ble");
        assert_eq!(col("seen_at_s"), "");
        assert_eq!(col("sensor"), o.sensor.to_string());
        assert_eq!(col("name"), "Sauna, \"upstairs\"");
        assert!(
            line.contains(",\"Sauna, \"\"upstairs\"\"\","),
            "quoted: {line}"
        );
        assert_eq!(col("temperature_c_calibrated"), "20.0");
        assert_eq!(col("humidity_pct_calibrated"), "", "no humidity measured");
        assert_eq!(col("pressure_pa_calibrated"), "100061.0");
        // Read back: the measured values, not the calibrated ones.
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let back = parse_row(&names, &cells).unwrap();
        assert_eq!(back.readings.temperature_c, Some(20.025));
    }

    #[test]
    fn a_number_repeated_from_the_row_before_is_written_the_same_and_a_new_one_anew() {
        let mut previous = Previous::default();
        let temperatures: Vec<String> = [1.5, 1.5, 2.25, 1.5, -0.0, 0.0]
            .into_iter()
            .map(|t| {
                let o = Observation {
                    sensor: MacAddress([1; 6]),
                    feed: Feed::Ble,
                    received_at_ms: 0,
                    seen_at_s: None,
                    rssi: None,
                    format: None,
                    readings: Readings {
                        temperature_c: Some(t),
                        ..Readings::default()
                    },
                };
                let mut line = Vec::new();
                row(&o, &mut line, &mut previous);
                String::from_utf8(line)
                    .unwrap()
                    .split(',')
                    .nth(7)
                    .unwrap()
                    .to_string()
            })
            .collect();
        assert_eq!(temperatures, ["1.5", "1.5", "2.25", "1.5", "-0.0", "0.0"]);
    }
}
