//! `ruuvictl serve`: the receiver, the hub and the store without a window; `ruuvictl export`:
//! stored observations as CSV or JSON lines.
//!
//! The receiver's policy lives in `<data dir>/receiver.json` (no secrets in it):
//! `{"unknown": "accept" | "reject", "gateways": {"<MAC>": {"auth": "none" | "basic" |
//! "bearer" | "token" | "api_key", "user": "<basic user>", "require_client_cert": bool,
//! "hmac": bool, "rotate_hmac": bool, "rate": <seconds>}}}`. Secrets come from the keychain: `receiver-auth/<MAC>` (the auth secret) and
//! `hmac-key/<MAC>` (the gateway's HMAC key, its device id unless changed).
//!
//! The Internal API (loopback by default) keeps its whitelist, sensors and plans in
//! `<data dir>/network.json` and their secrets in the keychain; the newest valid plan's
//! `maxHistoryDays` / `maxResolutionMinutes` govern retention unless the command line says.

use parking_lot::Mutex;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Args;
use ruuvi_hub::{Hub, HubOptions};
use ruuvi_protocol::MacAddress;
use ruuvi_receiver::{AdminOptions, MetricsText, ReceiverOptions, Registry, SavedNetwork};
use ruuvi_secrets::{SecretKind, SecretName, SecretStore, Sensitive};
use ruuvi_store::{Query, Retention, StoreLocation};

#[derive(Debug, Args)]
pub struct Serve {
    /// Where to listen.
    #[arg(long, default_value = "0.0.0.0:8443")]
    listen: std::net::SocketAddr,
    /// Plain HTTP instead of HTTPS (gateways then send secrets in the clear).
    #[arg(long)]
    http: bool,
    /// The path gateways post to.
    #[arg(long, default_value = "/record")]
    path: String,
    /// Where observations are kept: a SQLite file, or `postgres://user@host:port/database`
    /// (several `serve` processes may share one; the password is read from the keychain,
    /// `database-password/host:port:user`) [default: observations.sqlite in the data directory;
    /// without --data-dir on Windows, in %LOCALAPPDATA%\com.ruuvidesk.desktop].
    #[arg(long, alias = "db")]
    store: Option<String>,
    /// Where the Internal API (whitelist, gwinfo, sensors, subscriptions) and `/metrics`
    /// listen. Its secrets are in the keychain: `internal-api-secret/internal` (and
    /// `internal-api-secret/shop` for subscriptions), made on first use.
    #[arg(long, default_value = "127.0.0.1:8444")]
    admin: std::net::SocketAddr,
    /// No Internal API listener.
    #[arg(long)]
    no_admin: bool,
    /// Delete observations older than this many days [default: the newest valid
    /// subscription's maxHistoryDays, else keep everything].
    #[arg(long)]
    keep_days: Option<u32>,
    /// Beyond the last 24 hours keep one observation per sensor per this many minutes
    /// [default: the subscription's maxResolutionMinutes, else every observation].
    #[arg(long)]
    resolution_minutes: Option<u32>,
    /// Also store what this computer's Bluetooth hears (retrying until an adapter appears).
    #[arg(long)]
    ble: bool,
    /// The Bluetooth adapter (part of its name, e.g. `hci1`).
    #[arg(long)]
    ble_adapter: Option<String>,
    /// Feed a recording (`ruuvictl ble record`) as if it came over Bluetooth: demos, tests.
    #[arg(long)]
    ble_replay: Option<PathBuf>,
    /// Its speed: 1 (as recorded), a factor such as 10, or `instant`.
    #[arg(long, default_value = "1")]
    ble_replay_speed: String,
    /// Serve the app's UI and its backend over HTTP + WebSocket here (loopback by default;
    /// the startup line gives the address with its token).
    #[arg(long, num_args = 0..=1, default_missing_value = "127.0.0.1:8445")]
    ui: Option<std::net::SocketAddr>,
    /// The built UI [default: next to the program, else the source tree's ui/dist].
    #[arg(long)]
    ui_dir: Option<PathBuf>,
    /// Demo mode: simulated gateways on loopback, set up to post here (their data is
    /// labelled as demo data in the UI).
    #[arg(long)]
    demo: bool,
    /// POST every alert that fires (rules: `ruuvictl alert`) to this URL as the seed's push
    /// payload, with retries.
    #[arg(long)]
    alert_webhook: Option<String>,
    /// Read gateways' MQTT messages from this broker: `mqtt://host:port`, `mqtts://…`,
    /// `ws://host:port/path` or `wss://…`.
    #[arg(long)]
    mqtt: Option<String>,
    /// Topic filters to read (the gateways' `mqtt_prefix` followed by `#`).
    #[arg(long, default_value = "ruuvi/#")]
    mqtt_topic: Vec<String>,
    /// Republish every stored observation to this broker (same URL forms), retained, with
    /// Home Assistant discovery.
    #[arg(long)]
    mqtt_sink: Option<String>,
    /// The sink's topic prefix: `<prefix>/<sensor MAC, 12 hex digits>` and `<prefix>/status`.
    #[arg(long, default_value = "ruuvi_desk")]
    mqtt_sink_prefix: String,
    /// Home Assistant's discovery prefix; `none` publishes no discovery messages.
    #[arg(long, default_value = "homeassistant")]
    ha_discovery_prefix: String,
    /// The user for both brokers; the password is read from the keychain
    /// (`mqtt-password/host:port:user`).
    #[arg(long)]
    mqtt_user: Option<String>,
    /// Trust only this CA (a PEM file) for mqtts:// and wss:// brokers instead of the public
    /// roots; Ruuvi Desk's own CA is `<data dir>/pki/ca.pem`.
    #[arg(long)]
    mqtt_ca: Option<PathBuf>,
    /// Present Ruuvi Desk's own client certificate (from its CA, issued on first use) to
    /// brokers that require one.
    #[arg(long)]
    mqtt_client_cert: bool,
    /// The client id at the brokers [default: ruuvi-desk-<host>-<process id>].
    #[arg(long)]
    mqtt_client_id: Option<String>,
}

