//! What a gateway publishes to an MQTT broker (gateway-local-api §7.5, firmware
//! `main/mqtt_json.c`): one message per advertisement on `<mqtt_prefix><TAG MAC>`, and the
//! gateway's own state on `<mqtt_prefix>gw_status`.
//!
//! An advertisement is one flat, unindented JSON object:
//! `{"gw_mac":…,"rssi":…,"aoa":[],"gwts":…,"ts":…,"data":"…",<decoded fields>,"coords":""}` —
//! `gwts` + `ts` with NTP time or `cnt` without; `data` unless `mqtt_data_format` is
//! `ruuvi_decoded`; decoded fields (the HTTP names, data-formats §2.4) with
//! `ruuvi_raw_and_decoded` and `ruuvi_decoded`. Older firmware wrote `gwmac` and the times as
//! strings (`schemas/examples/mqtt_data_with_timestamps.json`); both are read.
//!
//! The state is `{"state": "online"}` (retained, on connecting) and `{"state": "offline"}`
//! (the retained last will). Firmware before `gw_status` published it on `<prefix><GW MAC>`:
//! a message is a state by its body, whatever its topic.

use serde_json::{Map, Value};

use crate::error::GatewayJsonError;
use crate::gateway::{
    as_u64, bad, firmware_decoded_fields, tag_from_object, GatewayTag, JsonWriter, TagFields,
    TagTime,
};
use crate::mac::MacAddress;

/// The topic's last level for the gateway's state.
pub const STATUS_TOPIC: &str = "gw_status";

/// One advertisement as published over MQTT.
#[derive(Debug, Clone, PartialEq)]
pub struct MqttAdvertisement {
    pub gw_mac: Option<MacAddress>,
    /// The tag (its MAC from the topic) and its fields; `time` from `ts` or `cnt`.
    pub tag: GatewayTag,
    /// `gwts`: the gateway's clock when it published (with NTP).
    pub gateway_time: Option<u64>,
    pub coordinates: String,
}

/// A message on the gateway's topics.
#[derive(Debug, Clone, PartialEq)]
pub enum MqttMessage {
    Advertisement(Box<MqttAdvertisement>),
    /// `{"state": "online"|"offline"}`; `gateway` from the topic when it names one.
    GatewayState {
        gateway: Option<MacAddress>,
        online: bool,
    },
}

impl MqttMessage {
    /// Reads a message published on `topic` (the whole topic, prefix included).
    pub fn parse(topic: &str, payload: &[u8]) -> Result<Self, GatewayJsonError> {
        let root: Value = serde_json::from_slice(payload)
            .map_err(|e| GatewayJsonError::NotJson(e.to_string()))?;
        let obj = root
            .as_object()
            .ok_or_else(|| bad("payload", "expected a JSON object"))?;
        let last = topic.rsplit('/').next().unwrap_or(topic);
        if let Some(state) = obj.get("state") {
            let online = match state.as_str() {
                Some("online") => true,
                Some("offline") => false,
                _ => {
                    return Err(bad(
                        "state",
                        format!("expected online/offline, got {state}"),
                    ))
                }
            };
            return Ok(MqttMessage::GatewayState {
                gateway: last.parse().ok(),
                online,
            });
        }
        if last == STATUS_TOPIC {
            return Err(GatewayJsonError::Missing("state"));
        }
        let mac: MacAddress = last.parse().map_err(|e: crate::error::MacParseError| {
            bad("topic", format!("{topic:?} does not end in a tag MAC: {e}"))
        })?;
        Ok(MqttMessage::Advertisement(Box::new(
            MqttAdvertisement::from_object(mac, obj)?,
        )))
    }
}

impl MqttAdvertisement {
    fn from_object(mac: MacAddress, obj: &Map<String, Value>) -> Result<Self, GatewayJsonError> {
        let gw_mac = match ["gw_mac", "gwmac"]
            .iter()
            .find_map(|k| obj.get(*k).map(|v| (*k, v)))
        {
            Some((key, v)) => {
                let text = v.as_str().ok_or_else(|| bad(key, "expected a string"))?;
                // An empty MAC is no MAC (what is written for a gateway we do not know).
                if text.is_empty() {
                    None
                } else {
                    Some(
                        text.parse()
                            .map_err(|e: crate::error::MacParseError| bad(key, e.to_string()))?,
                    )
                }
            }
            None => None,
        };
        Ok(Self {
            gw_mac,
            tag: tag_from_object(mac, obj, ("ts", "cnt"))?,
            gateway_time: obj.get("gwts").map(|v| as_u64(v, "gwts")).transpose()?,
            coordinates: obj
                .get("coords")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
        })
    }

