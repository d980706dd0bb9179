//! Remote configuration (gateway-local-api §5.13 `check_remote_cfg`, §5.15 `/gw_cfg_download`,
//! §6.1 `remote_cfg_*`): the gateway downloads `<url>/<MAC without colons>.json` (then
//! `<url>/gw_cfg.json`) with its own auth and certificates (`rcfg_*` files), at start and
//! every `remote_cfg_refresh_interval_minutes`, and applies it like a POST of `/ruuvi.json`.
//!
//! [`RemoteCfgProfile`] sets that on a gateway (pushed like the backends); [`document`] builds
//! the file a server hands out, so that downloading it does not undo what it does not mention.

use ruuvi_secrets::Sensitive;
use serde_json::{Map, Value};

use crate::config::{ClientIdentity, GatewayConfig};
use crate::push::BackendProfile;
use crate::{FirmwareVersion, GatewayError};

/// How the gateway authenticates its download (the parser takes only these three).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemoteAuth {
    None,
    Basic {
        user: String,
        /// `None`: keep the password the gateway has.
        password: Option<Sensitive<String>>,
    },
    /// `None`: keep the token the gateway has.
    Bearer(Option<Sensitive<String>>),
}

impl RemoteAuth {
    pub fn kind(&self) -> &'static str {
        match self {
            RemoteAuth::None => "none",
            RemoteAuth::Basic { .. } => "basic",
            RemoteAuth::Bearer(_) => "bearer",
        }
    }
}

/// Where the gateway downloads its configuration from.
#[derive(Debug, Clone)]
pub struct RemoteSource {
    /// A base URL (the gateway appends `/<MAC>.json`, then `/gw_cfg.json`) or a `.json` URL.
    pub url: String,
    pub auth: RemoteAuth,
    /// Trust only this CA (uploaded as `rcfg_srv_cert`).
    pub server_ca_pem: Option<String>,
    /// Uploaded as `rcfg_cli_cert` / `rcfg_cli_key`.
    pub client_identity: Option<ClientIdentity>,
    /// 0: only at start and when asked (`/gw_cfg_download`).
    pub refresh_minutes: u16,
}

/// Remote configuration as Ruuvi Desk sets it on a gateway: on with a source, or off.
#[derive(Debug, Clone)]
pub struct RemoteCfgProfile {
    pub source: Option<RemoteSource>,
}

/// What a configuration shows of it (secrets are never shown).
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, ts_rs::TS)]
pub struct RemoteCfgState {
    pub on: bool,
    pub url: String,
    /// none, basic or bearer.
    pub auth: String,
    pub user: String,
    pub refresh_minutes: u16,
    pub server_cert: bool,
    pub client_cert: bool,
}

impl RemoteCfgState {
    /// The non-secret keys (what a downloaded document repeats to stay switched on: absent
    /// secrets are kept and the same auth type does not wipe them, §6.3).
    pub fn keys_onto(&self, body: &mut Map<String, Value>) {
        body.insert("remote_cfg_use".into(), self.on.into());
        body.insert("remote_cfg_url".into(), self.url.clone().into());
        body.insert("remote_cfg_auth_type".into(), self.auth.clone().into());
        if self.auth == "basic" {
            body.insert(
                "remote_cfg_auth_basic_user".into(),
                self.user.clone().into(),
            );
        }
        body.insert(
            "remote_cfg_use_ssl_server_cert".into(),
            self.server_cert.into(),
        );
        body.insert(
            "remote_cfg_use_ssl_client_cert".into(),
            self.client_cert.into(),
        );
        body.insert(
            "remote_cfg_refresh_interval_minutes".into(),
            self.refresh_minutes.into(),
        );
    }

