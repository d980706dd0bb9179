//! Time and place (gateway-local-api §6.1 `ntp_*`, `coordinates`; the NTP rules of §6.3): where
//! the gateway takes its clock from — without one its data carries counters instead of times —
//! and the free-text coordinates it copies into every data message. Pushed like the backends
//! ([`crate::push::push_profile`]).

use ruuvi_secrets::Sensitive;
use serde_json::{Map, Value};

use crate::config::GatewayConfig;
use crate::push::BackendProfile;
use crate::{FirmwareVersion, GatewayError};

/// The firmware's four server slots, each at most 31 characters.
pub const NTP_SERVERS: usize = 4;
const SERVER_LEN: usize = 31;
const SERVER_KEYS: [&str; NTP_SERVERS] =
    ["ntp_server1", "ntp_server2", "ntp_server3", "ntp_server4"];

/// Where the clock comes from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, ts_rs::TS)]
#[serde(tag = "source", content = "servers", rename_all = "snake_case")]
pub enum Clock {
    /// No time: data carries a counter instead (`ntp_use` false).
    Off,
    /// The servers the network's DHCP names.
    Dhcp,
    /// Up to four servers (host names or addresses).
    Servers(Vec<String>),
}

/// Time and place as Ruuvi Desk sets them; `None` leaves that part as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize, ts_rs::TS)]
pub struct TimePlaceProfile {
    pub clock: Option<Clock>,
    /// Copied into every data message (at most 63 characters); `""` clears it.
    pub coordinates: Option<String>,
}

fn bad(message: impl Into<String>) -> GatewayError {
    GatewayError::BadInput(message.into())
}

impl TimePlaceProfile {
    /// As a configuration shows them (what "undo" puts back).
    pub fn read(config: &GatewayConfig) -> Self {
        let clock = match (config.bool("ntp_use"), config.bool("ntp_use_dhcp")) {
            (Some(false), _) => Clock::Off,
            (_, Some(true)) => Clock::Dhcp,
            _ => Clock::Servers(
                SERVER_KEYS
                    .iter()
                    .filter_map(|k| config.str(k))
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect(),
            ),
        };
        Self {
            clock: Some(clock),
            coordinates: Some(config.str("coordinates").unwrap_or_default().to_string()),
        }
    }

    fn check(&self) -> Result<(), GatewayError> {
        if let Some(Clock::Servers(servers)) = &self.clock {
            if servers.is_empty() || servers.len() > NTP_SERVERS {
                return Err(bad(format!("NTP: 1 to {NTP_SERVERS} servers")));
            }
            for s in servers {
                if s.is_empty()
                    || s.len() > SERVER_LEN
                    || !s
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
                {
                    return Err(bad(format!(
                        "NTP server {s:?}: a host name or address of at most {SERVER_LEN} characters"
                    )));
                }
            }
        }
        if let Some(c) = &self.coordinates {
            if c.len() > 63 {
                return Err(bad("coordinates: the gateway keeps at most 63 characters"));
            }
            if c.chars().any(char::is_control) {
                return Err(bad("coordinates: one line of text"));
            }
        }
        Ok(())
    }
}

impl BackendProfile for TimePlaceProfile {
    fn validate(
        &self,
        _firmware: Option<FirmwareVersion>,
        _current: Option<&GatewayConfig>,
    ) -> Result<(), GatewayError> {
        self.check()
    }

    fn uploads(&self) -> Vec<(&'static str, Sensitive<String>)> {
        Vec::new()
    }

    fn post_body(&self, current: &GatewayConfig) -> Map<String, Value> {
        let mut body = current.unchanged_body();
        match &self.clock {
            None => {}
            Some(Clock::Off) => {
                body.insert("ntp_use".into(), false.into());
            }
            Some(Clock::Dhcp) => {
                body.insert("ntp_use".into(), true.into());
                body.insert("ntp_use_dhcp".into(), true.into());
            }
            Some(Clock::Servers(servers)) => {
                body.insert("ntp_use".into(), true.into());
                body.insert("ntp_use_dhcp".into(), false.into());
                // Every slot, so that a shorter list leaves no old server behind.
                for (i, key) in SERVER_KEYS.iter().enumerate() {
                    body.insert(
                        (*key).into(),
                        servers.get(i).cloned().unwrap_or_default().into(),
                    );
                }
            }
        }
        if let Some(c) = &self.coordinates {
            body.insert("coordinates".into(), c.clone().into());
        }
        body
    }

    fn differences(
        &self,
        _firmware: Option<FirmwareVersion>,
        after: &GatewayConfig,
    ) -> Vec<String> {
        let got = TimePlaceProfile::read(after);
        let mut out = Vec::new();
        if self.clock.is_some() && got.clock != self.clock {
            out.push(format!(
                "the clock is {:?}, not {:?}",
                got.clock, self.clock
            ));
        }
        if self.coordinates.is_some() && got.coordinates != self.coordinates {
            out.push(format!(
                "the coordinates are {:?}, not {:?}",
                got.coordinates, self.coordinates
            ));
        }
        out
    }

    fn restore_body(&self, before: &GatewayConfig) -> Map<String, Value> {
        TimePlaceProfile::read(before).post_body(before)
    }

    fn secret_keys(&self) -> &'static [&'static str] {
        &[]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// §6.1's example, time and place.
    fn example() -> GatewayConfig {
        GatewayConfig::from_json(json!({"ntp_use": true, "ntp_use_dhcp": false,
            "ntp_server1": "time.google.com", "ntp_server2": "time.cloudflare.com",
            "ntp_server3": "pool.ntp.org", "ntp_server4": "time.ruuvi.com", "coordinates": "",
            "mqtt_data_format": "ruuvi_raw"}))
        .unwrap()
    }

    #[test]
    fn the_example_reads_back_as_its_four_servers() {
        let read = TimePlaceProfile::read(&example());
        assert_eq!(
            read.clock,
            Some(Clock::Servers(vec![
                "time.google.com".into(),
                "time.cloudflare.com".into(),
                "pool.ntp.org".into(),
                "time.ruuvi.com".into()
            ]))
        );
        assert!(read.differences(None, &example()).is_empty());
    }

    #[test]
    fn bodies_follow_the_ntp_rules() {
        let one = TimePlaceProfile {
            clock: Some(Clock::Servers(vec!["192.168.1.1".into()])),
            coordinates: Some("60.17,24.94".into()),
        };
        let body = one.post_body(&example());
        assert_eq!(body["ntp_use_dhcp"], false);
        assert_eq!(body["ntp_server1"], "192.168.1.1");
        assert_eq!(body["ntp_server4"], "", "the old fourth server is cleared");
        assert_eq!(body["coordinates"], "60.17,24.94");
        assert_eq!(body["mqtt_data_format"], "ruuvi_raw");
        let off = TimePlaceProfile {
            clock: Some(Clock::Off),
            coordinates: None,
        };
        let body = off.post_body(&example());
        assert_eq!(body["ntp_use"], false);
        assert!(!body.contains_key("ntp_server1") && !body.contains_key("coordinates"));
    }

    #[test]
    fn checks() {
        let too_many = TimePlaceProfile {
            clock: Some(Clock::Servers(vec!["a".into(); 5])),
            coordinates: None,
        };
        assert!(too_many.check().is_err());
        let long = TimePlaceProfile {
            clock: Some(Clock::Servers(vec!["x".repeat(32)])),
            coordinates: None,
        };
        assert!(long.check().is_err());
        let two_lines = TimePlaceProfile {
            clock: None,
            coordinates: Some("60.1\n24.9".into()),
        };
        assert!(two_lines.check().is_err());
    }
}
