#![no_main]
// What is checked: `ruuvi_fuzz::store_roundtrip` (crates/ruuvi-fuzz).
libfuzzer_sys::fuzz_target!(|data: &[u8]| ruuvi_fuzz::store_roundtrip(data));