    pub fn read(config: &GatewayConfig) -> Self {
        Self {
            on: config.bool("remote_cfg_use").unwrap_or(false),
            url: config.str("remote_cfg_url").unwrap_or_default().to_string(),
            auth: match config.str("remote_cfg_auth_type") {
                Some("basic") => "basic",
                Some("bearer") => "bearer",
                _ => "none",
            }
            .to_string(),
            user: config
                .str("remote_cfg_auth_basic_user")
                .unwrap_or_default()
                .to_string(),
            refresh_minutes: config
                .u64("remote_cfg_refresh_interval_minutes")
                .and_then(|m| u16::try_from(m).ok())
                .unwrap_or(0),
            server_cert: config
                .bool("remote_cfg_use_ssl_server_cert")
                .unwrap_or(false),
            client_cert: config
                .bool("remote_cfg_use_ssl_client_cert")
                .unwrap_or(false),
        }
    }
}

const NON_SECRET_KEYS: [&str; 7] = [
    "remote_cfg_use",
    "remote_cfg_url",
    "remote_cfg_auth_type",
    "remote_cfg_auth_basic_user",
    "remote_cfg_use_ssl_client_cert",
    "remote_cfg_use_ssl_server_cert",
    "remote_cfg_refresh_interval_minutes",
];

fn bad(message: impl Into<String>) -> GatewayError {
    GatewayError::BadInput(message.into())
}

impl RemoteSource {
    fn check(&self) -> Result<(), GatewayError> {
        let url =
            url::Url::parse(&self.url).map_err(|e| bad(format!("URL {:?}: {e}", self.url)))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(bad("the URL must start with http:// or https://"));
        }
        if self.url.len() > 255 {
            return Err(bad("URL: the gateway keeps at most 255 characters"));
        }
        if (self.server_ca_pem.is_some() || self.client_identity.is_some())
            && url.scheme() != "https"
        {
            return Err(bad("certificates need an https:// URL"));
        }
        match &self.auth {
            RemoteAuth::Basic { user, password } => {
                if user.is_empty() || user.len() > 50 {
                    return Err(bad("user: 1 to 50 characters"));
                }
                if password.as_ref().is_some_and(|p| p.expose().len() > 50) {
                    return Err(bad("password: the gateway keeps at most 50 characters"));
                }
            }
            RemoteAuth::Bearer(Some(t)) if t.expose().is_empty() || t.expose().len() > 255 => {
                return Err(bad("token: 1 to 255 characters"));
            }
            _ => {}
        }
        if let Some(ca) = &self.server_ca_pem {
            ruuvi_pki::inspect_all(ca).map_err(|e| bad(format!("server CA: {e}")))?;
        }
        Ok(())
    }

    /// What the gateway shows once this source is set.
    pub fn state(&self) -> RemoteCfgState {
        RemoteCfgState {
            on: true,
            url: self.url.clone(),
            auth: self.auth.kind().to_string(),
            user: match &self.auth {
                RemoteAuth::Basic { user, .. } => user.clone(),
                _ => String::new(),
            },
            refresh_minutes: self.refresh_minutes,
            server_cert: self.server_ca_pem.is_some(),
            client_cert: self.client_identity.is_some(),
        }
    }
}

impl BackendProfile for RemoteCfgProfile {
    fn validate(
        &self,
        firmware: Option<FirmwareVersion>,
        current: Option<&GatewayConfig>,
    ) -> Result<(), GatewayError> {
        let Some(source) = &self.source else {
            return Ok(());
        };
        source.check()?;
        let files = source.server_ca_pem.is_some() || source.client_identity.is_some();
        if let Some(fw) = firmware {
            if files && !fw.has_http_backend_settings() {
                return Err(GatewayError::Unsupported(format!(
                    "firmware {fw} has no certificate store (v1.14+): use plain trust or update the gateway"
                )));
            }
        }
        if files && current.is_some_and(|c| !c.storage().ready) {
            return Err(bad(
                "the gateway's certificate storage is not initialised: prepare it in its web page first",
            ));
        }
        let keeps_secret = matches!(
            source.auth,
            RemoteAuth::Basic { password: None, .. } | RemoteAuth::Bearer(None)
        );
        let same_type = current.is_some_and(|c| RemoteCfgState::read(c).auth == source.auth.kind());
        if keeps_secret && !same_type {
            // Changing the type wipes the stored credentials (§6.3): there is none to keep.
            return Err(bad(format!(
                "{} auth needs its secret: the gateway has none for remote configuration",
                source.auth.kind()
            )));
        }
        Ok(())
    }