/// A broker from `--mqtt`/`--mqtt-sink` and the shared login options.
fn mqtt_broker(
    args: &Serve,
    url: &str,
    role: &str,
    data_dir: &Path,
    secrets: &dyn SecretStore,
) -> Result<ruuvi_mqtt::Broker, String> {
    let id = match &args.mqtt_client_id {
        Some(id) => format!("{id}-{role}"),
        None => ruuvi_wiring::mqtt_client_id(role),
    };
    let ca = match &args.mqtt_ca {
        Some(path) => {
            Some(std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?)
        }
        None => None,
    };
    let tls = ruuvi_wiring::MqttTls {
        ca_pem: ca,
        own_client_cert: args.mqtt_client_cert.then(|| data_dir.join("pki")),
    };
    ruuvi_wiring::mqtt_broker(url, &id, args.mqtt_user.as_deref(), &tls, secrets)
}

/// The Bluetooth feeds' tasks (they end with `abort`) and the live feed's state.
type BleFeeds = (
    Vec<tokio::task::JoinHandle<()>>,
    Option<tokio::sync::watch::Receiver<ruuvi_ble::BleStatus>>,
);

/// Bluetooth feeds (live and/or replayed) into the hub.
fn start_ble(args: &Serve, hub: &Hub) -> Result<BleFeeds, String> {
    use ruuvi_ble::{BleStatus, ScanOptions};
    let mut tasks = Vec::new();
    let mut status = None;
    if !args.ble && args.ble_replay.is_none() {
        return Ok((tasks, status));
    }
    let (tx, rx) = tokio::sync::mpsc::channel(1024);
    if let Some(path) = &args.ble_replay {
        let recording = crate::ble::load_recording(path)?;
        let options = ruuvi_ble::replay::ReplayOptions {
            speed: crate::ble::parse_speed(&args.ble_replay_speed)?,
            retime_to_now: true,
            rounds: 1,
        };
        let tx = tx.clone();
        tasks.push(tokio::spawn(async move {
            let n = ruuvi_ble::replay::play(&recording, options, tx).await;
            tracing::info!(advertisements = n, "recording played");
        }));
    }
    if args.ble {
        let options = ScanOptions {
            adapter: args.ble_adapter.clone(),
            ..ScanOptions::default()
        };
        let (status_tx, status_rx) = tokio::sync::watch::channel(BleStatus::Starting);
        tasks.push(tokio::spawn(ruuvi_ble::scan(
            options,
            tx.clone(),
            status_tx,
        )));
        tasks.push(tokio::spawn(crate::ble::say_status_changes(
            status_rx.clone(),
        )));
        status = Some(status_rx);
    }
    drop(tx);
    tasks.push(tokio::spawn(ruuvi_wiring::ble_to_hub(hub.clone(), rx)));
    Ok((tasks, status))
}

