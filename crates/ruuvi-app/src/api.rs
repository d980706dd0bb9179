//! Every command either face offers, written once. [`COMMANDS`] is the one list: the window's
//! generic bridge (`src-tauri`), `serve --ui`'s `POST /api/<command>`, the capability file and
//! the TypeScript declarations (`Commands` in `ui/src/lib/bindings.ts`) all come from it.
//!
//! Adding a command: its function here (or in the core crate it calls), one line in the table
//! at the bottom, and its use on a page.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;

use ruuvi_alerts::{AlertsView, Rule};
use ruuvi_dashboard::{Dashboard, Series, Sparkline};
use ruuvi_gateway::{AutoUpdateProfile, ScanProfile, TimePlaceProfile};
use ruuvi_protocol::{Calibration, MacAddress, SensorProfile};
use ruuvi_receiver::GatewayEntry;
use ruuvi_secrets::Sensitive;
use ruuvi_setup::{
    ApplyResult, Areas, Certificates, DiscoverRequest, FirmwareOffer, FoundGateway, GatewayDetails,
    KeyAction, LanLoginForm, LoginRequest, MqttBrokerForm, MqttForm, OwnServerForm, Preview,
    ProfileForm, SavedGateway, StatisticsForm, UpdateResult, UrlCheck,
};
use ruuvi_wiring::app_settings::{AppSettings, PolledGateway};
use ruuvi_wiring::{Connections, ReceiverRules, ReceiverStatus};

use crate::desk::Desk;
use crate::error::{ApiError, DeskError};
use crate::history::HistoryReport;
use crate::polls::PollStatus;
use crate::remote_config::RemoteConfigView;

/// What an import did.
#[derive(Debug, Clone, serde::Serialize, PartialEq, Eq, ts_rs::TS)]
pub struct ImportReply {
    /// Observations read from the file.
    pub read: usize,
    pub stored: usize,
    /// Already stored (or twice in the file).
    pub skipped: usize,
}

/// Name and version for the window's about line.
#[derive(Debug, Clone, serde::Serialize, PartialEq, Eq, ts_rs::TS)]
pub struct AppInfo {
    pub name: &'static str,
    /// The workspace's version (the one place it is set).
    pub version: &'static str,
    pub license: &'static str,
}

/// This computer's Bluetooth: scanning or why not, in the words `ruuvictl ble status` uses.
#[derive(Debug, Clone, serde::Serialize, PartialEq, Eq, ts_rs::TS)]
pub struct BleStatusReply {
    #[serde(flatten)]
    pub status: ruuvi_ble::BleStatus,
    pub message: String,
}

/// A decoded measurement with the gateway's key names (`dataFormat`, `temperature`, …).
#[derive(Debug, Clone, serde::Serialize, ts_rs::TS)]
#[serde(transparent)]
pub struct Measurement(#[ts(type = "Record<string, unknown>")] pub Value);

/// A saved gateway with whether the app holds a session for it.
#[derive(Debug, Clone, serde::Serialize, ts_rs::TS)]
pub struct ListedGateway {
    #[serde(flatten)]
    pub gateway: SavedGateway,
    pub logged_in: bool,
    /// When it last posted to this computer's receiver (since the receiver started).
    pub last_post_ms: Option<i64>,
}

fn mac(text: &str) -> Result<MacAddress, DeskError> {
    text.parse()
        .map_err(|e| DeskError::BadInput(format!("{text:?}: {e}")))
}

/// Runs blocking work (a store read) off the async threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, DeskError> + Send + 'static,
) -> Result<T, DeskError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| DeskError::Store(e.to_string()))?
}

async fn app_info(_: &Desk, _: NoArgs) -> Result<AppInfo, ApiError> {
    Ok(AppInfo {
        name: "Ruuvi Desk",
        version: env!("CARGO_PKG_VERSION"),
        license: env!("CARGO_PKG_LICENSE"),
    })
}

/// Answers within 2 s whatever the Bluetooth stack does; "off" when switched off.
async fn ble_status(desk: &Desk, _: NoArgs) -> Result<BleStatusReply, ApiError> {
    let status = desk.ble.status().await;
    Ok(BleStatusReply {
        message: status.to_string(),
        status,
    })
}

/// Every sensor's card for the first paint; later ones arrive as `card` events.
async fn dashboard(desk: &Desk, _: NoArgs) -> Result<Dashboard, ApiError> {
    Ok(Dashboard {
        demo: desk.demo_running().await,
        demo_available: desk.demo_options.is_some(),
        cards: ruuvi_dashboard::cards(&desk.hub.latest(), &desk.profiles),
    })
}

/// Starts the demo gateways (the first-run guide's "Show demo data"); the app starts them
/// again at its next starts until they are stopped or a gateway is added.
async fn demo_start(desk: &Desk, _: NoArgs) -> Result<Dashboard, ApiError> {
    desk.demo_on().await?;
    if !desk.settings.fixed() {
        desk.settings.update(|s| s.demo = Some(true))?;
    }
    dashboard(desk, NoArgs {}).await
}

/// Stops the demo gateways; what they sent stays in the history.
async fn demo_stop(desk: &Desk, _: NoArgs) -> Result<Dashboard, ApiError> {
    desk.demo_off().await;
    if !desk.settings.fixed() {
        desk.settings.update(|s| s.demo = Some(false))?;
    }
    dashboard(desk, NoArgs {}).await
}

/// Decodes one advertisement or payload (hex), like `ruuvictl decode`.
async fn decode_advertisement(_: &Desk, a: HexArgs) -> Result<Measurement, ApiError> {
    let m = ruuvi_protocol::decode_hex(&a.hex, None)?;
    Ok(Measurement(ruuvi_protocol::output::measurement_json(
        m.format(),
        &m.readings(),
    )))
}

/// A sensor's history for a chart: `[from_ms, to_ms)`, at most `points` points.
async fn series(desk: &Desk, a: SeriesArgs) -> Result<Series, ApiError> {
    let sensor = mac(&a.sensor)?;
    let db = desk.db.clone();
    let points = a.points.clamp(1, 5000);
    let (from, to) = (a.from_ms, a.to_ms);
    let mut points = blocking(move || {
        let mut store = db.open().map_err(|e| DeskError::Store(e.to_string()))?;
        ruuvi_dashboard::series(&mut *store, sensor, from, to, points)
            .map_err(|e| DeskError::Store(e.to_string()))
    })
    .await?;
    let calibration = desk.profiles.calibration(sensor);
    for p in &mut points {
        p.calibrate(&calibration);
    }
    Ok(Series { sensor, points })
}

/// The 24-hour trends of the cards on screen (at most 200 at a time), in one store
/// connection.
async fn sparklines(desk: &Desk, a: SensorsArgs) -> Result<Vec<Sparkline>, ApiError> {
    if a.sensors.len() > 200 {
        return Err(DeskError::BadInput("at most 200 sensors at a time".into()).into());
    }
    let sensors: Vec<(MacAddress, Calibration)> = a
        .sensors
        .iter()
        .map(|s| mac(s).map(|m| (m, desk.profiles.calibration(m))))
        .collect::<Result<_, _>>()?;
    let db = desk.db.clone();
    let now = (desk.clock)();
    Ok(blocking(move || {
        let mut store = db.open()?;
        sensors
            .iter()
            .map(|(m, c)| Ok(ruuvi_dashboard::sparkline(&mut *store, *m, now, c)?))
            .collect()
    })
    .await?)
}

