//! The gateway's JSON: the body it POSTs to HTTP servers (gateway-local-api §7.2) and the body
//! of `GET /history` (§8). Parsing accepts every variant real firmware and the Ruuvi Network
//! seed send; [`GatewayDocument::to_firmware_json`] writes the bytes exactly as firmware does,
//! because a signature covers those exact bytes.

use serde_json::{Map, Value};

use crate::error::{DecodeError, GatewayJsonError};
use crate::formats::{decode_advertisement, Df5, Df6, E1};
use crate::mac::{colon_hex, MacAddress};
use crate::readings::Readings;

/// The files of the gateway's certificate store (`/ssl_cert?file=`, gateway-local-api §5.14), in
/// the order `storage` lists them; the last three (blob files) exist from v1.17.2.
pub const STORAGE_FILES: [&str; 15] = [
    "http_cli_cert",
    "http_cli_key",
    "stat_cli_cert",
    "stat_cli_key",
    "mqtt_cli_cert",
    "mqtt_cli_key",
    "rcfg_cli_cert",
    "rcfg_cli_key",
    "http_srv_cert",
    "stat_srv_cert",
    "mqtt_srv_cert",
    "rcfg_srv_cert",
    "http_path",
    "http_query",
    "http_headers",
];

/// When the gateway's radio saw a tag: a Unix time with NTP, or a monotonic counter without.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagTime {
    Timestamp(u64),
    Counter(u64),
}

/// One tag entry under `data.tags`.
#[derive(Debug, Clone, PartialEq)]
pub struct GatewayTag {
    pub mac: MacAddress,
    pub rssi: i16,
    pub time: Option<TagTime>,
    /// `"1M"`, `"2M"` or `"Coded"` (firmware v1.16+).
    pub ble_phy: Option<String>,
    pub ble_chan: Option<u8>,
    pub ble_tx_power: Option<i16>,
    /// The raw advertisement (absent with `ruuvi_decoded`).
    pub data: Option<Vec<u8>>,
    /// `dataFormat` and values the gateway decoded itself, when it sent them.
    pub decoded_format: Option<u8>,
    pub decoded: Option<Readings>,
}

/// `{"data": {...}}` as sent by a gateway.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GatewayDocument {
    pub coordinates: String,
    /// Present when the gateway uses NTP.
    pub timestamp: Option<u64>,
    /// Present in POSTs (not in `/history`).
    pub nonce: Option<u64>,
    /// `gw_mac` (firmware) or `gwmac` (seed).
    pub gw_mac: Option<MacAddress>,
    pub tags: Vec<GatewayTag>,
    /// Tag entries that could not be read, with the reason; the others are kept.
    pub rejected: Vec<(String, String)>,
}

/// Which fields the firmware adds per tag (`http_data_format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagFields {
    /// `ruuvi`: raw `data` only.
    Raw,
    /// `ruuvi_raw_and_decoded` and `/history`: `data` plus decoded values.
    RawAndDecoded,
    /// `ruuvi_decoded`: decoded values, no `data`.
    Decoded,
}

/// How to write the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FirmwareStyle {
    pub fields: TagFields,
    /// Firmware ≤ v1.13: `timestamp`, `nonce`, `counter` as strings and no `ble_*` fields.
    pub legacy: bool,
    /// Whether Ruuvi Air formats (6, E1) are decoded too (v1.16+); before that only format 5.
    pub air_formats: bool,
}

impl FirmwareStyle {
    pub const CURRENT_RAW: Self = Self {
        fields: TagFields::Raw,
        legacy: false,
        air_formats: true,
    };
    pub const CURRENT_DECODED: Self = Self {
        fields: TagFields::RawAndDecoded,
        legacy: false,
        air_formats: true,
    };
}

pub(crate) fn bad(field: impl Into<String>, problem: impl Into<String>) -> GatewayJsonError {
    GatewayJsonError::BadField {
        field: field.into(),
        problem: problem.into(),
    }
}

/// A number, or (firmware ≤ v1.13) a decimal string.
pub(crate) fn as_u64(v: &Value, field: &str) -> Result<u64, GatewayJsonError> {
    match v {
        Value::Number(n) => n
            .as_u64()
            .ok_or_else(|| bad(field, format!("{n} is not a non-negative integer"))),
        Value::String(s) => s
            .trim()
            .parse()
            .map_err(|_| bad(field, format!("{s:?} is not a non-negative integer"))),
        other => Err(bad(field, format!("expected a number, got {other}"))),
    }
}

fn as_i64(v: &Value, field: &str) -> Result<i64, GatewayJsonError> {
    match v {
        Value::Number(n) => n
            .as_i64()
            .ok_or_else(|| bad(field, format!("{n} is not an integer"))),
        Value::String(s) => s
            .trim()
            .parse()
            .map_err(|_| bad(field, format!("{s:?} is not an integer"))),
        other => Err(bad(field, format!("expected a number, got {other}"))),
    }
}

