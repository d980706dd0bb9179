//! [`Desk`]: the running system, started once for either face. It opens the store, starts the
//! hub with alerting, this computer's receiver, the Internal API, Bluetooth, the MQTT feed and
//! sink, the gateway polls and the demo, keeps retention, and is what every command acts on.
//! Feeds only produce observations; this is where they are handed to the hub.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use parking_lot::Mutex;
use ruuvi_hub::{Hub, HubOptions};
use ruuvi_protocol::clock::Clock;
use ruuvi_protocol::MacAddress;
use ruuvi_receiver::{AdminOptions, MetricsText, Registry, RunningAdmin, SavedNetwork, Whitelist};
use ruuvi_secrets::{SecretKind, SecretName, SecretStore, Sensitive};
use ruuvi_setup::{ReceiverTarget, Setup};
use ruuvi_store::{Retention, SqliteStore, StoreLocation};
use ruuvi_wiring::app_settings::{AppSettings, MqttFeedSettings, MqttSinkSettings};
use ruuvi_wiring::Receiving;
use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;

use crate::config::{DemoConfig, DeskConfig, MqttConfig, ReceiverConfig, SettingsSource};
use crate::error::DeskError;
use crate::events::Event;
use crate::polls::Polls;

/// The running system. Faces hold it in an `Arc` and reach it through [`crate::api`].
pub struct Desk {
    pub(crate) hub: Hub,
    /// Each sensor's name and calibration (kept in the store; read again every minute, since
    /// `ruuvictl sensor` or another process sharing a PostgreSQL database may change them).
    pub(crate) profiles: ruuvi_protocol::Profiles,
    /// Where observations are kept (each read opens its own connection).
    pub(crate) db: StoreLocation,
    /// Why the database in the settings is not the one in use.
    pub(crate) storage_problem: Option<String>,
    /// What the demo is made of when it runs or is started from the first-run guide
    /// (`None`: this face has no demo).
    pub(crate) demo_options: Option<ruuvi_demo::DemoOptions>,
    pub(crate) setup: Setup,
    pub(crate) receiver: Arc<ReceiverSlot>,
    pub(crate) ble: Arc<BleSlot>,
    pub(crate) mqtt: Arc<MqttSlot>,
    pub(crate) settings: Arc<Settings>,
    pub(crate) alerts: Arc<ruuvi_alerts::Alerting>,
    pub(crate) polls: Arc<Polls>,
    /// Remote configuration documents the receiver serves to gateways.
    pub(crate) remote: Arc<crate::remote_config::RemoteConfigs>,
    pub(crate) secrets: Arc<dyn SecretStore>,
    pub(crate) events: broadcast::Sender<Event>,
    pub(crate) clock: Clock,
    pub(crate) export_dir: PathBuf,
    pub(crate) started: Instant,
    network: Option<Arc<Network>>,
    admin: Mutex<Option<RunningAdmin>>,
    running_demo: tokio::sync::Mutex<Option<RunningDemo>>,
    pub(crate) downloads: crate::history::Downloads,
    tasks: Mutex<Vec<JoinHandle<()>>>,
    hub_task: Mutex<Option<JoinHandle<Box<dyn ruuvi_store::ObservationStore>>>>,
}

/// Where things listen, for the line `ruuvictl serve` prints at start.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Listening {
    /// Where gateways post (`None`: the receiver is off).
    pub receiver: Option<String>,
    pub admin: Option<String>,
    pub demo: Option<Vec<String>>,
}