/// Every sensor's profile (name, location, note, calibration) that has one.
async fn sensors(desk: &Desk, _: NoArgs) -> Result<Vec<SensorProfile>, ApiError> {
    Ok(desk.profiles.all())
}

/// Changes a sensor's name, location, note or calibration (`None`: unchanged), keeps it in
/// the store, and sends its card again.
async fn sensor_save(desk: &Desk, a: SensorArgs) -> Result<SensorProfile, ApiError> {
    let sensor = mac(&a.sensor)?;
    let db = desk.db.clone();
    let now = (desk.clock)();
    let old_name = desk.profiles.display_name(sensor);
    let saved = blocking(move || {
        let mut store = db.open()?;
        Ok(store.edit_profile(sensor, now, &mut |p| {
            if let Some(name) = &a.name {
                p.name = name.clone();
            }
            if let Some(location) = &a.location {
                p.location = location.clone();
            }
            if let Some(note) = &a.note {
                p.note = note.clone();
            }
            if let Some(c) = a.calibration {
                p.calibration = c;
            }
        })?)
    })
    .await?;
    // Alert rules that called the sensor by its old name (or by none) call it by the new one:
    // the name is what a notification says. Renamed before the new calibration applies, so
    // an alert it makes fire carries the new name.
    let new_name = saved.display_name();
    if new_name != old_name {
        for mut rule in desk.alerts.view(0)?.rules {
            if rule.sensor == sensor && (rule.name.is_empty() || rule.name == old_name) {
                rule.name = new_name.clone();
                desk.alerts.save(rule)?;
            }
        }
    }
    desk.profiles.set(saved.clone());
    desk.send_card(sensor);
    Ok(saved)
}

/// Downloads a Bluetooth sensor's own log into the store (progress as `download` events).
async fn ble_history(desk: &Desk, a: HistoryArgs) -> Result<HistoryReport, ApiError> {
    Ok(desk.download_history(mac(&a.sensor)?, a.since_ms).await?)
}

/// Stops a download under way; what arrived is stored.
async fn ble_history_cancel(desk: &Desk, a: OneSensorArgs) -> Result<bool, ApiError> {
    Ok(desk.cancel_history(mac(&a.sensor)?))
}

/// Imports a file's history into the store: our CSV or JSON-lines export, or a Ruuvi Station
/// CSV export (its sensor from `sensor` or the file name). Rows already stored are skipped.
async fn import_history(desk: &Desk, a: ImportArgs) -> Result<ImportReply, ApiError> {
    use ruuvi_store::import::{self, ImportFormat, ImportFormatKind};
    let first = a.content.lines().next().unwrap_or_default();
    let format = match import::detect(first) {
        Some(ImportFormatKind::Csv) => ImportFormat::Csv,
        Some(ImportFormatKind::JsonLines) => ImportFormat::JsonLines,
        Some(ImportFormatKind::Station) => {
            let given = a
                .sensor
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(mac)
                .transpose()?;
            ImportFormat::Station {
                sensor: given
                    .or_else(|| import::sensor_in_file_name(&a.file_name))
                    .ok_or_else(|| {
                        DeskError::BadInput(format!(
                            "{} is a Ruuvi Station export that does not say its sensor: give its MAC",
                            a.file_name
                        ))
                    })?,
            }
        }
        None => {
            return Err(DeskError::BadInput(format!(
                "{} is not a Ruuvi Desk export (CSV or JSON lines) or a Ruuvi Station CSV export",
                a.file_name
            ))
            .into())
        }
    };
    let db = desk.db.clone();
    let name = a.file_name.clone();
    let (report, latest) = blocking(move || {
        let mut store = db.open().map_err(|e| DeskError::Store(e.to_string()))?;
        let report = import::import(&mut *store, &mut a.content.as_bytes(), format, &mut |_| {})
            .map_err(|e| match e {
                import::ImportError::Line { .. } => DeskError::BadInput(format!("{name}: {e}")),
                other => DeskError::Store(other.to_string()),
            });
        // Also after a bad line: what came before it is stored.
        let latest = store
            .latest()
            .map_err(|e| DeskError::Store(e.to_string()))?;
        Ok((report, latest))
    })
    .await?;
    // A sensor known only from the file gets its card.
    desk.hub.note_stored(&latest);
    let report = report?;
    Ok(ImportReply {
        read: report.read,
        stored: report.stored,
        skipped: report.skipped,
    })
}

/// Writes a sensor's history in `[from_ms, to_ms)` as CSV to the export folder and says where.
async fn export_csv(desk: &Desk, a: RangeArgs) -> Result<String, ApiError> {
    let sensor = mac(&a.sensor)?;
    let dir = desk.export_dir.clone();
    let path = dir.join(format!(
        "ruuvi-{}-{}.csv",
        sensor.to_string().replace(':', ""),
        a.from_ms / 1000
    ));
    let target = path.clone();
    let rows = write_csv(desk, sensor, a.from_ms, a.to_ms, move || {
        let io = |e: std::io::Error| DeskError::Io(format!("{}: {e}", target.display()));
        std::fs::create_dir_all(&dir).map_err(io)?;
        Ok(std::io::BufWriter::new(
            std::fs::File::create(&target).map_err(io)?,
        ))
    })
    .await?
    .1;
    Ok(format!("Saved {rows} rows to {}", path.display()))
}

/// Writes the history of `sensors` (none: every sensor) in `[from_ms, to_ms)` as an Excel
/// workbook to the export folder and says where: a "Sensors" sheet, one sheet per sensor with
/// measured and calibrated values.
async fn export_xlsx(desk: &Desk, a: XlsxArgs) -> Result<String, ApiError> {
    let sensors = xlsx_sensors(desk, &a.sensors)?;
    let dir = desk.export_dir.clone();
    let what = match sensors.as_slice() {
        [one] => one.to_string().replace(':', ""),
        _ => format!("{}-sensors", sensors.len()),
    };
    let path = dir.join(format!("ruuvi-{what}-{}.xlsx", a.from_ms.max(0) / 1000));
    let target = path.clone();
    let rows = write_xlsx(desk, sensors, a.from_ms, a.to_ms, move |workbook| {
        let io = |e: String| DeskError::Io(format!("{}: {e}", target.display()));
        std::fs::create_dir_all(&dir).map_err(|e| io(e.to_string()))?;
        workbook.save(&target).map_err(|e| io(e.to_string()))
    })
    .await?
    .1;
    Ok(format!("Saved {rows} rows to {}", path.display()))
}

/// The sensors named, or every sensor with data.
fn xlsx_sensors(desk: &Desk, given: &[String]) -> Result<Vec<MacAddress>, DeskError> {
    if given.is_empty() {
        return Ok(desk.hub.latest().iter().map(|o| o.sensor).collect());
    }
    given.iter().map(|s| mac(s)).collect()
}

/// An Excel workbook in memory, with a file name: a browser's download.
pub async fn xlsx_download(
    desk: &Desk,
    sensors: &[String],
    from_ms: Option<i64>,
    to_ms: Option<i64>,
) -> Result<(String, Vec<u8>), ApiError> {
    let sensors = xlsx_sensors(desk, sensors)?;
    let name = match sensors.as_slice() {
        [one] => format!("ruuvi-{}.xlsx", one.to_string().replace(':', "")),
        _ => format!("ruuvi-{}-sensors.xlsx", sensors.len()),
    };
    let (bytes, _) = write_xlsx(
        desk,
        sensors,
        from_ms.unwrap_or(i64::MIN),
        to_ms.unwrap_or(i64::MAX),
        |workbook| {
            workbook
                .save_to_buffer()
                .map_err(|e| DeskError::Io(e.to_string()))
        },
    )
    .await?;
    Ok((name, bytes))
}

