//! Ruuvi advertisement payload formats (data-formats.md §4–§9).
//!
//! Each format has a struct of the raw on-air integer codes (so decode → encode reproduces the
//! bytes exactly), accessors that apply scaling and the "not available" sentinels, and a
//! constructor from [`Readings`] that clips like the official C encoder.

pub mod df3;
pub mod df5;
pub mod df6;
pub mod df8;
pub mod e1;

use serde::{Deserialize, Serialize};

use crate::adv::ruuvi_payload;
use crate::error::DecodeError;
use crate::readings::Readings;

pub use df3::Df3;
pub use df5::{Df5, C5};
pub use df6::Df6;
pub use df8::Df8;
pub use e1::E1;

/// The data-format byte that starts every Ruuvi payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
pub enum DataFormat {
    Df3,
    Df5,
    C5,
    Df6,
    E1,
    Df8,
}

impl DataFormat {
    pub const ALL: [DataFormat; 6] = [
        Self::Df3,
        Self::Df5,
        Self::C5,
        Self::Df6,
        Self::E1,
        Self::Df8,
    ];

    pub const fn code(self) -> u8 {
        match self {
            Self::Df3 => 0x03,
            Self::Df5 => 0x05,
            Self::C5 => 0xC5,
            Self::Df6 => 0x06,
            Self::E1 => 0xE1,
            Self::Df8 => 0x08,
        }
    }

    pub const fn payload_len(self) -> usize {
        match self {
            Self::Df3 => 14,
            Self::Df5 | Self::Df8 => 24,
            Self::C5 => 18,
            Self::Df6 => 20,
            Self::E1 => 40,
        }
    }

    pub fn from_code(code: u8) -> Result<Self, DecodeError> {
        Self::ALL
            .into_iter()
            .find(|f| f.code() == code)
            .ok_or(DecodeError::UnsupportedFormat(code))
    }
}

/// One decoded payload, by format, with its raw codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measurement {
    Df3(Df3),
    Df5(Df5),
    C5(C5),
    Df6(Df6),
    E1(E1),
    Df8(Df8),
}

impl Measurement {
    pub fn format(&self) -> DataFormat {
        match self {
            Self::Df3(_) => DataFormat::Df3,
            Self::Df5(_) => DataFormat::Df5,
            Self::C5(_) => DataFormat::C5,
            Self::Df6(_) => DataFormat::Df6,
            Self::E1(_) => DataFormat::E1,
            Self::Df8(_) => DataFormat::Df8,
        }
    }

    // Always inlined: the caller then builds the one `Readings` value in place (measured in
    // benches/decode.rs; without it the decode + readings path was ~1.5x slower).
    #[inline(always)]
    pub fn readings(&self) -> Readings {
        match self {
            Self::Df3(m) => m.readings(),
            Self::Df5(m) => m.readings(),
            Self::C5(m) => m.readings(),
            Self::Df6(m) => m.readings(),
            Self::E1(m) => m.readings(),
            Self::Df8(m) => m.readings(),
        }
    }

    /// Encodes `readings` in `format`. Format 8 needs a key: use [`Df8::encrypt`].
    pub fn from_readings(format: DataFormat, readings: &Readings) -> Self {
        match format {
            DataFormat::Df3 => Self::Df3(Df3::from_readings(readings)),
            DataFormat::Df5 => Self::Df5(Df5::from_readings(readings)),
            DataFormat::C5 => Self::C5(C5::from_readings(readings)),
            DataFormat::Df6 => Self::Df6(Df6::from_readings(readings)),
            DataFormat::E1 => Self::E1(E1::from_readings(readings)),
            DataFormat::Df8 => Self::Df8(Df8::from_readings(readings)),
        }
    }

    /// The plaintext payload bytes. Format 8 is returned unencrypted here; see [`Df8::encrypt`].
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Self::Df3(m) => m.encode().to_vec(),
            Self::Df5(m) => m.encode().to_vec(),
            Self::C5(m) => m.encode().to_vec(),
            Self::Df6(m) => m.encode().to_vec(),
            Self::E1(m) => m.encode().to_vec(),
            Self::Df8(m) => m.plaintext().to_vec(),
        }
    }

    /// A raw advertisement carrying this measurement, laid out as the device sends it
    /// (data-formats §2.3). Format 8 needs a key: see [`Df8::encrypt`].
    pub fn to_advertisement(&self) -> Vec<u8> {
        advertisement_for(self.format(), &self.encode())
    }
}