impl Desk {
    /// Starts everything the configuration asks for. Must run inside a Tokio runtime.
    pub async fn start(config: DeskConfig) -> Result<Arc<Desk>, DeskError> {
        let io = |dir: &Path, e: std::io::Error| DeskError::Io(format!("{}: {e}", dir.display()));
        for dir in [&config.data_dir, &config.database_dir] {
            std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
        }
        let secrets = config.keychain.clone();
        let (saved, fixed) = match config.settings {
            SettingsSource::Saved => (AppSettings::load(&config.data_dir), false),
            SettingsSource::Fixed(s) => (*s, true),
        };
        // Off the runtime's threads: moving an earlier version's store takes minutes.
        let (db, store, storage_problem, profiles) = {
            let (dir, settings, keychain, told) = (
                config.database_dir.clone(),
                saved.clone(),
                secrets.clone(),
                config.on_migration.clone(),
            );
            tokio::task::spawn_blocking(move || {
                open_store(&dir, &settings, fixed, keychain.as_ref(), told).map(
                    |(db, mut store, problem)| {
                        let profiles = store.profiles().unwrap_or_else(|e| {
                            tracing::warn!("reading the sensors' names: {e}");
                            Vec::new()
                        });
                        (db, store, problem, ruuvi_protocol::Profiles::of(profiles))
                    },
                )
            })
            .await
            .map_err(|e| DeskError::Store(e.to_string()))??
        };
        tracing::info!(location = %db, "storing observations");
        let (events, _) = broadcast::channel(1024);
        // Alerts see every stored observation; a fired one is an `alert` event (the face
        // shows it) and a webhook POST when one is set.
        let to_faces = events.clone();
        let (alerting, _delivery) = ruuvi_alerts::Alerting::start(
            &config.data_dir.join("alerts.sqlite"),
            saved.alert_webhook.clone().map(ruuvi_alerts::Webhook::new),
            config.clock.clone(),
            Arc::new(move |entry: &ruuvi_alerts::HistoryEntry| {
                let _ = to_faces.send(Event::Alert(Box::new(entry.clone())));
            }),
        )
        .map_err(|e| DeskError::Store(format!("alerts: {e}")))?;
        let alerting = Arc::new(alerting);
        // Alert thresholds compare calibrated values.
        let evaluate = {
            let (inner, profiles) = (alerting.evaluate(), profiles.clone());
            Arc::new(move |o: &ruuvi_protocol::Observation| inner(&profiles.calibrated(o)))
        };
        let (hub, hub_task) = Hub::start_evaluated(store, HubOptions::default(), Some(evaluate));
        // The hub read every sensor's latest from the store; noData counts from those.
        alerting.seen(&hub.latest());
        let setup = Setup::new(&config.data_dir, secrets.clone())
            .map_err(|e| DeskError::Io(format!("gateways.json: {e}")))?;
        let settings = Arc::new(Settings {
            data_dir: config.data_dir.clone(),
            current: Mutex::new(saved.clone()),
            fixed,
        });
        // The command line's address, else the saved setting's.
        let internal_api = config.internal_api.or_else(|| {
            let text = saved.internal_api.as_deref()?;
            text.parse()
                .inspect_err(|e| tracing::warn!("the Internal API's address {text:?}: {e}"))
                .ok()
        });
        let network = match internal_api {
            Some(listen) => match Network::load(&config.data_dir, listen, secrets.as_ref()) {
                Ok(n) => Some(Arc::new(n)),
                // Without a keychain it stays off (its secrets live there); receiving goes on.
                Err(e) => {
                    tracing::warn!("the Internal API is off: {e}");
                    None
                }
            },
            None => None,
        };
        let remote = Arc::new(crate::remote_config::RemoteConfigs::load(
            &config.data_dir,
            secrets.clone(),
        ));
        let receiver = Arc::new(ReceiverSlot {
            served: remote.served.clone(),
            config: config.receiver,
            data_dir: config.data_dir.clone(),
            secrets: secrets.clone(),
            hub: hub.clone(),
            settings: settings.clone(),
            whitelist: network.as_ref().map(|n| n.whitelist.clone()),
            running: tokio::sync::Mutex::new(None),
            metrics: Arc::new(Mutex::new(None)),
        });
        if receiver.config.always_on || saved.receiver_enabled {
            match receiver.ensure().await {
                Ok(_) => {}
                Err(e) if receiver.config.always_on => return Err(e),
                Err(e) => tracing::warn!("{e}"),
            }
        }
        let no_gateways = setup.gateways.list().is_empty();
        let (demo_options, demo_now) = match config.demo {
            DemoConfig::Off => (None, false),
            DemoConfig::Offered(o) => (Some(o), no_gateways && saved.demo == Some(true)),
            DemoConfig::WhenNoGateways(o) => (Some(o), no_gateways),
            DemoConfig::Always(o) => (Some(o), true),
        };
        let desk = Arc::new(Desk {
            ble: Arc::new(BleSlot {
                hub: hub.clone(),
                adapter: config.ble.adapter.clone(),
                status: watch::channel(ruuvi_ble::BleStatus::Off).0,
                running: Mutex::new(None),
            }),
            mqtt: Arc::new(MqttSlot {
                hub: hub.clone(),
                secrets: secrets.clone(),
                pki_dir: config.data_dir.join("pki"),
                profiles: profiles.clone(),
                extra: config.mqtt,
                running: Mutex::new(MqttRunning::default()),
            }),
            polls: Arc::new(Polls::new(
                hub.clone(),
                secrets.clone(),
                config.clock.clone(),
            )),
            demo_options: demo_options.clone(),
            profiles,
            remote,
            hub: hub.clone(),
            db,
            storage_problem,
            setup,
            receiver,
            settings,
            alerts: alerting,
            secrets,
            events,
            clock: config.clock,
            export_dir: config.export_dir,
            started: config.started,
            network,
            admin: Mutex::new(None),
            running_demo: tokio::sync::Mutex::new(None),
            downloads: Default::default(),
            tasks: Mutex::new(Vec::new()),
            hub_task: Mutex::new(Some(hub_task)),
        });
        desk.start_admin().await;
        desk.forward_cards();
        if let Some(options) = demo_options.filter(|_| demo_now) {
            desk.start_demo(options).await?;
        }
        desk.ble.set(saved.bluetooth);
        if let Some((recording, options)) = config.ble.replay {
            desk.tasks.lock().push(desk.ble.replay(recording, options));
        }
        if let Err(e) = desk
            .mqtt
            .apply(saved.mqtt_feed.as_ref(), saved.mqtt_sink.as_ref(), false)
        {
            if fixed {
                return Err(e);
            }
            tracing::warn!("MQTT: {e}");
        }
        for poll in &saved.polls {
            if let Err(e) = desk.polls.start(poll.clone()).await {
                tracing::warn!(gateway = %poll.endpoint, "not polled: {e}");
            }
        }
        let upkeep = tokio::spawn(upkeep(Arc::downgrade(&desk)));
        desk.tasks.lock().push(upkeep);
        Ok(desk)
    }