    fn uploads(&self) -> Vec<(&'static str, Sensitive<String>)> {
        let mut out = Vec::new();
        if let Some(s) = &self.source {
            if let Some(ca) = &s.server_ca_pem {
                out.push(("rcfg_srv_cert", Sensitive::new(ca.clone())));
            }
            if let Some(id) = &s.client_identity {
                out.push(("rcfg_cli_cert", Sensitive::new(id.cert_pem.clone())));
                out.push(("rcfg_cli_key", id.key_pem.clone()));
            }
        }
        out
    }

    fn post_body(&self, current: &GatewayConfig) -> Map<String, Value> {
        let mut body = current.unchanged_body();
        match &self.source {
            None => {
                body.insert("remote_cfg_use".into(), false.into());
            }
            Some(s) => {
                s.state().keys_onto(&mut body);
                match &s.auth {
                    RemoteAuth::Basic {
                        password: Some(p), ..
                    } => {
                        body.insert(
                            "remote_cfg_auth_basic_pass".into(),
                            p.expose().clone().into(),
                        );
                    }
                    RemoteAuth::Bearer(Some(t)) => {
                        body.insert(
                            "remote_cfg_auth_bearer_token".into(),
                            t.expose().clone().into(),
                        );
                    }
                    _ => {}
                }
            }
        }
        body
    }

    fn differences(
        &self,
        _firmware: Option<FirmwareVersion>,
        after: &GatewayConfig,
    ) -> Vec<String> {
        let got = RemoteCfgState::read(after);
        let want = match &self.source {
            None => {
                return if got.on {
                    vec!["remote configuration is still on".into()]
                } else {
                    Vec::new()
                }
            }
            Some(s) => s.state(),
        };
        let mut out = Vec::new();
        for (what, have, meant) in [
            ("on", got.on.to_string(), want.on.to_string()),
            ("URL", got.url.clone(), want.url.clone()),
            ("auth", got.auth.clone(), want.auth.clone()),
            (
                "refresh interval",
                got.refresh_minutes.to_string(),
                want.refresh_minutes.to_string(),
            ),
            (
                "server certificate",
                got.server_cert.to_string(),
                want.server_cert.to_string(),
            ),
            (
                "client certificate",
                got.client_cert.to_string(),
                want.client_cert.to_string(),
            ),
        ] {
            if have != meant {
                out.push(format!(
                    "remote configuration {what} is {have:?}, not {meant:?}"
                ));
            }
        }
        out
    }

    fn restore_body(&self, before: &GatewayConfig) -> Map<String, Value> {
        let mut body = before.unchanged_body();
        for key in NON_SECRET_KEYS {
            if let Some(v) = before.raw().get(key) {
                body.insert(key.into(), v.clone());
            }
        }
        body
    }

    fn secret_keys(&self) -> &'static [&'static str] {
        &["remote_cfg_auth_basic_pass", "remote_cfg_auth_bearer_token"]
    }
}

/// The file a configuration server hands to the gateway whose configuration is `current`:
/// each area's body (with the keys a partial POST must repeat, §6.3 — a downloaded file is
/// parsed like a POST) and the remote source as the gateway has it, or the download would
/// switch itself off. Certificates cannot travel in it: an area that needs files the gateway
/// does not have yet is refused.
pub fn document(
    areas: &[&(dyn BackendProfile + Sync)],
    current: &GatewayConfig,
) -> Result<Map<String, Value>, GatewayError> {
    let source = RemoteCfgState::read(current);
    if !source.on {
        return Err(bad(
            "remote configuration is off on this gateway: turn it on first",
        ));
    }
    let storage = current.storage();
    let mut doc = current.unchanged_body();
    for area in areas {
        area.validate(None, Some(current))?;
        if let Some((missing, _)) = area.uploads().into_iter().find(|(f, _)| !storage.has(f)) {
            return Err(bad(format!(
                "{missing} is not on the gateway and files cannot travel in a remote configuration: apply this area directly once"
            )));
        }
        doc.extend(area.post_body(current));
    }
    // The source's secrets stay what the gateway has (absent: unchanged).
    for key in ["remote_cfg_auth_basic_pass", "remote_cfg_auth_bearer_token"] {
        doc.remove(key);
    }
    source.keys_onto(&mut doc);
    Ok(doc)
}

