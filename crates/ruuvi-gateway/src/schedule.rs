//! The gateway's own firmware updates and where it reports statistics (gateway-local-api §6.1
//! `auto_update_*`, `fw_update_url`, `use_http_stat`/`http_stat_*`, §5.12, §7.4). Pushed like
//! the backends ([`crate::push::push_profile`]).

use ruuvi_secrets::Sensitive;
use serde_json::{Map, Value};

use crate::config::{ClientIdentity, GatewayConfig};
use crate::push::BackendProfile;
use crate::{FirmwareVersion, GatewayError};

fn bad(message: impl Into<String>) -> GatewayError {
    GatewayError::BadInput(message.into())
}

/// Which releases the gateway installs by itself, and when.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, ts_rs::TS)]
pub struct AutoUpdateProfile {
    /// `regular` (releases), `beta` (betas too) or `manual` (never by itself).
    pub cycle: String,
    /// Bit 0 = Sunday … bit 6 = Saturday.
    pub weekdays: u8,
    /// Hours of the day it may update in, `from` to `to` (0–24), in its time zone.
    pub from_hour: u8,
    pub to_hour: u8,
    pub tz_offset_hours: i8,
}

const CYCLES: [&str; 3] = ["regular", "beta", "manual"];

impl AutoUpdateProfile {
    /// As a configuration shows it (the firmware's defaults where a key is missing).
    pub fn read(config: &GatewayConfig) -> Self {
        let small = |key: &str, default: u64| config.u64(key).unwrap_or(default);
        Self {
            cycle: config
                .str("auto_update_cycle")
                .filter(|c| CYCLES.contains(c))
                .unwrap_or("regular")
                .to_string(),
            weekdays: small("auto_update_weekdays_bitmask", 127) as u8,
            from_hour: small("auto_update_interval_from", 0) as u8,
            to_hour: small("auto_update_interval_to", 24) as u8,
            tz_offset_hours: config
                .raw()
                .get("auto_update_tz_offset_hours")
                .and_then(Value::as_i64)
                .unwrap_or(3) as i8,
        }
    }

    fn check(&self) -> Result<(), GatewayError> {
        if !CYCLES.contains(&self.cycle.as_str()) {
            return Err(bad(format!(
                "cycle {:?}: regular, beta or manual",
                self.cycle
            )));
        }
        if self.cycle != "manual" && self.weekdays & 0x7f == 0 {
            return Err(bad("choose at least one weekday"));
        }
        if self.weekdays > 0x7f {
            return Err(bad("weekdays: seven bits, Sunday first"));
        }
        if self.to_hour > 24 || self.from_hour >= self.to_hour {
            return Err(bad("hours: from 0–23 to a later hour, at most 24"));
        }
        if !(-12..=14).contains(&self.tz_offset_hours) {
            return Err(bad("time zone: −12 to +14 hours"));
        }
        Ok(())
    }

    fn onto(&self, body: &mut Map<String, Value>) {
        body.insert("auto_update_cycle".into(), self.cycle.clone().into());
        body.insert("auto_update_weekdays_bitmask".into(), self.weekdays.into());
        body.insert("auto_update_interval_from".into(), self.from_hour.into());
        body.insert("auto_update_interval_to".into(), self.to_hour.into());
        body.insert(
            "auto_update_tz_offset_hours".into(),
            self.tz_offset_hours.into(),
        );
    }
}

impl BackendProfile for AutoUpdateProfile {
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
        self.onto(&mut body);
        body
    }

    fn differences(
        &self,
        _firmware: Option<FirmwareVersion>,
        after: &GatewayConfig,
    ) -> Vec<String> {
        let got = AutoUpdateProfile::read(after);
        if &got == self {
            Vec::new()
        } else {
            vec![format!("automatic updates are {got:?}, not {self:?}")]
        }
    }

    fn restore_body(&self, before: &GatewayConfig) -> Map<String, Value> {
        let mut body = before.unchanged_body();
        AutoUpdateProfile::read(before).onto(&mut body);
        body
    }

    fn secret_keys(&self) -> &'static [&'static str] {
        &[]
    }
}

/// Where the gateway sends its hourly statistics (Ruuvi's by default).
#[derive(Debug, Clone)]
pub struct StatisticsProfile {
    /// `None`: no statistics.
    pub target: Option<StatisticsTarget>,
}

#[derive(Debug, Clone)]
pub struct StatisticsTarget {
    pub url: String,
    /// Basic auth when not empty.
    pub user: String,
    /// `None`: keep the password the gateway has.
    pub password: Option<Sensitive<String>>,
    pub server_ca_pem: Option<String>,
    pub client_identity: Option<ClientIdentity>,
}

