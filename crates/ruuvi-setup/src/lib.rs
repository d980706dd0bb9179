//! Setting gateways up the way the UI does it, for both faces (the app's commands and
//! `ruuvictl serve --ui`): find gateways, log in (credentials remembered in the keychain),
//! show the HTTP(S) backend, preview a form's changes, push it to one or many gateways with
//! progress, let the gateway test a URL, and "send data to this computer" — certificates
//! issued, the receiver told what to expect, the gateway configured — in one call.
//!
//! Reading a gateway's configuration pauses its data forwarding for 60 s (spec §4); every read
//! here is followed by an unchanged POST that shortens the pause to 5 s.

mod certs;
mod form;
mod list;
mod mqtt_form;

use parking_lot::Mutex;
use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use ruuvi_gateway::discovery::{self, Discovered, Found};
use ruuvi_gateway::{
    push_profile, BackendProfile, Change, ClientIdentity, ClientOptions, Credentials, DataFormat,
    Endpoint, GatewayClient, GatewayConfig, GatewayError, GatewayState, HttpBackend, HttpProfile,
    Progress, PushOutcome, ValidateOutcome,
};
use ruuvi_pki::Pki;
use ruuvi_protocol::MacAddress;
use ruuvi_secrets::{SecretKind, SecretName, SecretStore, Sensitive};

pub use certs::{CertSummary, Certificates, ClientSummary};
pub use form::{ClientCertChoice, OwnServerForm, ProfileForm, ServerCaChoice};
pub use list::{parse_gateway_list, LoginKind, SavedGateway};
pub use mqtt_form::{MqttBrokerForm, MqttForm};

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(transparent)]
    Client(#[from] GatewayError),
    #[error("log in to {0} first")]
    NotLoggedIn(String),
    #[error("{0}")]
    BadInput(String),
    #[error("{0}")]
    Gateway(String),
    #[error("keychain: {0}")]
    Keychain(String),
    #[error("certificates: {0}")]
    Certificates(String),
    #[error("{0}")]
    Receiver(String),
    #[error("{0}")]
    Io(String),
}

impl SetupError {
    /// The stable code the UI branches on (`{code, message}` at the IPC boundary).
    pub fn code(&self) -> &'static str {
        match self {
            SetupError::Client(e) => match e {
                GatewayError::Unreachable { .. }
                | GatewayError::Timeout(_)
                | GatewayError::Dropped(_) => "unreachable",
                GatewayError::Unauthorized(_) | GatewayError::LoginCollision(_) => "unauthorised",
                GatewayError::Rejected { .. }
                | GatewayError::TooLarge { .. }
                | GatewayError::Unsupported(_) => "refused",
                GatewayError::BadInput(_) => "bad_input",
                GatewayError::Protocol(_) | GatewayError::Discovery(_) => "gateway",
            },
            SetupError::NotLoggedIn(_) => "not_logged_in",
            SetupError::BadInput(_) => "bad_input",
            SetupError::Gateway(_) => "gateway",
            SetupError::Keychain(_) => "keychain",
            SetupError::Certificates(_) => "certificates",
            SetupError::Receiver(_) => "receiver",
            SetupError::Io(_) => "io",
        }
    }
}

/// Where this computer's receiver listens, for "send data to this computer".
#[derive(Debug, Clone)]
pub struct ReceiverTarget {
    /// HTTPS with Ruuvi Desk's server certificate, or plain HTTP.
    pub https: bool,
    pub port: u16,
    /// The POST path (`/record`).
    pub path: String,
}

/// "Find gateways": mDNS on this network and/or a probe of addresses the user typed.
#[derive(Debug, Clone, serde::Deserialize, ts_rs::TS)]
pub struct DiscoverRequest {
    /// Browse mDNS (multicast on this computer's networks).
    pub mdns: bool,
    #[serde(default = "three")]
    pub mdns_seconds: u64,
    /// `a, b`, `192.168.1.10-40`, `host:port` (`GET /` only); empty: none.
    #[serde(default)]
    pub probe: String,
}

fn three() -> u64 {
    3
}

#[derive(Debug, Clone, serde::Deserialize, ts_rs::TS)]
pub struct LoginRequest {
    pub endpoint: String,
    /// The LAN user (`Admin` from the factory).
    #[serde(default = "admin")]
    pub user: String,
    /// Neither password nor API key: what the keychain remembers, else no credentials.
    #[serde(default)]
    #[ts(type = "string | null")]
    pub password: Option<Sensitive<String>>,
    #[serde(default)]
    #[ts(type = "string | null")]
    pub api_key: Option<Sensitive<String>>,
    /// Keep the password or key in the keychain for the next login.
    #[serde(default)]
    pub remember: bool,
}

