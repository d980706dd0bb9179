#![no_main]
// What is checked: `ruuvi_fuzz::sim_config_post` (crates/ruuvi-fuzz).
libfuzzer_sys::fuzz_target!(|data: &[u8]| ruuvi_fuzz::sim_config_post(data));
