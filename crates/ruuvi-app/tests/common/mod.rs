//! What the app-core integration tests share: a desk on loopback with Bluetooth, demo and
//! MQTT off, and a command call that names the command when it fails.
#![allow(dead_code)] // each test binary uses its own part

use std::path::Path;
use std::sync::Arc;

use ruuvi_app::{api, AppSettings, DemoConfig, Desk, DeskConfig, ReceiverConfig, SettingsSource};
use serde_json::Value;

/// A desk kept in `dir`, its secrets under the keychain service `keychain`; the receiver
/// (plain HTTP on a free loopback port) starts only when a gateway is set to post to it.
/// Tests change the fields they are about.
pub fn desk_config(dir: &Path, keychain: &str) -> DeskConfig {
    DeskConfig {
        data_dir: dir.to_path_buf(),
        database_dir: dir.to_path_buf(),
        keychain: Arc::new(ruuvi_secrets::Keychain::new(keychain)),
        settings: SettingsSource::Fixed(Box::new(AppSettings {
            bluetooth: false,
            ..AppSettings::default()
        })),
        receiver: ReceiverConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            https: false,
            path: "/record".into(),
            create_ca: false,
            always_on: false,
        },
        internal_api: None,
        ble: Default::default(),
        mqtt: Default::default(),
        demo: DemoConfig::Off,
        export_dir: dir.join("exports"),
        started: std::time::Instant::now(),
        clock: ruuvi_protocol::clock::system(),
        on_migration: None,
    }
}

/// The demo's simulated gateways posting to the receiver.
pub fn demo(gateways: usize, tags: usize, seed: u64) -> DemoConfig {
    DemoConfig::Always(ruuvi_demo::DemoOptions {
        gateways,
        tags,
        period_s: 1,
        seed,
    })
}

/// The command's reply; a failure panics with the command's name and error.
pub async fn call(desk: &Arc<Desk>, name: &str, args: Value) -> Value {
    match api::call(desk, name, args).await {
        Ok(v) => v,
        Err(e) => panic!("{name}: {e:?}"),
    }
}