    /// The topic firmware publishes this on: `<prefix><TAG MAC>`.
    pub fn topic(&self, prefix: &str) -> String {
        format!("{prefix}{}", self.tag.mac)
    }

    /// The payload exactly as current firmware writes it for `mqtt_data_format` `fields`
    /// (`Raw` = `ruuvi_raw`, `RawAndDecoded`, `Decoded`): no whitespace, firmware key order,
    /// decoded values with the firmware's decimals.
    pub fn to_firmware_json(&self, fields: TagFields) -> String {
        let mut w = JsonWriter::compact();
        w.open(None);
        w.string(
            "gw_mac",
            &self.gw_mac.map(|m| m.to_string()).unwrap_or_default(),
        );
        w.raw("rssi", &self.tag.rssi.to_string());
        w.empty_array("aoa");
        match self.tag.time {
            Some(TagTime::Timestamp(ts)) => {
                w.counter("gwts", self.gateway_time.unwrap_or(ts), false);
                w.counter("ts", ts, false);
            }
            Some(TagTime::Counter(c)) => w.counter("cnt", c, false),
            None => {}
        }
        if let Some(data) = &self.tag.data {
            if fields != TagFields::Decoded {
                w.string("data", &hex::encode_upper(data));
            }
            if fields != TagFields::Raw {
                for (key, value) in firmware_decoded_fields(data, true) {
                    w.raw(key, &value.render());
                }
            }
        }
        w.string("coords", &self.coordinates);
        w.close();
        w.out
    }
}

