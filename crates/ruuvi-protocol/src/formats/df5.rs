//! Data formats 5 (RAWv2, 24 bytes) and C5 (RAWv2 without acceleration, 18 bytes).

use super::*;
use crate::error::DecodeError;
use crate::mac::MacAddress;
use crate::readings::Readings;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Df5 {
    /// 0.005 °C; `i16::MIN` = N/A.
    pub temperature: i16,
    /// 0.0025 %RH; `0xFFFF` = N/A.
    pub humidity: u16,
    /// Pa − 50000; `0xFFFF` = N/A.
    pub pressure: u16,
    /// milli-g; `i16::MIN` = N/A.
    pub acceleration: [i16; 3],
    /// Upper 11 bits battery (mV − 1600), lower 5 bits tx power ((dBm + 40) / 2).
    pub power_info: u16,
    /// `0xFF` = N/A.
    pub movement_counter: u8,
    /// `0xFFFF` = N/A.
    pub sequence: u16,
    /// All `FF` = N/A.
    pub mac: [u8; 6],
}

/// Format C5 has the same fields as format 5 minus the acceleration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct C5 {
    pub temperature: i16,
    pub humidity: u16,
    pub pressure: u16,
    pub power_info: u16,
    pub movement_counter: u8,
    pub sequence: u16,
    pub mac: [u8; 6],
}

fn accel_g(raw: i16) -> Option<f64> {
    (raw != i16::MIN).then(|| f64::from(raw) / 1000.0)
}

fn encode_accel(v: Option<f64>) -> i16 {
    v.filter(|v| !v.is_nan()).map_or(i16::MIN, |v| {
        (v * 1000.0).round().clamp(-32767.0, 32767.0) as i16
    })
}

impl Df5 {
    #[inline(always)]
    pub fn decode(p: &[u8]) -> Result<Self, DecodeError> {
        check_len(p, DataFormat::Df5)?;
        let mut mac = [0u8; 6];
        mac.copy_from_slice(&p[18..24]);
        Ok(Self {
            temperature: be16(p, 1) as i16,
            humidity: be16(p, 3),
            pressure: be16(p, 5),
            acceleration: [be16(p, 7) as i16, be16(p, 9) as i16, be16(p, 11) as i16],
            power_info: be16(p, 13),
            movement_counter: p[15],
            sequence: be16(p, 16),
            mac,
        })
    }

    pub fn encode(&self) -> [u8; 24] {
        let mut b = [0u8; 24];
        b[0] = DataFormat::Df5.code();
        b[1..3].copy_from_slice(&self.temperature.to_be_bytes());
        b[3..5].copy_from_slice(&self.humidity.to_be_bytes());
        b[5..7].copy_from_slice(&self.pressure.to_be_bytes());
        for (i, a) in self.acceleration.iter().enumerate() {
            b[7 + 2 * i..9 + 2 * i].copy_from_slice(&a.to_be_bytes());
        }
        b[13..15].copy_from_slice(&self.power_info.to_be_bytes());
        b[15] = self.movement_counter;
        b[16..18].copy_from_slice(&self.sequence.to_be_bytes());
        b[18..24].copy_from_slice(&self.mac);
        b
    }

    #[inline(always)]
    pub fn readings(&self) -> Readings {
        Readings {
            temperature_c: temperature_c(self.temperature),
            humidity_pct: humidity_pct(self.humidity),
            pressure_pa: pressure_pa(self.pressure),
            accel_x_g: accel_g(self.acceleration[0]),
            accel_y_g: accel_g(self.acceleration[1]),
            accel_z_g: accel_g(self.acceleration[2]),
            battery_v: battery_v(self.power_info),
            tx_power_dbm: tx_power_dbm(self.power_info),
            movement_counter: (self.movement_counter != 0xFF)
                .then_some(u32::from(self.movement_counter)),
            measurement_sequence: (self.sequence != 0xFFFF).then_some(u32::from(self.sequence)),
            mac: some_mac(self.mac),
            ..Readings::default()
        }
    }

