//! What a user asks to be told about (seed 004's alert model, plus Ruuvi Air quantities, dew
//! point and absolute humidity): a quantity of one sensor, a trigger, a threshold in the user's
//! unit, and how touchy the alert is (hysteresis, cooldown).

use ruuvi_protocol::derived::{absolute_humidity_g_m3, dew_point_c};
use ruuvi_protocol::{MacAddress, Observation};

use crate::AlertError;

/// The quantity watched (`alertType`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, ts_rs::TS,
)]
pub enum AlertType {
    Temperature,
    Humidity,
    Pressure,
    Movement,
    Voltage,
    #[serde(rename = "RSSI")]
    Rssi,
    #[serde(rename = "noData")]
    NoData,
    #[serde(rename = "CO2")]
    Co2,
    #[serde(rename = "PM1.0")]
    Pm1_0,
    #[serde(rename = "PM2.5")]
    Pm2_5,
    #[serde(rename = "PM4.0")]
    Pm4_0,
    #[serde(rename = "PM10")]
    Pm10,
    #[serde(rename = "VOC")]
    Voc,
    #[serde(rename = "NOx")]
    Nox,
    Luminosity,
    Sound,
    DewPoint,
    AbsoluteHumidity,
}

impl AlertType {
    pub const ALL: [AlertType; 18] = [
        AlertType::Temperature,
        AlertType::Humidity,
        AlertType::Pressure,
        AlertType::Movement,
        AlertType::Voltage,
        AlertType::Rssi,
        AlertType::NoData,
        AlertType::Co2,
        AlertType::Pm1_0,
        AlertType::Pm2_5,
        AlertType::Pm4_0,
        AlertType::Pm10,
        AlertType::Voc,
        AlertType::Nox,
        AlertType::Luminosity,
        AlertType::Sound,
        AlertType::DewPoint,
        AlertType::AbsoluteHumidity,
    ];

    /// The seed's name (`alertType`, and `RUUVI_<alertType>` localisation keys).
    pub fn as_str(self) -> &'static str {
        match self {
            AlertType::Temperature => "Temperature",
            AlertType::Humidity => "Humidity",
            AlertType::Pressure => "Pressure",
            AlertType::Movement => "Movement",
            AlertType::Voltage => "Voltage",
            AlertType::Rssi => "RSSI",
            AlertType::NoData => "noData",
            AlertType::Co2 => "CO2",
            AlertType::Pm1_0 => "PM1.0",
            AlertType::Pm2_5 => "PM2.5",
            AlertType::Pm4_0 => "PM4.0",
            AlertType::Pm10 => "PM10",
            AlertType::Voc => "VOC",
            AlertType::Nox => "NOx",
            AlertType::Luminosity => "Luminosity",
            AlertType::Sound => "Sound",
            AlertType::DewPoint => "DewPoint",
            AlertType::AbsoluteHumidity => "AbsoluteHumidity",
        }
    }

    /// The units a threshold may be given in; the first is the default.
    pub fn units(self) -> &'static [&'static str] {
        match self {
            AlertType::Temperature | AlertType::DewPoint => &["C", "F", "K"],
            AlertType::Humidity => &["%"],
            AlertType::Pressure => &["hPa", "Pa", "mmHg", "inHg"],
            AlertType::Movement => &["count"],
            AlertType::Voltage => &["V"],
            AlertType::Rssi => &["dBm"],
            AlertType::NoData => &["s"],
            AlertType::Co2 => &["ppm"],
            AlertType::Pm1_0 | AlertType::Pm2_5 | AlertType::Pm4_0 | AlertType::Pm10 => &["µg/m³"],
            AlertType::Voc | AlertType::Nox => &["index"],
            AlertType::Luminosity => &["lx"],
            AlertType::Sound => &["dBA"],
            AlertType::AbsoluteHumidity => &["g/m³"],
        }
    }

    /// The observation's value in `unit` (`None`: the sensor does not report it).
    pub fn value(self, o: &Observation, unit: &str) -> Option<f64> {
        let r = &o.readings;
        let celsius = |c: f64| match unit {
            "F" => c * 9.0 / 5.0 + 32.0,
            "K" => c + 273.15,
            _ => c,
        };
        match self {
            AlertType::Temperature => r.temperature_c.map(celsius),
            AlertType::DewPoint => r
                .temperature_c
                .zip(r.humidity_pct)
                .and_then(|(t, h)| dew_point_c(t, h))
                .map(celsius),
            AlertType::Humidity => r.humidity_pct,
            AlertType::Pressure => r.pressure_pa.map(|pa| match unit {
                "Pa" => pa,
                "mmHg" => pa / 133.322_387_415,
                "inHg" => pa / 3_386.389,
                _ => pa / 100.0,
            }),
            AlertType::Movement => r.movement_counter.map(f64::from),
            AlertType::Voltage => r.battery_v,
            AlertType::Rssi => o.rssi.map(f64::from),
            AlertType::NoData => None,
            AlertType::Co2 => r.co2_ppm,
            AlertType::Pm1_0 => r.pm1_0,
            AlertType::Pm2_5 => r.pm2_5,
            AlertType::Pm4_0 => r.pm4_0,
            AlertType::Pm10 => r.pm10_0,
            AlertType::Voc => r.voc_index,
            AlertType::Nox => r.nox_index,
            AlertType::Luminosity => r.luminosity_lux,
            AlertType::Sound => r.sound_avg_dba.or(r.sound_inst_dba),
            AlertType::AbsoluteHumidity => r
                .temperature_c
                .zip(r.humidity_pct)
                .map(|(t, h)| absolute_humidity_g_m3(t, h)),
        }
    }
}

