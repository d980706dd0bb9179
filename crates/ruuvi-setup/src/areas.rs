//! The areas of a gateway's settings as the Gateways page sends them, made into profiles for
//! one gateway (its own client certificate, its MQTT keys), for a preview of what any area
//! would change, and for a remote configuration document.

use ruuvi_gateway::remote_cfg::SECRET_KEYS;
use ruuvi_gateway::{
    AutoUpdateProfile, BackendProfile, Change, GatewayConfig, ScanProfile, TimePlaceProfile,
};

use crate::backends::Backends;
use crate::firmware::StatisticsForm;
use crate::{MqttForm, Preview, ProfileForm, SetupError};

/// Areas to preview, publish or apply; absent ones stay as each gateway has them.
#[derive(Debug, Clone, Default, serde::Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct Areas {
    #[serde(default)]
    pub http: Option<ProfileForm>,
    #[serde(default)]
    pub mqtt: Option<MqttForm>,
    #[serde(default)]
    pub scan: Option<ScanProfile>,
    #[serde(default)]
    pub time_place: Option<TimePlaceProfile>,
    #[serde(default)]
    pub auto_update: Option<AutoUpdateProfile>,
    #[serde(default)]
    pub statistics: Option<StatisticsForm>,
}

pub(crate) type Profiles = Vec<Box<dyn BackendProfile + Sync + Send>>;

impl Areas {
    pub fn names(&self) -> Vec<String> {
        [
            ("http", self.http.is_some()),
            ("mqtt", self.mqtt.is_some()),
            ("scan", self.scan.is_some()),
            ("time_place", self.time_place.is_some()),
            ("auto_update", self.auto_update.is_some()),
            ("statistics", self.statistics.is_some()),
        ]
        .into_iter()
        .filter(|(_, on)| *on)
        .map(|(n, _)| n.to_string())
        .collect()
    }
}

impl Backends {
    /// The profiles `areas` make for the gateway with `mac`; `issue` false: certificates not
    /// issued yet are not made (a preview or a document changes nothing).
    pub(crate) fn profiles_for(
        &self,
        areas: &Areas,
        mac: Option<&str>,
        issue: bool,
    ) -> Result<Profiles, SetupError> {
        let mut out: Profiles = Vec::new();
        if let Some(f) = &areas.http {
            out.push(Box::new(self.profile_for(f, mac, issue)?));
        }
        if let Some(f) = &areas.mqtt {
            out.push(Box::new(self.mqtt_profile_for(f, mac, issue)?));
        }
        if let Some(s) = &areas.scan {
            out.push(Box::new(s.clone()));
        }
        if let Some(t) = &areas.time_place {
            out.push(Box::new(t.clone()));
        }
        if let Some(a) = &areas.auto_update {
            out.push(Box::new(a.clone()));
        }
        if let Some(s) = &areas.statistics {
            out.push(Box::new(self.statistics_profile(s)?));
        }
        Ok(out)
    }

    /// What `areas` would change on a logged-in gateway (as last read): each setting whose
    /// value would differ, the files that would be uploaded, and why it cannot be applied.
    pub async fn preview_areas(
        &self,
        endpoint: &str,
        areas: &Areas,
    ) -> Result<Preview, SetupError> {
        let session = self.sessions.session(endpoint)?;
        let session = session.lock().await;
        let profiles = self.profiles_for(areas, session.client.mac(), false)?;
        let firmware = session.client.firmware();
        let mut preview = Preview {
            endpoint: endpoint.to_string(),
            changes: Vec::new(),
            uploads: Vec::new(),
            problems: Vec::new(),
        };
        for p in &profiles {
            if let Err(e) = p.validate(firmware, Some(&session.config)) {
                preview.problems.push(e.to_string());
            }
            preview.changes.extend(changes(&session.config, p.as_ref()));
            preview
                .uploads
                .extend(p.uploads().into_iter().map(|(f, _)| f.to_string()));
        }
        Ok(preview)
    }
}

/// The settings `profile` would change on a gateway whose configuration is `current` (a secret
/// shows as "(new)": its value is never read or shown).
pub(crate) fn changes(current: &GatewayConfig, profile: &dyn BackendProfile) -> Vec<Change> {
    let repeated = current.unchanged_body();
    let shown = |v: Option<&serde_json::Value>| match v {
        None => "—".to_string(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    };
    profile
        .post_body(current)
        .into_iter()
        .filter(|(k, v)| repeated.get(k) != Some(v))
        .filter_map(|(key, value)| {
            if SECRET_KEYS.contains(&key.as_str()) {
                return Some(Change {
                    label: key.clone(),
                    key,
                    before: "(kept secret)".into(),
                    after: "(new)".into(),
                });
            }
            let before = current.raw().get(&key);
            (before != Some(&value)).then(|| Change {
                label: key.clone(),
                before: shown(before),
                after: shown(Some(&value)),
                key,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_preview_lists_what_differs_and_hides_secrets() {
        let current = GatewayConfig::from_json(json!({
            "auto_update_cycle": "regular", "auto_update_weekdays_bitmask": 127,
            "auto_update_interval_from": 0, "auto_update_interval_to": 24,
            "auto_update_tz_offset_hours": 3, "mqtt_data_format": "ruuvi_raw",
            "mqtt_prefix": "p/", "mqtt_client_id": "c", "use_http_stat": true
        }))
        .unwrap();
        let nights = AutoUpdateProfile {
            cycle: "regular".into(),
            weekdays: 127,
            from_hour: 1,
            to_hour: 5,
            tz_offset_hours: 3,
        };
        let c = changes(&current, &nights);
        let keys: Vec<&str> = c.iter().map(|c| c.key.as_str()).collect();
        assert_eq!(
            keys,
            ["auto_update_interval_from", "auto_update_interval_to"]
        );
        assert_eq!((c[0].before.as_str(), c[0].after.as_str()), ("0", "1"));
        let stats = ruuvi_gateway::StatisticsProfile {
            target: Some(ruuvi_gateway::StatisticsTarget {
                url: "http://x/status".into(),
                user: "u".into(),
                password: Some(ruuvi_secrets::Sensitive::new("hunter2".into())),
                server_ca_pem: None,
                client_identity: None,
            }),
        };
        let c = changes(&current, &stats);
        let secret = c.iter().find(|c| c.key == "http_stat_pass").unwrap();
        assert_eq!(secret.after, "(new)");
        assert!(!format!("{c:?}").contains("hunter2"));
    }
}