    /// Every event from now on (cards, steps, alerts).
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    /// The live Bluetooth state as it changes.
    pub fn ble_status_changes(&self) -> watch::Receiver<ruuvi_ble::BleStatus> {
        self.ble.status.subscribe()
    }

    /// The receiver's state for the tray.
    pub async fn receiver_status(&self) -> ruuvi_wiring::ReceiverStatus {
        self.receiver.status().await
    }

    pub async fn listening(&self) -> Listening {
        let demo = self.running_demo.lock().await;
        Listening {
            receiver: self.receiver.url().await,
            admin: self
                .admin
                .lock()
                .as_ref()
                .map(|a| format!("http://{}", a.addr)),
            demo: demo
                .as_ref()
                .map(|d| d.addresses.iter().map(|a| a.to_string()).collect()),
        }
    }

    /// Sends a step of a gateway change to every listener.
    pub(crate) fn on_step(&self) -> ruuvi_setup::OnStep {
        let events = self.events.clone();
        Arc::new(move |step| {
            let _ = events.send(Event::Step(step));
        })
    }

    /// Reads the sensors' profiles again (changed by another process); each sensor whose
    /// profile changed gets a new card.
    pub(crate) async fn reload_profiles(&self) {
        let db = self.db.clone();
        let read = tokio::task::spawn_blocking(move || db.open().and_then(|mut s| s.profiles()))
            .await
            .map_err(|e| ruuvi_store::StoreError::Location(e.to_string()))
            .and_then(|r| r);
        let list = match read {
            Ok(list) => list,
            Err(e) => {
                tracing::warn!("reading the sensors' names: {e}");
                return;
            }
        };
        let before = self.profiles.all();
        if before == list {
            return;
        }
        let changed: Vec<MacAddress> = before
            .iter()
            .chain(&list)
            .map(|p| p.sensor)
            .filter(|m| {
                before.iter().find(|p| p.sensor == *m) != list.iter().find(|p| p.sensor == *m)
            })
            .collect();
        self.profiles.replace(list);
        for sensor in changed {
            self.send_card(sensor);
        }
    }

    /// Sends `sensor`'s card again (its profile changed).
    pub(crate) fn send_card(&self, sensor: MacAddress) {
        if let Some(o) = self.hub.latest().into_iter().find(|o| o.sensor == sensor) {
            let card = ruuvi_dashboard::SensorCard::from_observation(
                &o,
                self.profiles.get(sensor).as_ref(),
            );
            let _ = self.events.send(Event::Card(Box::new(card)));
        }
    }

    /// Cards for every stored observation.
    fn forward_cards(&self) {
        let mut updates = self.hub.subscribe();
        let events = self.events.clone();
        let profiles = self.profiles.clone();
        let task = tokio::spawn(async move {
            use broadcast::error::RecvError;
            loop {
                match updates.recv().await {
                    Ok(o) => {
                        // Nobody listening is no reason to stop.
                        if events.receiver_count() > 0 {
                            let card = ruuvi_dashboard::SensorCard::from_observation(
                                &o,
                                profiles.get(o.sensor).as_ref(),
                            );
                            let _ = events.send(Event::Card(Box::new(card)));
                        }
                    }
                    Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => return,
                }
            }
        });
        self.tasks.lock().push(task);
    }