/// Wraps a payload in the AD structures a Ruuvi device sends for that format.
pub fn advertisement_for(format: DataFormat, payload: &[u8]) -> Vec<u8> {
    use crate::adv::{build_advertisement, ruuvi_manufacturer_data};
    let md = ruuvi_manufacturer_data(payload);
    const FLAGS: (u8, &[u8]) = (0x01, &[0x06]);
    const AIR_UUID: (u8, &[u8]) = (0x03, &[0x98, 0xFC]);
    match format {
        DataFormat::Df6 => build_advertisement(&[FLAGS, AIR_UUID, (0xFF, &md)]),
        DataFormat::E1 => build_advertisement(&[(0xFF, &md), AIR_UUID]),
        _ => build_advertisement(&[FLAGS, (0xFF, &md)]),
    }
}

/// Decodes a payload that starts with the data-format byte (as btleplug gives manufacturer
/// data for company 0x0499). Format 8 fails with [`DecodeError::KeyRequired`].
#[inline]
pub fn decode_payload(payload: &[u8]) -> Result<Measurement, DecodeError> {
    decode_payload_with_key(payload, None)
}

/// Like [`decode_payload`], decrypting format 8 with `key` when given.
#[inline(always)]
pub fn decode_payload_with_key(
    payload: &[u8],
    key: Option<&[u8; 16]>,
) -> Result<Measurement, DecodeError> {
    let Some(&code) = payload.first() else {
        return Err(DecodeError::Empty);
    };
    let format = DataFormat::from_code(code)?;
    if payload.len() != format.payload_len() {
        return Err(DecodeError::WrongLength {
            format: code,
            expected: format.payload_len(),
            actual: payload.len(),
        });
    }
    Ok(match format {
        DataFormat::Df3 => Measurement::Df3(Df3::decode(payload)?),
        DataFormat::Df5 => Measurement::Df5(Df5::decode(payload)?),
        DataFormat::C5 => Measurement::C5(C5::decode(payload)?),
        DataFormat::Df6 => Measurement::Df6(Df6::decode(payload)?),
        DataFormat::E1 => Measurement::E1(E1::decode(payload)?),
        DataFormat::Df8 => match key {
            Some(key) => Measurement::Df8(Df8::decrypt(payload, key)?),
            None => return Err(DecodeError::KeyRequired),
        },
    })
}

/// Decodes a whole raw advertisement (AD structures, e.g. a gateway's `data` field).
#[inline]
pub fn decode_advertisement(raw: &[u8]) -> Result<Measurement, DecodeError> {
    decode_payload(ruuvi_payload(raw)?)
}

/// Decodes bytes that are either a bare payload (first byte a known format, exact length) or
/// a raw advertisement.
pub fn decode_any(bytes: &[u8], key: Option<&[u8; 16]>) -> Result<Measurement, DecodeError> {
    if let Some(&first) = bytes.first() {
        if let Ok(format) = DataFormat::from_code(first) {
            if bytes.len() == format.payload_len() {
                return decode_payload_with_key(bytes, key);
            }
        }
    }
    match ruuvi_payload(bytes) {
        Ok(payload) => decode_payload_with_key(payload, key),
        // Not an advertisement either: report it as a payload problem when it starts like one.
        Err(err) => match bytes.first().map(|&b| DataFormat::from_code(b)) {
            Some(Ok(_)) => decode_payload_with_key(bytes, key),
            _ => Err(err),
        },
    }
}

/// Parses hex (any case, optional `0x`, spaces ignored) and decodes it with [`decode_any`].
pub fn decode_hex(text: &str, key: Option<&[u8; 16]>) -> Result<Measurement, DecodeError> {
    decode_any(&parse_hex(text)?, key)
}

/// Hex text to bytes: any case, optional `0x` prefix, white space ignored.
pub fn parse_hex(text: &str) -> Result<Vec<u8>, DecodeError> {
    let trimmed = text.trim();
    let body = trimmed
        .strip_prefix("0x")
        .or_else(|| trimmed.strip_prefix("0X"))
        .unwrap_or(trimmed);
    let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.is_empty() {
        return Err(DecodeError::Empty);
    }
    hex::decode(&compact).map_err(|e| DecodeError::InvalidHex(e.to_string()))
}

