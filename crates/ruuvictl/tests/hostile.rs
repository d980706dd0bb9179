//! `ruuvictl serve` (a debug build, as `make run` builds it) against a stranger on the network:
//! the real binary, real sockets on 127.0.0.0/8 (other loopback addresses stand in for other
//! hosts), the real keychain (tests/with-keychain.sh) and a simulated gateway posting through
//! it all. Nothing may stop the process, take memory without bound, fill the disk with logs or
//! lose a post that was answered 200.

use std::net::{IpAddr, SocketAddr};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ruuvi_gateway::{ClientOptions, Credentials, Endpoint, GatewayClient};
use ruuvi_gw_sim::{Firmware, GatewayOptions, RunningGateway};
use ruuvi_protocol::signature::{network_secret, network_signature};
use ruuvi_secrets::Sensitive;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpSocket;

mod common;

const DF5: &str = "0201061BFF99040515714D9FC56DFFF0FFF803E4B516E84D7EF41F0C28CBD6";
const GW: &str = "C8:25:2D:8E:9C:2C";

fn now_s() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

struct Server {
    serving: common::Serving,
    data: std::path::PathBuf,
    env: Vec<(String, std::ffi::OsString)>,
    receiver: SocketAddr,
    admin: SocketAddr,
    internal: String,
}

impl Server {
    fn env(&self) -> Vec<(&str, &std::ffi::OsStr)> {
        self.env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_os_str()))
            .collect()
    }

    fn pid(&self) -> u32 {
        self.serving.child.id()
    }

    fn running(&mut self) -> bool {
        self.serving.child.try_wait().unwrap().is_none()
    }

    async fn admin(&self, method: &str, path: &str, body: &str) -> (u16, String) {
        common::http(
            self.admin,
            method,
            path,
            &[("X-Internal-Secret", &self.internal)],
            body,
        )
        .await
    }

    /// One value of `/metrics` (0 when the line is missing).
    async fn metric(&self, line_start: &str) -> u64 {
        let (_, text) = self.admin("GET", "/metrics", "").await;
        text.lines()
            .find_map(|l| l.strip_prefix(line_start))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .map_or(0, |v| v as u64)
    }
}

