//! Setting gateways up the way the UI does it, for the app core: one part per job —
//! [`Sessions`] (find gateways, log in with credentials remembered in the keychain, the list
//! of added gateways), [`Backends`] (preview a form's changes, push it to one or many
//! gateways with progress, let a gateway test a URL), [`OurCertificates`] (the CA and the
//! gateways' client certificates) and [`ThisComputer`] ("send data to this computer": the
//! host a gateway reaches, its certificate and token, then the push).
//!
//! Reading a gateway's configuration pauses its data forwarding for 60 s (spec §4); every read
//! here is followed by an unchanged POST that shortens the pause to 5 s.

mod areas;
mod backends;
mod certs;
mod firmware;
mod fleet;
mod form;
mod list;
mod mqtt_form;
mod remote;
mod sessions;
mod this_computer;

use std::path::Path;
use std::sync::Arc;

use ruuvi_gateway::discovery::Discovered;
use ruuvi_gateway::{Change, GatewayError, GatewayState, HttpBackend};
use ruuvi_secrets::{SecretStore, Sensitive};

pub use areas::Areas;
pub use backends::Backends;
pub use certs::{CertSummary, Certificates, ClientSummary, OurCertificates};
pub use firmware::{FirmwareOffer, StatisticsForm, StatisticsTargetForm, UpdateResult};
pub use fleet::{Expected, FleetSummary};
pub use form::{ClientCertChoice, OwnServerForm, ProfileForm, ServerCaChoice};
pub use list::{parse_gateway_list, LoginKind, SavedGateway};
pub use mqtt_form::{MqttBrokerForm, MqttForm};
pub use remote::{RemoteDocument, SERVED_PATH};
pub use sessions::{KeyAction, Sessions};
pub use this_computer::{SendHere, ThisComputer};

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
    #[error("{0}")]
    NotFound(String),
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
            SetupError::NotFound(_) => "not_found",
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
    /// Bluetooth scanning as the gateway has it.
    pub scan: ruuvi_gateway::ScanProfile,
    /// The gateway has a tag list (v1.14+).
    pub scan_list: bool,
    /// It has a read-only / read-write API key (their values are never shown).
    pub read_key: bool,
    pub write_key: bool,
    pub storage: ruuvi_gateway::config::Storage,
    /// Where it downloads its configuration from (its token is never shown).
    pub remote: ruuvi_gateway::RemoteCfgState,
    /// Where it looks for firmware releases (v1.15+).
    pub update_url: Option<String>,
    pub auto_update: ruuvi_gateway::AutoUpdateProfile,
    /// Where it sends its statistics (the password is never shown).
    pub statistics: ruuvi_gateway::StatisticsState,
    /// Its clock source and coordinates.
    pub time_place: ruuvi_gateway::TimePlaceProfile,
    pub remembered: bool,
}

/// A new LAN login for `gateways_lan_access`.
#[derive(Debug, Clone, serde::Deserialize, ts_rs::TS)]
pub struct LanLoginForm {
    /// default, ruuvi, basic, digest, allow or deny.
    pub kind: String,
    #[serde(default)]
    pub user: String,
    /// For ruuvi, basic and digest (kept in the keychain: Ruuvi Desk logs in with it).
    #[serde(default)]
    #[ts(type = "string | null")]
    pub password: Option<Sensitive<String>>,
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
    /// The change can be undone ([`Backends::undo`]): what it replaced is kept.
    pub undoable: bool,
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

/// The gateway set-up's parts, sharing one list of sessions and one PKI.
pub struct Setup {
    pub gateways: Arc<Sessions>,
    pub certificates: Arc<OurCertificates>,
    pub backends: Backends,
    pub this_computer: ThisComputer,
}

impl Setup {
    /// The parts over `<data_dir>` (`gateways.json`, `pki/`) and the keychain.
    pub fn new(data_dir: &Path, secrets: Arc<dyn SecretStore>) -> Result<Self, SetupError> {
        let gateways = Arc::new(Sessions::new(data_dir, secrets.clone())?);
        let certificates = Arc::new(OurCertificates::new(data_dir, secrets, gateways.clone()));
        let backends = Backends::new(gateways.clone(), certificates.clone());
        Ok(Self {
            this_computer: ThisComputer::new(
                gateways.clone(),
                certificates.clone(),
                backends.clone(),
            ),
            gateways,
            certificates,
            backends,
        })
    }
}