    pub fn from_readings(r: &Readings) -> Self {
        Self {
            temperature: encode_temperature(r.temperature_c),
            humidity: encode_humidity(r.humidity_pct, 65534),
            pressure: encode_pressure(r.pressure_pa),
            acceleration: [
                encode_accel(r.accel_x_g),
                encode_accel(r.accel_y_g),
                encode_accel(r.accel_z_g),
            ],
            power_info: encode_power_info(r.battery_v, r.tx_power_dbm),
            movement_counter: encode_counter(r.movement_counter, 254, 0xFF) as u8,
            sequence: encode_counter(r.measurement_sequence, 65534, 0xFFFF) as u16,
            mac: mac_or_unavailable(r),
        }
    }

    pub fn mac_address(&self) -> Option<MacAddress> {
        some_mac(self.mac)
    }
}

impl C5 {
    #[inline(always)]
    pub fn decode(p: &[u8]) -> Result<Self, DecodeError> {
        check_len(p, DataFormat::C5)?;
        let mut mac = [0u8; 6];
        mac.copy_from_slice(&p[12..18]);
        Ok(Self {
            temperature: be16(p, 1) as i16,
            humidity: be16(p, 3),
            pressure: be16(p, 5),
            power_info: be16(p, 7),
            movement_counter: p[9],
            sequence: be16(p, 10),
            mac,
        })
    }

    pub fn encode(&self) -> [u8; 18] {
        let mut b = [0u8; 18];
        b[0] = DataFormat::C5.code();
        b[1..3].copy_from_slice(&self.temperature.to_be_bytes());
        b[3..5].copy_from_slice(&self.humidity.to_be_bytes());
        b[5..7].copy_from_slice(&self.pressure.to_be_bytes());
        b[7..9].copy_from_slice(&self.power_info.to_be_bytes());
        b[9] = self.movement_counter;
        b[10..12].copy_from_slice(&self.sequence.to_be_bytes());
        b[12..18].copy_from_slice(&self.mac);
        b
    }

    #[inline(always)]
    pub fn readings(&self) -> Readings {
        Readings {
            accel_x_g: None,
            accel_y_g: None,
            accel_z_g: None,
            ..self.as_df5().readings()
        }
    }

    pub fn from_readings(r: &Readings) -> Self {
        let d = Df5::from_readings(r);
        Self {
            temperature: d.temperature,
            humidity: d.humidity,
            pressure: d.pressure,
            power_info: d.power_info,
            movement_counter: d.movement_counter,
            sequence: d.sequence,
            mac: d.mac,
        }
    }