/// The gateway's state message: what it publishes on connecting (`online`) and leaves as its
/// last will (`offline`), both retained.
pub fn state_payload(online: bool) -> &'static str {
    if online {
        r#"{"state":"online"}"#
    } else {
        r#"{"state":"offline"}"#
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::DataFormat;
    use crate::observation::{Feed, Observation};

    const DF5: &str = "0201061BFF99040515AE4C6DC6D7000CFFF803F4ADB6AD697FF41F0C28CBD6";

    /// The firmware's own example (`schemas/examples/mqtt_data_with_timestamps.json`): an
    /// older firmware with the times as strings.
    #[test]
    fn reads_the_firmware_example_with_string_times() {
        let payload = format!(
            r#"{{"gw_mac":"C8:25:2D:8E:9C:2C","rssi":-26,"aoa":[],"gwts":"1653668027","ts":"1653668027","data":"{DF5}","coords":""}}"#
        );
        let MqttMessage::Advertisement(adv) = MqttMessage::parse(
            "ruuvi/C8:25:2D:8E:9C:2C/F4:1F:0C:28:CB:D6",
            payload.as_bytes(),
        )
        .unwrap() else {
            panic!("not an advertisement")
        };
        assert_eq!(adv.gw_mac.unwrap().to_string(), "C8:25:2D:8E:9C:2C");
        assert_eq!(adv.tag.mac.to_string(), "F4:1F:0C:28:CB:D6");
        assert_eq!(adv.tag.rssi, -26);
        assert_eq!(adv.tag.time, Some(TagTime::Timestamp(1653668027)));
        assert_eq!(adv.gateway_time, Some(1653668027));
        let o = Observation::from_mqtt(&adv, 5);
        assert_eq!(o.as_ref().unwrap().format, Some(DataFormat::Df5));
        assert_eq!(o.as_ref().unwrap().seen_at_s, Some(1653668027));
        assert_eq!(
            o.unwrap().feed,
            Feed::GatewayMqtt {
                gateway: adv.gw_mac
            }
        );
    }

    /// Found by fuzzing: without a gateway MAC we write `"gw_mac":""`, which must read back.
    #[test]
    fn an_empty_gateway_mac_is_no_gateway_mac() {
        let payload = format!(r#"{{"gw_mac":"","rssi":-26,"aoa":[],"cnt":1,"data":"{DF5}"}}"#);
        let MqttMessage::Advertisement(adv) =
            MqttMessage::parse("ruuvi/F4:1F:0C:28:CB:D6", payload.as_bytes()).unwrap()
        else {
            panic!("not an advertisement")
        };
        assert_eq!(adv.gw_mac, None);
        let written = adv.to_firmware_json(TagFields::Raw);
        assert!(MqttMessage::parse("ruuvi/F4:1F:0C:28:CB:D6", written.as_bytes()).is_ok());
    }

    #[test]
    fn every_data_format_and_time_variant_round_trips_through_firmware_json() {
        let raw = hex::decode(DF5).unwrap();
        for time in [
            Some(TagTime::Timestamp(1_700_000_000)),
            Some(TagTime::Counter(42)),
        ] {
            for fields in [TagFields::Raw, TagFields::RawAndDecoded, TagFields::Decoded] {
                let adv = MqttAdvertisement {
                    gw_mac: Some("C8:25:2D:8E:9C:2C".parse().unwrap()),
                    tag: GatewayTag {
                        mac: "F4:1F:0C:28:CB:D6".parse().unwrap(),
                        rssi: -60,
                        time,
                        ble_phy: None,
                        ble_chan: None,
                        ble_tx_power: None,
                        data: Some(raw.clone()),
                        decoded_format: None,
                        decoded: None,
                    },
                    gateway_time: time.and(Some(1_700_000_001)),
                    coordinates: String::new(),
                };
                let json = adv.to_firmware_json(fields);
                assert!(!json.contains(' ') && !json.contains('\n'), "{json}");
                assert!(json.starts_with(r#"{"gw_mac":"C8:25:2D:8E:9C:2C","rssi":-60,"aoa":[],"#));
                assert!(json.ends_with(r#""coords":""}"#), "{json}");
                assert_eq!(json.contains(r#""data":"#), fields != TagFields::Decoded);
                assert_eq!(json.contains(r#""temperature":"#), fields != TagFields::Raw);
                assert_eq!(
                    json.contains(r#""cnt":42"#),
                    matches!(time, Some(TagTime::Counter(_)))
                );
                let MqttMessage::Advertisement(back) =
                    MqttMessage::parse(&adv.topic("ruuvi/gw/"), json.as_bytes()).unwrap()
                else {
                    panic!("not an advertisement: {json}")
                };
                assert_eq!(back.tag.time, time);
                let o = Observation::from_mqtt(&back, 1).unwrap();
                assert_eq!(o.format, Some(DataFormat::Df5), "{json}");
                assert_eq!(o.readings.measurement_sequence, Some(0x697F), "{json}");
                // Raw data decodes at full precision; the gateway's values have its decimals.
                let t = o.readings.temperature_c.unwrap();
                assert!((t - 27.75).abs() < 0.001, "{t} from {json}");
            }
        }
    }

    #[test]
    fn state_messages_on_gw_status_and_on_the_older_gateway_topic() {
        assert_eq!(
            MqttMessage::parse(
                "ruuvi/C8:25:2D:8E:9C:2C/gw_status",
                state_payload(true).as_bytes()
            )
            .unwrap(),
            MqttMessage::GatewayState {
                gateway: None,
                online: true
            }
        );
        assert_eq!(
            MqttMessage::parse("ruuvi/C8:25:2D:8E:9C:2C", br#"{"state": "offline"}"#).unwrap(),
            MqttMessage::GatewayState {
                gateway: Some("C8:25:2D:8E:9C:2C".parse().unwrap()),
                online: false
            }
        );
    }

    #[test]
    fn bad_messages_are_errors_not_panics() {
        for (topic, payload) in [
            ("ruuvi/x/F4:1F:0C:28:CB:D6", &b"not json"[..]),
            ("ruuvi/x/F4:1F:0C:28:CB:D6", b"[]"),
            ("ruuvi/x/not-a-mac", br#"{"rssi":-1,"data":"00"}"#),
            ("ruuvi/x/gw_status", br#"{"rssi":-1}"#),
            ("ruuvi/x/gw_status", br#"{"state":"maybe"}"#),
            ("ruuvi/x/F4:1F:0C:28:CB:D6", br#"{"data":"0201"}"#),
            ("ruuvi/x/F4:1F:0C:28:CB:D6", br#"{"rssi":-1,"data":"XYZ"}"#),
            ("ruuvi/x/F4:1F:0C:28:CB:D6", br#"{"rssi":-1,"ts":"soon"}"#),
        ] {
            assert!(
                MqttMessage::parse(topic, payload).is_err(),
                "{topic} {payload:?}"
            );
        }
    }
}
