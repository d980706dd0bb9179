//! The Ruuvi Desk window: Tauri specifics only (the window, the tray, one instance, desktop
//! notifications) and one generic bridge to the app core's commands. Everything else is in
//! `crates/ruuvi-app`, the same core `ruuvictl serve` runs.

pub mod bindings;
pub mod tray;

use std::sync::Arc;

use ruuvi_app::{ApiError, Desk, Event};
use tauri::{Emitter, Manager};

/// The app core, once started. The window opens first: moving a large store written by an
/// earlier version takes minutes, and the window says how far it is (`migration` events);
/// commands called meanwhile wait for the core.
#[derive(Clone)]
pub struct DeskCell(Arc<tokio::sync::watch::Sender<Startup>>);

#[derive(Clone)]
enum Startup {
    Starting,
    Ready(Arc<Desk>),
    Failed(String),
}

impl DeskCell {
    fn starting() -> Self {
        Self(Arc::new(tokio::sync::watch::channel(Startup::Starting).0))
    }

    /// A core already started (tests).
    pub fn ready(desk: Arc<Desk>) -> Self {
        Self(Arc::new(
            tokio::sync::watch::channel(Startup::Ready(desk)).0,
        ))
    }

    /// The core, when it has started.
    async fn desk(&self) -> Result<Arc<Desk>, ApiError> {
        let mut changes = self.0.subscribe();
        let state = changes
            .wait_for(|s| !matches!(s, Startup::Starting))
            .await
            .map(|s| s.clone())
            .unwrap_or(Startup::Failed("the app is stopping".into()));
        match state {
            Startup::Ready(desk) => Ok(desk),
            Startup::Failed(why) => Err(ApiError {
                code: "unavailable",
                message: why,
            }),
            Startup::Starting => unreachable!("waited for a change"),
        }
    }
}

/// The only command the window may call: `command` of [`ruuvi_app::api::COMMANDS`] with its
/// arguments; the reply, or `{code, message}`.
#[tauri::command]
async fn api(
    desk: tauri::State<'_, DeskCell>,
    command: String,
    args: serde_json::Value,
) -> Result<serde_json::Value, ApiError> {
    let desk = desk.desk().await?;
    ruuvi_app::api::call(&desk, &command, args).await
}

/// The bridge's name, for build.rs and the capability file.
pub const BRIDGE: &str = "api";

/// Registers the bridge on any runtime, so tests can pass `tauri::test::mock_builder()`.
pub fn builder<R: tauri::Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    builder.invoke_handler(tauri::generate_handler![api])
}

