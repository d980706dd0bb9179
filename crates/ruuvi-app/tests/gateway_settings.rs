//! The Gateways page's firmware and housekeeping areas as a user runs them through the command
//! table (the window and `ruuvictl serve --ui` call the same): the update server set, what it
//! offers, a rolling update of two gateways with progress events, automatic updates set and
//! undone, time and place, and statistics sent to a server of the test's own with Basic auth.
//! Simulated gateways with their factory login (the device id as password, not remembered: no
//! keychain needed); real sockets on 127.0.0.1 only.

mod common;

use common::call;

use std::time::Duration;

use ruuvi_app::{api, Desk, DeskConfig, Event};
use ruuvi_gw_sim::{Firmware, GatewayOptions, RunningGateway};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn config(dir: &std::path::Path) -> DeskConfig {
    common::desk_config(dir, "ruuvi-app-settings-test")
}

async fn open_gateway(index: u64) -> RunningGateway {
    let mut o = GatewayOptions::new("127.0.0.1:0".parse().unwrap(), Firmware::V1_17_2);
    o.index = index;
    o.tags = 2;
    o.post_delay = Duration::from_millis(50);
    o.lan_auth = None;
    o.stats_first = Duration::from_millis(300);
    o.stats_period = Duration::from_millis(300);
    RunningGateway::start(o).await.unwrap()
}

