#![no_main]
// What is checked: `ruuvi_fuzz::mqtt_message` (crates/ruuvi-fuzz).
libfuzzer_sys::fuzz_target!(|data: &[u8]| ruuvi_fuzz::mqtt_message(data));
