//! The gateway configuration (`/ruuvi.json`, gateway-local-api §6): what GET shows for each
//! firmware version, and the merge rules of POST.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use crate::cjson;
use crate::firmware::Firmware;
use crate::identity::Identity;

pub const RUUVI_CLOUD_URL: &str = "https://network.ruuvi.com/record";
const STAT_URL: &str = "https://network.ruuvi.com/status";
const FW_UPDATE_URL: &str = "https://network.ruuvi.com/firmwareupdate";

/// The certificate / extra-file store names, in `storage` order (§5.14, §6.1).
pub use ruuvi_protocol::gateway::STORAGE_FILES;

/// Secrets: never returned by GET; absent on POST = unchanged.
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

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Bool,
    /// A string truncated to this many bytes.
    Str(usize),
    /// uint16/uint8 fields: a number or a `0x…` string.
    Small,
    /// int8 fields (the time zone's hours): a number, negative too, or a `0x…` string (its
    /// low byte as a two's complement).
    Signed,
    /// uint32 fields: a number or a decimal/`0x` string.
    Wide,
    MacList,
}

/// Every stored non-secret key in GET order, its kind, and the first firmware that has it.
const KEYS: &[(&str, Kind, Firmware)] = &[
    ("use_eth", Kind::Bool, Firmware::V1_13),
    ("eth_dhcp", Kind::Bool, Firmware::V1_13),
    ("eth_static_ip", Kind::Str(15), Firmware::V1_13),
    ("eth_netmask", Kind::Str(15), Firmware::V1_13),
    ("eth_gw", Kind::Str(15), Firmware::V1_13),
    ("eth_dns1", Kind::Str(15), Firmware::V1_13),
    ("eth_dns2", Kind::Str(15), Firmware::V1_13),
    ("remote_cfg_use", Kind::Bool, Firmware::V1_13),
    ("remote_cfg_url", Kind::Str(255), Firmware::V1_13),
    ("remote_cfg_auth_type", Kind::Str(16), Firmware::V1_13),
    ("remote_cfg_auth_basic_user", Kind::Str(50), Firmware::V1_13),
    (
        "remote_cfg_use_ssl_client_cert",
        Kind::Bool,
        Firmware::V1_14,
    ),
    (
        "remote_cfg_use_ssl_server_cert",
        Kind::Bool,
        Firmware::V1_14,
    ),
    (
        "remote_cfg_refresh_interval_minutes",
        Kind::Small,
        Firmware::V1_13,
    ),
    ("use_http_ruuvi", Kind::Bool, Firmware::V1_14),
    ("use_http", Kind::Bool, Firmware::V1_13),
    ("http_url", Kind::Str(255), Firmware::V1_13),
    ("http_period", Kind::Wide, Firmware::V1_15),
    ("http_data_format", Kind::Str(32), Firmware::V1_14),
    ("http_auth", Kind::Str(16), Firmware::V1_14),
    ("http_user", Kind::Str(50), Firmware::V1_13),
    ("http_use_ssl_client_cert", Kind::Bool, Firmware::V1_14),
    ("http_use_ssl_server_cert", Kind::Bool, Firmware::V1_14),
    ("http_use_extra_http_path", Kind::Bool, Firmware::V1_17_2),
    ("http_use_extra_http_query", Kind::Bool, Firmware::V1_17_2),
    ("http_use_extra_http_headers", Kind::Bool, Firmware::V1_17_2),
    ("use_http_stat", Kind::Bool, Firmware::V1_13),
    ("http_stat_url", Kind::Str(255), Firmware::V1_13),
    ("http_stat_user", Kind::Str(50), Firmware::V1_13),
    ("http_stat_use_ssl_client_cert", Kind::Bool, Firmware::V1_14),
    ("http_stat_use_ssl_server_cert", Kind::Bool, Firmware::V1_14),
    ("use_mqtt", Kind::Bool, Firmware::V1_13),
    (
        "mqtt_disable_retained_messages",
        Kind::Bool,
        Firmware::V1_13,
    ),
    ("mqtt_transport", Kind::Str(8), Firmware::V1_13),
    ("mqtt_data_format", Kind::Str(32), Firmware::V1_15),
    ("mqtt_server", Kind::Str(255), Firmware::V1_13),
    ("mqtt_port", Kind::Small, Firmware::V1_13),
    ("mqtt_sending_interval", Kind::Wide, Firmware::V1_15),
    ("mqtt_prefix", Kind::Str(256), Firmware::V1_13),
    ("mqtt_client_id", Kind::Str(50), Firmware::V1_13),
    ("mqtt_user", Kind::Str(128), Firmware::V1_13),
    ("mqtt_use_ssl_client_cert", Kind::Bool, Firmware::V1_14),
    ("mqtt_use_ssl_server_cert", Kind::Bool, Firmware::V1_14),
    ("lan_auth_type", Kind::Str(32), Firmware::V1_13),
    ("lan_auth_user", Kind::Str(50), Firmware::V1_13),
    ("auto_update_cycle", Kind::Str(16), Firmware::V1_13),
    ("auto_update_weekdays_bitmask", Kind::Small, Firmware::V1_13),
    ("auto_update_interval_from", Kind::Small, Firmware::V1_13),
    ("auto_update_interval_to", Kind::Small, Firmware::V1_13),
    ("auto_update_tz_offset_hours", Kind::Signed, Firmware::V1_13),
    ("ntp_use", Kind::Bool, Firmware::V1_13),
    ("ntp_use_dhcp", Kind::Bool, Firmware::V1_13),
    ("ntp_server1", Kind::Str(31), Firmware::V1_13),
    ("ntp_server2", Kind::Str(31), Firmware::V1_13),
    ("ntp_server3", Kind::Str(31), Firmware::V1_13),
    ("ntp_server4", Kind::Str(31), Firmware::V1_13),
    ("company_id", Kind::Small, Firmware::V1_13),
    ("company_use_filtering", Kind::Bool, Firmware::V1_13),
    ("scan_coded_phy", Kind::Bool, Firmware::V1_13),
    ("scan_1mbit_phy", Kind::Bool, Firmware::V1_13),
    ("scan_2mbit_phy", Kind::Bool, Firmware::V1_16),
    ("scan_channel_37", Kind::Bool, Firmware::V1_13),
    ("scan_channel_38", Kind::Bool, Firmware::V1_13),
    ("scan_channel_39", Kind::Bool, Firmware::V1_13),
    ("scan_default", Kind::Bool, Firmware::V1_16),
    ("scan_filter_allow_listed", Kind::Bool, Firmware::V1_14),
    ("scan_filter_list", Kind::MacList, Firmware::V1_14),
    ("coordinates", Kind::Str(63), Firmware::V1_13),
    ("fw_update_url", Kind::Str(255), Firmware::V1_15),
];

