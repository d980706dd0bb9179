//! Readings as a compact blob: a 32-bit mask of the fields present, then each present field in
//! declaration order (f64 as its exact bits, integers and flags at their own width, MACs as
//! bytes), little-endian. A DF5 row is ~76 bytes instead of ~560 as JSON with its nulls, which
//! is what SQLite writes twice (WAL, then checkpoint). Rows written as JSON text by schema 1
//! and 2 are still read.

use ruuvi_protocol::{MacAddress, Readings};

/// Field slots, in the order their bits and bytes appear. The destructuring below has no `..`,
/// so a new field in `Readings` does not compile until it is given a slot here.
pub(crate) fn encode(r: &Readings) -> Vec<u8> {
    let Readings {
        temperature_c,
        humidity_pct,
        pressure_pa,
        accel_x_g,
        accel_y_g,
        accel_z_g,
        battery_v,
        tx_power_dbm,
        movement_counter,
        measurement_sequence,
        pm1_0,
        pm2_5,
        pm4_0,
        pm10_0,
        co2_ppm,
        voc_index,
        nox_index,
        luminosity_lux,
        sound_inst_dba,
        sound_avg_dba,
        sound_peak_spl_db,
        calibration_in_progress,
        button_pressed,
        rtc_running_on_boot,
        mac,
        mac_suffix,
    } = r;
    let mut w = Writer::default();
    for v in [
        temperature_c,
        humidity_pct,
        pressure_pa,
        accel_x_g,
        accel_y_g,
        accel_z_g,
        battery_v,
    ] {
        w.put(v.map(|x| x.to_le_bytes()));
    }
    w.put(tx_power_dbm.map(i16::to_le_bytes));
    w.put(movement_counter.map(u32::to_le_bytes));
    w.put(measurement_sequence.map(u32::to_le_bytes));
    for v in [
        pm1_0,
        pm2_5,
        pm4_0,
        pm10_0,
        co2_ppm,
        voc_index,
        nox_index,
        luminosity_lux,
        sound_inst_dba,
        sound_avg_dba,
        sound_peak_spl_db,
    ] {
        w.put(v.map(|x| x.to_le_bytes()));
    }
    for v in [calibration_in_progress, button_pressed, rtc_running_on_boot] {
        w.put(v.map(|b| [u8::from(b)]));
    }
    w.put(mac.map(|m| m.0));
    w.put(*mac_suffix);
    w.finish()
}

pub(crate) fn decode(bytes: &[u8]) -> Result<Readings, String> {
    let mut r = Reader::new(bytes)?;
    let mut f = || r.take::<8>().map(|o| o.map(f64::from_le_bytes));
    let (temperature_c, humidity_pct, pressure_pa) = (f()?, f()?, f()?);
    let (accel_x_g, accel_y_g, accel_z_g, battery_v) = (f()?, f()?, f()?, f()?);
    let tx_power_dbm = r.take::<2>()?.map(i16::from_le_bytes);
    let movement_counter = r.take::<4>()?.map(u32::from_le_bytes);
    let measurement_sequence = r.take::<4>()?.map(u32::from_le_bytes);
    let mut f = || r.take::<8>().map(|o| o.map(f64::from_le_bytes));
    let (pm1_0, pm2_5, pm4_0, pm10_0) = (f()?, f()?, f()?, f()?);
    let (co2_ppm, voc_index, nox_index, luminosity_lux) = (f()?, f()?, f()?, f()?);
    let (sound_inst_dba, sound_avg_dba, sound_peak_spl_db) = (f()?, f()?, f()?);
    let mut b = || r.take::<1>().map(|o| o.map(|[v]| v != 0));
    let (calibration_in_progress, button_pressed, rtc_running_on_boot) = (b()?, b()?, b()?);
    let mac = r.take::<6>()?.map(MacAddress);
    let mac_suffix = r.take::<3>()?;
    r.end()?;
    Ok(Readings {
        temperature_c,
        humidity_pct,
        pressure_pa,
        accel_x_g,
        accel_y_g,
        accel_z_g,
        battery_v,
        tx_power_dbm,
        movement_counter,
        measurement_sequence,
        pm1_0,
        pm2_5,
        pm4_0,
        pm10_0,
        co2_ppm,
        voc_index,
        nox_index,
        luminosity_lux,
        sound_inst_dba,
        sound_avg_dba,
        sound_peak_spl_db,
        calibration_in_progress,
        button_pressed,
        rtc_running_on_boot,
        mac,
        mac_suffix,
    })
}

