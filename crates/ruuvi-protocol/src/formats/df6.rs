//! Data format 6: Ruuvi Air, Bluetooth 4 compatible (20 bytes).

use super::*;
use crate::error::DecodeError;
use crate::readings::Readings;

/// Flag bits shared by formats 6 and E1.
pub(crate) const FLAG_CALIBRATION: u8 = 1 << 0;
pub(crate) const FLAG_BUTTON: u8 = 1 << 1;
pub(crate) const FLAG_RTC: u8 = 1 << 2;
pub(crate) const BIT_SOUND_INST: u8 = 3;
pub(crate) const BIT_SOUND_AVG: u8 = 4;
pub(crate) const BIT_SOUND_PEAK: u8 = 5;
pub(crate) const BIT_VOC: u8 = 6;
pub(crate) const BIT_NOX: u8 = 7;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Df6 {
    pub temperature: i16,
    pub humidity: u16,
    pub pressure: u16,
    /// 0.1 µg/m³; `0xFFFF` = N/A.
    pub pm2_5: u16,
    /// ppm; `0xFFFF` = N/A.
    pub co2: u16,
    /// Bits 8..1 of the VOC index (bit 0 is flags bit 6).
    pub voc_high: u8,
    /// Bits 8..1 of the NOx index (bit 0 is flags bit 7).
    pub nox_high: u8,
    /// Logarithmic luminosity code; `0xFF` = N/A.
    pub luminosity: u8,
    /// Bits 8..1 of the average sound level (bit 0 is flags bit 4). Docs: "reserved".
    pub sound_avg_high: u8,
    /// 8-bit measurement sequence; every value is valid.
    pub sequence: u8,
    pub flags: u8,
    /// The lowest three bytes of the device MAC.
    pub mac_suffix: [u8; 3],
}

/// `lux = exp(code × ln(65536)/254) − 1` (data-formats §7).
pub(crate) fn luminosity_from_code(code: u8) -> Option<f64> {
    (code != 0xFF).then(|| (f64::from(code) * 65536f64.ln() / 254.0).exp() - 1.0)
}

fn luminosity_code(lux: Option<f64>) -> u8 {
    lux.filter(|v| !v.is_nan()).map_or(0xFF, |lux| {
        ((lux.max(0.0) + 1.0).ln() * 254.0 / 65536f64.ln())
            .round()
            .clamp(0.0, 254.0) as u8
    })
}

pub(crate) fn flag_bools(flags: u8) -> (Option<bool>, Option<bool>, Option<bool>) {
    (
        Some(flags & FLAG_CALIBRATION != 0),
        Some(flags & FLAG_BUTTON != 0),
        Some(flags & FLAG_RTC != 0),
    )
}

pub(crate) fn flags_from_readings(r: &Readings) -> u8 {
    let mut flags = 0;
    if r.calibration_in_progress == Some(true) {
        flags |= FLAG_CALIBRATION;
    }
    if r.button_pressed == Some(true) {
        flags |= FLAG_BUTTON;
    }
    if r.rtc_running_on_boot == Some(true) {
        flags |= FLAG_RTC;
    }
    flags
}

/// Splits a 9-bit code into its byte (bits 8..1) and sets its LSB in `flags`.
pub(crate) fn split_nine_bit(code: u16, flags: &mut u8, bit: u8) -> u8 {
    *flags |= ((code & 1) as u8) << bit;
    (code >> 1) as u8
}

impl Df6 {
    #[inline(always)]
    pub fn decode(p: &[u8]) -> Result<Self, DecodeError> {
        check_len(p, DataFormat::Df6)?;
        Ok(Self {
            temperature: be16(p, 1) as i16,
            humidity: be16(p, 3),
            pressure: be16(p, 5),
            pm2_5: be16(p, 7),
            co2: be16(p, 9),
            voc_high: p[11],
            nox_high: p[12],
            luminosity: p[13],
            sound_avg_high: p[14],
            sequence: p[15],
            flags: p[16],
            mac_suffix: [p[17], p[18], p[19]],
        })
    }