const SCAN_FLAGS: [(&str, bool); 6] = [
    ("scan_coded_phy", false),
    ("scan_1mbit_phy", true),
    ("scan_2mbit_phy", true),
    ("scan_channel_37", true),
    ("scan_channel_38", true),
    ("scan_channel_39", true),
];

/// The LAN authentication modes (§3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LanAuth {
    Default,
    Ruuvi,
    Basic,
    Digest,
    Allow,
    Deny,
}

impl LanAuth {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Default => "lan_auth_default",
            Self::Ruuvi => "lan_auth_ruuvi",
            Self::Basic => "lan_auth_basic",
            Self::Digest => "lan_auth_digest",
            Self::Allow => "lan_auth_allow",
            Self::Deny => "lan_auth_deny",
        }
    }

    /// Any other string is stored as deny (§3.1).
    pub fn parse_stored(s: &str) -> Self {
        match s {
            "lan_auth_default" => Self::Default,
            "lan_auth_ruuvi" => Self::Ruuvi,
            "lan_auth_basic" => Self::Basic,
            "lan_auth_digest" => Self::Digest,
            "lan_auth_allow" => Self::Allow,
            _ => Self::Deny,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct GatewayConfig {
    values: Map<String, Value>,
    secrets: BTreeMap<&'static str, String>,
    /// The certificate / extra-file store.
    pub files: BTreeMap<&'static str, Vec<u8>>,
    gw_mac: String,
    default_hash: String,
}

fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

fn parse_number(v: &Value, wide: bool) -> Option<u64> {
    match v {
        Value::Number(n) => n
            .as_u64()
            .or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64)),
        Value::String(s) => {
            let s = s.trim();
            if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
                u64::from_str_radix(hex, 16).ok()
            } else if wide {
                s.parse().ok()
            } else {
                None
            }
        }
        _ => None,
    }
}

impl GatewayConfig {
    /// Factory defaults (`gw_cfg_default.json` and §6.1).
    pub fn factory(identity: &Identity) -> Self {
        let gw_mac = identity.ble_mac.to_string();
        let defaults = json!({
            "use_eth": true, "eth_dhcp": true, "eth_static_ip": "", "eth_netmask": "", "eth_gw": "",
            "eth_dns1": "", "eth_dns2": "",
            "remote_cfg_use": false, "remote_cfg_url": "", "remote_cfg_auth_type": "none",
            "remote_cfg_auth_basic_user": "", "remote_cfg_use_ssl_client_cert": false,
            "remote_cfg_use_ssl_server_cert": false, "remote_cfg_refresh_interval_minutes": 0,
            "use_http_ruuvi": true, "use_http": false, "http_url": RUUVI_CLOUD_URL, "http_period": 10,
            "http_data_format": "ruuvi", "http_auth": "none", "http_user": "",
            "http_use_ssl_client_cert": false, "http_use_ssl_server_cert": false,
            "http_use_extra_http_path": false, "http_use_extra_http_query": false,
            "http_use_extra_http_headers": false,
            "use_http_stat": true, "http_stat_url": STAT_URL, "http_stat_user": "",
            "http_stat_use_ssl_client_cert": false, "http_stat_use_ssl_server_cert": false,
            "use_mqtt": false, "mqtt_disable_retained_messages": false, "mqtt_transport": "TCP",
            "mqtt_data_format": "ruuvi_raw", "mqtt_server": "test.mosquitto.org", "mqtt_port": 1883,
            "mqtt_sending_interval": 0, "mqtt_prefix": format!("ruuvi/{gw_mac}/"), "mqtt_client_id": gw_mac,
            "mqtt_user": "", "mqtt_use_ssl_client_cert": false, "mqtt_use_ssl_server_cert": false,
            "lan_auth_type": "lan_auth_default", "lan_auth_user": "Admin",
            "auto_update_cycle": "regular", "auto_update_weekdays_bitmask": 127,
            "auto_update_interval_from": 0, "auto_update_interval_to": 24, "auto_update_tz_offset_hours": 3,
            "ntp_use": true, "ntp_use_dhcp": false, "ntp_server1": "time.google.com",
            "ntp_server2": "time.cloudflare.com", "ntp_server3": "pool.ntp.org", "ntp_server4": "time.ruuvi.com",
            "company_id": 1177, "company_use_filtering": true,
            "scan_coded_phy": false, "scan_1mbit_phy": true, "scan_2mbit_phy": true,
            "scan_channel_37": true, "scan_channel_38": true, "scan_channel_39": true, "scan_default": true,
            "scan_filter_allow_listed": false, "scan_filter_list": [],
            "coordinates": "", "fw_update_url": FW_UPDATE_URL,
        });
        let Value::Object(values) = defaults else {
            unreachable!("a JSON object literal")
        };
        let default_hash = identity.default_password_hash();
        let mut secrets: BTreeMap<&'static str, String> =
            SECRET_KEYS.iter().map(|k| (*k, String::new())).collect();
        secrets.insert("lan_auth_pass", default_hash.clone());
        Self {
            values,
            secrets,
            files: BTreeMap::new(),
            gw_mac,
            default_hash,
        }
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.values.get(key)
    }

