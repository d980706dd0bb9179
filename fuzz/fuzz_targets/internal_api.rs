#![no_main]
// What is checked: `ruuvi_fuzz::internal_api` (crates/ruuvi-fuzz).
libfuzzer_sys::fuzz_target!(|data: &[u8]| ruuvi_fuzz::internal_api(data));
