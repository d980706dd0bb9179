//! A measurement as few bytes as it can be stored without losing anything: the format's own
//! payload when the readings re-encode to one that decodes to exactly the same readings (what
//! every decoded Ruuvi advertisement does), with the sensor's MAC left off when the payload
//! ends with it; otherwise the general [`codec`] form. A DF5 observation is 19 bytes.
//!
//! The first byte says which: `0` the codec (then the format code or `0` for none), `1` a
//! payload whose last six bytes were the sensor's MAC, anything else is the payload's own
//! first byte (a format code: 3, 5, 6, 8, 0xC5, 0xE1 — never 0 or 1).

use ruuvi_protocol::{decode_payload, DataFormat, MacAddress, Measurement, Readings};

use crate::codec;

const CODEC: u8 = 0;
const MAC_ELIDED: u8 = 1;

pub(crate) fn pack(sensor: MacAddress, format: Option<DataFormat>, r: &Readings) -> Vec<u8> {
    if let Some(payload) = format.and_then(|f| exact_payload(f, r)) {
        if payload.len() > 6 && payload.ends_with(&sensor.0) {
            let mut out = Vec::with_capacity(payload.len() - 5);
            out.push(MAC_ELIDED);
            out.extend_from_slice(&payload[..payload.len() - 6]);
            return out;
        }
        return payload;
    }
    let mut out = vec![CODEC, format.map_or(0, DataFormat::code)];
    out.extend_from_slice(&codec::encode(r));
    out
}

/// The payload for `r` in `format` when decoding it gives back exactly `r`.
fn exact_payload(format: DataFormat, r: &Readings) -> Option<Vec<u8>> {
    // Format 8 is encrypted: its plaintext alone does not decode.
    if format == DataFormat::Df8 {
        return None;
    }
    let payload = Measurement::from_readings(format, r).encode();
    let back = decode_payload(&payload).ok()?;
    (back.format() == format && back.readings() == *r && !matches!(payload[0], CODEC | MAC_ELIDED))
        .then_some(payload)
}

pub(crate) fn unpack(
    sensor: MacAddress,
    data: &[u8],
) -> Result<(Option<DataFormat>, Readings), String> {
    let measurement = |payload: &[u8]| -> Result<(Option<DataFormat>, Readings), String> {
        let m = decode_payload(payload).map_err(|e| format!("payload: {e}"))?;
        Ok((Some(m.format()), m.readings()))
    };
    match data {
        [CODEC, format, rest @ ..] => {
            let format = match format {
                0 => None,
                code => Some(DataFormat::from_code(*code).map_err(|e| e.to_string())?),
            };
            Ok((format, codec::decode(rest)?))
        }
        [MAC_ELIDED, rest @ ..] => {
            let mut payload = rest.to_vec();
            payload.extend_from_slice(&sensor.0);
            measurement(&payload)
        }
        [] => Err("empty measurement".into()),
        payload => measurement(payload),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ruuvi_protocol::decode_hex;

    #[test]
    fn decoded_advertisements_are_stored_as_their_payload() {
        // data-formats.md: the DF5 "valid data" vector.
        let m = decode_hex("0512FC5394C37C0004FFFC040CAC364200CDCBB8334C884F", None).unwrap();
        let mac = MacAddress([0xCB, 0xB8, 0x33, 0x4C, 0x88, 0x4F]);
        let data = pack(mac, Some(m.format()), &m.readings());
        assert_eq!(data.len(), 19, "the MAC is the sensor's: left off");
        assert_eq!(
            unpack(mac, &data).unwrap(),
            (Some(DataFormat::Df5), m.readings())
        );
        // Another sensor's MAC stays in.
        let other = MacAddress([1, 2, 3, 4, 5, 6]);
        let data = pack(other, Some(m.format()), &m.readings());
        assert_eq!(data.len(), 24);
        assert_eq!(unpack(other, &data).unwrap().1, m.readings());
    }

    #[test]
    fn readings_no_payload_can_hold_use_the_codec() {
        let mac = MacAddress([1, 2, 3, 4, 5, 6]);
        for (format, r) in [
            (
                Some(DataFormat::Df5),
                Readings {
                    temperature_c: Some(21.123_456),
                    ..Readings::default()
                },
            ),
            (
                None,
                Readings {
                    temperature_c: Some(1.0),
                    ..Readings::default()
                },
            ),
            (Some(DataFormat::Df8), Readings::default()),
        ] {
            let data = pack(mac, format, &r);
            assert_eq!(data[0], CODEC);
            assert_eq!(unpack(mac, &data).unwrap(), (format, r));
        }
        assert!(unpack(mac, &[]).is_err());
        assert!(unpack(mac, &[5, 1, 2]).is_err());
        assert!(unpack(mac, &[CODEC, 0x77, 0, 0, 0, 0]).is_err());
    }
}