fn as_f64(v: &Value, field: &str) -> Result<Option<f64>, GatewayJsonError> {
    match v {
        Value::Null => Ok(None),
        Value::Number(n) => Ok(n.as_f64()),
        Value::String(s) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| bad(field, format!("{s:?} is not a number"))),
        other => Err(bad(
            field,
            format!("expected a number or null, got {other}"),
        )),
    }
}

fn as_bool(v: &Value, field: &str) -> Result<Option<bool>, GatewayJsonError> {
    match v {
        Value::Null => Ok(None),
        Value::Bool(b) => Ok(Some(*b)),
        other => Err(bad(field, format!("expected true/false, got {other}"))),
    }
}

fn int_in<T: TryFrom<i64>>(v: &Value, field: &str) -> Result<T, GatewayJsonError> {
    let n = as_i64(v, field)?;
    T::try_from(n).map_err(|_| bad(field, format!("{n} is out of range")))
}

impl GatewayDocument {
    /// Parses a POST body or a `/history` body.
    pub fn parse(body: &[u8]) -> Result<Self, GatewayJsonError> {
        let root: Value =
            serde_json::from_slice(body).map_err(|e| GatewayJsonError::NotJson(e.to_string()))?;
        let data = root
            .get("data")
            .and_then(Value::as_object)
            .ok_or(GatewayJsonError::Missing("data"))?;
        let mut doc = GatewayDocument {
            coordinates: match data.get("coordinates") {
                None | Some(Value::Null) => String::new(),
                Some(Value::String(s)) => s.clone(),
                Some(other) => {
                    return Err(bad(
                        "coordinates",
                        format!("expected a string, got {other}"),
                    ))
                }
            },
            ..Default::default()
        };
        if let Some(ts) = data.get("timestamp") {
            doc.timestamp = Some(as_u64(ts, "timestamp")?);
        }
        if let Some(nonce) = data.get("nonce") {
            doc.nonce = Some(as_u64(nonce, "nonce")?);
        }
        if let Some((key, mac)) = ["gw_mac", "gwmac"]
            .iter()
            .find_map(|k| data.get(*k).map(|v| (*k, v)))
        {
            let text = mac.as_str().ok_or_else(|| bad(key, "expected a string"))?;
            // An empty MAC is what we write for a document without one: read it back as none.
            if !text.is_empty() {
                doc.gw_mac = Some(
                    text.parse()
                        .map_err(|e: crate::error::MacParseError| bad(key, e.to_string()))?,
                );
            }
        }
        let tags = data
            .get("tags")
            .and_then(Value::as_object)
            .ok_or(GatewayJsonError::Missing("tags"))?;
        for (key, value) in tags {
            match parse_tag(key, value) {
                Ok(tag) => doc.tags.push(tag),
                Err(e) => doc.rejected.push((key.clone(), e.to_string())),
            }
        }
        Ok(doc)
    }

    /// The document as firmware writes it: 2-space indentation, `"key": value`, firmware key
    /// order and decimal places, no trailing newline (json_stream_gen).
    pub fn to_firmware_json(&self, style: FirmwareStyle) -> String {
        let mut w = JsonWriter::default();
        w.open(None);
        w.open(Some("data"));
        w.string("coordinates", &self.coordinates);
        if let Some(ts) = self.timestamp {
            w.counter("timestamp", ts, style.legacy);
        }
        if let Some(nonce) = self.nonce {
            w.counter("nonce", nonce, style.legacy);
        }
        w.string(
            "gw_mac",
            &self.gw_mac.map(|m| m.to_string()).unwrap_or_default(),
        );
        w.open(Some("tags"));
        for tag in &self.tags {
            w.open(Some(&tag.mac.to_string()));
            w.raw("rssi", &tag.rssi.to_string());
            match tag.time {
                Some(TagTime::Timestamp(t)) => w.counter("timestamp", t, style.legacy),
                Some(TagTime::Counter(c)) => w.counter("counter", c, style.legacy),
                None => {}
            }
            if !style.legacy {
                if let Some(phy) = &tag.ble_phy {
                    w.string("ble_phy", phy);
                }
                if let Some(chan) = tag.ble_chan {
                    w.raw("ble_chan", &chan.to_string());
                }
                if let Some(power) = tag.ble_tx_power {
                    w.raw("ble_tx_power", &power.to_string());
                }
            }
            if let Some(data) = &tag.data {
                if style.fields != TagFields::Decoded {
                    w.string("data", &hex::encode_upper(data));
                }
                if style.fields != TagFields::Raw {
                    for (key, value) in firmware_decoded_fields(data, style.air_formats) {
                        w.raw(key, &value.render());
                    }
                }
            }
            w.close();
        }
        w.close();
        w.close();
        w.close();
        w.out
    }
}

