//! Data format E1: Ruuvi Air extended advertisement (40 bytes).

use super::df6::{
    flag_bools, flags_from_readings, split_nine_bit, BIT_NOX, BIT_SOUND_AVG, BIT_SOUND_INST,
    BIT_SOUND_PEAK, BIT_VOC,
};
use super::*;
use crate::error::DecodeError;
use crate::readings::Readings;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct E1 {
    pub temperature: i16,
    pub humidity: u16,
    pub pressure: u16,
    /// 0.1 µg/m³ each; `0xFFFF` = N/A.
    pub pm1_0: u16,
    pub pm2_5: u16,
    pub pm4_0: u16,
    pub pm10_0: u16,
    pub co2: u16,
    pub voc_high: u8,
    pub nox_high: u8,
    /// 0.01 lux, 24 bits; `0xFFFFFF` = N/A.
    pub luminosity: u32,
    pub sound_inst_high: u8,
    pub sound_avg_high: u8,
    pub sound_peak_high: u8,
    /// 24 bits; `0xFFFFFF` = N/A.
    pub sequence: u32,
    pub flags: u8,
    /// Bytes 29–33; current encoders write `FF`.
    pub reserved: [u8; 5],
    pub mac: [u8; 6],
}

impl E1 {
    #[inline(always)]
    pub fn decode(p: &[u8]) -> Result<Self, DecodeError> {
        check_len(p, DataFormat::E1)?;
        let mut reserved = [0u8; 5];
        reserved.copy_from_slice(&p[29..34]);
        let mut mac = [0u8; 6];
        mac.copy_from_slice(&p[34..40]);
        Ok(Self {
            temperature: be16(p, 1) as i16,
            humidity: be16(p, 3),
            pressure: be16(p, 5),
            pm1_0: be16(p, 7),
            pm2_5: be16(p, 9),
            pm4_0: be16(p, 11),
            pm10_0: be16(p, 13),
            co2: be16(p, 15),
            voc_high: p[17],
            nox_high: p[18],
            luminosity: be24(p, 19),
            sound_inst_high: p[22],
            sound_avg_high: p[23],
            sound_peak_high: p[24],
            sequence: be24(p, 25),
            flags: p[28],
            reserved,
            mac,
        })
    }

    pub fn encode(&self) -> [u8; 40] {
        let mut b = [0u8; 40];
        b[0] = DataFormat::E1.code();
        b[1..3].copy_from_slice(&self.temperature.to_be_bytes());
        b[3..5].copy_from_slice(&self.humidity.to_be_bytes());
        b[5..7].copy_from_slice(&self.pressure.to_be_bytes());
        b[7..9].copy_from_slice(&self.pm1_0.to_be_bytes());
        b[9..11].copy_from_slice(&self.pm2_5.to_be_bytes());
        b[11..13].copy_from_slice(&self.pm4_0.to_be_bytes());
        b[13..15].copy_from_slice(&self.pm10_0.to_be_bytes());
        b[15..17].copy_from_slice(&self.co2.to_be_bytes());
        b[17] = self.voc_high;
        b[18] = self.nox_high;
        b[19..22].copy_from_slice(&self.luminosity.to_be_bytes()[1..]);
        b[22] = self.sound_inst_high;
        b[23] = self.sound_avg_high;
        b[24] = self.sound_peak_high;
        b[25..28].copy_from_slice(&self.sequence.to_be_bytes()[1..]);
        b[28] = self.flags;
        b[29..34].copy_from_slice(&self.reserved);
        b[34..40].copy_from_slice(&self.mac);
        b
    }

    pub fn voc(&self) -> u16 {
        nine_bit(self.voc_high, self.flags, BIT_VOC)
    }

    pub fn nox(&self) -> u16 {
        nine_bit(self.nox_high, self.flags, BIT_NOX)
    }

    pub fn sound_inst(&self) -> u16 {
        nine_bit(self.sound_inst_high, self.flags, BIT_SOUND_INST)
    }

    pub fn sound_avg(&self) -> u16 {
        nine_bit(self.sound_avg_high, self.flags, BIT_SOUND_AVG)
    }

