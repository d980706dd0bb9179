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

/// Touches every value so none of the decoding is optimised away.
fn consume(r: &Readings) -> f64 {
    let f = |v: Option<f64>| v.unwrap_or(0.0);
    f(r.temperature_c)
        + f(r.humidity_pct)
        + f(r.pressure_pa)
        + f(r.accel_x_g)
        + f(r.accel_y_g)
        + f(r.accel_z_g)
        + f(r.battery_v)
        + f(r.pm1_0)
        + f(r.pm2_5)
        + f(r.pm4_0)
        + f(r.pm10_0)
        + f(r.co2_ppm)
        + f(r.voc_index)
        + f(r.nox_index)
        + f(r.luminosity_lux)
        + f(r.sound_inst_dba)
        + f(r.sound_avg_dba)
        + f(r.sound_peak_spl_db)
        + f64::from(r.tx_power_dbm.unwrap_or(0))
        + f64::from(r.movement_counter.unwrap_or(0))
        + f64::from(r.measurement_sequence.unwrap_or(0))
        + f64::from(u8::from(r.calibration_in_progress.unwrap_or(false)))
        + f64::from(r.mac.map_or(0, |m| m.bytes()[5]))
}

fn consume_baseline(v: &SensorValues) -> i64 {
    let acc = v
        .acceleration_vector_as_milli_g()
        .map_or(0, |a| i64::from(a.0) + i64::from(a.1) + i64::from(a.2));
    acc + i64::from(v.temperature_as_millicelsius().unwrap_or(0))
        + i64::from(v.humidity_as_ppm().unwrap_or(0))
        + i64::from(v.pressure_as_pascals().unwrap_or(0))
        + i64::from(v.battery_potential_as_millivolts().unwrap_or(0))
        + i64::from(v.tx_power_as_dbm().unwrap_or(0))
        + i64::from(v.movement_counter().unwrap_or(0))
        + i64::from(v.measurement_sequence_number().unwrap_or(0))
        + i64::from(v.pm1_0_as_nanograms_per_cubic_meter().unwrap_or(0))
        + i64::from(v.pm2_5_as_nanograms_per_cubic_meter().unwrap_or(0))
        + i64::from(v.pm4_0_as_nanograms_per_cubic_meter().unwrap_or(0))
        + i64::from(v.pm10_0_as_nanograms_per_cubic_meter().unwrap_or(0))
        + i64::from(v.carbon_dioxide_as_ppm().unwrap_or(0))
        + i64::from(v.voc_index().unwrap_or(0))
        + i64::from(v.nox_index().unwrap_or(0))
        + i64::from(v.luminosity_as_millilux().unwrap_or(0))
        + i64::from(u8::from(v.calibration_in_progress().unwrap_or(false)))
        + i64::from(v.mac_address().map_or(0, |m| m[5]))
}

fn group(c: &mut Criterion, name: &str, raw_hex: &str, baseline: bool) {
    let raw = hex::decode(raw_hex).unwrap();
    let payload = ruuvi_protocol::adv::ruuvi_payload(&raw).unwrap().to_vec();
    let mut g = c.benchmark_group(name);
    g.bench_function("ours/advertisement", |b| {
        b.iter(|| consume(&decode_advertisement(black_box(&raw)).unwrap().readings()))
    });
    g.bench_function("ours/payload", |b| {
        b.iter(|| consume(&decode_payload(black_box(&payload)).unwrap().readings()))
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
