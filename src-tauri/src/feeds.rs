//! The app's feeds and hub: observations stored in the app's data directory; demo gateways
//! while no gateway is configured; this computer's receiver once the user turned it on
//! ("Send data to this computer"), again at every start after that; this computer's
//! Bluetooth unless switched off; an MQTT feed and sink when set; retention as set in
//! Settings. Observations go to this computer's SQLite file or, when Settings name one, a
//! PostgreSQL database. Every stored observation reaches the window as a `card` event.

use parking_lot::Mutex;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::settings::{AppSettings, MqttFeedSettings, MqttSinkSettings};

use ruuvi_hub::{Hub, HubOptions};
use ruuvi_secrets::SecretStore;
use ruuvi_setup::{ReceiverTarget, Setup};
use ruuvi_store::{SqliteStore, StoreLocation};
use ruuvi_wiring::Receiving;
use tauri::{AppHandle, Emitter, Runtime};

/// Where the receiver listens unless `RUUVI_DESK_RECEIVER_LISTEN` says otherwise: every
/// interface, so gateways on the LAN reach it.
const RECEIVER_LISTEN: &str = "0.0.0.0:8443";

/// What commands use: the hub, the database (read through its own connections), whether demo
/// gateways feed it, the gateway set-up and the receiver.
pub struct Feeds {
    pub hub: Hub,
    /// Where observations are kept (each read opens its own connection).
    pub db: StoreLocation,
    pub demo: bool,
    pub setup: Arc<Setup>,
    pub receiver: Arc<ReceiverSlot>,
    pub ble: Arc<BleSlot>,
    pub mqtt: Arc<MqttSlot>,
    pub settings: Arc<Settings>,
    /// Alert rules and history; `None` only in tests that start no alerting.
    pub alerts: Option<Arc<ruuvi_alerts::Alerting>>,
    /// Why the database in Settings is not the one in use (it could not be opened at start).
    pub storage_problem: Option<String>,
    /// The keychain.
    pub secrets: Arc<dyn SecretStore>,
}

/// The MQTT feed and sink as Settings have them; each restarts when its settings change.
pub struct MqttSlot {
    hub: Hub,
    secrets: Arc<dyn SecretStore>,
    /// The PKI, for Ruuvi Desk's certificates.
    pki_dir: PathBuf,
    running: Mutex<MqttRunning>,
}

#[derive(Default)]
struct MqttRunning {
    feed: Option<Running<MqttFeedSettings, ruuvi_mqtt::feed::FeedStatus>>,
    sink: Option<Running<MqttSinkSettings, ruuvi_mqtt::sink::SinkStatus>>,
}

struct Running<S, T> {
    settings: S,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    status: tokio::sync::watch::Receiver<T>,
}

impl<S, T> Drop for Running<S, T> {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl MqttSlot {
    /// Our CA and client certificate when `ours`, else the public roots and none.
    fn tls(&self, ours: bool) -> Result<ruuvi_wiring::MqttTls, String> {
        if !ours {
            return Ok(ruuvi_wiring::MqttTls::default());
        }
        // The CA is made on first use, as for gateways' certificates.
        let pki = ruuvi_pki::Pki::new(&self.pki_dir, self.secrets.as_ref());
        let ca = pki
            .ensure_ca("Ruuvi Desk CA", ruuvi_pki::OffsetDateTime::now_utc())
            .and_then(|_| pki.ca_pem())
            .map_err(|e| format!("Ruuvi Desk's CA: {e}"))?;
        Ok(ruuvi_wiring::MqttTls {
            ca_pem: Some(ca),
            own_client_cert: Some(self.pki_dir.clone()),
        })
    }