/// What a configuration shows of the statistics target.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
pub struct StatisticsState {
    pub on: bool,
    pub url: String,
    pub user: String,
    pub server_cert: bool,
    pub client_cert: bool,
}

impl StatisticsState {
    pub fn read(config: &GatewayConfig) -> Self {
        Self {
            on: config.bool("use_http_stat").unwrap_or(true),
            url: config.str("http_stat_url").unwrap_or_default().to_string(),
            user: config.str("http_stat_user").unwrap_or_default().to_string(),
            server_cert: config
                .bool("http_stat_use_ssl_server_cert")
                .unwrap_or(false),
            client_cert: config
                .bool("http_stat_use_ssl_client_cert")
                .unwrap_or(false),
        }
    }
}

impl BackendProfile for StatisticsProfile {
    fn validate(
        &self,
        firmware: Option<FirmwareVersion>,
        current: Option<&GatewayConfig>,
    ) -> Result<(), GatewayError> {
        let Some(t) = &self.target else {
            return Ok(());
        };
        let url = url::Url::parse(&t.url).map_err(|e| bad(format!("URL {:?}: {e}", t.url)))?;
        if !matches!(url.scheme(), "http" | "https") || t.url.len() > 255 {
            return Err(bad(
                "the URL must be http:// or https://, at most 255 characters",
            ));
        }
        if t.user.len() > 50 || t.password.as_ref().is_some_and(|p| p.expose().len() > 50) {
            return Err(bad(
                "user and password: the gateway keeps at most 50 characters",
            ));
        }
        let files = t.server_ca_pem.is_some() || t.client_identity.is_some();
        if files {
            if url.scheme() != "https" {
                return Err(bad("certificates need an https:// URL"));
            }
            if firmware.is_some_and(|f| !f.has_http_backend_settings()) {
                return Err(GatewayError::Unsupported(
                    "certificates need firmware v1.14 or newer".into(),
                ));
            }
            if current.is_some_and(|c| !c.storage().ready) {
                return Err(bad("the gateway's certificate storage is not initialised: prepare it in its web page first"));
            }
        }
        if let Some(ca) = &t.server_ca_pem {
            ruuvi_pki::inspect_all(ca).map_err(|e| bad(format!("server CA: {e}")))?;
        }
        Ok(())
    }

    fn uploads(&self) -> Vec<(&'static str, Sensitive<String>)> {
        let mut out = Vec::new();
        if let Some(t) = &self.target {
            if let Some(ca) = &t.server_ca_pem {
                out.push(("stat_srv_cert", Sensitive::new(ca.clone())));
            }
            if let Some(id) = &t.client_identity {
                out.push(("stat_cli_cert", Sensitive::new(id.cert_pem.clone())));
                out.push(("stat_cli_key", id.key_pem.clone()));
            }
        }
        out
    }

    fn post_body(&self, current: &GatewayConfig) -> Map<String, Value> {
        let mut body = current.unchanged_body();
        body.insert("use_http_stat".into(), self.target.is_some().into());
        if let Some(t) = &self.target {
            body.insert("http_stat_url".into(), t.url.clone().into());
            body.insert("http_stat_user".into(), t.user.clone().into());
            if let Some(p) = &t.password {
                body.insert("http_stat_pass".into(), p.expose().clone().into());
            }
            body.insert(
                "http_stat_use_ssl_server_cert".into(),
                t.server_ca_pem.is_some().into(),
            );
            body.insert(
                "http_stat_use_ssl_client_cert".into(),
                t.client_identity.is_some().into(),
            );
        }
        body
    }

    fn differences(
        &self,
        _firmware: Option<FirmwareVersion>,
        after: &GatewayConfig,
    ) -> Vec<String> {
        let got = StatisticsState::read(after);
        let want = match &self.target {
            None => {
                return if got.on {
                    vec!["statistics are still on".into()]
                } else {
                    Vec::new()
                }
            }
            Some(t) => StatisticsState {
                on: true,
                url: t.url.clone(),
                user: t.user.clone(),
                server_cert: t.server_ca_pem.is_some(),
                client_cert: t.client_identity.is_some(),
            },
        };
        if got == want {
            Vec::new()
        } else {
            vec![format!("statistics are {got:?}, not {want:?}")]
        }
    }

    fn restore_body(&self, before: &GatewayConfig) -> Map<String, Value> {
        let mut body = before.unchanged_body();
        for key in [
            "use_http_stat",
            "http_stat_url",
            "http_stat_user",
            "http_stat_use_ssl_client_cert",
            "http_stat_use_ssl_server_cert",
        ] {
            if let Some(v) = before.raw().get(key) {
                body.insert(key.into(), v.clone());
            }
        }
        body
    }

    fn secret_keys(&self) -> &'static [&'static str] {
        &["http_stat_pass"]
    }
}

