#![no_main]
// What is checked: `ruuvi_fuzz::store_url` (crates/ruuvi-fuzz).
libfuzzer_sys::fuzz_target!(|data: &[u8]| ruuvi_fuzz::store_url(data));
