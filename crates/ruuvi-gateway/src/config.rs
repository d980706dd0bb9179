//! The gateway's configuration (`/ruuvi.json`, spec §6) as read, and the HTTP backend profile
//! Ruuvi Desk writes, with the POST body rules of §6.3 built in.

use std::collections::BTreeMap;

use ruuvi_secrets::Sensitive;
use serde_json::{Map, Value};

use crate::firmware::FirmwareVersion;
use crate::GatewayError;

pub use ruuvi_protocol::gateway::STORAGE_FILES;

/// Ruuvi Cloud's data URL: a custom target with this URL is Ruuvi Cloud (§6.2).
pub const RUUVI_CLOUD_URL: &str = "https://network.ruuvi.com/record";

/// The longest `http_url` the firmware stores (longer ones are silently truncated).
pub const MAX_URL_LEN: usize = 255;

/// `/ruuvi.json` as the gateway returned it. Unknown keys are kept (and never re-sent: a POST
/// carries only what it means to change).
#[derive(Debug, Clone, PartialEq)]
pub struct GatewayConfig {
    raw: Map<String, Value>,
}

/// What the gateway's store holds (`storage` in `/ruuvi.json`).
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, ts_rs::TS)]
pub struct Storage {
    pub ready: bool,
    pub files: BTreeMap<String, bool>,
}

impl Storage {
    pub fn has(&self, name: &str) -> bool {
        self.files.get(name).copied().unwrap_or(false)
    }
}

impl GatewayConfig {
    pub fn from_json(value: Value) -> Result<Self, GatewayError> {
        match value {
            Value::Object(raw) => Ok(Self { raw }),
            other => Err(GatewayError::Protocol(format!(
                "/ruuvi.json is not an object: {}",
                crate::http::excerpt(&other.to_string(), 60)
            ))),
        }
    }

    /// Notes a value the gateway confirmed by other means (e.g. `POST /fw_update_url.json`),
    /// without reading the whole configuration again.
    pub fn note(&mut self, key: &str, value: Value) {
        self.raw.insert(key.to_string(), value);
    }

    pub fn raw(&self) -> &Map<String, Value> {
        &self.raw
    }

    pub fn str(&self, key: &str) -> Option<&str> {
        self.raw.get(key).and_then(Value::as_str)
    }

    pub fn bool(&self, key: &str) -> Option<bool> {
        self.raw.get(key).and_then(Value::as_bool)
    }

    pub fn u64(&self, key: &str) -> Option<u64> {
        self.raw.get(key).and_then(Value::as_u64)
    }

    pub fn fw_ver(&self) -> Option<&str> {
        self.str("fw_ver")
    }

    pub fn gw_mac(&self) -> Option<&str> {
        self.str("gw_mac")
    }

    pub fn lan_auth_type(&self) -> Option<&str> {
        self.str("lan_auth_type")
    }

    pub fn storage(&self) -> Storage {
        let Some(Value::Object(s)) = self.raw.get("storage") else {
            return Storage::default();
        };
        Storage {
            ready: s
                .get("storage_ready")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            files: s
                .iter()
                .filter(|(k, _)| *k != "storage_ready")
                .filter_map(|(k, v)| Some((k.clone(), v.as_bool()?)))
                .collect(),
        }
    }

    /// The HTTP backend as the web UI reads it: a custom target that is Ruuvi Cloud's URL with
    /// no auth is "Ruuvi Cloud on, custom off" (the GET rewrite of §6.2).
    pub fn http(&self) -> HttpBackend {
        let use_http = self.bool("use_http").unwrap_or(false);
        let url = self.str("http_url").unwrap_or_default();
        let auth = self.str("http_auth").unwrap_or("none");
        // Before v1.14 there is no use_http_ruuvi: the custom target *is* the cloud switch.
        let mut ruuvi_cloud = self
            .bool("use_http_ruuvi")
            .unwrap_or(use_http && url == RUUVI_CLOUD_URL);
        let custom = if use_http && url == RUUVI_CLOUD_URL && auth == "none" {
            ruuvi_cloud = true;
            None
        } else if use_http {
            Some(CustomServer {
                url: url.to_string(),
                data_format: self.str("http_data_format").unwrap_or("ruuvi").to_string(),
                period_s: self
                    .u64("http_period")
                    .map(|p| u32::try_from(p).unwrap_or(u32::MAX)),
                auth: auth.to_string(),
                user: self.str("http_user").map(str::to_string),
                use_client_cert: self.bool("http_use_ssl_client_cert").unwrap_or(false),
                use_server_cert: self.bool("http_use_ssl_server_cert").unwrap_or(false),
                extra: ExtraHttp::read(self),
            })
        } else {
            None
        };
        HttpBackend {
            ruuvi_cloud,
            custom,
        }
    }

    /// The keys a partial POST must repeat or the gateway resets them (§6.3).
    fn keep_for_partial_post(&self, body: &mut Map<String, Value>) {
        for key in ["mqtt_data_format", "mqtt_prefix", "mqtt_client_id"] {
            if let Some(v) = self
                .raw
                .get(key)
                .filter(|v| v.as_str().is_some_and(|s| !s.is_empty()))
            {
                body.insert(key.to_string(), v.clone());
            }
        }
    }

