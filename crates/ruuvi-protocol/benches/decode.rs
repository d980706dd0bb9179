//! Decoding raw advertisements: ours against `ruuvi-sensor-protocol` 0.7 in the same groups.
//!
//! Each group decodes one real gateway capture and reads every value the decoder offers.
//! `ours/advertisement` walks the AD structures first (the job a feed has); `ours/payload`
//! and `ruuvi-sensor-protocol/payload` start at the payload, which is the baseline's API.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use ruuvi_protocol::{decode_advertisement, decode_payload, Readings};
use ruuvi_sensor_protocol::{
    Acceleration, BatteryPotential, Calibration, CarbonDioxide, Humidity, Luminosity, MacAddress,
    MeasurementSequenceNumber, MovementCounter, NitrogenOxides, ParticulateMatter, Pressure,
    SensorValues, Temperature, TransmitterPower, VolatileOrganicCompounds,
};

const DF5: &str = "0201061BFF99040515714D9FC56DFFF0FFF803E4B516E84D7EF41F0C28CBD6";
const DF6: &str = "020106030398FC17FF990406146457F8C79D001D03263A01146B05D04EB272";
const E1: &str = "2BFF9904E1161E526CC68B006E007200730074037610010C1D901E5CB6121314F8FFFFFFFFFFE375CF374E23030398FC";

/// Every value is handed to `black_box` as it is (no arithmetic on top, which would add its
/// own latency chain and measure the benchmark instead of the decoder).
fn consume(r: Readings) {
    black_box(r);
}

fn consume_baseline(v: &SensorValues) {
    black_box(v.acceleration_vector_as_milli_g());
    black_box(v.temperature_as_millicelsius());
    black_box(v.humidity_as_ppm());
    black_box(v.pressure_as_pascals());
    black_box(v.battery_potential_as_millivolts());
    black_box(v.tx_power_as_dbm());
    black_box(v.movement_counter());
    black_box(v.measurement_sequence_number());
    black_box(v.pm1_0_as_nanograms_per_cubic_meter());
    black_box(v.pm2_5_as_nanograms_per_cubic_meter());
    black_box(v.pm4_0_as_nanograms_per_cubic_meter());
    black_box(v.pm10_0_as_nanograms_per_cubic_meter());
    black_box(v.carbon_dioxide_as_ppm());
    black_box(v.voc_index());
    black_box(v.nox_index());
    black_box(v.luminosity_as_millilux());
    black_box(v.calibration_in_progress());
    black_box(v.mac_address());
}

fn group(c: &mut Criterion, name: &str, raw_hex: &str, baseline: bool) {
    let raw = hex::decode(raw_hex).unwrap();
    let payload = ruuvi_protocol::adv::ruuvi_payload(&raw).unwrap().to_vec();
    let mut g = c.benchmark_group(name);
    g.bench_function("ours/advertisement", |b| {
        b.iter(|| consume(decode_advertisement(black_box(&raw)).unwrap().readings()))
    });
    g.bench_function("ours/payload", |b| {
        b.iter(|| consume(decode_payload(black_box(&payload)).unwrap().readings()))
    });
    if baseline {
        g.bench_function("ruuvi-sensor-protocol/payload", |b| {
            b.iter(|| {
                consume_baseline(
                    &SensorValues::from_manufacturer_specific_data(0x0499, black_box(&payload))
                        .unwrap(),
                )
            })
        });
    }
    g.finish();
}

fn decode(c: &mut Criterion) {
    group(c, "decode/DF5", DF5, true);
    group(c, "decode/DF6", DF6, false);
    group(c, "decode/E1", E1, true);
}

criterion_group!(benches, decode);
criterion_main!(benches);