    fn as_df5(&self) -> Df5 {
        Df5 {
            temperature: self.temperature,
            humidity: self.humidity,
            pressure: self.pressure,
            acceleration: [i16::MIN; 3],
            power_info: self.power_info,
            movement_counter: self.movement_counter,
            sequence: self.sequence,
            mac: self.mac,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::{assert_close, decode_advertisement, Measurement};

    fn df5(hex: &str) -> Df5 {
        let m = Df5::decode(&hex::decode(hex).unwrap()).unwrap();
        assert_eq!(hex::encode_upper(m.encode()), hex, "re-encode");
        m
    }

    const MAC: &str = "CB:B8:33:4C:88:4F";

    #[test]
    fn docs_valid() {
        let m = df5("0512FC5394C37C0004FFFC040CAC364200CDCBB8334C884F");
        let r = m.readings();
        assert_eq!(m.temperature, 4860);
        assert_close(r.temperature_c, 24.3, 1e-12, "t");
        assert_eq!(m.humidity, 21396);
        assert_close(r.humidity_pct, 53.49, 1e-12, "rh");
        assert_close(r.pressure_pa, 100044.0, 0.0, "p");
        assert_eq!(m.acceleration, [4, -4, 1036]);
        assert_eq!(m.power_info, 0xAC36);
        assert_close(r.battery_v, 2.977, 1e-12, "batt");
        assert_eq!(r.tx_power_dbm, Some(4));
        assert_eq!(r.movement_counter, Some(66));
        assert_eq!(r.measurement_sequence, Some(205));
        assert_eq!(r.mac.unwrap().to_string(), MAC);
    }

    #[test]
    fn docs_maximum() {
        let r = df5("057FFFFFFEFFFE7FFF7FFF7FFFFFDEFEFFFECBB8334C884F").readings();
        assert_close(r.temperature_c, 163.835, 1e-12, "t");
        assert_close(r.humidity_pct, 163.835, 1e-12, "rh");
        assert_close(r.pressure_pa, 115534.0, 0.0, "p");
        assert_close(r.accel_x_g, 32.767, 1e-12, "ax");
        assert_close(r.battery_v, 3.646, 1e-12, "batt");
        assert_eq!(r.tx_power_dbm, Some(20));
        assert_eq!(r.movement_counter, Some(254));
        assert_eq!(r.measurement_sequence, Some(65534));
    }

    #[test]
    fn docs_minimum() {
        let r = df5("058001000000008001800180010000000000CBB8334C884F").readings();
        assert_close(r.temperature_c, -163.835, 1e-12, "t");
        assert_close(r.humidity_pct, 0.0, 0.0, "rh");
        assert_close(r.pressure_pa, 50000.0, 0.0, "p");
        assert_close(r.accel_z_g, -32.767, 1e-12, "az");
        assert_close(r.battery_v, 1.6, 1e-12, "batt");
        assert_eq!(r.tx_power_dbm, Some(-40));
        assert_eq!(r.movement_counter, Some(0));
        assert_eq!(r.measurement_sequence, Some(0));
    }

    #[test]
    fn docs_invalid_is_all_unavailable() {
        let r = df5("058000FFFFFFFF800080008000FFFFFFFFFFFFFFFFFFFFFF").readings();
        assert_eq!(r, Readings::default());
    }

    #[test]
    fn c_encoder_clipping_cases() {
        let under = Readings {
            temperature_c: Some(-170.0),
            humidity_pct: Some(-1.0),
            pressure_pa: Some(49999.0),
            accel_x_g: Some(-40.0),
            accel_y_g: Some(-40.0),
            accel_z_g: Some(-40.0),
            battery_v: Some(1.5),
            tx_power_dbm: Some(-41),
            movement_counter: Some(0),
            measurement_sequence: Some(0),
            mac: Some(MAC.parse().unwrap()),
            ..Readings::default()
        };
        assert_eq!(
            hex::encode_upper(Df5::from_readings(&under).encode()),
            "058001000000008001800180010000000000CBB8334C884F"
        );
        let over = Readings {
            temperature_c: Some(170.0),
            humidity_pct: Some(200.0),
            pressure_pa: Some(200044.0),
            accel_x_g: Some(40.0),
            accel_y_g: Some(40.0),
            accel_z_g: Some(40.0),
            battery_v: Some(3.7),
            tx_power_dbm: Some(25),
            movement_counter: Some(254),
            measurement_sequence: Some(65534),
            mac: Some(MAC.parse().unwrap()),
            ..Readings::default()
        };
        assert_eq!(
            hex::encode_upper(Df5::from_readings(&over).encode()),
            "057FFFFFFEFFFE7FFF7FFF7FFFFFDEFEFFFECBB8334C884F"
        );
        assert_eq!(
            hex::encode_upper(Df5::from_readings(&Readings::default()).encode()),
            "058000FFFFFFFF800080008000FFFFFFFFFFFFFFFFFFFFFF"
        );
    }

    #[test]
    fn real_gateway_captures() {
        #[allow(clippy::type_complexity)]
        let cases: [(&str, f64, f64, f64, [f64; 3], f64, u32, u32, &str); 4] = [
            (
                "0201061BFF99040515714D9FC56DFFF0FFF803E4B516E84D7EF41F0C28CBD6",
                27.445,
                49.6775,
                100541.0,
                [-0.016, -0.008, 0.996],
                3.048,
                232,
                19838,
                "F4:1F:0C:28:CB:D6",
            ),
            (
                "0201061BFF990405167546CAC67C000CFFB403E07796A44D5FF41F0C28CBD6",
                28.745,
                45.3050,
                100812.0,
                [0.012, -0.076, 0.992],
                2.556,
                164,
                19807,
                "F4:1F:0C:28:CB:D6",
            ),
            (
                "0201061BFF99040515EF481EC6630038001003F08376502051F4C6462C3EB4",
                28.075,
                46.1550,
                100787.0,
                [0.056, 0.016, 1.008],
                2.651,
                80,
                8273,
                "F4:C6:46:2C:3E:B4",
            ),
            (
                "0201061BFF99040513C85714C7CC00240008041CAB76F41C3CC6A5B9E0AD06",
                25.320,
                55.7300,
                101148.0,
                [0.036, 0.008, 1.052],
                2.971,
                244,
                7228,
                "C6:A5:B9:E0:AD:06",
            ),
        ];
        for (data, t, rh, p, acc, v, mv, seq, id) in cases {
            let m = decode_advertisement(&hex::decode(data).unwrap()).unwrap();
            assert!(matches!(m, Measurement::Df5(_)));
            let r = m.readings();
            assert_close(r.temperature_c, t, 1e-9, "t");
            assert_close(r.humidity_pct, rh, 1e-9, "rh");
            assert_close(r.pressure_pa, p, 0.0, "p");
            assert_close(r.accel_x_g, acc[0], 1e-9, "ax");
            assert_close(r.accel_y_g, acc[1], 1e-9, "ay");
            assert_close(r.accel_z_g, acc[2], 1e-9, "az");
            assert_close(r.battery_v, v, 1e-9, "v");
            // The gateway docs' "-32" is an erratum: the code gives +4 dBm.
            assert_eq!(r.tx_power_dbm, Some(4));
            assert_eq!(r.movement_counter, Some(mv));
            assert_eq!(r.measurement_sequence, Some(seq));
            assert_eq!(r.mac.unwrap().to_string(), id);
        }
    }

    fn c5(hex: &str) -> C5 {
        let m = C5::decode(&hex::decode(hex).unwrap()).unwrap();
        assert_eq!(hex::encode_upper(m.encode()), hex, "re-encode");
        m
    }

    #[test]
    fn c5_vectors_with_docs_erratum_corrected() {
        // The docs page starts every C5 vector with 05; the C unit tests use C5.
        let r = c5("C512FC5394C37CAC364200CDCBB8334C884F").readings();
        assert_close(r.temperature_c, 24.3, 1e-12, "t");
        assert_close(r.humidity_pct, 53.49, 1e-12, "rh");
        assert_close(r.pressure_pa, 100044.0, 0.0, "p");
        assert_close(r.battery_v, 2.977, 1e-12, "v");
        assert_eq!(r.tx_power_dbm, Some(4));
        assert_eq!(
            (r.movement_counter, r.measurement_sequence),
            (Some(66), Some(205))
        );
        assert_eq!(r.mac.unwrap().to_string(), MAC);
        assert_eq!(r.accel_x_g, None);

        let r = c5("C57FFFFFFEFFFEFFDEFEFFFECBB8334C884F").readings();
        assert_close(r.temperature_c, 163.835, 1e-12, "t");
        assert_close(r.humidity_pct, 163.835, 1e-12, "rh");
        assert_close(r.pressure_pa, 115534.0, 0.0, "p");
        assert_close(r.battery_v, 3.646, 1e-12, "v");
        assert_eq!(r.tx_power_dbm, Some(20));
        assert_eq!(
            (r.movement_counter, r.measurement_sequence),
            (Some(254), Some(65534))
        );

        let r = c5("C58001000000000000000000CBB8334C884F").readings();
        assert_close(r.temperature_c, -163.835, 1e-12, "t");
        assert_close(r.battery_v, 1.6, 1e-12, "v");
        assert_eq!(r.tx_power_dbm, Some(-40));
        assert_eq!(
            (r.movement_counter, r.measurement_sequence),
            (Some(0), Some(0))
        );

        assert_eq!(
            c5("C58000FFFFFFFFFFFFFFFFFFFFFFFFFFFFFF").readings(),
            Readings::default()
        );

        // The docs' literal "05…" C5 vector is 18 bytes: as format 5 it has the wrong length.
        assert_eq!(
            crate::formats::decode_payload(
                &hex::decode("0512FC5394C37CAC364200CDCBB8334C884F").unwrap()
            ),
            Err(DecodeError::WrongLength {
                format: 5,
                expected: 24,
                actual: 18
            })
        );
    }
}