fn admin() -> String {
    "Admin".into()
}

/// A gateway "Find gateways" came up with.
#[derive(Debug, Clone, serde::Serialize, ts_rs::TS)]
pub struct FoundGateway {
    #[serde(flatten)]
    pub discovered: Discovered,
    /// A simulated demo gateway's factory password, shown so a demo user can log in.
    pub demo_password: Option<String>,
}

/// A logged-in gateway as the UI shows it.
#[derive(Debug, Clone, serde::Serialize, ts_rs::TS)]
pub struct GatewayDetails {
    pub endpoint: String,
    pub name: Option<String>,
    pub mac: Option<String>,
    pub firmware: Option<String>,
    pub lan_auth: Option<String>,
    pub http: HttpBackend,
    /// The MQTT target as the gateway has it (its password is never shown).
    pub mqtt: ruuvi_gateway::config::Mqtt,
    pub storage: ruuvi_gateway::config::Storage,
    pub remembered: bool,
}

/// What applying a form would do to one gateway.
#[derive(Debug, Clone, serde::Serialize, ts_rs::TS)]
pub struct Preview {
    pub endpoint: String,
    pub changes: Vec<Change>,
    /// Files that would be uploaded to the gateway's certificate store.
    pub uploads: Vec<String>,
    /// Why it cannot be applied as it stands (empty: it can).
    pub problems: Vec<String>,
}

/// A step of a change in progress, for progress bars.
#[derive(Debug, Clone, serde::Serialize, ts_rs::TS)]
pub struct StepEvent {
    pub endpoint: String,
    /// 0–100.
    pub percent: u8,
    pub message: String,
}

/// How a change ended on one gateway.
#[derive(Debug, Clone, serde::Serialize, ts_rs::TS)]
pub struct ApplyResult {
    pub endpoint: String,
    pub mac: Option<String>,
    pub state: GatewayState,
    /// What went wrong and what to do, when not applied.
    pub error: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize, ts_rs::TS)]
pub struct UrlCheck {
    pub ok: bool,
    /// The HTTP status the gateway got (502: it could not connect).
    pub status: u16,
    pub summary: String,
}

/// Called with every step of a change; the faces turn it into events.
pub type OnStep = Arc<dyn Fn(StepEvent) + Send + Sync>;

struct Session {
    client: GatewayClient,
    /// The configuration as last read (or read back after a change).
    config: GatewayConfig,
}

pub struct Setup {
    data_dir: PathBuf,
    secrets: Arc<dyn SecretStore>,
    list: Mutex<list::GatewayList>,
    sessions: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Session>>>>,
    receiver: Mutex<Option<ReceiverTarget>>,
    options: ClientOptions,
    /// Simulated demo gateways and their passwords: always "found".
    demo: Mutex<Vec<(Endpoint, Sensitive<String>)>>,
    /// Held while a certificate is issued: gateways set up at the same time (or one gateway
    /// listed under two addresses) must not issue a key and a certificate that do not match.
    issuing: Mutex<()>,
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

/// How far a push is: uploads share 30–75 % (`uploaded` of `uploads` done).
fn percent_of(progress: &Progress, uploaded: usize, uploads: usize) -> u8 {
    match progress {
        Progress::LoggedIn { .. } => 10,
        Progress::ReadConfig => 20,
        Progress::Validated => 30,
        Progress::Uploaded { .. } => (30 + 45 * uploaded.min(uploads) / uploads.max(1)) as u8,
        Progress::Posted => 75,
        Progress::Verified => 90,
        Progress::Resumed => 100,
        Progress::RollingBack { .. } => 90,
    }
}

fn describe(progress: &Progress) -> String {
    match progress {
        Progress::LoggedIn { firmware } => match firmware {
            Some(f) => format!("logged in (firmware {f})"),
            None => "logged in".into(),
        },
        Progress::ReadConfig => "read its settings".into(),
        Progress::Validated => "checked the new settings".into(),
        Progress::Uploaded { file } => format!("uploaded {file}"),
        Progress::Posted => "sent the settings".into(),
        Progress::Verified => "read them back: they are in effect".into(),
        Progress::Resumed => "data forwarding resumed".into(),
        Progress::RollingBack { reason } => format!("putting the old settings back: {reason}"),
    }
}

fn result_of(outcome: &PushOutcome) -> ApplyResult {
    let error = outcome.error.as_ref().map(|e| {
        let what = match &outcome.state {
            GatewayState::RolledBack { lost } if !lost.is_empty() => {
                format!(
                    "; the old settings were put back except {}",
                    lost.join("; ")
                )
            }
            GatewayState::RolledBack { .. } => "; the old settings were put back".into(),
            GatewayState::Partial { changed } => format!(
                "; the gateway is partly changed ({}): open its web page and check",
                changed.join("; ")
            ),
            _ => "; nothing on the gateway was changed".into(),
        };
        format!("{e}{what}")
    });
    ApplyResult {
        endpoint: outcome.endpoint.clone(),
        mac: outcome.mac.clone(),
        state: outcome.state.clone(),
        error,
    }
}

impl Setup {
    pub fn new(data_dir: &Path, secrets: Arc<dyn SecretStore>) -> Result<Self, SetupError> {
        Ok(Self {
            data_dir: data_dir.to_path_buf(),
            list: Mutex::new(list::GatewayList::load(&data_dir.join("gateways.json"))?),
            secrets,
            sessions: Mutex::new(HashMap::new()),
            receiver: Mutex::new(None),
            options: ClientOptions::default(),
            demo: Mutex::new(Vec::new()),
            issuing: Mutex::new(()),
        })
    }

