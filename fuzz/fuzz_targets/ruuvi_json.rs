#![no_main]
// What is checked: `ruuvi_fuzz::ruuvi_json` (crates/ruuvi-fuzz).
libfuzzer_sys::fuzz_target!(|data: &[u8]| ruuvi_fuzz::ruuvi_json(data));
