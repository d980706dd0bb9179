//! Walking the AD structures of a raw BLE advertisement (data-formats §2.2).

use crate::error::DecodeError;

/// Ruuvi Innovations' Bluetooth SIG company id; on air little-endian `99 04`.
pub const RUUVI_COMPANY_ID: u16 = 0x0499;

/// AD type of Manufacturer Specific Data.
pub const AD_TYPE_MANUFACTURER_DATA: u8 = 0xFF;

/// One AD structure: its type byte and the bytes after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdStructure<'a> {
    pub ad_type: u8,
    pub data: &'a [u8],
}

/// Splits a raw advertisement into AD structures. A zero length byte ends the significant
/// part (what follows is padding); a structure that runs past the end is an error.
pub fn ad_structures(raw: &[u8]) -> Result<Vec<AdStructure<'_>>, DecodeError> {
    let mut out = Vec::with_capacity(4);
    let mut i = 0;
    while i < raw.len() {
        let len = raw[i] as usize;
        if len == 0 {
            break;
        }
        if i + 1 + len > raw.len() {
            return Err(DecodeError::MalformedAdvertisement {
                offset: i,
                claimed: len,
                available: raw.len() - i - 1,
            });
        }
        out.push(AdStructure {
            ad_type: raw[i + 1],
            data: &raw[i + 2..i + 1 + len],
        });
        i += 1 + len;
    }
    Ok(out)
}

/// The Ruuvi payload (starting at the data-format byte) of a raw advertisement: the data of
/// the first manufacturer-specific AD structure whose company id is 0x0499.
pub fn ruuvi_payload(raw: &[u8]) -> Result<&[u8], DecodeError> {
    if raw.is_empty() {
        return Err(DecodeError::Empty);
    }
    // Walk without allocating: this is the hot path of every feed.
    let mut i = 0;
    while i < raw.len() {
        let len = raw[i] as usize;
        if len == 0 {
            break;
        }
        if i + 1 + len > raw.len() {
            return Err(DecodeError::MalformedAdvertisement {
                offset: i,
                claimed: len,
                available: raw.len() - i - 1,
            });
        }
        let data = &raw[i + 2..i + 1 + len];
        if raw[i + 1] == AD_TYPE_MANUFACTURER_DATA
            && data.len() >= 3
            && u16::from_le_bytes([data[0], data[1]]) == RUUVI_COMPANY_ID
        {
            return Ok(&data[2..]);
        }
        i += 1 + len;
    }
    Err(DecodeError::NoRuuviData)
}

/// Builds a raw advertisement from AD structures (type, data), as a device would send it.
pub fn build_advertisement(structures: &[(u8, &[u8])]) -> Vec<u8> {
    let mut out = Vec::with_capacity(48);
    for (ad_type, data) in structures {
        out.push((data.len() + 1) as u8);
        out.push(*ad_type);
        out.extend_from_slice(data);
    }
    out
}

/// Manufacturer data bytes for Ruuvi: company id little-endian, then the payload.
pub fn ruuvi_manufacturer_data(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 2);
    out.extend_from_slice(&RUUVI_COMPANY_ID.to_le_bytes());
    out.extend_from_slice(payload);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }

    #[test]
    fn finds_payload_after_flags_df5() {
        let raw = hex("0201061BFF99040513C85714C7CC00240008041CAB76F41C3CC6A5B9E0AD06");
        let p = ruuvi_payload(&raw).unwrap();
        assert_eq!(p.len(), 24);
        assert_eq!(p[0], 0x05);
    }

    #[test]
    fn finds_payload_after_uuid_list_df6() {
        let raw = hex("020106030398FC17FF990406143A6194C636005A0330D500F7FF10944F8AA5");
        let p = ruuvi_payload(&raw).unwrap();
        assert_eq!(p.len(), 20);
        assert_eq!(p[0], 0x06);
    }

    #[test]
    fn finds_payload_first_with_trailing_uuid_e1() {
        let raw = hex("2BFF9904E114595CB0C6460030003A0041004402364300FFFFFFFFFFFF103B37F8FFFFFFFFFFFD546F6C5292030398FC");
        let p = ruuvi_payload(&raw).unwrap();
        assert_eq!(p.len(), 40);
        assert_eq!(p[0], 0xE1);
        let s = ad_structures(&raw).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[1].ad_type, 0x03);
        assert_eq!(s[1].data, &[0x98, 0xFC]);
    }

    #[test]
    fn other_company_is_not_ruuvi_and_no_substring_search() {
        // Apple's company id, with "9904" inside its data: must not be mistaken for Ruuvi.
        let raw = hex("0201060AFF4C0099040512FC5394");
        assert_eq!(ruuvi_payload(&raw), Err(DecodeError::NoRuuviData));
    }

    #[test]
    fn truncated_structure_is_an_error() {
        let raw = hex("0201061BFF990405");
        assert!(matches!(
            ruuvi_payload(&raw),
            Err(DecodeError::MalformedAdvertisement {
                offset: 3,
                claimed: 27,
                available: 4
            })
        ));
    }

    #[test]
    fn zero_length_ends_significant_part() {
        let raw = hex("020106000000");
        assert_eq!(ruuvi_payload(&raw), Err(DecodeError::NoRuuviData));
        assert_eq!(ad_structures(&raw).unwrap().len(), 1);
    }

    #[test]
    fn build_round_trips() {
        let payload = hex("03291A1ECE1EFC18F94202CA0B53");
        let md = ruuvi_manufacturer_data(&payload);
        let raw = build_advertisement(&[(0x01, &[0x06]), (0xFF, &md)]);
        assert_eq!(
            hex::encode_upper(&raw),
            "02010611FF990403291A1ECE1EFC18F94202CA0B53"
        );
        assert_eq!(ruuvi_payload(&raw).unwrap(), &payload[..]);
    }
}