fn parse_tag(key: &str, value: &Value) -> Result<GatewayTag, GatewayJsonError> {
    let mac: MacAddress = key
        .parse()
        .map_err(|e: crate::error::MacParseError| bad("tags", e.to_string()))?;
    let obj = value
        .as_object()
        .ok_or_else(|| bad(key, "expected an object"))?;
    tag_from_object(mac, obj, ("timestamp", "counter"))
}

/// One advertisement's fields: an entry of `data.tags` (HTTP, `/history`) or an MQTT payload;
/// they differ only in the names of the time fields (`time_keys`: timestamp, counter).
pub(crate) fn tag_from_object(
    mac: MacAddress,
    obj: &Map<String, Value>,
    time_keys: (&str, &str),
) -> Result<GatewayTag, GatewayJsonError> {
    let rssi = int_in::<i16>(
        obj.get("rssi").ok_or(GatewayJsonError::Missing("rssi"))?,
        "rssi",
    )?;
    let (ts_key, counter_key) = time_keys;
    let time = match (obj.get(ts_key), obj.get(counter_key)) {
        (Some(ts), _) => Some(TagTime::Timestamp(as_u64(ts, ts_key)?)),
        (None, Some(c)) => Some(TagTime::Counter(as_u64(c, counter_key)?)),
        (None, None) => None,
    };
    let data = match obj.get("data") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(hex::decode(s).map_err(|e| bad("data", e.to_string()))?),
        Some(other) => return Err(bad("data", format!("expected a hex string, got {other}"))),
    };
    let decoded_format = obj
        .get("dataFormat")
        .map(|v| int_in::<u8>(v, "dataFormat"))
        .transpose()?;
    let decoded = decoded_format.map(|_| parse_decoded(obj)).transpose()?;
    Ok(GatewayTag {
        mac,
        rssi,
        time,
        ble_phy: obj
            .get("ble_phy")
            .and_then(Value::as_str)
            .map(str::to_string),
        ble_chan: obj
            .get("ble_chan")
            .map(|v| int_in::<u8>(v, "ble_chan"))
            .transpose()?,
        ble_tx_power: obj
            .get("ble_tx_power")
            .map(|v| int_in::<i16>(v, "ble_tx_power"))
            .transpose()?,
        data,
        decoded_format,
        decoded,
    })
}

/// The decoded values a gateway adds (data-formats §2.4 key names).
fn parse_decoded(obj: &Map<String, Value>) -> Result<Readings, GatewayJsonError> {
    let num = |key: &str| obj.get(key).map_or(Ok(None), |v| as_f64(v, key));
    let flag = |key: &str| obj.get(key).map_or(Ok(None), |v| as_bool(v, key));
    let count = |key: &str| -> Result<Option<u32>, GatewayJsonError> {
        Ok(num(key)?
            .filter(|v| *v >= 0.0 && *v <= f64::from(u32::MAX))
            .map(|v| v as u32))
    };
    let (mac, mac_suffix) = match obj.get("id").and_then(Value::as_str) {
        Some(id) => match id.parse::<MacAddress>() {
            Ok(mac) => (Some(mac), None),
            Err(_) => {
                let mut short = [0u8; 3];
                let digits: String = id.chars().filter(|c| *c != ':').collect();
                match hex::decode_to_slice(&digits, &mut short) {
                    Ok(()) => (None, Some(short)),
                    Err(_) => return Err(bad("id", format!("{id:?} is not a MAC address"))),
                }
            }
        },
        None => (None, None),
    };
    Ok(Readings {
        temperature_c: num("temperature")?,
        humidity_pct: num("humidity")?,
        pressure_pa: num("pressure")?,
        accel_x_g: num("accelX")?,
        accel_y_g: num("accelY")?,
        accel_z_g: num("accelZ")?,
        battery_v: num("voltage")?,
        tx_power_dbm: num("txPower")?.map(|v| v as i16),
        movement_counter: count("movementCounter")?,
        measurement_sequence: count("measurementSequenceNumber")?,
        pm1_0: num("PM1.0")?,
        pm2_5: num("PM2.5")?,
        pm4_0: num("PM4.0")?,
        pm10_0: num("PM10.0")?,
        co2_ppm: num("CO2")?,
        voc_index: num("VOC")?,
        nox_index: num("NOx")?,
        luminosity_lux: num("luminosity")?,
        sound_inst_dba: num("sound_inst_dba")?,
        sound_avg_dba: num("sound_avg_dba")?,
        sound_peak_spl_db: num("sound_peak_spl_db")?,
        calibration_in_progress: flag("flag_calibration_in_progress")?,
        button_pressed: flag("flag_button_pressed")?,
        rtc_running_on_boot: flag("flag_rtc_running_on_boot")?,
        mac,
        mac_suffix,
    })
}