/// The demo's size: `RUUVI_DESK_DEMO_SENSORS=1000` makes 10 gateways × 100 tags posting every
/// 10 s from the start (measurements), `0` no demo at all (gateways in another process);
/// otherwise a small demo that updates every 2 s, offered on the first-run guide. Only while no
/// gateway is configured.
fn demo() -> ruuvi_app::DemoConfig {
    let sensors = std::env::var("RUUVI_DESK_DEMO_SENSORS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok());
    match sensors {
        Some(0) => ruuvi_app::DemoConfig::Off,
        Some(n) => ruuvi_app::DemoConfig::WhenNoGateways(ruuvi_demo::DemoOptions {
            gateways: n.div_ceil(100),
            tags: n.min(100),
            period_s: 10,
            ..Default::default()
        }),
        // A new user chooses it on the first-run guide.
        None => ruuvi_app::DemoConfig::Offered(ruuvi_demo::DemoOptions::default()),
    }
}

/// Where the receiver listens unless `RUUVI_DESK_RECEIVER_LISTEN` says otherwise: every
/// interface, so gateways on the LAN reach it.
fn receiver_listen() -> Result<std::net::SocketAddr, String> {
    let text =
        std::env::var("RUUVI_DESK_RECEIVER_LISTEN").unwrap_or_else(|_| "0.0.0.0:8443".into());
    text.parse()
        .map_err(|e| format!("RUUVI_DESK_RECEIVER_LISTEN {text:?}: {e}"))
}

/// The app's configuration: its folders, `app.json`, the keychain, the demo.
pub fn config(
    data_dir: std::path::PathBuf,
    database_dir: std::path::PathBuf,
    export_dir: std::path::PathBuf,
    keychain: Arc<dyn ruuvi_secrets::SecretStore>,
    started: std::time::Instant,
) -> Result<ruuvi_app::DeskConfig, String> {
    Ok(ruuvi_app::DeskConfig {
        data_dir,
        database_dir,
        keychain,
        settings: ruuvi_app::SettingsSource::Saved,
        receiver: ruuvi_app::ReceiverConfig {
            listen: receiver_listen()?,
            https: true,
            path: "/record".into(),
            create_ca: true,
            always_on: false,
        },
        internal_api: None,
        ble: Default::default(),
        mqtt: Default::default(),
        demo: demo(),
        export_dir,
        started,
        clock: ruuvi_protocol::clock::system(),
        on_migration: None,
    })
}

/// The desk's events to the window (by their names) and fired alerts to the desktop.
fn forward_events<R: tauri::Runtime>(app: tauri::AppHandle<R>, desk: &Desk) {
    let mut events = desk.subscribe();
    tauri::async_runtime::spawn(async move {
        use tokio::sync::broadcast::error::RecvError;
        loop {
            match events.recv().await {
                Ok(event) => {
                    if let Event::Alert(entry) = &event {
                        use tauri_plugin_notification::NotificationExt;
                        let shown = app
                            .notification()
                            .builder()
                            .title(entry.fired.title())
                            .body(&entry.fired.text)
                            .show();
                        if let Err(e) = shown {
                            tracing::info!("no desktop notification: {e}");
                        }
                    }
                    let _ = app.emit(event.name(), &event);
                }
                Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => return,
            }
        }
    });
}

pub fn run() {
    let started = std::time::Instant::now();
    builder(tauri::Builder::default())
        // First, so a second start only brings this window forward and exits.
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            tracing::info!("started again: showing the window");
            tray::show_window(app);
        }))
        // Desktop notifications for alerts (sent from Rust; the window gets no permission).
        .plugin(tauri_plugin_notification::init())
        .setup(move |app| {
            // The folders of an earlier identifier move first, before any file is open.
            let (dirs, adoptions) = ruuvi_wiring::identifier::adopt_all(&[
                app.path().app_data_dir()?,
                app.path().app_local_data_dir()?,
                app.path().app_log_dir()?,
            ]);
            let [data_dir, local_dir, log_dir] = <[std::path::PathBuf; 3]>::try_from(dirs)
                .map_err(|_| "adopt_all gives one folder per folder asked")?;
            // `ruuvi-desk.log` in the platform's log directory (Linux:
            // ~/.local/share/com.ruuvidesk.desktop/logs).
            ruuvi_wiring::log_to_file(
                &log_dir,
                "ruuvi-desk.log",
                ruuvi_wiring::LogLimits::from_env(),
            );
            tracing::info!(version = env!("CARGO_PKG_VERSION"), "Ruuvi Desk starting");
            for note in adoptions.iter().filter_map(|a| a.note()) {
                tracing::warn!("{note}");
            }
            // The observations database in the local folder (Windows: not roaming).
            let (database_dir, moved) =
                ruuvi_wiring::identifier::database_folder(&data_dir, &local_dir);
            if let Some(note) = moved {
                tracing::warn!("{note}");
            }
            let export_dir = app
                .path()
                .download_dir()
                .unwrap_or_else(|_| data_dir.join("exports"));
            let keychain = Arc::new(ruuvi_secrets::Keychain::default());
            let mut config = config(data_dir, database_dir, export_dir, keychain, started)?;
            let window = app.handle().clone();
            config.on_migration = Some(Arc::new(move |m| {
                let _ = window.emit("migration", m);
            }));
            let cell = DeskCell::starting();
            app.manage(cell.clone());
            let app = app.handle().clone();
            tauri::async_runtime::spawn(async move {
                match Desk::start(config).await {
                    Ok(desk) => {
                        forward_events(app.clone(), &desk);
                        if let Err(e) = tray::start(&app, desk.clone()) {
                            // No tray on this desktop (no StatusNotifier host): the window
                            // still works.
                            tracing::warn!("no tray icon: {e}");
                        }
                        cell.0.send_replace(Startup::Ready(desk));
                    }
                    Err(e) => {
                        tracing::error!("Ruuvi Desk cannot start: {e}");
                        eprintln!("Ruuvi Desk cannot start: {e}");
                        cell.0.send_replace(Startup::Failed(e.to_string()));
                        app.exit(1);
                    }
                }
            });
            Ok(())
        })
        .run(tauri::generate_context!())
        .expect("error while running Ruuvi Desk");
}

