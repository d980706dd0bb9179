//! The gateway `/history` feed as a user adds it (`gateways_poll`, the command the Gateways
//! page and `serve --poll` use), against simulated gateways and this computer's receiver over
//! real sockets on 127.0.0.1.

mod common;

use std::time::Duration;

use ruuvi_app::{api, Desk, DeskConfig};
use ruuvi_gw_sim::{Firmware, GatewayOptions, LanAuth, RunningGateway};
use ruuvi_store::ObservationStore;

/// A gateway anyone on the LAN may read (`lan_auth_allow`): no keychain needed here.
async fn open_gateway(index: u64) -> RunningGateway {
    let mut o = GatewayOptions::new("127.0.0.1:0".parse().unwrap(), Firmware::Head);
    o.index = index;
    o.tags = 3;
    o.post_delay = Duration::from_millis(50);
    o.lan_auth = Some((LanAuth::Allow, String::new(), String::new()));
    RunningGateway::start(o).await.unwrap()
}

fn config(dir: &std::path::Path) -> DeskConfig {
    let mut config = common::desk_config(dir, "ruuvi-app-poll-test");
    config.receiver.always_on = true;
    config
}

/// The body of `GET path` (an open gateway needs no login).
async fn get(addr: std::net::SocketAddr, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    s.write_all(request.as_bytes()).await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    out.split_once("\r\n\r\n").unwrap().1.to_string()
}

/// POSTs `body` to `url` (`http://host:port/path`); the status.
async fn post(url: &str, body: &str) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rest = url.trim_start_matches("http://");
    let (addr, path) = rest.split_once('/').unwrap();
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "POST /{path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(request.as_bytes()).await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    out.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_polled_gateway_feeds_the_hub_once_per_measurement_beside_its_posts() {
    let dir = std::env::temp_dir().join(format!("ruuvi-app-poll-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let desk = Desk::start(config(&dir)).await.unwrap();
    let receiver = desk.listening().await.receiver.unwrap();

    // Gateway A is polled, and its answers are also posted to our receiver as the gateway
    // would post them (the same document); gateway B is only polled.
    let posting = open_gateway(1).await;
    let polled_only = open_gateway(2).await;

    // A mistake is said at once and nothing is polled.
    let e = api::call(
        &desk,
        "gateways_poll",
        serde_json::json!({"endpoint": posting.addr.to_string(), "intervalS": 1}),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code, "bad_input", "{e}");
    for gw in [&posting, &polled_only] {
        let status = api::call(
            &desk,
            "gateways_poll",
            serde_json::json!({"endpoint": gw.addr.to_string(), "intervalS": 2}),
        )
        .await
        .unwrap();
        assert!(status["mac"].is_string(), "{status}");
    }

    // B's tags arrive through the poll and their cards say so.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let board = api::call(&desk, "dashboard", serde_json::json!({}))
            .await
            .unwrap();
        let polled = board["cards"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["source"].as_str().unwrap_or("").ends_with("(polled)"))
            .count();
        let polls = api::call(&desk, "gateways_polls", serde_json::json!({}))
            .await
            .unwrap();
        let answered = polls
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["report"]["polls"].as_u64().unwrap_or(0) >= 3);
        if polled >= 3 && answered {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{board} {polls}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // No gateway's settings were touched by the polls (no configuration mode, no POST).
    assert_eq!(
        polled_only.state.lock().await.config.str("http_url"),
        "https://network.ruuvi.com/record"
    );

    // Every measurement of A is stored once, though it came by POST and by poll.
    for _ in 0..3 {
        let document = get(posting.addr, "/history").await;
        assert_eq!(post(&receiver, &document).await, 200);
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    // The receiver took the three posts (9 observations) and the hub kept what it had.
    let taken = api::call(&desk, "receiver_status", serde_json::json!({}))
        .await
        .unwrap();
    assert_eq!(taken["observations"], 9, "{taken}");
    let stopped = api::call(
        &desk,
        "gateways_unpoll",
        serde_json::json!({"endpoint": posting.addr.to_string()}),
    )
    .await
    .unwrap();
    assert_eq!(stopped, true);
    desk.clone().stop().await;
    let mut store = ruuvi_store::SqliteStore::open(&dir.join("observations.sqlite")).unwrap();
    let rows = store.query(&ruuvi_store::Query::default()).unwrap();
    let mut seen = std::collections::HashSet::new();
    for o in &rows {
        let key = (o.sensor, o.readings.measurement_sequence);
        assert!(seen.insert(key), "stored twice: {key:?}");
    }
    assert!(rows.len() >= 6, "{} rows", rows.len());
    posting.stop().await;
    polled_only.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}