/// Fills a workbook off the async threads and hands it to `finish` (a file or a buffer).
async fn write_xlsx<T: Send + 'static>(
    desk: &Desk,
    sensors: Vec<MacAddress>,
    from_ms: i64,
    to_ms: i64,
    finish: impl FnOnce(&mut ruuvi_dashboard::xlsx::Workbook) -> Result<T, DeskError> + Send + 'static,
) -> Result<(T, usize), DeskError> {
    let db = desk.db.clone();
    blocking(move || {
        let mut store = db.open()?;
        let mut workbook = ruuvi_dashboard::xlsx::Workbook::new();
        let rows =
            ruuvi_dashboard::xlsx::export(&mut *store, &sensors, from_ms, to_ms, &mut workbook)
                .map_err(|e| DeskError::Store(e.to_string()))?;
        Ok((finish(&mut workbook)?, rows))
    })
    .await
}

/// A sensor's history as CSV in memory, with a file name: a browser's download (not a
/// command: the window saves to a file with `export_csv`).
pub async fn csv_download(
    desk: &Desk,
    sensor: &str,
    from_ms: Option<i64>,
    to_ms: Option<i64>,
) -> Result<(String, Vec<u8>), ApiError> {
    let sensor = mac(sensor)?;
    let (bytes, _) = write_csv(
        desk,
        sensor,
        from_ms.unwrap_or(i64::MIN),
        to_ms.unwrap_or(i64::MAX),
        || Ok(Vec::new()),
    )
    .await?;
    Ok((
        format!("ruuvi-{}.csv", sensor.to_string().replace(':', "")),
        bytes,
    ))
}

/// Streams the rows into what `open` gives, off the async threads; gives it back with the count.
async fn write_csv<W: std::io::Write + Send + 'static>(
    desk: &Desk,
    sensor: MacAddress,
    from_ms: i64,
    to_ms: i64,
    open: impl FnOnce() -> Result<W, DeskError> + Send + 'static,
) -> Result<(W, usize), DeskError> {
    let db = desk.db.clone();
    let query = ruuvi_store::Query {
        sensor: Some(sensor),
        from_ms: Some(from_ms),
        to_ms: Some(to_ms),
        limit: None,
    };
    blocking(move || {
        let mut store = db.open().map_err(|e| DeskError::Store(e.to_string()))?;
        let mut out = open()?;
        let rows = store
            .export_csv(&query, &mut out)
            .map_err(|e| DeskError::Store(e.to_string()))?;
        std::io::Write::flush(&mut out).map_err(|e| DeskError::Io(e.to_string()))?;
        Ok((out, rows))
    })
    .await
}

/// The window painted its first dashboard: logged once with the time since the start (what
/// `tests/bench-app.sh` measures).
async fn first_paint(desk: &Desk, a: PaintArgs) -> Result<(), ApiError> {
    static DONE: std::sync::Once = std::sync::Once::new();
    DONE.call_once(|| {
        let ms = desk.started.elapsed().as_millis();
        tracing::info!(
            ms,
            cards = a.cards,
            "first dashboard paint {ms} ms after start"
        );
    });
    Ok(())
}

async fn app_settings(desk: &Desk, _: NoArgs) -> Result<AppSettings, ApiError> {
    Ok(desk.settings.get())
}

/// Saves the settings and applies them now: Bluetooth on or off, retention, the MQTT feed and
/// sink (re)started; a new database takes effect at the next start. The receiver and the polls
/// are turned on where they are used, not here.
async fn set_app_settings(desk: &Desk, a: SettingsArgs) -> Result<AppSettings, ApiError> {
    let given = a.settings;
    let saved = desk.settings.update(|s| {
        s.bluetooth = given.bluetooth;
        s.keep_days = given.keep_days;
        s.resolution_minutes = given.resolution_minutes;
        s.alert_webhook = given.alert_webhook.filter(|u| !u.trim().is_empty());
        s.store = given.store.filter(|u| !u.trim().is_empty());
        s.mqtt_feed = given.mqtt_feed;
        s.mqtt_sink = given.mqtt_sink;
        s.internal_api = given
            .internal_api
            .map(|a| a.trim().to_string())
            .filter(|a| !a.is_empty());
    })?;
    desk.ble.set(saved.bluetooth);
    desk.mqtt
        .apply(saved.mqtt_feed.as_ref(), saved.mqtt_sink.as_ref(), false)?;
    // Retention follows in the background (the upkeep sees the change within 2 s).
    Ok(saved)
}

async fn connections(desk: &Desk, _: NoArgs) -> Result<Connections, ApiError> {
    Ok(Connections {
        storage: desk.db.to_string(),
        storage_problem: desk.storage_problem.clone(),
        mqtt: desk.mqtt.view(),
    })
}

/// Puts a password for a server named in the settings into the keychain (`target`: `store`,
/// `mqtt_feed` or `mqtt_sink`); an MQTT link restarts with it. The password never comes back.
async fn save_password(desk: &Desk, a: PasswordArgs) -> Result<(), ApiError> {
    let bad = DeskError::BadInput;
    if desk.settings.fixed() {
        return Err(DeskError::Unsupported(
            "ruuvictl serve reads passwords from the keychain: ruuvictl secret set database-password/… or mqtt-password/…".into(),
        )
        .into());
    }
    let password = a.password;
    let settings = desk.settings.get();
    let name = match a.target.as_str() {
        "store" => {
            let url = settings
                .store
                .ok_or_else(|| bad("no database is set: save its URL first".into()))?;
            match ruuvi_store::StoreLocation::parse(&url).map_err(|e| bad(e.to_string()))? {
                ruuvi_store::StoreLocation::Postgres(t) => {
                    ruuvi_wiring::database_password_name(&t).map_err(bad)?
                }
                ruuvi_store::StoreLocation::Sqlite(_) => {
                    return Err(bad("a file needs no password".into()).into())
                }
            }
        }
        "mqtt_feed" | "mqtt_sink" => {
            let (url, user) = match a.target.as_str() {
                "mqtt_feed" => settings.mqtt_feed.as_ref().map(|f| (&f.broker, &f.user)),
                _ => settings.mqtt_sink.as_ref().map(|s| (&s.broker, &s.user)),
            }
            .ok_or_else(|| bad("no broker is set: save it first".into()))?;
            let user = user
                .as_deref()
                .filter(|u| !u.is_empty())
                .ok_or_else(|| bad("a password needs a user: save the user first".into()))?;
            let broker = ruuvi_mqtt::Broker::parse_url(url, "").map_err(|e| bad(e.to_string()))?;
            ruuvi_wiring::mqtt_password_name(&broker, user).map_err(bad)?
        }
        other => return Err(bad(format!("no such target {other:?}")).into()),
    };
    desk.secrets
        .set(&name, &password)
        .map_err(|e| DeskError::Keychain(e.to_string()))?;
    tracing::info!(%name, "stored a password");
    if a.target != "store" {
        desk.mqtt.apply(
            settings.mqtt_feed.as_ref(),
            settings.mqtt_sink.as_ref(),
            true,
        )?;
    }
    Ok(())
}

/// The receiver's state, its gateways' rules and latest posts (the Receiver page).
async fn receiver_status(desk: &Desk, _: NoArgs) -> Result<ReceiverStatus, ApiError> {
    Ok(desk.receiver.status().await)
}

/// Turns the receiver on (HTTPS; the CA and the server certificate are made on first use).
async fn receiver_start(desk: &Desk, _: NoArgs) -> Result<ReceiverStatus, ApiError> {
    desk.receiver.ensure().await?;
    Ok(desk.receiver.status().await)
}

