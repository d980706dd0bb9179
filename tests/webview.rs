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
        // No Downloads folder of the developer's: an export lands in the app's data folder.
        .env("XDG_CONFIG_HOME", data_home())
        // "Send data to this computer" starts the receiver: on loopback, on a free port.
        .env("RUUVI_DESK_RECEIVER_LISTEN", "127.0.0.1:0")
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

/// A real notification server (dunst) on the test's session bus, so the app's desktop
/// notifications can be read back with `dunstctl`.
fn start_notification_server() -> Driver {
    let child = Command::new("dunst")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("dunst starts (apt install dunst)");
    std::thread::sleep(Duration::from_millis(500));
    Driver(child)
}

/// Summaries of the notifications shown so far (closed into dunst's history first).
fn notifications() -> String {
    let _ = Command::new("dunstctl").arg("close-all").status();
    std::thread::sleep(Duration::from_millis(200));
    Command::new("dunstctl")
        .arg("history")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a display, a session bus, tauri-driver and WebKitWebDriver: run by `make test`"]
async fn a_session_in_the_window() -> WebDriverResult<()> {
    let _notifications = start_notification_server();
    let _driver = start_driver();
    let d = session().await?;
    let result = async {
        assert_eq!(d.title().await?, "Ruuvi Desk");
        // The version comes from Rust over IPC.
        let version = d.query(By::Css("[data-testid=version]")).first().await?;
        assert_eq!(version.text().await?, format!("v{}", env!("CARGO_PKG_VERSION")));
        // This machine has no Bluetooth: a calm chip says so; its popover has the words
        // `ruuvictl ble` uses.
        let ble = d.query(By::Css("[data-testid=ble-status]")).first().await?;
        assert_eq!(ble.attr("data-ble-state").await?.as_deref(), Some("unavailable"));
        assert_eq!(ble.text().await?, "Bluetooth: not available");
        ble.click().await?;
        let text = d
            .query(By::Css("[data-testid=ble-details]"))
            .first()
            .await?
            .text()
            .await?;
        assert!(text.starts_with("Bluetooth unavailable: connecting: "), "{text}");
        // Closed again, as a user would, before the cards under it are used.
        ble.click().await?;

        // A first start: the guided start, and the demo chosen from it. Simulated gateways
        // then feed the dashboard, labelled as demo data.
        d.query(By::Css("[data-testid=first-run]"))
            .wait(Duration::from_secs(15), Duration::from_millis(200))
            .first()
            .await?;
        d.find(By::Id("start-demo")).await?.click().await?;
        d.query(By::Css("[data-testid=demo-banner]"))
            .wait(Duration::from_secs(15), Duration::from_millis(200))
            .first()
            .await?;
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
        let sensor = d
            .find(By::Css(".card[data-kind=ruuvi_tag]"))
            .await?
            .attr("data-sensor")
            .await?
            .expect("a sensor");
        let id = sensor.replace(':', "");
        d.find(By::Css(format!(".card[data-sensor='{sensor}'] .open-chart")))
            .await?
            .click()
            .await?;
        d.query(By::Css("[data-testid=chart] canvas"))
            .wait(Duration::from_secs(15), Duration::from_millis(200))
            .first()
            .await?;
        if let Ok(dir) = std::env::var("RUUVI_DESK_SCREENSHOTS") {
            d.screenshot(&std::path::Path::new(&dir).join("webview-chart.png")).await?;
        }
        // Named and calibrated in the detail view: kept in the app's store, shown at once.
        d.find(By::Id("edit-sensor")).await?.click().await?;
        d.find(By::Id(format!("name-{id}")))
            .await?
            .send_keys("Sauna, lauteet")
            .await?;
        d.find(By::Id(format!("cal-temperature-{id}")))
            .await?
            .send_keys("-1.5")
            .await?;
        d.find(By::Id(format!("save-sensor-{id}"))).await?.click().await?;
        d.query(By::XPath(
            "//h2[@id='detail-title']/span[@class='name' and text()='Sauna, lauteet']",
        ))
        .wait(Duration::from_secs(10), Duration::from_millis(200))
        .first()
        .await?;
        d.query(By::Css(".identity .calibrated"))
            .wait(Duration::from_secs(10), Duration::from_millis(200))
            .first()
            .await?;
        // Its history as a CSV file, saved where the app says: named, measured and calibrated.
        d.find(By::Id("export-csv")).await?.click().await?;
        let said = d
            .query(By::Id("export-said"))
            .wait(Duration::from_secs(15), Duration::from_millis(200))
            .first()
            .await?
            .text()
            .await?;
        let path = said.split(" to ").nth(1).expect("a path");
        let csv = std::fs::read_to_string(path).expect("the saved file");
        assert!(csv.starts_with("sensor,received_at_ms,"), "{said}");
        let header: Vec<&str> = csv.lines().next().unwrap_or_default().split(',').collect();
        let last = csv.lines().last().unwrap_or_default().replace("\"Sauna, lauteet\"", "NAME");
        let cells: Vec<&str> = last.split(',').collect();
        let col = |n: &str| cells[header.iter().position(|h| *h == n).expect(n)];
        assert_eq!(col("name"), "NAME", "{last}");
        let measured: f64 = col("temperature_c").parse().expect("a number");
        let calibrated: f64 = col("temperature_c_calibrated").parse().expect("a number");
        assert!((calibrated - measured + 1.5).abs() < 1e-9, "{last}");
        d.find(By::XPath("//button[contains(., 'All sensors')]")).await?.click().await?;

        // The Gateways page in demo mode: find a simulated gateway, log in with the password
        // shown for it, and send its data to this computer's own (HTTPS) receiver.
        d.find(By::Id("nav-gateways")).await?.click().await?;
        d.find(By::Id("discover-mdns")).await?.click().await?;
        d.find(By::Id("discover-button")).await?.click().await?;
        let found = d
            .query(By::Css("#found-gateways li"))
            .wait(Duration::from_secs(15), Duration::from_millis(200))
            .first()
            .await?;
        assert!(found.text().await?.contains("Demo gateway 1"));
        found.find(By::Tag("button")).await?.click().await?;
        d.find(By::Id("login-button")).await?.click().await?;
        let mac = d
            .query(By::Id("gateway-mac"))
            .wait(Duration::from_secs(30), Duration::from_millis(200))
            .first()
            .await?
            .text()
            .await?;
        assert_eq!(mac.len(), 17, "{mac}");
        if let Ok(dir) = std::env::var("RUUVI_DESK_SCREENSHOTS") {
            d.screenshot(&std::path::Path::new(&dir).join("webview-gateways.png")).await?;
        }
        d.find(By::Id("send-here")).await?.click().await?;
        let result = d
            .query(By::Css("#apply-results li"))
            .wait(Duration::from_secs(90), Duration::from_millis(250))
            .first()
            .await?;
        assert_eq!(
            result.attr("data-state").await?.as_deref(),
            Some("applied"),
            "{}",
            result.text().await?
        );
        // The page reads the gateway's settings back: its own server is now this computer.
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let url = match d.find(By::Id("current-url")).await {
                Ok(e) => e.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            };
            if url.starts_with("https://127.0.0.1:") {
                break;
            }
            if Instant::now() > deadline {
                if let Ok(dir) = std::env::var("RUUVI_DESK_SCREENSHOTS") {
                    d.screenshot(&std::path::Path::new(&dir).join("webview-gateway-failed.png"))
                        .await?;
                }
                panic!("the own server is {url:?}, not this computer");
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        if let Ok(dir) = std::env::var("RUUVI_DESK_SCREENSHOTS") {
            d.screenshot(&std::path::Path::new(&dir).join("webview-gateway-sent.png")).await?;
        }
        // Its sensors keep arriving, now through the app's receiver.
        d.find(By::Id("nav-dashboard")).await?.click().await?;
        let source = format!("gateway {mac}");
        let card = d
            .query(By::XPath(format!("//*[@data-sensor][.//*[contains(@class,'source') and text()='{source}']]")))
            .wait(Duration::from_secs(30), Duration::from_millis(250))
            .first()
            .await?;
        let seen = card.attr("data-last-seen").await?;
        let sensor = card.attr("data-sensor").await?.expect("a sensor");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let now = d
                .find(By::Css(format!(".card[data-sensor='{sensor}']")))
                .await?
                .attr("data-last-seen")
                .await?;
            if now != seen {
                break;
            }
            assert!(Instant::now() < deadline, "no new observation from {sensor} in 30 s");
            tokio::time::sleep(Duration::from_millis(500)).await;
        }

        // The Receiver page lists the gateway with its rule and stored posts.
        d.find(By::Id("nav-receiver")).await?.click().await?;
        let stored = d
            .query(By::Css(format!(".receiver-gateway[data-gateway='{mac}'] tr[data-status='200']")))
            .wait(Duration::from_secs(30), Duration::from_millis(250))
            .first()
            .await?;
        assert!(stored.text().await?.contains("stored"));
        if let Ok(dir) = std::env::var("RUUVI_DESK_SCREENSHOTS") {
            d.screenshot(&std::path::Path::new(&dir).join("webview-receiver.png")).await?;
        }

        // The CA and the gateway's certificate the app issued for it.
        d.find(By::Id("nav-certificates")).await?.click().await?;
        d.query(By::Css(format!("#client-certs tr[data-gateway='{mac}']")))
            .wait(Duration::from_secs(15), Duration::from_millis(250))
            .first()
            .await?;
        assert!(d.find(By::Id("ca")).await?.text().await?.contains("Ruuvi Desk CA"));
        if let Ok(dir) = std::env::var("RUUVI_DESK_SCREENSHOTS") {
            d.screenshot(&std::path::Path::new(&dir).join("webview-certificates.png")).await?;
        }

        // An alert made on the Alerts page fires from the demo data: the banner says so.
        d.find(By::Id("nav-alerts")).await?.click().await?;
        d.query(By::Id("new-rule"))
            .wait(Duration::from_secs(10), Duration::from_millis(200))
            .first()
            .await?
            .click()
            .await?;
        d.find(By::Id("rule-name")).await?.send_keys("Window sauna").await?;
        d.find(By::Id("rule-threshold")).await?.send_keys("-100").await?;
        d.find(By::Id("rule-text")).await?.send_keys("ready").await?;
        d.find(By::Id("save-rule")).await?.click().await?;
        let banner = d
            .query(By::Css("[data-testid=alert-banner]"))
            .wait(Duration::from_secs(30), Duration::from_millis(250))
            .first()
            .await?
            .text()
            .await?;
        assert!(banner.contains("Ruuvi Temperature alert: Window sauna"), "{banner}");
        // And as a desktop notification: the seed's title, the rule's text as the body.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let shown = notifications();
            if shown.contains("\"Ruuvi Temperature alert: Window sauna\"") {
                assert!(shown.contains("\"ready\""), "{shown}");
                break;
            }
            assert!(Instant::now() < deadline, "no desktop notification: {shown}");
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        if let Ok(dir) = std::env::var("RUUVI_DESK_SCREENSHOTS") {
            d.screenshot(&std::path::Path::new(&dir).join("webview-alerts.png")).await?;
        }

        // Bluetooth switched off in Settings: kept in app.json, the header says so.
        d.find(By::Id("nav-settings")).await?.click().await?;
        d.query(By::Id("setting-bluetooth"))
            .wait(Duration::from_secs(10), Duration::from_millis(200))
            .first()
            .await?
            .click()
            .await?;
        d.find(By::Id("setting-keep-days")).await?.send_keys("30").await?;
        d.find(By::Id("save-data-settings")).await?.click().await?;
        d.query(By::Css("[data-testid=ble-status][data-ble-state=off]"))
            .wait(Duration::from_secs(10), Duration::from_millis(200))
            .first()
            .await?;
        let saved: serde_json::Value = serde_json::from_slice(
            &std::fs::read(data_home().join("com.ruuvidesk.desktop/app.json")).expect("app.json"),
        )
        .expect("JSON");
        assert_eq!(saved["bluetooth"], false);
        assert_eq!(saved["keep_days"], 30);
        assert_eq!(saved["receiver_enabled"], true);
        if let Ok(dir) = std::env::var("RUUVI_DESK_SCREENSHOTS") {
            d.screenshot(&std::path::Path::new(&dir).join("webview-settings.png")).await?;
        }

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
        let alert = d.query(By::Css("[role=alert][data-code]")).first().await?;
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
    let log =
        std::fs::read_to_string(data_home().join("com.ruuvidesk.desktop/logs/ruuvi-desk.log"))
            .unwrap_or_default();
    assert!(log.contains("Ruuvi Desk starting"), "log: {log}");
    assert!(log.contains("demo gateway posts to"), "log: {log}");
    assert!(log.contains("receiver listening"), "log: {log}");
    assert!(
        log.contains("tray: Receiving at https://127.0.0.1:"),
        "log: {log}"
    );
    result
}