    async fn start_admin(&self) {
        let Some(network) = &self.network else {
            return;
        };
        let metrics: ruuvi_receiver::MetricsSource = {
            // Readers, not handles: a scraper's open connection must not keep the hub (and so
            // the shutdown) waiting.
            let (receiver, hub) = (self.receiver.metrics.clone(), self.hub.stats_reader());
            Arc::new(move || {
                let mut m = MetricsText::default();
                if let Some(r) = receiver.lock().as_ref() {
                    r.write(&mut m);
                }
                for f in hub.read().families() {
                    m.single(f.name, kind(f.kind), f.help, f.value);
                }
                m.finish()
            })
        };
        let started = ruuvi_receiver::start_admin(
            AdminOptions {
                listen: network.listen,
                internal_secret: network.internal.clone(),
                shop_secret: Some(network.shop.clone()),
                metrics: Some(metrics),
            },
            network.whitelist.clone(),
            network.registry.clone(),
        )
        .await;
        match started {
            Ok(admin) => *self.admin.lock() = Some(admin),
            // Another server may hold the port: receiving matters more.
            Err(e) => tracing::warn!("the Internal API is off: {e}"),
        }
    }

    /// Simulated gateways on loopback, registered with the gateway set-up (their logins work).
    /// They post to this computer's receiver when it runs from the start, else to a receiver
    /// of their own on loopback.
    /// Whether demo gateways run now (the UI labels their data).
    pub(crate) async fn demo_running(&self) -> bool {
        self.running_demo.lock().await.is_some()
    }

    /// Starts the demo (the first-run guide's "Show demo data"); nothing when it runs.
    pub(crate) async fn demo_on(&self) -> Result<(), DeskError> {
        let options = self
            .demo_options
            .clone()
            .ok_or_else(|| DeskError::Unsupported("this has no demo".into()))?;
        if !self.demo_running().await {
            self.start_demo(options).await?;
        }
        Ok(())
    }

    /// Stops the demo gateways (their data stays in the store).
    pub(crate) async fn demo_off(&self) {
        if let Some(demo) = self.running_demo.lock().await.take() {
            for addr in &demo.addresses {
                self.setup.gateways.remove_demo(*addr);
            }
            demo.stop().await;
        }
    }

    async fn start_demo(&self, options: ruuvi_demo::DemoOptions) -> Result<(), DeskError> {
        let target = self.receiver.demo_target().await;
        let running = match target {
            Some((url, ca_pem)) => {
                let fleet = ruuvi_demo::DemoFleet::start(&options, &url, ca_pem)
                    .await
                    .map_err(|e| DeskError::Receiver(format!("demo gateways: {e}")))?;
                tracing::info!(gateways = ?fleet.addresses(), "demo gateways post to {url}");
                RunningDemo {
                    addresses: fleet.addresses(),
                    macs: fleet.macs().await,
                    logins: fleet.logins().await,
                    demo: DemoKind::Fleet(fleet),
                }
            }
            None => {
                let demo = ruuvi_wiring::Demo::start(self.hub.clone(), &options)
                    .await
                    .map_err(|e| DeskError::Receiver(format!("demo gateways: {e}")))?;
                let logins = demo.logins().await;
                RunningDemo {
                    addresses: logins.iter().map(|(a, _)| *a).collect(),
                    macs: demo.macs().await,
                    logins,
                    demo: DemoKind::OwnReceiver(demo),
                }
            }
        };
        for (addr, password) in &running.logins {
            self.setup.gateways.add_demo(*addr, password.clone());
        }
        *self.running_demo.lock().await = Some(running);
        Ok(())
    }

    /// The Internal API's address, whitelist and registry (`None`: it is off).
    #[allow(clippy::type_complexity)]
    pub(crate) fn network_parts(
        &self,
    ) -> Option<(SocketAddr, Arc<Mutex<Whitelist>>, Arc<Mutex<Registry>>)> {
        // Where it really listens (a configured port 0 is chosen at start).
        let running = self.admin.lock().as_ref().map(|a| a.addr);
        self.network.as_ref().map(|n| {
            (
                running.unwrap_or(n.listen),
                n.whitelist.clone(),
                n.registry.clone(),
            )
        })
    }

    /// Saves the Internal API's state now (after a change made in the app).
    pub(crate) fn save_network(&self) {
        if let Some(n) = &self.network {
            n.save(self.secrets.as_ref());
        }
    }

    /// The running demo gateways' addresses and MACs.
    pub(crate) async fn demo_macs(&self) -> Vec<(SocketAddr, MacAddress)> {
        self.running_demo
            .lock()
            .await
            .as_ref()
            .map(|d| d.macs.clone())
            .unwrap_or_default()
    }

