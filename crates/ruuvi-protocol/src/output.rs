//! A measurement as a JSON object with the gateway's decoded key names and units
//! (data-formats §2.4): what `ruuvictl decode` prints and the app shows.

use serde_json::{json, Map, Value};

use crate::derived::Derived;
use crate::formats::DataFormat;
use crate::mac::colon_hex;
use crate::readings::Readings;

fn num(v: Option<f64>) -> Value {
    v.map_or(Value::Null, |v| json!(v))
}

/// Keys present for each format, in gateway order; `null` for N/A, plus a `derived` object.
pub fn measurement_json(format: DataFormat, r: &Readings) -> Value {
    let mut o = Map::new();
    o.insert("dataFormat".into(), json!(format.code()));
    o.insert("temperature".into(), num(r.temperature_c));
    o.insert("humidity".into(), num(r.humidity_pct));
    o.insert("pressure".into(), num(r.pressure_pa));
    let has_accel = matches!(format, DataFormat::Df3 | DataFormat::Df5);
    let is_tag = matches!(format, DataFormat::Df5 | DataFormat::C5 | DataFormat::Df8);
    let is_air = matches!(format, DataFormat::Df6 | DataFormat::E1);
    if has_accel {
        o.insert("accelX".into(), num(r.accel_x_g));
        o.insert("accelY".into(), num(r.accel_y_g));
        o.insert("accelZ".into(), num(r.accel_z_g));
    }
    if is_tag {
        o.insert("movementCounter".into(), json!(r.movement_counter));
    }
    if is_tag || format == DataFormat::Df3 {
        o.insert("voltage".into(), num(r.battery_v));
    }
    if is_tag {
        o.insert("txPower".into(), json!(r.tx_power_dbm));
    }
    if is_air {
        if format == DataFormat::E1 {
            o.insert("PM1.0".into(), num(r.pm1_0));
        }
        o.insert("PM2.5".into(), num(r.pm2_5));
        if format == DataFormat::E1 {
            o.insert("PM4.0".into(), num(r.pm4_0));
            o.insert("PM10.0".into(), num(r.pm10_0));
        }
        o.insert("CO2".into(), num(r.co2_ppm));
        o.insert("VOC".into(), num(r.voc_index));
        o.insert("NOx".into(), num(r.nox_index));
        o.insert("luminosity".into(), num(r.luminosity_lux));
        if format == DataFormat::E1 {
            o.insert("sound_inst_dba".into(), num(r.sound_inst_dba));
        }
        o.insert("sound_avg_dba".into(), num(r.sound_avg_dba));
        if format == DataFormat::E1 {
            o.insert("sound_peak_spl_db".into(), num(r.sound_peak_spl_db));
        }
    }
    if format != DataFormat::Df3 {
        o.insert(
            "measurementSequenceNumber".into(),
            json!(r.measurement_sequence),
        );
    }
    if is_air {
        o.insert(
            "flag_calibration_in_progress".into(),
            json!(r.calibration_in_progress),
        );
        o.insert("flag_button_pressed".into(), json!(r.button_pressed));
        o.insert(
            "flag_rtc_running_on_boot".into(),
            json!(r.rtc_running_on_boot),
        );
    }
    if format != DataFormat::Df3 {
        let id = match (r.mac, r.mac_suffix) {
            (Some(mac), _) => json!(mac.to_string()),
            (None, Some(suffix)) => json!(colon_hex(&suffix)),
            (None, None) => Value::Null,
        };
        o.insert("id".into(), id);
    }
    o.insert(
        "derived".into(),
        serde_json::to_value(Derived::from_readings(r)).expect("derived values serialise"),
    );
    Value::Object(o)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::decode_hex;

    #[test]
    fn df5_keys_and_units() {
        let m = decode_hex("0512FC5394C37C0004FFFC040CAC364200CDCBB8334C884F", None).unwrap();
        let v = measurement_json(m.format(), &m.readings());
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "dataFormat",
                "temperature",
                "humidity",
                "pressure",
                "accelX",
                "accelY",
                "accelZ",
                "movementCounter",
                "voltage",
                "txPower",
                "measurementSequenceNumber",
                "id",
                "derived"
            ]
        );
        assert_eq!(v["temperature"], json!(24.3));
        assert_eq!(v["pressure"], json!(100044.0));
        assert_eq!(v["accelZ"], json!(1.036));
        assert_eq!(v["voltage"], json!(2.977));
        assert_eq!(v["id"], json!("CB:B8:33:4C:88:4F"));
        assert!(v["derived"]["dewPoint"].as_f64().is_some());
    }

    #[test]
    fn e1_nulls_and_format_number() {
        let m = decode_hex(
            "E18000FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF8FFFFFFFFFFFFFFFFFFFFFF",
            None,
        )
        .unwrap();
        let v = measurement_json(m.format(), &m.readings());
        assert_eq!(v["dataFormat"], json!(225));
        for key in [
            "temperature",
            "PM1.0",
            "PM10.0",
            "CO2",
            "VOC",
            "NOx",
            "luminosity",
            "sound_inst_dba",
            "sound_peak_spl_db",
            "measurementSequenceNumber",
            "id",
        ] {
            assert_eq!(v[key], Value::Null, "{key}");
        }
        assert_eq!(v["flag_button_pressed"], json!(false));
        assert_eq!(v["derived"]["iaqs"], Value::Null);
    }

    #[test]
    fn df6_short_id() {
        let m = decode_hex(
            "020106030398FC17FF990406143A6194C636005A0330D500F7FF10944F8AA5",
            None,
        )
        .unwrap();
        let v = measurement_json(m.format(), &m.readings());
        assert_eq!(v["id"], json!("4F:8A:A5"));
        assert_eq!(v["VOC"], json!(426.0));
        assert!(v.get("PM1.0").is_none());
        assert!(v["derived"]["iaqs"].as_f64().unwrap() > 0.0);
    }
}
