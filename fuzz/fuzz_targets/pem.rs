#![no_main]
// What is checked: `ruuvi_fuzz::pem` (crates/ruuvi-fuzz).
libfuzzer_sys::fuzz_target!(|data: &[u8]| ruuvi_fuzz::pem(data));
