//! `<data dir>/app.json`: the app's settings that live with its data, not with the window (no
//! secrets): whether the receiver and Bluetooth run, and how long history is kept.

use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, ts_rs::TS)]
#[serde(default)]
pub struct AppSettings {
    /// The receiver runs at start (turned on by "Send data to this computer" or the Receiver
    /// page).
    pub receiver_enabled: bool,
    /// Scan for sensors with this computer's Bluetooth.
    pub bluetooth: bool,
    /// Delete observations older than this many days (`None`: keep everything).
    pub keep_days: Option<u32>,
    /// Keep one observation per sensor per this many minutes for history older than a day
    /// (`None`: full resolution).
    pub resolution_minutes: Option<u32>,
    /// POST every alert here as the seed's push payload (`None`: no webhook). Read at start.
    pub alert_webhook: Option<String>,
    /// Where observations are kept: `None` the SQLite file in the data directory, or
    /// `postgres://user@host:port/database` (its password in the keychain). Read at start.
    pub store: Option<String>,
    /// Read gateways' MQTT messages from a broker.
    pub mqtt_feed: Option<MqttFeedSettings>,
    /// Republish every stored observation to a broker.
    pub mqtt_sink: Option<MqttSinkSettings>,
    /// Gateways read through their `/history`, without changing their configuration.
    pub polls: Vec<PolledGateway>,
    /// Where the Internal API (whitelist, gwinfo, sensors, plans) listens, e.g.
    /// `127.0.0.1:8444` (`None`: off). Its secrets are in the keychain. Read at start.
    pub internal_api: Option<String>,
    /// The demo was chosen on the first-run guide (`Some(true)`), switched off (`Some(false)`),
    /// or not chosen yet.
    pub demo: Option<bool>,
}

/// A gateway whose `/history` is polled (read-only: its settings are never touched).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, ts_rs::TS)]
pub struct PolledGateway {
    /// `host` or `host:port`.
    pub endpoint: String,
    /// Seconds between polls ([`PolledGateway::INTERVALS`]).
    pub interval_s: u32,
    /// `None`: the gateway's read-only API key from the keychain (`gateway-api-key/<endpoint>`),
    /// or no login when there is none (`lan_auth_allow`). A user: the password is
    /// `gateway-password/<endpoint>`.
    #[serde(default)]
    pub user: Option<String>,
}

impl PolledGateway {
    /// The firmware's HTTP server answers one request at a time and every `/history` counts
    /// as a poll of its watchdog: not more often than every 2 s (our choice; the firmware
    /// sets no limit). It keeps only the latest advertisement of each tag, so polls further
    /// apart than an hour would show little more than a snapshot.
    pub const INTERVALS: std::ops::RangeInclusive<u32> = 2..=3600;
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, ts_rs::TS)]
pub struct MqttFeedSettings {
    /// `mqtt://host:port`, `mqtts://…`, `ws://…` or `wss://…`.
    pub broker: String,
    /// A topic filter: the gateways' prefix followed by `#`.
    pub topic: String,
    /// Its password is in the keychain (`mqtt-password/host:port:user`).
    pub user: Option<String>,
    /// Ruuvi Desk's certificates: trust our CA for the broker and present our own client
    /// certificate (a broker set up with Ruuvi Desk's CA).
    #[serde(default)]
    pub our_certificates: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, ts_rs::TS)]
pub struct MqttSinkSettings {
    pub broker: String,
    /// `<prefix>/<sensor>` and `<prefix>/status`.
    pub prefix: String,
    /// Publish Home Assistant discovery messages (prefix `homeassistant`).
    pub home_assistant: bool,
    pub user: Option<String>,
    /// As for the feed.
    #[serde(default)]
    pub our_certificates: bool,
}

impl Default for AppSettings {
    fn default() -> Self {
        Self {
            receiver_enabled: false,
            bluetooth: true,
            keep_days: None,
            resolution_minutes: None,
            alert_webhook: None,
            store: None,
            mqtt_feed: None,
            mqtt_sink: None,
            polls: Vec::new(),
            internal_api: None,
            demo: None,
        }
    }
}

impl AppSettings {
    pub fn path(data_dir: &Path) -> PathBuf {
        data_dir.join("app.json")
    }