    /// The retention in force: the settings' limits, else the newest valid plan's.
    fn retention(&self) -> Retention {
        let settings = self.settings.get();
        let plan = self.network.as_ref().and_then(|n| {
            let r = n.registry.lock();
            r.active_plan((self.clock)() / 1000)
                .map(|p| (p.max_history_days, p.max_resolution_minutes))
        });
        Retention::from_plan(
            settings.keep_days.or(plan.map(|p| p.0)),
            settings.resolution_minutes.or(plan.map(|p| p.1)),
        )
    }

    /// Stops listening and feeding, saves the Internal API's state and waits (a little) for the
    /// batch in flight. What was acknowledged is committed already.
    pub async fn stop(self: Arc<Self>) {
        for task in self.tasks.lock().drain(..) {
            task.abort();
        }
        let admin = self.admin.lock().take();
        if let Some(admin) = admin {
            admin.stop().await;
        }
        if let Some(network) = &self.network {
            network.save(self.secrets.as_ref());
        }
        self.receiver.stop().await;
        self.ble.set(false);
        self.polls.stop_all();
        self.mqtt.apply(None, None, false).ok();
        if let Some(demo) = self.running_demo.lock().await.take() {
            demo.stop().await;
        }
        let hub_task = self.hub_task.lock().take();
        drop(self);
        if let Some(task) = hub_task {
            // A gateway's idle keep-alive connection still holds a hub handle.
            if tokio::time::timeout(std::time::Duration::from_secs(5), task)
                .await
                .is_err()
            {
                tracing::info!("stopping with connections still open");
            }
        }
    }
}

fn kind(k: ruuvi_hub::MetricKind) -> ruuvi_receiver::MetricKind {
    match k {
        ruuvi_hub::MetricKind::Counter => ruuvi_receiver::MetricKind::Counter,
        ruuvi_hub::MetricKind::Gauge => ruuvi_receiver::MetricKind::Gauge,
    }
}

/// Every 2 s: the receiver takes in rules, certificates and keys changed by another process
/// (`ruuvictl` next to the app); the Internal API's state is saved; retention runs at the start,
/// every 10 minutes and when the settings or the plans change.
async fn upkeep(desk: std::sync::Weak<Desk>) {
    let mut due = tokio::time::Instant::now();
    let mut seen: Option<Retention> = None;
    let mut profiles_due = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        {
            let Some(desk) = desk.upgrade() else { return };
            if tokio::time::Instant::now() >= profiles_due {
                profiles_due = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
                desk.reload_profiles().await;
            }
            let wanted = desk.retention();
            if seen != Some(wanted) || tokio::time::Instant::now() >= due {
                desk.hub.retain(wanted, (desk.clock)()).await;
                seen = Some(wanted);
                due = tokio::time::Instant::now() + std::time::Duration::from_secs(600);
            }
            desk.receiver.refresh().await;
            if let Some(network) = &desk.network {
                network.save(desk.secrets.as_ref());
            }
        }
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    }
}

/// The store the settings name; with `Saved` settings this computer's file when that one
/// cannot be opened (the Settings page says why).
type Opened = (
    StoreLocation,
    Box<dyn ruuvi_store::ObservationStore>,
    Option<String>,
);

/// Logs how a store written by an earlier version is moved to this version's layout (a year
/// of history takes minutes): at most one line every two seconds, and the last.
fn migration_log(told: Option<crate::OnMigration>) -> impl FnMut(ruuvi_store::Migration) {
    let mut last: Option<Instant> = None;
    move |m| {
        if let Some(tell) = &told {
            tell(m);
        }
        if m.done == m.total || last.is_none_or(|t| t.elapsed().as_secs() >= 2) {
            last = Some(Instant::now());
            tracing::info!(
                done = m.done,
                total = m.total,
                "moving the stored history to this version's layout: {} %",
                m.done * 100 / m.total.max(1)
            );
        }
    }
}

fn open_store(
    database_dir: &Path,
    settings: &AppSettings,
    fixed: bool,
    secrets: &dyn SecretStore,
    told: Option<crate::OnMigration>,
) -> Result<Opened, DeskError> {
    let opened = ruuvi_wiring::store_location(database_dir, settings.store.as_deref(), secrets)
        .and_then(|db| {
            db.open_with_progress(&mut migration_log(told))
                .map(|store| (db.clone(), store))
                .map_err(|e| format!("opening {db}: {e}"))
        });
    match opened {
        Ok((db, store)) => Ok((db, store, None)),
        Err(e) if fixed => Err(DeskError::Store(e)),
        Err(e) => {
            let file = database_dir.join(ruuvi_wiring::identifier::DATABASE);
            tracing::error!(
                "the database in Settings cannot be opened: {e}; using {}",
                file.display()
            );
            let store = SqliteStore::open(&file).map_err(|e| DeskError::Store(e.to_string()))?;
            Ok((StoreLocation::Sqlite(file), Box::new(store), Some(e)))
        }
    }
}

