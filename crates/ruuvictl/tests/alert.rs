//! `ruuvictl alert` and `serve --alert-webhook` as a user runs them: a rule added while `serve`
//! runs with demo gateways fires from their data and reaches a webhook on 127.0.0.1.

mod common;

use parking_lot::Mutex;
use std::ffi::OsStr;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{ruuvictl_with, spawn_serve};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rule_added_while_serving_fires_from_gateway_data_and_reaches_the_webhook() {
    let dir = std::env::temp_dir().join(format!("ruuvictl-alert-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let env: [(&str, &OsStr); 2] = [
        ("RUUVI_DESK_DATA_DIR", dir.as_os_str()),
        (
            "DBUS_SYSTEM_BUS_ADDRESS",
            OsStr::new("unix:path=/nonexistent/bus"),
        ),
    ];
    // Bad input is refused with a clear message.
    let bad = ruuvictl_with(
        &[
            "alert",
            "add",
            "--sensor",
            "C8:25:2D:8E:9C:2C",
            "--type",
            "Temperature",
            "--threshold",
            "1",
            "--unit",
            "hPa",
        ],
        &env,
        None,
    );
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("C, F, K"));

    // A webhook that answers 200 and keeps the bodies.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = format!("http://{}/hook", listener.local_addr().unwrap());
    let bodies = Arc::new(Mutex::new(Vec::<serde_json::Value>::new()));
    let kept = bodies.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 8192];
            loop {
                let n = s.read(&mut chunk).await.unwrap_or(0);
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
                let text = String::from_utf8_lossy(&buf).to_string();
                if let Some((_, body)) = text.split_once("\r\n\r\n") {
                    if let Ok(v) = serde_json::from_str(body) {
                        kept.lock().push(v);
                        break;
                    }
                }
            }
            let _ = s
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                .await;
        }
    });

    let serving = spawn_serve(
        &[
            "serve",
            "--http",
            "--listen",
            "127.0.0.1:0",
            "--no-admin",
            "--demo",
            "--alert-webhook",
            &hook,
        ],
        &env,
        Stdio::null(),
    );
    assert!(serving.url().starts_with("http://"));
    // A demo sensor, from what is stored.
    let deadline = Instant::now() + Duration::from_secs(30);
    let sensor = loop {
        let out = ruuvictl_with(&["export", "--format", "csv"], &env, None);
        let csv = String::from_utf8_lossy(&out.stdout).to_string();
        if let Some(line) = csv.lines().nth(1) {
            break line.split(',').next().unwrap().to_string();
        }
        assert!(Instant::now() < deadline, "no demo data within 30 s");
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    // Over -100 °C: the next post fires it (rules are picked up within 5 s).
    let added = ruuvictl_with(
        &[
            "alert",
            "add",
            "--sensor",
            &sensor,
            "--type",
            "temperature",
            "--trigger",
            "over",
            "--threshold",
            "-100",
            "--name",
            "Demo tag",
            "--text",
            "warm",
        ],
        &env,
        None,
    );
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let id: i64 = String::from_utf8_lossy(&added.stdout)
        .trim()
        .parse()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while bodies.lock().is_empty() {
        assert!(Instant::now() < deadline, "no webhook post within 30 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let p = bodies.lock()[0].clone();
    assert_eq!(
        p["notification"]["title"],
        "Ruuvi Temperature alert: Demo tag"
    );
    assert_eq!(p["notification"]["body"], "warm");
    assert_eq!(p["data"]["id"], sensor.as_str());
    assert_eq!(p["data"]["triggerType"], "Over");
    assert_eq!(p["data"]["thresholdValue"], "-100");
    let current: f64 = p["data"]["currentValue"].as_str().unwrap().parse().unwrap();
    assert!(current > -40.0 && current < 85.0, "{current}");
    // It fired once: the temperature stays over the threshold, the rule is not re-armed.
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(bodies.lock().len(), 1);

    let list = ruuvictl_with(&["alert", "list", "--json"], &env, None);
    let v: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(v["rules"][0]["id"], id);
    assert_eq!(v["history"].as_array().unwrap().len(), 1);
    assert_eq!(v["history"][0]["fired"]["rule_id"], id);
    // The test alert prints the payload.
    let test = ruuvictl_with(&["alert", "test", &id.to_string()], &env, None);
    let payload: serde_json::Value = serde_json::from_slice(&test.stdout).unwrap();
    assert_eq!(payload["data"]["currentValue"], "-100");
    assert!(
        ruuvictl_with(&["alert", "remove", &id.to_string()], &env, None)
            .status
            .success()
    );
    assert!(
        !ruuvictl_with(&["alert", "remove", &id.to_string()], &env, None)
            .status
            .success()
    );
    drop(serving);
    let _ = std::fs::remove_dir_all(&dir);
}
