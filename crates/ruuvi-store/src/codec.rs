//! Readings as a compact blob: a 32-bit mask of the fields present, then each present field in
//! declaration order (f64 as its exact bits, integers and flags at their own width, MACs as
//! bytes), little-endian. A DF5 row is ~76 bytes instead of ~520 as JSON with its nulls, which
//! is what SQLite writes twice (WAL, then checkpoint). Rows written as JSON text by schema 1
//! and 2 are still read.

use ruuvi_protocol::{MacAddress, Readings};

/// Every field once, in slot order. The destructuring has no `..`, so a new field in
/// `Readings` does not compile until it is given a slot here (at the end: slots are stored).
macro_rules! readings_codec {
    ($($field:ident),* $(,)?) => {
        pub(crate) fn encode(r: &Readings) -> Vec<u8> {
            let Readings { $($field),* } = r;
            let mut w = Writer::default();
            $( w.put(*$field); )*
            w.finish()
        }

        pub(crate) fn decode(bytes: &[u8]) -> Result<Readings, String> {
            let mut r = Reader::new(bytes)?;
            $( let $field = r.take()?; )*
            r.end()?;
            Ok(Readings { $($field),* })
        }
    };
}

readings_codec!(
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
);

/// A value type of a slot: its width and its little-endian bytes.
trait Slot: Copy {
    const WIDTH: usize;
    fn put(self, out: &mut Vec<u8>);
    /// `bytes` is exactly `WIDTH` long.
    fn get(bytes: &[u8]) -> Self;
}

macro_rules! number_slot {
    ($($t:ty),*) => {$(
        impl Slot for $t {
            const WIDTH: usize = std::mem::size_of::<$t>();
            fn put(self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
            fn get(bytes: &[u8]) -> Self {
                <$t>::from_le_bytes(bytes.try_into().expect("WIDTH bytes"))
            }
        }
    )*};
}

number_slot!(f64, i16, u32);

impl Slot for bool {
    const WIDTH: usize = 1;
    fn put(self, out: &mut Vec<u8>) {
        out.push(u8::from(self));
    }
    fn get(bytes: &[u8]) -> Self {
        bytes[0] != 0
    }
}

impl Slot for [u8; 3] {
    const WIDTH: usize = 3;
    fn put(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self);
    }
    fn get(bytes: &[u8]) -> Self {
        bytes.try_into().expect("WIDTH bytes")
    }
}

impl Slot for MacAddress {
    const WIDTH: usize = 6;
    fn put(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.0);
    }
    fn get(bytes: &[u8]) -> Self {
        MacAddress(bytes.try_into().expect("WIDTH bytes"))
    }
}

#[derive(Default)]
struct Writer {
    mask: u32,
    slot: u32,
    values: Vec<u8>,
}

impl Writer {
    fn put<T: Slot>(&mut self, value: Option<T>) {
        if let Some(v) = value {
            self.mask |= 1 << self.slot;
            v.put(&mut self.values);
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

    fn take<T: Slot>(&mut self) -> Result<Option<T>, String> {
        let present = self.mask & (1 << self.slot) != 0;
        self.slot += 1;
        if !present {
            return Ok(None);
        }
        if self.rest.len() < T::WIDTH {
            return Err(format!("readings blob ends inside field {}", self.slot - 1));
        }
        let (value, rest) = self.rest.split_at(T::WIDTH);
        self.rest = rest;
        Ok(Some(T::get(value)))
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
