//! What a face decides before the system starts: the app from `app.json` and its folders,
//! `ruuvictl serve` from its flags. Everything else is the same.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use ruuvi_protocol::clock::Clock;
use ruuvi_secrets::SecretStore;
use ruuvi_wiring::app_settings::AppSettings;

pub struct DeskConfig {
    /// `app.json`, `gateways.json`, `receiver.json`, `network.json`, `alerts.sqlite`, `pki/`.
    pub data_dir: PathBuf,
    /// The observations database's folder (`%LOCALAPPDATA%` on Windows, else `data_dir`).
    pub database_dir: PathBuf,
    pub keychain: Arc<dyn SecretStore>,
    pub settings: SettingsSource,
    pub receiver: ReceiverConfig,
    /// The Internal API (whitelist, gwinfo, sensors, plans) and `/metrics` listen here.
    pub internal_api: Option<SocketAddr>,
    pub ble: BleConfig,
    pub mqtt: MqttConfig,
    pub demo: DemoConfig,
    /// Where `export_csv` writes (the app: the Downloads folder).
    pub export_dir: PathBuf,
    /// When the face started (the first-paint measurement counts from here).
    pub started: Instant,
    pub clock: Clock,
    /// Told how moving a store written by an earlier version goes (the app shows it; it is
    /// logged either way).
    pub on_migration: Option<OnMigration>,
}

/// See [`DeskConfig::on_migration`].
pub type OnMigration = Arc<dyn Fn(ruuvi_store::Migration) + Send + Sync>;

/// Where the settings come from, and whether the Settings page may change them.
pub enum SettingsSource {
    /// `<data dir>/app.json`, saved on every change (the app). A database named there that
    /// cannot be opened falls back to this computer's file, and the Settings page says why.
    Saved,
    /// Given by the command line (`ruuvictl serve`): shown, not changed; a database that
    /// cannot be opened stops the start.
    Fixed(Box<AppSettings>),
}

pub struct ReceiverConfig {
    pub listen: SocketAddr,
    pub https: bool,
    /// The path gateways post to.
    pub path: String,
    /// Make Ruuvi Desk's CA on first use (the app); `serve` expects `ruuvictl pki init`.
    pub create_ca: bool,
    /// Runs from the start (`serve`); otherwise once turned on and at every start after
    /// (`receiver_enabled` in the settings).
    pub always_on: bool,
}

#[derive(Default)]
pub struct BleConfig {
    /// The adapter whose name contains this (`hci1`).
    pub adapter: Option<String>,
    /// A recording played as if it came over Bluetooth (demos, tests), once.
    pub replay: Option<(
        Vec<ruuvi_ble::Advertisement>,
        ruuvi_ble::replay::ReplayOptions,
    )>,
}

/// What `serve`'s MQTT flags add to the settings' broker URLs and users.
#[derive(Default, Clone)]
pub struct MqttConfig {
    /// Trust only this CA (PEM) for both brokers.
    pub ca_pem: Option<String>,
    /// Present Ruuvi Desk's own client certificate to both brokers.
    pub client_cert: bool,
    /// `<id>-feed` / `<id>-sink` instead of `ruuvi-desk-<host>-<pid>-…`.
    pub client_id: Option<String>,
    /// Home Assistant's discovery prefix when the sink publishes discovery (default
    /// `homeassistant`).
    pub discovery_prefix: Option<String>,
}

pub enum DemoConfig {
    Off,
    /// Offered on the first-run guide ("Show demo data"); once chosen it starts with the app
    /// while no gateway is added, until it is switched off (the app).
    Offered(ruuvi_demo::DemoOptions),
    /// Simulated gateways on loopback, only while no gateway is configured (the app).
    WhenNoGateways(ruuvi_demo::DemoOptions),
    /// Simulated gateways whatever is configured (`serve --demo`).
    Always(ruuvi_demo::DemoOptions),
}
