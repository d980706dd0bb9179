//! Simulated sensors: RuuviTags (format 5) and Ruuvi Airs (format 6 + E1), whose values drift
//! like real rooms. Values are computed lazily, when a poll or a post needs them, so an idle
//! fleet costs no CPU.

use ruuvi_protocol::formats::{advertisement_for, DataFormat, Measurement};
use ruuvi_protocol::{MacAddress, Readings};

use crate::rng::Rng;

/// RuuviTag advertising interval (fw ≥ 3.28.13).
const TAG_INTERVAL_MS: u64 = 1285;
/// Ruuvi Air measurement / advertising interval, roughly.
const AIR_INTERVAL_MS: u64 = 1000;
/// Random-walk step.
const STEP_MS: u64 = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagKind {
    RuuviTag,
    RuuviAir,
}

/// One advertisement as the gateway's radio received it.
#[derive(Debug, Clone, PartialEq)]
pub struct Advertisement {
    pub mac: MacAddress,
    pub rssi: i16,
    /// Raw AD structures, as relayed in the gateway's `data` field.
    pub data: Vec<u8>,
    pub ble_phy: &'static str,
    pub ble_chan: u8,
    pub ble_tx_power: Option<i16>,
    /// When it was received (Unix ms).
    pub at_ms: u64,
    /// Which measurement it carries (advances with the device's sequence counter).
    pub sequence: u64,
}

#[derive(Debug, Clone)]
pub struct SimTag {
    pub mac: MacAddress,
    pub kind: TagKind,
    rng: Rng,
    /// Simulation time of the state below.
    at_ms: u64,
    started_ms: u64,
    phase: f64,
    base_temperature: f64,
    temperature_walk: f64,
    base_humidity: f64,
    humidity_walk: f64,
    pressure: f64,
    movements: u32,
    orientation: [f64; 3],
    battery_v: f64,
    rssi_base: f64,
    co2: f64,
    pm2_5: f64,
    voc: f64,
}

impl SimTag {
    pub fn new(rng: &Rng, index: u64, kind: TagKind, now_ms: u64) -> Self {
        let mut r = rng.fork(0x7A90_0000 + index);
        let mut mac: [u8; 6] = r.bytes();
        mac[0] |= 0xC0;
        let outdoor = kind == TagKind::RuuviTag && r.unit() < 0.3;
        Self {
            mac: MacAddress(mac),
            kind,
            at_ms: now_ms,
            started_ms: now_ms,
            phase: r.range(0.0, std::f64::consts::TAU),
            base_temperature: if outdoor {
                r.range(-5.0, 15.0)
            } else {
                r.range(18.0, 24.0)
            },
            temperature_walk: 0.0,
            base_humidity: r.range(30.0, 60.0),
            humidity_walk: 0.0,
            pressure: r.range(99_500.0, 102_500.0),
            movements: (r.next_u64() % 200) as u32,
            orientation: [0.0, 0.0, 1.0],
            battery_v: r.range(2.8, 3.1),
            rssi_base: r.range(-90.0, -45.0),
            co2: r.range(450.0, 900.0),
            pm2_5: r.range(1.0, 12.0),
            voc: r.range(80.0, 140.0),
            rng: r,
        }
    }

    /// Steps the random walks up to `now_ms`.
    fn advance(&mut self, now_ms: u64) {
        while self.at_ms + STEP_MS <= now_ms {
            self.at_ms += STEP_MS;
            let r = &mut self.rng;
            self.temperature_walk = (self.temperature_walk + 0.05 * r.normal()).clamp(-3.0, 3.0);
            self.humidity_walk = (self.humidity_walk + 0.2 * r.normal()).clamp(-10.0, 10.0);
            self.pressure = (self.pressure + 4.0 * r.normal()).clamp(97_000.0, 104_000.0);
            // About one movement event per ten minutes.
            if r.unit() < STEP_MS as f64 / 600_000.0 {
                self.movements = self.movements.wrapping_add(1);
                let tilt = r.range(-0.2, 0.2);
                self.orientation = [tilt, -tilt / 2.0, (1.0 - tilt * tilt).sqrt()];
            }
            self.battery_v = (self.battery_v - 1e-7).max(2.0);
            self.co2 = (self.co2 + 8.0 * r.normal()).clamp(420.0, 2500.0);
            self.pm2_5 = (self.pm2_5 + 0.3 * r.normal()).clamp(0.0, 80.0);
            self.voc = (self.voc + 2.0 * r.normal()).clamp(1.0, 500.0);
        }
    }

