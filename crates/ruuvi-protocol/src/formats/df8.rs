//! Data format 8: encrypted environmental data (a proposal; proof-of-concept devices only).
//!
//! Payload: `08`, 16 bytes AES-128-ECB ciphertext, CRC-8 of the plaintext, 6-byte MAC.

use aes::cipher::{generic_array::GenericArray, BlockDecrypt, BlockEncrypt, KeyInit};
use aes::Aes128;

use super::*;
use crate::error::DecodeError;
use crate::readings::Readings;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Df8 {
    pub temperature: i16,
    pub humidity: u16,
    pub pressure: u16,
    pub power_info: u16,
    /// 16-bit in this format; `0xFFFF` = N/A.
    pub movement_counter: u16,
    pub sequence: u16,
    pub reserved: [u8; 4],
    pub mac: [u8; 6],
}

/// CRC-8, polynomial 0x07, init 0, no reflection, no final XOR (`re_calc_crc8`).
pub fn crc8(data: &[u8]) -> u8 {
    let mut crc = 0u8;
    for &byte in data {
        crc ^= byte;
        for _ in 0..8 {
            crc = if crc & 0x80 != 0 {
                (crc << 1) ^ 0x07
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// The docs' key derivation: the 16-byte application password with its first 8 bytes XORed
/// with the 8-byte device id (big-endian). How real hardware defines the id is UNVERIFIED.
pub fn derive_key(device_id: [u8; 8], password: [u8; 16]) -> [u8; 16] {
    let mut key = password;
    for (k, id) in key.iter_mut().zip(device_id) {
        *k ^= id;
    }
    key
}

impl Df8 {
    /// Decrypts and checks the CRC. A wrong key shows up as a CRC mismatch.
    pub fn decrypt(p: &[u8], key: &[u8; 16]) -> Result<Self, DecodeError> {
        check_len(p, DataFormat::Df8)?;
        let mut block = GenericArray::clone_from_slice(&p[1..17]);
        Aes128::new(GenericArray::from_slice(key)).decrypt_block(&mut block);
        let computed = crc8(&block);
        if computed != p[17] {
            return Err(DecodeError::CrcMismatch {
                expected: p[17],
                computed,
            });
        }
        let mut mac = [0u8; 6];
        mac.copy_from_slice(&p[18..24]);
        Ok(Self::from_plaintext(&block.into(), mac))
    }

    fn from_plaintext(b: &[u8; 16], mac: [u8; 6]) -> Self {
        Self {
            temperature: be16(b, 0) as i16,
            humidity: be16(b, 2),
            pressure: be16(b, 4),
            power_info: be16(b, 6),
            movement_counter: be16(b, 8),
            sequence: be16(b, 10),
            reserved: [b[12], b[13], b[14], b[15]],
            mac,
        }
    }

    /// The 16-byte plaintext block.
    pub fn plaintext(&self) -> [u8; 16] {
        let mut b = [0u8; 16];
        b[0..2].copy_from_slice(&self.temperature.to_be_bytes());
        b[2..4].copy_from_slice(&self.humidity.to_be_bytes());
        b[4..6].copy_from_slice(&self.pressure.to_be_bytes());
        b[6..8].copy_from_slice(&self.power_info.to_be_bytes());
        b[8..10].copy_from_slice(&self.movement_counter.to_be_bytes());
        b[10..12].copy_from_slice(&self.sequence.to_be_bytes());
        b[12..16].copy_from_slice(&self.reserved);
        b
    }

    /// The on-air payload, encrypted with `key`.
    pub fn encrypt(&self, key: &[u8; 16]) -> [u8; 24] {
        let plain = self.plaintext();
        let mut block = GenericArray::clone_from_slice(&plain);
        Aes128::new(GenericArray::from_slice(key)).encrypt_block(&mut block);
        let mut out = [0u8; 24];
        out[0] = DataFormat::Df8.code();
        out[1..17].copy_from_slice(&block);
        out[17] = crc8(&plain);
        out[18..24].copy_from_slice(&self.mac);
        out
    }

    #[inline(always)]
    pub fn readings(&self) -> Readings {
        Readings {
            temperature_c: temperature_c(self.temperature),
            humidity_pct: humidity_pct(self.humidity),
            pressure_pa: pressure_pa(self.pressure),
            battery_v: battery_v(self.power_info),
            tx_power_dbm: tx_power_dbm(self.power_info),
            movement_counter: (self.movement_counter != 0xFFFF)
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
            power_info: encode_power_info(r.battery_v, r.tx_power_dbm),
            movement_counter: encode_counter(r.movement_counter, 65534, 0xFFFF) as u16,
            sequence: encode_counter(r.measurement_sequence, 65534, 0xFFFF) as u16,
            reserved: [0; 4],
            mac: mac_or_unavailable(r),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::{assert_close, decode_payload_with_key, Measurement};

    fn bytes<const N: usize>(hex: &str) -> [u8; N] {
        hex::decode(hex).unwrap().try_into().unwrap()
    }

    #[test]
    fn docs_example_key_cipher_and_crc() {
        let key = derive_key(bytes("0011223344556677"), *b"RuuvicomRuuviTag");
        assert_eq!(hex::encode_upper(key), "526457452D36091A5275757669546167");
        let plain: [u8; 16] = bytes("13343F58C51548E6000F18D100000000");
        assert_eq!(crc8(&plain), 0xAE);
        let payload = hex::decode("0843825B56324FE019C4BD4D6D3CECAC6EAEAABBCCDDEEFF").unwrap();
        let m = Df8::decrypt(&payload, &key).unwrap();
        assert_eq!(m.plaintext(), plain);
        assert_eq!(m.encrypt(&key).to_vec(), payload);
        let r = m.readings();
        assert_close(r.temperature_c, 24.58, 1e-12, "t");
        assert_close(r.humidity_pct, 40.54, 1e-12, "rh");
        assert_close(r.pressure_pa, 100453.0, 0.0, "p");
        assert_eq!(r.movement_counter, Some(15));
        assert_eq!(r.measurement_sequence, Some(6353));
        // The docs' "2.765 V / +4 dBm" do not match bytes 48E6 (erratum): 2183 mV / −28 dBm.
        assert_close(r.battery_v, 2.183, 1e-12, "batt");
        assert_eq!(r.tx_power_dbm, Some(-28));
        assert_eq!(r.mac.unwrap().to_string(), "AA:BB:CC:DD:EE:FF");
        assert!(matches!(
            decode_payload_with_key(&payload, Some(&key)),
            Ok(Measurement::Df8(_))
        ));
    }

    #[test]
    fn c_unit_test_crc() {
        assert_eq!(crc8(&bytes::<16>("12FC5394C37CAC3619CF00CD00000000")), 0x3F);
    }

    #[test]
    fn wrong_key_is_a_crc_mismatch() {
        let payload = hex::decode("0843825B56324FE019C4BD4D6D3CECAC6EAEAABBCCDDEEFF").unwrap();
        assert!(matches!(
            Df8::decrypt(&payload, &[0u8; 16]),
            Err(DecodeError::CrcMismatch { expected: 0xAE, .. })
        ));
    }
}
