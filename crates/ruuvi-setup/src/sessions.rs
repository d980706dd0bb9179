//! The gateways a user added and the ones logged in now: discovery, login with remembered
//! credentials, details as last read, forgetting.

use parking_lot::Mutex;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use ruuvi_gateway::discovery::{self, Discovered, Found};
use ruuvi_gateway::{ClientOptions, Credentials, Endpoint, GatewayClient, GatewayConfig};
use ruuvi_secrets::{SecretKind, SecretName, SecretStore, Sensitive};

use crate::list::{self, LoginKind, SavedGateway};
use crate::{
    admin, DiscoverRequest, FleetSummary, FoundGateway, GatewayDetails, LanLoginForm, LoginRequest,
    SetupError,
};

/// What happens to one of a gateway's API keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum KeyAction {
    Keep,
    /// A new one, made here and kept in the keychain.
    Generate,
    Remove,
}

/// A logged-in gateway.
pub(crate) struct Session {
    pub(crate) client: GatewayClient,
    /// The configuration as last read (or read back after a change).
    pub(crate) config: GatewayConfig,
}

pub(crate) type SharedSession = Arc<tokio::sync::Mutex<Session>>;

pub struct Sessions {
    secrets: Arc<dyn SecretStore>,
    list: Mutex<list::GatewayList>,
    sessions: Mutex<HashMap<String, SharedSession>>,
    options: ClientOptions,
    /// Simulated demo gateways and their passwords: always "found".
    demo: Mutex<Vec<(Endpoint, Sensitive<String>)>>,
}

/// The keychain id of a gateway's login secrets: its endpoint, with what a keychain name
/// cannot hold replaced (`[`, `]` of an IPv6 address).
fn secret_id(endpoint: &str) -> String {
    endpoint
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ":._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(128)
        .collect()
}

fn keychain_name(kind: SecretKind, endpoint: &str) -> Result<SecretName, SetupError> {
    SecretName::new(kind, &secret_id(endpoint)).map_err(|e| SetupError::BadInput(e.to_string()))
}

impl Sessions {
    /// The list kept in `<data_dir>/gateways.json`; nobody logged in yet.
    pub fn new(data_dir: &Path, secrets: Arc<dyn SecretStore>) -> Result<Self, SetupError> {
        Ok(Self {
            list: Mutex::new(list::GatewayList::load(&data_dir.join("gateways.json"))?),
            secrets,
            sessions: Mutex::new(HashMap::new()),
            options: ClientOptions::default(),
            demo: Mutex::new(Vec::new()),
        })
    }

    /// Demo mode's simulated gateways (on loopback): listed by every discovery.
    pub fn add_demo(&self, addr: std::net::SocketAddr, password: Sensitive<String>) {
        let endpoint = Endpoint::new(addr.ip().to_string(), addr.port());
        self.demo.lock().push((endpoint, password));
    }

    /// Forgets a demo gateway that stopped.
    pub fn remove_demo(&self, addr: std::net::SocketAddr) {
        let endpoint = Endpoint::new(addr.ip().to_string(), addr.port());
        self.demo.lock().retain(|(e, _)| *e != endpoint);
    }

    /// The demo gateways' addresses and factory passwords (simulated: not secrets).
    pub fn demo_logins(&self) -> Vec<(String, String)> {
        self.demo
            .lock()
            .iter()
            .map(|(e, p)| (e.to_string(), p.expose().clone()))
            .collect()
    }

    fn is_demo(&self, endpoint: &str) -> bool {
        self.demo
            .lock()
            .iter()
            .any(|(e, _)| e.to_string() == endpoint)
    }

    /// The gateways the user added, in the order they were added.
    pub fn list(&self) -> Vec<SavedGateway> {
        self.list.lock().all().to_vec()
    }

    pub fn is_logged_in(&self, endpoint: &str) -> bool {
        self.sessions.lock().contains_key(endpoint)
    }

