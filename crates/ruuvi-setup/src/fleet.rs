//! The fleet table's view of each added gateway, kept in `gateways.json` (no secrets): what
//! it had when last read — LAN login, backend, MQTT target, remote configuration — and which
//! of the settings Ruuvi Desk last set it no longer has ("differs": changed in its own web
//! page, by another tool, or by a remote configuration from elsewhere).

use std::collections::BTreeMap;

use ruuvi_gateway::remote_cfg::SECRET_KEYS;
use ruuvi_gateway::{GatewayConfig, RemoteCfgState};
use serde_json::{Map, Value};

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize, ts_rs::TS)]
pub struct FleetSummary {
    pub lan_auth: Option<String>,
    /// "Ruuvi Cloud", the own server's URL, both joined with " + ", or "off".
    pub backend: String,
    /// `mqtts://host:port` or `None` (off).
    pub mqtt: Option<String>,
    /// Where it downloads its configuration from (`None`: off).
    pub remote: Option<String>,
    pub read_at_ms: i64,
    /// Settings Ruuvi Desk set that the gateway no longer has, by key.
    pub differs: Vec<String>,
}

/// The values of the settings Ruuvi Desk's changes set, as the gateway read them back.
pub type Expected = BTreeMap<String, Value>;

impl FleetSummary {
    pub fn of(config: &GatewayConfig, expected: &Expected, read_at_ms: i64) -> Self {
        let http = config.http();
        let mut backend: Vec<String> = Vec::new();
        if http.ruuvi_cloud {
            backend.push("Ruuvi Cloud".into());
        }
        if let Some(c) = &http.custom {
            backend.push(c.url.clone());
        }
        let mqtt = config.areas().mqtt;
        let remote = RemoteCfgState::read(config);
        Self {
            lan_auth: config.lan_auth_type().map(str::to_string),
            backend: if backend.is_empty() {
                "off".into()
            } else {
                backend.join(" + ")
            },
            mqtt: mqtt.use_mqtt.then(|| {
                let scheme = match mqtt.mqtt_transport.as_str() {
                    "SSL" => "mqtts",
                    "WS" => "ws",
                    "WSS" => "wss",
                    _ => "mqtt",
                };
                format!("{scheme}://{}:{}", mqtt.mqtt_server, mqtt.mqtt_port)
            }),
            remote: remote.on.then_some(remote.url),
            read_at_ms,
            differs: differences(config, expected),
        }
    }
}

/// The expected keys whose value the gateway no longer has.
pub fn differences(config: &GatewayConfig, expected: &Expected) -> Vec<String> {
    expected
        .iter()
        .filter(|(k, v)| config.raw().get(k.as_str()) != Some(v))
        .map(|(k, _)| k.clone())
        .collect()
}

/// After a change was applied: the keys `body` set (not secrets, not the keys every partial
/// POST repeats unchanged), with the values read back in `after`.
pub fn expect_from(
    expected: &mut Expected,
    body: &Map<String, Value>,
    before: &GatewayConfig,
    after: &GatewayConfig,
) {
    let repeated = before.unchanged_body();
    for (key, value) in body {
        if SECRET_KEYS.contains(&key.as_str()) || repeated.get(key) == Some(value) {
            continue;
        }
        match after.raw().get(key) {
            Some(read) => {
                expected.insert(key.clone(), read.clone());
            }
            // A key this firmware does not show cannot be checked later.
            None => {
                expected.remove(key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config(v: Value) -> GatewayConfig {
        GatewayConfig::from_json(v).unwrap()
    }

    #[test]
    fn a_setting_changed_by_hand_is_flagged_and_secrets_are_never_kept() {
        let before = config(
            json!({"use_http_ruuvi": true, "use_http": false, "company_id": 1177,
            "mqtt_data_format": "ruuvi_raw", "mqtt_prefix": "p/", "mqtt_client_id": "c", "lan_auth_type": "lan_auth_ruuvi"}),
        );
        let body = json!({"use_http": true, "http_url": "https://desk:8443/record", "http_bearer_token": "s3cret",
            "mqtt_data_format": "ruuvi_raw", "mqtt_prefix": "p/", "mqtt_client_id": "c"});
        let after = config(
            json!({"use_http_ruuvi": true, "use_http": true, "http_url": "https://desk:8443/record",
            "mqtt_data_format": "ruuvi_raw", "mqtt_prefix": "p/", "mqtt_client_id": "c", "lan_auth_type": "lan_auth_ruuvi"}),
        );
        let mut expected = Expected::new();
        expect_from(&mut expected, body.as_object().unwrap(), &before, &after);
        assert_eq!(
            expected.keys().collect::<Vec<_>>(),
            ["http_url", "use_http"]
        );
        let summary = FleetSummary::of(&after, &expected, 1);
        assert_eq!(summary.backend, "Ruuvi Cloud + https://desk:8443/record");
        assert!(summary.differs.is_empty());
        assert_eq!(summary.lan_auth.as_deref(), Some("lan_auth_ruuvi"));
        // Someone points it elsewhere in its web page.
        let by_hand = config(
            json!({"use_http_ruuvi": false, "use_http": true, "http_url": "https://other/x"}),
        );
        assert_eq!(
            FleetSummary::of(&by_hand, &expected, 2).differs,
            ["http_url"]
        );
        assert!(!serde_json::to_string(&expected).unwrap().contains("s3cret"));
    }
}
