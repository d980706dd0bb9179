//! Data format 3 (RAWv1): 14 bytes, sign-magnitude temperature, no "not available" codes.

use super::{be16, check_len, DataFormat};
use crate::error::DecodeError;
use crate::readings::Readings;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Df3 {
    /// 0.5 %RH steps.
    pub humidity: u8,
    /// Bit 7 = sign, bits 6..0 = whole degrees.
    pub temperature_int: u8,
    /// Hundredths of a degree (0..99 in practice; other values are kept as sent).
    pub temperature_frac: u8,
    /// Pa − 50000.
    pub pressure: u16,
    /// milli-g.
    pub acceleration: [i16; 3],
    pub battery_mv: u16,
}

impl Df3 {
    #[inline(always)]
    pub fn decode(p: &[u8]) -> Result<Self, DecodeError> {
        check_len(p, DataFormat::Df3)?;
        Ok(Self {
            humidity: p[1],
            temperature_int: p[2],
            temperature_frac: p[3],
            pressure: be16(p, 4),
            acceleration: [be16(p, 6) as i16, be16(p, 8) as i16, be16(p, 10) as i16],
            battery_mv: be16(p, 12),
        })
    }

    pub fn encode(&self) -> [u8; 14] {
        let mut b = [0u8; 14];
        b[0] = DataFormat::Df3.code();
        b[1] = self.humidity;
        b[2] = self.temperature_int;
        b[3] = self.temperature_frac;
        b[4..6].copy_from_slice(&self.pressure.to_be_bytes());
        for (i, a) in self.acceleration.iter().enumerate() {
            b[6 + 2 * i..8 + 2 * i].copy_from_slice(&a.to_be_bytes());
        }
        b[12..14].copy_from_slice(&self.battery_mv.to_be_bytes());
        b
    }

    pub fn temperature_c(&self) -> f64 {
        let magnitude = f64::from(
            u32::from(self.temperature_int & 0x7F) * 100 + u32::from(self.temperature_frac),
        ) / 100.0;
        if self.temperature_int & 0x80 != 0 {
            -magnitude
        } else {
            magnitude
        }
    }

    #[inline(always)]
    pub fn readings(&self) -> Readings {
        Readings {
            temperature_c: Some(self.temperature_c()),
            humidity_pct: Some(f64::from(self.humidity) / 2.0),
            pressure_pa: Some(f64::from(self.pressure) + 50_000.0),
            accel_x_g: Some(f64::from(self.acceleration[0]) / 1000.0),
            accel_y_g: Some(f64::from(self.acceleration[1]) / 1000.0),
            accel_z_g: Some(f64::from(self.acceleration[2]) / 1000.0),
            battery_v: Some(f64::from(self.battery_mv) / 1000.0),
            ..Readings::default()
        }
    }