/// The receiver's rules: unknown gateways accepted or not, each gateway's rule.
async fn receiver_rules(desk: &Desk, _: NoArgs) -> Result<ReceiverRules, ApiError> {
    Ok(
        ruuvi_wiring::receiver_rules(&desk.receiver.data_dir, desk.secrets.as_ref())
            .map_err(DeskError::Receiver)?,
    )
}

/// Sets a gateway's rule (its secrets to the keychain first); a running receiver applies it
/// at once. The gateway must send what the rule expects: "Send data to this computer" on the
/// Gateways page sets both sides.
async fn receiver_rule_save(desk: &Desk, a: ReceiverRuleArgs) -> Result<ReceiverRules, ApiError> {
    let gateway = mac(&a.gateway)?;
    ruuvi_wiring::save_gateway_rule(
        &desk.receiver.data_dir,
        desk.secrets.as_ref(),
        gateway,
        a.rule,
        a.secret.as_ref(),
        a.hmac_key.as_ref(),
    )
    .map_err(DeskError::BadInput)?;
    desk.receiver.refresh().await;
    receiver_rules(desk, NoArgs {}).await
}

async fn receiver_rule_remove(desk: &Desk, a: GatewayArgs) -> Result<ReceiverRules, ApiError> {
    ruuvi_wiring::remove_gateway_rule(&desk.receiver.data_dir, mac(&a.gateway)?)
        .map_err(DeskError::Receiver)?;
    desk.receiver.refresh().await;
    receiver_rules(desk, NoArgs {}).await
}

/// Accepts or refuses posts from gateways without a rule.
async fn receiver_accept_unknown(desk: &Desk, a: AcceptArgs) -> Result<ReceiverRules, ApiError> {
    ruuvi_wiring::set_accept_unknown(&desk.receiver.data_dir, a.accept)
        .map_err(DeskError::Receiver)?;
    desk.receiver.refresh().await;
    receiver_rules(desk, NoArgs {}).await
}

/// The Internal API as the app shows it: where it listens, the whitelisted gateways with
/// their gwinfo times, the registered sensors and the plans (no secret or claim code).
#[derive(Debug, Clone, serde::Serialize, ts_rs::TS)]
pub struct NetworkView {
    /// `None`: the Internal API is off.
    pub listen: Option<String>,
    pub gateways: Vec<WhitelistedGateway>,
    pub sensors: Vec<RegisteredSensorView>,
    pub plans: Vec<PlanView>,
}

/// A gateway's gwinfo (Unix seconds).
#[derive(Debug, Clone, serde::Serialize, ts_rs::TS)]
pub struct WhitelistedGateway {
    pub gateway: MacAddress,
    pub whitelisted_at: i64,
    pub connected_at: Option<i64>,
    pub latest_at: Option<i64>,
    pub invalid_signature_at: Option<i64>,
    pub blocked_at: Option<i64>,
}

#[derive(Debug, Clone, serde::Serialize, ts_rs::TS)]
pub struct RegisteredSensorView {
    pub sensor: MacAddress,
    pub registered_at: i64,
}

#[derive(Debug, Clone, serde::Serialize, ts_rs::TS)]
pub struct PlanView {
    pub name: String,
    pub registered_at: i64,
    pub valid_days: u32,
    pub max_history_days: u32,
    pub max_resolution_minutes: u32,
    /// Still valid now.
    pub valid: bool,
    /// The plan that sets how long and how finely data is kept.
    pub active: bool,
}

async fn network_view(desk: &Desk, _: NoArgs) -> Result<NetworkView, ApiError> {
    let now_s = (desk.clock)() / 1000;
    Ok(match desk.network_parts() {
        None => NetworkView {
            listen: None,
            gateways: Vec::new(),
            sensors: Vec::new(),
            plans: Vec::new(),
        },
        Some((listen, whitelist, registry)) => {
            let mut gateways: Vec<WhitelistedGateway> = whitelist
                .lock()
                .entries()
                .map(|(gateway, e)| WhitelistedGateway {
                    gateway,
                    whitelisted_at: e.whitelisted_at,
                    connected_at: e.connected_at,
                    latest_at: e.latest_at,
                    invalid_signature_at: e.invalid_signature_at,
                    blocked_at: e.blocked_at,
                })
                .collect();
            gateways.sort_by_key(|g| g.gateway);
            let registry = registry.lock();
            let mut sensors: Vec<RegisteredSensorView> = registry
                .sensors
                .iter()
                .map(|(sensor, r)| RegisteredSensorView {
                    sensor: *sensor,
                    registered_at: r.registered_at,
                })
                .collect();
            sensors.sort_by_key(|s| s.sensor);
            let active = registry.active_plan(now_s).map(|p| p.registered_at);
            let plans = registry
                .subscriptions
                .iter()
                .map(|p| PlanView {
                    name: p.subscription_name.clone(),
                    registered_at: p.registered_at,
                    valid_days: p.valid_days,
                    max_history_days: p.max_history_days,
                    max_resolution_minutes: p.max_resolution_minutes,
                    valid: p.valid_at(now_s),
                    active: active == Some(p.registered_at),
                })
                .collect();
            NetworkView {
                listen: Some(listen.to_string()),
                gateways,
                sensors,
                plans,
            }
        }
    })
}

/// Whitelists a gateway for signed posts: `secret` is its device id followed by its device
/// address, as the Gateway API signs with (the same as `POST /whitelist`).
async fn network_whitelist(desk: &Desk, a: WhitelistArgs) -> Result<NetworkView, ApiError> {
    let gateway = mac(&a.gateway)?;
    if a.secret.expose().trim().is_empty() {
        return Err(DeskError::BadInput("the signing secret is empty".into()).into());
    }
    let (_, whitelist, _) = desk.network_parts().ok_or_else(|| {
        DeskError::Unsupported("the Internal API is off: turn it on in Settings".into())
    })?;
    whitelist
        .lock()
        .whitelist(gateway, a.secret, (desk.clock)() / 1000);
    desk.save_network();
    network_view(desk, NoArgs {}).await
}

/// Blocks a whitelisted gateway: its signed posts are refused from now on.
async fn network_block(desk: &Desk, a: GatewayArgs) -> Result<NetworkView, ApiError> {
    let gateway = mac(&a.gateway)?;
    let (_, whitelist, _) = desk.network_parts().ok_or_else(|| {
        DeskError::Unsupported("the Internal API is off: turn it on in Settings".into())
    })?;
    if !whitelist.lock().block(gateway, (desk.clock)() / 1000) {
        return Err(DeskError::BadInput(format!("{gateway} is not whitelisted")).into());
    }
    desk.save_network();
    network_view(desk, NoArgs {}).await
}

async fn gateways_list(desk: &Desk, _: NoArgs) -> Result<Vec<ListedGateway>, ApiError> {
    // When each gateway last posted to this computer (stored), by MAC.
    let status = desk.receiver.status().await;
    let last_post: std::collections::HashMap<String, i64> = status
        .gateways
        .iter()
        .filter_map(|g| {
            let at = g
                .recent
                .iter()
                .filter(|r| (200..300).contains(&r.status))
                .map(|r| r.at_ms)
                .max()?;
            Some((g.gateway?.to_string(), at))
        })
        .collect();
    Ok(desk
        .setup
        .gateways
        .list()
        .into_iter()
        .map(|gateway| ListedGateway {
            logged_in: desk.setup.gateways.is_logged_in(&gateway.endpoint),
            last_post_ms: gateway.mac.as_ref().and_then(|m| last_post.get(m)).copied(),
            gateway,
        })
        .collect())
}