    /// Tells "send data to this computer" where the receiver listens (`None`: not running).
    pub fn set_receiver(&self, target: Option<ReceiverTarget>) {
        *self.receiver.lock() = target;
    }

    /// Demo mode's simulated gateways (on loopback): listed by every discovery.
    pub fn add_demo(&self, addr: std::net::SocketAddr, password: Sensitive<String>) {
        let endpoint = Endpoint::new(addr.ip().to_string(), addr.port());
        self.demo.lock().push((endpoint, password));
    }

    fn is_demo(&self, endpoint: &str) -> bool {
        self.demo
            .lock()
            .iter()
            .any(|(e, _)| e.to_string() == endpoint)
    }

    /// The gateways the user added, in the order they were added.
    pub fn gateways(&self) -> Vec<SavedGateway> {
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

    fn keychain_name(kind: SecretKind, endpoint: &str) -> Result<SecretName, SetupError> {
        SecretName::new(kind, &secret_id(endpoint)).map_err(|e| SetupError::BadInput(e.to_string()))
    }

    fn remembered(&self, kind: SecretKind, endpoint: &str) -> Option<Sensitive<String>> {
        let name = Self::keychain_name(kind, endpoint).ok()?;
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
                    .set(&Self::keychain_name(name, &key)?, secret)
                    .map_err(|e| SetupError::Keychain(e.to_string()))?;
                remembered = true;
            }
        }
        let details = details_of(&key, &client, &config, remembered);
        self.list.lock().put(SavedGateway {
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
            if let Ok(name) = Self::keychain_name(kind, endpoint) {
                if let Err(e) = self.secrets.delete(&name) {
                    tracing::warn!("could not delete {name}: {e}");
                }
            }
        }
        self.list.lock().remove(endpoint)
    }

    fn session(&self, endpoint: &str) -> Result<Arc<tokio::sync::Mutex<Session>>, SetupError> {
        self.sessions
            .lock()
            .get(endpoint)
            .cloned()
            .ok_or_else(|| SetupError::NotLoggedIn(endpoint.to_string()))
    }

    fn pki(&self) -> Pki<'_> {
        Pki::new(self.data_dir.join("pki"), self.secrets.as_ref())
    }

    /// Ruuvi Desk's CA, created on first need.
    fn our_ca(&self) -> Result<String, SetupError> {
        let _issuing = self.issuing.lock();
        self.our_ca_issuing()
    }

    /// [`Self::our_ca`] with the issuing lock already held.
    fn our_ca_issuing(&self) -> Result<String, SetupError> {
        let pki = self.pki();
        let e = |e: ruuvi_pki::PkiError| SetupError::Certificates(e.to_string());
        if pki
            .ensure_ca("Ruuvi Desk CA", ruuvi_pki::OffsetDateTime::now_utc())
            .map_err(e)?
        {
            tracing::info!("created Ruuvi Desk's CA");
        }
        pki.ca_pem().map_err(e)
    }