/// The settings in `app.json` (or fixed by the command line), shared by whoever changes them.
pub(crate) struct Settings {
    data_dir: PathBuf,
    current: Mutex<AppSettings>,
    fixed: bool,
}

impl Settings {
    pub fn get(&self) -> AppSettings {
        self.current.lock().clone()
    }

    pub fn fixed(&self) -> bool {
        self.fixed
    }

    /// Saves `change` applied to the current settings.
    pub fn update(&self, change: impl FnOnce(&mut AppSettings)) -> Result<AppSettings, DeskError> {
        if self.fixed {
            return Err(DeskError::Unsupported(
                "ruuvictl serve takes these from its options: --ble, --keep-days, --resolution-minutes, --store, --mqtt, --mqtt-sink, --poll"
                    .into(),
            ));
        }
        let mut current = self.current.lock();
        let mut next = current.clone();
        change(&mut next);
        next.validate().map_err(DeskError::BadInput)?;
        next.save(&self.data_dir).map_err(DeskError::Io)?;
        *current = next.clone();
        Ok(next)
    }
}

/// The Internal API's whitelist, registry and secrets, saved in `network.json` and the keychain.
struct Network {
    listen: SocketAddr,
    whitelist: Arc<Mutex<Whitelist>>,
    registry: Arc<Mutex<Registry>>,
    saved: Mutex<SavedNetwork>,
    internal: Sensitive<String>,
    shop: Sensitive<String>,
}

impl Network {
    fn load(
        data_dir: &Path,
        listen: SocketAddr,
        secrets: &dyn SecretStore,
    ) -> Result<Self, String> {
        let (saved, whitelist, registry) =
            SavedNetwork::load(&data_dir.join("network.json"), secrets)
                .map_err(|e| e.to_string())?;
        Ok(Self {
            listen,
            whitelist: Arc::new(Mutex::new(whitelist)),
            registry: Arc::new(Mutex::new(registry)),
            saved: Mutex::new(saved),
            internal: admin_secret(secrets, "internal")?,
            shop: admin_secret(secrets, "shop")?,
        })
    }

    fn save(&self, secrets: &dyn SecretStore) {
        if let Err(e) = self
            .saved
            .lock()
            .save(&self.whitelist, &self.registry, secrets)
        {
            tracing::warn!("cannot save the Internal API's state: {e}");
        }
    }
}

/// The Internal API's secret `internal-api-secret/<id>`, made (random) on first use.
fn admin_secret(secrets: &dyn SecretStore, id: &str) -> Result<Sensitive<String>, String> {
    let name = SecretName::new(SecretKind::InternalApiSecret, id).expect("a valid id");
    match secrets.get(&name).map_err(|e| e.to_string())? {
        Some(secret) => Ok(secret),
        None => {
            let secret = ruuvi_secrets::random_hex(24);
            secrets.set(&name, &secret).map_err(|e| e.to_string())?;
            tracing::info!("made {name} (read it with `ruuvictl secret get {name} --show`)");
            Ok(secret)
        }
    }
}

struct RunningDemo {
    addresses: Vec<SocketAddr>,
    /// Each demo gateway's MAC, for the Gateways page's list of known gateways.
    macs: Vec<(SocketAddr, MacAddress)>,
    logins: Vec<(SocketAddr, Sensitive<String>)>,
    demo: DemoKind,
}

enum DemoKind {
    Fleet(ruuvi_demo::DemoFleet),
    OwnReceiver(ruuvi_wiring::Demo),
}

impl RunningDemo {
    async fn stop(self) {
        match self.demo {
            DemoKind::Fleet(f) => f.stop().await,
            DemoKind::OwnReceiver(d) => d.stop().await,
        }
    }
}

/// This computer's receiver, started at once or on first need, and kept running.
pub(crate) struct ReceiverSlot {
    config: ReceiverConfig,
    pub(crate) data_dir: PathBuf,
    secrets: Arc<dyn SecretStore>,
    hub: Hub,
    settings: Arc<Settings>,
    /// The Internal API's whitelist, shared with the receiver's signature checks.
    whitelist: Option<Arc<Mutex<Whitelist>>>,
    running: tokio::sync::Mutex<Option<Receiving>>,
    /// Shared with `/metrics` apart from the slot (which holds a hub handle).
    metrics: Arc<Mutex<Option<ruuvi_receiver::ReceiverMetrics>>>,
    /// The remote configuration documents it serves.
    served: Arc<ruuvi_receiver::ServedConfigs>,
}

