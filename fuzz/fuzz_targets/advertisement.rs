#![no_main]
//! Any bytes, as a raw advertisement or a payload: decoding must return a value or a typed
//! error, and whatever decodes must re-encode to the same payload bytes.

use libfuzzer_sys::fuzz_target;
use ruuvi_protocol::{adv::ruuvi_payload, decode_advertisement, decode_any, DataFormat, Measurement};

fuzz_target!(|data: &[u8]| {
    let key = [0x42u8; 16];
    let Ok(m) = decode_any(data, Some(&key)) else { return };
    let _ = Measurement::from_readings(m.format(), &m.readings());
    if m.format() == DataFormat::Df8 {
        return;
    }
    let is_bare_payload = DataFormat::from_code(data[0]).is_ok_and(|f| f.payload_len() == data.len());
    let payload = if is_bare_payload { data } else { ruuvi_payload(data).expect("decoded, so it has a payload") };
    assert_eq!(m.encode(), payload, "decode → encode changed the payload");
    assert_eq!(decode_advertisement(&m.to_advertisement()).unwrap(), m);
});
