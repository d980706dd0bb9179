//! What the owner says about a sensor: its name, where it is, a note, and calibration offsets.
//! Observations are stored as measured; the offsets are applied wherever a value is shown or
//! used (cards, charts, alerts, exports, the MQTT sink), as Ruuvi Station applies them: added to
//! the decoded value.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::RwLock;

use serde::{Deserialize, Serialize};

use crate::{MacAddress, Observation, Readings};

/// Offsets added to the measured values (0: none).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(default)]
pub struct Calibration {
    /// Added to the temperature (°C).
    pub temperature_c: f64,
    /// Added to the relative humidity (percentage points).
    pub humidity_pct: f64,
    /// Added to the pressure (Pa; the UI and the CLI speak hPa).
    pub pressure_pa: f64,
}

/// The largest offsets taken: beyond these a value is not calibrated but replaced.
pub const MAX_TEMPERATURE_OFFSET_C: f64 = 50.0;
pub const MAX_HUMIDITY_OFFSET_PCT: f64 = 100.0;
pub const MAX_PRESSURE_OFFSET_PA: f64 = 10_000.0;

impl Calibration {
    pub fn is_none(&self) -> bool {
        *self == Self::default()
    }

    /// Why these offsets cannot be used, if they cannot.
    pub fn problem(&self) -> Option<String> {
        let checks = [
            (
                "temperature",
                self.temperature_c,
                MAX_TEMPERATURE_OFFSET_C,
                "°C",
            ),
            ("humidity", self.humidity_pct, MAX_HUMIDITY_OFFSET_PCT, "%"),
            (
                "pressure",
                self.pressure_pa / 100.0,
                MAX_PRESSURE_OFFSET_PA / 100.0,
                "hPa",
            ),
        ];
        checks.into_iter().find_map(|(what, v, max, unit)| {
            (!v.is_finite() || v.abs() > max)
                .then(|| format!("the {what} offset must be between -{max} and {max} {unit}"))
        })
    }

    /// Adds the offsets to the readings that have them. Relative humidity stays within
    /// 0–100 % (an offset cannot make air wetter than saturated; Ruuvi Station does not clamp,
    /// we do, so a dew point computed from it stays defined).
    pub fn apply_to(&self, r: &mut Readings) {
        if let Some(t) = r.temperature_c.as_mut() {
            *t += self.temperature_c;
        }
        if let Some(h) = r.humidity_pct.as_mut() {
            *h = (*h + self.humidity_pct).clamp(0.0, 100.0);
        }
        if let Some(p) = r.pressure_pa.as_mut() {
            *p += self.pressure_pa;
        }
    }

    pub fn applied(&self, r: &Readings) -> Readings {
        let mut out = r.clone();
        self.apply_to(&mut out);
        out
    }
}

/// Longest name and location (characters); a note may be longer.
pub const MAX_NAME_CHARS: usize = 64;
pub const MAX_NOTE_CHARS: usize = 2000;

/// The owner's description of one sensor. Empty strings: not given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct SensorProfile {
    pub sensor: MacAddress,
    pub name: String,
    /// A room, a site, a group: cards can be grouped by it.
    pub location: String,
    pub note: String,
    pub calibration: Calibration,
    /// When it was last changed (Unix ms).
    pub updated_ms: i64,
}

impl SensorProfile {
    pub fn new(sensor: MacAddress) -> Self {
        Self {
            sensor,
            name: String::new(),
            location: String::new(),
            note: String::new(),
            calibration: Calibration::default(),
            updated_ms: 0,
        }
    }

    /// The name given, or the one Ruuvi Station shows for a sensor without one
    /// ("Ruuvi 4C88": the last two bytes of its MAC).
    pub fn display_name(&self) -> String {
        default_name_or(self.sensor, &self.name)
    }

    /// Trims the texts and says what is wrong with them or the offsets, if anything.
    pub fn checked(mut self) -> Result<Self, String> {
        for (what, text, max) in [
            ("name", &mut self.name, MAX_NAME_CHARS),
            ("location", &mut self.location, MAX_NAME_CHARS),
            ("note", &mut self.note, MAX_NOTE_CHARS),
        ] {
            *text = text.trim().to_string();
            if text.chars().count() > max {
                return Err(format!("the {what} is longer than {max} characters"));
            }
            // A note may have lines; nothing else may hold control characters (they would
            // break a CSV row, a log line or a Home Assistant name).
            let allowed = |c: char| what == "note" && (c == '\n' || c == '\t');
            if text.chars().any(|c| c.is_control() && !allowed(c)) {
                return Err(format!("the {what} holds a control character"));
            }
        }
        if let Some(p) = self.calibration.problem() {
            return Err(p);
        }
        Ok(self)
    }

    /// Nothing given: the same as no profile.
    pub fn is_empty(&self) -> bool {
        self.name.is_empty()
            && self.location.is_empty()
            && self.note.is_empty()
            && self.calibration.is_none()
    }
}

fn default_name_or(sensor: MacAddress, name: &str) -> String {
    if name.is_empty() {
        format!("Ruuvi {:02X}{:02X}", sensor.0[4], sensor.0[5])
    } else {
        name.to_string()
    }
}

/// Every sensor's profile, shared by whatever shows or uses values (read often, written when
/// the owner edits one). Cloning shares the same map.
#[derive(Debug, Clone, Default)]
pub struct Profiles(Arc<RwLock<HashMap<MacAddress, SensorProfile>>>);

