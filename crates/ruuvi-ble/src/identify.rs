//! Advertisement → `Observation`: decode the Ruuvi payload and name the sensor. On Linux and
//! Windows the radio gives the advertiser's MAC; on macOS it does not (CoreBluetooth hides
//! it), so the MAC inside the payload is used (formats 5, C5, E1 carry all of it; format 6 only
//! the lowest three bytes, completed from a full MAC seen with the same suffix).

use std::collections::HashMap;

use ruuvi_protocol::formats::decode_payload;
use ruuvi_protocol::{DecodeError, Feed, MacAddress, Observation};

/// One advertisement as a radio (or a recording) gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Advertisement {
    /// When it was received (Unix ms, this computer's clock).
    pub at_ms: i64,
    /// The advertiser address; `None` where the OS hides it.
    pub address: Option<MacAddress>,
    pub rssi: Option<i16>,
    /// Ruuvi manufacturer data (company 0x0499), starting at the data-format byte.
    pub payload: Vec<u8>,
}

/// Why an advertisement gave no observation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentifyError {
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// No address from the radio, and none (or only a suffix never seen whole) in the payload.
    #[error(
        "cannot tell which sensor sent this {0}-byte payload (no MAC from the radio or in it)"
    )]
    Anonymous(usize),
}

/// Names sensors; remembers full MACs by their last three bytes for format-6 payloads.
#[derive(Debug, Default)]
pub struct Identify {
    by_suffix: HashMap<[u8; 3], MacAddress>,
}

impl Identify {
    pub fn observe(&mut self, adv: &Advertisement) -> Result<Observation, IdentifyError> {
        let m = decode_payload(&adv.payload)?;
        let readings = m.readings();
        if let Some(mac) = readings.mac {
            self.by_suffix.insert([mac.0[3], mac.0[4], mac.0[5]], mac);
        }
        let sensor = match (adv.address, readings.mac, readings.mac_suffix) {
            (Some(address), _, _) => address,
            (None, Some(mac), _) => mac,
            (None, None, Some(suffix)) => *self
                .by_suffix
                .get(&suffix)
                .ok_or(IdentifyError::Anonymous(adv.payload.len()))?,
            (None, None, None) => return Err(IdentifyError::Anonymous(adv.payload.len())),
        };
        Ok(Observation {
            sensor,
            feed: Feed::Ble,
            received_at_ms: adv.at_ms,
            seen_at_s: None,
            rssi: adv.rssi,
            format: Some(m.format()),
            readings,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ruuvi_protocol::formats::Measurement;
    use ruuvi_protocol::{DataFormat, Readings};

    const AIR: MacAddress = MacAddress([0xCB, 0xB8, 0x33, 0x4C, 0x88, 0x4F]);

    fn payload(format: DataFormat, seq: u32) -> Vec<u8> {
        let r = Readings {
            temperature_c: Some(21.5),
            humidity_pct: Some(40.0),
            pressure_pa: Some(100_000.0),
            co2_ppm: Some(600.0),
            measurement_sequence: Some(seq),
            mac: Some(AIR),
            mac_suffix: Some([0x4C, 0x88, 0x4F]),
            ..Readings::default()
        };
        Measurement::from_readings(format, &r).encode()
    }

    #[test]
    fn the_radio_address_wins_then_the_payload_mac() {
        let mut id = Identify::default();
        let radio: MacAddress = "11:22:33:44:55:66".parse().unwrap();
        let adv = |address| Advertisement {
            at_ms: 5,
            address,
            rssi: Some(-70),
            payload: payload(DataFormat::Df5, 7),
        };
        assert_eq!(id.observe(&adv(Some(radio))).unwrap().sensor, radio);
        let o = id.observe(&adv(None)).unwrap();
        assert_eq!((o.sensor, o.rssi, o.feed), (AIR, Some(-70), Feed::Ble));
    }

    #[test]
    fn format_6_without_an_address_is_named_once_its_full_mac_was_seen() {
        let mut id = Identify::default();
        let df6 = Advertisement {
            at_ms: 1,
            address: None,
            rssi: None,
            payload: payload(DataFormat::Df6, 0x34),
        };
        assert_eq!(id.observe(&df6), Err(IdentifyError::Anonymous(20)));
        let e1 = Advertisement {
            payload: payload(DataFormat::E1, 0x1234),
            ..df6.clone()
        };
        assert_eq!(id.observe(&e1).unwrap().sensor, AIR);
        assert_eq!(id.observe(&df6).unwrap().sensor, AIR);
    }

    #[test]
    fn bad_payloads_are_errors() {
        let mut id = Identify::default();
        let adv = Advertisement {
            at_ms: 1,
            address: None,
            rssi: None,
            payload: vec![0x05, 1, 2],
        };
        assert!(matches!(id.observe(&adv), Err(IdentifyError::Decode(_))));
    }
}