#[cfg(test)]
mod tests {
    /// macOS stops an app that uses Bluetooth without a usage string, and since macOS 15 asks
    /// before it reaches the local network; no Mac here, so the bundle's files are checked.
    #[test]
    fn the_macos_bundle_declares_bluetooth_the_local_network_and_its_minimum_version() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let conf: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(root.join("tauri.conf.json")).unwrap())
                .unwrap();
        let mac = &conf["bundle"]["macOS"];
        let info: plist::Dictionary =
            plist::from_file(root.join(mac["infoPlist"].as_str().unwrap())).unwrap();
        for key in [
            "NSBluetoothAlwaysUsageDescription",
            "NSLocalNetworkUsageDescription",
        ] {
            let text = info.get(key).and_then(|v| v.as_string()).unwrap_or("");
            assert!(text.contains("Ruuvi"), "{key}: {text:?}");
        }
        let bonjour = info["NSBonjourServices"].as_array().unwrap();
        assert!(bonjour.iter().any(|s| s.as_string() == Some("_http._tcp")));
        let entitlements: plist::Dictionary =
            plist::from_file(root.join(mac["entitlements"].as_str().unwrap())).unwrap();
        for key in [
            "com.apple.security.network.server",
            "com.apple.security.network.client",
            "com.apple.security.device.bluetooth",
        ] {
            assert_eq!(
                entitlements.get(key).and_then(|v| v.as_boolean()),
                Some(true)
            );
        }
        assert_eq!(mac["hardenedRuntime"], true);
        let min: Vec<u32> = mac["minimumSystemVersion"]
            .as_str()
            .unwrap()
            .split('.')
            .map(|p| p.parse().unwrap())
            .collect();
        // tests/cross-check.sh checks the code with MACOSX_DEPLOYMENT_TARGET=11.0.
        assert!(min >= vec![11], "{min:?}");
        // `….app` clashes with macOS bundle naming (the bundler warns).
        assert!(!conf["identifier"].as_str().unwrap().ends_with(".app"));
    }

    use std::sync::Arc;

    use ruuvi_app::Desk;
    use tauri::ipc::{CallbackFn, InvokeBody};
    use tauri::test::{get_ipc_response, mock_builder, mock_context, noop_assets, INVOKE_KEY};
    use tauri::webview::InvokeRequest;

    /// A data folder with a store holding one observation, and `app.json` as `settings` says.
    struct Fixture {
        dir: std::path::PathBuf,
    }

    impl Fixture {
        fn new(name: &str, settings: serde_json::Value) -> Self {
            // One folder per call: tests run in parallel and several call the same command.
            static CALLS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
            let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let dir = std::env::temp_dir().join(format!(
                "ruuvi-desk-ipc-{}-{call}-{name}",
                std::process::id(),
            ));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("app.json"), settings.to_string()).unwrap();
            let mut store =
                ruuvi_store::SqliteStore::open(&dir.join(ruuvi_wiring::identifier::DATABASE))
                    .unwrap();
            let raw = ruuvi_protocol::formats::parse_hex(
                "0201061BFF99040512FC5394C37C0004FFFC040CAC364200CDCBB8334C884F",
            )
            .unwrap();
            let o = ruuvi_protocol::Observation::from_advertisement(
                "CB:B8:33:4C:88:4F".parse().unwrap(),
                &raw,
                Some(-60),
                1_795_000_000_000,
            )
            .unwrap();
            ruuvi_store::ObservationStore::insert(&mut store, &[o]).unwrap();
            Self { dir }
        }

        /// The app's own configuration over this folder (no demo, receiver on loopback).
        fn desk(&self) -> Arc<Desk> {
            std::env::set_var("RUUVI_DESK_RECEIVER_LISTEN", "127.0.0.1:0");
            let mut config = crate::config(
                self.dir.clone(),
                self.dir.clone(),
                self.dir.join("exports"),
                Arc::new(ruuvi_secrets::Keychain::new("ruuvi-desk-ipc-test")),
                std::time::Instant::now(),
            )
            .unwrap();
            config.demo = ruuvi_app::DemoConfig::Off;
            tauri::async_runtime::block_on(Desk::start(config)).unwrap()
        }
    }

    impl Drop for Fixture {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    /// The window's side of the bridge: a mock app whose webview invokes `cmd`.
    struct Window {
        _app: tauri::App<tauri::test::MockRuntime>,
        webview: tauri::WebviewWindow<tauri::test::MockRuntime>,
    }

    impl Window {
        fn over(desk: Arc<Desk>) -> Self {
            let app = super::builder(mock_builder())
                .manage(super::DeskCell::ready(desk))
                .build(mock_context(noop_assets()))
                .expect("mock app builds");
            let webview = tauri::WebviewWindowBuilder::new(&app, "main", Default::default())
                .build()
                .expect("mock webview builds");
            Self { _app: app, webview }
        }

        /// Invokes a Tauri command (`api` is the only one).
        fn invoke_raw(
            &self,
            cmd: &str,
            body: serde_json::Value,
        ) -> Result<serde_json::Value, serde_json::Value> {
            get_ipc_response(
                &self.webview,
                InvokeRequest {
                    cmd: cmd.into(),
                    callback: CallbackFn(0),
                    error: CallbackFn(1),
                    // tauri://localhost, not http://tauri.localhost: the latter counts as remote.
                    url: "tauri://localhost".parse().unwrap(),
                    body: InvokeBody::from(body),
                    headers: Default::default(),
                    invoke_key: INVOKE_KEY.to_string(),
                },
            )
            .map(|b| b.deserialize::<serde_json::Value>().unwrap())
        }

        /// A command of the table, as the UI calls it.
        fn call(
            &self,
            command: &str,
            args: serde_json::Value,
        ) -> Result<serde_json::Value, serde_json::Value> {
            self.invoke_raw(
                crate::BRIDGE,
                serde_json::json!({"command": command, "args": args}),
            )
        }
    }

    /// One command through the window, over a fresh fixture with the default settings.
    fn invoke(cmd: &str, args: serde_json::Value) -> Result<serde_json::Value, serde_json::Value> {
        let fixture = Fixture::new(cmd, serde_json::json!({}));
        Window::over(fixture.desk()).call(cmd, args)
    }

    #[test]
    fn decode_command_returns_gateway_keys() {
        let v = invoke(
            "decode_advertisement",
            serde_json::json!({"hex": "0201061BFF99040512FC5394C37C0004FFFC040CAC364200CDCBB8334C884F"}),
        )
        .unwrap();
        assert_eq!(v["dataFormat"], 5);
        assert_eq!(v["temperature"], 24.3);
        assert_eq!(v["id"], "CB:B8:33:4C:88:4F");
    }

    #[test]
    fn decode_command_errors_are_code_and_message() {
        let e = invoke("decode_advertisement", serde_json::json!({"hex": "05FF"})).unwrap_err();
        assert_eq!(e["code"], "wrong_length");
        assert_eq!(
            e["message"],
            "data format 0x05 needs 24 bytes of payload, got 2"
        );
    }

    #[test]
    fn ble_status_says_why_bluetooth_is_unavailable() {
        // No system bus here whatever the machine has (this machine has no Bluetooth at all).
        std::env::set_var("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/bus");
        let started = std::time::Instant::now();
        let fixture = Fixture::new("ble-off", serde_json::json!({"bluetooth": false}));
        let off = Window::over(fixture.desk())
            .call("ble_status", serde_json::json!({}))
            .unwrap();
        assert_eq!(off["state"], "off", "not scanning when switched off");
        let v = invoke("ble_status", serde_json::json!({})).unwrap();
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
        assert_eq!(v["state"], "unavailable");
        assert_eq!(v["kind"], "no_stack");
        let message = v["message"].as_str().unwrap();
        assert!(
            message.starts_with("Bluetooth unavailable: connecting: "),
            "{message}"
        );
    }

    #[test]
    fn dashboard_gives_a_card_per_sensor() {
        let v = invoke("dashboard", serde_json::json!({})).unwrap();
        assert_eq!(v["demo"], false);
        let card = &v["cards"][0];
        assert_eq!(card["sensor"], "CB:B8:33:4C:88:4F");
        assert_eq!(card["kind"], "ruuvi_tag");
        assert_eq!(card["source"], "Bluetooth");
        assert_eq!(card["readings"]["temperature_c"], 24.3);
    }

    #[test]
    fn series_reads_the_history_and_refuses_a_bad_sensor() {
        let v = invoke(
            "series",
            serde_json::json!({"sensor": "CB:B8:33:4C:88:4F", "fromMs": 0, "toMs": 1_900_000_000_000i64, "points": 10}),
        )
        .unwrap();
        // Sixty years: read from the daily statistics, the point at its day's start.
        assert_eq!(
            v["points"][0]["at_ms"],
            1_795_000_000_000i64 / 86_400_000 * 86_400_000
        );
        assert_eq!(v["points"][0]["readings"]["humidity_pct"], 53.49);
        let e = invoke(
            "series",
            serde_json::json!({"sensor": "nope", "fromMs": 0, "toMs": 1, "points": 10}),
        )
        .unwrap_err();
        assert_eq!(e["code"], "bad_input");
    }

    #[test]
    fn app_info_names_the_app() {
        let v = invoke("app_info", serde_json::json!({})).unwrap();
        assert_eq!(v["name"], "Ruuvi Desk");
        assert_eq!(v["version"], env!("CARGO_PKG_VERSION"));
        assert_eq!(v["license"], "MIT");
    }

    #[test]
    fn gateway_commands_answer_and_fail_with_codes() {
        assert_eq!(
            invoke("gateways_list", serde_json::json!({})).unwrap(),
            serde_json::json!([])
        );
        // Nothing to search: no multicast, no addresses, no demo gateways registered.
        let found = invoke(
            "gateways_discover",
            serde_json::json!({"request": {"mdns": false, "probe": ""}}),
        )
        .unwrap();
        assert_eq!(found, serde_json::json!([]));
        let e = invoke(
            "gateways_preview",
            serde_json::json!({"endpoint": "127.0.0.1:1", "form": {"ruuvi_cloud": true, "own_server": null}}),
        )
        .unwrap_err();
        assert_eq!(e["code"], "not_logged_in");
        let e = invoke(
            "gateways_discover",
            serde_json::json!({"request": {"mdns": false, "probe": "127.0.0.1:99999"}}),
        )
        .unwrap_err();
        assert_eq!(e["code"], "bad_input", "{e}");
    }

    #[test]
    fn database_and_mqtt_settings_are_checked_and_reported() {
        let v = invoke("connections", serde_json::json!({})).unwrap();
        assert!(v["storage"].as_str().unwrap().ends_with(".sqlite"), "{v}");
        assert_eq!(v["storage_problem"], serde_json::Value::Null);
        assert_eq!(v["mqtt"]["feed"], serde_json::Value::Null);
        let settings = |change: serde_json::Value| {
            let mut s = serde_json::json!({
                "receiver_enabled": false, "bluetooth": false, "keep_days": null,
                "resolution_minutes": null, "alert_webhook": null, "store": null,
                "mqtt_feed": null, "mqtt_sink": null,
            });
            s.as_object_mut()
                .unwrap()
                .extend(change.as_object().unwrap().clone());
            serde_json::json!({ "settings": s })
        };
        let e = invoke(
            "set_app_settings",
            settings(serde_json::json!({"store": "postgres://u:hunter2@db.lan/ruuvi"})),
        )
        .unwrap_err();
        assert_eq!(e["code"], "bad_input");
        assert!(!e.to_string().contains("hunter2"), "{e}");
        let e = invoke(
            "set_app_settings",
            settings(serde_json::json!({"mqtt_feed": {"broker": "broker.lan", "topic": "ruuvi/#", "user": null}})),
        )
        .unwrap_err();
        assert!(e["message"].as_str().unwrap().contains("MQTT feed"), "{e}");
        // A feed to a broker nobody runs: saved, started, and reported as not connected.
        let v = invoke(
            "set_app_settings",
            settings(serde_json::json!({
                "store": "postgres://ruuvi@127.0.0.1:1/ruuvi",
                "mqtt_feed": {"broker": "mqtt://127.0.0.1:1", "topic": "ruuvi/#", "user": null},
            })),
        )
        .unwrap();
        assert_eq!(v["store"], "postgres://ruuvi@127.0.0.1:1/ruuvi");
        let e = invoke(
            "save_password",
            serde_json::json!({"target": "mqtt_feed", "password": "pw"}),
        )
        .unwrap_err();
        assert_eq!(
            e["code"], "bad_input",
            "no feed in this call's settings: {e}"
        );
    }

    #[test]
    fn the_capability_grants_the_bridge_and_the_bridge_only_the_table() {
        let file: serde_json::Value =
            serde_json::from_str(include_str!("../capabilities/default.json")).unwrap();
        let mut granted: Vec<&str> = file["permissions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap())
            .collect();
        granted.sort();
        let bridge = format!("allow-{}", crate::BRIDGE);
        assert_eq!(
            granted,
            [
                "allow-api",
                "core:event:allow-listen",
                "core:event:allow-unlisten"
            ]
        );
        assert_eq!(bridge, "allow-api");
        let fixture = Fixture::new("capability", serde_json::json!({}));
        let window = Window::over(fixture.desk());
        // No other Tauri command exists (the old per-command ones are gone).
        let unknown = window
            .invoke_raw("app_info", serde_json::json!({}))
            .unwrap_err();
        assert!(unknown.to_string().contains("app_info"), "{unknown}");
        // The bridge knows every command of the table and refuses any other by code.
        for command in ruuvi_app::api::COMMANDS {
            if let Err(e) = window.call(command, serde_json::json!({"no_such_argument": 1})) {
                assert_eq!(e["code"], "bad_input", "{command}: {e}");
            }
        }
        let e = window
            .call("no_such_command", serde_json::json!({}))
            .unwrap_err();
        assert_eq!(e["code"], "not_found");
    }

    /// `POST /api/<command>` against `serve --ui`'s server over the same desk.
    fn http_call(
        addr: std::net::SocketAddr,
        token: &str,
        command: &str,
        args: &serde_json::Value,
    ) -> Result<serde_json::Value, serde_json::Value> {
        use std::io::{Read, Write};
        let body = args.to_string();
        let mut tcp = std::net::TcpStream::connect(addr).unwrap();
        tcp.set_read_timeout(Some(std::time::Duration::from_secs(30)))
            .unwrap();
        write!(
            tcp,
            "POST /api/{command} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut answer = String::new();
        tcp.read_to_string(&mut answer).unwrap();
        let (head, body) = answer.split_once("\r\n\r\n").unwrap();
        let status: u16 = head.split(' ').nth(1).unwrap().parse().unwrap();
        let body = if head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
        {
            // One chunk: "<hex>\r\n<data>\r\n0\r\n\r\n".
            body.split_once("\r\n")
                .unwrap()
                .1
                .rsplit_once("\r\n0")
                .unwrap()
                .0
                .trim_end()
                .to_string()
        } else {
            body.to_string()
        };
        let value: serde_json::Value = serde_json::from_str(&body).unwrap();
        if status == 200 {
            Ok(value)
        } else {
            Err(value)
        }
    }

    /// The window and `serve --ui` offer the same commands with the same replies and codes:
    /// every command of the table is called through both, with good and with bad arguments,
    /// over one desk (one store, one settings file), and the answers compared.
    #[test]
    fn the_window_and_the_browser_reach_the_same_commands_with_the_same_answers() {
        std::env::set_var("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/bus");
        let fixture = Fixture::new("parity", serde_json::json!({"bluetooth": false}));
        let desk = fixture.desk();
        let window = Window::over(desk.clone());
        let token = "0123456789abcdef";
        let (addr, server) = tauri::async_runtime::block_on(async {
            let dist = fixture.dir.join("dist");
            std::fs::create_dir_all(&dist).unwrap();
            std::fs::write(dist.join("index.html"), "<!doctype html>").unwrap();
            ruuvi_web::start(
                "127.0.0.1:0".parse().unwrap(),
                ruuvi_web::WebState {
                    desk: desk.clone(),
                    token: ruuvi_secrets::Sensitive::new(token.to_string()),
                    ui_dir: dist,
                },
            )
            .await
            .unwrap()
        });
        let sensor = "CB:B8:33:4C:88:4F";
        // Arguments for each command: what the UI sends, then mistakes. Commands that change
        // what a later call sees are called with arguments that change nothing (or fail).
        let cases: Vec<(&str, serde_json::Value)> = vec![
            ("app_info", serde_json::json!({})),
            ("ble_status", serde_json::json!(null)),
            ("dashboard", serde_json::json!({})),
            (
                "decode_advertisement",
                serde_json::json!({"hex": "0201061BFF99040512FC5394C37C0004FFFC040CAC364200CDCBB8334C884F"}),
            ),
            ("decode_advertisement", serde_json::json!({"hex": "05FF"})),
            ("decode_advertisement", serde_json::json!({"hex": 5})),
            (
                "series",
                serde_json::json!({"sensor": sensor, "fromMs": 0, "toMs": 1_900_000_000_000i64, "points": 10}),
            ),
            (
                "series",
                serde_json::json!({"sensor": "nope", "fromMs": 0, "toMs": 1, "points": 10}),
            ),
            (
                "export_csv",
                serde_json::json!({"sensor": sensor, "fromMs": 0, "toMs": 1_900_000_000_000i64}),
            ),
            (
                "export_csv",
                serde_json::json!({"sensor": "nope", "fromMs": 0, "toMs": 1}),
            ),
            (
                "import_history",
                serde_json::json!({"fileName": "empty.csv", "content": "sensor,received_at_ms,feed\n", "sensor": null}),
            ),
            (
                "import_history",
                serde_json::json!({"fileName": "notes.txt", "content": "hello", "sensor": null}),
            ),
            (
                "import_history",
                serde_json::json!({"fileName": "Sauna.csv", "content": "timestamp,temperature (°C),humidity (%),pressure (hPa),rssi\n", "sensor": null}),
            ),
            (
                "import_history",
                serde_json::json!({"fileName": "Sauna.csv", "content": "timestamp,temperature (°C),humidity (%),pressure (hPa),rssi\nyesterday,1,2,3,4\n", "sensor": "C8:25:2D:8E:9C:2C"}),
            ),
            (
                "ble_history",
                serde_json::json!({"sensor": "nope", "sinceMs": null}),
            ),
            (
                "ble_history_cancel",
                serde_json::json!({"sensor": "C8:25:2D:8E:9C:2C"}),
            ),
            ("first_paint", serde_json::json!({"cards": 1})),
            ("app_settings", serde_json::json!({})),
            (
                "set_app_settings",
                serde_json::json!({"settings": {"keep_days": 0}}),
            ),
            (
                "set_app_settings",
                serde_json::json!({"settings": {"mqtt_feed": {"broker": "broker.lan", "topic": "ruuvi/#", "user": null}}}),
            ),
            ("connections", serde_json::json!({})),
            (
                "save_password",
                serde_json::json!({"target": "mqtt_feed", "password": "pw"}),
            ),
            (
                "save_password",
                serde_json::json!({"target": "elsewhere", "password": "pw"}),
            ),
            ("receiver_status", serde_json::json!({})),
            ("gateways_list", serde_json::json!({})),
            (
                "gateways_discover",
                serde_json::json!({"request": {"mdns": false, "probe": ""}}),
            ),
            (
                "gateways_discover",
                serde_json::json!({"request": {"mdns": false, "probe": "127.0.0.1:99999"}}),
            ),
            (
                "gateways_login",
                serde_json::json!({"request": {"endpoint": "not a gateway!"}}),
            ),
            (
                "gateways_forget",
                serde_json::json!({"endpoint": "127.0.0.1:1"}),
            ),
            (
                "gateways_details",
                serde_json::json!({"endpoint": "127.0.0.1:1"}),
            ),
            (
                "gateways_preview",
                serde_json::json!({"endpoint": "127.0.0.1:1", "form": {"ruuvi_cloud": true, "own_server": null}}),
            ),
            (
                "gateways_apply",
                serde_json::json!({"endpoints": [], "form": {"ruuvi_cloud": true, "own_server": null}}),
            ),
            ("gateways_apply_mqtt", serde_json::json!({"endpoints": []})),
            (
                "gateways_apply_scan",
                serde_json::json!({"endpoints": [], "scan": {"company_filter": 1177, "tags": {"mode": "off"}, "radio": null}}),
            ),
            (
                "gateways_undo",
                serde_json::json!({"endpoint": "127.0.0.1:1"}),
            ),
            (
                "gateways_lan_access",
                serde_json::json!({"endpoints": ["127.0.0.1:1"], "login": {"kind": "ruuvi", "user": "owner", "password": "pw"}, "readKey": "keep", "writeKey": "generate"}),
            ),
            (
                "gateways_check_mqtt",
                serde_json::json!({"endpoint": "127.0.0.1:1", "broker": {"url": "mqtt://127.0.0.1:1", "data_format": "ruuvi_raw", "interval_s": 0, "retain": true, "client_cert": "none", "server_ca": "builtin"}}),
            ),
            (
                "gateways_check_url",
                serde_json::json!({"endpoint": "127.0.0.1:1", "server": {}}),
            ),
            ("gateways_send_here", serde_json::json!({})),
            (
                "gateways_poll",
                serde_json::json!({"endpoint": "127.0.0.1:1", "intervalS": 1}),
            ),
            (
                "gateways_poll",
                serde_json::json!({"endpoint": "not a gateway!", "intervalS": 10}),
            ),
            (
                "gateways_unpoll",
                serde_json::json!({"endpoint": "127.0.0.1:1"}),
            ),
            ("gateways_polls", serde_json::json!({})),
            ("remote_config", serde_json::json!({})),
            (
                "gateways_read",
                serde_json::json!({"endpoints": ["127.0.0.1:1"]}),
            ),
            (
                "gateways_preview_areas",
                serde_json::json!({"endpoint": "127.0.0.1:1", "areas": {"scan": {"company_filter": null, "tags": {"mode": "off"}, "radio": null}}}),
            ),
            (
                "gateways_firmware",
                serde_json::json!({"endpoint": "127.0.0.1:1"}),
            ),
            (
                "gateways_set_update_url",
                serde_json::json!({"endpoint": "127.0.0.1:1", "url": "http://127.0.0.1:1/fw"}),
            ),
            (
                "gateways_update",
                serde_json::json!({"endpoints": ["127.0.0.1:1"], "release": "nightly", "atATime": 1}),
            ),
            (
                "gateways_apply_auto_update",
                serde_json::json!({"endpoints": ["127.0.0.1:1"], "schedule": {"cycle": "manual", "weekdays": 0, "from_hour": 0, "to_hour": 24, "tz_offset_hours": 2}}),
            ),
            (
                "gateways_apply_time",
                serde_json::json!({"endpoints": [], "timePlace": {"clock": {"source": "dhcp"}, "coordinates": null}}),
            ),
            (
                "gateways_apply_statistics",
                serde_json::json!({"endpoints": ["127.0.0.1:1"], "form": {"target": null}}),
            ),
            (
                "remote_config_serve",
                serde_json::json!({"endpoints": [], "refreshMinutes": 60}),
            ),
            ("remote_config_stop", serde_json::json!({"endpoints": []})),
            (
                "remote_config_publish",
                serde_json::json!({"endpoints": ["127.0.0.1:1"], "areas": {}}),
            ),
            (
                "remote_config_publish",
                serde_json::json!({"endpoints": ["127.0.0.1:1"], "areas": {"time_place": {"clock": null, "coordinates": "x"}}}),
            ),
            (
                "remote_config_fetch_now",
                serde_json::json!({"endpoint": "127.0.0.1:1"}),
            ),
            ("certificates_renew", serde_json::json!({"gateway": "nope"})),
            (
                "certificates_revoke",
                serde_json::json!({"gateway": "nope"}),
            ),
            ("sensors", serde_json::json!({})),
            ("receiver_rules", serde_json::json!({})),
            (
                "receiver_rule_save",
                serde_json::json!({"gateway": "nope", "rule": {}, "secret": null, "hmacKey": null}),
            ),
            (
                "receiver_rule_save",
                serde_json::json!({"gateway": sensor, "rule": {"auth": "telepathy"}, "secret": null, "hmacKey": null}),
            ),
            (
                "receiver_rule_remove",
                serde_json::json!({"gateway": "nope"}),
            ),
            (
                "receiver_accept_unknown",
                serde_json::json!({"accept": true}),
            ),
            ("network_view", serde_json::json!({})),
            ("demo_start", serde_json::json!({})),
            ("demo_stop", serde_json::json!({})),
            (
                "network_whitelist",
                serde_json::json!({"gateway": sensor, "secret": "abc"}),
            ),
            ("network_block", serde_json::json!({"gateway": "nope"})),
            (
                "export_xlsx",
                serde_json::json!({"sensors": ["nope"], "fromMs": 0, "toMs": 1}),
            ),
            ("gateways_known", serde_json::json!({})),
            ("sparklines", serde_json::json!({"sensors": [sensor]})),
            ("sparklines", serde_json::json!({"sensors": ["nope"]})),
            (
                "sensor_save",
                serde_json::json!({"sensor": "nope", "name": "Sauna"}),
            ),
            (
                "sensor_save",
                serde_json::json!({"sensor": sensor, "calibration": {"temperature_c": 99.0}}),
            ),
            ("alerts", serde_json::json!({})),
            ("alerts_save", serde_json::json!({"rule": {"id": 0}})),
            ("alerts_remove", serde_json::json!({"id": 12345})),
            ("alerts_acknowledge", serde_json::json!({"id": 12345})),
            ("alerts_test", serde_json::json!({"id": 12345})),
            ("no_such_command", serde_json::json!({})),
        ];
        let mut reached = std::collections::BTreeSet::new();
        for (command, args) in &cases {
            let by_window = window.call(command, args.clone());
            let by_browser = http_call(addr, token, command, args);
            match (&by_window, &by_browser) {
                (Ok(a), Ok(b)) => assert_eq!(a, b, "{command} {args}"),
                (Err(a), Err(b)) => {
                    assert_eq!(a["code"], b["code"], "{command} {args}: {a} / {b}");
                    assert_eq!(a["message"], b["message"], "{command} {args}");
                }
                _ => panic!("{command} {args}: window {by_window:?}, browser {by_browser:?}"),
            }
            reached.insert(*command);
        }
        // Every command of the table was compared (those that need the keychain or a gateway
        // fail alike on both sides here) except the ones that would start the receiver or
        // make a CA on this machine.
        let skipped = ["receiver_start", "certificates", "certificates_create_ca"];
        for command in ruuvi_app::api::COMMANDS {
            assert!(
                reached.contains(command) || skipped.contains(command),
                "{command} is not compared"
            );
        }
        // The codes are the core crates' own, the same on both sides.
        assert_eq!(
            window.call("series", cases[7].1.clone()).unwrap_err()["code"],
            "bad_input"
        );
        assert_eq!(
            window
                .call("decode_advertisement", cases[4].1.clone())
                .unwrap_err()["code"],
            "wrong_length"
        );
        server.abort();
    }
}
