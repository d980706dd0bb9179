//! One measurement reaches us several ways (this computer's radio, a gateway's POST, its
//! `/history`), and a Ruuvi Air sends each measurement both as format 6 and as E1. Keep one.

use std::collections::{HashMap, VecDeque};

use ruuvi_protocol::{DataFormat, MacAddress, Observation};

/// How many recent measurements per sensor are remembered.
const RECENT: usize = 64;
/// While a sensor's E1 stream was heard this recently, its format-6 copies are dropped.
const E1_PREFERRED_FOR_MS: i64 = 60_000;

#[derive(Debug, Default)]
struct Recent {
    seen: VecDeque<(DataFormat, u32)>,
    last_e1_ms: Option<i64>,
}

#[derive(Debug, Default)]
pub struct Dedupe {
    sensors: HashMap<MacAddress, Recent>,
}

impl Dedupe {
    /// Whether `o` is new: not a copy of a measurement already kept.
    pub fn accept(&mut self, o: &Observation) -> bool {
        let (Some(format), Some(seq)) = (o.format, o.readings.measurement_sequence) else {
            // Without a sequence number copies cannot be told apart: keep everything.
            return true;
        };
        let recent = self.sensors.entry(o.sensor).or_default();
        if format == DataFormat::Df6 {
            let e1_heard = recent
                .last_e1_ms
                .is_some_and(|t| (o.received_at_ms - t).abs() < E1_PREFERRED_FOR_MS);
            // Format 6 carries the low byte of the E1 counter of the same sample.
            let e1_same = recent
                .seen
                .iter()
                .any(|&(f, s)| f == DataFormat::E1 && s & 0xFF == seq);
            if e1_heard || e1_same {
                return false;
            }
        }
        if recent.seen.contains(&(format, seq)) {
            return false;
        }
        if format == DataFormat::E1 {
            recent.last_e1_ms = Some(o.received_at_ms);
            // Its format-6 copy was heard first (a radio may catch either first) and kept:
            // the sample is kept once; E1 is kept from the next sample on.
            if recent
                .seen
                .iter()
                .any(|&(f, s)| f == DataFormat::Df6 && s == seq & 0xFF)
            {
                return false;
            }
        }
        if recent.seen.len() == RECENT {
            recent.seen.pop_front();
        }
        recent.seen.push_back((format, seq));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ruuvi_protocol::{Feed, Readings};

    fn o(format: DataFormat, seq: u32, at: i64, feed: Feed) -> Observation {
        Observation {
            sensor: "AA:BB:CC:DD:EE:FF".parse().unwrap(),
            feed,
            received_at_ms: at,
            seen_at_s: None,
            rssi: None,
            format: Some(format),
            readings: Readings {
                measurement_sequence: Some(seq),
                ..Readings::default()
            },
        }
    }

    #[test]
    fn one_measurement_from_three_feeds_is_kept_once() {
        let mut d = Dedupe::default();
        let gw = Some("C8:25:2D:8E:9C:2C".parse().unwrap());
        assert!(d.accept(&o(DataFormat::Df5, 7, 0, Feed::Ble)));
        assert!(!d.accept(&o(DataFormat::Df5, 7, 5, Feed::GatewayPost { gateway: gw })));
        assert!(!d.accept(&o(
            DataFormat::Df5,
            7,
            9,
            Feed::GatewayHistory { gateway: gw }
        )));
        assert!(d.accept(&o(DataFormat::Df5, 8, 1000, Feed::Ble)));
    }

    #[test]
    fn e1_is_preferred_over_format_6() {
        let mut d = Dedupe::default();
        // E1 first: the format-6 copy (low byte of the counter) is dropped.
        assert!(d.accept(&o(DataFormat::E1, 0x1234, 0, Feed::Ble)));
        assert!(!d.accept(&o(DataFormat::Df6, 0x34, 10, Feed::Ble)));
        // While E1 is heard, format 6 is not needed at all.
        assert!(!d.accept(&o(DataFormat::Df6, 0x99, 30_000, Feed::Ble)));
        // Format 6 heard first: its E1 twin is not kept again, the next sample is kept as E1
        // and its format-6 copy dropped.
        let mut d = Dedupe::default();
        assert!(d.accept(&o(DataFormat::Df6, 0x35, 0, Feed::Ble)));
        assert!(!d.accept(&o(DataFormat::E1, 0x1235, 5, Feed::Ble)));
        assert!(d.accept(&o(DataFormat::E1, 0x1236, 1000, Feed::Ble)));
        assert!(!d.accept(&o(DataFormat::Df6, 0x36, 1005, Feed::Ble)));
        // A sensor heard only in format 6 (an old receiver) keeps it.
        let mut d = Dedupe::default();
        assert!(d.accept(&o(DataFormat::Df6, 1, 0, Feed::Ble)));
        assert!(d.accept(&o(DataFormat::Df6, 2, 1000, Feed::Ble)));
        // No sequence: kept.
        let mut none = o(DataFormat::Df3, 0, 0, Feed::Ble);
        none.readings.measurement_sequence = None;
        assert!(d.accept(&none) && d.accept(&none));
    }
}