    pub fn encode(&self) -> [u8; 20] {
        let mut b = [0u8; 20];
        b[0] = DataFormat::Df6.code();
        b[1..3].copy_from_slice(&self.temperature.to_be_bytes());
        b[3..5].copy_from_slice(&self.humidity.to_be_bytes());
        b[5..7].copy_from_slice(&self.pressure.to_be_bytes());
        b[7..9].copy_from_slice(&self.pm2_5.to_be_bytes());
        b[9..11].copy_from_slice(&self.co2.to_be_bytes());
        b[11] = self.voc_high;
        b[12] = self.nox_high;
        b[13] = self.luminosity;
        b[14] = self.sound_avg_high;
        b[15] = self.sequence;
        b[16] = self.flags;
        b[17..20].copy_from_slice(&self.mac_suffix);
        b
    }

    pub fn voc(&self) -> u16 {
        nine_bit(self.voc_high, self.flags, BIT_VOC)
    }

    pub fn nox(&self) -> u16 {
        nine_bit(self.nox_high, self.flags, BIT_NOX)
    }

    pub fn sound_avg(&self) -> u16 {
        nine_bit(self.sound_avg_high, self.flags, BIT_SOUND_AVG)
    }

    #[inline(always)]
    pub fn readings(&self) -> Readings {
        let (calibration, button, rtc) = flag_bools(self.flags);
        Readings {
            temperature_c: temperature_c(self.temperature),
            humidity_pct: humidity_pct(self.humidity),
            pressure_pa: pressure_pa(self.pressure),
            pm2_5: tenths(self.pm2_5),
            co2_ppm: plain_u16(self.co2),
            voc_index: nine_bit_value(self.voc()),
            nox_index: nine_bit_value(self.nox()),
            luminosity_lux: luminosity_from_code(self.luminosity),
            sound_avg_dba: sound_dba(self.sound_avg()),
            measurement_sequence: Some(u32::from(self.sequence)),
            calibration_in_progress: calibration,
            button_pressed: button,
            rtc_running_on_boot: rtc,
            mac_suffix: Some(self.mac_suffix),
            ..Readings::default()
        }
    }