#[derive(Debug, Args)]
pub struct Export {
    /// csv or json (one object per line).
    #[arg(long, default_value = "csv")]
    format: String,
    #[arg(long)]
    sensor: Option<MacAddress>,
    /// From (inclusive): Unix ms, `2026-11-22` or `2026-11-22T10:00:00Z`.
    #[arg(long)]
    from: Option<String>,
    /// To (exclusive), same forms.
    #[arg(long)]
    to: Option<String>,
    /// Write here instead of standard output.
    #[arg(long)]
    out: Option<PathBuf>,
    /// A SQLite file or a `postgres://` URL, as for `serve --store`.
    #[arg(long, alias = "db")]
    store: Option<String>,
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

/// The hub's families for `/metrics`.
fn write_hub_metrics(stats: &ruuvi_hub::HubStats, m: &mut MetricsText) {
    use ruuvi_receiver::MetricKind::{Counter, Gauge};
    let families = [
        (
            "ruuvi_hub_stored_total",
            Counter,
            "Observations committed.",
            stats.stored as f64,
        ),
        (
            "ruuvi_hub_duplicates_total",
            Counter,
            "Copies dropped (same sensor and sequence).",
            stats.duplicates as f64,
        ),
        (
            "ruuvi_hub_batches_total",
            Counter,
            "Transactions committed.",
            stats.batches as f64,
        ),
        (
            "ruuvi_hub_commit_seconds_total",
            Counter,
            "Time spent committing.",
            stats.commit_seconds,
        ),
        (
            "ruuvi_hub_failed_batches_total",
            Counter,
            "Batches that failed to commit.",
            stats.failed_batches as f64,
        ),
        (
            "ruuvi_hub_busy_total",
            Counter,
            "Submissions refused because the queue was full.",
            stats.refused_busy as f64,
        ),
        (
            "ruuvi_hub_trimmed_total",
            Counter,
            "Rows removed by retention.",
            stats.trimmed as f64,
        ),
        (
            "ruuvi_hub_queued",
            Gauge,
            "Submissions waiting to be stored.",
            stats.queued as f64,
        ),
        (
            "ruuvi_hub_sensors",
            Gauge,
            "Sensors with a latest state.",
            stats.sensors as f64,
        ),
    ];
    for (name, kind, help, value) in families {
        m.single(name, kind, help, value);
    }
}

/// The retention in force: the command line's limits, else the newest valid plan's.
fn retention(args: &Serve, registry: Option<&Mutex<Registry>>) -> Retention {
    let plan = registry.and_then(|r| {
        let r = r.lock();
        r.active_plan(now_s())
            .map(|p| (p.max_history_days, p.max_resolution_minutes))
    });
    Retention::from_plan(
        args.keep_days.or(plan.map(|p| p.0)),
        args.resolution_minutes.or(plan.map(|p| p.1)),
    )
}

fn now_s() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// `database_dir` holds the default SQLite database (`%LOCALAPPDATA%` on Windows, else
/// `data_dir`).
pub async fn serve(
    args: Serve,
    data_dir: &Path,
    database_dir: &Path,
    keychain: Arc<dyn SecretStore>,
) -> Result<(), String> {
    let secrets: &dyn SecretStore = keychain.as_ref();
    for dir in [data_dir, database_dir] {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let location = ruuvi_wiring::store_location(database_dir, args.store.as_deref(), secrets)?;
    let store = location
        .open()
        .map_err(|e| format!("opening {location}: {e}"))?;
    tracing::info!(%location, "storing observations");
    // Alerts: every stored observation is evaluated; rules from `<data dir>/alerts.sqlite`.
    let fired: tokio::sync::broadcast::Sender<ruuvi_alerts::HistoryEntry> =
        tokio::sync::broadcast::channel(64).0;
    let to_ui = fired.clone();
    let (alerting, _alert_delivery) = ruuvi_alerts::Alerting::start(
        &data_dir.join("alerts.sqlite"),
        args.alert_webhook.clone().map(ruuvi_alerts::Webhook::new),
        Arc::new(|| now_s() * 1000),
        Arc::new(move |entry: &ruuvi_alerts::HistoryEntry| {
            eprintln!("ruuvictl: {}: {}", entry.fired.title(), entry.fired.text);
            let _ = to_ui.send(entry.clone());
        }),
    )
    .map_err(|e| e.to_string())?;
    let alerting = Arc::new(alerting);
    let (hub, hub_task) =
        Hub::start_evaluated(store, HubOptions::default(), Some(alerting.evaluate()));
    // The hub read every sensor's latest from the store; noData counts from those.
    alerting.seen(&hub.latest());
    let (mut background, ble_status) = start_ble(&args, &hub)?;
    let (mut feed_status, mut sink_status) = (None, None);
    if let Some(url) = &args.mqtt {
        let broker = mqtt_broker(&args, url, "feed", data_dir, secrets)?;
        tracing::info!(broker = %broker.url(), topics = ?args.mqtt_topic, "reading gateways over MQTT");
        let (tasks, status) = ruuvi_wiring::start_mqtt_feed(
            &hub,
            ruuvi_mqtt::feed::FeedOptions {
                broker,
                topics: args.mqtt_topic.clone(),
            },
        );
        background.extend(tasks);
        feed_status = Some(status);
    }
    if let Some(url) = &args.mqtt_sink {
        let broker = mqtt_broker(&args, url, "sink", data_dir, secrets)?;
        tracing::info!(broker = %broker.url(), prefix = %args.mqtt_sink_prefix, "republishing over MQTT");
        let (task, status) = ruuvi_wiring::start_mqtt_sink(
            &hub,
            ruuvi_mqtt::sink::SinkOptions {
                broker,
                prefix: args.mqtt_sink_prefix.clone(),
                discovery_prefix: (args.ha_discovery_prefix != "none")
                    .then(|| args.ha_discovery_prefix.clone()),
                version: env!("CARGO_PKG_VERSION").to_string(),
            },
        );
        background.push(task);
        sink_status = Some(status);
    }
    let mut options = ReceiverOptions::new(args.listen);
    options.path = args.path.clone();
    // The Internal API's whitelist and registry, as saved; without a keychain it stays off
    // (its secrets live there) and the receiver runs on.
    let network_file = data_dir.join("network.json");
    let network = if args.no_admin {
        None
    } else {
        let loaded = SavedNetwork::load(&network_file, secrets)
            .map_err(|e| e.to_string())
            .and_then(|saved| {
                let internal = admin_secret(secrets, "internal")?;
                let shop = admin_secret(secrets, "shop")?;
                Ok((saved, internal, shop))
            });
        match loaded {
            Ok(((saved, whitelist, registry), internal, shop)) => {
                *options.whitelist.lock() = whitelist;
                Some((saved, Arc::new(Mutex::new(registry)), internal, shop))
            }
            Err(e) => {
                tracing::warn!("the Internal API is off: {e}");
                eprintln!("ruuvictl: the Internal API is off: {e}");
                None
            }
        }
    };
    let whitelist = options.whitelist.clone();
    let mut receiving =
        ruuvi_wiring::Receiving::start(options, !args.http, false, data_dir, secrets, hub.clone())
            .await?;
    let scheme = receiving.scheme;
    let path = receiving.path.clone();
    // The CA the HTTPS receiver's certificate chains to (what demo gateways must trust).
    let ca_pem = receiving.ca_pem.clone();
    let receiver = &receiving.receiver;
    let metrics: ruuvi_receiver::MetricsSource = {
        // A reader, not a Hub handle: a scraper's open connection must not keep the hub
        // (and so the shutdown) waiting.
        let (receiver, hub) = (receiver.metrics(), hub.stats_reader());
        Arc::new(move || {
            let mut m = MetricsText::default();
            receiver.write(&mut m);
            write_hub_metrics(&hub.read(), &mut m);
            m.finish()
        })
    };
    let (admin, mut saved_network, registry) = match network {
        Some((saved, registry, internal, shop)) => {
            let started = ruuvi_receiver::start_admin(
                AdminOptions {
                    listen: args.admin,
                    internal_secret: internal,
                    shop_secret: Some(shop),
                    metrics: Some(metrics),
                },
                whitelist.clone(),
                registry.clone(),
            )
            .await;
            match started {
                Ok(admin) => (Some(admin), Some(saved), Some(registry)),
                // Another server may hold the default port: receiving matters more.
                Err(e) => {
                    tracing::warn!("the Internal API is off: {e}");
                    eprintln!("ruuvictl: the Internal API is off: {e} (see --admin, --no-admin)");
                    (None, None, None)
                }
            }
        }
        None => (None, None, None),
    };
    // Demo gateways post to this receiver over loopback (trusting our CA when it is HTTPS).
    let demo = if args.demo {
        let url = format!("{scheme}://127.0.0.1:{}{path}", receiver.addr.port());
        let fleet = ruuvi_demo::DemoFleet::start(&ruuvi_demo::DemoOptions::default(), &url, ca_pem)
            .await
            .map_err(|e| e.to_string())?;
        tracing::info!(gateways = ?fleet.addresses(), "demo gateways post to {url}");
        Some(fleet)
    } else {
        None
    };
    let ui = match args.ui {
        None => None,
        Some(addr) => {
            let token = ruuvi_secrets::random_hex(16);
            // The Gateways page: "send data to this computer" points gateways here.
            let setup =
                ruuvi_setup::Setup::new(data_dir, keychain.clone()).map_err(|e| e.to_string())?;
            if let Some(fleet) = &demo {
                for (addr, password) in fleet.logins().await {
                    setup.add_demo(addr, password);
                }
            }
            setup.set_receiver(Some(ruuvi_setup::ReceiverTarget {
                https: scheme == "https",
                port: receiver.addr.port(),
                path: path.clone(),
            }));
            let state = crate::ui_server::UiState {
                setup: Arc::new(setup),
                receiver: receiving.status_source(),
                alerts: alerting.clone(),
                fired: fired.clone(),
                settings: serde_json::json!({
                    "receiver_enabled": true,
                    "bluetooth": args.ble || args.ble_replay.is_some(),
                    "keep_days": args.keep_days,
                    "resolution_minutes": args.resolution_minutes,
                    "alert_webhook": args.alert_webhook,
                    "store": location.is_postgres().then(|| location.to_string()),
                    "mqtt_feed": args.mqtt.as_ref().map(|b| serde_json::json!({
                        "broker": b, "topic": args.mqtt_topic.join(" "), "user": args.mqtt_user,
                    })),
                    "mqtt_sink": args.mqtt_sink.as_ref().map(|b| serde_json::json!({
                        "broker": b, "prefix": args.mqtt_sink_prefix,
                        "home_assistant": args.ha_discovery_prefix != "none", "user": args.mqtt_user,
                    })),
                }),
                mqtt: (feed_status.clone(), sink_status.clone()),
                steps: tokio::sync::broadcast::channel(256).0,
                hub: hub.clone(),
                db: location.clone(),
                token: token.clone(),
                ui_dir: crate::ui_server::find_ui_dir(args.ui_dir.clone())?,
                demo: args.demo,
                ble: ble_status,
            };
            let (at, task) = crate::ui_server::start(addr, state).await?;
            background.push(task);
            // The token goes in the fragment: browsers do not send it to servers or in Referer.
            Some(format!("http://{at}/#token={}", token.expose()))
        }
    };
    // One line for people and scripts: where to point gateways, where the Internal API and
    // the UI are.
    println!(
        "{}",
        serde_json::json!({
            "listening": format!("{scheme}://{}{path}", receiver.addr),
            "admin": admin.as_ref().map(|a| format!("http://{}", a.addr)),
            "ui": ui,
            "demo": demo.as_ref().map(|d| d.addresses().iter().map(|a| a.to_string()).collect::<Vec<_>>()),
        })
    );
    tracing::info!(addr = %receiver.addr, scheme, "receiver listening");
    // Changed policies and issued/revoked client certificates take effect without a restart.
    let stop = wait_for_stop();
    tokio::pin!(stop);
    // Retention runs at the start, every 10 minutes and when the plans change.
    let mut retention_due = tokio::time::Instant::now();
    let mut retention_seen: Option<Retention> = None;
    loop {
        let wanted = retention(&args, registry.as_deref());
        if retention_seen != Some(wanted) || tokio::time::Instant::now() >= retention_due {
            hub.retain(wanted, now_s() * 1000).await;
            retention_seen = Some(wanted);
            retention_due = tokio::time::Instant::now() + std::time::Duration::from_secs(600);
        }
        tokio::select! {
            _ = &mut stop => break,
            _ = tokio::time::sleep(std::time::Duration::from_secs(2)) => {}
        }
        receiving.refresh(secrets);
        if let (Some(saved), Some(registry)) = (&mut saved_network, &registry) {
            if let Err(e) = saved.save(&whitelist, registry, secrets) {
                tracing::warn!("cannot save the Internal API's state: {e}");
            }
        }
    }
    if let Some(admin) = admin {
        admin.stop().await;
    }
    if let (Some(saved), Some(registry)) = (&mut saved_network, &registry) {
        if let Err(e) = saved.save(&whitelist, registry, secrets) {
            tracing::warn!("cannot save the Internal API's state: {e}");
        }
    }
    receiving.stop().await;
    for task in background {
        task.abort();
    }
    if let Some(demo) = demo {
        demo.stop().await;
    }
    drop(hub);
    // A gateway's idle keep-alive connection still holds a hub handle: wait a little for the
    // batch in flight, not for the connection. What was acknowledged is committed already.
    if tokio::time::timeout(std::time::Duration::from_secs(5), hub_task)
        .await
        .is_err()
    {
        tracing::info!("stopping with connections still open");
    }
    Ok(())
}

async fn wait_for_stop() {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}

/// Unix ms, a date (`2026-11-22`, midnight UTC) or an RFC 3339 time.
fn parse_time(text: &str) -> Result<i64, String> {
    if let Ok(ms) = text.parse::<i64>() {
        return Ok(ms);
    }
    let rfc3339 = time::format_description::well_known::Rfc3339;
    if let Ok(t) = time::OffsetDateTime::parse(text, &rfc3339) {
        return Ok((t.unix_timestamp_nanos() / 1_000_000) as i64);
    }
    let date_format = time::macros::format_description!("[year]-[month]-[day]");
    if let Ok(d) = time::Date::parse(text, &date_format) {
        return Ok(d.midnight().assume_utc().unix_timestamp() * 1000);
    }
    Err(format!(
        "{text:?}: expected Unix ms, 2026-11-22 or 2026-11-22T10:00:00Z"
    ))
}

pub fn export(args: Export, database_dir: &Path, secrets: &dyn SecretStore) -> Result<(), String> {
    let location = ruuvi_wiring::store_location(database_dir, args.store.as_deref(), secrets)?;
    if let StoreLocation::Sqlite(path) = &location {
        if !path.exists() {
            return Err(format!("no database at {}", path.display()));
        }
    }
    let mut store = location
        .open()
        .map_err(|e| format!("opening {location}: {e}"))?;
    let query = Query {
        sensor: args.sensor,
        from_ms: args.from.as_deref().map(parse_time).transpose()?,
        to_ms: args.to.as_deref().map(parse_time).transpose()?,
        limit: None,
    };
    let mut out: Box<dyn std::io::Write> = match &args.out {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).map_err(|e| format!("{}: {e}", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let n = match args.format.as_str() {
        "csv" => store.export_csv(&query, &mut out),
        "json" => store.export_json(&query, &mut out),
        other => return Err(format!("--format {other:?}: csv or json")),
    }
    .map_err(|e| e.to_string())?;
    out.flush().map_err(|e| e.to_string())?;
    tracing::info!(rows = n, "exported");
    Ok(())
}