    pub async fn discover(
        &self,
        request: DiscoverRequest,
    ) -> Result<Vec<FoundGateway>, SetupError> {
        let timeout = Duration::from_secs(3);
        let mut found: Vec<FoundGateway> = Vec::new();
        let demo = self.demo.lock().clone();
        for (index, (endpoint, password)) in demo.into_iter().enumerate() {
            found.push(FoundGateway {
                discovered: Discovered {
                    endpoint,
                    name: Some(format!("Demo gateway {}", index + 1)),
                    mac_suffix: None,
                    found: Found::Manual,
                    lan_auth: Some("lan_auth_default".into()),
                    firmware: None,
                    reachable: Ok(()),
                },
                demo_password: Some(password.expose().clone()),
            });
        }
        let mut add = |list: Vec<Discovered>| {
            for d in list {
                if !found.iter().any(|f| f.discovered.endpoint == d.endpoint) {
                    found.push(FoundGateway {
                        discovered: d,
                        demo_password: None,
                    });
                }
            }
        };
        if request.mdns {
            add(
                discovery::discover(Duration::from_secs(request.mdns_seconds.min(30)), timeout)
                    .await?,
            );
        }
        if !request.probe.trim().is_empty() {
            let targets = discovery::parse_targets(&request.probe)?;
            add(discovery::probe(targets, Found::Probe, 32, timeout).await);
        }
        Ok(found)
    }