    /// A body that changes nothing (only the keys a POST would otherwise reset). Posting it ends
    /// configuration mode 5 s later instead of 60 s after the last `GET /ruuvi.json` (§5.3–5.4).
    pub fn unchanged_body(&self) -> Map<String, Value> {
        let mut body = Map::new();
        self.keep_for_partial_post(&mut body);
        body
    }

    /// A body that puts the HTTP backend back as it is in this configuration (secrets are
    /// not readable, so they stay whatever the gateway has).
    pub fn restore_http_body(&self) -> Map<String, Value> {
        let mut body = Map::new();
        for key in [
            "use_http_ruuvi",
            "use_http",
            "http_url",
            "http_data_format",
            "http_auth",
            "http_user",
            "http_period",
            "http_use_ssl_client_cert",
            "http_use_ssl_server_cert",
            EXTRA_PATH_KEY,
            EXTRA_QUERY_KEY,
            EXTRA_HEADERS_KEY,
        ] {
            if let Some(v) = self.raw.get(key) {
                body.insert(key.to_string(), v.clone());
            }
        }
        // Undo the GET rewrite: Ruuvi Cloud only is posted as such.
        let http = self.http();
        if http.custom.is_none() {
            body.insert("use_http".into(), Value::Bool(false));
            body.insert("use_http_ruuvi".into(), Value::Bool(http.ruuvi_cloud));
        }
        self.keep_for_partial_post(&mut body);
        body
    }
}

/// The other areas of the configuration, typed for showing (read-only: Ruuvi Desk changes only
/// the HTTP backend; everything else stays as the gateway has it). Missing keys (older
/// firmware) read as their defaults or `None`.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Statistics {
    pub use_http_stat: bool,
    pub http_stat_url: String,
    pub http_stat_user: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize, ts_rs::TS)]
#[serde(default)]
pub struct Mqtt {
    pub use_mqtt: bool,
    pub mqtt_transport: String,
    pub mqtt_server: String,
    pub mqtt_port: u64,
    pub mqtt_data_format: Option<String>,
    pub mqtt_sending_interval: Option<u64>,
    pub mqtt_prefix: String,
    pub mqtt_client_id: String,
    pub mqtt_user: String,
    pub mqtt_disable_retained_messages: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct LanAuthSettings {
    pub lan_auth_type: String,
    pub lan_auth_user: String,
    pub lan_auth_api_key_use: bool,
    pub lan_auth_api_key_rw_use: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Scan {
    pub company_id: u64,
    pub company_use_filtering: bool,
    pub scan_default: Option<bool>,
    pub scan_coded_phy: bool,
    pub scan_1mbit_phy: bool,
    pub scan_2mbit_phy: Option<bool>,
    pub scan_channel_37: bool,
    pub scan_channel_38: bool,
    pub scan_channel_39: bool,
    pub scan_filter_allow_listed: bool,
    pub scan_filter_list: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Ntp {
    pub ntp_use: bool,
    pub ntp_use_dhcp: bool,
    pub ntp_server1: String,
    pub ntp_server2: String,
    pub ntp_server3: String,
    pub ntp_server4: String,
}

/// Every area, for `config show`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ConfigAreas {
    pub http: HttpBackend,
    pub statistics: Statistics,
    pub mqtt: Mqtt,
    pub lan_auth: LanAuthSettings,
    pub scan: Scan,
    pub ntp: Ntp,
    pub storage: Storage,
    pub coordinates: Option<String>,
    pub fw_update_url: Option<String>,
}

impl GatewayConfig {
    fn area<T: serde::de::DeserializeOwned + Default>(&self) -> T {
        // Each area reads only its own keys; one odd value must not hide the others.
        serde_json::from_value(Value::Object(self.raw.clone())).unwrap_or_default()
    }

    pub fn areas(&self) -> ConfigAreas {
        ConfigAreas {
            http: self.http(),
            statistics: self.area(),
            mqtt: self.area(),
            lan_auth: self.area(),
            scan: self.area(),
            ntp: self.area(),
            storage: self.storage(),
            coordinates: self.str("coordinates").map(str::to_string),
            fw_update_url: self.str("fw_update_url").map(str::to_string),
        }
    }
}

/// The HTTP backend settings, as read back.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
pub struct HttpBackend {
    pub ruuvi_cloud: bool,
    pub custom: Option<CustomServer>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
pub struct CustomServer {
    pub url: String,
    pub data_format: String,
    /// Absent before v1.15.
    pub period_s: Option<u32>,
    pub auth: String,
    pub user: Option<String>,
    pub use_client_cert: bool,
    pub use_server_cert: bool,
    /// The long-URL feature's switches (v1.17.2+; `None`: the firmware has none).
    pub extra: Option<ExtraHttp>,
}

const EXTRA_PATH_KEY: &str = "http_use_extra_http_path";
const EXTRA_QUERY_KEY: &str = "http_use_extra_http_query";
const EXTRA_HEADERS_KEY: &str = "http_use_extra_http_headers";

/// Whether the gateway appends its stored `http_path` / `http_query` files to the URL and sends
/// the `http_headers` file's lines (v1.17.2+, spec §5.14). The firmware keeps these switches
/// when a POST leaves them out, so a push must always say them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, ts_rs::TS)]
pub struct ExtraHttp {
    pub path: bool,
    pub query: bool,
    pub headers: bool,
}

impl ExtraHttp {
    /// The switches as the gateway reports them (`None` before v1.17.2: no key at all).
    fn read(config: &GatewayConfig) -> Option<Self> {
        let (path, query, headers) = (
            config.bool(EXTRA_PATH_KEY),
            config.bool(EXTRA_QUERY_KEY),
            config.bool(EXTRA_HEADERS_KEY),
        );
        (path.is_some() || query.is_some() || headers.is_some()).then(|| ExtraHttp {
            path: path.unwrap_or(false),
            query: query.unwrap_or(false),
            headers: headers.unwrap_or(false),
        })
    }

    fn insert_into(self, body: &mut Map<String, Value>) {
        body.insert(EXTRA_PATH_KEY.into(), self.path.into());
        body.insert(EXTRA_QUERY_KEY.into(), self.query.into());
        body.insert(EXTRA_HEADERS_KEY.into(), self.headers.into());
    }
}

/// What the gateway sends to the custom server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub enum DataFormat {
    /// Raw advertisements only (every firmware).
    #[default]
    Ruuvi,
    /// Raw and decoded (v1.15+).
    RuuviRawAndDecoded,
    /// Decoded only (v1.15+).
    RuuviDecoded,
}

impl DataFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            DataFormat::Ruuvi => "ruuvi",
            DataFormat::RuuviRawAndDecoded => "ruuvi_raw_and_decoded",
            DataFormat::RuuviDecoded => "ruuvi_decoded",
        }
    }
}