    pub fn bool(&self, key: &str) -> bool {
        self.values
            .get(key)
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }

    pub fn str(&self, key: &str) -> &str {
        self.values.get(key).and_then(Value::as_str).unwrap_or("")
    }

    pub fn u64(&self, key: &str) -> u64 {
        self.values.get(key).and_then(Value::as_u64).unwrap_or(0)
    }

    pub fn secret(&self, key: &str) -> &str {
        self.secrets.get(key).map_or("", String::as_str)
    }

    pub fn lan_auth(&self) -> LanAuth {
        LanAuth::parse_stored(self.str("lan_auth_type"))
    }

    /// What `lan_auth_type` GET and the auth JSON report: a ruuvi-type config with the default
    /// credentials shows as `lan_auth_default`.
    pub fn reported_lan_auth(&self) -> LanAuth {
        match self.lan_auth() {
            LanAuth::Ruuvi
                if self.str("lan_auth_user") == "Admin"
                    && self.secret("lan_auth_pass") == self.default_hash =>
            {
                LanAuth::Default
            }
            other => other,
        }
    }

    /// Sets LAN auth directly (command-line options, tests).
    pub fn set_lan_auth(&mut self, auth: LanAuth, user: &str, pass_stored: &str) {
        self.values
            .insert("lan_auth_type".into(), json!(auth.as_str()));
        self.values.insert("lan_auth_user".into(), json!(user));
        self.secrets
            .insert("lan_auth_pass", pass_stored.to_string());
    }

    pub fn set_api_keys(&mut self, ro: &str, rw: &str) {
        self.secrets.insert("lan_auth_api_key", ro.to_string());
        self.secrets.insert("lan_auth_api_key_rw", rw.to_string());
    }

    /// `(type, user, stored pass)`: a change of any drops every login session.
    pub fn auth_fingerprint(&self) -> (String, String, String) {
        (
            self.str("lan_auth_type").to_string(),
            self.str("lan_auth_user").to_string(),
            self.secret("lan_auth_pass").to_string(),
        )
    }

    /// The effective custom-HTTP sending state: `(ruuvi cloud, custom server)`.
    pub fn http_targets(&self) -> (bool, bool) {
        (self.bool("use_http_ruuvi"), self.bool("use_http"))
    }

    /// `GET /ruuvi.json` for `fw`, cJSON-printed.
    pub fn to_get_json(&self, identity: &Identity) -> String {
        cjson::print(&Value::Object(self.get_object(identity)))
    }

    pub fn get_object(&self, identity: &Identity) -> Map<String, Value> {
        let fw = identity.firmware;
        let mut o = Map::new();
        o.insert("fw_ver".into(), json!(fw.version_string()));
        o.insert("nrf52_fw_ver".into(), json!(fw.nrf52_version()));
        o.insert("gw_mac".into(), json!(self.gw_mac));
        if fw.has_cert_store() {
            let mut storage = Map::new();
            storage.insert("storage_ready".into(), json!(true));
            let names = if fw.has_extra_cfg() {
                &STORAGE_FILES[..]
            } else {
                &STORAGE_FILES[..12]
            };
            for name in names {
                storage.insert((*name).into(), json!(self.files.contains_key(name)));
            }
            o.insert("storage".into(), Value::Object(storage));
        }
        o.insert("wifi_sta_config".into(), json!({"ssid": ""}));
        o.insert("wifi_ap_config".into(), json!({"channel": 1}));

        let (ruuvi, custom) = self.http_targets();
        // (v1.13 has no use_http_ruuvi: its Ruuvi Cloud state is this same legacy form.)
        let legacy = ruuvi && !custom;
        for (key, _, since) in KEYS {
            if *since > fw {
                continue;
            }
            let key = *key;
            match key {
                "remote_cfg_auth_basic_user" if self.str("remote_cfg_auth_type") != "basic" => {
                    continue
                }
                "http_user" if self.str("http_auth") != "basic" => continue,
                "lan_auth_type" => {
                    o.insert(key.into(), json!(self.reported_lan_auth().as_str()));
                    continue;
                }
                "lan_auth_user" => {
                    o.insert(key.into(), self.values[key].clone());
                    o.insert(
                        "lan_auth_api_key_use".into(),
                        json!(!self.secret("lan_auth_api_key").is_empty()),
                    );
                    o.insert(
                        "lan_auth_api_key_rw_use".into(),
                        json!(!self.secret("lan_auth_api_key_rw").is_empty()),
                    );
                    continue;
                }
                _ => {}
            }
            if legacy && key.starts_with("http_") && !key.starts_with("http_stat") {
                // The Ruuvi-Cloud-only state is shown as the pre-v1.14 "custom = Ruuvi" form (§6.2).
                match fw {
                    Firmware::V1_17_3 => {}
                    Firmware::Head => {
                        let default = match key {
                            "http_url" => json!(RUUVI_CLOUD_URL),
                            "http_period" => json!(10),
                            "http_data_format" => json!("ruuvi"),
                            "http_auth" => json!("none"),
                            "http_user" => continue,
                            _ => json!(false),
                        };
                        o.insert(key.into(), default);
                        continue;
                    }
                    _ => {
                        match key {
                            "http_url" => o.insert(key.into(), json!(RUUVI_CLOUD_URL)),
                            "http_data_format" => o.insert(key.into(), json!("ruuvi")),
                            "http_auth" => o.insert(key.into(), json!("none")),
                            _ => None,
                        };
                        continue;
                    }
                }
            }
            let mut value = self.values[key].clone();
            if legacy && key == "use_http" {
                value = json!(true);
            }
            o.insert(key.into(), value);
        }
        o
    }