impl GatewayTag {
    /// The tag's readings: decoded from `data` when present (our decoder, full precision),
    /// otherwise what the gateway decoded.
    pub fn readings(&self) -> Result<(Option<crate::formats::DataFormat>, Readings), DecodeError> {
        match (&self.data, &self.decoded) {
            (Some(raw), _) => {
                let m = decode_advertisement(raw)?;
                Ok((Some(m.format()), m.readings()))
            }
            (None, Some(decoded)) => Ok((
                self.decoded_format
                    .and_then(|c| crate::formats::DataFormat::from_code(c).ok()),
                decoded.clone(),
            )),
            (None, None) => Err(DecodeError::Empty),
        }
    }
}

// ---- firmware number formatting ----

/// A decoded value as the firmware writes it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum FwValue {
    Int(i64),
    /// json_stream_gen "limited fixed point" of an f32 with this many decimals; NaN → null.
    Fixed(f32, u32),
    Bool(bool),
    Str(String),
}

impl FwValue {
    pub(crate) fn render(&self) -> String {
        match self {
            FwValue::Int(i) => i.to_string(),
            FwValue::Fixed(v, decimals) => {
                limited_fixed_point(*v, *decimals).unwrap_or_else(|| "null".into())
            }
            FwValue::Bool(b) => b.to_string(),
            FwValue::Str(s) => serde_json::to_string(s).expect("strings serialise"),
        }
    }
}

/// json_stream_gen's `jsg_limited_float_to_str`: works in f32, drops decimals while the scaled
/// value exceeds 2^24, rounds half to even (lrintf), zero-pads the fraction; NaN/inf → None.
pub fn limited_fixed_point(val: f32, decimals: u32) -> Option<String> {
    if decimals >= 10 || !val.is_finite() {
        return None;
    }
    let abs = val.abs();
    if abs > u32::MAX as f32 {
        return None;
    }
    let mut multiplier = 10u32.pow(decimals);
    let mut divider_cnt = 0usize;
    let mut divider = 1.0f32;
    while (abs * multiplier as f32) / divider > (1u32 << f32::MANTISSA_DIGITS) as f32 {
        if multiplier > 1 {
            multiplier /= 10;
        } else {
            divider_cnt += 1;
            divider *= 10.0;
        }
    }
    if divider_cnt >= 4 {
        return None;
    }
    let scaled = ((abs * multiplier as f32) / divider).round_ties_even() as u32;
    let integral = scaled / multiplier;
    let fraction = scaled % multiplier;
    let digits = multiplier.ilog10() as usize;
    let sign = if val < 0.0 { "-" } else { "" };
    let zeros = &"000"[..divider_cnt];
    Some(if digits == 0 {
        format!("{sign}{integral}{zeros}")
    } else {
        format!("{sign}{integral}{zeros}.{fraction:0digits$}")
    })
}

fn fixed(v: Option<f32>, decimals: u32) -> FwValue {
    FwValue::Fixed(v.unwrap_or(f32::NAN), decimals)
}