impl std::str::FromStr for DataFormat {
    type Err = GatewayError;
    fn from_str(s: &str) -> Result<Self, GatewayError> {
        match s {
            "ruuvi" => Ok(DataFormat::Ruuvi),
            "ruuvi_raw_and_decoded" => Ok(DataFormat::RuuviRawAndDecoded),
            "ruuvi_decoded" => Ok(DataFormat::RuuviDecoded),
            _ => Err(GatewayError::BadInput(format!(
                "unknown data format {s:?} (ruuvi, ruuvi_raw_and_decoded, ruuvi_decoded)"
            ))),
        }
    }
}

/// How the gateway authenticates to the custom server. A secret of `None` means "keep the one
/// the gateway has" (it cannot be read back).
#[derive(Debug, Clone)]
pub enum HttpAuth {
    None,
    Basic {
        user: String,
        password: Option<Sensitive<String>>,
    },
    /// `Authorization: Bearer <token>`.
    Bearer {
        token: Option<Sensitive<String>>,
    },
    /// `Authorization: Token <key>`.
    Token {
        key: Option<Sensitive<String>>,
    },
    /// `Authorization: <key>` (v1.16+).
    ApiKey {
        key: Option<Sensitive<String>>,
    },
}

impl HttpAuth {
    /// From the gateway's auth type name (`none`, `basic`, `bearer`, `token`, `api_key`), the
    /// Basic user and the secret (`None`: keep the gateway's).
    pub fn from_kind(
        kind: &str,
        user: String,
        secret: Option<Sensitive<String>>,
    ) -> Result<Self, GatewayError> {
        Ok(match kind {
            "none" => HttpAuth::None,
            "basic" => HttpAuth::Basic {
                user,
                password: secret,
            },
            "bearer" => HttpAuth::Bearer { token: secret },
            "token" => HttpAuth::Token { key: secret },
            "api_key" | "api-key" => HttpAuth::ApiKey { key: secret },
            other => {
                return Err(GatewayError::BadInput(format!(
                    "authentication {other:?}: none, basic, bearer, token or api_key"
                )))
            }
        })
    }

    pub fn kind(&self) -> &'static str {
        match self {
            HttpAuth::None => "none",
            HttpAuth::Basic { .. } => "basic",
            HttpAuth::Bearer { .. } => "bearer",
            HttpAuth::Token { .. } => "token",
            HttpAuth::ApiKey { .. } => "api_key",
        }
    }

    /// The secret and the key it is posted under.
    fn secret(&self) -> Option<(&'static str, Option<&Sensitive<String>>)> {
        match self {
            HttpAuth::None => None,
            HttpAuth::Basic { password, .. } => Some(("http_pass", password.as_ref())),
            HttpAuth::Bearer { token } => Some(("http_bearer_token", token.as_ref())),
            HttpAuth::Token { key } | HttpAuth::ApiKey { key } => {
                Some(("http_api_key", key.as_ref()))
            }
        }
    }
}

/// A client certificate and its key for the gateway (`http_cli_cert`, `http_cli_key`).
#[derive(Debug, Clone)]
pub struct ClientIdentity {
    pub cert_pem: String,
    pub key_pem: Sensitive<String>,
}

/// The long-URL feature's parts (v1.17.2+, spec §5.14): a path and a query appended to the URL
/// and header lines sent with every post, stored as the `http_path`, `http_query` and
/// `http_headers` files. Empty parts are switched off (their old files stay unused).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LongUrl {
    /// Without the leading `/`.
    pub path: String,
    /// Without the leading `?`.
    pub query: String,
    /// `(name, value)` lines.
    pub headers: Vec<(String, String)>,
}

