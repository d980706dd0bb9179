//! What both faces (the app and `ruuvictl`) do alike: connect feeds to the hub — feeds only
//! produce observations and the hub only stores and broadcasts them; this is the one place
//! that hands one to the other — open the store and brokers they are configured with, and
//! send their logs to a file.

pub mod app_settings;
mod connections;
pub mod identifier;
mod receiving;

pub use connections::{
    database_password_name, mqtt_broker, mqtt_client_id, mqtt_password_name, store_location,
    Connections, MqttTls, MqttView,
};
pub use receiving::{
    expect_gateway, load_policies, receiver_rules, remove_gateway_rule, save_gateway_rule,
    set_accept_unknown, GatewayActivity, OutcomeCount, ReceiverRule, ReceiverRules, ReceiverStatus,
    Receiving, StatusSource,
};

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use file_rotate::compression::Compression;
use file_rotate::suffix::AppendCount;
use file_rotate::{ContentLimit, FileRotate};
use parking_lot::RwLock;

use ruuvi_ble::{Advertisement, Identify};
use ruuvi_hub::{Hub, HubError};
use ruuvi_protocol::Observation;
use ruuvi_receiver::{Deliver, DeliverError, Policies, Receiver, ReceiverOptions, RunningReceiver};
use tokio::sync::mpsc;

/// How much log a face keeps: the current file grows to `file_bytes`, then becomes
/// `<name>.1` (older ones move up) and at most `kept` such files stay, so the logs never take more
/// than `file_bytes × (kept + 1)` (plus one line). `RUUVI_DESK_LOG_MAX_BYTES` and
/// `RUUVI_DESK_LOG_FILES` change them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogLimits {
    pub file_bytes: usize,
    pub kept: usize,
}

impl Default for LogLimits {
    fn default() -> Self {
        Self {
            file_bytes: 10 << 20,
            kept: 4,
        }
    }
}

impl LogLimits {
    /// The defaults, changed by the environment where it says so (and makes sense).
    pub fn from_env() -> Self {
        let number = |name: &str| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.trim().parse::<usize>().ok())
                .filter(|n| *n > 0)
        };
        let d = Self::default();
        Self {
            file_bytes: number("RUUVI_DESK_LOG_MAX_BYTES").unwrap_or(d.file_bytes),
            kept: number("RUUVI_DESK_LOG_FILES").unwrap_or(d.kept),
        }
    }
}

/// The rotating file, shared by every event (one `write` per formatted event).
#[derive(Clone)]
struct LogFile(Arc<parking_lot::Mutex<FileRotate<AppendCount>>>);

impl std::io::Write for LogFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.0.lock().write_all(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.lock().flush()
    }
}

/// Sends `tracing` output to `file_name` in `dir`, rotated and capped as `limits` says
/// (`RUST_LOG` sets the level, info by default). Secrets never reach it: they are `Sensitive`
/// everywhere. Without a writable directory there is no log, and the face runs on.
pub fn log_to_file(dir: &std::path::Path, file_name: &str, limits: LogLimits) {
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    let path = dir.join(file_name);
    // file-rotate opens the file lazily and keeps running without one; check it opens here.
    if std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .is_err()
    {
        return;
    }
    let file = FileRotate::new(
        path,
        AppendCount::new(limits.kept),
        ContentLimit::BytesSurpassed(limits.file_bytes.max(1)),
        Compression::None,
        None,
    );
    let file = LogFile(Arc::new(parking_lot::Mutex::new(file)));
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(move || file.clone())
        .with_ansi(false)
        .try_init();
}

/// The receiver's observations go to the hub; a full hub is "busy" (503, the gateway retries),
/// and the gateway is answered only after the commit.
pub struct ToHub(pub Hub);

impl Deliver for ToHub {
    fn deliver(
        &self,
        observations: Vec<Observation>,
    ) -> Pin<Box<dyn Future<Output = Result<(), DeliverError>> + Send + '_>> {
        Box::pin(async move {
            match self.0.try_submit(observations) {
                Err(HubError::Full) => Err(DeliverError::Busy),
                Err(e) => Err(DeliverError::Failed(e.to_string())),
                Ok(pending) => pending
                    .stored()
                    .await
                    .map(|_| ())
                    .map_err(|e| DeliverError::Failed(e.to_string())),
            }
        })
    }
}