/// The values the gateway adds for a raw advertisement it recognises (formats 5, 6 and E1 at
/// the fixed offsets ruuvi.endpoints.c checks), in firmware key order. Values are computed in
/// f32 as ruuvi.endpoints.c does (code / ratio); for 6 and E1 the exact C expressions were
/// not read and follow format 5's pattern (UNVERIFIED), which reproduces the real captures.
pub(crate) fn firmware_decoded_fields(
    raw: &[u8],
    air_formats: bool,
) -> Vec<(&'static str, FwValue)> {
    let at = |offset: usize, header: &[u8]| {
        raw.len() > offset && raw.get(..header.len()).is_some_and(|h| h == header)
    };
    let f = |x: f32| Some(x);
    // Format 5: `02 01 xx 1B FF 99 04 05` (re_5_check_format ignores the flags value).
    if raw.len() >= 31
        && raw[0] == 0x02
        && raw[1] == 0x01
        && raw[3..8] == [0x1B, 0xFF, 0x99, 0x04, 0x05]
    {
        let Ok(m) = Df5::decode(&raw[7..31]) else {
            return Vec::new();
        };
        let acc = |a: i16| (a != i16::MIN).then(|| f32::from(a) / 1000.0);
        let code_v = m.power_info >> 5;
        let code_tx = m.power_info & 0x1F;
        return vec![
            ("dataFormat", FwValue::Int(5)),
            (
                "temperature",
                fixed(
                    (m.temperature != i16::MIN).then(|| f32::from(m.temperature) / 200.0),
                    3,
                ),
            ),
            (
                "humidity",
                fixed(
                    (m.humidity != u16::MAX).then(|| f32::from(m.humidity) / 400.0),
                    4,
                ),
            ),
            (
                "pressure",
                fixed(
                    (m.pressure != u16::MAX).then(|| f32::from(m.pressure) + 50_000.0),
                    0,
                ),
            ),
            ("accelX", fixed(acc(m.acceleration[0]), 3)),
            ("accelY", fixed(acc(m.acceleration[1]), 3)),
            ("accelZ", fixed(acc(m.acceleration[2]), 3)),
            // re_5_decode returns movement 255 and sequence 65535 as plain numbers.
            (
                "movementCounter",
                fixed(f(f32::from(m.movement_counter)), 0),
            ),
            (
                "voltage",
                fixed(
                    (code_v != 0x7FF).then(|| f32::from(1600 + code_v) / 1000.0),
                    3,
                ),
            ),
            // N/A tx power comes back as the raw code 31.
            (
                "txPower",
                fixed(
                    f(if code_tx == 0x1F {
                        31.0
                    } else {
                        f32::from(code_tx) * 2.0 - 40.0
                    }),
                    0,
                ),
            ),
            (
                "measurementSequenceNumber",
                FwValue::Int(i64::from(m.sequence)),
            ),
            ("id", FwValue::Str(colon_hex(&m.mac))),
        ];
    }
    if !air_formats {
        return Vec::new();
    }
    let sound = |s: u16| (s != 0x1FF).then(|| f32::from(s) / 5.0 + 18.0);
    let nine = |v: u16| (v != 0x1FF).then(|| f32::from(v));
    let tenth = |v: u16| (v != u16::MAX).then(|| f32::from(v) / 10.0);
    let plain = |v: u16| (v != u16::MAX).then(|| f32::from(v));
    let temp = |t: i16| (t != i16::MIN).then(|| f32::from(t) / 200.0);
    let hum = |h: u16| (h != u16::MAX).then(|| f32::from(h) / 400.0);
    let pres = |p: u16| (p != u16::MAX).then(|| f32::from(p) + 50_000.0);
    // Format 6: `02 01 xx 03 03 98 FC 17 FF 99 04 06`.
    if raw.len() >= 31
        && raw[0] == 0x02
        && raw[1] == 0x01
        && raw[3..12] == [0x03, 0x03, 0x98, 0xFC, 0x17, 0xFF, 0x99, 0x04, 0x06]
    {
        let Ok(m) = Df6::decode(&raw[11..31]) else {
            return Vec::new();
        };
        let lux = (m.luminosity != 0xFF)
            .then(|| (f32::from(m.luminosity) / (254.0 / 65536f32.ln())).exp() - 1.0);
        return vec![
            ("dataFormat", FwValue::Int(6)),
            ("temperature", fixed(temp(m.temperature), 1)),
            ("humidity", fixed(hum(m.humidity), 1)),
            ("pressure", fixed(pres(m.pressure), 0)),
            ("PM2.5", fixed(tenth(m.pm2_5), 1)),
            ("CO2", fixed(plain(m.co2), 0)),
            ("VOC", fixed(nine(m.voc()), 0)),
            ("NOx", fixed(nine(m.nox()), 0)),
            ("luminosity", fixed(lux, 0)),
            ("sound_avg_dba", fixed(sound(m.sound_avg()), 1)),
            (
                "measurementSequenceNumber",
                FwValue::Int(i64::from(m.sequence)),
            ),
            (
                "flag_calibration_in_progress",
                FwValue::Bool(m.flags & 0x01 != 0),
            ),
            ("flag_button_pressed", FwValue::Bool(m.flags & 0x02 != 0)),
            (
                "flag_rtc_running_on_boot",
                FwValue::Bool(m.flags & 0x04 != 0),
            ),
            ("id", FwValue::Str(colon_hex(&m.mac_suffix))),
        ];
    }
    // E1: `2B FF 99 04 E1` at the start.
    if at(43, &[0x2B, 0xFF, 0x99, 0x04, 0xE1]) {
        let Ok(m) = E1::decode(&raw[4..44]) else {
            return Vec::new();
        };
        let lux = (m.luminosity != 0xFF_FFFF).then(|| m.luminosity as f32 / 100.0);
        return vec![
            ("dataFormat", FwValue::Int(0xE1)),
            ("temperature", fixed(temp(m.temperature), 3)),
            ("humidity", fixed(hum(m.humidity), 2)),
            ("pressure", fixed(pres(m.pressure), 0)),
            ("PM1.0", fixed(tenth(m.pm1_0), 1)),
            ("PM2.5", fixed(tenth(m.pm2_5), 1)),
            ("PM4.0", fixed(tenth(m.pm4_0), 1)),
            ("PM10.0", fixed(tenth(m.pm10_0), 1)),
            ("CO2", fixed(plain(m.co2), 0)),
            ("VOC", fixed(nine(m.voc()), 0)),
            ("NOx", fixed(nine(m.nox()), 0)),
            ("luminosity", fixed(lux, 0)),
            ("sound_inst_dba", fixed(sound(m.sound_inst()), 1)),
            ("sound_avg_dba", fixed(sound(m.sound_avg()), 1)),
            ("sound_peak_spl_db", fixed(sound(m.sound_peak()), 1)),
            (
                "measurementSequenceNumber",
                FwValue::Int(i64::from(m.sequence)),
            ),
            (
                "flag_calibration_in_progress",
                FwValue::Bool(m.flags & 0x01 != 0),
            ),
            ("flag_button_pressed", FwValue::Bool(m.flags & 0x02 != 0)),
            (
                "flag_rtc_running_on_boot",
                FwValue::Bool(m.flags & 0x04 != 0),
            ),
            ("id", FwValue::Str(colon_hex(&m.mac))),
        ];
    }
    Vec::new()
}

