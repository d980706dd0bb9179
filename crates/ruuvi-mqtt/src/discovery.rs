//! What the sink publishes, as data: the topic layout, one state message per observation,
//! and Home Assistant's MQTT discovery messages.
//!
//! Topics (`<prefix>` is `ruuvi_desk` by default):
//! * `<prefix>/status` — `online` / `offline` (retained; `offline` is the last will).
//! * `<prefix>/<sensor MAC, 12 lower-case hex digits>` — the sensor's latest observation
//!   (retained): `sensor`, `format`, `received_at_ms`, `seen_at_s`, `rssi`, `feed`, `gateway`
//!   and every reading the sensor sent, under the names of Ruuvi Desk's exports
//!   (`temperature_c`, `humidity_pct`, `pressure_pa`, …).
//! * `<discovery prefix>/sensor/ruuvi_<mac12>/<reading>/config` — Home Assistant discovery
//!   (retained), one per reading the sensor has, all on one device per sensor.

use ruuvi_protocol::{DataFormat, Feed, MacAddress, Observation};
use serde_json::{json, Map, Value};

/// A reading Home Assistant shows: field, name, device class, unit.
struct Entity {
    field: &'static str,
    name: &'static str,
    device_class: Option<&'static str>,
    unit: Option<&'static str>,
}

const fn e(
    field: &'static str,
    name: &'static str,
    device_class: Option<&'static str>,
    unit: Option<&'static str>,
) -> Entity {
    Entity {
        field,
        name,
        device_class,
        unit,
    }
}

/// Units and device classes as Home Assistant names them.
const ENTITIES: &[Entity] = &[
    e(
        "temperature_c",
        "Temperature",
        Some("temperature"),
        Some("°C"),
    ),
    e("humidity_pct", "Humidity", Some("humidity"), Some("%")),
    e(
        "pressure_pa",
        "Pressure",
        Some("atmospheric_pressure"),
        Some("Pa"),
    ),
    e("battery_v", "Battery", Some("voltage"), Some("V")),
    e("accel_x_g", "Acceleration X", None, Some("g")),
    e("accel_y_g", "Acceleration Y", None, Some("g")),
    e("accel_z_g", "Acceleration Z", None, Some("g")),
    e("movement_counter", "Movements", None, None),
    e("pm1_0", "PM1.0", Some("pm1"), Some("µg/m³")),
    e("pm2_5", "PM2.5", Some("pm25"), Some("µg/m³")),
    e("pm4_0", "PM4.0", None, Some("µg/m³")),
    e("pm10_0", "PM10", Some("pm10"), Some("µg/m³")),
    e("co2_ppm", "CO₂", Some("carbon_dioxide"), Some("ppm")),
    e("voc_index", "VOC index", None, None),
    e("nox_index", "NOx index", None, None),
    e(
        "luminosity_lux",
        "Illuminance",
        Some("illuminance"),
        Some("lx"),
    ),
    e(
        "sound_avg_dba",
        "Sound level",
        Some("sound_pressure"),
        Some("dBA"),
    ),
    e(
        "rssi",
        "Signal strength",
        Some("signal_strength"),
        Some("dBm"),
    ),
];

/// `aabbccddeeff`.
pub fn mac12(sensor: MacAddress) -> String {
    sensor.to_string().replace(':', "").to_ascii_lowercase()
}

pub fn status_topic(prefix: &str) -> String {
    format!("{prefix}/status")
}

pub fn state_topic(prefix: &str, sensor: MacAddress) -> String {
    format!("{prefix}/{}", mac12(sensor))
}

fn format_name(format: Option<DataFormat>) -> Value {
    format
        .and_then(|f| serde_json::to_value(f).ok())
        .unwrap_or(Value::Null)
}

/// The state message of one observation: its facts and the readings it has (no nulls).
pub fn state_payload(o: &Observation) -> String {
    let (feed, gateway) = match &o.feed {
        Feed::Ble => ("ble", None),
        Feed::BleHistory => ("ble_history", None),
        Feed::GatewayHistory { gateway } => ("gateway_history", *gateway),
        Feed::GatewayPost { gateway } => ("gateway_post", *gateway),
        Feed::GatewayMqtt { gateway } => ("gateway_mqtt", *gateway),
    };
    let mut map = Map::new();
    map.insert("sensor".into(), json!(o.sensor.to_string()));
    map.insert("format".into(), format_name(o.format));
    map.insert("received_at_ms".into(), json!(o.received_at_ms));
    map.insert("seen_at_s".into(), json!(o.seen_at_s));
    map.insert("rssi".into(), json!(o.rssi));
    map.insert("feed".into(), json!(feed));
    map.insert("gateway".into(), json!(gateway.map(|g| g.to_string())));
    if let Ok(Value::Object(readings)) = serde_json::to_value(&o.readings) {
        for (k, v) in readings {
            if !v.is_null() {
                map.insert(k, v);
            }
        }
    }
    Value::Object(map).to_string()
}