    fn readings(&mut self, now_ms: u64) -> Readings {
        // A tag measures once per interval and repeats that measurement (same sequence number,
        // same values) in every advertisement until the next one.
        let interval = match self.kind {
            TagKind::RuuviTag => TAG_INTERVAL_MS,
            TagKind::RuuviAir => AIR_INTERVAL_MS,
        };
        let now_ms = self.started_ms + now_ms.saturating_sub(self.started_ms) / interval * interval;
        self.advance(now_ms);
        let day = (now_ms as f64 / 86_400_000.0) * std::f64::consts::TAU + self.phase;
        let temperature = self.base_temperature + 2.5 * day.sin() + self.temperature_walk;
        let humidity =
            (self.base_humidity - 1.5 * day.sin() + self.humidity_walk).clamp(0.0, 100.0);
        let noise = |r: &mut Rng| 0.004 * r.normal();
        let r = &mut self.rng.fork(now_ms);
        let mut out = Readings {
            temperature_c: Some(temperature),
            humidity_pct: Some(humidity),
            pressure_pa: Some(self.pressure),
            mac: Some(self.mac),
            ..Readings::default()
        };
        match self.kind {
            TagKind::RuuviTag => {
                out.accel_x_g = Some(self.orientation[0] + noise(r));
                out.accel_y_g = Some(self.orientation[1] + noise(r));
                out.accel_z_g = Some(self.orientation[2] + noise(r));
                // Cold batteries sag.
                out.battery_v = Some(self.battery_v - 0.004 * (20.0 - temperature).max(0.0));
                out.tx_power_dbm = Some(4);
                out.movement_counter = Some(self.movements % 255);
                out.measurement_sequence =
                    Some(((now_ms - self.started_ms) / TAG_INTERVAL_MS % 65_535) as u32);
            }
            TagKind::RuuviAir => {
                out.pm2_5 = Some(self.pm2_5);
                out.pm1_0 = Some(self.pm2_5 * 0.9);
                out.pm4_0 = Some(self.pm2_5 * 1.05);
                out.pm10_0 = Some(self.pm2_5 * 1.1);
                out.co2_ppm = Some(self.co2);
                out.voc_index = Some(self.voc.round());
                out.nox_index = Some(1.0);
                out.luminosity_lux = Some((400.0 * day.sin()).max(0.0) + 1.0);
                out.measurement_sequence =
                    Some(((now_ms - self.started_ms) / AIR_INTERVAL_MS % 0xFF_FFFF) as u32);
                out.calibration_in_progress = Some(false);
                out.button_pressed = Some(false);
                out.rtc_running_on_boot = Some(true);
            }
        }
        out
    }

    /// The tag's latest advertisement at `now_ms`. A Ruuvi Air sends format 6 (legacy, 1M) and
    /// E1 (extended, 2M) with the same sequence; `extended` says whether the gateway scans
    /// extended advertisements (it then keeps E1, never replacing it with format 6).
    pub fn latest(&mut self, now_ms: u64, extended: bool) -> Advertisement {
        let readings = self.readings(now_ms);
        let sequence = u64::from(readings.measurement_sequence.unwrap_or(0));
        let rssi = (self.rssi_base + 2.0 * self.rng.fork(now_ms ^ 0x5151).normal()).round() as i16;
        let chan = 37 + (now_ms / 1000 % 3) as u8;
        let (format, phy, ble_chan, tx) = match (self.kind, extended) {
            (TagKind::RuuviTag, _) => (DataFormat::Df5, "1M", chan, None),
            (TagKind::RuuviAir, true) => {
                (DataFormat::E1, "2M", (now_ms / 1000 % 37) as u8, Some(8))
            }
            (TagKind::RuuviAir, false) => (DataFormat::Df6, "1M", chan, None),
        };
        let payload = Measurement::from_readings(format, &readings).encode();
        Advertisement {
            mac: self.mac,
            rssi: rssi.clamp(-120, -20),
            data: advertisement_for(format, &payload),
            ble_phy: phy,
            ble_chan,
            ble_tx_power: tx,
            at_ms: now_ms,
            sequence,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ruuvi_protocol::decode_advertisement;

    #[test]
    fn tags_advertise_decodable_drifting_values() {
        let rng = Rng::new(42);
        let t0 = 1_787_300_000_000;
        let mut tag = SimTag::new(&rng, 0, TagKind::RuuviTag, t0);
        let a = tag.latest(t0 + 1_000, true);
        let b = tag.latest(t0 + 3_600_000, true);
        let ra = decode_advertisement(&a.data).unwrap();
        let rb = decode_advertisement(&b.data).unwrap();
        assert_eq!(ra.format(), DataFormat::Df5);
        let (ta, tb) = (
            ra.readings().temperature_c.unwrap(),
            rb.readings().temperature_c.unwrap(),
        );
        assert!((-10.0..30.0).contains(&ta), "{ta}");
        assert!(ta != tb, "an hour later the value has moved");
        assert!((ta - tb).abs() < 8.0, "but not wildly: {ta} → {tb}");
        assert_eq!(ra.readings().mac, Some(tag.mac));
        assert!(b.sequence > a.sequence);
    }

    #[test]
    fn air_sends_e1_or_df6_with_matching_sequence() {
        let rng = Rng::new(7);
        let t0 = 1_787_300_000_000;
        let mut air = SimTag::new(&rng, 3, TagKind::RuuviAir, t0);
        let mut twin = air.clone();
        let e1 = air.latest(t0 + 61_000, true);
        let df6 = twin.latest(t0 + 61_000, false);
        let me = decode_advertisement(&e1.data).unwrap().readings();
        let m6 = decode_advertisement(&df6.data).unwrap().readings();
        assert_eq!(
            decode_advertisement(&e1.data).unwrap().format(),
            DataFormat::E1
        );
        assert_eq!(
            m6.measurement_sequence,
            Some(me.measurement_sequence.unwrap() & 0xFF)
        );
        assert!(me.pm10_0 >= me.pm4_0 && me.pm4_0 >= me.pm2_5 && me.pm2_5 >= me.pm1_0);
        assert_eq!((e1.ble_phy, df6.ble_phy), ("2M", "1M"));
    }

    #[test]
    fn same_seed_same_data() {
        let t0 = 1_787_300_000_000;
        let a = SimTag::new(&Rng::new(5), 1, TagKind::RuuviTag, t0).latest(t0 + 500_000, true);
        let b = SimTag::new(&Rng::new(5), 1, TagKind::RuuviTag, t0).latest(t0 + 500_000, true);
        assert_eq!(a, b);
    }
}
