//! MAC addresses as Ruuvi writes them: `AA:BB:CC:DD:EE:FF`, upper case.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::MacParseError;

/// A 48-bit Bluetooth / Ethernet address. Parses any case, with `:`, `-` or no separator;
/// always displays as `AA:BB:CC:DD:EE:FF`.
/// Serialised as `"AA:BB:CC:DD:EE:FF"`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, ts_rs::TS)]
#[ts(type = "string")]
pub struct MacAddress(pub [u8; 6]);

impl MacAddress {
    pub const fn new(bytes: [u8; 6]) -> Self {
        Self(bytes)
    }

    pub const fn bytes(&self) -> [u8; 6] {
        self.0
    }

    /// All bits set is the "not available" MAC of formats 5, C5 and E1.
    pub fn is_unavailable(&self) -> bool {
        self.0 == [0xFF; 6]
    }
}

/// Upper-case, colon separated hex of any number of bytes (`4F:8A:A5` for a format-6 id).
pub fn colon_hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            out.push(':');
        }
        out.push(char::from(HEX_UPPER[(b >> 4) as usize]));
        out.push(char::from(HEX_UPPER[(b & 0x0F) as usize]));
    }
    out
}

const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

impl fmt::Display for MacAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&colon_hex(&self.0))
    }
}

impl fmt::Debug for MacAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MacAddress({self})")
    }
}

impl FromStr for MacAddress {
    type Err = MacParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || MacParseError(s.to_string());
        let trimmed = s.trim();
        let digits: String = if trimmed.contains(':') || trimmed.contains('-') {
            let parts: Vec<&str> = trimmed.split([':', '-']).collect();
            if parts.len() != 6 || parts.iter().any(|p| p.len() != 2) {
                return Err(err());
            }
            parts.concat()
        } else {
            trimmed.to_string()
        };
        if digits.len() != 12 {
            return Err(err());
        }
        let mut bytes = [0u8; 6];
        hex::decode_to_slice(&digits, &mut bytes).map_err(|_| err())?;
        Ok(Self(bytes))
    }
}

impl From<[u8; 6]> for MacAddress {
    fn from(bytes: [u8; 6]) -> Self {
        Self(bytes)
    }
}

impl Serialize for MacAddress {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for MacAddress {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_any_case_and_separator_and_displays_upper_colon() {
        for input in [
            "aa:bb:cc:dd:ee:ff",
            "AA:BB:CC:DD:EE:FF",
            "aA-bB-cC-dD-eE-fF",
            "aabbccddeeff",
            " AABBCCDDEEFF ",
        ] {
            let mac: MacAddress = input.parse().unwrap();
            assert_eq!(mac.to_string(), "AA:BB:CC:DD:EE:FF", "{input}");
        }
    }

    #[test]
    fn rejects_bad_input() {
        for input in [
            "",
            "AA:BB:CC:DD:EE",
            "AA:BB:CC:DD:EE:FF:00",
            "GG:BB:CC:DD:EE:FF",
            "A:BB:CC:DD:EE:FFF",
            "aabbccddeef",
        ] {
            assert!(input.parse::<MacAddress>().is_err(), "{input}");
        }
    }

    #[test]
    fn serde_round_trip() {
        let mac: MacAddress = "ab:ba:cd:ba:cd:ba".parse().unwrap();
        let json = serde_json::to_string(&mac).unwrap();
        assert_eq!(json, "\"AB:BA:CD:BA:CD:BA\"");
        assert_eq!(serde_json::from_str::<MacAddress>(&json).unwrap(), mac);
    }
}
