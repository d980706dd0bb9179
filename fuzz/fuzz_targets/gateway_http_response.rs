#![no_main]
// What is checked: `ruuvi_fuzz::gateway_http_response` (crates/ruuvi-fuzz).
libfuzzer_sys::fuzz_target!(|data: &[u8]| ruuvi_fuzz::gateway_http_response(data));