/// Header names the gateway's HTTP client sets itself: an extra line must not repeat them.
const OWN_HEADERS: [&str; 6] = [
    "host",
    "content-length",
    "content-type",
    "transfer-encoding",
    "connection",
    "ruuvi-hmac-sha256",
];

impl LongUrl {
    pub fn is_empty(&self) -> bool {
        self.path.is_empty() && self.query.is_empty() && self.headers.is_empty()
    }

    /// The switches this sets.
    pub fn switches(&self) -> ExtraHttp {
        ExtraHttp {
            path: !self.path.is_empty(),
            query: !self.query.is_empty(),
            headers: !self.headers.is_empty(),
        }
    }

    /// `Name: value` lines as a person types them (empty lines ignored).
    pub fn parse_headers(text: &str) -> Result<Vec<(String, String)>, GatewayError> {
        text.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(|l| {
                let (name, value) = l
                    .split_once(':')
                    .ok_or_else(|| bad(format!("header {l:?}: write it as Name: value")))?;
                Ok((name.trim().to_string(), value.trim().to_string()))
            })
            .collect()
    }

    /// The `http_headers` file: each line ending CRLF (the firmware refuses anything else).
    pub fn headers_file(&self) -> String {
        self.headers
            .iter()
            .map(|(n, v)| format!("{n}: {v}\r\n"))
            .collect()
    }

    fn check(&self) -> Result<(), GatewayError> {
        let printable = |s: &str| s.bytes().all(|b| (0x21..0x7f).contains(&b));
        if !self.path.is_empty()
            && (!printable(&self.path)
                || self.path.starts_with('/')
                || self.path.contains(['?', '#']))
        {
            return Err(bad("extra path: no spaces, no leading /, no ? or #"));
        }
        if !self.query.is_empty()
            && (!printable(&self.query) || self.query.starts_with('?') || self.query.contains('#'))
        {
            return Err(bad("extra query: no spaces, no leading ?, no #"));
        }
        for (name, value) in &self.headers {
            let token = !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
            if !token {
                return Err(bad(format!(
                    "header name {name:?}: letters, digits and - only"
                )));
            }
            if OWN_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
                return Err(bad(format!("header {name}: the gateway sets it itself")));
            }
            if value.chars().any(char::is_control) {
                return Err(bad(format!("header {name}: one line of text")));
            }
        }
        Ok(())
    }
}

/// The custom server part of a profile.
#[derive(Debug, Clone)]
pub struct CustomProfile {
    /// The long-URL parts (empty: none, switched off).
    pub extra: LongUrl,
    pub url: String,
    pub data_format: DataFormat,
    pub period_s: u32,
    pub auth: HttpAuth,
    /// Present: upload and use it. Absent: do not use a client certificate.
    pub client_identity: Option<ClientIdentity>,
    /// Present: upload it as the trust anchor and use it. Absent: the built-in CA bundle.
    pub server_ca_pem: Option<String>,
}

/// What Ruuvi Desk sets on a gateway: Ruuvi Cloud on/off and the own server.
#[derive(Debug, Clone)]
pub struct HttpProfile {
    pub ruuvi_cloud: bool,
    pub custom: Option<CustomProfile>,
}

fn bad(message: impl Into<String>) -> GatewayError {
    GatewayError::BadInput(message.into())
}