/// Answers every request: `/firmwareupdate` lists `v1.17.3` in this server's folder, whose
/// three files exist; any other path (statistics posts) gets 200 and is passed on.
async fn server() -> (u16, tokio::sync::mpsc::UnboundedReceiver<String>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut got = Vec::new();
                let mut buf = [0u8; 4096];
                while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => got.extend_from_slice(&buf[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&got).into_owned();
                let path = head.split(' ').nth(1).unwrap_or("").to_string();
                let body = if path == "/firmwareupdate" {
                    format!(
                        r#"{{"latest": {{"version": "v1.17.3", "url": "http://127.0.0.1:{port}/v1.17.3"}}}}"#
                    )
                } else {
                    "ok".to_string()
                };
                let _ = s
                    .write_all(
                        format!(
                            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                            body.len()
                        )
                        .as_bytes(),
                    )
                    .await;
                let _ = tx.send(head);
            });
        }
    });
    (port, rx)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn firmware_schedule_time_and_statistics_on_two_gateways() {
    let dir = std::env::temp_dir().join(format!("ruuvi-app-settings-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (port, mut requests) = server().await;
    let gateways = [open_gateway(1).await, open_gateway(2).await];
    let endpoints: Vec<String> = gateways.iter().map(|g| g.addr.to_string()).collect();
    let desk = Desk::start(config(&dir)).await.unwrap();
    let mut events = desk.subscribe();
    for (e, g) in endpoints.iter().zip(&gateways) {
        let pw = g.identity().await.default_password();
        call(
            &desk,
            "gateways_login",
            json!({"request": {"endpoint": e, "password": pw}}),
        )
        .await;
    }

    // The update server, what it offers, and a rolling update one at a time.
    for e in &endpoints {
        call(
            &desk,
            "gateways_set_update_url",
            json!({"endpoint": e, "url": format!("http://127.0.0.1:{port}/firmwareupdate")}),
        )
        .await;
    }
    let offer = call(
        &desk,
        "gateways_firmware",
        json!({"endpoint": endpoints[0]}),
    )
    .await;
    assert_eq!(offer["newer"]["version"], "v1.17.3", "{offer}");
    assert_eq!(offer["running"], "v1.17.2");
    let updated = call(
        &desk,
        "gateways_update",
        json!({"endpoints": endpoints, "release": "latest", "atATime": 1}),
    )
    .await;
    for (r, e) in updated.as_array().unwrap().iter().zip(&endpoints) {
        assert_eq!(r["endpoint"], *e);
        assert_eq!(
            r["outcome"],
            json!({"state": "updated", "version": "v1.17.3"}),
            "{updated}"
        );
    }
    let mut percents = Vec::new();
    while let Ok(event) = events.try_recv() {
        if let Event::Step(step) = event {
            if step.endpoint == endpoints[1] {
                percents.push(step.percent);
            }
        }
    }
    assert!(
        percents.contains(&5) && percents.contains(&100),
        "{percents:?}"
    );
    assert!(percents.windows(2).all(|w| w[0] <= w[1]), "{percents:?}");
    let details = call(&desk, "gateways_details", json!({"endpoint": endpoints[1]})).await;
    assert_eq!(details["firmware"], "v1.17.3");
    let list = call(&desk, "gateways_list", json!({})).await;
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .all(|g| g["firmware"] == "v1.17.3"),
        "{list}"
    );

    // Automatic updates at night on weekends, then undone on one.
    let nights = json!({"cycle": "beta", "weekdays": 65, "from_hour": 1, "to_hour": 5, "tz_offset_hours": 2});
    // The preview lists what would change, and changes nothing.
    let preview = call(
        &desk,
        "gateways_preview_areas",
        json!({"endpoint": endpoints[0], "areas": {"auto_update": nights}}),
    )
    .await;
    let keys: Vec<&str> = preview["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["key"].as_str().unwrap())
        .collect();
    assert!(
        keys.contains(&"auto_update_cycle") && keys.contains(&"auto_update_tz_offset_hours"),
        "{preview}"
    );
    assert!(!keys.contains(&"mqtt_prefix"), "{preview}");
    assert_eq!(
        gateways[0]
            .state
            .lock()
            .await
            .config
            .str("auto_update_cycle"),
        "regular"
    );
    let applied = call(
        &desk,
        "gateways_apply_auto_update",
        json!({"endpoints": endpoints, "schedule": nights}),
    )
    .await;
    assert!(
        applied
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["state"]["state"] == "applied" && r["undoable"] == true),
        "{applied}"
    );
    assert_eq!(
        gateways[0]
            .state
            .lock()
            .await
            .config
            .str("auto_update_cycle"),
        "beta"
    );
    let undone = call(&desk, "gateways_undo", json!({"endpoint": endpoints[0]})).await;
    assert_eq!(undone["state"]["state"], "applied", "{undone}");
    assert_eq!(
        gateways[0]
            .state
            .lock()
            .await
            .config
            .str("auto_update_cycle"),
        "regular"
    );
    assert_eq!(
        gateways[1]
            .state
            .lock()
            .await
            .config
            .u64("auto_update_weekdays_bitmask"),
        65
    );
    let bad = api::call(
        &desk,
        "gateways_apply_auto_update",
        json!({"endpoints": [endpoints[0]], "schedule": {"cycle": "regular", "weekdays": 0, "from_hour": 0, "to_hour": 24, "tz_offset_hours": 0}}),
    )
    .await
    .unwrap();
    assert!(
        bad[0]["error"].as_str().unwrap().contains("weekday"),
        "{bad}"
    );

    // Time from DHCP and coordinates.
    let applied = call(
        &desk,
        "gateways_apply_time",
        json!({"endpoints": [endpoints[1]], "timePlace": {"clock": {"source": "dhcp"}, "coordinates": "60.17,24.94"}}),
    )
    .await;
    assert_eq!(applied[0]["state"]["state"], "applied", "{applied}");
    {
        let st = gateways[1].state.lock().await;
        assert!(st.config.bool("ntp_use_dhcp"));
        assert_eq!(st.config.str("coordinates"), "60.17,24.94");
    }

    // Statistics to our own server with Basic auth; the gateway posts them there.
    let applied = call(
        &desk,
        "gateways_apply_statistics",
        json!({"endpoints": [endpoints[0]], "form": {"target": {"url": format!("http://127.0.0.1:{port}/status"), "user": "stats", "password": "pw"}}}),
    )
    .await;
    assert_eq!(applied[0]["state"]["state"], "applied", "{applied}");
    let details = call(&desk, "gateways_details", json!({"endpoint": endpoints[0]})).await;
    assert_eq!(details["statistics"]["user"], "stats");
    let mut posted = None;
    for _ in 0..100 {
        match tokio::time::timeout(Duration::from_millis(200), requests.recv()).await {
            Ok(Some(head)) if head.starts_with("POST /status") => {
                posted = Some(head);
                break;
            }
            _ => {}
        }
    }
    let posted = posted.expect("a statistics post");
    // Basic c3RhdHM6cHc= is stats:pw.
    assert!(
        posted
            .to_ascii_lowercase()
            .contains("authorization: basic c3rhdhm6chc="),
        "{posted}"
    );
    // Every applied change can be undone: the statistics go back to Ruuvi's server.
    assert_eq!(applied[0]["undoable"], true);
    let undone = call(&desk, "gateways_undo", json!({"endpoint": endpoints[0]})).await;
    assert_eq!(undone["state"]["state"], "applied", "{undone}");
    assert_eq!(
        gateways[0].state.lock().await.config.str("http_stat_url"),
        "https://network.ruuvi.com/status"
    );
    // And an HTTP backend change.
    let applied = call(
        &desk,
        "gateways_apply",
        json!({"endpoints": [endpoints[1]], "form": {"ruuvi_cloud": false, "own_server": {"url": format!("http://127.0.0.1:{port}/record"), "data_format": "ruuvi", "period_s": 10, "auth": "none", "client_cert": {"kind": "none"}, "server_ca": {"kind": "builtin"}}}}),
    )
    .await;
    assert_eq!(applied[0]["state"]["state"], "applied", "{applied}");
    assert!(gateways[1].state.lock().await.config.bool("use_http"));
    let undone = call(&desk, "gateways_undo", json!({"endpoint": endpoints[1]})).await;
    assert_eq!(undone["state"]["state"], "applied", "{undone}");
    {
        let st = gateways[1].state.lock().await;
        assert!(!st.config.bool("use_http"));
        assert!(st.config.bool("use_http_ruuvi"));
    }

    for g in gateways {
        g.stop().await;
    }
    desk.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}