impl ReceiverSlot {
    /// Starts the receiver if it is not running and saves that it is on; says where gateways
    /// must post.
    pub async fn ensure(&self) -> Result<ReceiverTarget, DeskError> {
        let mut running = self.running.lock().await;
        if running.is_none() {
            let mut options = ruuvi_receiver::ReceiverOptions::new(self.config.listen);
            options.path = self.config.path.clone();
            options.served = self.served.clone();
            if let Some(w) = &self.whitelist {
                options.whitelist = w.clone();
            }
            let started = Receiving::start(
                options,
                self.config.https,
                self.config.create_ca,
                &self.data_dir,
                self.secrets.as_ref(),
                self.hub.clone(),
            )
            .await
            .map_err(|e| DeskError::Receiver(format!("the receiver did not start: {e}")))?;
            tracing::info!(url = %started.url(), "receiver listening");
            *self.metrics.lock() = Some(started.receiver.metrics());
            *running = Some(started);
            if !self.config.always_on && !self.settings.get().receiver_enabled {
                if let Err(e) = self.settings.update(|s| s.receiver_enabled = true) {
                    tracing::warn!("{e}");
                }
            }
        }
        let r = running.as_ref().expect("just started");
        Ok(ReceiverTarget {
            https: r.scheme == "https",
            port: r.receiver.addr.port(),
            path: r.path.clone(),
        })
    }

    /// Expects `gateway` with its bearer token (and client certificate) from now on.
    pub async fn expect(
        &self,
        gateway: MacAddress,
        token: &Sensitive<String>,
        require_client_cert: bool,
    ) -> Result<(), DeskError> {
        ruuvi_wiring::expect_gateway(
            &self.data_dir,
            self.secrets.as_ref(),
            gateway,
            token,
            require_client_cert,
        )
        .map_err(DeskError::Receiver)?;
        self.refresh().await;
        Ok(())
    }

    /// What the receiver is doing (off when it does not run).
    pub async fn status(&self) -> ruuvi_wiring::ReceiverStatus {
        match self.running.lock().await.as_ref() {
            Some(r) => r.status(),
            None => ruuvi_wiring::ReceiverStatus::off(),
        }
    }

    async fn url(&self) -> Option<String> {
        self.running.lock().await.as_ref().map(|r| r.url())
    }

    /// Where demo gateways post when the receiver runs: its loopback URL and the CA to trust.
    async fn demo_target(&self) -> Option<(String, Option<String>)> {
        let running = self.running.lock().await;
        let r = running.as_ref()?;
        Some((
            format!(
                "{}://127.0.0.1:{}{}",
                r.scheme,
                r.receiver.addr.port(),
                r.path
            ),
            r.ca_pem.clone(),
        ))
    }

    /// Takes in changed rules, certificates and keys now.
    pub async fn refresh(&self) {
        if let Some(r) = self.running.lock().await.as_mut() {
            r.refresh(self.secrets.as_ref());
        }
    }

    async fn stop(&self) {
        if let Some(r) = self.running.lock().await.take() {
            r.stop().await;
        }
        *self.metrics.lock() = None;
    }
}

/// This computer's Bluetooth scan, on or off.
pub(crate) struct BleSlot {
    hub: Hub,
    adapter: Option<String>,
    status: watch::Sender<ruuvi_ble::BleStatus>,
    running: Mutex<Option<JoinHandle<()>>>,
}

impl BleSlot {
    /// The adapter chosen for this computer (the first one when `None`).
    pub fn adapter(&self) -> &Option<String> {
        &self.adapter
    }