// ---- shared field codecs (formats 5, C5, 6, 8, E1 use the same scales) ----

pub(crate) fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

pub(crate) fn be24(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([0, b[at], b[at + 1], b[at + 2]])
}

pub(crate) fn temperature_c(raw: i16) -> Option<f64> {
    (raw != i16::MIN).then(|| f64::from(raw) / 200.0)
}

pub(crate) fn humidity_pct(raw: u16) -> Option<f64> {
    (raw != u16::MAX).then(|| f64::from(raw) / 400.0)
}

pub(crate) fn pressure_pa(raw: u16) -> Option<f64> {
    (raw != u16::MAX).then(|| f64::from(raw) + 50_000.0)
}

pub(crate) fn tenths(raw: u16) -> Option<f64> {
    (raw != u16::MAX).then(|| f64::from(raw) / 10.0)
}

pub(crate) fn plain_u16(raw: u16) -> Option<f64> {
    (raw != u16::MAX).then(|| f64::from(raw))
}

pub(crate) fn battery_v(power_info: u16) -> Option<f64> {
    let code = power_info >> 5;
    (code != 0x7FF).then(|| f64::from(1600 + code) / 1000.0)
}

pub(crate) fn tx_power_dbm(power_info: u16) -> Option<i16> {
    let code = power_info & 0x1F;
    (code != 0x1F).then(|| -40 + 2 * code as i16)
}

/// 9-bit value: the byte holds bits 8..1, a flags bit holds bit 0 (data-formats §0.1).
pub(crate) fn nine_bit(high: u8, flags: u8, bit: u8) -> u16 {
    (u16::from(high) << 1) | u16::from((flags >> bit) & 1)
}

pub(crate) fn nine_bit_value(raw: u16) -> Option<f64> {
    (raw != 0x1FF).then(|| f64::from(raw))
}

pub(crate) fn sound_dba(raw: u16) -> Option<f64> {
    // s/5 + 18, written so the division is the last (correctly rounded) step.
    (raw != 0x1FF).then(|| (f64::from(raw) + 90.0) / 5.0)
}

fn round_clip(value: f64, scale: f64, min: f64, max: f64) -> f64 {
    (value * scale).round().clamp(min, max)
}

pub(crate) fn encode_temperature(v: Option<f64>) -> i16 {
    v.filter(|v| !v.is_nan())
        .map_or(i16::MIN, |v| round_clip(v, 200.0, -32767.0, 32767.0) as i16)
}

pub(crate) fn encode_humidity(v: Option<f64>, max_code: u16) -> u16 {
    v.filter(|v| !v.is_nan()).map_or(u16::MAX, |v| {
        round_clip(v, 400.0, 0.0, f64::from(max_code)) as u16
    })
}

pub(crate) fn encode_pressure(v: Option<f64>) -> u16 {
    v.filter(|v| !v.is_nan()).map_or(u16::MAX, |v| {
        round_clip(v - 50_000.0, 1.0, 0.0, 65534.0) as u16
    })
}

pub(crate) fn encode_scaled_u16(v: Option<f64>, scale: f64, max_code: u16) -> u16 {
    v.filter(|v| !v.is_nan()).map_or(u16::MAX, |v| {
        round_clip(v, scale, 0.0, f64::from(max_code)) as u16
    })
}

pub(crate) fn encode_power_info(battery_v: Option<f64>, tx_power_dbm: Option<i16>) -> u16 {
    let batt = battery_v.filter(|v| !v.is_nan()).map_or(0x7FF, |v| {
        (v * 1000.0 - 1600.0).round().clamp(0.0, 2046.0) as u16
    });
    let tx = tx_power_dbm.map_or(0x1F, |dbm| {
        ((f64::from(dbm) + 40.0) / 2.0).round().clamp(0.0, 30.0) as u16
    });
    (batt << 5) | tx
}

pub(crate) fn encode_nine_bit(v: Option<f64>, max: f64) -> u16 {
    v.filter(|v| !v.is_nan())
        .map_or(0x1FF, |v| v.round().clamp(0.0, max) as u16)
}