/// A gateway Ruuvi Desk knows of, however it knows it: added on the Gateways page, posting to
/// this computer's receiver, seen over MQTT, polled, or a demo gateway.
#[derive(Debug, Clone, Default, serde::Serialize, ts_rs::TS)]
pub struct KnownGateway {
    /// Its MAC (`gw_mac`), when known.
    pub mac: Option<String>,
    /// Its web address, when known: it can be logged in to.
    pub endpoint: Option<String>,
    pub name: Option<String>,
    pub added: bool,
    pub logged_in: bool,
    pub demo: bool,
    /// A simulated gateway's factory password (not a secret).
    pub demo_password: Option<String>,
    pub polled: bool,
    /// Of its latest posts to this computer's receiver (at most 20): stored, refused.
    pub posts_stored: usize,
    pub posts_refused: usize,
    pub last_post_ms: Option<i64>,
    /// Its MQTT `gw_status` (`None`: not seen over MQTT).
    pub mqtt_online: Option<bool>,
    /// Sensors whose latest observation came through it.
    pub sensors: usize,
}

/// Known gateways being gathered: keyed by MAC when known, else by address.
#[derive(Default)]
struct KnownRows {
    rows: std::collections::BTreeMap<String, KnownGateway>,
    by_endpoint: std::collections::HashMap<String, String>,
}

impl KnownRows {
    /// The row of the gateway with this MAC or address (made when new).
    fn row(&mut self, mac: Option<String>, endpoint: Option<&str>) -> &mut KnownGateway {
        let key = mac
            .clone()
            .or_else(|| endpoint.and_then(|e| self.by_endpoint.get(e).cloned()))
            .or_else(|| endpoint.map(str::to_string))
            .unwrap_or_default();
        if let Some(e) = endpoint {
            self.by_endpoint.insert(e.to_string(), key.clone());
        }
        let r = self.rows.entry(key).or_default();
        if r.mac.is_none() {
            r.mac = mac;
        }
        if let Some(e) = endpoint {
            r.endpoint.get_or_insert_with(|| e.to_string());
        }
        r
    }
}

/// Every gateway known by any path, one row per gateway (by MAC, else by address); added
/// ones first, then by MAC.
async fn gateways_known(desk: &Desk, _: NoArgs) -> Result<Vec<KnownGateway>, ApiError> {
    let norm = |m: &str| m.parse::<MacAddress>().map(|m| m.to_string()).ok();
    let mut known = KnownRows::default();
    let demo_logins = desk.setup.gateways.demo_logins();
    for (addr, m) in desk.demo_macs().await {
        let endpoint = ruuvi_gateway::Endpoint::new(addr.ip().to_string(), addr.port()).to_string();
        let password = demo_logins
            .iter()
            .find(|(d, _)| *d == endpoint)
            .map(|(_, p)| p.clone());
        let r = known.row(Some(m.to_string()), Some(&endpoint));
        r.demo = true;
        r.demo_password = password;
    }
    for g in desk.setup.gateways.list() {
        let logged_in = desk.setup.gateways.is_logged_in(&g.endpoint);
        let r = known.row(g.mac.as_deref().and_then(norm), Some(&g.endpoint));
        r.added = true;
        r.logged_in = logged_in;
        r.name = g.name.clone().or(r.name.take());
        r.endpoint = Some(g.endpoint.clone());
    }
    for p in desk.polls.list() {
        known
            .row(p.mac.as_deref().and_then(norm), Some(&p.gateway.endpoint))
            .polled = true;
    }
    for g in desk.receiver.status().await.gateways {
        let Some(mac) = g.gateway else { continue };
        let r = known.row(Some(mac.to_string()), None);
        let ok = |s: u16| (200..300).contains(&s);
        r.posts_stored = g.recent.iter().filter(|p| ok(p.status)).count();
        r.posts_refused = g.recent.len() - r.posts_stored;
        r.last_post_ms = g.recent.iter().map(|p| p.at_ms).max();
    }
    if let Some(feed) = desk.mqtt.view().feed {
        for (gateway, online) in feed.gateways {
            // Named by MAC once an advertisement named it; a bare topic prefix says too little.
            if let Some(mac) = norm(&gateway) {
                known.row(Some(mac), None).mqtt_online = Some(online);
            }
        }
    }
    for o in desk.hub.latest() {
        let gateway = match o.feed {
            ruuvi_protocol::Feed::Ble | ruuvi_protocol::Feed::BleHistory => None,
            ruuvi_protocol::Feed::GatewayPost { gateway }
            | ruuvi_protocol::Feed::GatewayHistory { gateway }
            | ruuvi_protocol::Feed::GatewayMqtt { gateway } => gateway,
        };
        if let Some(r) = gateway.and_then(|g| known.rows.get_mut(&g.to_string())) {
            r.sensors += 1;
        }
    }
    let mut out: Vec<KnownGateway> = known.rows.into_values().collect();
    out.sort_by_key(|g| (!g.added, g.mac.clone(), g.endpoint.clone()));
    Ok(out)
}

/// Reads the logged-in gateways' settings again for the fleet table (each pauses its
/// forwarding for 5 s); the list as it is then. A gateway that could not be read keeps its
/// earlier summary; its error is in the log.
async fn gateways_read(desk: &Desk, a: EndpointsArgs) -> Result<Vec<ListedGateway>, ApiError> {
    for (endpoint, result) in desk.setup.gateways.read_again(a.endpoints).await {
        if let Err(e) = result {
            tracing::warn!(gateway = %endpoint, "reading again: {e}");
        }
    }
    gateways_list(desk, NoArgs {}).await
}

async fn gateways_discover(desk: &Desk, a: DiscoverArgs) -> Result<Vec<FoundGateway>, ApiError> {
    Ok(desk.setup.gateways.discover(a.request).await?)
}

async fn gateways_login(desk: &Desk, a: LoginArgs) -> Result<GatewayDetails, ApiError> {
    Ok(desk.setup.gateways.login(a.request).await?)
}

async fn gateways_forget(desk: &Desk, a: EndpointArgs) -> Result<bool, ApiError> {
    Ok(desk.setup.gateways.forget(&a.endpoint).await?)
}

/// A logged-in gateway's settings as last read, without asking it again.
async fn gateways_details(desk: &Desk, a: EndpointArgs) -> Result<GatewayDetails, ApiError> {
    Ok(desk.setup.gateways.details(&a.endpoint).await?)
}

async fn gateways_preview(desk: &Desk, a: PreviewArgs) -> Result<Preview, ApiError> {
    Ok(desk.setup.backends.preview(&a.endpoint, &a.form).await?)
}

/// What any areas (scanning, time, automatic updates, statistics, …) would change on a
/// logged-in gateway as last read: nothing is sent to it.
async fn gateways_preview_areas(desk: &Desk, a: AreasPreviewArgs) -> Result<Preview, ApiError> {
    Ok(desk
        .setup
        .backends
        .preview_areas(&a.endpoint, &a.areas)
        .await?)
}

/// Pushes the backend settings to every gateway in `endpoints`; steps arrive as `step` events.
async fn gateways_apply(desk: &Desk, a: ApplyArgs) -> Result<Vec<ApplyResult>, ApiError> {
    let results = desk
        .setup
        .backends
        .apply(a.endpoints, a.form, desk.on_step())
        .await;
    // Rules and certificates for our receiver may have changed with it.
    desk.receiver.refresh().await;
    Ok(results)
}