    /// Starts or stops scanning (retried until an adapter appears); the status says which.
    pub fn set(&self, on: bool) {
        let mut running = self.running.lock();
        match (on, running.is_some()) {
            (true, false) => {
                let (tx, rx) = tokio::sync::mpsc::channel(1024);
                let status = self.status.clone();
                let hub = self.hub.clone();
                let options = ruuvi_ble::ScanOptions {
                    adapter: self.adapter.clone(),
                    ..Default::default()
                };
                let _ = self.status.send(ruuvi_ble::BleStatus::Starting);
                *running = Some(tokio::spawn(async move {
                    tokio::join!(
                        ruuvi_ble::scan(options, tx, status),
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

    /// Plays a recording as if it came over Bluetooth.
    fn replay(
        &self,
        recording: Vec<ruuvi_ble::Advertisement>,
        options: ruuvi_ble::replay::ReplayOptions,
    ) -> JoinHandle<()> {
        let (tx, rx) = tokio::sync::mpsc::channel(1024);
        let hub = self.hub.clone();
        tokio::spawn(async move {
            let play = async move {
                let n = ruuvi_ble::replay::play(&recording, options, tx).await;
                tracing::info!(advertisements = n, "recording played");
            };
            tokio::join!(play, ruuvi_wiring::ble_to_hub(hub, rx));
        })
    }

    /// Off when switched off; otherwise what the radio says now (within 2 s).
    pub async fn status(&self) -> ruuvi_ble::BleStatus {
        if self.running.lock().is_none() {
            return ruuvi_ble::BleStatus::Off;
        }
        ruuvi_ble::status_now(self.adapter.clone()).await
    }
}

/// The MQTT feed and sink as the settings have them; each restarts when its settings change.
pub(crate) struct MqttSlot {
    hub: Hub,
    secrets: Arc<dyn SecretStore>,
    /// The PKI, for Ruuvi Desk's certificates.
    pki_dir: PathBuf,
    /// Names for Home Assistant and calibrations for the published values.
    profiles: ruuvi_protocol::Profiles,
    extra: MqttConfig,
    running: Mutex<MqttRunning>,
}

#[derive(Default)]
struct MqttRunning {
    feed: Option<Running<MqttFeedSettings, ruuvi_mqtt::feed::FeedStatus>>,
    sink: Option<Running<MqttSinkSettings, ruuvi_mqtt::sink::SinkStatus>>,
}

struct Running<S, T> {
    settings: S,
    tasks: Vec<JoinHandle<()>>,
    status: watch::Receiver<T>,
}

impl<S, T> Drop for Running<S, T> {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl MqttSlot {
    /// Our CA and client certificate when `ours`; the command line's CA and client certificate
    /// when it gave them; else the public roots and none.
    fn tls(&self, ours: bool) -> Result<ruuvi_wiring::MqttTls, DeskError> {
        let ca_pem = if ours {
            // The CA is made on first use, as for gateways' certificates.
            let pki = ruuvi_pki::Pki::new(&self.pki_dir, self.secrets.as_ref());
            let ca = pki
                .ensure_ca("Ruuvi Desk CA", ruuvi_pki::OffsetDateTime::now_utc())
                .and_then(|_| pki.ca_pem())
                .map_err(|e| DeskError::Mqtt(format!("Ruuvi Desk's CA: {e}")))?;
            Some(ca)
        } else {
            self.extra.ca_pem.clone()
        };
        Ok(ruuvi_wiring::MqttTls {
            ca_pem,
            own_client_cert: (ours || self.extra.client_cert).then(|| self.pki_dir.clone()),
        })
    }

    fn client_id(&self, role: &str) -> String {
        match &self.extra.client_id {
            Some(id) => format!("{id}-{role}"),
            None => ruuvi_wiring::mqtt_client_id(role),
        }
    }

    /// Starts, restarts or stops the feed and the sink; `force` restarts them even when their
    /// settings are the same (a new password).
    pub fn apply(
        &self,
        feed: Option<&MqttFeedSettings>,
        sink: Option<&MqttSinkSettings>,
        force: bool,
    ) -> Result<(), DeskError> {
        let mut running = self.running.lock();
        let secrets = self.secrets.as_ref();
        if force || running.feed.as_ref().map(|r| &r.settings) != feed {
            running.feed = None;
            if let Some(f) = feed {
                let broker = ruuvi_wiring::mqtt_broker(
                    &f.broker,
                    &self.client_id("feed"),
                    f.user.as_deref(),
                    &self.tls(f.our_certificates)?,
                    secrets,
                )
                .map_err(DeskError::Mqtt)?;
                // Several filters, separated by spaces.
                let topics: Vec<String> = f.topic.split_whitespace().map(str::to_string).collect();
                tracing::info!(broker = %broker.url(), ?topics, "reading gateways over MQTT");
                let (tasks, status) = ruuvi_wiring::start_mqtt_feed(
                    &self.hub,
                    ruuvi_mqtt::feed::FeedOptions { broker, topics },
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
                    &self.client_id("sink"),
                    s.user.as_deref(),
                    &self.tls(s.our_certificates)?,
                    secrets,
                )
                .map_err(DeskError::Mqtt)?;
                tracing::info!(broker = %broker.url(), prefix = %s.prefix, "republishing over MQTT");
                let discovery = self
                    .extra
                    .discovery_prefix
                    .clone()
                    .unwrap_or_else(|| "homeassistant".to_string());
                let (task, status) = ruuvi_wiring::start_mqtt_sink(
                    &self.hub,
                    ruuvi_mqtt::sink::SinkOptions {
                        broker,
                        prefix: s.prefix.clone(),
                        discovery_prefix: s.home_assistant.then_some(discovery),
                        version: env!("CARGO_PKG_VERSION").to_string(),
                        profiles: self.profiles.clone(),
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
