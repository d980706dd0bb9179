//! Physical values of one measurement, whatever format carried them.

use serde::{Deserialize, Serialize};

use crate::mac::MacAddress;

/// Scaled values of one measurement. `None` = the format has no such field or the device sent
/// the "not available" code. Encoders take this as input (clipping out-of-range values the way
/// the official C encoder does), decoders produce it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct Readings {
    pub temperature_c: Option<f64>,
    pub humidity_pct: Option<f64>,
    pub pressure_pa: Option<f64>,
    pub accel_x_g: Option<f64>,
    pub accel_y_g: Option<f64>,
    pub accel_z_g: Option<f64>,
    pub battery_v: Option<f64>,
    pub tx_power_dbm: Option<i16>,
    pub movement_counter: Option<u32>,
    pub measurement_sequence: Option<u32>,
    pub pm1_0: Option<f64>,
    pub pm2_5: Option<f64>,
    pub pm4_0: Option<f64>,
    pub pm10_0: Option<f64>,
    pub co2_ppm: Option<f64>,
    pub voc_index: Option<f64>,
    pub nox_index: Option<f64>,
    pub luminosity_lux: Option<f64>,
    pub sound_inst_dba: Option<f64>,
    pub sound_avg_dba: Option<f64>,
    pub sound_peak_spl_db: Option<f64>,
    pub calibration_in_progress: Option<bool>,
    pub button_pressed: Option<bool>,
    pub rtc_running_on_boot: Option<bool>,
    /// Full MAC carried in the payload (formats 5, C5, 8, E1).
    pub mac: Option<MacAddress>,
    /// Lowest three MAC bytes (format 6 carries only these).
    pub mac_suffix: Option<[u8; 3]>,
}
