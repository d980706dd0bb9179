//! Property tests: no input makes a decoder panic, and encode → decode round-trips every
//! format over its whole valid range.

use proptest::prelude::*;
use ruuvi_protocol::formats::{decode_payload, decode_payload_with_key, Df8};
use ruuvi_protocol::gateway::{FirmwareStyle, GatewayDocument, GatewayTag, TagFields, TagTime};
use ruuvi_protocol::{
    decode_advertisement, decode_any, DataFormat, MacAddress, Measurement, Readings,
};

fn payload_of(format: DataFormat) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), format.payload_len() - 1).prop_map(move |mut rest| {
        rest.insert(0, format.code());
        rest
    })
}

fn mac() -> impl Strategy<Value = MacAddress> {
    any::<[u8; 6]>()
        .prop_filter("all-FF is N/A", |b| *b != [0xFF; 6])
        .prop_map(MacAddress)
}

fn close(actual: Option<f64>, expected: Option<f64>, half_lsb: f64) -> bool {
    match (actual, expected) {
        (Some(a), Some(e)) => (a - e).abs() <= half_lsb + 1e-9,
        (None, None) => true,
        _ => false,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64), key in any::<[u8; 16]>()) {
        let _ = decode_any(&bytes, None);
        let _ = decode_any(&bytes, Some(&key));
        let _ = decode_advertisement(&bytes);
        let _ = decode_payload(&bytes);
        let _ = GatewayDocument::parse(&bytes);
    }

    #[test]
    fn arbitrary_json_never_panics(text in "\\PC{0,200}") {
        let _ = GatewayDocument::parse(text.as_bytes());
        let body = format!(r#"{{"data": {{"tags": {{"AA:BB:CC:DD:EE:FF": {}}}}}}}"#, text);
        let _ = GatewayDocument::parse(body.as_bytes());
    }

    #[test]
    fn every_payload_byte_pattern_round_trips(
        p in prop_oneof![
            payload_of(DataFormat::Df3),
            payload_of(DataFormat::Df5),
            payload_of(DataFormat::C5),
            payload_of(DataFormat::Df6),
            payload_of(DataFormat::E1),
        ]
    ) {
        let m = decode_payload(&p).unwrap();
        prop_assert_eq!(m.encode(), p.clone());
        // …and through a full advertisement too.
        prop_assert_eq!(decode_advertisement(&m.to_advertisement()).unwrap(), m);
    }

    #[test]
    fn df8_round_trips_under_any_key(p in payload_of(DataFormat::Df8), key in any::<[u8; 16]>()) {
        // Any 16 bytes are some plaintext's ciphertext: decrypt, re-encrypt, same bytes (when the CRC fits).
        if let Ok(Measurement::Df8(m)) = decode_payload_with_key(&p, Some(&key)) {
            prop_assert_eq!(m.encrypt(&key).to_vec(), p);
        }
    }

    #[test]
    fn df5_values_round_trip(
        t in -32767i32..=32767, h in 0u32..=65534, pr in 0u32..=65534,
        a in proptest::array::uniform3(-32767i32..=32767),
        batt in 0u32..=2046, tx in 0i16..=30, mv in 0u32..=254, seq in 0u32..=65534, mac in mac(),
        c5 in any::<bool>(),
    ) {
        let r = Readings {
            temperature_c: Some(f64::from(t) * 0.005),
            humidity_pct: Some(f64::from(h) * 0.0025),
            pressure_pa: Some(f64::from(pr) + 50_000.0),
            accel_x_g: Some(f64::from(a[0]) / 1000.0),
            accel_y_g: Some(f64::from(a[1]) / 1000.0),
            accel_z_g: Some(f64::from(a[2]) / 1000.0),
            battery_v: Some(f64::from(1600 + batt) / 1000.0),
            tx_power_dbm: Some(-40 + 2 * tx),
            movement_counter: Some(mv),
            measurement_sequence: Some(seq),
            mac: Some(mac),
            ..Readings::default()
        };
        let format = if c5 { DataFormat::C5 } else { DataFormat::Df5 };
        let back = decode_payload(&Measurement::from_readings(format, &r).encode()).unwrap().readings();
        prop_assert!(close(back.temperature_c, r.temperature_c, 0.0025));
        prop_assert!(close(back.humidity_pct, r.humidity_pct, 0.00125));
        prop_assert!(close(back.pressure_pa, r.pressure_pa, 0.5));
        if c5 {
            prop_assert_eq!(back.accel_x_g, None);
        } else {
            prop_assert!(close(back.accel_x_g, r.accel_x_g, 0.0005));
            prop_assert!(close(back.accel_y_g, r.accel_y_g, 0.0005));
            prop_assert!(close(back.accel_z_g, r.accel_z_g, 0.0005));
        }
        prop_assert!(close(back.battery_v, r.battery_v, 0.0005));
        prop_assert_eq!(back.tx_power_dbm, r.tx_power_dbm);
        prop_assert_eq!(back.movement_counter, r.movement_counter);
        prop_assert_eq!(back.measurement_sequence, r.measurement_sequence);
        prop_assert_eq!(back.mac, r.mac);
    }

    #[test]
    fn df3_values_round_trip(
        neg in any::<bool>(), whole in 0u32..=127, frac in 0u32..=99, h in 0u32..=255, pr in 0u32..=65535,
        a in proptest::array::uniform3(-32767i32..=32767), mv in 0u32..=65535,
    ) {
        let magnitude = f64::from(whole * 100 + frac) / 100.0;
        let r = Readings {
            temperature_c: Some(if neg { -magnitude } else { magnitude }),
            humidity_pct: Some(f64::from(h) / 2.0),
            pressure_pa: Some(f64::from(pr) + 50_000.0),
            accel_x_g: Some(f64::from(a[0]) / 1000.0),
            accel_y_g: Some(f64::from(a[1]) / 1000.0),
            accel_z_g: Some(f64::from(a[2]) / 1000.0),
            battery_v: Some(f64::from(mv) / 1000.0),
            ..Readings::default()
        };
        let back = decode_payload(&Measurement::from_readings(DataFormat::Df3, &r).encode()).unwrap().readings();
        prop_assert!(close(back.temperature_c, r.temperature_c, 0.005));
        prop_assert!(close(back.humidity_pct, r.humidity_pct, 0.25));
        prop_assert!(close(back.pressure_pa, r.pressure_pa, 0.5));
        prop_assert!(close(back.accel_y_g, r.accel_y_g, 0.0005));
        prop_assert!(close(back.battery_v, r.battery_v, 0.0005));
    }

    #[test]
    fn air_values_round_trip(
        t in -32767i32..=32767, h in 0u32..=40000, pr in 0u32..=65534,
        pm in proptest::array::uniform4(0u32..=65534), co2 in 0u32..=65534,
        voc in 0u32..=500, nox in 0u32..=500, lux in 0u32..=14_428_400,
        sound in proptest::array::uniform3(0u32..=510), seq in 0u32..=0xFF_FFFE,
        flags in proptest::array::uniform3(any::<bool>()), mac in mac(),
    ) {
        let r = Readings {
            temperature_c: Some(f64::from(t) * 0.005),
            humidity_pct: Some(f64::from(h) * 0.0025),
            pressure_pa: Some(f64::from(pr) + 50_000.0),
            pm1_0: Some(f64::from(pm[0]) / 10.0),
            pm2_5: Some(f64::from(pm[1]) / 10.0),
            pm4_0: Some(f64::from(pm[2]) / 10.0),
            pm10_0: Some(f64::from(pm[3]) / 10.0),
            co2_ppm: Some(f64::from(co2)),
            voc_index: Some(f64::from(voc)),
            nox_index: Some(f64::from(nox)),
            luminosity_lux: Some(f64::from(lux) / 100.0),
            sound_inst_dba: Some(f64::from(sound[0]) / 5.0 + 18.0),
            sound_avg_dba: Some(f64::from(sound[1]) / 5.0 + 18.0),
            sound_peak_spl_db: Some(f64::from(sound[2]) / 5.0 + 18.0),
            measurement_sequence: Some(seq),
            calibration_in_progress: Some(flags[0]),
            button_pressed: Some(flags[1]),
            rtc_running_on_boot: Some(flags[2]),
            mac: Some(mac),
            ..Readings::default()
        };
        let e1 = decode_payload(&Measurement::from_readings(DataFormat::E1, &r).encode()).unwrap().readings();
        prop_assert!(close(e1.temperature_c, r.temperature_c, 0.0025));
        prop_assert!(close(e1.humidity_pct, r.humidity_pct, 0.00125));
        prop_assert!(close(e1.pressure_pa, r.pressure_pa, 0.5));
        for (a, b) in [(e1.pm1_0, r.pm1_0), (e1.pm2_5, r.pm2_5), (e1.pm4_0, r.pm4_0), (e1.pm10_0, r.pm10_0)] {
            prop_assert!(close(a, b, 0.05));
        }
        prop_assert!(close(e1.co2_ppm, r.co2_ppm, 0.5));
        prop_assert_eq!((e1.voc_index, e1.nox_index), (r.voc_index, r.nox_index));
        prop_assert!(close(e1.luminosity_lux, r.luminosity_lux, 0.005));
        prop_assert!(close(e1.sound_inst_dba, r.sound_inst_dba, 0.1));
        prop_assert!(close(e1.sound_avg_dba, r.sound_avg_dba, 0.1));
        prop_assert!(close(e1.sound_peak_spl_db, r.sound_peak_spl_db, 0.1));
        prop_assert_eq!(e1.measurement_sequence, r.measurement_sequence);
        prop_assert_eq!((e1.calibration_in_progress, e1.button_pressed, e1.rtc_running_on_boot), (r.calibration_in_progress, r.button_pressed, r.rtc_running_on_boot));
        prop_assert_eq!(e1.mac, r.mac);

        let df6 = decode_payload(&Measurement::from_readings(DataFormat::Df6, &r).encode()).unwrap().readings();
        prop_assert!(close(df6.temperature_c, r.temperature_c, 0.0025));
        prop_assert!(close(df6.pm2_5, r.pm2_5, 0.05));
        prop_assert_eq!((df6.voc_index, df6.nox_index), (r.voc_index, r.nox_index));
        prop_assert!(close(df6.sound_avg_dba, r.sound_avg_dba, 0.1));
        // Logarithmic light: half a code step is ~2.2 % of the value.
        let lux = r.luminosity_lux.unwrap().min(65535.0);
        prop_assert!((df6.luminosity_lux.unwrap() - lux).abs() <= 0.023 * (lux + 1.0));
        prop_assert_eq!(df6.measurement_sequence, Some(seq & 0xFF));
        let b = mac.bytes();
        prop_assert_eq!(df6.mac_suffix, Some([b[3], b[4], b[5]]));
    }

    #[test]
    fn df8_values_round_trip(
        t in -32767i32..=32767, h in 0u32..=65534, batt in 0u32..=2046, mv in 0u32..=65534,
        seq in 0u32..=65534, key in any::<[u8; 16]>(), mac in mac(),
    ) {
        let r = Readings {
            temperature_c: Some(f64::from(t) * 0.005),
            humidity_pct: Some(f64::from(h) * 0.0025),
            pressure_pa: None,
            battery_v: Some(f64::from(1600 + batt) / 1000.0),
            tx_power_dbm: None,
            movement_counter: Some(mv),
            measurement_sequence: Some(seq),
            mac: Some(mac),
            ..Readings::default()
        };
        let payload = Df8::from_readings(&r).encrypt(&key);
        let back = decode_payload_with_key(&payload, Some(&key)).unwrap().readings();
        prop_assert!(close(back.temperature_c, r.temperature_c, 0.0025));
        prop_assert!(close(back.humidity_pct, r.humidity_pct, 0.00125));
        prop_assert_eq!(back.pressure_pa, None);
        prop_assert!(close(back.battery_v, r.battery_v, 0.0005));
        prop_assert_eq!(back.tx_power_dbm, None);
        prop_assert_eq!((back.movement_counter, back.measurement_sequence, back.mac), (r.movement_counter, r.measurement_sequence, r.mac));
    }

    #[test]
    fn gateway_json_round_trips(
        ts in proptest::option::of(0u64..=u32::MAX as u64), nonce in proptest::option::of(any::<u32>()),
        tags in proptest::collection::vec((mac(), -127i16..=20, payload_of(DataFormat::Df5), any::<bool>()), 0..5),
        legacy in any::<bool>(), decoded in any::<bool>(),
    ) {
        let doc = GatewayDocument {
            coordinates: String::new(),
            timestamp: ts,
            nonce: nonce.map(u64::from),
            gw_mac: Some(MacAddress([0xC8, 0x25, 0x2D, 0x8E, 0x9C, 0x2C])),
            tags: tags.into_iter().enumerate().map(|(i, (mac, rssi, payload, ntp))| {
                // Distinct keys: a JSON object cannot hold the same tag twice.
                let mut b = mac.bytes();
                b[0] = i as u8;
                GatewayTag {
                    mac: MacAddress(b),
                    rssi,
                    time: Some(if ntp { TagTime::Timestamp(1_700_000_000 + i as u64) } else { TagTime::Counter(i as u64) }),
                    ble_phy: (!legacy).then(|| "1M".to_string()),
                    ble_chan: (!legacy).then_some(37),
                    ble_tx_power: None,
                    data: Some(Measurement::Df5(ruuvi_protocol::formats::Df5::decode(&payload).unwrap()).to_advertisement()),
                    decoded_format: None,
                    decoded: None,
                }
            }).collect(),
            rejected: vec![],
        };
        let style = FirmwareStyle { fields: if decoded { TagFields::RawAndDecoded } else { TagFields::Raw }, legacy, air_formats: true };
        let text = doc.to_firmware_json(style);
        let back = GatewayDocument::parse(text.as_bytes()).unwrap();
        prop_assert!(back.rejected.is_empty());
        prop_assert_eq!(back.to_firmware_json(style), text.clone());
        prop_assert_eq!(back.tags.len(), doc.tags.len());
        // What serde_json reads back equals what we meant to write.
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        prop_assert!(v["data"]["tags"].is_object());
    }
}
