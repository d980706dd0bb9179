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

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Args;
use ruuvi_app::{
    AppSettings, BleConfig, DemoConfig, Desk, DeskConfig, Event, MqttConfig, PolledGateway,
    ReceiverConfig, SettingsSource,
};
use ruuvi_protocol::MacAddress;
use ruuvi_secrets::SecretStore;
use ruuvi_store::{Query, StoreLocation};
use ruuvi_wiring::app_settings::{MqttFeedSettings, MqttSinkSettings};

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
    /// Read this gateway (`host` or `host:port`) through its `/history`, without changing its
    /// settings; repeatable. Its read-only API key is read from the keychain
    /// (`gateway-api-key/<host:port>`), or with --poll-user the password
    /// (`gateway-password/<host:port>`); with neither, no login (`lan_auth_allow`).
    #[arg(long)]
    poll: Vec<String>,
    /// Seconds between polls (2 to 3600).
    #[arg(long, default_value_t = 10)]
    poll_interval: u32,
    /// Log in to the polled gateways as this user instead of with an API key.
    #[arg(long)]
    poll_user: Option<String>,
}

#[derive(Debug, Args)]
pub struct Export {
    /// csv, json (one object per line) or xlsx (an Excel workbook: a sheet per sensor; needs
    /// --out).
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

#[derive(Debug, Args)]
pub struct Import {
    /// Our CSV or JSON-lines export, or a Ruuvi Station CSV export (the format is read from
    /// the first line); `-` reads standard input (e.g. from `ruuvictl ble history`).
    file: PathBuf,
    /// The sensor a Ruuvi Station file is from (its file name says it when it starts with the
    /// MAC, as Station names exports of unnamed sensors).
    #[arg(long)]
    sensor: Option<MacAddress>,
    /// A SQLite file or a `postgres://` URL, as for `serve --store`.
    #[arg(long, alias = "db")]
    store: Option<String>,
}

impl Serve {
    /// The settings the flags give (shown on the UI's Settings page, not changed there).
    fn settings(&self) -> AppSettings {
        AppSettings {
            internal_api: (!self.no_admin).then(|| self.admin.to_string()),
            demo: Some(self.demo),
            receiver_enabled: true,
            bluetooth: self.ble,
            keep_days: self.keep_days,
            resolution_minutes: self.resolution_minutes,
            alert_webhook: self.alert_webhook.clone(),
            store: self.store.clone(),
            mqtt_feed: self.mqtt.as_ref().map(|broker| MqttFeedSettings {
                broker: broker.clone(),
                topic: self.mqtt_topic.join(" "),
                user: self.mqtt_user.clone(),
                our_certificates: false,
            }),
            mqtt_sink: self.mqtt_sink.as_ref().map(|broker| MqttSinkSettings {
                broker: broker.clone(),
                prefix: self.mqtt_sink_prefix.clone(),
                home_assistant: self.ha_discovery_prefix != "none",
                user: self.mqtt_user.clone(),
                our_certificates: false,
            }),
            polls: self
                .poll
                .iter()
                .map(|endpoint| PolledGateway {
                    endpoint: endpoint.clone(),
                    interval_s: self.poll_interval,
                    user: self.poll_user.clone(),
                })
                .collect(),
        }
    }

