//! The log a RuuviTag (firmware 3.x) or a Ruuvi Air keeps inside, read over the Nordic UART
//! Service, as Ruuvi documents it (docs.ruuvi.com → Bluetooth connection → NUS → "Read logged
//! history" and "Read logged history – Ruuvi Air"). This module is the protocol only — the
//! request and the parsing of what comes back; [`crate::download`] does the Bluetooth part.
//!
//! RuuviTag: one request for all environmental values (`3A 3A 11`, the time now and the time
//! to start from, each u32 big-endian seconds); the tag answers with 11-byte messages, each one
//! value at one time (`3A 30 10` temperature, i32 0.01 °C; `3A 31 10` humidity, u32 0.01 %RH;
//! `3A 32 10` pressure, u32 Pa) and ends with a message whose payload is all `FF`. A tag that
//! gives up (after 5 minutes) sends type `F0`; the log can be read again from the last time
//! received. The three values of one time are one record.
//!
//! Ruuvi Air: `3B 3B 21` (multi-record read) with the same two times; the answers are
//! `dest 3B 20 n 26` followed by `n` records of 38 bytes (time, then an E1 measurement without
//! its MAC), and `3B 3B 20 00 26` at the end.
//!
//! UNVERIFIED (no public document says; we follow the RuuviTag's rules, as Ruuvi's newest
//! open-source readers do): whether a Ruuvi Air also ends a read cut short by its own time limit
//! with type `F0` (read here as "gave up" from either kind); the first byte of an answer (the
//! "source index" of the request) is not checked; bytes 23–28 of an Air record are "reserved"
//! (luminosity and sound in an advertisement) and are not read.

use std::collections::BTreeMap;

use ruuvi_protocol::{DataFormat, Readings};

/// The Nordic UART Service and its characteristics (RX: we write; TX: the sensor notifies).
pub const NUS_SERVICE: &str = "6e400001-b5a3-f393-e0a9-e50e24dcca9e";
pub const NUS_RX: &str = "6e400002-b5a3-f393-e0a9-e50e24dcca9e";
pub const NUS_TX: &str = "6e400003-b5a3-f393-e0a9-e50e24dcca9e";

const TEMPERATURE: u8 = 0x30;
const HUMIDITY: u8 = 0x31;
const PRESSURE: u8 = 0x32;
const ENVIRONMENTAL: u8 = 0x3A;
const AIR_QUALITY: u8 = 0x3B;
const LOG_READ: u8 = 0x11;
const LOG_WRITE: u8 = 0x10;
const MULTI_LOG_READ: u8 = 0x21;
const MULTI_LOG_WRITE: u8 = 0x20;
const GAVE_UP: u8 = 0xF0;
const AIR_RECORD: usize = 38;

/// Which kind of sensor keeps the log (they answer differently).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum LogKind {
    RuuviTag,
    RuuviAir,
}

/// The log-read request: everything from `since_s` on, the sensor told that it is `now_s`
/// (its log's times are relative to its start; it turns them into real times with this).
pub fn request(kind: LogKind, now_s: u32, since_s: u32) -> [u8; 11] {
    let (endpoint, op) = match kind {
        LogKind::RuuviTag => (ENVIRONMENTAL, LOG_READ),
        LogKind::RuuviAir => (AIR_QUALITY, MULTI_LOG_READ),
    };
    let mut out = [0; 11];
    out[..3].copy_from_slice(&[endpoint, endpoint, op]);
    out[3..7].copy_from_slice(&now_s.to_be_bytes());
    out[7..].copy_from_slice(&since_s.to_be_bytes());
    out
}

