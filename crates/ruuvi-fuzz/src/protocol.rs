//! The protocol crate's parsers: advertisements, gateway documents, MQTT messages, and what the
//! store makes of the observations they become.

use std::cell::RefCell;

use ruuvi_protocol::adv::ruuvi_payload;
use ruuvi_protocol::{
    decode_advertisement, decode_any, DataFormat, Feed, FirmwareStyle, GatewayDocument,
    Measurement, MqttMessage, Observation, TagFields,
};
use ruuvi_store::{ObservationStore, Query, SqliteStore};

/// Any bytes, as a raw advertisement or a payload: decoding returns a value or a typed error,
/// and whatever decodes re-encodes to the same payload bytes.
pub fn advertisement(data: &[u8]) {
    let key = [0x42u8; 16];
    let Ok(m) = decode_any(data, Some(&key)) else {
        return;
    };
    let _ = Measurement::from_readings(m.format(), &m.readings());
    if m.format() == DataFormat::Df8 {
        return;
    }
    let is_bare_payload =
        DataFormat::from_code(data[0]).is_ok_and(|f| f.payload_len() == data.len());
    let payload = if is_bare_payload {
        data
    } else {
        ruuvi_payload(data).expect("decoded, so it has a payload")
    };
    assert_eq!(m.encode(), payload, "decode → encode changed the payload");
    assert_eq!(decode_advertisement(&m.to_advertisement()).unwrap(), m);
}

/// Any bytes as a gateway POST / history body: whatever parses writes back and re-parses to
/// the same bytes, and becomes observations.
pub fn gateway_json(data: &[u8]) {
    let Ok(doc) = GatewayDocument::parse(data) else {
        return;
    };
    let _ = Observation::from_gateway(
        &doc,
        Feed::GatewayPost {
            gateway: doc.gw_mac,
        },
        0,
    );
    for style in [FirmwareStyle::CURRENT_RAW, FirmwareStyle::CURRENT_DECODED] {
        let text = doc.to_firmware_json(style);
        let back = GatewayDocument::parse(text.as_bytes()).expect("our own output parses");
        assert_eq!(back.to_firmware_json(style), text);
    }
}

/// The first line is the topic, the rest the payload of an MQTT message from a gateway.
pub fn mqtt_message(data: &[u8]) {
    let (topic, payload) = crate::split_line(data);
    let topic = String::from_utf8_lossy(topic);
    let Ok(message) = MqttMessage::parse(&topic, payload) else {
        return;
    };
    let MqttMessage::Advertisement(adv) = message else {
        return;
    };
    let _ = Observation::from_mqtt(&adv, i64::MAX);
    for fields in [TagFields::Raw, TagFields::RawAndDecoded, TagFields::Decoded] {
        let text = adv.to_firmware_json(fields);
        let back = MqttMessage::parse(&adv.topic("ruuvi/"), text.as_bytes())
            .expect("our own output parses");
        let MqttMessage::Advertisement(back) = back else {
            panic!("an advertisement came back as a state");
        };
        // With the raw data in it, what we write reads back to the same text (decoded-only
        // messages carry rounded values: they are only read, never written back).
        if fields != TagFields::Decoded {
            assert_eq!(back.to_firmware_json(fields), text);
        }
    }
}

/// A gateway document's observations stored in SQLite and read back: every field the
/// decoders produced survives (a wrapped time or a lost reading is a bug), and export runs.
pub fn store_roundtrip(data: &[u8]) {
    thread_local! {
        // One in-memory store, started afresh now and then so it does not grow for ever.
        static STORE: RefCell<(SqliteStore, u32)> =
            RefCell::new((SqliteStore::open_in_memory().expect("in-memory SQLite"), 0));
    }
    let Ok(doc) = GatewayDocument::parse(data) else {
        return;
    };
    let (observations, _) = Observation::from_gateway(
        &doc,
        Feed::GatewayPost {
            gateway: doc.gw_mac,
        },
        1_800_000_000_000,
    );
    if observations.is_empty() {
        return;
    }
    STORE.with(|cell| {
        let mut cell = cell.borrow_mut();
        if cell.1 >= 500 {
            *cell = (SqliteStore::open_in_memory().expect("in-memory SQLite"), 0);
        }
        cell.1 += 1;
        let store = &mut cell.0;
        let before = store.count().expect("count");
        let kept = store
            .insert(&observations)
            .expect("an insert of decoded observations");
        let stored: Vec<&Observation> = observations
            .iter()
            .zip(&kept)
            .filter_map(|(o, k)| k.then_some(o))
            .collect();
        let after = store.count().expect("count");
        assert_eq!(after - before, stored.len() as u64);
        // Read back each sensor's newest rows: they are what was just stored (a sensor's rows
        // come in time order; the batch's own order among equal times).
        let mut sensors: Vec<_> = stored.iter().map(|o| o.sensor).collect();
        sensors.sort();
        sensors.dedup();
        for sensor in sensors {
            let mut wrote: Vec<&Observation> = stored
                .iter()
                .copied()
                .filter(|o| o.sensor == sensor)
                .collect();
            let all = store
                .query(&Query {
                    sensor: Some(sensor),
                    ..Query::default()
                })
                .expect("query");
            let mut back: Vec<&Observation> = all.iter().collect();
            let newest = wrote.iter().map(|o| o.received_at_ms).min().unwrap_or(0);
            back.retain(|o| o.received_at_ms >= newest);
            let key = |o: &&Observation| format!("{o:?}");
            wrote.sort_by_key(key);
            back.sort_by_key(key);
            for o in &wrote {
                assert!(
                    back.binary_search_by_key(&key(o), key).is_ok(),
                    "stored and read back differ: {o:?} is missing"
                );
            }
        }
        // A chart of the first sensor over ranges the UI may ask for.
        let sensor = stored.first().map(|o| o.sensor);
        for (from, to) in [
            (i64::MIN, i64::MAX),
            (i64::MAX, i64::MIN),
            (0, 1_800_000_000_001),
        ] {
            for points in [1, 5000] {
                if let Some(sensor) = sensor {
                    let chart =
                        ruuvi_dashboard::series(store, sensor, from, to, points).expect("a chart");
                    assert!(chart.len() <= points);
                }
            }
        }
        let mut sink = Vec::new();
        store
            .export_csv(&Query::default(), &mut sink)
            .expect("CSV export");
        sink.clear();
        store
            .export_json(&Query::default(), &mut sink)
            .expect("JSON export");
    });
}
