//! The Ruuvi Desk window: wiring only. All logic lives in the core crates under `crates/`.

pub mod bindings;
mod command_names;
pub use command_names::COMMANDS;
pub mod commands;
pub mod error;
pub mod feeds;
// app.json lives with the data, so its reader is in the core (one parser for every face and the fuzz target).
pub use ruuvi_wiring::app_settings as settings;
pub mod tray;

/// Registers commands on any runtime, so tests can pass `tauri::test::mock_builder()`.
pub fn builder<R: tauri::Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    builder.invoke_handler(tauri::generate_handler![
        commands::app_info,
        commands::ble_status,
        commands::dashboard,
        commands::decode_advertisement,
        commands::series,
        commands::export_csv,
        commands::first_paint,
        commands::app_settings,
        commands::set_app_settings,
        commands::connections,
        commands::save_password,
        commands::receiver_status,
        commands::receiver_start,
        commands::gateways::gateways_list,
        commands::gateways::gateways_discover,
        commands::gateways::gateways_login,
        commands::gateways::gateways_forget,
        commands::gateways::gateways_details,
        commands::gateways::gateways_preview,
        commands::gateways::gateways_apply,
        commands::gateways::gateways_apply_mqtt,
        commands::gateways::gateways_check_url,
        commands::gateways::gateways_send_here,
        commands::gateways::certificates,
        commands::gateways::certificates_create_ca,
        commands::gateways::certificates_renew,
        commands::gateways::certificates_revoke,
        commands::alerts::alerts,
        commands::alerts::alerts_save,
        commands::alerts::alerts_remove,
        commands::alerts::alerts_acknowledge,
        commands::alerts::alerts_test
    ])
}

/// When this process started, for the first-paint measurement.
pub static STARTED: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

pub fn run() {
    STARTED.get_or_init(std::time::Instant::now);
    builder(tauri::Builder::default())
        // First, so a second start only brings this window forward and exits.
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            tracing::info!("started again: showing the window");
            tray::show_window(app);
        }))
        // Desktop notifications for alerts (sent from Rust; the window gets no permission).
        .plugin(tauri_plugin_notification::init())
        .setup(|app| {
            use tauri::Manager;
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
            let handle = app.handle().clone();
            let feeds =
                tauri::async_runtime::block_on(feeds::start(handle, &data_dir, &database_dir))?;
            if let Err(e) = tray::start(app.handle(), feeds.receiver.clone()) {
                // No tray on this desktop (no StatusNotifier host): the window still works.
                tracing::warn!("no tray icon: {e}");
            }
            app.manage(feeds);
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

    use tauri::ipc::{CallbackFn, InvokeBody};
    use tauri::test::{get_ipc_response, mock_builder, mock_context, noop_assets, INVOKE_KEY};
    use tauri::webview::InvokeRequest;

    fn invoke(cmd: &str, body: serde_json::Value) -> Result<serde_json::Value, serde_json::Value> {
        invoke_with(cmd, body, |_| {})
    }

    /// `invoke` with the app state prepared by `prepare` first.
    fn invoke_with(
        cmd: &str,
        body: serde_json::Value,
        prepare: impl FnOnce(&crate::feeds::Feeds),
    ) -> Result<serde_json::Value, serde_json::Value> {
        // The dashboard's hub over a store file with one observation in it; one file per call
        // (tests run in parallel and several call the same command).
        static CALLS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let db = std::env::temp_dir().join(format!(
            "ruuvi-desk-ipc-{}-{call}-{cmd}.sqlite",
            std::process::id(),
        ));
        let _ = std::fs::remove_file(&db);
        let hub = tauri::async_runtime::block_on(async {
            let mut store = ruuvi_store::SqliteStore::open(&db).unwrap();
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
            ruuvi_hub::Hub::start(store, ruuvi_hub::HubOptions::default()).0
        });
        std::fs::create_dir_all(db.with_extension("dir")).unwrap();
        let feeds = crate::feeds::Feeds::new(
            hub,
            ruuvi_store::StoreLocation::Sqlite(db.clone()),
            true,
            &db.with_extension("dir"),
            crate::settings::AppSettings::default(),
            std::sync::Arc::new(ruuvi_secrets::Keychain::new("ruuvi-desk-ipc-test")),
        )
        .unwrap();
        prepare(&feeds);
        let app = super::builder(mock_builder())
            .manage(feeds)
            .build(mock_context(noop_assets()))
            .expect("mock app builds");
        let webview = tauri::WebviewWindowBuilder::new(&app, "main", Default::default())
            .build()
            .expect("mock webview builds");
        let reply = get_ipc_response(
            &webview,
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
        .map(|b| b.deserialize::<serde_json::Value>().unwrap());
        drop(webview);
        drop(app);
        for end in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{end}", db.display()));
        }
        let _ = std::fs::remove_dir_all(db.with_extension("dir"));
        reply
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
        let off = invoke("ble_status", serde_json::json!({})).unwrap();
        assert_eq!(off["state"], "off", "not scanning until switched on");
        let v = invoke_with("ble_status", serde_json::json!({}), |feeds| {
            feeds.ble.set(true)
        })
        .unwrap();
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
        assert_eq!(v["demo"], true);
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
        assert_eq!(v["points"][0]["at_ms"], 1_795_000_000_000i64);
        assert_eq!(v["points"][0]["readings"]["humidity_pct"], 53.49);
        let e = invoke(
            "series",
            serde_json::json!({"sensor": "nope", "fromMs": 0, "toMs": 1, "points": 10}),
        )
        .unwrap_err();
        assert_eq!(e["code"], "bad_sensor");
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
    fn the_capability_grants_exactly_the_registered_commands() {
        let file: serde_json::Value =
            serde_json::from_str(include_str!("../capabilities/default.json")).unwrap();
        let mut granted: Vec<String> = file["permissions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap().to_string())
            .collect();
        let mut wanted: Vec<String> = ["core:event:allow-listen", "core:event:allow-unlisten"]
            .iter()
            .map(|s| s.to_string())
            .chain(
                crate::COMMANDS
                    .iter()
                    .map(|c| format!("allow-{}", c.replace('_', "-"))),
            )
            .collect();
        granted.sort();
        wanted.sort();
        assert_eq!(granted, wanted);
        // Each named command is one the handler knows (an unknown one is refused by name).
        let unknown = invoke("no_such_command", serde_json::json!({})).unwrap_err();
        for command in crate::COMMANDS {
            if let Err(e) = invoke(command, serde_json::json!({})) {
                assert_ne!(
                    e.to_string().replace("no_such_command", command),
                    unknown.to_string(),
                    "{command} is not registered"
                );
            }
        }
    }
}