impl std::str::FromStr for AlertType {
    type Err = AlertError;
    fn from_str(s: &str) -> Result<Self, AlertError> {
        AlertType::ALL
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                AlertError::BadRule(format!(
                    "alert type {s:?}: one of {}",
                    AlertType::ALL.map(|t| t.as_str()).join(", ")
                ))
            })
    }
}

/// When it fires (`triggerType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, ts_rs::TS)]
pub enum TriggerType {
    Over,
    Under,
    /// A value: differs from the threshold by more than the tolerance. Movement: the movement
    /// counter changed.
    #[serde(rename = "Different from")]
    DifferentFrom,
}

impl TriggerType {
    pub fn as_str(self) -> &'static str {
        match self {
            TriggerType::Over => "Over",
            TriggerType::Under => "Under",
            TriggerType::DifferentFrom => "Different from",
        }
    }
}

impl std::str::FromStr for TriggerType {
    type Err = AlertError;
    fn from_str(s: &str) -> Result<Self, AlertError> {
        match s.to_ascii_lowercase().replace(['-', '_'], " ").as_str() {
            "over" => Ok(TriggerType::Over),
            "under" => Ok(TriggerType::Under),
            "different from" | "different" => Ok(TriggerType::DifferentFrom),
            _ => Err(AlertError::BadRule(format!(
                "trigger {s:?}: Over, Under or \"Different from\""
            ))),
        }
    }
}

/// One alert rule.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, ts_rs::TS)]
pub struct Rule {
    /// Given by the store (0 before it is saved).
    pub id: i64,
    pub sensor: MacAddress,
    /// The sensor's name as the user calls it (`name` in the payload).
    pub name: String,
    pub alert_type: AlertType,
    pub trigger: TriggerType,
    /// In `unit`; for noData the seconds without an observation.
    pub threshold: f64,
    pub unit: String,
    /// "Different from": how far from the threshold still counts as the same.
    #[serde(default)]
    pub tolerance: f64,
    /// How far back over the threshold a value must come before the alert can fire again.
    #[serde(default)]
    pub hysteresis: f64,
    /// Seconds after firing before the rule may fire again.
    #[serde(default)]
    pub cooldown_s: u64,
    /// The user's alert text (`alertData`; the notification body).
    #[serde(default)]
    pub text: String,
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

impl Rule {
    /// Checks what a person typed.
    pub fn validate(&self) -> Result<(), AlertError> {
        let bad = |m: String| Err(AlertError::BadRule(m));
        if !self.alert_type.units().contains(&self.unit.as_str()) {
            return bad(format!(
                "unit {:?} for {}: {}",
                self.unit,
                self.alert_type.as_str(),
                self.alert_type.units().join(", ")
            ));
        }
        if !self.threshold.is_finite()
            || !self.tolerance.is_finite()
            || !self.hysteresis.is_finite()
        {
            return bad("threshold, tolerance and hysteresis must be numbers".into());
        }
        if self.tolerance < 0.0 || self.hysteresis < 0.0 {
            return bad("tolerance and hysteresis cannot be negative".into());
        }
        if self.alert_type == AlertType::NoData
            && (self.threshold < 1.0 || self.trigger != TriggerType::Over)
        {
            return bad("noData: Over a number of seconds (at least 1)".into());
        }
        Ok(())
    }
}