/// A writer with json_stream_gen's layout: items on their own lines, two spaces per level,
/// `"key": value`, an empty object as `{` newline `}`.
#[derive(Default)]
pub(crate) struct JsonWriter {
    pub(crate) out: String,
    /// Per open object: has it an item yet?
    stack: Vec<bool>,
    /// No whitespace at all (MQTT payloads) instead of 2-space indentation (HTTP bodies).
    compact: bool,
}

impl JsonWriter {
    pub(crate) fn compact() -> Self {
        Self {
            compact: true,
            ..Self::default()
        }
    }

    fn prefix(&mut self, key: Option<&str>) {
        if let Some(has_items) = self.stack.last_mut() {
            if *has_items {
                self.out.push(',');
            }
            *has_items = true;
            if !self.compact {
                self.out.push('\n');
                for _ in 0..self.stack.len() {
                    self.out.push_str("  ");
                }
            }
        }
        if let Some(key) = key {
            self.out
                .push_str(&serde_json::to_string(key).expect("strings serialise"));
            self.out.push_str(if self.compact { ":" } else { ": " });
        }
    }

    pub(crate) fn empty_array(&mut self, key: &str) {
        self.raw(key, "[]");
    }

    pub(crate) fn open(&mut self, key: Option<&str>) {
        self.prefix(key);
        self.out.push('{');
        self.stack.push(false);
    }

    pub(crate) fn close(&mut self) {
        self.stack.pop();
        if !self.compact {
            self.out.push('\n');
            for _ in 0..self.stack.len() {
                self.out.push_str("  ");
            }
        }
        self.out.push('}');
    }

    pub(crate) fn raw(&mut self, key: &str, value: &str) {
        self.prefix(Some(key));
        self.out.push_str(value);
    }

    pub(crate) fn string(&mut self, key: &str, value: &str) {
        self.raw(
            key,
            &serde_json::to_string(value).expect("strings serialise"),
        );
    }