/// Sets Bluetooth scanning on every gateway in `endpoints` (each one's previous scanning kept
/// for `gateways_undo`).
async fn gateways_apply_scan(desk: &Desk, a: ApplyScanArgs) -> Result<Vec<ApplyResult>, ApiError> {
    Ok(desk
        .setup
        .backends
        .apply_scan(a.endpoints, a.scan, desk.on_step())
        .await)
}

/// LAN access on every gateway in `endpoints`: a new login (`None`: unchanged) and new (or no)
/// API keys. What Ruuvi Desk logs in with afterwards (a new read-write key, else the new
/// password) goes to the keychain first and is proved by logging in with it.
async fn gateways_lan_access(desk: &Desk, a: LanAccessArgs) -> Result<Vec<ApplyResult>, ApiError> {
    Ok(desk
        .setup
        .gateways
        .change_lan_access(
            a.endpoints,
            a.login,
            a.read_key,
            a.write_key,
            desk.on_step(),
        )
        .await)
}

/// The gateway connects to the MQTT form's broker itself.
async fn gateways_check_mqtt(desk: &Desk, a: CheckMqttArgs) -> Result<UrlCheck, ApiError> {
    Ok(desk
        .setup
        .backends
        .check_mqtt(&a.endpoint, &a.broker)
        .await?)
}

/// Puts back what the last undoable change on a gateway replaced.
async fn gateways_undo(desk: &Desk, a: EndpointArgs) -> Result<ApplyResult, ApiError> {
    Ok(desk
        .setup
        .backends
        .undo(&a.endpoint, desk.on_step())
        .await?)
}

/// Sets (or switches off) the MQTT target of every gateway in `endpoints`.
async fn gateways_apply_mqtt(desk: &Desk, a: ApplyMqttArgs) -> Result<Vec<ApplyResult>, ApiError> {
    Ok(desk
        .setup
        .backends
        .apply_mqtt(a.endpoints, a.form, desk.on_step())
        .await)
}

async fn gateways_check_url(desk: &Desk, a: CheckUrlArgs) -> Result<UrlCheck, ApiError> {
    Ok(desk
        .setup
        .backends
        .check_url(&a.endpoint, &a.server)
        .await?)
}

/// Turns the receiver on (HTTPS, certificates issued on first use) and points the gateway at
/// it; the receiver takes the gateway's new rule at once.
async fn gateways_send_here(desk: &Desk, a: EndpointArgs) -> Result<ApplyResult, ApiError> {
    let target = desk.receiver.ensure().await?;
    let on_step = desk.on_step();
    let plan = desk
        .setup
        .this_computer
        .prepare(&a.endpoint, &target, &on_step)
        .await?;
    desk.receiver
        .expect(plan.gateway, &plan.token, plan.require_client_cert)
        .await?;
    Ok(desk.setup.this_computer.send(plan, on_step).await?)
}

/// What the gateway runs and what its update server offers (the gateway asks: up to 40 s).
async fn gateways_firmware(desk: &Desk, a: EndpointArgs) -> Result<FirmwareOffer, ApiError> {
    Ok(desk.setup.backends.firmware_offer(&a.endpoint).await?)
}

/// Where the gateway looks for firmware releases.
async fn gateways_set_update_url(desk: &Desk, a: UpdateUrlArgs) -> Result<(), ApiError> {
    Ok(desk
        .setup
        .backends
        .set_update_url(&a.endpoint, &a.url)
        .await?)
}

/// A rolling firmware update of `endpoints`, `at_a_time` at once; steps arrive as `step`
/// events (the table's progress bars).
async fn gateways_update(desk: &Desk, a: UpdateArgs) -> Result<Vec<UpdateResult>, ApiError> {
    Ok(desk
        .setup
        .backends
        .update_firmware(
            a.endpoints,
            &a.release,
            a.at_a_time as usize,
            desk.on_step(),
            ruuvi_gateway::UpdateTiming::default(),
        )
        .await?)
}

/// Automatic firmware updates on every gateway in `endpoints` (each one's previous schedule
/// kept for `gateways_undo`).
async fn gateways_apply_auto_update(
    desk: &Desk,
    a: AutoUpdateArgs,
) -> Result<Vec<ApplyResult>, ApiError> {
    Ok(desk
        .setup
        .backends
        .apply_auto_update(a.endpoints, a.schedule, desk.on_step())
        .await)
}

/// NTP / DHCP time and coordinates on every gateway in `endpoints` (undoable).
async fn gateways_apply_time(desk: &Desk, a: TimePlaceArgs) -> Result<Vec<ApplyResult>, ApiError> {
    Ok(desk
        .setup
        .backends
        .apply_time_place(a.endpoints, a.time_place, desk.on_step())
        .await)
}

/// Where every gateway in `endpoints` sends its statistics (or none).
async fn gateways_apply_statistics(
    desk: &Desk,
    a: StatisticsArgs,
) -> Result<Vec<ApplyResult>, ApiError> {
    Ok(desk
        .setup
        .backends
        .apply_statistics(a.endpoints, a.form, desk.on_step())
        .await)
}

/// The remote configuration this computer serves: documents and who downloaded what when.
async fn remote_config(desk: &Desk, _: NoArgs) -> Result<RemoteConfigView, ApiError> {
    Ok(desk.remote.view())
}

/// Sets each gateway to download its configuration from this computer (HTTPS, our CA, the
/// token from the keychain) at start and every `refresh_minutes`.
async fn remote_config_serve(
    desk: &Desk,
    a: RemoteServeArgs,
) -> Result<Vec<ApplyResult>, ApiError> {
    if a.endpoints.is_empty() {
        return Ok(Vec::new());
    }
    let target = desk.receiver.ensure().await?;
    let token = desk.remote.token()?;
    Ok(desk
        .setup
        .this_computer
        .serve_config_to(
            a.endpoints,
            &target,
            &token,
            a.refresh_minutes,
            desk.on_step(),
        )
        .await)
}

/// Switches the gateways' remote configuration off.
async fn remote_config_stop(desk: &Desk, a: EndpointsArgs) -> Result<Vec<ApplyResult>, ApiError> {
    Ok(desk
        .setup
        .this_computer
        .stop_serving_config_to(a.endpoints, desk.on_step())
        .await)
}

/// Publishes `areas` as each gateway's document (over what it was offered before).
async fn remote_config_publish(
    desk: &Desk,
    a: RemotePublishArgs,
) -> Result<Vec<Published>, ApiError> {
    if a.areas.names().is_empty() {
        return Err(DeskError::BadInput("choose at least one area to publish".into()).into());
    }
    let documents = desk
        .setup
        .this_computer
        .documents(&a.endpoints, &a.areas)
        .await;
    let mut out = Vec::new();
    for (endpoint, made) in documents {
        let published = made.map_err(|e| e.to_string()).and_then(|d| {
            desk.remote
                .publish(d.gateway, a.areas.names(), d.body)
                .map(|v| (ruuvi_receiver::file_for(d.gateway), v))
                .map_err(|e| e.to_string())
        });
        out.push(match published {
            Ok((file, version)) => Published {
                endpoint,
                file: Some(file),
                version: Some(version),
                error: None,
            },
            Err(error) => Published {
                endpoint,
                file: None,
                version: None,
                error: Some(error),
            },
        });
    }
    Ok(out)
}

/// The gateway downloads and applies its document now (`/gw_cfg_download`).
async fn remote_config_fetch_now(desk: &Desk, a: EndpointArgs) -> Result<UrlCheck, ApiError> {
    Ok(desk.setup.this_computer.fetch_now(&a.endpoint).await?)
}