    /// Starts, restarts or stops the feed and the sink; `force` restarts them even when their
    /// settings are the same (a new password). Must run inside the async runtime.
    pub fn apply(
        &self,
        feed: Option<&MqttFeedSettings>,
        sink: Option<&MqttSinkSettings>,
        force: bool,
    ) -> Result<(), String> {
        let mut running = self.running.lock();
        let secrets = self.secrets.as_ref();
        if force || running.feed.as_ref().map(|r| &r.settings) != feed {
            running.feed = None;
            if let Some(f) = feed {
                let broker = ruuvi_wiring::mqtt_broker(
                    &f.broker,
                    &ruuvi_wiring::mqtt_client_id("feed"),
                    f.user.as_deref(),
                    &self.tls(f.our_certificates)?,
                    secrets,
                )?;
                let (tasks, status) = ruuvi_wiring::start_mqtt_feed(
                    &self.hub,
                    ruuvi_mqtt::feed::FeedOptions {
                        broker,
                        topics: vec![f.topic.clone()],
                    },
                );
                running.feed = Some(Running {
                    settings: f.clone(),
                    tasks,
                    status,
                });
            }
        }
        if force || running.sink.as_ref().map(|r| &r.settings) != sink {
            running.sink = None;
            if let Some(s) = sink {
                let broker = ruuvi_wiring::mqtt_broker(
                    &s.broker,
                    &ruuvi_wiring::mqtt_client_id("sink"),
                    s.user.as_deref(),
                    &self.tls(s.our_certificates)?,
                    secrets,
                )?;
                let (task, status) = ruuvi_wiring::start_mqtt_sink(
                    &self.hub,
                    ruuvi_mqtt::sink::SinkOptions {
                        broker,
                        prefix: s.prefix.clone(),
                        discovery_prefix: s.home_assistant.then(|| "homeassistant".to_string()),
                        version: env!("CARGO_PKG_VERSION").to_string(),
                    },
                );
                running.sink = Some(Running {
                    settings: s.clone(),
                    tasks: vec![task],
                    status,
                });
            }
        }
        Ok(())
    }

    pub fn view(&self) -> ruuvi_wiring::MqttView {
        let running = self.running.lock();
        ruuvi_wiring::MqttView {
            feed: running.feed.as_ref().map(|r| r.status.borrow().clone()),
            sink: running.sink.as_ref().map(|r| r.status.borrow().clone()),
        }
    }
}

/// The settings in `app.json`, shared by whoever changes them.
pub struct Settings {
    data_dir: PathBuf,
    current: Mutex<AppSettings>,
}

impl Settings {
    pub fn get(&self) -> AppSettings {
        self.current.lock().clone()
    }

    /// Saves `change` applied to the current settings.
    pub fn update(&self, change: impl FnOnce(&mut AppSettings)) -> Result<AppSettings, String> {
        let mut current = self.current.lock();
        let mut next = current.clone();
        change(&mut next);
        next.validate()?;
        next.save(&self.data_dir)?;
        *current = next.clone();
        Ok(next)
    }
}

/// This computer's Bluetooth scan, on or off.
pub struct BleSlot {
    hub: Hub,
    status: tokio::sync::watch::Sender<ruuvi_ble::BleStatus>,
    running: Mutex<Option<tauri::async_runtime::JoinHandle<()>>>,
}

impl BleSlot {
    /// Starts or stops scanning; the status says which.
    pub fn set(&self, on: bool) {
        let mut running = self.running.lock();
        match (on, running.is_some()) {
            (true, false) => {
                // Retried until an adapter appears; observations go to the hub.
                let (tx, rx) = tokio::sync::mpsc::channel(1024);
                let status = self.status.clone();
                let hub = self.hub.clone();
                *running = Some(tauri::async_runtime::spawn(async move {
                    tokio::join!(
                        ruuvi_ble::scan(ruuvi_ble::ScanOptions::default(), tx, status),
                        ruuvi_wiring::ble_to_hub(hub, rx),
                    );
                }));
            }
            (false, true) => {
                if let Some(task) = running.take() {
                    task.abort();
                }
                let _ = self.status.send(ruuvi_ble::BleStatus::Off);
            }
            _ => {}
        }
    }

    /// Off when switched off; otherwise what the radio says now (within 2 s).
    pub async fn status(&self) -> ruuvi_ble::BleStatus {
        if self.running.lock().is_none() {
            return ruuvi_ble::BleStatus::Off;
        }
        ruuvi_ble::status_now(None).await
    }
}

/// The receiver, started on first need and kept running.
pub struct ReceiverSlot {
    data_dir: PathBuf,
    secrets: Arc<dyn SecretStore>,
    hub: Hub,
    settings: Arc<Settings>,
    /// Told where the receiver listens ("send data to this computer").
    setup: Arc<Setup>,
    running: tokio::sync::Mutex<Option<Receiving>>,
}

impl ReceiverSlot {
    fn listen() -> Result<SocketAddr, String> {
        let text = std::env::var("RUUVI_DESK_RECEIVER_LISTEN")
            .unwrap_or_else(|_| RECEIVER_LISTEN.to_string());
        text.parse()
            .map_err(|e| format!("RUUVI_DESK_RECEIVER_LISTEN {text:?}: {e}"))
    }