#[derive(Default)]
struct Writer {
    mask: u32,
    slot: u32,
    values: Vec<u8>,
}

impl Writer {
    fn put<const N: usize>(&mut self, value: Option<[u8; N]>) {
        if let Some(bytes) = value {
            self.mask |= 1 << self.slot;
            self.values.extend_from_slice(&bytes);
        }
        self.slot += 1;
    }

    fn finish(self) -> Vec<u8> {
        let mut out = Vec::with_capacity(4 + self.values.len());
        out.extend_from_slice(&self.mask.to_le_bytes());
        out.extend_from_slice(&self.values);
        out
    }
}

struct Reader<'a> {
    mask: u32,
    slot: u32,
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Result<Self, String> {
        let (mask, rest) = bytes
            .split_first_chunk::<4>()
            .ok_or("readings blob shorter than its mask")?;
        Ok(Self {
            mask: u32::from_le_bytes(*mask),
            slot: 0,
            rest,
        })
    }

    fn take<const N: usize>(&mut self) -> Result<Option<[u8; N]>, String> {
        let present = self.mask & (1 << self.slot) != 0;
        self.slot += 1;
        if !present {
            return Ok(None);
        }
        let (value, rest) = self
            .rest
            .split_first_chunk::<N>()
            .ok_or_else(|| format!("readings blob ends inside field {}", self.slot - 1))?;
        self.rest = rest;
        Ok(Some(*value))
    }

    fn end(self) -> Result<(), String> {
        if !self.rest.is_empty() || self.mask >> self.slot != 0 {
            return Err("readings blob has bytes or fields this version does not know".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_round_trips_exactly() {
        let all = Readings {
            temperature_c: Some(-40.005),
            humidity_pct: Some(f64::MIN_POSITIVE),
            pressure_pa: Some(101_325.0),
            accel_x_g: Some(-0.004),
            accel_y_g: Some(0.0),
            accel_z_g: Some(1.036),
            battery_v: Some(2.977),
            tx_power_dbm: Some(-40),
            movement_counter: Some(u32::MAX),
            measurement_sequence: Some(65_534),
            pm1_0: Some(10.1),
            pm2_5: Some(11.2),
            pm4_0: Some(12.3),
            pm10_0: Some(13.4),
            co2_ppm: Some(201.0),
            voc_index: Some(10.0),
            nox_index: Some(2.0),
            luminosity_lux: Some(13_026.67),
            sound_inst_dba: Some(42.5),
            sound_avg_dba: Some(40.0),
            sound_peak_spl_db: Some(90.2),
            calibration_in_progress: Some(true),
            button_pressed: Some(false),
            rtc_running_on_boot: Some(true),
            mac: Some(MacAddress([0xCB, 0xB8, 0x33, 0x4C, 0x88, 0x4F])),
            mac_suffix: Some([0x4C, 0x88, 0x4F]),
        };
        assert_eq!(decode(&encode(&all)).unwrap(), all);
        assert_eq!(
            decode(&encode(&Readings::default())).unwrap(),
            Readings::default()
        );
        let df5 = Readings {
            temperature_c: Some(24.3),
            measurement_sequence: Some(7),
            mac: all.mac,
            ..Readings::default()
        };
        let blob = encode(&df5);
        assert_eq!(blob.len(), 4 + 8 + 4 + 6);
        assert_eq!(decode(&blob).unwrap(), df5);
    }

    #[test]
    fn damaged_blobs_are_errors() {
        let blob = encode(&Readings {
            temperature_c: Some(1.0),
            ..Readings::default()
        });
        assert!(decode(&blob[..blob.len() - 1]).is_err());
        assert!(decode(&blob[..2]).is_err());
        let mut longer = blob.clone();
        longer.push(0);
        assert!(decode(&longer).is_err());
        let mut unknown_field = blob;
        unknown_field[3] = 0x80;
        assert!(decode(&unknown_field).is_err());
    }
}