/// How publishing went for one gateway.
#[derive(Debug, Clone, serde::Serialize, ts_rs::TS)]
pub struct Published {
    pub endpoint: String,
    pub file: Option<String>,
    pub version: Option<u32>,
    pub error: Option<String>,
}

/// Reads a gateway through its `/history` every `interval_s` seconds without changing its
/// settings: with its read-only API key, a user and password, or nothing (`lan_auth_allow`).
/// A given secret goes to the keychain; the poll is kept in the settings (the app).
async fn gateways_poll(desk: &Desk, a: PollArgs) -> Result<PollStatus, ApiError> {
    let user = a.user.filter(|u| !u.trim().is_empty());
    let endpoint = match a.secret.filter(|s| !s.expose().is_empty()) {
        Some(secret) => desk.polls.remember(&a.endpoint, user.as_deref(), &secret)?,
        None => a.endpoint.trim().to_string(),
    };
    let status = desk
        .polls
        .start(PolledGateway {
            endpoint,
            interval_s: a.interval_s,
            user,
        })
        .await?;
    let kept = status.gateway.clone();
    if !desk.settings.fixed() {
        desk.settings.update(|s| {
            s.polls.retain(|p| p.endpoint != kept.endpoint);
            s.polls.push(kept);
        })?;
    }
    Ok(status)
}

/// Stops polling a gateway (its secret stays in the keychain).
async fn gateways_unpoll(desk: &Desk, a: EndpointArgs) -> Result<bool, ApiError> {
    let stopped = desk.polls.stop(&a.endpoint);
    if !desk.settings.fixed() {
        desk.settings
            .update(|s| s.polls.retain(|p| p.endpoint != a.endpoint))?;
    }
    Ok(stopped)
}

/// The polled gateways and how each feed is doing.
async fn gateways_polls(desk: &Desk, _: NoArgs) -> Result<Vec<PollStatus>, ApiError> {
    Ok(desk.polls.list())
}

/// The CA, the receiver's certificate and the gateways' client certificates.
async fn certificates(desk: &Desk, _: NoArgs) -> Result<Certificates, ApiError> {
    Ok(desk.setup.certificates.certificates()?)
}

async fn certificates_create_ca(desk: &Desk, _: NoArgs) -> Result<Certificates, ApiError> {
    Ok(desk.setup.certificates.create_ca()?)
}

/// A new client certificate for the gateway, uploaded to it when it is logged in; the
/// receiver accepts it at once.
async fn certificates_renew(desk: &Desk, a: GatewayArgs) -> Result<String, ApiError> {
    let done = desk
        .setup
        .certificates
        .renew_client(mac(&a.gateway)?)
        .await?;
    desk.receiver.refresh().await;
    Ok(done)
}

/// Revokes the gateway's client certificate; the receiver refuses it at once.
async fn certificates_revoke(desk: &Desk, a: GatewayArgs) -> Result<bool, ApiError> {
    let done = desk.setup.certificates.revoke_client(mac(&a.gateway)?)?;
    desk.receiver.refresh().await;
    Ok(done)
}

/// The rules, the latest 100 alerts and how many wait for acknowledgement.
async fn alerts(desk: &Desk, _: NoArgs) -> Result<AlertsView, ApiError> {
    Ok(desk.alerts.view(100)?)
}

/// Saves a rule (new when its id is 0); it applies at once. A rule without a name takes the
/// sensor's.
async fn alerts_save(desk: &Desk, a: RuleArgs) -> Result<Rule, ApiError> {
    let mut rule = a.rule;
    if rule.name.trim().is_empty() {
        rule.name = desk.profiles.display_name(rule.sensor);
    }
    Ok(desk.alerts.save(rule)?)
}

async fn alerts_remove(desk: &Desk, a: IdArgs) -> Result<bool, ApiError> {
    Ok(desk.alerts.remove(a.id)?)
}

async fn alerts_acknowledge(desk: &Desk, a: IdArgs) -> Result<bool, ApiError> {
    Ok(desk.alerts.acknowledge(a.id, (desk.clock)())?)
}

/// Fires a rule's alert now (current value = threshold) through every delivery.
async fn alerts_test(desk: &Desk, a: IdArgs) -> Result<(), ApiError> {
    Ok(desk.alerts.test_rule(a.id, (desk.clock)())?)
}

/// Arguments as JSON (`null` counts as `{}`); what does not fit is `bad_input`.
fn parse_args<T: serde::de::DeserializeOwned>(args: Value) -> Result<T, ApiError> {
    let args = if args.is_null() {
        Value::Object(Default::default())
    } else {
        args
    };
    serde_json::from_value(args).map_err(|e| DeskError::BadInput(format!("arguments: {e}")).into())
}