    /// `POST /ruuvi.json` from the LAN (§6.3). Returns whether LAN-auth settings changed.
    pub fn apply_lan_post(&mut self, body: &Map<String, Value>, fw: Firmware) -> bool {
        let before = self.auth_fingerprint();
        let known = |key: &str| KEYS.iter().find(|(k, _, since)| *k == key && *since <= fw);

        // Plain keys first (network keys are ignored from the LAN; blocks with rules below).
        const HANDLED_BELOW: &[&str] = &[
            "use_eth",
            "eth_dhcp",
            "eth_static_ip",
            "eth_netmask",
            "eth_gw",
            "eth_dns1",
            "eth_dns2",
            "use_http_ruuvi",
            "use_http",
            "http_url",
            "http_data_format",
            "http_auth",
            "http_user",
            "http_period",
            "http_use_ssl_client_cert",
            "http_use_ssl_server_cert",
            "http_use_extra_http_path",
            "http_use_extra_http_query",
            "http_use_extra_http_headers",
            "http_stat_use_ssl_client_cert",
            "http_stat_use_ssl_server_cert",
            "mqtt_use_ssl_client_cert",
            "mqtt_use_ssl_server_cert",
            "mqtt_data_format",
            "mqtt_prefix",
            "mqtt_client_id",
            "remote_cfg_auth_type",
            "remote_cfg_auth_basic_user",
            "lan_auth_type",
            "lan_auth_user",
            "ntp_use_dhcp",
            "ntp_server1",
            "ntp_server2",
            "ntp_server3",
            "ntp_server4",
            "scan_default",
            "scan_coded_phy",
            "scan_1mbit_phy",
            "scan_2mbit_phy",
            "scan_channel_37",
            "scan_channel_38",
            "scan_channel_39",
        ];
        for (key, value) in body {
            if HANDLED_BELOW.contains(&key.as_str()) {
                continue;
            }
            if let Some((k, kind, _)) = known(key) {
                self.set_typed(k, *kind, value);
            }
        }

        // HTTP custom target (§6.3 "HTTP custom target").
        for key in ["use_http_ruuvi", "use_http"] {
            if known(key).is_some() {
                if let Some(Value::Bool(b)) = body.get(key) {
                    self.values.insert(key.into(), json!(b));
                }
            }
        }
        if let Some(Value::String(f)) = body.get("http_data_format") {
            let allowed: &[&str] = if fw.has_http_period() {
                &["ruuvi", "ruuvi_raw_and_decoded", "ruuvi_decoded"]
            } else {
                &["ruuvi"]
            };
            let f = if allowed.contains(&f.as_str()) {
                f.as_str()
            } else {
                "ruuvi"
            };
            self.values.insert("http_data_format".into(), json!(f));
        }
        if let Some(Value::String(a)) = body.get("http_auth") {
            let mut allowed = vec!["none", "basic", "bearer", "token"];
            if fw.has_api_key_auth() {
                allowed.push("api_key");
            }
            let a = if allowed.contains(&a.as_str()) {
                a.as_str()
            } else {
                "none"
            };
            self.values.insert("http_auth".into(), json!(a));
        }
        if let Some(Value::String(url)) = body.get("http_url") {
            self.values
                .insert("http_url".into(), json!(truncate(url, 255)));
        }
        if self.bool("use_http") {
            match self.str("http_auth") {
                "basic" => {
                    if let Some(Value::String(u)) = body.get("http_user") {
                        self.values
                            .insert("http_user".into(), json!(truncate(u, 50)));
                    }
                    self.take_secret(body, "http_pass", 50);
                }
                "bearer" => self.take_secret(body, "http_bearer_token", 255),
                "token" | "api_key" => self.take_secret(body, "http_api_key", 255),
                _ => {}
            }
        }
        if let Some(v) = body.get("http_period") {
            if known("http_period").is_some() {
                if let Some(n) = parse_number(v, true) {
                    // Quirk: the numeric value is cast through uint16.
                    self.values.insert("http_period".into(), json!(n as u16));
                }
            }
        }
        for key in [
            "http_use_extra_http_path",
            "http_use_extra_http_query",
            "http_use_extra_http_headers",
            "http_use_ssl_client_cert",
            "http_use_ssl_server_cert",
        ] {
            if known(key).is_some() {
                if let Some(Value::Bool(b)) = body.get(key) {
                    self.values.insert(key.into(), json!(b));
                }
            }
        }
        // Before v1.14 `use_http` + `http_url` was the only target (Ruuvi Cloud or own server).
        if !fw.has_http_ruuvi_flag() {
            self.values.insert("use_http_ruuvi".into(), json!(false));
        }
        // Legacy pre-v1.14 form: "custom = Ruuvi Cloud, raw, no auth" means Ruuvi Cloud only.
        if self.bool("use_http")
            && self.str("http_data_format") == "ruuvi"
            && self.str("http_auth") == "none"
            && self.str("http_url") == RUUVI_CLOUD_URL
        {
            self.values.insert("use_http_ruuvi".into(), json!(true));
            self.values.insert("use_http".into(), json!(false));
        }

        // Statistics and MQTT TLS flags are read only when the target is on.
        if self.bool("use_http_stat") {
            self.take_bools(
                body,
                &[
                    "http_stat_use_ssl_client_cert",
                    "http_stat_use_ssl_server_cert",
                ],
                fw,
            );
            self.take_secret(body, "http_stat_pass", 50);
        }
        self.take_secret(body, "mqtt_pass", 256);
        if self.bool("use_mqtt") {
            self.take_bools(
                body,
                &["mqtt_use_ssl_client_cert", "mqtt_use_ssl_server_cert"],
                fw,
            );
        }
        // mqtt_data_format missing → reset; prefix / client id missing or empty → defaults.
        if known("mqtt_data_format").is_some() {
            let f = body
                .get("mqtt_data_format")
                .and_then(Value::as_str)
                .filter(|f| matches!(*f, "ruuvi_raw" | "ruuvi_raw_and_decoded" | "ruuvi_decoded"))
                .unwrap_or("ruuvi_raw");
            self.values.insert("mqtt_data_format".into(), json!(f));
        }
        let prefix = body
            .get("mqtt_prefix")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty());
        self.values.insert(
            "mqtt_prefix".into(),
            json!(prefix.map_or_else(|| format!("ruuvi/{}/", self.gw_mac), |p| truncate(p, 256))),
        );
        let client = body
            .get("mqtt_client_id")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty());
        self.values.insert(
            "mqtt_client_id".into(),
            json!(client.map_or_else(|| self.gw_mac.clone(), |c| truncate(c, 50))),
        );

        // Remote configuration: changing the type wipes the stored credentials.
        if let Some(Value::String(t)) = body.get("remote_cfg_auth_type") {
            let t = match t.as_str() {
                "basic" => "basic",
                "bearer" => "bearer",
                _ => "none", // includes the legacy "no"
            };
            if t != self.str("remote_cfg_auth_type") {
                self.values
                    .insert("remote_cfg_auth_basic_user".into(), json!(""));
                self.secrets
                    .insert("remote_cfg_auth_basic_pass", String::new());
                self.secrets
                    .insert("remote_cfg_auth_bearer_token", String::new());
            }
            self.values.insert("remote_cfg_auth_type".into(), json!(t));
        }
        match self.str("remote_cfg_auth_type") {
            "basic" => {
                if let Some(Value::String(u)) = body.get("remote_cfg_auth_basic_user") {
                    self.values
                        .insert("remote_cfg_auth_basic_user".into(), json!(truncate(u, 50)));
                }
                self.take_secret(body, "remote_cfg_auth_basic_pass", 50);
            }
            "bearer" => self.take_secret(body, "remote_cfg_auth_bearer_token", 255),
            _ => {}
        }

        // NTP: off forces DHCP off; servers read only when used and not from DHCP.
        if !self.bool("ntp_use") {
            self.values.insert("ntp_use_dhcp".into(), json!(false));
        } else {
            if let Some(Value::Bool(b)) = body.get("ntp_use_dhcp") {
                self.values.insert("ntp_use_dhcp".into(), json!(b));
            }
            if !self.bool("ntp_use_dhcp") {
                for key in ["ntp_server1", "ntp_server2", "ntp_server3", "ntp_server4"] {
                    if let Some(Value::String(s)) = body.get(key) {
                        self.values.insert(key.into(), json!(truncate(s, 31)));
                    }
                }
            }
        }

        // Scanning: scan_default (sent, or absent while stored true) resets the flags.
        if fw.has_scan_default() {
            let default = match body.get("scan_default") {
                Some(Value::Bool(b)) => *b,
                _ => self.bool("scan_default"),
            };
            self.values.insert("scan_default".into(), json!(default));
            if default {
                for (key, value) in SCAN_FLAGS {
                    self.values.insert(key.into(), json!(value));
                }
            } else {
                self.take_bools(body, &SCAN_FLAGS.map(|(k, _)| k), fw);
            }
        } else {
            self.take_bools(
                body,
                &[
                    "scan_coded_phy",
                    "scan_1mbit_phy",
                    "scan_channel_37",
                    "scan_channel_38",
                    "scan_channel_39",
                ],
                fw,
            );
            if let Some(Value::Bool(b)) = body.get("scan_extended_payload") {
                self.values.insert("scan_2mbit_phy".into(), json!(b));
            }
        }

        // LAN auth (§6.3 last rules); API keys are secrets: absent = unchanged.
        if let Some(t) = body.get("lan_auth_type") {
            let t = LanAuth::parse_stored(t.as_str().unwrap_or(""));
            match t {
                LanAuth::Default => {
                    self.values.insert("lan_auth_user".into(), json!("Admin"));
                    self.secrets
                        .insert("lan_auth_pass", self.default_hash.clone());
                }
                LanAuth::Allow | LanAuth::Deny => {
                    self.values.insert("lan_auth_user".into(), json!(""));
                    self.secrets.insert("lan_auth_pass", String::new());
                }
                LanAuth::Ruuvi | LanAuth::Basic | LanAuth::Digest => {
                    if let Some(Value::String(u)) = body.get("lan_auth_user") {
                        self.values
                            .insert("lan_auth_user".into(), json!(truncate(u, 50)));
                    }
                    self.take_secret(body, "lan_auth_pass", 64);
                }
            }
            let stored = if t == LanAuth::Ruuvi
                && self.str("lan_auth_user") == "Admin"
                && self.secret("lan_auth_pass") == self.default_hash
            {
                LanAuth::Default
            } else {
                t
            };
            self.values
                .insert("lan_auth_type".into(), json!(stored.as_str()));
        }
        self.take_secret(body, "lan_auth_api_key", 256);
        self.take_secret(body, "lan_auth_api_key_rw", 256);

        before != self.auth_fingerprint()
    }

    /// `POST /fw_update_url.json`.
    pub fn apply_fw_update_url(&mut self, body: &Map<String, Value>) {
        if let Some(Value::String(url)) = body.get("fw_update_url") {
            self.values
                .insert("fw_update_url".into(), json!(truncate(url, 255)));
        }
    }

    /// Everything the gateway keeps in flash, for `--state-dir`.
    pub fn to_state(&self) -> Value {
        use base64::Engine as _;
        let files: Map<String, Value> = self
            .files
            .iter()
            .map(|(k, v)| {
                (
                    (*k).to_string(),
                    json!(base64::engine::general_purpose::STANDARD.encode(v)),
                )
            })
            .collect();
        json!({"values": self.values, "secrets": self.secrets, "files": files})
    }

    /// Restores what [`GatewayConfig::to_state`] saved; unknown keys are ignored.
    pub fn restore(&mut self, state: &Value) {
        use base64::Engine as _;
        if let Some(values) = state.get("values").and_then(Value::as_object) {
            for (k, v) in values {
                if self.values.contains_key(k) {
                    self.values.insert(k.clone(), v.clone());
                }
            }
        }
        if let Some(secrets) = state.get("secrets").and_then(Value::as_object) {
            for key in SECRET_KEYS {
                if let Some(v) = secrets.get(key).and_then(Value::as_str) {
                    self.secrets.insert(key, v.to_string());
                }
            }
        }
        if let Some(files) = state.get("files").and_then(Value::as_object) {
            for name in STORAGE_FILES {
                if let Some(bytes) = files
                    .get(name)
                    .and_then(Value::as_str)
                    .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
                {
                    self.files.insert(name, bytes);
                }
            }
        }
    }

    /// A network update from the hotspot (§6.3 rule 2): only `use_eth` and `eth_*` (starting
    /// from the defaults) or the AP channel are applied.
    pub fn apply_network_post(&mut self, body: &Map<String, Value>) {
        let use_eth = body.get("use_eth").and_then(Value::as_bool).unwrap_or(true);
        self.values.insert("use_eth".into(), json!(use_eth));
        let dhcp = body
            .get("eth_dhcp")
            .and_then(Value::as_bool)
            .unwrap_or(true);
        self.values.insert("eth_dhcp".into(), json!(dhcp));
        for key in [
            "eth_static_ip",
            "eth_netmask",
            "eth_gw",
            "eth_dns1",
            "eth_dns2",
        ] {
            let v = body
                .get(key)
                .and_then(Value::as_str)
                .filter(|_| !dhcp)
                .unwrap_or("");
            self.values.insert(key.into(), json!(truncate(v, 15)));
        }
    }

    fn take_secret(&mut self, body: &Map<String, Value>, key: &'static str, max: usize) {
        if let Some(Value::String(s)) = body.get(key) {
            self.secrets.insert(key, truncate(s, max));
        }
    }

    fn take_bools(&mut self, body: &Map<String, Value>, keys: &[&str], fw: Firmware) {
        for key in keys {
            if KEYS.iter().any(|(k, _, since)| k == key && *since <= fw) {
                if let Some(Value::Bool(b)) = body.get(*key) {
                    self.values.insert((*key).into(), json!(b));
                }
            }
        }
    }

    fn set_typed(&mut self, key: &str, kind: Kind, value: &Value) {
        let new = match (kind, value) {
            (Kind::Bool, Value::Bool(b)) => json!(b),
            (Kind::Str(max), Value::String(s)) => json!(truncate(s, max)),
            (Kind::Small, v) => match parse_number(v, false) {
                Some(n) => json!(n),
                None => return,
            },
            (Kind::Signed, Value::Number(n)) => match n.as_i64() {
                Some(i) => json!(i as i8),
                None => return,
            },
            (Kind::Signed, v) => match parse_number(v, false) {
                Some(n) => json!(n as u8 as i8),
                None => return,
            },
            (Kind::Wide, v) => match parse_number(v, true) {
                Some(n) => json!(n as u32),
                None => return,
            },
            (Kind::MacList, Value::Array(items)) => {
                // Invalid MACs leave a zero MAC.
                let list: Vec<Value> = items
                    .iter()
                    .take(100)
                    .map(|m| {
                        m.as_str()
                            .and_then(|s| s.parse::<ruuvi_protocol::MacAddress>().ok())
                            .map_or_else(
                                || json!("00:00:00:00:00:00"),
                                |mac| json!(mac.to_string()),
                            )
                    })
                    .collect();
                Value::Array(list)
            }
            // Wrong type for a bool or string: treated as absent.
            _ => return,
        };
        self.values.insert(key.into(), new);
    }
}

