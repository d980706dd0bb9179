#![no_main]
// What is checked: `ruuvi_fuzz::ecdh` (crates/ruuvi-fuzz).
libfuzzer_sys::fuzz_target!(|data: &[u8]| ruuvi_fuzz::ecdh(data));