    /// Starts the HTTPS receiver if it is not running (creating the CA on first use), saves
    /// that it is on, and tells the gateway set-up where gateways must post.
    pub async fn ensure(&self) -> Result<(), String> {
        let mut running = self.running.lock().await;
        if running.is_none() {
            let options = ruuvi_receiver::ReceiverOptions::new(Self::listen()?);
            let started = Receiving::start(
                options,
                true,
                true,
                &self.data_dir,
                self.secrets.as_ref(),
                self.hub.clone(),
            )
            .await
            .map_err(|e| format!("the receiver did not start: {e}"))?;
            tracing::info!(url = %started.url(), "receiver listening");
            *running = Some(started);
            if let Err(e) = self.settings.update(|s| s.receiver_enabled = true) {
                tracing::warn!("{e}");
            }
        }
        let r = running.as_ref().expect("just started");
        self.setup.set_receiver(Some(ReceiverTarget {
            https: r.scheme == "https",
            port: r.receiver.addr.port(),
            path: r.path.clone(),
        }));
        Ok(())
    }

    /// What the receiver is doing (off when it does not run).
    pub async fn status(&self) -> ruuvi_wiring::ReceiverStatus {
        match self.running.lock().await.as_ref() {
            Some(r) => r.status(),
            None => ruuvi_wiring::ReceiverStatus::off(),
        }
    }

