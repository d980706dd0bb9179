//! Tauri commands: small functions over serde DTOs that call into the core crates.

pub mod alerts;
pub mod gateways;

use serde::Serialize;

use crate::error::IpcError;
use ruuvi_protocol::output::measurement_json;

/// Name and version for the window's about line.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, ts_rs::TS)]
pub struct AppInfo {
    pub name: &'static str,
    /// The workspace's version (the one place it is set).
    pub version: &'static str,
    pub license: &'static str,
}

#[tauri::command]
pub fn app_info() -> AppInfo {
    AppInfo {
        name: "Ruuvi Desk",
        version: env!("CARGO_PKG_VERSION"),
        license: env!("CARGO_PKG_LICENSE"),
    }
}

/// Decodes one advertisement or payload (hex) into the gateway's key names, like
/// `ruuvictl decode`.
#[tauri::command]
pub fn decode_advertisement(hex: String) -> Result<serde_json::Value, IpcError> {
    let m = ruuvi_protocol::decode_hex(&hex, None)?;
    Ok(measurement_json(m.format(), &m.readings()))
}

/// This computer's Bluetooth: scanning or why not, in the words `ruuvictl ble status` uses.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, ts_rs::TS)]
pub struct BleStatusReply {
    #[serde(flatten)]
    pub status: ruuvi_ble::BleStatus,
    pub message: String,
}

/// Answers within 2 s whatever the Bluetooth stack does; "off" when switched off in Settings.
#[tauri::command]
pub async fn ble_status(
    feeds: tauri::State<'_, crate::feeds::Feeds>,
) -> Result<BleStatusReply, IpcError> {
    let status = feeds.ble.status().await;
    Ok(BleStatusReply {
        message: status.to_string(),
        status,
    })
}

/// The settings kept with the data (`app.json`).
#[tauri::command]
pub fn app_settings(feeds: tauri::State<'_, crate::feeds::Feeds>) -> crate::settings::AppSettings {
    feeds.settings.get()
}

/// Saves the settings and applies them now: Bluetooth on or off, retention run, the MQTT
/// feed and sink (re)started; a new database takes effect at the next start.
#[tauri::command]
pub async fn set_app_settings(
    feeds: tauri::State<'_, crate::feeds::Feeds>,
    settings: crate::settings::AppSettings,
) -> Result<crate::settings::AppSettings, IpcError> {
    let saved = feeds
        .settings
        .update(|s| {
            // The receiver is turned on where it is used, not here.
            s.bluetooth = settings.bluetooth;
            s.keep_days = settings.keep_days;
            s.resolution_minutes = settings.resolution_minutes;
            s.alert_webhook = settings
                .alert_webhook
                .clone()
                .filter(|u| !u.trim().is_empty());
            s.store = settings.store.clone().filter(|u| !u.trim().is_empty());
            s.mqtt_feed = settings.mqtt_feed.clone();
            s.mqtt_sink = settings.mqtt_sink.clone();
        })
        .map_err(|message| IpcError {
            code: "bad_input",
            message,
        })?;
    feeds.ble.set(saved.bluetooth);
    feeds
        .mqtt
        .apply(saved.mqtt_feed.as_ref(), saved.mqtt_sink.as_ref(), false)
        .map_err(|message| IpcError {
            code: "mqtt",
            message,
        })?;
    let (hub, policy) = (feeds.hub.clone(), saved.retention());
    tauri::async_runtime::spawn(async move {
        hub.retain(policy, crate::feeds::now_ms()).await;
    });
    Ok(saved)
}

/// The window painted its first dashboard: logged once with the time since start (what
/// `bench/app.sh` measures).
#[tauri::command]
pub fn first_paint(cards: usize) {
    static DONE: std::sync::Once = std::sync::Once::new();
    DONE.call_once(|| {
        let ms = crate::STARTED
            .get()
            .map(|s| s.elapsed().as_millis())
            .unwrap_or(0);
        tracing::info!(ms, cards, "first dashboard paint {ms} ms after start");
    });
}

/// The receiver's state, its gateways' rules and latest posts (the Receiver page).
#[tauri::command]
pub async fn receiver_status(
    feeds: tauri::State<'_, crate::feeds::Feeds>,
) -> Result<ruuvi_wiring::ReceiverStatus, IpcError> {
    Ok(feeds.receiver.status().await)
}

/// Turns the receiver on (HTTPS; the CA and the server certificate are made on first use).
#[tauri::command]
pub async fn receiver_start(
    feeds: tauri::State<'_, crate::feeds::Feeds>,
) -> Result<ruuvi_wiring::ReceiverStatus, IpcError> {
    feeds.receiver.ensure().await.map_err(|message| IpcError {
        code: "receiver",
        message,
    })?;
    Ok(feeds.receiver.status().await)
}

/// Every sensor's card for the first paint; later ones arrive as `card` events.
#[tauri::command]
pub fn dashboard(feeds: tauri::State<'_, crate::feeds::Feeds>) -> ruuvi_dashboard::Dashboard {
    ruuvi_dashboard::Dashboard {
        demo: feeds.demo,
        cards: ruuvi_dashboard::cards(&feeds.hub.latest()),
    }
}