/// One logged measurement.
#[derive(Debug, Clone, PartialEq)]
pub struct LogRecord {
    /// When it was measured (Unix s, as the sensor computed it from the time we sent).
    pub at_s: u32,
    /// E1 for a Ruuvi Air's record; a RuuviTag's log has no format.
    pub format: Option<DataFormat>,
    pub readings: Readings,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum HistoryError {
    #[error("message {index} is malformed ({reason}): {hex}")]
    Malformed {
        index: usize,
        reason: &'static str,
        hex: String,
    },
    /// The tag's own time limit (5 minutes) ran out; reading again from the last record goes on.
    #[error("the sensor stopped sending its log (its time limit ran out)")]
    GaveUp,
}

/// Reads the answers, message by message, until the end marker.
#[derive(Debug)]
pub struct LogReader {
    kind: LogKind,
    records: BTreeMap<u32, LogRecord>,
    messages: usize,
    done: bool,
}

impl LogReader {
    pub fn new(kind: LogKind) -> Self {
        Self {
            kind,
            records: BTreeMap::new(),
            messages: 0,
            done: false,
        }
    }

    /// Whether the end marker has arrived.
    pub fn done(&self) -> bool {
        self.done
    }

    /// Records so far (each time once).
    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// The newest time received: where a read that was cut off goes on from.
    pub fn last_at_s(&self) -> Option<u32> {
        self.records.keys().next_back().copied()
    }

    /// Everything received, oldest first (what came before an error included).
    pub fn into_records(self) -> Vec<LogRecord> {
        self.records.into_values().collect()
    }

    /// One notification's bytes. A RuuviTag's may hold several 11-byte messages.
    pub fn push(&mut self, notification: &[u8]) -> Result<(), HistoryError> {
        match self.kind {
            LogKind::RuuviTag => {
                if notification.is_empty() || !notification.len().is_multiple_of(11) {
                    return Err(self.malformed(notification, "not 11-byte messages"));
                }
                for message in notification.chunks(11) {
                    self.tag_message(message)?;
                }
                Ok(())
            }
            LogKind::RuuviAir => self.air_message(notification),
        }
    }

    fn malformed(&self, bytes: &[u8], reason: &'static str) -> HistoryError {
        HistoryError::Malformed {
            index: self.messages,
            reason,
            hex: hex::encode(bytes),
        }
    }

    fn tag_message(&mut self, m: &[u8]) -> Result<(), HistoryError> {
        self.messages += 1;
        let (src, op) = (m[1], m[2]);
        if op == GAVE_UP {
            return Err(HistoryError::GaveUp);
        }
        if op != LOG_WRITE {
            return Err(self.malformed(m, "not a log message"));
        }
        if m[3..].iter().all(|b| *b == 0xFF) {
            self.done = true;
            return Ok(());
        }
        let at_s = u32::from_be_bytes([m[3], m[4], m[5], m[6]]);
        let raw = [m[7], m[8], m[9], m[10]];
        let record = self.records.entry(at_s).or_insert_with(|| LogRecord {
            at_s,
            format: None,
            readings: Readings::default(),
        });
        let r = &mut record.readings;
        match src {
            TEMPERATURE => r.temperature_c = Some(f64::from(i32::from_be_bytes(raw)) / 100.0),
            HUMIDITY => r.humidity_pct = Some(f64::from(u32::from_be_bytes(raw)) / 100.0),
            PRESSURE => r.pressure_pa = Some(f64::from(u32::from_be_bytes(raw))),
            _ => {
                // Not a value we asked for: drop the half-made record if it is empty.
                if self
                    .records
                    .get(&at_s)
                    .is_some_and(|r| r.readings == Readings::default())
                {
                    self.records.remove(&at_s);
                }
                return Err(self.malformed(m, "unknown value"));
            }
        }
        Ok(())
    }