    async fn refresh(&self) {
        if let Some(r) = self.running.lock().await.as_mut() {
            r.refresh(self.secrets.as_ref());
        }
    }
}

impl Feeds {
    /// The commands' state over a running hub with the settings saved in `data_dir`;
    /// nothing is started.
    pub fn new(
        hub: Hub,
        db: StoreLocation,
        demo: bool,
        data_dir: &Path,
        saved: AppSettings,
        secrets: Arc<dyn SecretStore>,
    ) -> Result<Self, String> {
        let settings = Arc::new(Settings {
            data_dir: data_dir.to_path_buf(),
            current: Mutex::new(saved),
        });
        let setup = Arc::new(Setup::new(data_dir, secrets.clone()).map_err(|e| e.to_string())?);
        let setup_secrets = secrets.clone();
        Ok(Feeds {
            setup: setup.clone(),
            mqtt: Arc::new(MqttSlot {
                hub: hub.clone(),
                secrets: secrets.clone(),
                pki_dir: data_dir.join("pki"),
                running: Mutex::new(MqttRunning::default()),
            }),
            receiver: Arc::new(ReceiverSlot {
                data_dir: data_dir.to_path_buf(),
                secrets,
                hub: hub.clone(),
                settings: settings.clone(),
                setup,
                running: tokio::sync::Mutex::new(None),
            }),
            ble: Arc::new(BleSlot {
                hub: hub.clone(),
                status: tokio::sync::watch::channel(ruuvi_ble::BleStatus::Off).0,
                running: Mutex::new(None),
            }),
            settings,
            hub,
            db,
            demo,
            alerts: None,
            storage_problem: None,
            secrets: setup_secrets,
        })
    }
}

/// The demo's size: `RUUVI_DESK_DEMO_SENSORS=1000` makes 10 gateways × 100 tags posting every
/// 10 s, `0` no demo at all (measurements with gateways in another process); otherwise a small
/// demo that updates every 2 s.
fn demo_options() -> Option<ruuvi_demo::DemoOptions> {
    match std::env::var("RUUVI_DESK_DEMO_SENSORS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
    {
        Some(0) => None,
        Some(n) => Some(ruuvi_demo::DemoOptions {
            gateways: n.div_ceil(100),
            tags: n.min(100),
            period_s: 10,
            ..Default::default()
        }),
        None => Some(ruuvi_demo::DemoOptions::default()),
    }
}

/// Opens the store (this computer's database in `database_dir`, unless Settings name another),
/// starts the hub and the feeds over the settings in `data_dir`, and forwards new observations
/// to the window. Must run inside the async runtime.
pub async fn start<R: Runtime>(
    app: AppHandle<R>,
    data_dir: &Path,
    database_dir: &Path,
) -> Result<Feeds, String> {
    for dir in [data_dir, database_dir] {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let secrets: Arc<dyn SecretStore> = Arc::new(ruuvi_secrets::Keychain::default());
    // The database Settings name; this computer's file when there is none or it cannot be
    // opened (the window says why).
    let local = StoreLocation::Sqlite(database_dir.join(ruuvi_wiring::identifier::DATABASE));
    let saved = AppSettings::load(data_dir);
    let opened =
        ruuvi_wiring::store_location(database_dir, saved.store.as_deref(), secrets.as_ref())
            .and_then(|db| {
                db.open()
                    .map(|store| (db, store))
                    .map_err(|e| e.to_string())
            });
    let (db, store, storage_problem) = match opened {
        Ok((db, store)) => (db, store, None),
        Err(e) => {
            tracing::error!("the database in Settings cannot be opened: {e}; using {local}");
            let store: Box<dyn ruuvi_store::ObservationStore> = Box::new(
                SqliteStore::open(&database_dir.join(ruuvi_wiring::identifier::DATABASE))
                    .map_err(|e| e.to_string())?,
            );
            (local, store, Some(e))
        }
    };
    tracing::info!(location = %db, "storing observations");
    // Alerts see every stored observation; a fired one becomes a notification, an `alert`
    // event for the window's banner, and a webhook POST when one is set.
    let webhook = saved.alert_webhook.clone().map(ruuvi_alerts::Webhook::new);
    let notify = app.clone();
    let (alerting, _delivery) = ruuvi_alerts::Alerting::start(
        &data_dir.join("alerts.sqlite"),
        webhook,
        Arc::new(now_ms),
        Arc::new(move |entry: &ruuvi_alerts::HistoryEntry| {
            use tauri_plugin_notification::NotificationExt;
            let shown = notify
                .notification()
                .builder()
                .title(entry.fired.title())
                .body(&entry.fired.text)
                .show();
            if let Err(e) = shown {
                tracing::info!("no desktop notification: {e}");
            }
            let _ = notify.emit("alert", entry);
        }),
    )
    .map_err(|e| e.to_string())?;
    let (hub, _task) =
        Hub::start_evaluated(store, HubOptions::default(), Some(alerting.evaluate()));
    // The hub read every sensor's latest from the store; noData counts from those.
    alerting.seen(&hub.latest());
    // Demo gateways while none is configured (a demo gateway from an earlier run is gone).
    let mut feeds = Feeds::new(hub.clone(), db, false, data_dir, saved, secrets)?;
    feeds.alerts = Some(Arc::new(alerting));
    feeds.storage_problem = storage_problem;
    let demo_options = demo_options();
    feeds.demo = feeds.setup.gateways().is_empty() && demo_options.is_some();
    let mut updates = hub.subscribe();
    tauri::async_runtime::spawn(async move {
        use tokio::sync::broadcast::error::RecvError;
        loop {
            match updates.recv().await {
                Ok(o) => {
                    let card = ruuvi_dashboard::SensorCard::from_observation(&o);
                    let _ = app.emit("card", card);
                }
                Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => return,
            }
        }
    });
    let settings = feeds.settings.get();
    let slot = feeds.receiver.clone();
    tauri::async_runtime::spawn(async move {
        if settings.receiver_enabled {
            if let Err(e) = slot.ensure().await {
                tracing::warn!("{e}");
            }
        }
        // Edited rules, issued or revoked certificates, rotated HMAC keys.
        loop {
            tokio::time::sleep(std::time::Duration::from_secs(2)).await;
            slot.refresh().await;
        }
    });
    // Demo gateways in the background, so the window does not wait for them.
    if let (true, Some(options)) = (feeds.demo, demo_options) {
        let (demo_hub, demo_setup) = (hub.clone(), feeds.setup.clone());
        tauri::async_runtime::spawn(async move {
            match ruuvi_wiring::Demo::start(demo_hub, &options).await {
                Ok(running) => {
                    for (addr, password) in running.logins().await {
                        demo_setup.add_demo(addr, password);
                    }
                    // Held here for as long as the app runs.
                    std::future::pending::<()>().await;
                }
                Err(e) => tracing::warn!("demo gateways did not start: {e}"),
            }
        });
    }
    feeds.ble.set(settings.bluetooth);
    if let Err(e) = feeds.mqtt.apply(
        settings.mqtt_feed.as_ref(),
        settings.mqtt_sink.as_ref(),
        false,
    ) {
        tracing::warn!("MQTT: {e}");
    }
    // Retention at the start and every 10 minutes (a change in Settings applies it at once).
    let (retain_hub, retain_settings) = (hub.clone(), feeds.settings.clone());
    tauri::async_runtime::spawn(async move {
        loop {
            retain_hub
                .retain(retain_settings.get().retention(), now_ms())
                .await;
            tokio::time::sleep(std::time::Duration::from_secs(600)).await;
        }
    });
    Ok(feeds)
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
