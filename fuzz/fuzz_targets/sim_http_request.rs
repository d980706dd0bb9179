#![no_main]
// What is checked: `ruuvi_fuzz::sim_http_request` (crates/ruuvi-fuzz).
libfuzzer_sys::fuzz_target!(|data: &[u8]| ruuvi_fuzz::sim_http_request(data));