/// The keys whose values are secrets (§6.1: never shown on GET).
pub const SECRET_KEYS: [&str; 10] = [
    "http_pass",
    "http_bearer_token",
    "http_api_key",
    "http_stat_pass",
    "mqtt_pass",
    "remote_cfg_auth_basic_pass",
    "remote_cfg_auth_bearer_token",
    "lan_auth_pass",
    "lan_auth_api_key",
    "lan_auth_api_key_rw",
];

/// Whether a downloaded document is one the gateway takes (`remote_cfg_use: true`, §5.13).
pub fn acceptable(doc: &Map<String, Value>) -> bool {
    doc.get("remote_cfg_use") == Some(&Value::Bool(true))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::{ScanProfile, TagFilter};
    use serde_json::json;

    /// The spec's §6.1 example keys that matter here (firmware HEAD).
    fn spec_config() -> GatewayConfig {
        GatewayConfig::from_json(json!({
            "fw_ver": "v1.17.3", "gw_mac": "C8:25:2D:8E:9C:2C",
            "storage": {"storage_ready": true},
            "remote_cfg_use": false, "remote_cfg_url": "", "remote_cfg_auth_type": "none",
            "remote_cfg_use_ssl_client_cert": false, "remote_cfg_use_ssl_server_cert": false,
            "remote_cfg_refresh_interval_minutes": 0,
            "mqtt_data_format": "ruuvi_raw", "mqtt_prefix": "ruuvi/C8:25:2D:8E:9C:2C/",
            "mqtt_client_id": "C8:25:2D:8E:9C:2C",
            "company_use_filtering": true, "company_id": 1177, "scan_default": true,
            "scan_filter_allow_listed": false, "scan_filter_list": []
        }))
        .unwrap()
    }

    fn source(auth: RemoteAuth) -> RemoteSource {
        RemoteSource {
            url: "https://192.168.1.20:8443/gw-cfg/".into(),
            auth,
            server_ca_pem: None,
            client_identity: None,
            refresh_minutes: 10,
        }
    }

    #[test]
    fn turning_on_sends_the_source_and_the_token_and_keeps_the_mqtt_keys() {
        let profile = RemoteCfgProfile {
            source: Some(source(RemoteAuth::Bearer(Some(Sensitive::new(
                "t0k".into(),
            ))))),
        };
        let current = spec_config();
        profile.validate(None, Some(&current)).unwrap();
        let body = profile.post_body(&current);
        assert_eq!(body["remote_cfg_use"], true);
        assert_eq!(body["remote_cfg_url"], "https://192.168.1.20:8443/gw-cfg/");
        assert_eq!(body["remote_cfg_auth_type"], "bearer");
        assert_eq!(body["remote_cfg_auth_bearer_token"], "t0k");
        assert_eq!(body["remote_cfg_refresh_interval_minutes"], 10);
        // The partial-POST reset quirk (§6.3).
        assert_eq!(body["mqtt_data_format"], "ruuvi_raw");
        assert_eq!(body["mqtt_prefix"], "ruuvi/C8:25:2D:8E:9C:2C/");
    }

    #[test]
    fn keeping_a_secret_needs_the_same_type_on_the_gateway() {
        let keep = RemoteCfgProfile {
            source: Some(source(RemoteAuth::Bearer(None))),
        };
        // The gateway has none: changing the type wipes credentials.
        assert!(keep.validate(None, Some(&spec_config())).is_err());
        let mut on = spec_config().raw().clone();
        on.insert("remote_cfg_auth_type".into(), "bearer".into());
        let on = GatewayConfig::from_json(Value::Object(on)).unwrap();
        keep.validate(None, Some(&on)).unwrap();
        assert!(!keep
            .post_body(&on)
            .contains_key("remote_cfg_auth_bearer_token"));
    }

    #[test]
    fn bad_sources_are_refused_with_a_reason() {
        for (s, why) in [
            (
                RemoteSource {
                    url: "ftp://x/".into(),
                    ..source(RemoteAuth::None)
                },
                "http",
            ),
            (
                RemoteSource {
                    url: "not a url".into(),
                    ..source(RemoteAuth::None)
                },
                "URL",
            ),
            (
                source(RemoteAuth::Basic {
                    user: String::new(),
                    password: None,
                }),
                "user",
            ),
            (
                RemoteSource {
                    url: "http://x/".into(),
                    server_ca_pem: Some("x".into()),
                    ..source(RemoteAuth::None)
                },
                "https",
            ),
        ] {
            let e = RemoteCfgProfile { source: Some(s) }
                .validate(None, Some(&spec_config()))
                .unwrap_err()
                .to_string();
            assert!(e.contains(why), "{e}");
        }
    }

    #[test]
    fn read_back_is_compared_and_off_is_off() {
        let profile = RemoteCfgProfile {
            source: Some(source(RemoteAuth::None)),
        };
        let differences = profile.differences(None, &spec_config());
        assert!(
            differences.iter().any(|d| d.contains("on is \"false\"")),
            "{differences:?}"
        );
        let mut after = spec_config().raw().clone();
        for (k, v) in profile.post_body(&spec_config()) {
            after.insert(k, v);
        }
        let after = GatewayConfig::from_json(Value::Object(after)).unwrap();
        assert!(profile.differences(None, &after).is_empty());
        let off = RemoteCfgProfile { source: None };
        assert_eq!(off.post_body(&after)["remote_cfg_use"], false);
        assert_eq!(off.differences(None, &after).len(), 1);
        // Undo puts the source back as it was, secrets untouched.
        let restore = off.restore_body(&spec_config());
        assert_eq!(restore["remote_cfg_use"], false);
        assert!(!restore.contains_key("remote_cfg_auth_bearer_token"));
    }

    #[test]
    fn a_document_stays_switched_on_and_carries_only_its_areas() {
        let scan = ScanProfile {
            company_filter: Some(0x0499),
            tags: TagFilter::Allow(vec!["AA:BB:CC:DD:EE:01".parse().unwrap()]),
            radio: None,
        };
        // Off on the gateway: nothing to serve yet.
        assert!(document(&[&scan], &spec_config()).is_err());
        let on = RemoteCfgProfile {
            source: Some(source(RemoteAuth::Bearer(Some(Sensitive::new(
                "secret".into(),
            ))))),
        };
        let mut current = spec_config().raw().clone();
        current.extend(on.post_body(&spec_config()));
        let current = GatewayConfig::from_json(Value::Object(current)).unwrap();
        let doc = document(&[&scan], &current).unwrap();
        assert!(acceptable(&doc));
        assert_eq!(doc["remote_cfg_url"], "https://192.168.1.20:8443/gw-cfg/");
        assert_eq!(doc["remote_cfg_auth_type"], "bearer");
        assert!(!doc.contains_key("remote_cfg_auth_bearer_token"));
        assert_eq!(doc["scan_filter_allow_listed"], true);
        assert_eq!(doc["scan_filter_list"], json!(["AA:BB:CC:DD:EE:01"]));
        assert_eq!(doc["mqtt_data_format"], "ruuvi_raw");
        assert!(!doc.contains_key("use_http"), "only its areas: {doc:?}");
        assert!(!doc.contains_key("lan_auth_type"));
    }
}
