//! The app's feeds and hub: observations stored in the app's data directory; demo gateways
//! while no gateway is configured (the app has no gateway settings yet, so always); this
//! computer's Bluetooth. Every stored observation reaches the window as a `card` event.

use std::path::Path;

use ruuvi_hub::{Hub, HubOptions};
use ruuvi_store::Store;
use tauri::{AppHandle, Emitter, Runtime};

/// What commands read: the hub, the database (read through its own connections), and
/// whether demo gateways feed it.
pub struct Feeds {
    pub hub: Hub,
    pub db: std::path::PathBuf,
    pub demo: bool,
}

/// Opens the store under `data_dir`, starts the hub and the feeds, and forwards new
/// observations to the window. Must run inside the async runtime.
pub async fn start<R: Runtime>(app: AppHandle<R>, data_dir: &Path) -> Result<Feeds, String> {
    std::fs::create_dir_all(data_dir).map_err(|e| format!("{}: {e}", data_dir.display()))?;
    let db = data_dir.join("observations.sqlite");
    let store = Store::open(&db).map_err(|e| e.to_string())?;
    let (hub, _task) = Hub::start(store, HubOptions::default());
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
    // Demo gateways: started in the background so the window does not wait for them.
    let demo_hub = hub.clone();
    tauri::async_runtime::spawn(async move {
        match ruuvi_wiring::Demo::start(demo_hub, &ruuvi_demo::DemoOptions::default()).await {
            Ok(_running) => {
                // Held here for as long as the app runs.
                std::future::pending::<()>().await;
            }
            Err(e) => tracing::warn!("demo gateways did not start: {e}"),
        }
    });
    // This computer's Bluetooth, retried until an adapter appears.
    let (tx, rx) = tokio::sync::mpsc::channel(1024);
    let (status, _) = tokio::sync::watch::channel(ruuvi_ble::BleStatus::Starting);
    tauri::async_runtime::spawn(ruuvi_ble::scan(
        ruuvi_ble::ScanOptions::default(),
        tx,
        status,
    ));
    tauri::async_runtime::spawn(ruuvi_wiring::ble_to_hub(hub.clone(), rx));
    Ok(Feeds {
        hub,
        db,
        demo: true,
    })
}