    fn air_message(&mut self, m: &[u8]) -> Result<(), HistoryError> {
        self.messages += 1;
        let [_, src, op, n, len, records @ ..] = m else {
            return Err(self.malformed(m, "shorter than its header"));
        };
        if *op == GAVE_UP {
            return Err(HistoryError::GaveUp);
        }
        if *src != AIR_QUALITY || *op != MULTI_LOG_WRITE {
            return Err(self.malformed(m, "not a multi-record log message"));
        }
        if usize::from(*len) != AIR_RECORD {
            return Err(self.malformed(m, "records are not 38 bytes"));
        }
        if *n == 0 {
            self.done = true;
            return Ok(());
        }
        if records.len() != usize::from(*n) * AIR_RECORD {
            return Err(self.malformed(m, "fewer bytes than records"));
        }
        for record in records.chunks(AIR_RECORD) {
            let r = air_record(record).ok_or_else(|| self.malformed(m, "not an E1 record"))?;
            self.records.insert(r.at_s, r);
        }
        Ok(())
    }
}

/// A 38-byte Ruuvi Air record: time, then an E1 measurement (invalid values are absent).
fn air_record(b: &[u8]) -> Option<LogRecord> {
    if b[4] != 0xE1 {
        return None;
    }
    let u16_at = |i: usize| u16::from_be_bytes([b[i], b[i + 1]]);
    let valid = |v: u16| (v != 0xFFFF).then_some(v);
    let pm = |i: usize| valid(u16_at(i)).map(|v| f64::from(v) / 10.0);
    let nine_bit = |byte: u8, bit: u8| {
        let v = (u16::from(byte) << 1) | u16::from((b[32] >> bit) & 1);
        (v != 0x1FF).then_some(f64::from(v))
    };
    let temperature = i16::from_be_bytes([b[5], b[6]]);
    let sequence = u32::from_be_bytes([0, b[29], b[30], b[31]]);
    let readings = Readings {
        temperature_c: (temperature != i16::MIN).then_some(f64::from(temperature) / 200.0),
        humidity_pct: valid(u16_at(7)).map(|v| f64::from(v) / 400.0),
        pressure_pa: valid(u16_at(9)).map(|v| f64::from(v) + 50_000.0),
        pm1_0: pm(11),
        pm2_5: pm(13),
        pm4_0: pm(15),
        pm10_0: pm(17),
        co2_ppm: valid(u16_at(19)).map(f64::from),
        voc_index: nine_bit(b[21], 6),
        nox_index: nine_bit(b[22], 7),
        measurement_sequence: (sequence != 0xFF_FFFF).then_some(sequence),
        ..Readings::default()
    };
    Some(LogRecord {
        at_s: u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
        format: Some(DataFormat::E1),
        readings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        hex::decode(s.replace(' ', "")).unwrap()
    }

    #[test]
    fn requests_are_as_documented() {
        // Ruuvi's Air example. Erratum: its text says "now 1733763600, from 1733760000" but
        // its bytes are 0x675701B0 and 0x6756F200 (1733755312 and 1733751296); the bytes are
        // the wire format, so they are the vector.
        assert_eq!(
            request(LogKind::RuuviAir, 0x6757_01B0, 0x6756_F200).to_vec(),
            hex("3B 3B 21 67 57 01 B0 67 56 F2 00")
        );
        // RuuviTag's: all environmental values, now 0x5D6740ED, from 0x5D57FEAD.
        assert_eq!(
            request(LogKind::RuuviTag, 0x5D67_40ED, 0x5D57_FEAD).to_vec(),
            hex("3A 3A 11 5D 67 40 ED 5D 57 FE AD")
        );
    }

    #[test]
    fn a_tags_log_is_read_into_records_until_the_end_marker() {
        let mut log = LogReader::new(LogKind::RuuviTag);
        // The documented values: 24.45 °C, then −18.76 °C (the docs' first example shows
        // the value with a fifth byte too many; four are sent).
        log.push(&hex("3A 30 10 5D57FEAD 0000098D")).unwrap();
        log.push(&hex("3A 31 10 5D57FEAD 0000098D")).unwrap();
        log.push(&hex("3A 32 10 5D57FEAD 00018A88")).unwrap();
        // Two messages in one notification.
        log.push(&hex(
            "3A 30 10 5D6740ED FFFFF8AC 3A 32 10 5D6740ED 00018A92",
        ))
        .unwrap();
        assert!(!log.done());
        log.push(&hex("3A 3A 10 FFFFFFFF FFFFFFFF")).unwrap();
        assert!(log.done());
        let records = log.into_records();
        assert_eq!(records.len(), 2);
        let first = &records[0].readings;
        assert_eq!(records[0].at_s, 0x5D57_FEAD);
        assert_eq!(first.temperature_c, Some(24.45));
        assert_eq!(first.humidity_pct, Some(24.45));
        assert_eq!(first.pressure_pa, Some(101_000.0));
        assert_eq!(records[1].readings.temperature_c, Some(-18.76));
        assert_eq!(records[1].readings.humidity_pct, None);
    }

    #[test]
    fn bad_answers_are_errors_and_what_came_before_is_kept() {
        let mut log = LogReader::new(LogKind::RuuviTag);
        log.push(&hex("3A 30 10 5D57FEAD 0000098D")).unwrap();
        let e = log.push(&hex("3A 30 10 5D57")).unwrap_err();
        assert!(matches!(e, HistoryError::Malformed { index: 1, .. }), "{e}");
        assert!(matches!(
            log.push(&hex("3A 39 10 5D57FEAE 00000001")),
            Err(HistoryError::Malformed {
                reason: "unknown value",
                ..
            })
        ));
        assert_eq!(
            log.push(&hex("3A 3A F0 FFFFFFFF FFFFFFFF")),
            Err(HistoryError::GaveUp)
        );
        assert_eq!(log.last_at_s(), Some(0x5D57_FEAD));
        assert_eq!(
            log.into_records().len(),
            1,
            "the record before the errors is kept"
        );
    }

    /// A record as the docs lay it out: 21.5 °C, 45 %, 101 325 Pa, PM 1.0/2.5/4.0/10.0,
    /// 600 ppm, VOC 101, NOx 2 (their low bits in the flags), sequence 0x010203.
    fn air_bytes(at_s: u32) -> Vec<u8> {
        let mut b = at_s.to_be_bytes().to_vec();
        b.push(0xE1);
        b.extend(4300_i16.to_be_bytes());
        b.extend(18_000_u16.to_be_bytes());
        b.extend(51_325_u16.to_be_bytes());
        for pm in [10_u16, 25, 40, 100] {
            b.extend(pm.to_be_bytes());
        }
        b.extend(600_u16.to_be_bytes());
        b.push(101 >> 1);
        b.push(2 >> 1);
        b.extend([0xFF; 6]);
        b.extend([0x01, 0x02, 0x03]);
        b.push(0b0100_0000); // VOC's low bit 1, NOx's 0
        b.extend([0xFF; 5]);
        assert_eq!(b.len(), AIR_RECORD);
        b
    }

    #[test]
    fn an_airs_multi_record_messages_are_read() {
        let mut log = LogReader::new(LogKind::RuuviAir);
        let mut m = hex("3B 3B 20 02 26");
        m.extend(air_bytes(1_733_760_000));
        m.extend(air_bytes(1_733_760_300));
        log.push(&m).unwrap();
        log.push(&hex("3B 3B 20 00 26")).unwrap();
        assert!(log.done());
        let records = log.into_records();
        assert_eq!(records.len(), 2);
        let r = &records[0].readings;
        assert_eq!(records[0].format, Some(DataFormat::E1));
        assert_eq!(r.temperature_c, Some(21.5));
        assert_eq!(r.humidity_pct, Some(45.0));
        assert_eq!(r.pressure_pa, Some(101_325.0));
        assert_eq!(
            (r.pm1_0, r.pm2_5, r.pm4_0, r.pm10_0),
            (Some(1.0), Some(2.5), Some(4.0), Some(10.0))
        );
        assert_eq!(
            (r.co2_ppm, r.voc_index, r.nox_index),
            (Some(600.0), Some(101.0), Some(2.0))
        );
        assert_eq!(r.measurement_sequence, Some(0x01_0203));
        // A record count that does not match the bytes.
        let mut log = LogReader::new(LogKind::RuuviAir);
        let mut m = hex("3B 3B 20 03 26");
        m.extend(air_bytes(1));
        assert!(matches!(log.push(&m), Err(HistoryError::Malformed { .. })));
    }
}
