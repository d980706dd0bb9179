//! The whole BLE pipeline without a radio (this machine has none): a recorded stream →
//! replay feed → identify → the hub with a real SQLite store. The recording stands in for the
//! radio; everything after it is the code the live feed uses.

use ruuvi_ble::replay::{play, read_recording, write_line, ReplayOptions, Speed};
use ruuvi_ble::{Advertisement, Identify};
use ruuvi_hub::{Hub, HubOptions};
use ruuvi_protocol::formats::Measurement;
use ruuvi_protocol::{DataFormat, MacAddress, Readings};
use ruuvi_store::{ObservationStore, Query, SqliteStore};
use tokio::sync::mpsc;

const AIR: MacAddress = MacAddress([0xCB, 0xB8, 0x33, 0x4C, 0x88, 0x4F]);
const TAG: MacAddress = MacAddress([0xF4, 0x1F, 0x0C, 0x28, 0xCB, 0xD6]);

fn payload(format: DataFormat, mac: MacAddress, seq: u32, t: f64) -> Vec<u8> {
    let r = Readings {
        temperature_c: Some(t),
        humidity_pct: Some(41.0),
        pressure_pa: Some(100_200.0),
        co2_ppm: (format != DataFormat::Df5).then_some(650.0),
        battery_v: (format == DataFormat::Df5).then_some(2.9),
        measurement_sequence: Some(seq),
        mac: Some(mac),
        mac_suffix: Some([mac.0[3], mac.0[4], mac.0[5]]),
        ..Readings::default()
    };
    Measurement::from_readings(format, &r).encode()
}

/// Ten measurements of a Ruuvi Air (each sent as format 6 and as E1, the 6 first, each
/// advertisement repeated) and of a RuuviTag (format 5, each repeated 3 times), 1 s apart.
/// `with_address`: as Linux/Windows report them; without: as macOS does.
fn recording(with_address: bool) -> Vec<u8> {
    let mut file = Vec::new();
    let t0 = 1_795_000_000_000i64;
    for i in 0..10u32 {
        let at = t0 + i64::from(i) * 1000;
        let seq = 0x01_0000 + i * 7;
        let mut ads = vec![
            (AIR, payload(DataFormat::Df6, AIR, seq & 0xFF, 21.0)),
            (AIR, payload(DataFormat::E1, AIR, seq, 21.0)),
            (AIR, payload(DataFormat::Df6, AIR, seq & 0xFF, 21.0)),
            (AIR, payload(DataFormat::E1, AIR, seq, 21.0)),
        ];
        for _ in 0..3 {
            ads.push((TAG, payload(DataFormat::Df5, TAG, i, 4.5)));
        }
        for (n, (mac, p)) in ads.into_iter().enumerate() {
            let adv = Advertisement {
                at_ms: at + n as i64 * 10,
                address: with_address.then_some(mac),
                rssi: Some(-60 - n as i16),
                payload: p,
            };
            write_line(&mut file, &adv).unwrap();
        }
    }
    file
}

async fn run_pipeline(file: &[u8]) -> (SqliteStore, usize) {
    let recording = read_recording(file).unwrap();
    assert_eq!(recording.len(), 70);
    let (hub, task) = Hub::start(
        SqliteStore::open_in_memory().unwrap(),
        HubOptions::default(),
    );
    let (tx, mut rx) = mpsc::channel(16);
    let options = ReplayOptions {
        speed: Speed::Instant,
        ..ReplayOptions::default()
    };
    let player = tokio::spawn(async move { play(&recording, options, tx).await });
    // What a face does: identify each advertisement and hand the observation to the hub.
    let mut identify = Identify::default();
    let mut unnamed = 0;
    while let Some(adv) = rx.recv().await {
        match identify.observe(&adv) {
            Ok(o) => {
                hub.submit(vec![o]).await.unwrap();
            }
            Err(_) => unnamed += 1,
        }
    }
    assert_eq!(player.await.unwrap(), 70);
    drop(hub);
    (task.await.unwrap(), unnamed)
}

fn formats_of(store: &mut SqliteStore, sensor: MacAddress) -> Vec<DataFormat> {
    store
        .query(&Query {
            sensor: Some(sensor),
            ..Query::default()
        })
        .unwrap()
        .iter()
        .map(|o| o.format.unwrap())
        .collect()
}

#[tokio::test]
async fn a_ruuvi_air_sending_6_and_e1_is_stored_once_per_measurement() {
    let (mut store, unnamed) = run_pipeline(&recording(true)).await;
    assert_eq!(unnamed, 0);
    // The first sample is kept from its format-6 copy, heard before any E1 (its E1 twin is not
    // kept again); from then on only E1: one row per measurement.
    let air = formats_of(&mut store, AIR);
    assert_eq!(air[0], DataFormat::Df6);
    assert_eq!(&air[1..], [DataFormat::E1; 9]);
    // The tag's repeated advertisements: one row per measurement.
    assert_eq!(formats_of(&mut store, TAG), [DataFormat::Df5; 10]);
    let latest = store.latest_of(AIR).unwrap().unwrap();
    assert_eq!(latest.readings.co2_ppm, Some(650.0));
    assert_eq!(latest.rssi, Some(-61), "the stored E1 advertisement's RSSI");
}

#[tokio::test]
async fn without_radio_addresses_tags_are_named_by_the_mac_in_their_payload() {
    let (mut store, unnamed) = run_pipeline(&recording(false)).await;
    // Only the very first format-6 advertisement came before its full MAC was ever seen.
    assert_eq!(unnamed, 1);
    assert_eq!(formats_of(&mut store, AIR), [DataFormat::E1; 10]);
    assert_eq!(formats_of(&mut store, TAG), [DataFormat::Df5; 10]);
}
