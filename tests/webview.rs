//! The real app in the real webview: tauri-driver + WebKitWebDriver drive the built binary.
//! Needs a display (Xvfb), `tauri-driver` and `WebKitWebDriver`, so it is ignored in a plain
//! `cargo test`; `make test` runs it under xvfb-run with `-- --ignored`.

use std::net::TcpStream;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use thirtyfour::prelude::*;

const DRIVER_PORT: u16 = 4444;

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn data_home() -> std::path::PathBuf {
    std::env::temp_dir().join(format!("ruuvi-desk-webview-{}", std::process::id()))
}

fn fresh_data_home() -> std::path::PathBuf {
    let dir = data_home();
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temporary data directory");
    dir
}

fn start_driver() -> Driver {
    fresh_data_home();
    let exe = std::env::var("TAURI_DRIVER").unwrap_or_else(|_| "tauri-driver".into());
    let child = Command::new(&exe)
        .args(["--port", &DRIVER_PORT.to_string()])
        // The app it starts sees no system bus, so no Bluetooth, whatever this machine has,
        // and keeps its data in a fresh directory (nothing left from an earlier run).
        .env("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/bus")
        .env("XDG_DATA_HOME", data_home())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot start {exe}: {e} (cargo install tauri-driver --locked)")
        });
    let driver = Driver(child);
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", DRIVER_PORT)).is_err() {
        assert!(
            Instant::now() < deadline,
            "tauri-driver did not listen on {DRIVER_PORT}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    driver
}

fn app_binary() -> String {
    std::env::var("RUUVI_DESK_BIN").unwrap_or_else(|_| {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/debug/ruuvi-desk");
        path.to_string_lossy().into_owned()
    })
}

async fn session() -> WebDriverResult<WebDriver> {
    let mut caps = Capabilities::new();
    caps.set("browserName", "wry")?;
    caps.set(
        "tauri:options",
        serde_json::json!({ "application": app_binary() }),
    )?;
    WebDriver::new(format!("http://127.0.0.1:{DRIVER_PORT}"), caps).await
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a display, tauri-driver and WebKitWebDriver: run by `make test`"]
async fn decoding_in_the_window() -> WebDriverResult<()> {
    let _driver = start_driver();
    let d = session().await?;
    let result = async {
        assert_eq!(d.title().await?, "Ruuvi Desk");
        // The version comes from Rust over IPC.
        let version = d.query(By::Css("[data-testid=version]")).first().await?;
        assert_eq!(version.text().await?, format!("v{}", env!("CARGO_PKG_VERSION")));
        // This machine has no Bluetooth: the window says so in the words `ruuvictl ble` uses.
        let ble = d.query(By::Css("[data-testid=ble-status]")).first().await?;
        assert_eq!(ble.attr("data-state").await?.as_deref(), Some("unavailable"));
        let text = ble.text().await?;
        assert!(text.starts_with("Bluetooth unavailable: connecting: "), "{text}");

        // Demo mode: simulated gateways feed the dashboard, labelled as demo data.
        d.query(By::Css("[data-testid=demo-banner]")).first().await?;
        let temperature = d
            .query(By::Css(".card[data-kind=ruuvi_tag] [data-key=temperature] .value"))
            .wait(Duration::from_secs(30), Duration::from_millis(200))
            .first()
            .await?;
        let value: f64 = temperature.text().await?.parse().expect("a number");
        assert!((-40.0..85.0).contains(&value), "{value}");
        d.query(By::Css(".card[data-kind=ruuvi_air] [data-key=iaqs] .value"))
            .wait(Duration::from_secs(30), Duration::from_millis(200))
            .first()
            .await?;
        if let Ok(dir) = std::env::var("RUUVI_DESK_SCREENSHOTS") {
            d.screenshot(&std::path::Path::new(&dir).join("webview-dashboard.png")).await?;
        }
        // A sensor's history, charted from the app's own store.
        d.find(By::Css(".card[data-kind=ruuvi_tag] .open-chart")).await?.click().await?;
        d.query(By::Css("[data-testid=chart] canvas"))
            .wait(Duration::from_secs(15), Duration::from_millis(200))
            .first()
            .await?;
        if let Ok(dir) = std::env::var("RUUVI_DESK_SCREENSHOTS") {
            d.screenshot(&std::path::Path::new(&dir).join("webview-chart.png")).await?;
        }
        d.find(By::XPath("//button[contains(., 'All sensors')]")).await?.click().await?;

        d.find(By::Id("nav-decoder")).await?.click().await?;
        let input = d.find(By::Id("hex-input")).await?;
        input.clear().await?;
        input
            .send_keys("2BFF9904E1161E526CC68B006E007200730074037610010C1D901E5CB6121314F8FFFFFFFFFFE375CF374E23030398FC")
            .await?;
        d.find(By::Id("decode-button")).await?.click().await?;
        let heading = d.query(By::Id("result-format")).with_text("Ruuvi Air extended (E1)").first().await?;
        assert!(heading.is_displayed().await?);
        let voc = d.find(By::Css("tr[data-key=VOC] td")).await?;
        assert_eq!(voc.text().await?, "33");
        let temperature = d.find(By::Css("tr[data-key=temperature] td")).await?;
        assert_eq!(temperature.text().await?, "28.31");
        if let Ok(dir) = std::env::var("RUUVI_DESK_SCREENSHOTS") {
            d.screenshot(&std::path::Path::new(&dir).join("webview-result.png")).await?;
        }

        // A bad input shows the backend's error, by code.
        input.clear().await?;
        input.send_keys("05FF").await?;
        d.find(By::Id("decode-button")).await?.click().await?;
        let alert = d.query(By::Css("[role=alert]")).first().await?;
        assert_eq!(alert.attr("data-code").await?.as_deref(), Some("wrong_length"));
        assert!(alert.text().await?.contains("needs 24 bytes"));
        if let Ok(dir) = std::env::var("RUUVI_DESK_SCREENSHOTS") {
            d.screenshot(&std::path::Path::new(&dir).join("webview-error.png")).await?;
        }
        Ok(())
    }
    .await;
    d.quit().await?;
    // The app logs to the platform's log directory.
    let log = std::fs::read_to_string(data_home().join("com.ruuvidesk.app/logs/ruuvi-desk.log"))
        .unwrap_or_default();
    assert!(log.contains("Ruuvi Desk starting"), "log: {log}");
    assert!(log.contains("demo gateway posts to"), "log: {log}");
    result
}