/// Home Assistant discovery messages (topic, payload) for the readings `o` has; the device is
/// called `name` when the owner named the sensor, else "RuuviTag CBD6".
pub fn discovery_messages(
    discovery_prefix: &str,
    prefix: &str,
    o: &Observation,
    name: Option<&str>,
    version: &str,
) -> Vec<(String, String)> {
    let state: Value = serde_json::from_str(&state_payload(o)).expect("our own JSON");
    let id = mac12(o.sensor);
    let air = matches!(o.format, Some(DataFormat::Df6 | DataFormat::E1));
    let model = if air { "Ruuvi Air" } else { "RuuviTag" };
    let suffix = &id[8..];
    let device = json!({
        "identifiers": [format!("ruuvi_{id}")],
        "connections": [["mac", o.sensor.to_string().to_ascii_lowercase()]],
        "name": name.map_or_else(|| format!("{model} {}", suffix.to_ascii_uppercase()), str::to_string),
        "manufacturer": "Ruuvi Innovations",
        "model": model,
    });
    ENTITIES
        .iter()
        .filter(|entity| state.get(entity.field).is_some_and(|v| !v.is_null()))
        .map(|entity| {
            let mut config = json!({
                "name": entity.name,
                "unique_id": format!("ruuvi_{id}_{}", entity.field),
                "state_topic": state_topic(prefix, o.sensor),
                "value_template": format!("{{{{ value_json.{} }}}}", entity.field),
                "state_class": "measurement",
                "availability_topic": status_topic(prefix),
                "device": device,
                "origin": {"name": "Ruuvi Desk", "sw_version": version},
            });
            if let Some(class) = entity.device_class {
                config["device_class"] = json!(class);
            }
            if let Some(unit) = entity.unit {
                config["unit_of_measurement"] = json!(unit);
            }
            (
                format!(
                    "{discovery_prefix}/sensor/ruuvi_{id}/{}/config",
                    entity.field
                ),
                config.to_string(),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ruuvi_protocol::Readings;

    fn tag() -> Observation {
        Observation {
            sensor: "F4:1F:0C:28:CB:D6".parse().unwrap(),
            feed: Feed::GatewayMqtt {
                gateway: Some("C8:25:2D:8E:9C:2C".parse().unwrap()),
            },
            received_at_ms: 1_700_000_000_000,
            seen_at_s: Some(1_700_000_000),
            rssi: Some(-60),
            format: Some(DataFormat::Df5),
            readings: Readings {
                temperature_c: Some(21.5),
                humidity_pct: Some(45.0),
                pressure_pa: Some(100_812.0),
                battery_v: Some(2.9),
                measurement_sequence: Some(7),
                ..Readings::default()
            },
        }
    }

    #[test]
    fn state_has_the_readings_and_no_nulls() {
        let state: Value = serde_json::from_str(&state_payload(&tag())).unwrap();
        assert_eq!(state["sensor"], "F4:1F:0C:28:CB:D6");
        assert_eq!(state["temperature_c"], 21.5);
        assert_eq!(state["feed"], "gateway_mqtt");
        assert_eq!(state["gateway"], "C8:25:2D:8E:9C:2C");
        assert!(state.get("pm2_5").is_none());
        assert_eq!(
            state_topic("ruuvi_desk", tag().sensor),
            "ruuvi_desk/f41f0c28cbd6"
        );
    }

    #[test]
    fn discovery_follows_home_assistants_documented_shape() {
        let messages = discovery_messages("homeassistant", "ruuvi_desk", &tag(), None, "0.1.0");
        let topics: Vec<&str> = messages.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(
            topics,
            [
                "homeassistant/sensor/ruuvi_f41f0c28cbd6/temperature_c/config",
                "homeassistant/sensor/ruuvi_f41f0c28cbd6/humidity_pct/config",
                "homeassistant/sensor/ruuvi_f41f0c28cbd6/pressure_pa/config",
                "homeassistant/sensor/ruuvi_f41f0c28cbd6/battery_v/config",
                "homeassistant/sensor/ruuvi_f41f0c28cbd6/rssi/config",
            ]
        );
        let t: Value = serde_json::from_str(&messages[0].1).unwrap();
        assert_eq!(t["device_class"], "temperature");
        assert_eq!(t["unit_of_measurement"], "°C");
        assert_eq!(t["state_class"], "measurement");
        assert_eq!(t["state_topic"], "ruuvi_desk/f41f0c28cbd6");
        assert_eq!(t["value_template"], "{{ value_json.temperature_c }}");
        assert_eq!(t["unique_id"], "ruuvi_f41f0c28cbd6_temperature_c");
        assert_eq!(t["availability_topic"], "ruuvi_desk/status");
        assert_eq!(t["device"]["identifiers"][0], "ruuvi_f41f0c28cbd6");
        assert_eq!(t["device"]["name"], "RuuviTag CBD6");
        assert_eq!(t["device"]["manufacturer"], "Ruuvi Innovations");
        // The owner's name is the device's name in Home Assistant.
        let named = discovery_messages(
            "homeassistant",
            "ruuvi_desk",
            &tag(),
            Some("Sauna"),
            "0.1.0",
        );
        let t: Value = serde_json::from_str(&named[0].1).unwrap();
        assert_eq!(t["device"]["name"], "Sauna");
        assert_eq!(
            t["unique_id"], "ruuvi_f41f0c28cbd6_temperature_c",
            "ids never change"
        );
    }
}