impl crate::client::GatewayClient {
    /// `POST /fw_update_url.json` (v1.15+): where the gateway looks for releases.
    pub async fn set_update_url(&mut self, url: &str) -> Result<(), GatewayError> {
        let parsed = url::Url::parse(url).map_err(|e| bad(format!("URL {url:?}: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(bad("the update server's URL must be http:// or https://"));
        }
        if self
            .firmware()
            .is_some_and(|f| f < FirmwareVersion::new(1, 15, 0))
        {
            return Err(GatewayError::Unsupported(
                "this firmware has a fixed update server (v1.15+ can change it)".into(),
            ));
        }
        let body = serde_json::json!({ "url": url }).to_string();
        let response = self
            .request(
                crate::http::Request::new(crate::http::Method::Post, "/fw_update_url.json")
                    .body(body.into_bytes()),
            )
            .await?;
        crate::client::expect_ok(&response, "/fw_update_url.json")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The spec's §6.1 defaults.
    fn defaults() -> GatewayConfig {
        GatewayConfig::from_json(json!({
            "auto_update_cycle": "regular", "auto_update_weekdays_bitmask": 127,
            "auto_update_interval_from": 0, "auto_update_interval_to": 24,
            "auto_update_tz_offset_hours": 3,
            "use_http_stat": true, "http_stat_url": "https://network.ruuvi.com/status",
            "http_stat_user": "", "http_stat_use_ssl_client_cert": false,
            "http_stat_use_ssl_server_cert": false,
            "mqtt_data_format": "ruuvi_raw", "mqtt_prefix": "ruuvi/x/", "mqtt_client_id": "x"
        }))
        .unwrap()
    }

    #[test]
    fn the_schedule_reads_the_defaults_and_is_checked() {
        let read = AutoUpdateProfile::read(&defaults());
        assert_eq!(
            read,
            AutoUpdateProfile {
                cycle: "regular".into(),
                weekdays: 127,
                from_hour: 0,
                to_hour: 24,
                tz_offset_hours: 3
            }
        );
        let nights = AutoUpdateProfile {
            cycle: "beta".into(),
            weekdays: 0b100_0001,
            from_hour: 1,
            to_hour: 5,
            tz_offset_hours: -5,
        };
        nights.validate(None, None).unwrap();
        let body = nights.post_body(&defaults());
        assert_eq!(body["auto_update_weekdays_bitmask"], 65);
        assert_eq!(body["auto_update_tz_offset_hours"], -5);
        assert_eq!(body["mqtt_prefix"], "ruuvi/x/");
        assert_eq!(nights.differences(None, &defaults()).len(), 1);
        for bad in [
            AutoUpdateProfile {
                weekdays: 0,
                ..nights.clone()
            },
            AutoUpdateProfile {
                from_hour: 5,
                ..nights.clone()
            },
            AutoUpdateProfile {
                to_hour: 25,
                ..nights.clone()
            },
            AutoUpdateProfile {
                cycle: "nightly".into(),
                ..nights.clone()
            },
            AutoUpdateProfile {
                tz_offset_hours: 15,
                ..nights.clone()
            },
        ] {
            assert!(bad.validate(None, None).is_err(), "{bad:?}");
        }
        // Manual needs no weekday.
        AutoUpdateProfile {
            cycle: "manual".into(),
            weekdays: 0,
            ..nights
        }
        .validate(None, None)
        .unwrap();
    }

    #[test]
    fn statistics_go_to_our_server_with_basic_auth_or_nowhere() {
        let ours = StatisticsProfile {
            target: Some(StatisticsTarget {
                url: "https://desk.lan:8443/status".into(),
                user: "stats".into(),
                password: Some(Sensitive::new("pw".into())),
                server_ca_pem: None,
                client_identity: None,
            }),
        };
        ours.validate(None, Some(&defaults())).unwrap();
        let body = ours.post_body(&defaults());
        assert_eq!(body["use_http_stat"], true);
        assert_eq!(body["http_stat_pass"], "pw");
        assert_eq!(ours.differences(None, &defaults()).len(), 1);
        let off = StatisticsProfile { target: None };
        assert_eq!(off.post_body(&defaults())["use_http_stat"], false);
        assert!(!off.post_body(&defaults()).contains_key("http_stat_url"));
        assert_eq!(
            StatisticsState::read(&defaults()).url,
            "https://network.ruuvi.com/status"
        );
        let plain_with_ca = StatisticsProfile {
            target: Some(StatisticsTarget {
                url: "http://desk.lan/status".into(),
                server_ca_pem: Some("x".into()),
                ..ours.target.clone().unwrap()
            }),
        };
        assert!(plain_with_ca.validate(None, None).is_err());
    }
}