/// Hands what a Bluetooth feed (live or replayed) hears to the hub until the feed ends.
pub async fn ble_to_hub(hub: Hub, mut advertisements: mpsc::Receiver<Advertisement>) {
    let mut identify = Identify::default();
    while let Some(adv) = advertisements.recv().await {
        match identify.observe(&adv) {
            Ok(o) => {
                if let Err(e) = hub.submit(vec![o]).await {
                    tracing::warn!("a Bluetooth observation was not stored: {e}");
                }
            }
            Err(e) => tracing::debug!(address = ?adv.address, "skipped: {e}"),
        }
    }
}

/// Hands a feed's observations to the hub in batches of what has arrived, until the feed ends
/// or the hub stops.
pub async fn observations_to_hub(hub: Hub, mut rx: mpsc::Receiver<Observation>) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < 1000 {
            match rx.try_recv() {
                Ok(o) => batch.push(o),
                Err(_) => break,
            }
        }
        if let Err(e) = hub.submit(batch).await {
            tracing::warn!("observations were not stored: {e}");
            if e == ruuvi_hub::HubError::Stopped {
                return;
            }
        }
    }
}

/// Reads a broker's gateway topics into the hub (the MQTT feed), in batches of what has
/// arrived; the tasks end when the hub stops taking observations.
pub fn start_mqtt_feed(
    hub: &Hub,
    options: ruuvi_mqtt::feed::FeedOptions,
) -> (
    Vec<tokio::task::JoinHandle<()>>,
    tokio::sync::watch::Receiver<ruuvi_mqtt::feed::FeedStatus>,
) {
    let (tx, rx) = mpsc::channel::<ruuvi_protocol::Observation>(4096);
    let (status_tx, status) = tokio::sync::watch::channel(Default::default());
    let feed = tokio::spawn(ruuvi_mqtt::feed::run(options, tx, status_tx));
    let to_hub = tokio::spawn(observations_to_hub(hub.clone(), rx));
    (vec![feed, to_hub], status)
}

/// Republishes every stored observation to a broker (the MQTT sink).
pub fn start_mqtt_sink(
    hub: &Hub,
    options: ruuvi_mqtt::sink::SinkOptions,
) -> (
    tokio::task::JoinHandle<()>,
    tokio::sync::watch::Receiver<ruuvi_mqtt::sink::SinkStatus>,
) {
    let (status_tx, status) = tokio::sync::watch::channel(Default::default());
    let task = tokio::spawn(ruuvi_mqtt::sink::run(options, hub.subscribe(), status_tx));
    (task, status)
}

/// Demo mode on its own: a receiver on loopback (plain HTTP, any gateway accepted) and the
/// simulated gateways posting to it, everything into `hub`.
pub struct Demo {
    receiver: RunningReceiver,
    fleet: ruuvi_demo::DemoFleet,
}

impl Demo {
    pub async fn start(hub: Hub, options: &ruuvi_demo::DemoOptions) -> Result<Self, String> {
        let receiver = Receiver::start(
            ReceiverOptions::new(std::net::SocketAddr::from(([127, 0, 0, 1], 0))),
            Arc::new(RwLock::new(Policies::default())),
            Arc::new(ToHub(hub)),
        )
        .await
        .map_err(|e| e.to_string())?;
        let url = format!("http://{}/record", receiver.addr);
        match ruuvi_demo::DemoFleet::start(options, &url, None).await {
            Ok(fleet) => Ok(Demo { receiver, fleet }),
            Err(e) => {
                receiver.stop().await;
                Err(e.to_string())
            }
        }
    }

    /// The simulated gateways' addresses and passwords (see `DemoFleet::logins`).
    pub async fn logins(&self) -> Vec<(std::net::SocketAddr, ruuvi_secrets::Sensitive<String>)> {
        self.fleet.logins().await
    }

    pub async fn macs(&self) -> Vec<(std::net::SocketAddr, ruuvi_protocol::MacAddress)> {
        self.fleet.macs().await
    }

    pub async fn stop(self) {
        self.fleet.stop().await;
        self.receiver.stop().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn demo_gateways_fill_the_hub() {
        let (hub, _task) = Hub::start(
            ruuvi_store::SqliteStore::open_in_memory().unwrap(),
            ruuvi_hub::HubOptions::default(),
        );
        let options = ruuvi_demo::DemoOptions {
            period_s: 1,
            ..Default::default()
        };
        let demo = Demo::start(hub.clone(), &options).await.unwrap();
        let mut updates = hub.subscribe();
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(15);
        while hub.latest().len() < options.gateways * options.tags {
            tokio::time::timeout_at(deadline, updates.recv())
                .await
                .expect("every demo tag within 15 s")
                .unwrap();
        }
        assert!(hub
            .latest()
            .iter()
            .any(|o| o.format == Some(ruuvi_protocol::DataFormat::E1)));
        demo.stop().await;
    }
}