impl HttpProfile {
    /// Everything that can be checked before touching the gateway: URL form, interval,
    /// credentials for the chosen auth, PEM that parses, a key that matches its certificate,
    /// and what this firmware supports. `current` is the gateway's configuration now (a
    /// secret may only be kept if the gateway already has one for the same auth type).
    pub fn validate(
        &self,
        firmware: Option<FirmwareVersion>,
        current: Option<&GatewayConfig>,
    ) -> Result<(), GatewayError> {
        if let Some(fw) = firmware {
            if !fw.has_http_backend_settings() {
                return Err(GatewayError::Unsupported(format!(
                    "firmware {fw} has no Ruuvi Cloud switch, data formats or certificates (v1.14+): update the gateway first"
                )));
            }
        }
        let Some(custom) = &self.custom else {
            return Ok(());
        };
        let url =
            url::Url::parse(&custom.url).map_err(|e| bad(format!("URL {:?}: {e}", custom.url)))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
            return Err(bad(format!(
                "URL {:?}: must be http:// or https:// with a host",
                custom.url
            )));
        }
        if custom.url.len() > MAX_URL_LEN {
            return Err(bad(format!(
                "URL is {} characters; the gateway stores at most {MAX_URL_LEN}",
                custom.url.len()
            )));
        }
        custom.extra.check()?;
        if !custom.extra.is_empty() {
            if let Some(fw) = firmware.filter(|f| !f.has_extra_cfg()) {
                return Err(GatewayError::Unsupported(format!(
                    "firmware {fw} has no extra path, query or headers (v1.17.2+)"
                )));
            }
            // Its store lists the long-URL files from v1.17.2 on (the switches themselves are
            // hidden while only Ruuvi Cloud is on, §6.2).
            let has_files = |c: &GatewayConfig| {
                c.raw()
                    .get("storage")
                    .and_then(|s| s.get("http_path"))
                    .is_some()
            };
            if current.is_some_and(|c| !has_files(c)) {
                return Err(GatewayError::Unsupported(
                    "this gateway has no extra path, query or headers (v1.17.2+)".into(),
                ));
            }
        }
        if custom.url == RUUVI_CLOUD_URL {
            return Err(bad(
                "that is Ruuvi Cloud's URL: switch Ruuvi Cloud on instead",
            ));
        }
        if (custom.client_identity.is_some() || custom.server_ca_pem.is_some())
            && url.scheme() != "https"
        {
            return Err(bad("certificates need an https:// URL"));
        }
        if !(1..=u32::from(u16::MAX)).contains(&custom.period_s) {
            return Err(bad(format!(
                "interval {} s: must be 1 to {} seconds",
                custom.period_s,
                u16::MAX
            )));
        }
        if let Some(fw) = firmware {
            if custom.data_format != DataFormat::Ruuvi && !fw.has_http_period_and_formats() {
                return Err(GatewayError::Unsupported(format!(
                    "firmware {fw} only sends the `ruuvi` format (v1.15+ for {})",
                    custom.data_format.as_str()
                )));
            }
            if matches!(custom.auth, HttpAuth::ApiKey { .. }) && !fw.has_api_key_auth() {
                return Err(GatewayError::Unsupported(format!(
                    "firmware {fw} has no api_key auth (v1.16+)"
                )));
            }
        }
        if let HttpAuth::Basic { user, .. } = &custom.auth {
            if user.is_empty() || user.len() > 50 {
                return Err(bad("Basic auth needs a user name of 1 to 50 characters"));
            }
        }
        if let Some((key, secret)) = custom.auth.secret() {
            let limit = if key == "http_pass" { 50 } else { 255 };
            match secret {
                Some(s) if s.expose().is_empty() || s.expose().len() > limit => {
                    return Err(bad(format!("{key}: must be 1 to {limit} characters")));
                }
                Some(_) => {}
                None => {
                    // Keeping a secret needs one of the same kind on the gateway.
                    let same = current
                        .and_then(|c| c.http().custom)
                        .is_some_and(|c| c.auth == custom.auth.kind());
                    if !same {
                        return Err(bad(format!(
                            "{} auth needs its secret: the gateway has none for it",
                            custom.auth.kind()
                        )));
                    }
                }
            }
        }
        if let Some(id) = &custom.client_identity {
            let info = ruuvi_pki::inspect(&id.cert_pem)
                .map_err(|e| bad(format!("client certificate: {e}")))?;
            if info.server_auth && !info.client_auth {
                return Err(bad(
                    "the client certificate is for servers only (no clientAuth)",
                ));
            }
            if !ruuvi_pki::key_matches(&id.cert_pem, &id.key_pem)
                .map_err(|e| bad(format!("client key: {e}")))?
            {
                return Err(bad(
                    "the client key does not belong to the client certificate",
                ));
            }
        }
        if let Some(ca) = &custom.server_ca_pem {
            ruuvi_pki::inspect_all(ca).map_err(|e| bad(format!("server CA: {e}")))?;
        }
        Ok(())
    }

    /// The `POST /ruuvi.json` body: only the HTTP backend, secrets only when given, and the
    /// keys a partial update must repeat (§6.3). Never `lan_auth_type`.
    pub fn post_body(&self, current: &GatewayConfig) -> Map<String, Value> {
        let mut body = Map::new();
        body.insert("use_http_ruuvi".into(), Value::Bool(self.ruuvi_cloud));
        body.insert("use_http".into(), Value::Bool(self.custom.is_some()));
        if let Some(c) = &self.custom {
            body.insert("http_url".into(), c.url.clone().into());
            body.insert("http_data_format".into(), c.data_format.as_str().into());
            body.insert("http_period".into(), c.period_s.into());
            body.insert("http_auth".into(), c.auth.kind().into());
            if let HttpAuth::Basic { user, .. } = &c.auth {
                body.insert("http_user".into(), user.clone().into());
            }
            if let Some((key, Some(secret))) = c.auth.secret() {
                body.insert(key.into(), secret.expose().clone().into());
            }
            body.insert(
                "http_use_ssl_client_cert".into(),
                c.client_identity.is_some().into(),
            );
            body.insert(
                "http_use_ssl_server_cert".into(),
                c.server_ca_pem.is_some().into(),
            );
            // A gateway that has the long-URL switches keeps them when a POST leaves them
            // out: it would go on appending an old path and old headers to the new URL. Each
            // is on only where this profile has that part.
            if ExtraHttp::read(current).is_some() || !c.extra.is_empty() {
                c.extra.switches().insert_into(&mut body);
            }
        }
        current.keep_for_partial_post(&mut body);
        body
    }

    /// What reading the configuration back must show.
    pub fn expected(&self, firmware: Option<FirmwareVersion>) -> HttpBackend {
        HttpBackend {
            ruuvi_cloud: self.ruuvi_cloud,
            custom: self.custom.as_ref().map(|c| CustomServer {
                url: c.url.clone(),
                data_format: c.data_format.as_str().to_string(),
                period_s: firmware
                    .is_none_or(|f| f.has_http_period_and_formats())
                    .then_some(c.period_s),
                auth: c.auth.kind().to_string(),
                user: match &c.auth {
                    HttpAuth::Basic { user, .. } => Some(user.clone()),
                    _ => None,
                },
                use_client_cert: c.client_identity.is_some(),
                use_server_cert: c.server_ca_pem.is_some(),
                // Compared only where the gateway reports them.
                extra: Some(c.extra.switches()),
            }),
        }
    }
}