    pub fn sound_peak(&self) -> u16 {
        nine_bit(self.sound_peak_high, self.flags, BIT_SOUND_PEAK)
    }

    #[inline(always)]
    pub fn readings(&self) -> Readings {
        let (calibration, button, rtc) = flag_bools(self.flags);
        Readings {
            temperature_c: temperature_c(self.temperature),
            humidity_pct: humidity_pct(self.humidity),
            pressure_pa: pressure_pa(self.pressure),
            pm1_0: tenths(self.pm1_0),
            pm2_5: tenths(self.pm2_5),
            pm4_0: tenths(self.pm4_0),
            pm10_0: tenths(self.pm10_0),
            co2_ppm: plain_u16(self.co2),
            voc_index: nine_bit_value(self.voc()),
            nox_index: nine_bit_value(self.nox()),
            luminosity_lux: (self.luminosity != 0xFF_FFFF)
                .then(|| f64::from(self.luminosity) / 100.0),
            sound_inst_dba: sound_dba(self.sound_inst()),
            sound_avg_dba: sound_dba(self.sound_avg()),
            sound_peak_spl_db: sound_dba(self.sound_peak()),
            measurement_sequence: (self.sequence != 0xFF_FFFF).then_some(self.sequence),
            calibration_in_progress: calibration,
            button_pressed: button,
            rtc_running_on_boot: rtc,
            mac: some_mac(self.mac),
            ..Readings::default()
        }
    }