    /// Format 3 has no "not available" codes: like the C encoder, missing values become 0.
    pub fn from_readings(r: &Readings) -> Self {
        let t = r.temperature_c.filter(|v| !v.is_nan()).unwrap_or(0.0);
        let hundredths = (t.abs() * 100.0).round().min(127.0 * 100.0 + 99.0) as u32;
        let sign = if t < 0.0 && hundredths > 0 { 0x80 } else { 0 };
        let accel = |v: Option<f64>| {
            (v.filter(|v| !v.is_nan()).unwrap_or(0.0) * 1000.0)
                .round()
                .clamp(-32767.0, 32767.0) as i16
        };
        Self {
            humidity: (r.humidity_pct.filter(|v| !v.is_nan()).unwrap_or(0.0) * 2.0)
                .round()
                .clamp(0.0, 255.0) as u8,
            temperature_int: sign | (hundredths / 100) as u8,
            temperature_frac: (hundredths % 100) as u8,
            pressure: r
                .pressure_pa
                .filter(|v| !v.is_nan())
                .map_or(0, |p| (p - 50_000.0).round().clamp(0.0, 65535.0) as u16),
            acceleration: [accel(r.accel_x_g), accel(r.accel_y_g), accel(r.accel_z_g)],
            battery_mv: (r.battery_v.filter(|v| !v.is_nan()).unwrap_or(0.0) * 1000.0)
                .round()
                .clamp(0.0, 65535.0) as u16,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::{assert_close, decode_hex};

    fn df3(hex: &str) -> Df3 {
        Df3::decode(&hex::decode(hex).unwrap()).unwrap()
    }

    #[allow(clippy::too_many_arguments)]
    fn check(hex: &str, t: f64, rh: f64, p: f64, acc: [i16; 3], mv: u16) {
        let m = df3(hex);
        let r = m.readings();
        assert_close(r.temperature_c, t, 1e-9, "temperature");
        assert_close(r.humidity_pct, rh, 1e-9, "humidity");
        assert_close(r.pressure_pa, p, 1e-9, "pressure");
        assert_eq!(m.acceleration, acc);
        assert_eq!(m.battery_mv, mv);
        assert_eq!(hex::encode_upper(m.encode()), hex);
    }

    #[test]
    fn docs_vectors() {
        check(
            "03291A1ECE1EFC18F94202CA0B53",
            26.30,
            20.5,
            102766.0,
            [-1000, -1726, 714],
            2899,
        );
        check(
            "03FF7F63FFFF7FFF7FFF7FFFFFFF",
            127.99,
            127.5,
            115535.0,
            [32767; 3],
            65535,
        );
        check(
            "0300FF6300008001800180010000",
            -127.99,
            0.0,
            50000.0,
            [-32767; 3],
            0,
        );
    }

    #[test]
    fn extra_vectors() {
        check(
            "03C87F63FFFF03E803E803E8FFFF",
            127.99,
            100.0,
            115535.0,
            [1000; 3],
            65535,
        );
        check(
            "0300FF630000FC18FC18FC180000",
            -127.99,
            0.0,
            50000.0,
            [-1000; 3],
            0,
        );
        check(
            "03170145355803E804E705E60886",
            1.69,
            11.5,
            63656.0,
            [1000, 1255, 1510],
            2182,
        );
    }

    #[test]
    fn real_captures_with_hcidump_framing() {
        // First byte = total length, last byte = RSSI: strip both to get the advertisement.
        let framed = hex::decode("1502010611FF990403411540C84AFC72FE2FFFC50B89C6").unwrap();
        let adv = &framed[1..framed.len() - 1];
        let m = match crate::formats::decode_advertisement(adv).unwrap() {
            crate::formats::Measurement::Df3(m) => m,
            other => panic!("{other:?}"),
        };
        let r = m.readings();
        assert_close(r.humidity_pct, 32.5, 1e-9, "humidity");
        assert_close(r.temperature_c, 21.64, 1e-9, "temperature");
        assert_close(r.pressure_pa, 101274.0, 1e-9, "pressure");
        assert_eq!(m.acceleration, [-910, -465, -59]);
        assert_eq!(m.battery_mv, 2953);
        assert_eq!(framed[framed.len() - 1] as i8, -58);

        let m = decode_hex("03651652CAE900080018041C0C8B", None)
            .unwrap()
            .readings();
        assert_close(m.humidity_pct, 50.5, 1e-9, "humidity");
        assert_close(m.temperature_c, 22.82, 1e-9, "temperature");
        assert_close(m.pressure_pa, 101945.0, 1e-9, "pressure");
        assert_close(m.accel_z_g, 1.052, 1e-9, "accel z");
        assert_close(m.battery_v, 3.211, 1e-9, "battery");
    }

    #[test]
    fn sign_magnitude_minus_1_69() {
        let mut b = hex::decode("03291A1ECE1EFC18F94202CA0B53").unwrap();
        b[2] = 0x81;
        b[3] = 0x45;
        assert_close(
            Some(Df3::decode(&b).unwrap().temperature_c()),
            -1.69,
            1e-9,
            "t",
        );
    }

    #[test]
    fn encoder_writes_zero_for_missing_values() {
        let m = Df3::from_readings(&Readings::default());
        assert_eq!(
            hex::encode_upper(m.encode()),
            "0300000000000000000000000000"
        );
    }
}