    /// The gateway's client certificate from our CA: reused while valid, else issued.
    pub fn client_identity(&self, gateway: &MacAddress) -> Result<ClientIdentity, SetupError> {
        let _issuing = self.issuing.lock();
        self.our_ca_issuing()?;
        let (cert_pem, key_pem) = self
            .pki()
            .ensure_client(gateway, ruuvi_pki::OffsetDateTime::now_utc())
            .map_err(|e| SetupError::Certificates(e.to_string()))?;
        Ok(ClientIdentity { cert_pem, key_pem })
    }

    /// The profile for a logged-in gateway; `issue` false: reuse certificates, never create.
    fn profile_for(
        &self,
        form: &ProfileForm,
        mac: Option<&str>,
        issue: bool,
    ) -> Result<HttpProfile, SetupError> {
        form.profile(self.certificates_for(
            form.issues_client_cert(),
            form.uses_our_ca(),
            mac,
            issue,
        )?)
    }

    /// What a form needs from our PKI: the gateway's client certificate and/or our CA.
    fn certificates_for(
        &self,
        client: bool,
        our_ca: bool,
        mac: Option<&str>,
        issue: bool,
    ) -> Result<form::Certificates, SetupError> {
        let mut certs = form::Certificates {
            client: None,
            our_ca: None,
        };
        if client {
            let mac = form::gateway_mac(mac)?;
            certs.client = if issue {
                Some(self.client_identity(&mac)?)
            } else {
                self.pki()
                    .client_identity(&mac)
                    .ok()
                    .map(|(cert_pem, key_pem)| ClientIdentity { cert_pem, key_pem })
            };
        }
        if our_ca {
            certs.our_ca = if issue {
                Some(self.our_ca()?)
            } else {
                self.pki().ca_pem().ok()
            };
        }
        Ok(certs)
    }

    /// What `form` would change on the gateway, and whether it can be applied.
    pub async fn preview(&self, endpoint: &str, form: &ProfileForm) -> Result<Preview, SetupError> {
        let session = self.session(endpoint)?;
        let session = session.lock().await;
        let firmware = session.client.firmware();
        // Certificates not issued yet (a dry run issues nothing) are checked once they exist;
        // the preview counts them as in use.
        let profile = self.profile_for(form, session.client.mac(), false)?;
        let mut expected = profile.expected(firmware);
        let mut uploads = Vec::new();
        if let Some(c) = expected.custom.as_mut() {
            c.use_client_cert |= form.issues_client_cert();
            c.use_server_cert |= form.uses_our_ca();
            if c.use_server_cert {
                uploads.push("http_srv_cert".to_string());
            }
            if c.use_client_cert {
                uploads.extend(["http_cli_cert".to_string(), "http_cli_key".to_string()]);
            }
        }
        let mut problems = Vec::new();
        if let Err(e) = profile.validate(firmware, Some(&session.config)) {
            problems.push(e.to_string());
        }
        if !uploads.is_empty() && !session.config.storage().ready {
            problems.push("the gateway's certificate storage is not initialised: prepare it in its web page first".into());
        }
        Ok(Preview {
            endpoint: endpoint.to_string(),
            changes: session.config.http().changes(&expected, &profile),
            uploads,
            problems,
        })
    }

    /// Applies `form` to every gateway in `endpoints` (logged in), at most 8 at a time.
    pub async fn apply(
        self: &Arc<Self>,
        endpoints: Vec<String>,
        form: ProfileForm,
        on_step: OnStep,
    ) -> Vec<ApplyResult> {
        self.apply_each(endpoints, on_step, move |setup, mac| {
            setup.profile_for(&form, mac, true)
        })
        .await
    }

    /// Applies an MQTT `form` to every gateway in `endpoints`, at most 8 at a time, each like
    /// the HTTP backend: validated, certificates uploaded, posted, read back, rolled back.
    pub async fn apply_mqtt(
        self: &Arc<Self>,
        endpoints: Vec<String>,
        form: MqttForm,
        on_step: OnStep,
    ) -> Vec<ApplyResult> {
        self.apply_each(endpoints, on_step, move |setup, mac| {
            let certs =
                setup.certificates_for(form.issues_client_cert(), form.uses_our_ca(), mac, true)?;
            form.profile(certs)
        })
        .await
    }