/// One setting that a push would change, for a preview (values as a person reads them).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
pub struct Change {
    /// The gateway's own key (`use_cloud`, `http_url`, …).
    pub key: String,
    /// What its web page calls it.
    pub label: String,
    pub before: String,
    pub after: String,
}

impl HttpBackend {
    /// Every setting that differs between `self` (the gateway now) and `to` (a profile's
    /// [`HttpProfile::expected`]). Secrets are never shown; a new one is listed as "replaced".
    pub fn changes(&self, to: &HttpBackend, profile: &HttpProfile) -> Vec<Change> {
        let mut out = Vec::new();
        let mut add = |key: &str, label: &str, before: String, after: String| {
            if before != after {
                out.push(Change {
                    key: key.into(),
                    label: label.into(),
                    before,
                    after,
                });
            }
        };
        let on = |b: bool| if b { "on" } else { "off" }.to_string();
        add(
            "use_cloud",
            "Ruuvi Cloud",
            on(self.ruuvi_cloud),
            on(to.ruuvi_cloud),
        );
        add(
            "use_http",
            "Own server",
            on(self.custom.is_some()),
            on(to.custom.is_some()),
        );
        let (Some(after), before) = (&to.custom, self.custom.as_ref()) else {
            return out;
        };
        let text = |f: &dyn Fn(&CustomServer) -> String| before.map(f).unwrap_or_default();
        add(
            "http_url",
            "URL",
            text(&|c| c.url.clone()),
            after.url.clone(),
        );
        add(
            "http_data_format",
            "Data format",
            text(&|c| c.data_format.clone()),
            after.data_format.clone(),
        );
        if let Some(p) = after.period_s {
            add(
                "http_period",
                "Interval (s)",
                text(&|c| c.period_s.map(|p| p.to_string()).unwrap_or_default()),
                p.to_string(),
            );
        }
        add(
            "http_auth",
            "Authentication",
            text(&|c| c.auth.clone()),
            after.auth.clone(),
        );
        if let Some(user) = &after.user {
            add(
                "http_user",
                "User",
                text(&|c| c.user.clone().unwrap_or_default()),
                user.clone(),
            );
        }
        if let Some(c) = &profile.custom {
            if let Some((key, Some(_))) = c.auth.secret() {
                add(key, "Secret", "(hidden)".into(), "replaced".into());
            }
        }
        add(
            "http_use_ssl_client_cert",
            "Client certificate",
            on(before.is_some_and(|c| c.use_client_cert)),
            on(after.use_client_cert),
        );
        add(
            "http_use_ssl_server_cert",
            "Own server CA",
            on(before.is_some_and(|c| c.use_server_cert)),
            on(after.use_server_cert),
        );
        // Hidden while only Ruuvi Cloud is on (§6.2): then they read as off.
        if let Some(will) = after.extra {
            let was = before.and_then(|c| c.extra).unwrap_or_default();
            for (key, label, a, b) in extra_switches(was, will) {
                add(key, label, on(a), on(b));
            }
        }
        out
    }

    /// Compares what was read back with what was meant, over what the firmware reports.
    pub fn differences(&self, read: &HttpBackend) -> Vec<String> {
        let mut out = Vec::new();
        if self.ruuvi_cloud != read.ruuvi_cloud {
            out.push(format!(
                "Ruuvi Cloud is {}",
                if read.ruuvi_cloud { "on" } else { "off" }
            ));
        }
        match (&self.custom, &read.custom) {
            (None, None) => {}
            (Some(_), None) => out.push("the own server is off".into()),
            (None, Some(_)) => out.push("the own server is still on".into()),
            (Some(want), Some(got)) => {
                let mut field = |name: &str, a: String, b: String| {
                    if a != b {
                        out.push(format!("{name} is {b:?}, not {a:?}"));
                    }
                };
                field("http_url", want.url.clone(), got.url.clone());
                field(
                    "http_data_format",
                    want.data_format.clone(),
                    got.data_format.clone(),
                );
                field("http_auth", want.auth.clone(), got.auth.clone());
                if want.user.is_some() {
                    field(
                        "http_user",
                        format!("{:?}", want.user),
                        format!("{:?}", got.user),
                    );
                }
                if want.period_s.is_some() && got.period_s.is_some() {
                    field(
                        "http_period",
                        format!("{:?}", want.period_s),
                        format!("{:?}", got.period_s),
                    );
                }
                field(
                    "http_use_ssl_client_cert",
                    want.use_client_cert.to_string(),
                    got.use_client_cert.to_string(),
                );
                field(
                    "http_use_ssl_server_cert",
                    want.use_server_cert.to_string(),
                    got.use_server_cert.to_string(),
                );
                if let (Some(want), Some(got)) = (want.extra, got.extra) {
                    for (key, _, a, b) in extra_switches(want, got) {
                        field(key, a.to_string(), b.to_string());
                    }
                }
            }
        }
        out
    }
}