/// Writes a sensor's history in `[from_ms, to_ms)` as CSV to the Downloads folder (else the
/// app's data folder) and says where.
#[tauri::command]
pub async fn export_csv<R: tauri::Runtime>(
    app: tauri::AppHandle<R>,
    feeds: tauri::State<'_, crate::feeds::Feeds>,
    sensor: String,
    from_ms: i64,
    to_ms: i64,
) -> Result<String, IpcError> {
    use tauri::Manager;
    let mac: ruuvi_protocol::MacAddress = sensor.parse().map_err(|e| IpcError {
        code: "bad_sensor",
        message: format!("{e}"),
    })?;
    let dir = app
        .path()
        .download_dir()
        .or_else(|_| app.path().app_data_dir().map(|d| d.join("exports")))
        .map_err(|e| IpcError {
            code: "io",
            message: e.to_string(),
        })?;
    let path = dir.join(format!(
        "ruuvi-{}-{}.csv",
        mac.to_string().replace(':', ""),
        from_ms / 1000
    ));
    let db = feeds.db.clone();
    let target = path.clone();
    let rows = tauri::async_runtime::spawn_blocking(move || -> Result<usize, String> {
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let mut store = db.open().map_err(|e| e.to_string())?;
        let mut out = std::io::BufWriter::new(
            std::fs::File::create(&target).map_err(|e| format!("{}: {e}", target.display()))?,
        );
        let query = ruuvi_store::Query {
            sensor: Some(mac),
            from_ms: Some(from_ms),
            to_ms: Some(to_ms),
            limit: None,
        };
        let rows = store
            .export_csv(&query, &mut out)
            .map_err(|e| e.to_string())?;
        std::io::Write::flush(&mut out).map_err(|e| e.to_string())?;
        Ok(rows)
    })
    .await
    .map_err(|e| IpcError {
        code: "io",
        message: e.to_string(),
    })?
    .map_err(|message| IpcError {
        code: "io",
        message,
    })?;
    Ok(format!("Saved {rows} rows to {}", path.display()))
}

/// A sensor's history for a chart: `[from_ms, to_ms)`, at most `points` points.
#[tauri::command]
pub async fn series(
    feeds: tauri::State<'_, crate::feeds::Feeds>,
    sensor: String,
    from_ms: i64,
    to_ms: i64,
    points: usize,
) -> Result<ruuvi_dashboard::Series, IpcError> {
    let sensor: ruuvi_protocol::MacAddress = sensor.parse().map_err(|e| IpcError {
        code: "bad_sensor",
        message: format!("{e}"),
    })?;
    let db = feeds.db.clone();
    let points = points.clamp(1, 5000);
    tauri::async_runtime::spawn_blocking(move || {
        let mut store = db.open()?;
        ruuvi_dashboard::series(&mut *store, sensor, from_ms, to_ms, points)
    })
    .await
    .map_err(|e| IpcError {
        code: "store",
        message: e.to_string(),
    })?
    .map(|points| ruuvi_dashboard::Series { sensor, points })
    .map_err(|e| IpcError {
        code: "store",
        message: e.to_string(),
    })
}

#[tauri::command]
pub fn connections(feeds: tauri::State<'_, crate::feeds::Feeds>) -> ruuvi_wiring::Connections {
    ruuvi_wiring::Connections {
        storage: feeds.db.to_string(),
        storage_problem: feeds.storage_problem.clone(),
        mqtt: feeds.mqtt.view(),
    }
}

/// Puts a password for a server named in Settings into the keychain (`target`: `store`,
/// `mqtt_feed` or `mqtt_sink`); an MQTT link restarts with it. The password never comes back.
#[tauri::command]
pub async fn save_password(
    feeds: tauri::State<'_, crate::feeds::Feeds>,
    target: String,
    password: String,
) -> Result<(), IpcError> {
    let password = ruuvi_secrets::Sensitive::new(password);
    let bad = |message: String| IpcError {
        code: "bad_input",
        message,
    };
    let settings = feeds.settings.get();
    let name = match target.as_str() {
        "store" => {
            let url = settings
                .store
                .ok_or_else(|| bad("no database is set: save its URL first".into()))?;
            match ruuvi_store::StoreLocation::parse(&url).map_err(|e| bad(e.to_string()))? {
                ruuvi_store::StoreLocation::Postgres(t) => {
                    ruuvi_wiring::database_password_name(&t).map_err(bad)?
                }
                ruuvi_store::StoreLocation::Sqlite(_) => {
                    return Err(bad("a file needs no password".into()))
                }
            }
        }
        "mqtt_feed" | "mqtt_sink" => {
            let (url, user) = match target.as_str() {
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
        other => return Err(bad(format!("no such target {other:?}"))),
    };
    feeds.secrets.set(&name, &password).map_err(|e| IpcError {
        code: "keychain",
        message: e.to_string(),
    })?;
    tracing::info!(%name, "stored a password");
    if target != "store" {
        feeds
            .mqtt
            .apply(
                settings.mqtt_feed.as_ref(),
                settings.mqtt_sink.as_ref(),
                true,
            )
            .map_err(|message| IpcError {
                code: "mqtt",
                message,
            })?;
    }
    Ok(())
}