    /// Pushes the profile `profile_for` makes for each logged-in gateway (from its MAC), at
    /// most 8 gateways at a time; results in `endpoints` order.
    async fn apply_each<P, F>(
        self: &Arc<Self>,
        endpoints: Vec<String>,
        on_step: OnStep,
        profile_for: F,
    ) -> Vec<ApplyResult>
    where
        P: BackendProfile + Sync + Send,
        F: Fn(&Setup, Option<&str>) -> Result<P, SetupError> + Send + Sync + 'static,
    {
        let permits = Arc::new(tokio::sync::Semaphore::new(8));
        let profile_for = Arc::new(profile_for);
        let mut tasks = tokio::task::JoinSet::new();
        for (index, endpoint) in endpoints.into_iter().enumerate() {
            let (setup, profile_for, on_step, permits) = (
                self.clone(),
                profile_for.clone(),
                on_step.clone(),
                permits.clone(),
            );
            tasks.spawn(async move {
                let _permit = permits.acquire_owned().await.expect("never closed");
                let failed = |error: SetupError| ApplyResult {
                    endpoint: endpoint.clone(),
                    mac: None,
                    state: GatewayState::Unchanged,
                    error: Some(error.to_string()),
                };
                let session = match setup.session(&endpoint) {
                    Ok(s) => s,
                    Err(e) => return (index, failed(e)),
                };
                let mut session = session.lock().await;
                let result = match profile_for(&setup, session.client.mac()) {
                    Ok(p) => setup.push(&endpoint, &mut session, &p, &on_step).await,
                    Err(e) => failed(e),
                };
                (index, result)
            });
        }
        let mut results = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            results.push(joined.expect("apply tasks do not panic"));
        }
        results.sort_by_key(|(i, _)| *i);
        results.into_iter().map(|(_, r)| r).collect()
    }

    async fn push(
        &self,
        endpoint: &str,
        session: &mut Session,
        profile: &(dyn BackendProfile + Sync),
        on_step: &OnStep,
    ) -> ApplyResult {
        let uploads = profile.uploads().len();
        let uploaded = std::sync::atomic::AtomicUsize::new(0);
        let report = |p: Progress| {
            if let Progress::Uploaded { .. } = p {
                uploaded.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            on_step(StepEvent {
                endpoint: endpoint.to_string(),
                percent: percent_of(
                    &p,
                    uploaded.load(std::sync::atomic::Ordering::Relaxed),
                    uploads,
                ),
                message: describe(&p),
            })
        };
        let outcome = push_profile(&mut session.client, profile, &report).await;
        if let Some(after) = &outcome.read_back {
            session.config = after.clone();
        }
        let result = result_of(&outcome);
        let summary = match &result.error {
            None => "applied".to_string(),
            Some(e) => e.clone(),
        };
        if let Err(e) = self
            .list
            .lock()
            .update(endpoint, |g| g.last_change = Some(summary))
        {
            tracing::warn!("gateways.json: {e}");
        }
        result
    }

    /// The gateway tests the form's URL itself (`/validate_url`), with the form's secret or
    /// the one it has saved; certificates are the ones already in its store.
    pub async fn check_url(
        &self,
        endpoint: &str,
        form: &OwnServerForm,
    ) -> Result<UrlCheck, SetupError> {
        let session = self.session(endpoint)?;
        let mut session = session.lock().await;
        let secret = form.secret.clone().filter(|s| !s.expose().is_empty());
        let outcome: ValidateOutcome = session
            .client
            .validate_url(
                form.url.trim(),
                &form.auth,
                &form.user,
                secret.as_ref(),
                !matches!(form.client_cert, ClientCertChoice::None),
                !matches!(form.server_ca, ServerCaChoice::Builtin),
            )
            .await?;
        Ok(UrlCheck {
            ok: outcome.ok(),
            status: outcome.status,
            summary: outcome.summary(),
        })
    }

    /// "Send data to this computer": a client certificate and a bearer token for this gateway,
    /// the receiver told to expect both, and the gateway pointed at the receiver (Ruuvi Cloud
    /// left as it is).
    pub async fn send_here(
        &self,
        endpoint: &str,
        on_step: OnStep,
    ) -> Result<ApplyResult, SetupError> {
        let target = self.receiver.lock().clone().ok_or_else(|| {
            SetupError::Receiver("this computer's receiver is not running: start it first".into())
        })?;
        let session = self.session(endpoint)?;
        let mut session = session.lock().await;
        let step = |percent, message: &str| {
            on_step(StepEvent {
                endpoint: endpoint.to_string(),
                percent,
                message: message.to_string(),
            })
        };
        let mac = form::gateway_mac(session.client.mac().or(session.config.gw_mac()))?;
        let gateway_ip = resolve(session.client.endpoint()).await?;
        let host = self.host_for(gateway_ip, target.https)?;
        let url = format!(
            "{}://{}:{}{}",
            if target.https { "https" } else { "http" },
            ruuvi_pki::url_host(&host),
            target.port,
            target.path
        );
        let (client, our_ca) = if target.https {
            step(5, "issuing the gateway's client certificate");
            (Some(self.client_identity(&mac)?), Some(self.our_ca()?))
        } else {
            (None, None)
        };
        // The receiver learns the token before the gateway does.
        let token = ruuvi_secrets::random_hex(16);
        let name = SecretName::new(SecretKind::ReceiverAuth, &mac.to_string())
            .expect("a MAC is a valid id");
        self.secrets
            .set(&name, &token)
            .map_err(|e| SetupError::Keychain(e.to_string()))?;
        let policy_path = self.data_dir.join("receiver.json");
        let mut policies =
            ruuvi_receiver::PolicyFile::load(&policy_path).map_err(SetupError::Receiver)?;
        let entry = policies.gateways.entry(mac).or_default();
        entry.auth = Some("bearer".into());
        entry.require_client_cert = target.https;
        policies.save(&policy_path).map_err(SetupError::Receiver)?;
        step(8, &format!("the receiver expects {mac} at {url}"));
        let firmware = session.client.firmware();
        let format = if firmware.is_none_or(|f| f.has_http_period_and_formats()) {
            DataFormat::RuuviRawAndDecoded
        } else {
            DataFormat::Ruuvi
        };
        let profile = form::to_this_computer(
            session.config.http().ruuvi_cloud,
            url,
            format,
            token,
            client,
            our_ca,
        );
        Ok(self.push(endpoint, &mut session, &profile, &on_step).await)
    }

    /// The host the gateway at `gateway` must use for this computer: one of the server
    /// certificate's names over HTTPS, else an address of ours it can reach.
    fn host_for(&self, gateway: IpAddr, https: bool) -> Result<String, SetupError> {
        let addresses = ruuvi_pki::local_addresses().unwrap_or_default();
        let names = if https {
            let (pem, _) = self
                .pki()
                .server_identity()
                .map_err(|e| SetupError::Certificates(e.to_string()))?;
            ruuvi_pki::inspect(&pem)
                .map_err(|e| SetupError::Certificates(e.to_string()))?
                .sans
        } else {
            ruuvi_pki::server_names(ruuvi_pki::local_host_name().as_deref(), &addresses)
        };
        ruuvi_pki::host_for_gateway(
            gateway,
            &addresses,
            ruuvi_pki::route_source(gateway),
            &names,
            ruuvi_pki::NameCheck::IpSans,
        )
        .ok_or_else(|| {
            SetupError::Certificates(format!(
                "none of this computer's names ({}) reaches {gateway}: re-issue the server certificate",
                names.join(", ")
            ))
        })
    }
}