    /// The saved settings; defaults when there are none or the file cannot be read.
    pub fn load(data_dir: &Path) -> Self {
        let path = Self::path(data_dir);
        match std::fs::read(&path) {
            Ok(bytes) => Self::parse(&bytes).unwrap_or_else(|e| {
                tracing::warn!("{}: {e}; using the defaults", path.display());
                Self::default()
            }),
            Err(_) => Self::default(),
        }
    }

    /// The contents of an `app.json` (missing keys get their defaults).
    pub fn parse(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(bytes)
    }

    pub fn save(&self, data_dir: &Path) -> Result<(), String> {
        let path = Self::path(data_dir);
        let temporary = path.with_extension("json.new");
        std::fs::write(
            &temporary,
            serde_json::to_vec_pretty(self).expect("plain data"),
        )
        .and_then(|()| std::fs::rename(&temporary, &path))
        .map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Checks what a person typed.
    pub fn validate(&self) -> Result<(), String> {
        if self.keep_days == Some(0) {
            return Err("keep history for at least 1 day".into());
        }
        if self
            .resolution_minutes
            .is_some_and(|m| !(1..=1440).contains(&m))
        {
            return Err("the resolution is 1 to 1440 minutes".into());
        }
        if let Some(addr) = &self.internal_api {
            addr.parse::<std::net::SocketAddr>().map_err(|_| {
                format!("the Internal API listens on an address and port, e.g. 127.0.0.1:8444, not {addr:?}")
            })?;
        }
        if let Some(url) = &self.alert_webhook {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err("the alert webhook is an http:// or https:// URL".into());
            }
        }
        if let Some(store) = &self.store {
            match ruuvi_store::StoreLocation::parse(store).map_err(|e| e.to_string())? {
                ruuvi_store::StoreLocation::Postgres(target) if target.has_password() => {
                    return Err(
                        "no password in the database URL: it goes in the password field (the keychain)"
                            .into(),
                    )
                }
                ruuvi_store::StoreLocation::Postgres(_) => {}
                ruuvi_store::StoreLocation::Sqlite(_) => {
                    return Err("the database is a postgres:// URL (or none for this computer's)".into())
                }
            }
        }
        let brokers = [
            self.mqtt_feed.as_ref().map(|f| (&f.broker, "MQTT feed")),
            self.mqtt_sink.as_ref().map(|s| (&s.broker, "MQTT sink")),
        ];
        for (url, what) in brokers.into_iter().flatten() {
            ruuvi_mqtt::Broker::parse_url(url, "").map_err(|e| format!("{what}: {e}"))?;
        }
        if let Some(feed) = &self.mqtt_feed {
            if feed.topic.trim().is_empty() {
                return Err("MQTT feed: a topic filter such as ruuvi/#".into());
            }
        }
        for poll in &self.polls {
            if !PolledGateway::INTERVALS.contains(&poll.interval_s) {
                return Err(format!(
                    "{}: poll every {} to {} seconds",
                    poll.endpoint,
                    PolledGateway::INTERVALS.start(),
                    PolledGateway::INTERVALS.end()
                ));
            }
        }
        if let Some(sink) = &self.mqtt_sink {
            if sink.prefix.trim().is_empty() || sink.prefix.contains(['#', '+']) {
                return Err("MQTT sink: a topic prefix without wildcards, e.g. ruuvi_desk".into());
            }
        }
        Ok(())
    }

    pub fn retention(&self) -> ruuvi_store::Retention {
        ruuvi_store::Retention::from_plan(self.keep_days, self.resolution_minutes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_round_trip_and_old_files_get_defaults() {
        let dir = std::env::temp_dir().join(format!("ruuvi-desk-settings-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        assert_eq!(AppSettings::load(&dir), AppSettings::default());
        // A file from an earlier version: only the receiver flag.
        std::fs::write(AppSettings::path(&dir), br#"{"receiver_enabled": true}"#).unwrap();
        let old = AppSettings::load(&dir);
        assert!(old.receiver_enabled && old.bluetooth);
        let s = AppSettings {
            keep_days: Some(30),
            resolution_minutes: Some(15),
            bluetooth: false,
            ..old
        };
        s.validate().unwrap();
        s.save(&dir).unwrap();
        assert_eq!(AppSettings::load(&dir), s);
        let bad = AppSettings {
            resolution_minutes: Some(0),
            ..s.clone()
        };
        assert!(bad.validate().unwrap_err().contains("1 to 1440"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