/// `ruuvictl serve --http` with the Internal API, in a data directory and keychain service of
/// its own; `extra_env` is added to its environment.
fn start(name: &str, extra_env: &[(&str, &str)], receiver_json: Option<&str>) -> Server {
    let data = std::env::temp_dir().join(format!("ruuvictl-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    std::fs::create_dir_all(&data).unwrap();
    if let Some(rules) = receiver_json {
        std::fs::write(data.join("receiver.json"), rules).unwrap();
    }
    let service = format!("com.ruuvidesk.test.{name}.{}", std::process::id());
    let mut env: Vec<(String, std::ffi::OsString)> = vec![
        ("RUUVI_DESK_DATA_DIR".into(), data.clone().into()),
        ("RUUVI_DESK_KEYCHAIN_SERVICE".into(), service.into()),
    ];
    for (k, v) in extra_env {
        env.push((k.to_string(), v.into()));
    }
    let env_refs: Vec<(&str, &std::ffi::OsStr)> = env
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_os_str()))
        .collect();
    // Secrets the rules name, before the start.
    let set = |name: &str, value: &str| {
        let out = common::ruuvictl_with(&["secret", "set", name], &env_refs, Some(value));
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    if receiver_json.is_some_and(|r| r.contains("AA:00:00:00:00:09")) {
        set("receiver-auth/AA:00:00:00:00:09", "the-right-token");
    }
    let serving = common::spawn_serve(
        &[
            "serve",
            "--http",
            "--listen",
            "127.0.0.1:0",
            "--admin",
            "127.0.0.1:0",
        ],
        &env_refs,
        Stdio::null(),
    );
    let (receiver, admin) = (serving.addr("listening"), serving.addr("admin"));
    let out = common::ruuvictl_with(
        &["secret", "get", "internal-api-secret/internal", "--show"],
        &env_refs,
        None,
    );
    let internal = String::from_utf8(out.stdout).unwrap().trim().to_string();
    Server {
        serving,
        data,
        env,
        receiver,
        admin,
        internal,
    }
}

fn signed_request(secret: &str, timestamp: &str, nonce: &str, tag: &str) -> String {
    let body = serde_json::json!({"data": {"coordinates": "", "timestamp": now_s(), "gw_mac": GW,
        "tags": {tag: {"rssi": -60, "timestamp": now_s(), "data": DF5}}}})
    .to_string();
    let sig = network_signature(secret, nonce, timestamp, body.as_bytes());
    format!(
        "POST /record HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nx-ruuvi-timestamp: {timestamp}\r\nx-ruuvi-nonce: {nonce}\r\nx-ruuvi-signature: {sig}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// Sends `request` from `from` (closing the sending side after it when `then_close`) and
/// returns the status (0: closed without an answer).
async fn exchange_from(from: IpAddr, to: SocketAddr, request: &[u8], then_close: bool) -> u16 {
    let Ok(socket) = TcpSocket::new_v4() else {
        return 0;
    };
    if socket.bind(SocketAddr::new(from, 0)).is_err() {
        return 0;
    }
    let Ok(mut s) = socket.connect(to).await else {
        return 0;
    };
    let _ = s.write_all(request).await;
    if then_close {
        let _ = s.shutdown().await;
    }
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out)
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

async fn send_from(from: IpAddr, to: SocketAddr, request: &[u8]) -> u16 {
    exchange_from(from, to, request, false).await
}

async fn whitelist(server: &Server) -> String {
    let secret = network_secret("00:11:22:33:44:55:66:77", GW);
    let body = serde_json::json!({"macAddress": GW, "secret": secret}).to_string();
    assert_eq!(server.admin("POST", "/whitelist", &body).await.0, 200);
    secret
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs an unlocked keychain: make test runs it in tests/with-keychain.sh"]
async fn a_crafted_signed_timestamp_does_not_stop_serve() {
    let mut server = start("crafted", &[], None);
    let secret = whitelist(&server).await;
    let local: IpAddr = "127.0.0.1".parse().unwrap();
    // -(2^63 - 1): `(t - now).abs()` overflowed on it, panicking with the whitelist locked;
    // every later signed post and the saver (every 2 s) then panicked and the process exited.
    let crafted = signed_request(
        &secret,
        "-9223372036854775807",
        "crafted",
        "AA:BB:CC:00:00:01",
    );
    assert_eq!(
        send_from(local, server.receiver, crafted.as_bytes()).await,
        401
    );
    // Past two rounds of the saver, still running and answering.
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert!(server.running(), "ruuvictl serve exited");
    let ok = signed_request(&secret, &now_s().to_string(), "valid", "AA:BB:CC:00:00:02");
    assert_eq!(send_from(local, server.receiver, ok.as_bytes()).await, 200);
    assert_eq!(
        server
            .metric("ruuvi_receiver_posts_total{outcome=\"bad_timestamp\"}")
            .await,
        1
    );
    // The saver wrote the refusal into gwinfo's state.
    let saved: serde_json::Value =
        serde_json::from_slice(&std::fs::read(server.data.join("network.json")).unwrap()).unwrap();
    assert!(
        saved["whitelist"][0]["invalid_signature_at"].is_number(),
        "{saved}"
    );
    assert!(server.running());
}

/// VmRSS of a process, kB.
fn rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Bytes of every `ruuvictl.log*` file.
fn log_bytes(data: &std::path::Path) -> (u64, usize) {
    let mut total = 0;
    let mut files = 0;
    for e in std::fs::read_dir(data.join("logs")).unwrap().flatten() {
        if e.file_name().to_string_lossy().starts_with("ruuvictl.log") {
            total += e.metadata().unwrap().len();
            files += 1;
        }
    }
    (total, files)
}

/// The hostile requests, one kind per number (nine kinds); each returns how it was answered.
async fn hostile(kind: u64, from: IpAddr, to: SocketAddr, secret: &str) -> u16 {
    let post = |headers: &str, body: &str| {
        format!(
            "POST /record HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n{headers}Connection: close\r\n\r\n{body}",
            body.len()
        )
    };
    let gw_body = |gw: &str| {
        serde_json::json!({"data": {"gw_mac": gw, "tags": {"AA:BB:CC:DD:EE:FF": {"rssi": -1, "data": DF5}}}})
            .to_string()
    };
    match kind % 9 {
        // Not JSON, or not a gateway document.
        0 => send_from(from, to, post("", "{\"data\": [1, 2").as_bytes()).await,
        1 => send_from(from, to, post("", "{\"data\": {\"gw_mac\": 5}}").as_bytes()).await,
        // The gateway that needs a bearer token, without the right one.
        2 => {
            let body = gw_body("AA:00:00:00:00:09");
            send_from(
                from,
                to,
                post("Authorization: Bearer guess\r\n", &body).as_bytes(),
            )
            .await
        }
        // Declared too large.
        3 => {
            send_from(
                from,
                to,
                b"POST /record HTTP/1.1\r\nHost: x\r\nContent-Length: 104857600\r\n\r\n{",
            )
            .await
        }
        // Signed form with a crafted or a stale timestamp, or a bad signature.
        4 => {
            let t =
                ["-9223372036854775807", "9223372036854775807", "1", "x"][(kind / 8 % 4) as usize];
            let request = signed_request(secret, t, &format!("n{kind}"), "AA:BB:CC:00:00:09");
            send_from(from, to, request.as_bytes()).await
        }
        5 => {
            let mut request = signed_request(
                secret,
                &now_s().to_string(),
                &format!("m{kind}"),
                "AA:BB:CC:00:00:0A",
            );
            request = request.replace("x-ruuvi-signature: ", "x-ruuvi-signature: 00");
            send_from(from, to, request.as_bytes()).await
        }
        // A body cut short (the sender closes its side).
        6 => {
            let request =
                b"POST /record HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n{\"data\":";
            exchange_from(from, to, request, true).await
        }
        // Now and then a real body near the 1 MiB cap: not a gateway document.
        7 if kind % 63 == 7 => {
            let body = format!("[{}0]", "0,".repeat(450 * 1024));
            send_from(from, to, post("", &body).as_bytes()).await
        }
        // Not HTTP at all.
        _ => {
            send_from(
                from,
                to,
                b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n",
            )
            .await
        }
    }
}

/// 10,000+ malformed, unauthenticated, oversized, crafted and slow requests from eight
/// addresses while a simulated gateway posts: the server stays up, its memory and logs stay
/// bounded, and every post of the gateway is stored.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs an unlocked keychain: make test runs it in tests/with-keychain.sh"]
async fn ten_thousand_hostile_requests_while_a_gateway_posts() {
    const LOG_CAP: u64 = 64 * 1024;
    const LOG_FILES: usize = 3;
    let mut server = start(
        "flood",
        &[
            // Every post and refusal at debug level, to show the files' cap holds.
            ("RUST_LOG", "debug"),
            ("RUUVI_DESK_LOG_MAX_BYTES", "65536"),
            ("RUUVI_DESK_LOG_FILES", "3"),
        ],
        Some(r#"{"unknown": "accept", "gateways": {"AA:00:00:00:00:09": {"auth": "bearer"}}}"#),
    );
    let secret = whitelist(&server).await;
    let pid = server.pid();

    // The well-behaved gateway: posts every second to the receiver.
    let mut o = GatewayOptions::new("127.0.0.1:0".parse().unwrap(), Firmware::Head);
    o.index = 11;
    o.tags = 4;
    o.post_delay = Duration::from_millis(20);
    o.retry_after_failure = Duration::from_millis(500);
    o.api_key_rw = "RW".into();
    o.config_mode = Duration::from_millis(200);
    o.config_mode_after_post = Duration::from_millis(200);
    let gw = RunningGateway::start(o).await.unwrap();
    let mut client = GatewayClient::new(
        Endpoint::new("127.0.0.1", gw.addr.port()),
        Credentials::ApiKey(Sensitive::new("RW".into())),
        ClientOptions::default(),
    );
    let url = format!("http://127.0.0.1:{}/record", server.receiver.port());
    let body = serde_json::json!({"use_http_ruuvi": false, "use_http": true, "http_url": url, "http_period": 1});
    client.post_config(body.as_object().unwrap()).await.unwrap();
    let started = Instant::now();
    while gw.state.lock().await.stats.custom_ok == 0 {
        assert!(started.elapsed() < Duration::from_secs(60), "no first post");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_before = rss_kb(pid);

    // Slow clients: 300 connections that send half a head and wait, from two addresses.
    let mut slow = Vec::new();
    for i in 0..300u32 {
        let from: IpAddr = format!("127.0.0.{}", 20 + i % 2).parse().unwrap();
        let socket = TcpSocket::new_v4().unwrap();
        socket.bind(SocketAddr::new(from, 0)).unwrap();
        if let Ok(mut s) = socket.connect(server.receiver).await {
            let _ = s.write_all(b"POST /record HTTP/1.1\r\nContent-Le").await;
            slow.push(s);
        }
    }
    // The flood: 10,400 requests from eight addresses, 32 at a time.
    let sent = Arc::new(AtomicU64::new(0));
    let answered = Arc::new(AtomicU64::new(0));
    let peak = Arc::new(AtomicU64::new(rss_before));
    let sampling = {
        let peak = peak.clone();
        tokio::spawn(async move {
            loop {
                peak.fetch_max(rss_kb(pid), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    };
    let flood_started = Instant::now();
    let mut workers = Vec::new();
    for w in 0..32u64 {
        let (sent, answered, secret, to) = (
            sent.clone(),
            answered.clone(),
            secret.clone(),
            server.receiver,
        );
        workers.push(tokio::spawn(async move {
            for i in 0..325u64 {
                let kind = w * 325 + i;
                let from: IpAddr = format!("127.0.0.{}", 2 + kind % 8).parse().unwrap();
                let status = hostile(kind, from, to, &secret).await;
                sent.fetch_add(1, Ordering::Relaxed);
                if status != 0 {
                    answered.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for w in workers {
        w.await.unwrap();
    }
    let flood_s = flood_started.elapsed().as_secs_f64();
    drop(slow);
    // Let the gateway post on for a few seconds after the flood.
    tokio::time::sleep(Duration::from_secs(4)).await;
    sampling.abort();
    let rss_after = rss_kb(pid);
    let rss_peak = peak.load(Ordering::Relaxed).max(rss_after);
    let sent = sent.load(Ordering::Relaxed);
    assert!(sent >= 10_000, "{sent}");
    assert!(server.running(), "ruuvictl serve exited during the flood");

    // Every post the gateway made was answered 200, i.e. committed first.
    let gw_mac = gw.identity().await.ble_mac.to_string();
    let state = gw.state.clone();
    gw.stop().await;
    let (ok, failed) = {
        let st = state.lock().await;
        (st.stats.custom_ok, st.stats.custom_failed)
    };
    assert_eq!(failed, 0, "the gateway had failed posts during the flood");
    let stored_posts = server
        .metric("ruuvi_receiver_posts_total{outcome=\"stored\"}")
        .await;
    assert!(ok >= 5, "only {ok} gateway posts");
    // (A post in flight when the gateway stopped may be stored without its 200 counted.)
    assert!(
        (ok..=ok + 1).contains(&stored_posts),
        "stored posts {stored_posts} vs the gateway's successful posts {ok}"
    );
    // …and its observations are in the store.
    let out = common::ruuvictl_with(&["export", "--format", "json"], &server.env(), None);
    let rows = common::json_lines(&out.stdout);
    let from_gateway = rows
        .iter()
        .filter(|r| r["feed"]["gateway"].as_str() == Some(gw_mac.as_str()))
        .count() as u64;
    let committed = server.metric("ruuvi_hub_stored_total ").await;
    assert!(from_gateway >= 4, "{from_gateway} rows from the gateway");
    assert!(from_gateway <= committed);
    // The refusals were refused, and counted.
    for outcome in [
        "bad_json",
        "auth_failed",
        "too_large",
        "bad_timestamp",
        "bad_signature",
        "truncated",
    ] {
        let n = server
            .metric(&format!(
                "ruuvi_receiver_posts_total{{outcome=\"{outcome}\"}}"
            ))
            .await;
        assert!(n > 0, "no {outcome} refusals counted");
    }
    // Memory: bounded (a peak well under a quarter of a GB) and given back.
    eprintln!(
        "flood: {sent} requests ({} answered) in {flood_s:.1} s; RSS before {} MB, peak {} MB, after {} MB; gateway posts stored {ok}, failed {failed}; gateway rows {from_gateway}",
        answered.load(Ordering::Relaxed),
        rss_before / 1024,
        rss_peak / 1024,
        rss_after / 1024
    );
    assert!(rss_peak < 256 * 1024, "peak RSS {rss_peak} kB");
    // Logs: rotated, and never more than the files' cap (plus one line each).
    let (bytes, files) = log_bytes(&server.data);
    eprintln!(
        "logs: {bytes} bytes in {files} files (cap {LOG_CAP} × {})",
        LOG_FILES + 1
    );
    assert!(files >= 2, "no rotation happened");
    assert!(files <= LOG_FILES + 1);
    assert!(bytes <= LOG_CAP * (LOG_FILES as u64 + 1) + 4096 * (LOG_FILES as u64 + 1));
    // Still answering a valid signed post.
    let valid = signed_request(&secret, &now_s().to_string(), "after", "AA:BB:CC:00:00:0B");
    assert_eq!(
        send_from(
            "127.0.0.1".parse().unwrap(),
            server.receiver,
            valid.as_bytes()
        )
        .await,
        200
    );
    assert!(server.running());
}