fn details_of(
    endpoint: &str,
    client: &GatewayClient,
    config: &GatewayConfig,
    remembered: bool,
) -> GatewayDetails {
    GatewayDetails {
        endpoint: endpoint.to_string(),
        name: client.info().map(|i| i.gateway_name.clone()),
        mac: client
            .mac()
            .map(str::to_string)
            .or(config.gw_mac().map(str::to_string)),
        firmware: client.firmware().map(|f| f.to_string()),
        lan_auth: config.lan_auth_type().map(str::to_string),
        http: config.http(),
        mqtt: config.areas().mqtt,
        storage: config.storage(),
        remembered,
    }
}

async fn resolve(endpoint: &Endpoint) -> Result<IpAddr, SetupError> {
    if let Ok(ip) = endpoint.host.parse() {
        return Ok(ip);
    }
    tokio::net::lookup_host((endpoint.host.as_str(), endpoint.port))
        .await
        .ok()
        .and_then(|mut a| a.next())
        .map(|a| a.ip())
        .ok_or_else(|| SetupError::Gateway(format!("cannot resolve {}", endpoint.host)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_moves_forward_through_every_upload() {
        let uploaded = |file: &str| Progress::Uploaded { file: file.into() };
        let steps = [
            percent_of(&Progress::Validated, 0, 3),
            percent_of(&uploaded("http_srv_cert"), 1, 3),
            percent_of(&uploaded("http_cli_cert"), 2, 3),
            percent_of(&uploaded("http_cli_key"), 3, 3),
            percent_of(&Progress::Posted, 3, 3),
            percent_of(&Progress::Resumed, 3, 3),
        ];
        assert_eq!(steps, [30, 45, 60, 75, 75, 100]);
        assert_eq!(secret_id("[fe80::1]:80"), "_fe80::1_:80");
    }
}