    pub(crate) fn counter(&mut self, key: &str, value: u64, as_string: bool) {
        if as_string {
            self.string(key, &value.to_string());
        } else {
            self.raw(key, &value.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `schemas/examples/history_with_decoding_df6.json` of the gateway firmware (its trailing
    /// newline is the file's, not the generator's).
    const FIRMWARE_HISTORY_DF6_E1: &str = r#"{
  "data": {
    "coordinates": "",
    "timestamp": 1687922293,
    "gw_mac": "C8:25:2D:8E:9C:2C",
    "tags": {
      "E1:9D:F3:4F:8A:A5": {
        "rssi": -44,
        "timestamp": 1775069470,
        "ble_phy": "1M",
        "ble_chan": 37,
        "data": "020106030398FC17FF990406143A6194C636005A0330D500F7FF10944F8AA5",
        "dataFormat": 6,
        "temperature": 25.9,
        "humidity": 62.4,
        "pressure": 100742,
        "PM2.5": 9.0,
        "CO2": 816,
        "VOC": 426,
        "NOx": 1,
        "luminosity": 48276,
        "sound_avg_dba": null,
        "measurementSequenceNumber": 16,
        "flag_calibration_in_progress": false,
        "flag_button_pressed": false,
        "flag_rtc_running_on_boot": true,
        "id": "4F:8A:A5"
      },
      "FD:54:6F:6C:52:92": {
        "rssi": -77,
        "timestamp": 1775069464,
        "ble_phy": "2M",
        "ble_chan": 10,
        "ble_tx_power": 8,
        "data": "2BFF9904E114595CB0C6460030003A0041004402364300FFFFFFFFFFFF103B37F8FFFFFFFFFFFD546F6C5292030398FC",
        "dataFormat": 225,
        "temperature": 26.045,
        "humidity": 59.32,
        "pressure": 100758,
        "PM1.0": 4.8,
        "PM2.5": 5.8,
        "PM4.0": 6.5,
        "PM10.0": 6.8,
        "CO2": 566,
        "VOC": 135,
        "NOx": 1,
        "luminosity": null,
        "sound_inst_dba": null,
        "sound_avg_dba": null,
        "sound_peak_spl_db": null,
        "measurementSequenceNumber": 1063735,
        "flag_calibration_in_progress": false,
        "flag_button_pressed": false,
        "flag_rtc_running_on_boot": false,
        "id": "FD:54:6F:6C:52:92"
      }
    }
  }
}"#;

    #[test]
    fn reproduces_firmware_history_byte_for_byte() {
        let doc = GatewayDocument::parse(FIRMWARE_HISTORY_DF6_E1.as_bytes()).unwrap();
        assert!(doc.rejected.is_empty());
        assert_eq!(doc.tags.len(), 2);
        assert_eq!(doc.tags[1].ble_tx_power, Some(8));
        assert_eq!(doc.tags[0].decoded.as_ref().unwrap().voc_index, Some(426.0));
        assert_eq!(
            doc.tags[0].decoded.as_ref().unwrap().mac_suffix,
            Some([0x4F, 0x8A, 0xA5])
        );
        assert_eq!(
            doc.to_firmware_json(FirmwareStyle::CURRENT_DECODED),
            FIRMWARE_HISTORY_DF6_E1
        );
    }

    #[test]
    fn firmware_post_with_df5_decoded() {
        // Decoded values from the gateway's unit test for this capture (data-formats §5).
        let doc = GatewayDocument {
            coordinates: String::new(),
            timestamp: Some(1787300000),
            nonce: Some(2636366621),
            gw_mac: Some("c8:25:2d:8e:9c:2c".parse().unwrap()),
            tags: vec![GatewayTag {
                mac: "F4:1F:0C:28:CB:D6".parse().unwrap(),
                rssi: -51,
                time: Some(TagTime::Timestamp(1787299998)),
                ble_phy: Some("1M".into()),
                ble_chan: Some(37),
                ble_tx_power: None,
                data: Some(
                    hex::decode("0201061BFF99040515714D9FC56DFFF0FFF803E4B516E84D7EF41F0C28CBD6")
                        .unwrap(),
                ),
                decoded_format: None,
                decoded: None,
            }],
            rejected: vec![],
        };
        let expected = r#"{
  "data": {
    "coordinates": "",
    "timestamp": 1787300000,
    "nonce": 2636366621,
    "gw_mac": "C8:25:2D:8E:9C:2C",
    "tags": {
      "F4:1F:0C:28:CB:D6": {
        "rssi": -51,
        "timestamp": 1787299998,
        "ble_phy": "1M",
        "ble_chan": 37,
        "data": "0201061BFF99040515714D9FC56DFFF0FFF803E4B516E84D7EF41F0C28CBD6",
        "dataFormat": 5,
        "temperature": 27.445,
        "humidity": 49.6775,
        "pressure": 100541,
        "accelX": -0.016,
        "accelY": -0.008,
        "accelZ": 0.996,
        "movementCounter": 232,
        "voltage": 3.048,
        "txPower": 4,
        "measurementSequenceNumber": 19838,
        "id": "F4:1F:0C:28:CB:D6"
      }
    }
  }
}"#;
        let body = doc.to_firmware_json(FirmwareStyle::CURRENT_DECODED);
        assert_eq!(body, expected);
        let back = GatewayDocument::parse(body.as_bytes()).unwrap();
        assert_eq!(back.to_firmware_json(FirmwareStyle::CURRENT_DECODED), body);
        assert_eq!(back.nonce, Some(2636366621));

        // `ruuvi` (raw only) and `ruuvi_decoded` (no data).
        let raw = doc.to_firmware_json(FirmwareStyle::CURRENT_RAW);
        assert!(raw.contains("\"data\": \"0201061B") && !raw.contains("dataFormat"));
        let decoded = doc.to_firmware_json(FirmwareStyle {
            fields: TagFields::Decoded,
            ..FirmwareStyle::CURRENT_RAW
        });
        assert!(!decoded.contains("\"data\": \"0201061B") && decoded.contains("\"dataFormat\": 5"));
        let back = GatewayDocument::parse(decoded.as_bytes()).unwrap();
        let (format, readings) = back.tags[0].readings().unwrap();
        assert_eq!(format, Some(crate::formats::DataFormat::Df5));
        assert_eq!(readings.temperature_c, Some(27.445));
        assert_eq!(readings.tx_power_dbm, Some(4));
    }

    #[test]
    fn air_formats_are_decoded_only_when_the_firmware_does() {
        let doc = GatewayDocument::parse(FIRMWARE_HISTORY_DF6_E1.as_bytes()).unwrap();
        let old = doc.to_firmware_json(FirmwareStyle {
            air_formats: false,
            ..FirmwareStyle::CURRENT_DECODED
        });
        assert!(!old.contains("dataFormat") && old.contains("\"data\": \"020106030398FC"));
    }

    #[test]
    fn empty_tags_and_legacy_strings() {
        let doc = GatewayDocument {
            timestamp: Some(1787300000),
            nonce: Some(2636366621),
            gw_mac: Some("C8:25:2D:8E:9C:2C".parse().unwrap()),
            ..Default::default()
        };
        // The same bytes the signature test vector uses.
        assert_eq!(
            doc.to_firmware_json(FirmwareStyle::CURRENT_RAW),
            crate::signature::tests::FIRMWARE_VECTOR_BODY
        );
        let legacy = doc.to_firmware_json(FirmwareStyle {
            legacy: true,
            ..FirmwareStyle::CURRENT_RAW
        });
        assert!(
            legacy.contains("\"timestamp\": \"1787300000\"")
                && legacy.contains("\"nonce\": \"2636366621\"")
        );
        assert_eq!(GatewayDocument::parse(legacy.as_bytes()).unwrap(), doc);
    }

    #[test]
    fn parses_seed_and_old_firmware_variants() {
        let seed =
            br#"{"data": {"coordinates": "", "timestamp": 1700000000, "gwmac": "11:22:33:aa:bb:cc",
            "tags": {"aa:bb:cc:dd:ee:ff": {"rssi": -60, "timestamp": 1699999998,
            "data": "0201061BFF99040512FC5394C37C0004FFFC040CAC364200CDCBB8334C884F"}}}}"#;
        let doc = GatewayDocument::parse(seed).unwrap();
        assert_eq!(doc.gw_mac.unwrap().to_string(), "11:22:33:AA:BB:CC");
        assert_eq!(doc.tags[0].mac.to_string(), "AA:BB:CC:DD:EE:FF");
        assert_eq!(doc.tags[0].time, Some(TagTime::Timestamp(1699999998)));
        assert_eq!(doc.tags[0].readings().unwrap().1.temperature_c, Some(24.3));

        let old = br#"{"data": {"coordinates": "", "timestamp": "1687922293", "nonce": "17", "gw_mac": "C8:25:2D:8E:9C:2C",
            "tags": {"F4:1F:0C:28:CB:D6": {"rssi": "-51", "counter": "42", "data": "0201061BFF99040515714D9FC56DFFF0FFF803E4B516E84D7EF41F0C28CBD6"},
                     "not a mac": {"rssi": -1},
                     "AA:BB:CC:DD:EE:FF": {"rssi": -70, "timestamp": 5, "data": "zz"}}}}"#;
        let doc = GatewayDocument::parse(old).unwrap();
        assert_eq!(doc.timestamp, Some(1687922293));
        assert_eq!(doc.nonce, Some(17));
        assert_eq!(doc.tags.len(), 1);
        assert_eq!(doc.tags[0].rssi, -51);
        assert_eq!(doc.tags[0].time, Some(TagTime::Counter(42)));
        assert_eq!(doc.rejected.len(), 2, "{:?}", doc.rejected);
    }

    #[test]
    fn document_without_gateway_mac_round_trips() {
        // Found by the gateway_json fuzz target: no `gw_mac` was written as "" and then rejected.
        let body = br#"{"data": {"coordinates": "", "timestac": "C8:25:2D:8E:9C:2C", "tags": {}}}"#;
        let doc = GatewayDocument::parse(body).unwrap();
        assert_eq!(doc.gw_mac, None);
        let text = doc.to_firmware_json(FirmwareStyle::CURRENT_RAW);
        assert!(text.contains("\"gw_mac\": \"\""));
        assert_eq!(GatewayDocument::parse(text.as_bytes()).unwrap(), doc);
    }

    #[test]
    fn structural_errors_are_typed() {
        assert!(matches!(
            GatewayDocument::parse(b"{"),
            Err(GatewayJsonError::NotJson(_))
        ));
        assert_eq!(
            GatewayDocument::parse(b"{}"),
            Err(GatewayJsonError::Missing("data"))
        );
        assert_eq!(
            GatewayDocument::parse(br#"{"data": {}}"#),
            Err(GatewayJsonError::Missing("tags"))
        );
        assert!(matches!(
            GatewayDocument::parse(br#"{"data": {"timestamp": -1, "tags": {}}}"#),
            Err(GatewayJsonError::BadField { .. })
        ));
    }

    #[test]
    fn limited_fixed_point_matches_json_stream_gen() {
        assert_eq!(limited_fixed_point(10.123, 2).unwrap(), "10.12");
        assert_eq!(limited_fixed_point(11.234, 3).unwrap(), "11.234");
        assert_eq!(limited_fixed_point(9.0, 1).unwrap(), "9.0");
        assert_eq!(limited_fixed_point(45.305, 4).unwrap(), "45.3050");
        assert_eq!(limited_fixed_point(-0.016, 3).unwrap(), "-0.016");
        assert_eq!(limited_fixed_point(1.5, 0).unwrap(), "2");
        assert_eq!(limited_fixed_point(2.5, 0).unwrap(), "2");
        // Above 2^24 decimals are dropped, then trailing zeros are written literally.
        assert_eq!(limited_fixed_point(1677721.4, 1).unwrap(), "1677721.4");
        assert_eq!(limited_fixed_point(167772140.0, 0).unwrap(), "167772140");
        assert_eq!(limited_fixed_point(f32::NAN, 1), None);
    }
}