pub(crate) fn encode_sound(v: Option<f64>) -> u16 {
    v.filter(|v| !v.is_nan()).map_or(0x1FF, |v| {
        ((v - 18.0) * 5.0).round().clamp(0.0, 510.0) as u16
    })
}

pub(crate) fn encode_counter(v: Option<u32>, max_valid: u32, unavailable: u32) -> u32 {
    // The C encoder writes "not available" for anything beyond the valid range.
    v.filter(|&v| v <= max_valid).unwrap_or(unavailable)
}

pub(crate) fn mac_or_unavailable(readings: &Readings) -> [u8; 6] {
    readings.mac.map_or([0xFF; 6], |m| m.bytes())
}

pub(crate) fn some_mac(bytes: [u8; 6]) -> Option<crate::mac::MacAddress> {
    let mac = crate::mac::MacAddress(bytes);
    (!mac.is_unavailable()).then_some(mac)
}

pub(crate) fn check_len(payload: &[u8], format: DataFormat) -> Result<(), DecodeError> {
    if payload.first() != Some(&format.code()) {
        return Err(match payload.first() {
            Some(&c) => DecodeError::UnsupportedFormat(c),
            None => DecodeError::Empty,
        });
    }
    if payload.len() != format.payload_len() {
        return Err(DecodeError::WrongLength {
            format: format.code(),
            expected: format.payload_len(),
            actual: payload.len(),
        });
    }
    Ok(())
}

/// Tolerance for comparing scaled values in tests.
#[cfg(test)]
pub(crate) fn assert_close(actual: Option<f64>, expected: f64, tolerance: f64, what: &str) {
    let actual = actual.unwrap_or_else(|| panic!("{what}: expected {expected}, got N/A"));
    assert!(
        (actual - expected).abs() <= tolerance,
        "{what}: expected {expected}, got {actual}"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_format_and_bad_lengths_are_typed_errors() {
        assert_eq!(decode_payload(&[]), Err(DecodeError::Empty));
        assert_eq!(
            decode_payload(&[0x02, 1, 2]),
            Err(DecodeError::UnsupportedFormat(0x02))
        );
        assert_eq!(
            decode_payload(&[0x05; 23]),
            Err(DecodeError::WrongLength {
                format: 5,
                expected: 24,
                actual: 23
            })
        );
        assert_eq!(
            decode_payload(&[0x05; 25]),
            Err(DecodeError::WrongLength {
                format: 5,
                expected: 24,
                actual: 25
            })
        );
        assert_eq!(decode_payload(&[0x08; 24]), Err(DecodeError::KeyRequired));
    }

    #[test]
    fn decode_hex_accepts_payload_or_advertisement() {
        let payload = "0512FC5394C37C0004FFFC040CAC364200CDCBB8334C884F";
        let adv = format!("0201061BFF9904{payload}");
        let a = decode_hex(payload, None).unwrap();
        let b = decode_hex(&adv.to_lowercase(), None).unwrap();
        assert_eq!(a, b);
        assert_eq!(
            decode_hex(" 0x0512 ", None),
            Err(DecodeError::WrongLength {
                format: 5,
                expected: 24,
                actual: 2
            })
        );
        assert!(matches!(
            decode_hex("05zz", None),
            Err(DecodeError::InvalidHex(_))
        ));
        assert_eq!(decode_hex("", None), Err(DecodeError::Empty));
    }

    #[test]
    fn advertisement_layouts_match_the_spec() {
        // data-formats §2.3 and the real gateway captures.
        let df6 = "020106030398FC17FF990406143A6194C636005A0330D500F7FF10944F8AA5";
        let m = decode_hex(df6, None).unwrap();
        assert_eq!(hex::encode_upper(m.to_advertisement()), df6);
        let e1 = "2BFF9904E114595CB0C6460030003A0041004402364300FFFFFFFFFFFF103B37F8FFFFFFFFFFFD546F6C5292030398FC";
        let m = decode_hex(e1, None).unwrap();
        assert_eq!(hex::encode_upper(m.to_advertisement()), e1);
        let df5 = "0201061BFF99040513C85714C7CC00240008041CAB76F41C3CC6A5B9E0AD06";
        assert_eq!(
            hex::encode_upper(decode_hex(df5, None).unwrap().to_advertisement()),
            df5
        );
    }
}