/// A configuration someone made in the gateway's own web page before Ruuvi Desk saw it
/// (`ruuvi-gw-sim --set-up FILE`): the keys that page would POST (merged as a LAN POST is),
/// and files in the store, e.g. `{"ruuvi_json": {"use_http": true, "http_url": "…",
/// "http_use_extra_http_path": true}, "files": {"http_path": "old/path"}}`.
#[derive(Debug, Clone, Default)]
pub struct Preset {
    pub ruuvi_json: Map<String, Value>,
    pub files: Vec<(&'static str, Vec<u8>)>,
}

impl Preset {
    /// Checked as the gateway checks an upload: known names only, the firmware's own set, and
    /// `http_headers` ending with CRLF (spec §5.14).
    pub fn parse(text: &str, fw: Firmware) -> Result<Self, String> {
        let value: Value = serde_json::from_str(text).map_err(|e| format!("set-up file: {e}"))?;
        let ruuvi_json = match value.get("ruuvi_json") {
            None => Map::new(),
            Some(Value::Object(m)) => m.clone(),
            Some(_) => return Err("set-up file: `ruuvi_json` must be an object".into()),
        };
        let known: &[&'static str] = if fw.has_extra_cfg() {
            &STORAGE_FILES[..]
        } else if fw.has_cert_store() {
            &STORAGE_FILES[..12]
        } else {
            &[]
        };
        let mut files = Vec::new();
        if let Some(given) = value.get("files") {
            let given = given
                .as_object()
                .ok_or("set-up file: `files` must be an object of texts")?;
            for (name, content) in given {
                let name = known
                    .iter()
                    .find(|k| **k == name)
                    .ok_or_else(|| format!("set-up file: firmware {fw} has no file {name:?}"))?;
                let content = content
                    .as_str()
                    .ok_or_else(|| format!("set-up file: {name} must be a text"))?;
                if *name == "http_headers" && !content.is_empty() && !content.ends_with("\r\n") {
                    return Err("set-up file: http_headers must end with CRLF".into());
                }
                files.push((*name, content.as_bytes().to_vec()));
            }
        }
        Ok(Self { ruuvi_json, files })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    #[test]
    fn a_set_up_file_is_checked_as_the_gateway_checks_uploads() {
        let text = r#"{"ruuvi_json": {"use_http": true, "http_use_extra_http_path": true},
            "files": {"http_path": "old/path", "http_headers": "X-A: 1\r\n"}}"#;
        let p = Preset::parse(text, Firmware::Head).unwrap();
        assert_eq!(p.ruuvi_json["http_use_extra_http_path"], true);
        assert_eq!(p.files.len(), 2);
        // No extra files before v1.17.2, no store at all before v1.14.
        assert!(Preset::parse(text, Firmware::V1_17_3).is_ok());
        assert!(Preset::parse(text, Firmware::V1_16)
            .unwrap_err()
            .contains("no file"));
        let bad_headers = r#"{"files": {"http_headers": "X-A: 1"}}"#;
        assert!(Preset::parse(bad_headers, Firmware::Head)
            .unwrap_err()
            .contains("CRLF"));
        assert!(Preset::parse(r#"{"files": {"http_srv_cert": "x"}}"#, Firmware::V1_13).is_err());
        assert!(
            Preset::parse("[]", Firmware::Head).is_ok(),
            "nothing set by hand"
        );
        assert!(Preset::parse("{", Firmware::Head).is_err());
    }

    fn gateway(fw: Firmware) -> (Identity, GatewayConfig) {
        let mut id = Identity::generate(&Rng::new(1), 0, fw);
        id.ble_mac = "C8:25:2D:8E:9C:2C".parse().unwrap();
        let cfg = GatewayConfig::factory(&id);
        (id, cfg)
    }

    fn post(cfg: &mut GatewayConfig, fw: Firmware, body: Value) -> bool {
        cfg.apply_lan_post(body.as_object().unwrap(), fw)
    }

    #[test]
    fn get_hides_secrets_and_prints_like_cjson() {
        let (id, mut cfg) = gateway(Firmware::Head);
        post(
            &mut cfg,
            Firmware::Head,
            json!({"use_http": true, "http_url": "https://x/rec", "http_auth": "basic", "http_user": "u", "http_pass": "p", "lan_auth_api_key_rw": "KEY"}),
        );
        let text = cfg.to_get_json(&id);
        assert!(text.starts_with("{\n\t\"fw_ver\":\t\"v1.17.3-24-g5d0ab90\",\n\t\"nrf52_fw_ver\":\t\"v2.0.0\",\n\t\"gw_mac\":\t\"C8:25:2D:8E:9C:2C\",\n\t\"storage\":\t{\n\t\t\"storage_ready\":\ttrue,"));
        for secret in [
            "http_pass",
            "\"p\"",
            "KEY",
            "lan_auth_pass",
            "lan_auth_api_key\"",
        ] {
            assert!(!text.contains(secret), "{secret} leaked: {text}");
        }
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["http_user"], "u");
        assert_eq!(v["lan_auth_api_key_rw_use"], true);
        assert_eq!(v["lan_auth_api_key_use"], false);
        assert_eq!(v["storage"].as_object().unwrap().len(), 16);
    }

    #[test]
    fn ruuvi_only_rewrite_per_version() {
        for fw in [Firmware::V1_14, Firmware::V1_17_2] {
            let (id, cfg) = gateway(fw);
            let o = cfg.get_object(&id);
            assert_eq!(
                (o["use_http_ruuvi"].clone(), o["use_http"].clone()),
                (json!(true), json!(true)),
                "{fw}"
            );
            assert_eq!(o["http_url"], RUUVI_CLOUD_URL);
            assert!(
                !o.contains_key("http_period") && !o.contains_key("http_use_ssl_client_cert"),
                "{fw}"
            );
        }
        // v1.17.3 shows the stored (stale) custom parameters; HEAD shows defaults.
        let (id, mut cfg) = gateway(Firmware::V1_17_3);
        post(
            &mut cfg,
            Firmware::V1_17_3,
            json!({"use_http": true, "http_url": "https://stale/x", "http_period": 30}),
        );
        post(&mut cfg, Firmware::V1_17_3, json!({"use_http": false}));
        assert_eq!(cfg.get_object(&id)["http_url"], "https://stale/x");
        let mut head = id.clone();
        head.firmware = Firmware::Head;
        let o = cfg.get_object(&head);
        assert_eq!(
            (o["http_url"].clone(), o["http_period"].clone()),
            (json!(RUUVI_CLOUD_URL), json!(10))
        );
        // Both disabled is reported truthfully.
        post(
            &mut cfg,
            Firmware::Head,
            json!({"use_http_ruuvi": false, "use_http": false}),
        );
        let o = cfg.get_object(&head);
        assert_eq!(
            (
                o["use_http_ruuvi"].clone(),
                o["use_http"].clone(),
                o["http_url"].clone()
            ),
            (json!(false), json!(false), json!("https://stale/x"))
        );
    }

    #[test]
    fn echoing_a_get_back_is_safe() {
        let (id, mut cfg) = gateway(Firmware::Head);
        let before = cfg.clone();
        let echo = cfg.get_object(&id);
        post(&mut cfg, Firmware::Head, Value::Object(echo));
        assert_eq!(cfg.http_targets(), (true, false));
        assert_eq!(cfg.get_object(&id), before.get_object(&id));
    }

    #[test]
    fn secrets_absent_unchanged_empty_clears() {
        let (_, mut cfg) = gateway(Firmware::Head);
        post(
            &mut cfg,
            Firmware::Head,
            json!({"use_http": true, "http_url": "https://a/", "http_auth": "bearer", "http_bearer_token": "T1"}),
        );
        assert_eq!(cfg.secret("http_bearer_token"), "T1");
        post(
            &mut cfg,
            Firmware::Head,
            json!({"use_http": true, "http_auth": "bearer"}),
        );
        assert_eq!(cfg.secret("http_bearer_token"), "T1");
        post(
            &mut cfg,
            Firmware::Head,
            json!({"use_http": true, "http_auth": "bearer", "http_bearer_token": ""}),
        );
        assert_eq!(cfg.secret("http_bearer_token"), "");
        // Secrets are read only when use_http is true, and only the one matching http_auth.
        post(
            &mut cfg,
            Firmware::Head,
            json!({"use_http": false, "http_auth": "bearer", "http_bearer_token": "T2"}),
        );
        assert_eq!(cfg.secret("http_bearer_token"), "");
        post(
            &mut cfg,
            Firmware::Head,
            json!({"use_http": true, "http_auth": "token", "http_bearer_token": "T3", "http_api_key": "K"}),
        );
        assert_eq!(
            (cfg.secret("http_bearer_token"), cfg.secret("http_api_key")),
            ("", "K")
        );
    }

    #[test]
    fn mqtt_fields_reset_when_absent_and_network_keys_ignored() {
        let (_, mut cfg) = gateway(Firmware::Head);
        post(
            &mut cfg,
            Firmware::Head,
            json!({"mqtt_data_format": "ruuvi_decoded", "mqtt_prefix": "p/", "mqtt_client_id": "me", "use_eth": false, "eth_dhcp": false}),
        );
        assert_eq!(
            (
                cfg.str("mqtt_data_format"),
                cfg.str("mqtt_prefix"),
                cfg.str("mqtt_client_id")
            ),
            ("ruuvi_decoded", "p/", "me")
        );
        assert!(cfg.bool("use_eth") && cfg.bool("eth_dhcp"));
        post(
            &mut cfg,
            Firmware::Head,
            json!({"coordinates": "60.1,24.9"}),
        );
        assert_eq!(cfg.str("mqtt_data_format"), "ruuvi_raw");
        assert_eq!(cfg.str("mqtt_prefix"), "ruuvi/C8:25:2D:8E:9C:2C/");
        assert_eq!(cfg.str("mqtt_client_id"), "C8:25:2D:8E:9C:2C");
        assert_eq!(cfg.str("coordinates"), "60.1,24.9");
    }

    #[test]
    fn field_rules() {
        let (_, mut cfg) = gateway(Firmware::Head);
        post(
            &mut cfg,
            Firmware::Head,
            json!({"use_http": true, "http_url": "https://a/", "http_auth": "weird", "http_data_format": "nope", "http_period": 65546, "company_id": "0x0499", "mqtt_port": "1884", "ntp_use": false, "ntp_use_dhcp": true, "use_mqtt": "yes"}),
        );
        assert_eq!(cfg.str("http_auth"), "none");
        assert_eq!(cfg.str("http_data_format"), "ruuvi");
        assert_eq!(
            cfg.u64("http_period"),
            10,
            "cast through uint16: 65546 → 10"
        );
        assert_eq!(cfg.u64("company_id"), 0x0499);
        assert_eq!(
            cfg.u64("mqtt_port"),
            1883,
            "decimal strings are not accepted for small numbers"
        );
        assert!(!cfg.bool("ntp_use_dhcp"));
        assert!(!cfg.bool("use_mqtt"), "wrong type = absent");
        let long = "x".repeat(300);
        post(
            &mut cfg,
            Firmware::Head,
            json!({"use_http": true, "http_url": long}),
        );
        assert_eq!(cfg.str("http_url").len(), 255);
        post(
            &mut cfg,
            Firmware::Head,
            json!({"scan_default": false, "scan_coded_phy": true, "scan_filter_list": ["aa:bb:cc:dd:ee:ff", "bad"]}),
        );
        assert!(cfg.bool("scan_coded_phy"));
        assert_eq!(
            cfg.get("scan_filter_list").unwrap(),
            &json!(["AA:BB:CC:DD:EE:FF", "00:00:00:00:00:00"])
        );
        post(&mut cfg, Firmware::Head, json!({"scan_default": true}));
        assert!(!cfg.bool("scan_coded_phy"));
    }

    #[test]
    fn lan_auth_rules() {
        let (id, mut cfg) = gateway(Firmware::Head);
        assert!(!post(&mut cfg, Firmware::Head, json!({"coordinates": ""})));
        assert!(post(
            &mut cfg,
            Firmware::Head,
            json!({"lan_auth_type": "lan_auth_ruuvi", "lan_auth_user": "bob", "lan_auth_pass": "h"})
        ));
        assert_eq!(
            (
                cfg.lan_auth(),
                cfg.str("lan_auth_user"),
                cfg.secret("lan_auth_pass")
            ),
            (LanAuth::Ruuvi, "bob", "h")
        );
        assert!(post(
            &mut cfg,
            Firmware::Head,
            json!({"lan_auth_type": "lan_auth_bearer"})
        ));
        assert_eq!(cfg.lan_auth(), LanAuth::Deny);
        assert_eq!(
            (cfg.str("lan_auth_user"), cfg.secret("lan_auth_pass")),
            ("", "")
        );
        post(
            &mut cfg,
            Firmware::Head,
            json!({"lan_auth_type": "lan_auth_ruuvi", "lan_auth_user": "Admin", "lan_auth_pass": id.default_password_hash()}),
        );
        assert_eq!(
            cfg.lan_auth(),
            LanAuth::Default,
            "ruuvi with the default credentials is stored as default"
        );
        post(
            &mut cfg,
            Firmware::Head,
            json!({"lan_auth_type": "lan_auth_allow"}),
        );
        assert_eq!(cfg.lan_auth(), LanAuth::Allow);
        post(
            &mut cfg,
            Firmware::Head,
            json!({"lan_auth_type": "lan_auth_default"}),
        );
        assert_eq!(
            (cfg.str("lan_auth_user"), cfg.secret("lan_auth_pass")),
            ("Admin", id.default_password_hash().as_str())
        );
    }
}
