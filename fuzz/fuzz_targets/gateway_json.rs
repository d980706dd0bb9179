#![no_main]
//! Any bytes as a gateway POST / history body: parse must not panic, and whatever parses must
//! write back and re-parse to the same bytes.

use libfuzzer_sys::fuzz_target;
use ruuvi_protocol::{FirmwareStyle, GatewayDocument, Observation};

fuzz_target!(|data: &[u8]| {
    if let Ok(doc) = GatewayDocument::parse(data) {
        let _ = Observation::from_gateway(&doc, ruuvi_protocol::Feed::GatewayPost { gateway: doc.gw_mac }, 0);
        for style in [FirmwareStyle::CURRENT_RAW, FirmwareStyle::CURRENT_DECODED] {
            let text = doc.to_firmware_json(style);
            let back = GatewayDocument::parse(text.as_bytes()).expect("our own output parses");
            assert_eq!(back.to_firmware_json(style), text);
        }
    }
});