    pub fn from_readings(r: &Readings) -> Self {
        let mut flags = flags_from_readings(r);
        let voc_high = split_nine_bit(encode_nine_bit(r.voc_index, 500.0), &mut flags, BIT_VOC);
        let nox_high = split_nine_bit(encode_nine_bit(r.nox_index, 500.0), &mut flags, BIT_NOX);
        let sound_avg_high =
            split_nine_bit(encode_sound(r.sound_avg_dba), &mut flags, BIT_SOUND_AVG);
        let mac_suffix = match (r.mac, r.mac_suffix) {
            (Some(mac), _) => {
                let b = mac.bytes();
                [b[3], b[4], b[5]]
            }
            (None, Some(suffix)) => suffix,
            (None, None) => [0xFF; 3],
        };
        Self {
            temperature: encode_temperature(r.temperature_c),
            humidity: encode_humidity(r.humidity_pct, 40000),
            pressure: encode_pressure(r.pressure_pa),
            pm2_5: encode_scaled_u16(r.pm2_5, 10.0, 65534),
            co2: encode_scaled_u16(r.co2_ppm, 1.0, 65534),
            voc_high,
            nox_high,
            luminosity: luminosity_code(r.luminosity_lux),
            sound_avg_high,
            // The 8-bit counter is the low byte of the device's sequence counter.
            sequence: r.measurement_sequence.map_or(0xFF, |s| (s & 0xFF) as u8),
            flags,
            mac_suffix,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::{assert_close, decode_advertisement};

    fn df6(hex: &str) -> Df6 {
        let m = Df6::decode(&hex::decode(hex).unwrap()).unwrap();
        assert_eq!(hex::encode_upper(m.encode()), hex, "re-encode");
        m
    }

    #[test]
    fn docs_vectors_without_sound() {
        // Byte 14 is "XX" on the docs page; shown with FF. Sound is not asserted on these.
        let m = df6("06170C5668C79E007000C90501D9FFCD004C884F");
        let r = m.readings();
        assert_close(r.temperature_c, 29.5, 1e-12, "t");
        assert_close(r.humidity_pct, 55.3, 1e-12, "rh");
        assert_close(r.pressure_pa, 101102.0, 0.0, "p");
        assert_close(r.pm2_5, 11.2, 1e-12, "pm2.5");
        assert_close(r.co2_ppm, 201.0, 0.0, "co2");
        assert_eq!((m.voc(), m.nox()), (10, 2));
        assert_close(r.luminosity_lux, 13026.67, 0.005, "lux");
        assert_eq!(r.measurement_sequence, Some(205));
        assert_eq!(r.calibration_in_progress, Some(false));
        assert_eq!(r.mac_suffix, Some([0x4C, 0x88, 0x4F]));

        let m = df6("067FFF9C40FFFE27109C40FAFAFEFFFF074C8F4F");
        let r = m.readings();
        assert_close(r.temperature_c, 163.835, 1e-12, "t");
        assert_close(r.humidity_pct, 100.0, 0.0, "rh");
        assert_close(r.pressure_pa, 115534.0, 0.0, "p");
        assert_close(r.pm2_5, 1000.0, 0.0, "pm");
        assert_close(r.co2_ppm, 40000.0, 0.0, "co2");
        assert_eq!((m.voc(), m.nox()), (500, 500));
        assert_close(r.luminosity_lux, 65535.0, 1e-6, "lux");
        assert_eq!(r.measurement_sequence, Some(255));
        assert_eq!(r.calibration_in_progress, Some(true));
        // Docs table says 4C 88 4F: erratum, the hex says 4C 8F 4F.
        assert_eq!(r.mac_suffix, Some([0x4C, 0x8F, 0x4F]));

        let r = df6("0680010000000000000000000000FF00004C884F").readings();
        assert_close(r.temperature_c, -163.835, 1e-12, "t");
        assert_close(r.humidity_pct, 0.0, 0.0, "rh");
        assert_close(r.pressure_pa, 50000.0, 0.0, "p");
        assert_close(r.voc_index, 0.0, 0.0, "voc");
        assert_close(r.luminosity_lux, 0.0, 0.0, "lux");
        assert_eq!(r.measurement_sequence, Some(0));

        let r = df6("068000FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF").readings();
        assert_eq!(
            (
                r.temperature_c,
                r.humidity_pct,
                r.pressure_pa,
                r.pm2_5,
                r.co2_ppm,
                r.voc_index,
                r.nox_index,
                r.luminosity_lux
            ),
            (None, None, None, None, None, None, None, None)
        );
        assert_eq!(r.measurement_sequence, Some(255));
        assert_eq!(r.calibration_in_progress, Some(true));
    }

    #[test]
    fn c_unit_test_vectors() {
        let m = df6("06170C5668C79E007000C90501D94ACD004C884F");
        let r = m.readings();
        assert_close(r.temperature_c, 29.5, 1e-12, "t");
        assert_eq!((m.voc(), m.nox()), (10, 2));
        assert_close(r.luminosity_lux, 13026.67, 0.5, "lux");
        assert_close(r.sound_avg_dba, 47.6, 1e-12, "sound");
        assert_eq!(r.measurement_sequence, Some(205));
        assert_eq!(
            (
                r.calibration_in_progress,
                r.button_pressed,
                r.rtc_running_on_boot
            ),
            (Some(false), Some(false), Some(false))
        );

        let r = df6("06000000000000000000000000000000004C884F").readings();
        assert_close(r.temperature_c, 0.0, 0.0, "t");
        assert_close(r.pressure_pa, 50000.0, 0.0, "p");
        assert_close(r.sound_avg_dba, 18.0, 0.0, "sound");

        assert_close(
            df6("06138800000000000000000000000000004C884F")
                .readings()
                .temperature_c,
            25.0,
            0.0,
            "t",
        );
        assert_close(
            df6("0600006D600000000000000000000000004C884F")
                .readings()
                .humidity_pct,
            70.0,
            0.0,
            "rh",
        );
        assert_close(
            df6("0600000000C350000000000000000000004C884F")
                .readings()
                .pressure_pa,
            100000.0,
            0.0,
            "p",
        );
        assert_close(
            df6("060000000000001B5800000000000000004C884F")
                .readings()
                .pm2_5,
            700.0,
            0.0,
            "pm",
        );
        assert_close(
            df6("06000000000000000088B80000000000004C884F")
                .readings()
                .co2_ppm,
            35000.0,
            0.0,
            "co2",
        );
        assert_eq!(df6("0600000000000000000000F900000000404C884F").voc(), 499);
        assert_eq!(df6("060000000000000000000000F8000000804C884F").nox(), 497);
        assert_close(
            df6("06000000000000000000000000FD0000004C884F")
                .readings()
                .luminosity_lux,
            62735.08,
            0.005,
            "lux",
        );
        assert_close(
            df6("0600000000000000000000000000CF00104C884F")
                .readings()
                .sound_avg_dba,
            101.0,
            1e-12,
            "sound",
        );
        assert_eq!(
            df6("060000000000000000000000000000FA004C884F")
                .readings()
                .measurement_sequence,
            Some(250)
        );
        assert_eq!(
            df6("06000000000000000000000000000000014C884F")
                .readings()
                .calibration_in_progress,
            Some(true)
        );
        assert_eq!(
            df6("06000000000000000000000000000000024C884F")
                .readings()
                .button_pressed,
            Some(true)
        );
        assert_eq!(
            df6("06000000000000000000000000000000044C884F")
                .readings()
                .rtc_running_on_boot,
            Some(true)
        );

        let m = df6("067FFF9C40FFFEFFFEFFFEFAFAFEFFFF07FFFFFF");
        let r = m.readings();
        assert_close(r.pm2_5, 6553.4, 1e-9, "pm");
        assert_close(r.co2_ppm, 65534.0, 0.0, "co2");
        assert_eq!((m.voc(), m.nox()), (500, 500));
        assert_close(r.sound_avg_dba, 120.0, 0.0, "sound");
        assert_eq!(
            (
                r.calibration_in_progress,
                r.button_pressed,
                r.rtc_running_on_boot
            ),
            (Some(true), Some(true), Some(true))
        );

        let r = df6("0680010000000000000000000000000000000000").readings();
        assert_close(r.temperature_c, -163.835, 1e-12, "t");
        assert_close(r.sound_avg_dba, 18.0, 0.0, "sound");

        let r = df6("068000FFFFFFFFFFFFFFFFFFFFFFFFFFD0FFFFFF").readings();
        assert_eq!(
            (r.voc_index, r.nox_index, r.sound_avg_dba, r.luminosity_lux),
            (None, None, None, None)
        );
        assert_eq!(r.measurement_sequence, Some(255));
        assert_eq!(
            (
                r.calibration_in_progress,
                r.button_pressed,
                r.rtc_running_on_boot
            ),
            (Some(false), Some(false), Some(false))
        );
    }

    #[test]
    fn luminosity_reference_values() {
        for (code, lux) in [
            (0u8, 0.0),
            (1, 0.0446),
            (0x10, 1.0109),
            (0x14, 1.3947),
            (0x80, 266.4253),
            (0xD9, 13026.6689),
            (0xF7, 48276.2246),
            (0xFC, 60054.7910),
            (0xFD, 62735.0847),
            (0xFE, 65535.0),
        ] {
            assert_close(
                luminosity_from_code(code),
                lux,
                0.0001,
                &format!("code {code}"),
            );
            assert_eq!(luminosity_code(Some(lux)), code);
        }
    }

    #[test]
    fn c_encoder_clipping_cases() {
        let under = Readings {
            temperature_c: Some(-164.0),
            humidity_pct: Some(-1.0),
            pressure_pa: Some(49999.0),
            pm2_5: Some(-1.0),
            co2_ppm: Some(-1.0),
            voc_index: Some(-1.0),
            nox_index: Some(-1.0),
            luminosity_lux: Some(-1.0),
            sound_avg_dba: Some(17.0),
            measurement_sequence: Some(0),
            mac_suffix: Some([0, 0, 0]),
            ..Readings::default()
        };
        assert_eq!(
            hex::encode_upper(Df6::from_readings(&under).encode()),
            "0680010000000000000000000000000000000000"
        );
        let over = Readings {
            temperature_c: Some(163.9),
            humidity_pct: Some(100.1),
            pressure_pa: Some(115535.0),
            pm2_5: Some(6553.5),
            co2_ppm: Some(65535.0),
            voc_index: Some(501.0),
            nox_index: Some(501.0),
            luminosity_lux: Some(65536.0),
            sound_avg_dba: Some(121.0),
            measurement_sequence: Some(255),
            calibration_in_progress: Some(true),
            button_pressed: Some(true),
            rtc_running_on_boot: Some(true),
            mac_suffix: Some([0xFF; 3]),
            ..Readings::default()
        };
        assert_eq!(
            hex::encode_upper(Df6::from_readings(&over).encode()),
            "067FFF9C40FFFEFFFEFFFEFAFAFEFFFF07FFFFFF"
        );
    }

    #[test]
    fn real_ruuvi_air_captures() {
        let cases = [
            (
                "020106030398FC17FF990406143A6194C636005A0330D500F7FF10944F8AA5",
                25.89,
                62.45,
                100742.0,
                9.0,
                816.0,
                426.0,
                1.0,
                48276.0,
                None,
                16,
                [false, false, true],
                [0x4F, 0x8A, 0xA5],
            ),
            (
                "020106030398FC17FF990406146C5998C5F4004E026A1800F7FFF6944F8AA5",
                26.14,
                57.34,
                100676.0,
                7.8,
                618.0,
                48.0,
                1.0,
                48276.0,
                None,
                246,
                [false, false, true],
                [0x4F, 0x8A, 0xA5],
            ),
            (
                "020106030398FC17FF990406146457F8C79D001D03263A01146B05D04EB272",
                26.1,
                56.3,
                101101.0,
                2.9,
                806.0,
                117.0,
                3.0,
                1.0,
                Some(61.0),
                5,
                [false, false, false],
                [0x4E, 0xB2, 0x72],
            ),
        ];
        for (data, t, rh, p, pm, co2, voc, nox, lux, sound, seq, flags, id) in cases {
            let r = decode_advertisement(&hex::decode(data).unwrap())
                .unwrap()
                .readings();
            assert_close(r.temperature_c, t, 0.05, "t");
            assert_close(r.humidity_pct, rh, 0.05, "rh");
            assert_close(r.pressure_pa, p, 0.0, "p");
            assert_close(r.pm2_5, pm, 1e-9, "pm");
            assert_close(r.co2_ppm, co2, 0.0, "co2");
            assert_close(r.voc_index, voc, 0.0, "voc");
            assert_close(r.nox_index, nox, 0.0, "nox");
            assert_close(r.luminosity_lux, lux, 0.5, "lux");
            match sound {
                Some(s) => assert_close(r.sound_avg_dba, s, 1e-9, "sound"),
                None => assert_eq!(r.sound_avg_dba, None),
            }
            assert_eq!(r.measurement_sequence, Some(seq));
            assert_eq!(
                [
                    r.calibration_in_progress,
                    r.button_pressed,
                    r.rtc_running_on_boot
                ],
                flags.map(Some)
            );
            assert_eq!(r.mac_suffix, Some(id));
        }
    }
}