    pub fn from_readings(r: &Readings) -> Self {
        let mut flags = flags_from_readings(r);
        let voc_high = split_nine_bit(encode_nine_bit(r.voc_index, 500.0), &mut flags, BIT_VOC);
        let nox_high = split_nine_bit(encode_nine_bit(r.nox_index, 500.0), &mut flags, BIT_NOX);
        let sound_inst_high =
            split_nine_bit(encode_sound(r.sound_inst_dba), &mut flags, BIT_SOUND_INST);
        let sound_avg_high =
            split_nine_bit(encode_sound(r.sound_avg_dba), &mut flags, BIT_SOUND_AVG);
        let sound_peak_high = split_nine_bit(
            encode_sound(r.sound_peak_spl_db),
            &mut flags,
            BIT_SOUND_PEAK,
        );
        Self {
            temperature: encode_temperature(r.temperature_c),
            humidity: encode_humidity(r.humidity_pct, 40000),
            pressure: encode_pressure(r.pressure_pa),
            pm1_0: encode_scaled_u16(r.pm1_0, 10.0, 65534),
            pm2_5: encode_scaled_u16(r.pm2_5, 10.0, 65534),
            pm4_0: encode_scaled_u16(r.pm4_0, 10.0, 65534),
            pm10_0: encode_scaled_u16(r.pm10_0, 10.0, 65534),
            co2: encode_scaled_u16(r.co2_ppm, 1.0, 65534),
            voc_high,
            nox_high,
            luminosity: r
                .luminosity_lux
                .filter(|v| !v.is_nan())
                .map_or(0xFF_FFFF, |lux| {
                    (lux * 100.0).round().clamp(0.0, 14_428_400.0) as u32
                }),
            sound_inst_high,
            sound_avg_high,
            sound_peak_high,
            // The C encoder does not clip the sequence: 0xFFFFFF and beyond read back as N/A.
            sequence: r
                .measurement_sequence
                .map_or(0xFF_FFFF, |s| s.min(0xFF_FFFF)),
            flags,
            reserved: [0xFF; 5],
            mac: mac_or_unavailable(r),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::{assert_close, decode_advertisement};

    fn e1(hex: &str) -> E1 {
        assert_eq!(hex.len(), 80, "{hex}");
        let m = E1::decode(&hex::decode(hex).unwrap()).unwrap();
        assert_eq!(hex::encode_upper(m.encode()), hex, "re-encode");
        m
    }

    #[test]
    fn docs_vectors_with_voc_nox_lsb_layout() {
        let m =
            e1("E1170C5668C79E0065007004BD11CA00C90A0213E0ACFFFFFFDECDEE01FFFFFFFFFFCBB8334C884F");
        let r = m.readings();
        assert_close(r.temperature_c, 29.5, 1e-12, "t");
        assert_close(r.humidity_pct, 55.3, 1e-12, "rh");
        assert_close(r.pressure_pa, 101102.0, 0.0, "p");
        assert_close(r.pm1_0, 10.1, 1e-12, "pm1");
        assert_close(r.pm2_5, 11.2, 1e-12, "pm2.5");
        assert_close(r.pm4_0, 121.3, 1e-12, "pm4");
        assert_close(r.pm10_0, 455.4, 1e-12, "pm10");
        assert_close(r.co2_ppm, 201.0, 0.0, "co2");
        // ruuvi-sensor-protocol 0.7 says 10 / 2 here (old MSB layout); the docs say 20 / 4.
        assert_eq!((m.voc(), m.nox()), (20, 4));
        assert_close(r.luminosity_lux, 13027.0, 1e-9, "lux");
        assert_eq!(r.measurement_sequence, Some(14_601_710));
        assert_eq!(r.calibration_in_progress, Some(true));
        assert_eq!(r.mac.unwrap().to_string(), "CB:B8:33:4C:88:4F");

        let m =
            e1("E17FFF9C40FFFE27102710271027109C40FAFADC28F0FFFFFFFFFFFE3FFFFFFFFFFFCBB8334C884F");
        let r = m.readings();
        assert_close(r.temperature_c, 163.835, 1e-12, "t");
        assert_close(r.humidity_pct, 100.0, 0.0, "rh");
        for pm in [r.pm1_0, r.pm2_5, r.pm4_0, r.pm10_0] {
            assert_close(pm, 1000.0, 0.0, "pm");
        }
        assert_close(r.co2_ppm, 40000.0, 0.0, "co2");
        assert_eq!((m.voc(), m.nox()), (500, 500));
        assert_close(r.luminosity_lux, 144284.0, 1e-9, "lux");
        assert_eq!(r.measurement_sequence, Some(16_777_214));
        assert_eq!(
            (r.sound_inst_dba, r.sound_avg_dba, r.sound_peak_spl_db),
            (None, None, None)
        );

        // The docs' minimum vector has 63 nibbles; this is the reconstruction from data-formats §8.1.
        let r =
            e1("E1800100000000000000000000000000000000000000FFFFFF00000000FFFFFFFFFFCBB8334C884F")
                .readings();
        assert_close(r.temperature_c, -163.835, 1e-12, "t");
        assert_close(r.pm10_0, 0.0, 0.0, "pm");
        assert_close(r.voc_index, 0.0, 0.0, "voc");
        assert_eq!(r.measurement_sequence, Some(0));
        assert_close(r.sound_avg_dba, 120.0, 0.0, "sound");

        let m =
            e1("E18000FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFFFFFFFFFFFFFFFFFF");
        let r = m.readings();
        assert_eq!(
            (
                r.temperature_c,
                r.humidity_pct,
                r.pressure_pa,
                r.pm1_0,
                r.co2_ppm,
                r.voc_index,
                r.nox_index,
                r.luminosity_lux,
                r.measurement_sequence,
                r.mac
            ),
            (None, None, None, None, None, None, None, None, None, None)
        );
        assert_eq!(r.calibration_in_progress, Some(false));
    }

    #[test]
    fn c_unit_test_vectors() {
        let m =
            e1("E1170C5668C79E0065007004BD11CA00C9050113E0AC3D4A9CDECDEE00FFFFFFFFFFCBB8334C884F");
        let r = m.readings();
        assert_eq!((m.voc(), m.nox()), (10, 2));
        assert_close(r.luminosity_lux, 13027.0, 1e-9, "lux");
        assert_close(r.sound_inst_dba, 42.4, 1e-12, "inst");
        assert_close(r.sound_avg_dba, 47.6, 1e-12, "avg");
        assert_close(r.sound_peak_spl_db, 80.4, 1e-12, "peak");
        assert_eq!(r.measurement_sequence, Some(14_601_710));
        assert_eq!(
            (
                r.calibration_in_progress,
                r.button_pressed,
                r.rtc_running_on_boot
            ),
            (Some(false), Some(false), Some(false))
        );

        let r =
            e1("E100000000000000000000000000000000000000000000000000000000FFFFFFFFFFCBB8334C884F")
                .readings();
        assert_close(r.pressure_pa, 50000.0, 0.0, "p");
        assert_close(r.sound_peak_spl_db, 18.0, 0.0, "peak");
        assert_eq!(r.measurement_sequence, Some(0));

        let single = |hex: &str| e1(hex).readings();
        assert_close(
            single(
                "E113880000000000000000000000000000000000000000000000000000FFFFFFFFFFCBB8334C884F",
            )
            .temperature_c,
            25.0,
            0.0,
            "t",
        );
        assert_close(
            single(
                "E100006D60000000000000000000000000000000000000000000000000FFFFFFFFFFCBB8334C884F",
            )
            .humidity_pct,
            70.0,
            0.0,
            "rh",
        );
        assert_close(
            single(
                "E100000000C35000000000000000000000000000000000000000000000FFFFFFFFFFCBB8334C884F",
            )
            .pressure_pa,
            100000.0,
            0.0,
            "p",
        );
        assert_close(
            single(
                "E10000000000001B580000000000000000000000000000000000000000FFFFFFFFFFCBB8334C884F",
            )
            .pm1_0,
            700.0,
            0.0,
            "pm1",
        );
        assert_close(
            single(
                "E100000000000000001B58000000000000000000000000000000000000FFFFFFFFFFCBB8334C884F",
            )
            .pm2_5,
            700.0,
            0.0,
            "pm2.5",
        );
        assert_close(
            single(
                "E1000000000000000000001B5800000000000000000000000000000000FFFFFFFFFFCBB8334C884F",
            )
            .pm4_0,
            700.0,
            0.0,
            "pm4",
        );
        assert_close(
            single(
                "E10000000000000000000000001B580000000000000000000000000000FFFFFFFFFFCBB8334C884F",
            )
            .pm10_0,
            700.0,
            0.0,
            "pm10",
        );
        assert_close(
            single(
                "E1000000000000000000000000000088B8000000000000000000000000FFFFFFFFFFCBB8334C884F",
            )
            .co2_ppm,
            35000.0,
            0.0,
            "co2",
        );
        assert_eq!(
            e1("E100000000000000000000000000000000F90000000000000000000040FFFFFFFFFFCBB8334C884F")
                .voc(),
            499
        );
        assert_eq!(
            e1("E10000000000000000000000000000000000F800000000000000000080FFFFFFFFFFCBB8334C884F")
                .nox(),
            497
        );
        assert_close(
            single(
                "E1000000000000000000000000000000000000DBBA0200000000000000FFFFFFFFFFCBB8334C884F",
            )
            .luminosity_lux,
            144000.02,
            1e-9,
            "lux",
        );
        assert_close(
            single(
                "E1000000000000000000000000000000000000000000CF000000000008FFFFFFFFFFCBB8334C884F",
            )
            .sound_inst_dba,
            101.0,
            1e-12,
            "inst",
        );
        assert_close(
            single(
                "E100000000000000000000000000000000000000000000CF0000000010FFFFFFFFFFCBB8334C884F",
            )
            .sound_avg_dba,
            101.0,
            1e-12,
            "avg",
        );
        assert_close(
            single(
                "E10000000000000000000000000000000000000000000000CF00000020FFFFFFFFFFCBB8334C884F",
            )
            .sound_peak_spl_db,
            101.0,
            1e-12,
            "peak",
        );
        assert_eq!(
            single(
                "E1000000000000000000000000000000000000000000000000ABCDEF00FFFFFFFFFFCBB8334C884F"
            )
            .measurement_sequence,
            Some(11_259_375)
        );
        assert_eq!(
            single(
                "E100000000000000000000000000000000000000000000000000000001FFFFFFFFFFCBB8334C884F"
            )
            .calibration_in_progress,
            Some(true)
        );
        assert_eq!(
            single(
                "E100000000000000000000000000000000000000000000000000000002FFFFFFFFFFCBB8334C884F"
            )
            .button_pressed,
            Some(true)
        );
        assert_eq!(
            single(
                "E100000000000000000000000000000000000000000000000000000004FFFFFFFFFFCBB8334C884F"
            )
            .rtc_running_on_boot,
            Some(true)
        );

        let m =
            e1("E17FFF9C40FFFEFFFEFFFEFFFEFFFEFFFEFAFADC28F0FFFFFFFFFFFE07FFFFFFFFFFFFFFFFFFFFFF");
        let r = m.readings();
        assert_close(r.pm10_0, 6553.4, 1e-9, "pm10");
        assert_close(r.co2_ppm, 65534.0, 0.0, "co2");
        assert_eq!((m.voc(), m.nox()), (500, 500));
        assert_close(r.luminosity_lux, 144284.0, 1e-9, "lux");
        assert_close(r.sound_peak_spl_db, 120.0, 0.0, "peak");
        assert_eq!(r.measurement_sequence, Some(16_777_214));
        assert_eq!(
            (
                r.calibration_in_progress,
                r.button_pressed,
                r.rtc_running_on_boot
            ),
            (Some(true), Some(true), Some(true))
        );
        // The C test treats an all-FF MAC as a value; the spec says N/A, and so do we.
        assert_eq!(r.mac, None);

        let r =
            e1("E180010000000000000000000000000000000000000000000000000000FFFFFFFFFFCBB8334C884F")
                .readings();
        assert_close(r.temperature_c, -163.835, 1e-12, "t");
        assert_close(r.sound_inst_dba, 18.0, 0.0, "inst");

        let m =
            e1("E18000FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF8FFFFFFFFFFFFFFFFFFFFFF");
        let r = m.readings();
        assert_eq!(
            (
                r.voc_index,
                r.nox_index,
                r.sound_inst_dba,
                r.sound_avg_dba,
                r.sound_peak_spl_db,
                r.measurement_sequence
            ),
            (None, None, None, None, None, None)
        );
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
    fn c_encoder_clipping_cases() {
        let under = Readings {
            temperature_c: Some(-164.0),
            humidity_pct: Some(-1.0),
            pressure_pa: Some(49999.0),
            pm1_0: Some(-1.0),
            pm2_5: Some(-1.0),
            pm4_0: Some(-1.0),
            pm10_0: Some(-1.0),
            co2_ppm: Some(-1.0),
            voc_index: Some(-1.0),
            nox_index: Some(-1.0),
            luminosity_lux: Some(-1.0),
            sound_inst_dba: Some(17.0),
            sound_avg_dba: Some(17.0),
            sound_peak_spl_db: Some(17.0),
            measurement_sequence: Some(0),
            mac: Some(crate::mac::MacAddress([0; 6])),
            ..Readings::default()
        };
        assert_eq!(
            hex::encode_upper(E1::from_readings(&under).encode()),
            "E180010000000000000000000000000000000000000000000000000000FFFFFFFFFF000000000000"
        );
        let over = Readings {
            temperature_c: Some(163.9),
            humidity_pct: Some(100.1),
            pressure_pa: Some(115535.0),
            pm1_0: Some(6553.5),
            pm2_5: Some(6553.5),
            pm4_0: Some(6553.5),
            pm10_0: Some(6553.5),
            co2_ppm: Some(65535.0),
            voc_index: Some(501.0),
            nox_index: Some(501.0),
            luminosity_lux: Some(144285.0),
            sound_inst_dba: Some(121.0),
            sound_avg_dba: Some(121.0),
            sound_peak_spl_db: Some(121.0),
            measurement_sequence: Some(0xFF_FFFF),
            calibration_in_progress: Some(true),
            button_pressed: Some(true),
            rtc_running_on_boot: Some(true),
            mac: None,
            ..Readings::default()
        };
        assert_eq!(
            hex::encode_upper(E1::from_readings(&over).encode()),
            "E17FFF9C40FFFEFFFEFFFEFFFEFFFEFFFEFAFADC28F0FFFFFFFFFFFF07FFFFFFFFFFFFFFFFFFFFFF"
        );
    }

    #[test]
    fn real_ruuvi_air_captures() {
        let r = decode_advertisement(&hex::decode("2BFF9904E1161E526CC68B006E007200730074037610010C1D901E5CB6121314F8FFFFFFFFFFE375CF374E23030398FC").unwrap()).unwrap().readings();
        assert_close(r.temperature_c, 28.31, 1e-9, "t");
        assert_close(r.humidity_pct, 52.75, 1e-9, "rh");
        assert_close(r.pressure_pa, 100827.0, 0.0, "p");
        assert_close(r.pm1_0, 11.0, 1e-9, "pm1");
        assert_close(r.pm2_5, 11.4, 1e-9, "pm2.5");
        assert_close(r.pm4_0, 11.5, 1e-9, "pm4");
        assert_close(r.pm10_0, 11.6, 1e-9, "pm10");
        assert_close(r.co2_ppm, 886.0, 0.0, "co2");
        assert_close(r.voc_index, 33.0, 0.0, "voc");
        assert_close(r.nox_index, 3.0, 0.0, "nox");
        assert_close(r.luminosity_lux, 7940.0, 0.5, "lux");
        assert_close(r.sound_inst_dba, 30.2, 1e-9, "inst");
        assert_close(r.sound_avg_dba, 55.0, 1e-9, "avg");
        assert_close(r.sound_peak_spl_db, 91.0, 1e-9, "peak");
        assert_eq!(r.measurement_sequence, Some(1_184_532));
        assert_eq!(r.mac.unwrap().to_string(), "E3:75:CF:37:4E:23");

        let r = decode_advertisement(&hex::decode("2BFF9904E114595CB0C6460030003A0041004402364300FFFFFFFFFFFF103B37F8FFFFFFFFFFFD546F6C5292030398FC").unwrap()).unwrap().readings();
        assert_close(r.temperature_c, 26.045, 1e-9, "t");
        assert_close(r.humidity_pct, 59.32, 1e-9, "rh");
        assert_close(r.pressure_pa, 100758.0, 0.0, "p");
        assert_close(r.pm1_0, 4.8, 1e-9, "pm1");
        assert_close(r.pm10_0, 6.8, 1e-9, "pm10");
        assert_close(r.co2_ppm, 566.0, 0.0, "co2");
        assert_close(r.voc_index, 135.0, 0.0, "voc");
        assert_close(r.nox_index, 1.0, 0.0, "nox");
        assert_eq!(
            (
                r.luminosity_lux,
                r.sound_inst_dba,
                r.sound_avg_dba,
                r.sound_peak_spl_db
            ),
            (None, None, None, None)
        );
        assert_eq!(r.measurement_sequence, Some(1_063_735));
        assert_eq!(r.mac.unwrap().to_string(), "FD:54:6F:6C:52:92");

        let r = decode_advertisement(&hex::decode("2BFF9904E1182864C8C60C001100230031003801AA2D01FFFFFFFFFFFF1125E738FFFFFFFFFFFD546F6C5292030398FC").unwrap()).unwrap().readings();
        assert_close(r.temperature_c, 30.92, 1e-9, "t");
        assert_close(r.humidity_pct, 64.5, 1e-9, "rh");
        assert_close(r.pressure_pa, 100700.0, 0.0, "p");
        assert_close(r.pm1_0, 1.7, 1e-9, "pm1");
        assert_close(r.pm2_5, 3.5, 1e-9, "pm2.5");
        assert_close(r.pm4_0, 4.9, 1e-9, "pm4");
        assert_close(r.pm10_0, 5.6, 1e-9, "pm10");
        assert_close(r.co2_ppm, 426.0, 0.0, "co2");
        assert_close(r.voc_index, 90.0, 0.0, "voc");
        assert_close(r.nox_index, 2.0, 0.0, "nox");
        assert_eq!(r.measurement_sequence, Some(1_123_815));
    }
}
