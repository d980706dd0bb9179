//! The one type every feed produces: a decoded measurement of one sensor at one moment.

use serde::{Deserialize, Serialize};

use crate::error::DecodeError;
use crate::formats::{decode_advertisement, DataFormat};
use crate::gateway::{GatewayDocument, TagTime};
use crate::mac::MacAddress;
use crate::mqtt::MqttAdvertisement;
use crate::readings::Readings;

/// Which feed saw the measurement.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Feed {
    /// This computer's Bluetooth radio.
    Ble,
    /// A sensor's own log, downloaded over this computer's Bluetooth.
    BleHistory,
    /// A gateway's `GET /history`, polled by us.
    GatewayHistory { gateway: Option<MacAddress> },
    /// A gateway's POST to our receiver.
    GatewayPost { gateway: Option<MacAddress> },
    /// A gateway's MQTT message, read from a broker.
    GatewayMqtt { gateway: Option<MacAddress> },
}

/// 9999-12-31T23:59:59Z. A gateway's time later than this is no clock reading (a gateway
/// without NTP, or someone else's bytes) and would not fit the stores' millisecond columns.
pub const LATEST_SEEN_S: u64 = 253_402_300_799;

/// When the gateway's radio saw a tag, if it says so plausibly.
fn seen_at(time: Option<TagTime>) -> Option<u64> {
    match time {
        Some(TagTime::Timestamp(t)) if t <= LATEST_SEEN_S => Some(t),
        _ => None,
    }
}

/// One decoded measurement from any feed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    /// The advertiser address as the radio reported it.
    pub sensor: MacAddress,
    pub feed: Feed,
    /// When we received it (Unix ms, from the caller's clock).
    pub received_at_ms: i64,
    /// When the gateway's radio saw it (Unix s), if the gateway has NTP time (at most
    /// [`LATEST_SEEN_S`]).
    pub seen_at_s: Option<u64>,
    pub rssi: Option<i16>,
    pub format: Option<DataFormat>,
    pub readings: Readings,
}

impl Observation {
    /// From a raw advertisement seen by this computer's radio.
    pub fn from_advertisement(
        sensor: MacAddress,
        raw: &[u8],
        rssi: Option<i16>,
        received_at_ms: i64,
    ) -> Result<Self, DecodeError> {
        let m = decode_advertisement(raw)?;
        Ok(Self {
            sensor,
            feed: Feed::Ble,
            received_at_ms,
            seen_at_s: None,
            rssi,
            format: Some(m.format()),
            readings: m.readings(),
        })
    }

    /// Every tag of a gateway document; tags that do not decode come back with their reason.
    pub fn from_gateway(
        doc: &GatewayDocument,
        feed: Feed,
        received_at_ms: i64,
    ) -> (Vec<Observation>, Vec<(MacAddress, DecodeError)>) {
        let mut ok = Vec::with_capacity(doc.tags.len());
        let mut failed = Vec::new();
        for tag in &doc.tags {
            match tag.readings() {
                Ok((format, readings)) => ok.push(Observation {
                    sensor: tag.mac,
                    feed: feed.clone(),
                    received_at_ms,
                    seen_at_s: seen_at(tag.time),
                    rssi: Some(tag.rssi),
                    format,
                    readings,
                }),
                Err(e) => failed.push((tag.mac, e)),
            }
        }
        (ok, failed)
    }

    /// From one advertisement a gateway published over MQTT.
    pub fn from_mqtt(adv: &MqttAdvertisement, received_at_ms: i64) -> Result<Self, DecodeError> {
        let (format, readings) = adv.tag.readings()?;
        Ok(Observation {
            sensor: adv.tag.mac,
            feed: Feed::GatewayMqtt {
                gateway: adv.gw_mac,
            },
            received_at_ms,
            seen_at_s: seen_at(adv.tag.time),
            rssi: Some(adv.tag.rssi),
            format,
            readings,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gateway_document_to_observations() {
        let body = br#"{"data": {"coordinates": "", "timestamp": 1700000000, "gw_mac": "C8:25:2D:8E:9C:2C", "tags": {
            "F4:1F:0C:28:CB:D6": {"rssi": -51, "timestamp": 1699999998, "data": "0201061BFF99040515714D9FC56DFFF0FFF803E4B516E84D7EF41F0C28CBD6"},
            "AA:BB:CC:DD:EE:FF": {"rssi": -70, "timestamp": 1699999990, "data": "0201061BFF9904"}}}}"#;
        let doc = GatewayDocument::parse(body).unwrap();
        let feed = Feed::GatewayPost {
            gateway: doc.gw_mac,
        };
        let (ok, failed) = Observation::from_gateway(&doc, feed.clone(), 1_700_000_000_123);
        assert_eq!(ok.len(), 1);
        assert_eq!(ok[0].sensor.to_string(), "F4:1F:0C:28:CB:D6");
        assert_eq!(ok[0].format, Some(DataFormat::Df5));
        assert_eq!(ok[0].seen_at_s, Some(1699999998));
        assert_eq!(ok[0].feed, feed);
        assert_eq!(ok[0].readings.temperature_c, Some(27.445));
        assert_eq!(failed.len(), 1);
        assert!(matches!(
            failed[0].1,
            DecodeError::MalformedAdvertisement { .. }
        ));
        let json = serde_json::to_value(&ok[0]).unwrap();
        assert_eq!(json["feed"]["kind"], "gateway_post");
        assert_eq!(json["sensor"], "F4:1F:0C:28:CB:D6");
    }
}