/// The three long-URL switches side by side: key, label, `a`'s and `b`'s value.
fn extra_switches(a: ExtraHttp, b: ExtraHttp) -> [(&'static str, &'static str, bool, bool); 3] {
    [
        (EXTRA_PATH_KEY, "Extra URL path", a.path, b.path),
        (EXTRA_QUERY_KEY, "Extra URL query", a.query, b.query),
        (
            EXTRA_HEADERS_KEY,
            "Extra HTTP headers",
            a.headers,
            b.headers,
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cfg(v: Value) -> GatewayConfig {
        GatewayConfig::from_json(v).unwrap()
    }

    #[test]
    fn ruuvi_cloud_only_is_read_through_the_get_rewrite() {
        for doc in [
            // v1.14 – v1.17.2 and HEAD forms of "Ruuvi Cloud only".
            json!({"use_http_ruuvi": true, "use_http": true, "http_url": RUUVI_CLOUD_URL, "http_data_format": "ruuvi", "http_auth": "none"}),
            json!({"use_http_ruuvi": true, "use_http": true, "http_url": RUUVI_CLOUD_URL, "http_period": 10, "http_data_format": "ruuvi", "http_auth": "none", "http_use_ssl_client_cert": false}),
        ] {
            assert_eq!(
                cfg(doc).http(),
                HttpBackend {
                    ruuvi_cloud: true,
                    custom: None
                }
            );
        }
        let both_off =
            cfg(json!({"use_http_ruuvi": false, "use_http": false, "http_url": "http://x/"}));
        assert_eq!(both_off.http().custom, None);
        assert!(!both_off.http().ruuvi_cloud);
        let own = cfg(
            json!({"use_http_ruuvi": false, "use_http": true, "http_url": "https://desk:8443/r", "http_period": 5, "http_data_format": "ruuvi_decoded", "http_auth": "basic", "http_user": "gw1", "http_use_ssl_client_cert": true, "http_use_ssl_server_cert": true}),
        );
        let c = own.http().custom.unwrap();
        assert_eq!(
            (c.url.as_str(), c.period_s, c.user.as_deref()),
            ("https://desk:8443/r", Some(5), Some("gw1"))
        );
    }

    fn profile(auth: HttpAuth) -> HttpProfile {
        HttpProfile {
            ruuvi_cloud: true,
            custom: Some(CustomProfile {
                extra: Default::default(),
                url: "https://192.168.1.20:8443/ruuvi".into(),
                data_format: DataFormat::RuuviRawAndDecoded,
                period_s: 10,
                auth,
                client_identity: None,
                server_ca_pem: None,
            }),
        }
    }

    #[test]
    fn post_body_follows_the_merge_rules() {
        let current = cfg(
            json!({"mqtt_data_format": "ruuvi_decoded", "mqtt_prefix": "home/", "mqtt_client_id": "", "lan_auth_type": "lan_auth_ruuvi"}),
        );
        let body = profile(HttpAuth::Bearer {
            token: Some(Sensitive::new("s3cr3t".into())),
        })
        .post_body(&current);
        assert_eq!(body["http_bearer_token"], "s3cr3t");
        assert_eq!(body["http_auth"], "bearer");
        assert_eq!(
            body["mqtt_data_format"], "ruuvi_decoded",
            "kept, or it would reset"
        );
        assert_eq!(body["mqtt_prefix"], "home/");
        assert!(!body.contains_key("mqtt_client_id"), "empty resets anyway");
        assert!(!body.contains_key("lan_auth_type"));
        // A secret not given is not sent (the gateway keeps its own).
        let body = profile(HttpAuth::Basic {
            user: "gw".into(),
            password: None,
        })
        .post_body(&current);
        assert!(!body.contains_key("http_pass"));
        assert_eq!(body["http_user"], "gw");
        let cloud_only = HttpProfile {
            ruuvi_cloud: true,
            custom: None,
        }
        .post_body(&current);
        assert_eq!(cloud_only["use_http"], false);
    }

    #[test]
    fn long_url_switches_are_said_off_where_the_gateway_has_them() {
        let p = profile(HttpAuth::None);
        // v1.17.2+: the switches are in its configuration, so the push names them.
        let newer = cfg(
            json!({"use_http": true, "http_url": "http://old/r", "http_auth": "none",
            "http_use_extra_http_path": true, "http_use_extra_http_query": false,
            "http_use_extra_http_headers": true}),
        );
        let body = p.post_body(&newer);
        for key in [EXTRA_PATH_KEY, EXTRA_QUERY_KEY, EXTRA_HEADERS_KEY] {
            assert_eq!(body[key], false, "{key}");
        }
        let read = newer.http();
        assert_eq!(
            read.custom.as_ref().unwrap().extra,
            Some(ExtraHttp {
                path: true,
                query: false,
                headers: true
            })
        );
        let differences = p.expected(None).differences(&read);
        assert!(differences.iter().any(|d| d.starts_with(EXTRA_PATH_KEY)));
        assert!(differences.iter().any(|d| d.starts_with(EXTRA_HEADERS_KEY)));
        assert!(!differences.iter().any(|d| d.starts_with(EXTRA_QUERY_KEY)));
        // A restore puts them back as they were.
        assert_eq!(newer.restore_http_body()[EXTRA_PATH_KEY], true);
        // Older firmware has no such keys: none are sent, none compared.
        let older = cfg(json!({"use_http": true, "http_url": "http://old/r", "http_auth": "none"}));
        assert!(!p.post_body(&older).contains_key(EXTRA_PATH_KEY));
        assert_eq!(older.http().custom.unwrap().extra, None);
        assert!(!p
            .expected(None)
            .differences(&older.http())
            .iter()
            .any(|d| d.starts_with("http_use_extra")));
    }

    #[test]
    fn validation_says_what_is_wrong() {
        let v15 = FirmwareVersion::parse("v1.15.0");
        let err = |p: HttpProfile, fw| p.validate(fw, None).unwrap_err().to_string();
        let mut p = profile(HttpAuth::None);
        p.custom.as_mut().unwrap().url = "ftp://x/".into();
        assert!(err(p, None).contains("http://"));
        let mut p = profile(HttpAuth::None);
        p.custom.as_mut().unwrap().url = format!("https://x/{}", "a".repeat(260));
        assert!(err(p, None).contains("255"));
        let mut p = profile(HttpAuth::None);
        p.custom.as_mut().unwrap().period_s = 70_000;
        assert!(err(p, None).contains("interval"));
        assert!(err(
            profile(HttpAuth::ApiKey {
                key: Some(Sensitive::new("k".into()))
            }),
            v15
        )
        .contains("v1.16"));
        assert!(err(profile(HttpAuth::Bearer { token: None }), None).contains("secret"));
        let old = FirmwareVersion::parse("v1.13.1");
        assert!(err(profile(HttpAuth::None), old).contains("v1.14"));
        let mut p = profile(HttpAuth::None);
        p.custom.as_mut().unwrap().url = "http://x/".into();
        p.custom.as_mut().unwrap().server_ca_pem = Some("x".into());
        assert!(err(p, None).contains("https"));
        // Keeping the bearer token is fine when the gateway already uses bearer auth.
        let current =
            cfg(json!({"use_http": true, "http_url": "https://a/", "http_auth": "bearer"}));
        profile(HttpAuth::Bearer { token: None })
            .validate(v15, Some(&current))
            .unwrap();
    }

    #[test]
    fn areas_read_every_generation() {
        let c = cfg(
            json!({"use_mqtt": true, "mqtt_server": "broker", "mqtt_port": 8883, "mqtt_prefix": "ruuvi/x/",
            "lan_auth_type": "lan_auth_ruuvi", "lan_auth_user": "bob", "lan_auth_api_key_rw_use": true,
            "scan_filter_list": ["AA:BB:CC:DD:EE:FF"], "ntp_use": true, "ntp_server1": "time.google.com",
            "unknown_future_key": {"x": 1}}),
        );
        let a = c.areas();
        assert_eq!(
            (
                a.mqtt.mqtt_server.as_str(),
                a.mqtt.mqtt_port,
                a.mqtt.mqtt_data_format
            ),
            ("broker", 8883, None)
        );
        assert_eq!(a.lan_auth.lan_auth_user, "bob");
        assert_eq!(a.scan.scan_filter_list, ["AA:BB:CC:DD:EE:FF"]);
        assert_eq!(a.scan.scan_2mbit_phy, None, "absent before v1.16");
        assert!(a.ntp.ntp_use);
        assert!(
            c.raw().contains_key("unknown_future_key"),
            "unknown keys are kept"
        );
    }

    #[test]
    fn differences_name_each_field() {
        let want = profile(HttpAuth::None).expected(None);
        let mut got = want.clone();
        got.custom.as_mut().unwrap().data_format = "ruuvi".into();
        assert_eq!(
            want.differences(&got),
            ["http_data_format is \"ruuvi\", not \"ruuvi_raw_and_decoded\""]
        );
        assert!(want.differences(&want).is_empty());
    }

    #[test]
    fn changes_list_what_a_push_would_alter_without_secrets() {
        let now = cfg(json!({"use_cloud": true, "use_http": false}));
        let p = profile(HttpAuth::Bearer {
            token: Some(Sensitive::new("s3cret".into())),
        });
        let changes = now.http().changes(&p.expected(None), &p);
        let keys: Vec<&str> = changes.iter().map(|c| c.key.as_str()).collect();
        assert!(keys.contains(&"use_http"), "{keys:?}");
        assert!(keys.contains(&"http_url"), "{keys:?}");
        assert!(keys.contains(&"http_auth"), "{keys:?}");
        let secret = changes
            .iter()
            .find(|c| c.key == "http_bearer_token")
            .unwrap();
        assert_eq!(
            (secret.before.as_str(), secret.after.as_str()),
            ("(hidden)", "replaced")
        );
        assert!(!format!("{changes:?}").contains("s3cret"));
        // Nothing to change: nothing listed (no secret given = the gateway keeps its own).
        let keep = profile(HttpAuth::None);
        let expected = keep.expected(None);
        assert!(expected.changes(&expected, &keep).is_empty());
    }
}