impl Profiles {
    pub fn of(list: Vec<SensorProfile>) -> Self {
        let p = Self::default();
        p.replace(list);
        p
    }

    /// Takes a freshly read list (another process may have changed the database).
    pub fn replace(&self, list: Vec<SensorProfile>) {
        let map = list.into_iter().map(|p| (p.sensor, p)).collect();
        *self.0.write() = map;
    }

    pub fn set(&self, profile: SensorProfile) {
        let mut map = self.0.write();
        if profile.is_empty() {
            map.remove(&profile.sensor);
        } else {
            map.insert(profile.sensor, profile);
        }
    }

    pub fn get(&self, sensor: MacAddress) -> Option<SensorProfile> {
        self.0.read().get(&sensor).cloned()
    }

    pub fn all(&self) -> Vec<SensorProfile> {
        let mut out: Vec<SensorProfile> = self.0.read().values().cloned().collect();
        out.sort_by_key(|p| p.sensor);
        out
    }

    pub fn calibration(&self, sensor: MacAddress) -> Calibration {
        self.0
            .read()
            .get(&sensor)
            .map(|p| p.calibration)
            .unwrap_or_default()
    }

    /// The sensor's name, or its default one.
    pub fn display_name(&self, sensor: MacAddress) -> String {
        let map = self.0.read();
        default_name_or(sensor, map.get(&sensor).map_or("", |p| &p.name))
    }

    /// `o` with its sensor's offsets applied (borrowed as is when it has none).
    pub fn calibrated<'a>(&self, o: &'a Observation) -> std::borrow::Cow<'a, Observation> {
        let c = self.calibration(o.sensor);
        if c.is_none() {
            std::borrow::Cow::Borrowed(o)
        } else {
            let mut owned = o.clone();
            c.apply_to(&mut owned.readings);
            std::borrow::Cow::Owned(owned)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mac() -> MacAddress {
        "C8:25:2D:8E:9C:2C".parse().unwrap()
    }

    #[test]
    fn offsets_are_added_and_humidity_stays_within_0_to_100() {
        let c = Calibration {
            temperature_c: -0.5,
            humidity_pct: 3.0,
            pressure_pa: 120.0,
        };
        let r = Readings {
            temperature_c: Some(21.25),
            humidity_pct: Some(98.5),
            pressure_pa: Some(100_000.0),
            battery_v: Some(2.9),
            ..Readings::default()
        };
        let out = c.applied(&r);
        assert_eq!(out.temperature_c, Some(20.75));
        assert_eq!(out.humidity_pct, Some(100.0));
        assert_eq!(out.pressure_pa, Some(100_120.0));
        assert_eq!(out.battery_v, Some(2.9), "other readings untouched");
        // A reading the format lacks stays absent.
        let air = Readings {
            co2_ppm: Some(500.0),
            ..Readings::default()
        };
        assert_eq!(c.applied(&air), air);
        let dry = Calibration {
            humidity_pct: -20.0,
            ..Calibration::default()
        };
        let r = Readings {
            humidity_pct: Some(10.0),
            ..Readings::default()
        };
        assert_eq!(dry.applied(&r).humidity_pct, Some(0.0));
    }

    #[test]
    fn a_profile_is_checked_and_trimmed() {
        let p = SensorProfile {
            name: "  Sauna  ".into(),
            location: "Kellari".into(),
            note: "by the door\nhigh shelf".into(),
            ..SensorProfile::new(mac())
        }
        .checked()
        .unwrap();
        assert_eq!(p.name, "Sauna");
        assert_eq!(p.display_name(), "Sauna");
        assert_eq!(SensorProfile::new(mac()).display_name(), "Ruuvi 9C2C");
        for bad in [
            SensorProfile {
                name: "x".repeat(65),
                ..SensorProfile::new(mac())
            },
            SensorProfile {
                name: "a\nb".into(),
                ..SensorProfile::new(mac())
            },
            SensorProfile {
                calibration: Calibration {
                    temperature_c: 51.0,
                    ..Calibration::default()
                },
                ..SensorProfile::new(mac())
            },
            SensorProfile {
                calibration: Calibration {
                    pressure_pa: f64::NAN,
                    ..Calibration::default()
                },
                ..SensorProfile::new(mac())
            },
        ] {
            assert!(bad.checked().is_err());
        }
        // Names in any script count characters, not bytes.
        assert!(SensorProfile {
            name: "ä".repeat(64),
            ..SensorProfile::new(mac())
        }
        .checked()
        .is_ok());
    }

    #[test]
    fn shared_profiles_calibrate_only_what_has_offsets() {
        let profiles = Profiles::default();
        let o = Observation {
            sensor: mac(),
            feed: crate::Feed::Ble,
            received_at_ms: 1,
            seen_at_s: None,
            rssi: None,
            format: None,
            readings: Readings {
                temperature_c: Some(20.0),
                ..Readings::default()
            },
        };
        assert!(matches!(
            profiles.calibrated(&o),
            std::borrow::Cow::Borrowed(_)
        ));
        profiles.set(SensorProfile {
            calibration: Calibration {
                temperature_c: 1.5,
                ..Calibration::default()
            },
            ..SensorProfile::new(mac())
        });
        assert_eq!(profiles.calibrated(&o).readings.temperature_c, Some(21.5));
        // Emptied: forgotten.
        profiles.set(SensorProfile::new(mac()));
        assert!(profiles.get(mac()).is_none());
        assert_eq!(profiles.display_name(mac()), "Ruuvi 9C2C");
    }
}