    fn config(
        &self,
        data_dir: &Path,
        database_dir: &Path,
        keychain: Arc<dyn SecretStore>,
    ) -> Result<DeskConfig, String> {
        let replay = match &self.ble_replay {
            Some(path) => Some((
                crate::ble::load_recording(path)?,
                ruuvi_ble::replay::ReplayOptions {
                    speed: crate::ble::parse_speed(&self.ble_replay_speed)?,
                    retime_to_now: true,
                    rounds: 1,
                },
            )),
            None => None,
        };
        let ca_pem = match &self.mqtt_ca {
            Some(path) => Some(
                std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?,
            ),
            None => None,
        };
        Ok(DeskConfig {
            data_dir: data_dir.to_path_buf(),
            database_dir: database_dir.to_path_buf(),
            keychain,
            settings: SettingsSource::Fixed(Box::new(self.settings())),
            receiver: ReceiverConfig {
                listen: self.listen,
                https: !self.http,
                path: self.path.clone(),
                create_ca: false,
                always_on: true,
            },
            internal_api: (!self.no_admin).then_some(self.admin),
            ble: BleConfig {
                adapter: self.ble_adapter.clone(),
                replay,
            },
            mqtt: MqttConfig {
                ca_pem,
                client_cert: self.mqtt_client_cert,
                client_id: self.mqtt_client_id.clone(),
                discovery_prefix: (self.ha_discovery_prefix != "none")
                    .then(|| self.ha_discovery_prefix.clone()),
            },
            demo: if self.demo {
                DemoConfig::Always(ruuvi_demo::DemoOptions::default())
            } else {
                DemoConfig::Off
            },
            export_dir: data_dir.join("exports"),
            started: std::time::Instant::now(),
            clock: ruuvi_protocol::clock::system(),
            on_migration: None,
        })
    }
}

/// `database_dir` holds the default SQLite database (`%LOCALAPPDATA%` on Windows, else
/// `data_dir`). Flags become a [`DeskConfig`]; the rest is the app core's.
pub async fn serve(
    args: Serve,
    data_dir: &Path,
    database_dir: &Path,
    keychain: Arc<dyn SecretStore>,
) -> Result<(), String> {
    let config = args.config(data_dir, database_dir, keychain)?;
    let desk = Desk::start(config).await.map_err(|e| e.to_string())?;
    // Said on stderr as it happens: fired alerts and Bluetooth's state.
    let mut events = desk.subscribe();
    let said = tokio::spawn(async move {
        while let Ok(event) = events.recv().await {
            if let Event::Alert(entry) = event {
                eprintln!("ruuvictl: {}: {}", entry.fired.title(), entry.fired.text);
            }
        }
    });
    let ble_said = args.ble.then(|| {
        // Its state now too: the scan started with the desk.
        let mut status = desk.ble_status_changes();
        status.mark_changed();
        tokio::spawn(crate::ble::say_status_changes(status))
    });
    let ui = match args.ui {
        None => None,
        Some(addr) => {
            let token = ruuvi_secrets::random_hex(16);
            let state = ruuvi_web::WebState {
                desk: desk.clone(),
                token: token.clone(),
                ui_dir: ruuvi_web::find_ui_dir(args.ui_dir.clone())?,
            };
            let (at, task) = ruuvi_web::start(addr, state).await?;
            // The token goes in the fragment: browsers do not send it to servers or in Referer.
            Some((format!("http://{at}/#token={}", token.expose()), task))
        }
    };
    // One line for people and scripts: where to point gateways, where the Internal API and
    // the UI are.
    let listening = desk.listening().await;
    if !args.no_admin && listening.admin.is_none() {
        eprintln!("ruuvictl: the Internal API is off (see the log, --admin, --no-admin)");
    }
    println!(
        "{}",
        serde_json::json!({
            "listening": listening.receiver,
            "admin": listening.admin,
            "ui": ui.as_ref().map(|u| &u.0),
            "demo": listening.demo,
        })
    );
    wait_for_stop().await;
    if let Some((_, task)) = ui {
        task.abort();
    }
    said.abort();
    if let Some(t) = ble_said {
        t.abort();
    }
    desk.stop().await;
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
pub(crate) fn parse_time(text: &str) -> Result<i64, String> {
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

/// Imports a file into the store with a progress line on stderr; prints what it did as JSON.
pub fn import(args: Import, database_dir: &Path, secrets: &dyn SecretStore) -> Result<(), String> {
    use ruuvi_store::import::{self, ImportFormat, ImportFormatKind};
    use std::io::BufRead;
    let shown = args.file.display().to_string();
    let source: Box<dyn std::io::Read> = if args.file.as_os_str() == "-" {
        Box::new(std::io::stdin())
    } else {
        Box::new(std::fs::File::open(&args.file).map_err(|e| format!("{shown}: {e}"))?)
    };
    let mut input = std::io::BufReader::with_capacity(1 << 20, source);
    let first = {
        let buffered = input.fill_buf().map_err(|e| format!("{shown}: {e}"))?;
        let end = buffered
            .iter()
            .position(|b| *b == b'\n')
            .unwrap_or(buffered.len());
        String::from_utf8_lossy(&buffered[..end]).into_owned()
    };
    let format = match import::detect(&first) {
        Some(ImportFormatKind::Csv) => ImportFormat::Csv,
        Some(ImportFormatKind::JsonLines) => ImportFormat::JsonLines,
        Some(ImportFormatKind::Station) => {
            let from_name = args
                .file
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(import::sensor_in_file_name);
            ImportFormat::Station {
                sensor: args.sensor.or(from_name).ok_or_else(|| {
                    format!("{shown} is a Ruuvi Station export without the sensor's MAC: say which with --sensor")
                })?,
            }
        }
        None => {
            return Err(format!(
                "{shown}: not a Ruuvi Desk export (CSV or JSON lines) or a Ruuvi Station CSV export"
            ))
        }
    };
    let location = ruuvi_wiring::store_location(database_dir, args.store.as_deref(), secrets)?;
    let mut store = location
        .open()
        .map_err(|e| format!("opening {location}: {e}"))?;
    let report = import::import(&mut *store, &mut input, format, &mut |r| {
        eprint!("\rimported {} rows ({} new)", r.read, r.stored);
    });
    eprintln!();
    let report = report.map_err(|e| format!("{shown}: {e}"))?;
    println!(
        "{}",
        serde_json::json!({"read": report.read, "stored": report.stored, "skipped": report.skipped})
    );
    Ok(())
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
    if args.format == "xlsx" {
        // A workbook is a zip file: it needs --out, not a terminal.
        let out = args
            .out
            .as_ref()
            .ok_or("--format xlsx needs --out FILE.xlsx")?;
        let sensors = match args.sensor {
            Some(s) => vec![s],
            None => {
                let mut all: Vec<_> = store
                    .latest()
                    .map_err(|e| e.to_string())?
                    .iter()
                    .map(|o| o.sensor)
                    .collect();
                all.sort();
                all
            }
        };
        let mut workbook = ruuvi_dashboard::xlsx::Workbook::new();
        let n = ruuvi_dashboard::xlsx::export(
            &mut *store,
            &sensors,
            query.from_ms.unwrap_or(i64::MIN),
            query.to_ms.unwrap_or(i64::MAX),
            &mut workbook,
        )
        .map_err(|e| e.to_string())?;
        workbook
            .save(out)
            .map_err(|e| format!("{}: {e}", out.display()))?;
        tracing::info!(rows = n, "exported");
        return Ok(());
    }
    let mut out: Box<dyn std::io::Write> = match &args.out {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).map_err(|e| format!("{}: {e}", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let n = match args.format.as_str() {
        "csv" => store.export_csv(&query, &mut out),
        "json" => store.export_json(&query, &mut out),
        other => return Err(format!("--format {other:?}: csv, json or xlsx")),
    }
    .map_err(|e| e.to_string())?;
    out.flush().map_err(|e| e.to_string())?;
    tracing::info!(rows = n, "exported");
    Ok(())
}