/// The arguments' types, each declared once (several commands share one).
macro_rules! arguments {
    ($( $(#[$meta:meta])* $args:ident { $($(#[$fmeta:meta])* $field:ident : $ty:ty),* $(,)? } )*) => {$(
        $(#[$meta])*
        #[derive(Debug, Deserialize, ts_rs::TS)]
        #[serde(rename_all = "camelCase", deny_unknown_fields)]
        pub struct $args {
            $($(#[$fmeta])* pub $field: $ty),*
        }
    )*};
}

arguments! {
    /// No arguments.
    NoArgs {}
    HexArgs { hex: String }
    SeriesArgs { sensor: String, from_ms: i64, to_ms: i64, points: usize }
    RangeArgs { sensor: String, from_ms: i64, to_ms: i64 }
    SensorsArgs { sensors: Vec<String> }
    /// `sensors`: none for every sensor.
    XlsxArgs { sensors: Vec<String>, from_ms: i64, to_ms: i64 }
    /// What to change of a sensor's profile; `None` leaves it as it is.
    SensorArgs { sensor: String, name: Option<String>, location: Option<String>, note: Option<String>, calibration: Option<Calibration> }
    /// A file's name and text; `sensor`: the MAC of a Ruuvi Station export's sensor.
    ImportArgs { file_name: String, content: String, sensor: Option<String> }
    PaintArgs { cards: usize }
    /// `since_ms`: from when (the log's whole reach, about 10 days, when absent).
    HistoryArgs { sensor: String, since_ms: Option<i64> }
    OneSensorArgs { sensor: String }
    SettingsArgs { settings: AppSettings }
    /// `target`: `store`, `mqtt_feed` or `mqtt_sink`.
    PasswordArgs { target: String, #[ts(type = "string")] password: Sensitive<String> }
    DiscoverArgs { request: DiscoverRequest }
    LoginArgs { request: LoginRequest }
    EndpointArgs { endpoint: String }
    PreviewArgs { endpoint: String, form: ProfileForm }
    ApplyArgs { endpoints: Vec<String>, form: ProfileForm }
    ApplyMqttArgs { endpoints: Vec<String>, form: MqttForm }
    ApplyScanArgs { endpoints: Vec<String>, scan: ScanProfile }
    /// `login`: a new LAN login (`None`: unchanged).
    LanAccessArgs { endpoints: Vec<String>, login: Option<LanLoginForm>, read_key: KeyAction, write_key: KeyAction }
    CheckUrlArgs { endpoint: String, server: OwnServerForm }
    CheckMqttArgs { endpoint: String, broker: MqttBrokerForm }
    EndpointsArgs { endpoints: Vec<String> }
    UpdateUrlArgs { endpoint: String, url: String }
    /// `release`: `latest`, `beta` or the URL of a release folder.
    UpdateArgs { endpoints: Vec<String>, release: String, at_a_time: u32 }
    AutoUpdateArgs { endpoints: Vec<String>, schedule: AutoUpdateProfile }
    TimePlaceArgs { endpoints: Vec<String>, time_place: TimePlaceProfile }
    StatisticsArgs { endpoints: Vec<String>, form: StatisticsForm }
    RemoteServeArgs { endpoints: Vec<String>, refresh_minutes: u16 }
    RemotePublishArgs { endpoints: Vec<String>, areas: Areas }
    AreasPreviewArgs { endpoint: String, areas: Areas }
    /// `secret`: the read-only API key, or `user`'s password (kept in the keychain).
    PollArgs { endpoint: String, interval_s: u32, user: Option<String>, #[ts(type = "string | null")] secret: Option<Sensitive<String>> }
    /// `gateway`: its MAC.
    GatewayArgs { gateway: String }
    /// `secret`, `hmacKey`: new values for the keychain (`None`: keep what is there).
    ReceiverRuleArgs { gateway: String, rule: GatewayEntry, #[ts(type = "string | null")] secret: Option<Sensitive<String>>, #[ts(type = "string | null")] hmac_key: Option<Sensitive<String>> }
    AcceptArgs { accept: bool }
    /// `secret`: the gateway's device id followed by its device address.
    WhitelistArgs { gateway: String, #[ts(type = "string")] secret: Sensitive<String> }
    RuleArgs { rule: Rule }
    IdArgs { id: i64 }
}

/// The command table: `name(Args) -> Reply;` gives the command's dispatch and its TypeScript.
macro_rules! commands {
    ($( $name:ident ( $args:ident ) -> $reply:ty ; )*) => {
        /// Every command, in the table's order.
        pub const COMMANDS: &[&str] = &[$(stringify!($name)),*];

        /// Runs the command `name` with `args` (a JSON object) and answers with its reply as
        /// JSON, or `{code, message}`.
        pub async fn call(desk: &Arc<Desk>, name: &str, args: Value) -> Result<Value, ApiError> {
            match name {
                $(stringify!($name) => {
                    let args: $args = parse_args(args)?;
                    let reply: $reply = $name(desk, args).await?;
                    Ok(serde_json::to_value(reply).expect("replies are plain data"))
                })*
                other => Err(DeskError::UnknownCommand(other.to_string()).into()),
            }
        }

        /// The argument types and `interface Commands { <name>: { args; reply } }`.
        pub fn typescript(cfg: &ts_rs::Config) -> String {
            use ts_rs::TS;
            let mut out = String::new();
            let mut seen = std::collections::BTreeSet::new();
            $(
                if seen.insert(stringify!($args)) {
                    out.push_str("\nexport ");
                    out.push_str(&<$args as TS>::decl(cfg));
                    out.push('\n');
                }
            )*
            out.push_str("\n/** Every command: its arguments and its reply. */\nexport interface Commands {\n");
            $(
                out.push_str(&format!(
                    "  {}: {{ args: {}; reply: {} }};\n",
                    stringify!($name),
                    <$args as TS>::name(cfg),
                    <$reply as TS>::name(cfg),
                ));
            )*
            out.push_str("}\n");
            out
        }
    };
}

commands! {
    app_info(NoArgs) -> AppInfo;
    ble_status(NoArgs) -> BleStatusReply;
    dashboard(NoArgs) -> Dashboard;
    demo_start(NoArgs) -> Dashboard;
    demo_stop(NoArgs) -> Dashboard;
    decode_advertisement(HexArgs) -> Measurement;
    series(SeriesArgs) -> Series;
    sparklines(SensorsArgs) -> Vec<Sparkline>;
    sensors(NoArgs) -> Vec<SensorProfile>;
    sensor_save(SensorArgs) -> SensorProfile;
    export_csv(RangeArgs) -> String;
    export_xlsx(XlsxArgs) -> String;
    import_history(ImportArgs) -> ImportReply;
    ble_history(HistoryArgs) -> HistoryReport;
    ble_history_cancel(OneSensorArgs) -> bool;
    first_paint(PaintArgs) -> ();
    app_settings(NoArgs) -> AppSettings;
    set_app_settings(SettingsArgs) -> AppSettings;
    connections(NoArgs) -> Connections;
    save_password(PasswordArgs) -> ();
    receiver_status(NoArgs) -> ReceiverStatus;
    receiver_start(NoArgs) -> ReceiverStatus;
    receiver_rules(NoArgs) -> ReceiverRules;
    receiver_rule_save(ReceiverRuleArgs) -> ReceiverRules;
    receiver_rule_remove(GatewayArgs) -> ReceiverRules;
    receiver_accept_unknown(AcceptArgs) -> ReceiverRules;
    network_view(NoArgs) -> NetworkView;
    network_whitelist(WhitelistArgs) -> NetworkView;
    network_block(GatewayArgs) -> NetworkView;
    gateways_list(NoArgs) -> Vec<ListedGateway>;
    gateways_read(EndpointsArgs) -> Vec<ListedGateway>;
    gateways_known(NoArgs) -> Vec<KnownGateway>;
    gateways_discover(DiscoverArgs) -> Vec<FoundGateway>;
    gateways_login(LoginArgs) -> GatewayDetails;
    gateways_forget(EndpointArgs) -> bool;
    gateways_details(EndpointArgs) -> GatewayDetails;
    gateways_preview(PreviewArgs) -> Preview;
    gateways_preview_areas(AreasPreviewArgs) -> Preview;
    gateways_apply(ApplyArgs) -> Vec<ApplyResult>;
    gateways_apply_mqtt(ApplyMqttArgs) -> Vec<ApplyResult>;
    gateways_apply_scan(ApplyScanArgs) -> Vec<ApplyResult>;
    gateways_undo(EndpointArgs) -> ApplyResult;
    gateways_lan_access(LanAccessArgs) -> Vec<ApplyResult>;
    gateways_check_url(CheckUrlArgs) -> UrlCheck;
    gateways_check_mqtt(CheckMqttArgs) -> UrlCheck;
    gateways_send_here(EndpointArgs) -> ApplyResult;
    gateways_poll(PollArgs) -> PollStatus;
    gateways_unpoll(EndpointArgs) -> bool;
    gateways_polls(NoArgs) -> Vec<PollStatus>;
    gateways_firmware(EndpointArgs) -> FirmwareOffer;
    gateways_set_update_url(UpdateUrlArgs) -> ();
    gateways_update(UpdateArgs) -> Vec<UpdateResult>;
    gateways_apply_auto_update(AutoUpdateArgs) -> Vec<ApplyResult>;
    gateways_apply_time(TimePlaceArgs) -> Vec<ApplyResult>;
    gateways_apply_statistics(StatisticsArgs) -> Vec<ApplyResult>;
    remote_config(NoArgs) -> RemoteConfigView;
    remote_config_serve(RemoteServeArgs) -> Vec<ApplyResult>;
    remote_config_stop(EndpointsArgs) -> Vec<ApplyResult>;
    remote_config_publish(RemotePublishArgs) -> Vec<Published>;
    remote_config_fetch_now(EndpointArgs) -> UrlCheck;
    certificates(NoArgs) -> Certificates;
    certificates_create_ca(NoArgs) -> Certificates;
    certificates_renew(GatewayArgs) -> String;
    certificates_revoke(GatewayArgs) -> bool;
    alerts(NoArgs) -> AlertsView;
    alerts_save(RuleArgs) -> Rule;
    alerts_remove(IdArgs) -> bool;
    alerts_acknowledge(IdArgs) -> bool;
    alerts_test(IdArgs) -> ();
}