    fn remembered(&self, kind: SecretKind, endpoint: &str) -> Option<Sensitive<String>> {
        let name = keychain_name(kind, endpoint).ok()?;
        match self.secrets.get(&name) {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!("not reading {name} from the keychain: {e}");
                None
            }
        }
    }

    /// Logs in, reads the gateway's settings and adds it to the list.
    pub async fn login(&self, request: LoginRequest) -> Result<GatewayDetails, SetupError> {
        let endpoint = Endpoint::parse(&request.endpoint)?;
        let key = endpoint.to_string();
        let given = request
            .api_key
            .clone()
            .filter(|k| !k.expose().is_empty())
            .map(|k| (LoginKind::ApiKey, k))
            .or_else(|| {
                request
                    .password
                    .clone()
                    .filter(|p| !p.expose().is_empty())
                    .map(|p| (LoginKind::Password, p))
            });
        let saved = self.list.lock().get(&key).cloned();
        let (kind, secret) = match given {
            Some(g) => (g.0, Some(g.1)),
            None => {
                let kind = saved
                    .as_ref()
                    .map(|s| s.login)
                    .unwrap_or(LoginKind::Password);
                let secret = match kind {
                    LoginKind::ApiKey => self.remembered(SecretKind::GatewayApiKeyRw, &key),
                    LoginKind::Password => self.remembered(SecretKind::GatewayPassword, &key),
                    LoginKind::None => None,
                };
                match secret {
                    Some(s) => (kind, Some(s)),
                    None => (LoginKind::None, None),
                }
            }
        };
        let user = if request.user.is_empty() {
            admin()
        } else {
            request.user.clone()
        };
        let credentials = match (&kind, &secret) {
            (LoginKind::ApiKey, Some(k)) => Credentials::ApiKey(k.clone()),
            (LoginKind::Password, Some(p)) => Credentials::Password {
                user: user.clone(),
                password: p.clone(),
            },
            _ => Credentials::None,
        };
        let mut client = GatewayClient::new(endpoint, credentials, self.options.clone());
        client.login().await?;
        let config = client.config().await?;
        // Reading paused forwarding for 60 s; an unchanged POST makes it 5 s.
        if let Err(e) = client.post_config(&config.unchanged_body()).await {
            tracing::info!(gateway = %key, "forwarding resumes in 60 s: {e}");
        }
        let mut remembered = saved
            .as_ref()
            .is_some_and(|s| s.remembered && s.login == kind);
        // A demo gateway's password dies with it: nothing to remember.
        if request.remember && !self.is_demo(&key) {
            if let Some(secret) = &secret {
                let name = match kind {
                    LoginKind::ApiKey => SecretKind::GatewayApiKeyRw,
                    _ => SecretKind::GatewayPassword,
                };
                self.secrets
                    .set(&keychain_name(name, &key)?, secret)
                    .map_err(|e| SetupError::Keychain(e.to_string()))?;
                remembered = true;
            }
        }
        let details = details_of(&key, &client, &config, remembered);
        let expected = saved
            .as_ref()
            .map(|s| s.expected.clone())
            .unwrap_or_default();
        self.list.lock().put(SavedGateway {
            summary: Some(FleetSummary::of(&config, &expected, now_ms())),
            expected,
            endpoint: key.clone(),
            name: details.name.clone(),
            mac: details.mac.clone(),
            firmware: details.firmware.clone(),
            user,
            login: kind,
            remembered,
            last_change: saved.and_then(|s| s.last_change),
            demo: self.is_demo(&key),
        })?;
        self.sessions.lock().insert(
            key,
            Arc::new(tokio::sync::Mutex::new(Session { client, config })),
        );
        Ok(details)
    }

    /// A logged-in gateway's details as last read (or read back after a change): no request
    /// to the gateway, so its forwarding is not paused again.
    pub async fn details(&self, endpoint: &str) -> Result<GatewayDetails, SetupError> {
        let session = self.session(endpoint)?;
        let session = session.lock().await;
        let remembered = self.list.lock().get(endpoint).is_some_and(|g| g.remembered);
        Ok(details_of(
            endpoint,
            &session.client,
            &session.config,
            remembered,
        ))
    }

    /// Removes the gateway from the list, ends its session and deletes remembered credentials.
    pub async fn forget(&self, endpoint: &str) -> Result<bool, SetupError> {
        let session = self.sessions.lock().remove(endpoint);
        if let Some(s) = session {
            let _ = s.lock().await.client.logout().await;
        }
        for kind in [SecretKind::GatewayPassword, SecretKind::GatewayApiKeyRw] {
            if let Ok(name) = keychain_name(kind, endpoint) {
                if let Err(e) = self.secrets.delete(&name) {
                    tracing::warn!("could not delete {name}: {e}");
                }
            }
        }
        self.list.lock().remove(endpoint)
    }

    pub(crate) fn session(&self, endpoint: &str) -> Result<SharedSession, SetupError> {
        self.sessions
            .lock()
            .get(endpoint)
            .cloned()
            .ok_or_else(|| SetupError::NotLoggedIn(endpoint.to_string()))
    }

    pub(crate) fn all_sessions(&self) -> Vec<SharedSession> {
        self.sessions.lock().values().cloned().collect()
    }

    /// New read-only and/or read-write API keys for each gateway in `endpoints` (generated here
    /// as the gateway's web page makes them, or removed), 8 gateways at a time, results in
    /// `endpoints` order. Keys go to the keychain before the gateway has them; a new read-write
    /// key is what Ruuvi Desk logs in with from then on, proved by logging in with it (the old
    /// access is put back otherwise, and the keychain too).
    pub async fn change_lan_access(
        &self,
        endpoints: Vec<String>,
        login: Option<LanLoginForm>,
        read: KeyAction,
        write: KeyAction,
        on_step: crate::OnStep,
    ) -> Vec<crate::ApplyResult> {
        use futures::StreamExt as _;
        futures::stream::iter(endpoints)
            .map(|endpoint| {
                let on_step = on_step.clone();
                let login = login.clone();
                async move {
                    match self
                        .change_access_of(&endpoint, login.as_ref(), read, write, &on_step)
                        .await
                    {
                        Ok(r) => r,
                        Err(e) => crate::ApplyResult {
                            endpoint: endpoint.clone(),
                            mac: None,
                            state: ruuvi_gateway::GatewayState::Unchanged,
                            error: Some(e.to_string()),
                            undoable: false,
                        },
                    }
                }
            })
            .buffered(8)
            .collect()
            .await
    }

    async fn change_access_of(
        &self,
        endpoint: &str,
        login: Option<&LanLoginForm>,
        read: KeyAction,
        write: KeyAction,
        on_step: &crate::OnStep,
    ) -> Result<crate::ApplyResult, SetupError> {
        use ruuvi_gateway::{push_lan_access, GatewayState, KeyChange, LanAccessProfile};
        let session = self.session(endpoint)?;
        let mut session = session.lock().await;
        let change = |a: KeyAction| match a {
            KeyAction::Keep => KeyChange::Keep,
            KeyAction::Generate => KeyChange::Set(ruuvi_gateway::lan::generate_api_key()),
            KeyAction::Remove => KeyChange::Remove,
        };
        let login = login
            .map(|l| ruuvi_gateway::LanLogin::parse(&l.kind, &l.user, l.password.clone()))
            .transpose()
            .map_err(|e| SetupError::BadInput(e.to_string()))?;
        let profile = LanAccessProfile {
            login,
            api_key: change(read),
            api_key_rw: change(write),
        };
        let after = profile.credentials_after(session.client.credentials());
        // Into the keychain first; put back below if the gateway does not take them.
        let mut kept = ruuvi_secrets::Replaced::new(self.secrets.as_ref());
        for (change, kind) in [
            (&profile.api_key, SecretKind::GatewayApiKey),
            (&profile.api_key_rw, SecretKind::GatewayApiKeyRw),
        ] {
            let value = match change {
                KeyChange::Keep => continue,
                KeyChange::Set(k) => Some(k),
                KeyChange::Remove => None,
            };
            kept.put(keychain_name(kind, endpoint)?, value)
                .map_err(|e| SetupError::Keychain(e.to_string()))?;
        }
        if let (Some(p), Credentials::Password { .. }) = (profile.new_password(), &after) {
            kept.put(
                keychain_name(SecretKind::GatewayPassword, endpoint)?,
                Some(p),
            )
            .map_err(|e| SetupError::Keychain(e.to_string()))?;
        }
        let report = |p: ruuvi_gateway::Progress| {
            on_step(crate::StepEvent {
                endpoint: endpoint.to_string(),
                percent: crate::backends::percent_of(&p, 0, 0),
                message: crate::backends::describe(&p),
            })
        };
        let before = session.config.clone();
        let outcome = push_lan_access(&mut session.client, &profile, &after, &report).await;
        if let Some(read_back) = &outcome.read_back {
            session.config = read_back.clone();
        }
        if outcome.state == GatewayState::Applied {
            // How Ruuvi Desk logs in from now on (what it uses is in the keychain).
            let (kind, user) = match &after {
                Credentials::ApiKey(_) => (LoginKind::ApiKey, None),
                Credentials::Password { user, .. } => (LoginKind::Password, Some(user.clone())),
                _ => (LoginKind::None, None),
            };
            self.list.lock().update(endpoint, |g| {
                g.login = kind;
                g.remembered = kind != LoginKind::None;
                if let Some(user) = user {
                    g.user = user;
                }
            })?;
            // The login type and user it set are expected from now on (never the secrets).
            match (&outcome.read_back, profile.post_body(&before)) {
                (Some(read_back), Ok(body)) => {
                    self.note_applied(endpoint, &body, &before, read_back)
                }
                (Some(read_back), Err(_)) => self.note_read(endpoint, read_back),
                (None, _) => {}
            }
        } else {
            for (name, e) in kept.put_back() {
                tracing::warn!("could not put back {name}: {e}");
            }
        }
        let result = crate::backends::result_of(&outcome);
        self.record_change(
            endpoint,
            result
                .error
                .clone()
                .unwrap_or_else(|| "LAN access changed".into()),
        );
        Ok(result)
    }

    /// Reads each logged-in gateway's settings again (8 at a time) for the fleet table; each
    /// read pauses the gateway's forwarding for 5 s. Gateways not logged in are skipped.
    pub async fn read_again(
        &self,
        endpoints: Vec<String>,
    ) -> Vec<(String, Result<(), SetupError>)> {
        let permits = Arc::new(tokio::sync::Semaphore::new(8));
        let mut tasks = tokio::task::JoinSet::new();
        for (index, endpoint) in endpoints.into_iter().enumerate() {
            let Ok(session) = self.session(&endpoint) else {
                continue;
            };
            let permits = permits.clone();
            tasks.spawn(async move {
                let _permit = permits.acquire_owned().await.expect("never closed");
                let mut session = session.lock().await;
                let read = async {
                    let config = session.client.config().await?;
                    if let Err(e) = session.client.post_config(&config.unchanged_body()).await {
                        tracing::info!(gateway = %endpoint, "forwarding resumes in 60 s: {e}");
                    }
                    session.config = config.clone();
                    Ok::<_, SetupError>(config)
                }
                .await;
                (index, endpoint, read)
            });
        }
        let mut out = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            let (index, endpoint, read) = joined.expect("reads do not panic");
            let result = read.map(|config| self.note_read(&endpoint, &config));
            out.push((index, endpoint, result));
        }
        out.sort_by_key(|(i, _, _)| *i);
        out.into_iter().map(|(_, e, r)| (e, r)).collect()
    }

    /// The fleet summary of a gateway whose settings were just read.
    pub(crate) fn note_read(&self, endpoint: &str, config: &GatewayConfig) {
        if let Err(e) = self.list.lock().update(endpoint, |g| {
            g.summary = Some(FleetSummary::of(config, &g.expected, now_ms()));
            if let Some(f) = config.fw_ver() {
                g.firmware = Some(f.to_string());
            }
        }) {
            tracing::warn!("gateways.json: {e}");
        }
    }

    /// The firmware a gateway came back with after an update.
    pub(crate) fn note_firmware(&self, endpoint: &str, version: &str) {
        if let Err(e) = self
            .list
            .lock()
            .update(endpoint, |g| g.firmware = Some(version.to_string()))
        {
            tracing::warn!("gateways.json: {e}");
        }
    }

    /// After an applied change: what it set is expected from now on.
    pub(crate) fn note_applied(
        &self,
        endpoint: &str,
        body: &serde_json::Map<String, serde_json::Value>,
        before: &GatewayConfig,
        after: &GatewayConfig,
    ) {
        if let Err(e) = self.list.lock().update(endpoint, |g| {
            crate::fleet::expect_from(&mut g.expected, body, before, after);
            g.summary = Some(FleetSummary::of(after, &g.expected, now_ms()));
        }) {
            tracing::warn!("gateways.json: {e}");
        }
    }

    /// Notes how the latest change to a gateway ended (shown in the list).
    pub(crate) fn record_change(&self, endpoint: &str, summary: String) {
        if let Err(e) = self
            .list
            .lock()
            .update(endpoint, |g| g.last_change = Some(summary))
        {
            tracing::warn!("gateways.json: {e}");
        }
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn details_of(
    endpoint: &str,
    client: &GatewayClient,
    config: &GatewayConfig,
    remembered: bool,
) -> GatewayDetails {
    GatewayDetails {
        endpoint: endpoint.to_string(),
        // The auth JSON's name; after an API-key login (no /auth) the same name from its MAC.
        name: client
            .info()
            .map(|i| i.gateway_name.clone())
            .filter(|n| !n.is_empty())
            .or_else(|| ruuvi_gateway::lan::realm(config)),
        mac: client
            .mac()
            .map(str::to_string)
            .or(config.gw_mac().map(str::to_string)),
        firmware: client.firmware().map(|f| f.to_string()),
        lan_auth: config.lan_auth_type().map(str::to_string),
        http: config.http(),
        mqtt: config.areas().mqtt,
        scan: ruuvi_gateway::ScanProfile::read(config),
        scan_list: config.raw().contains_key("scan_filter_list"),
        read_key: config.bool("lan_auth_api_key_use").unwrap_or(false),
        write_key: config.bool("lan_auth_api_key_rw_use").unwrap_or(false),
        storage: config.storage(),
        remote: ruuvi_gateway::RemoteCfgState::read(config),
        update_url: config.str("fw_update_url").map(str::to_string),
        auto_update: ruuvi_gateway::AutoUpdateProfile::read(config),
        statistics: ruuvi_gateway::StatisticsState::read(config),
        time_place: ruuvi_gateway::TimePlaceProfile::read(config),
        remembered,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_keychain_id_holds_only_what_a_keychain_name_can() {
        assert_eq!(secret_id("[fe80::1]:80"), "_fe80::1_:80");
        assert_eq!(secret_id("gw.local:80"), "gw.local:80");
    }
}
