//! `ruuvictl serve` and `ruuvictl export` as a user runs them: the real binary, real sockets on
//! 127.0.0.1, a real SQLite file; and what a `kill -9` of the server keeps.

use std::ffi::OsStr;
use std::process::{Command, Stdio};
use std::time::Duration;

use ruuvi_store::ObservationStore;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

mod common;
use common::Serving;

const DF5: &str = "0201061BFF99040515714D9FC56DFFF0FFF803E4B516E84D7EF41F0C28CBD6";

fn start(data: &std::path::Path) -> Serving {
    common::spawn_serve(
        &["serve", "--http", "--listen", "127.0.0.1:0", "--no-admin"],
        &[("RUUVI_DESK_DATA_DIR", data.as_os_str())],
        Stdio::null(),
    )
}

/// One gateway post with `n` tags whose MACs start at `first`; returns the HTTP status.
async fn post(url: &str, first: u32, n: u32) -> u16 {
    let addr = url
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_string();
    let mut tags = serde_json::Map::new();
    for i in first..first + n {
        tags.insert(
            format!(
                "AA:BB:{:02X}:{:02X}:{:02X}:01",
                i >> 16,
                (i >> 8) & 0xFF,
                i & 0xFF
            ),
            serde_json::json!({"rssi": -60, "timestamp": 1_795_000_000, "data": DF5}),
        );
    }
    let body = serde_json::json!({"data": {"coordinates": "", "timestamp": 1_795_000_000, "gw_mac": "C8:25:2D:8E:9C:2C", "tags": tags}}).to_string();
    let Ok(mut s) = tokio::net::TcpStream::connect(&addr).await else {
        return 0;
    };
    let req = format!(
        "POST /record HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    if s.write_all(req.as_bytes()).await.is_err() {
        return 0;
    }
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out)
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

fn export(data: &std::path::Path, format: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_ruuvictl"))
        .args(["export", "--format", format])
        .env("RUUVI_DESK_DATA_DIR", data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn posts_acknowledged_before_kill_9_are_all_stored() {
    let data = std::env::temp_dir().join(format!("ruuvictl-serve-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let mut server = start(&data);
    // Posts keep coming from four clients while the server is killed in the middle.
    let url = server.url();
    let mut senders = Vec::new();
    for c in 0..4u32 {
        let url = url.clone();
        senders.push(tokio::spawn(async move {
            let mut acked = Vec::new();
            for i in 0..400u32 {
                let first = (c * 400 + i) * 10;
                match post(&url, first, 10).await {
                    200 => acked.push(first),
                    0 => break, // the server is gone
                    other => panic!("status {other}"),
                }
            }
            acked
        }));
    }
    tokio::time::sleep(Duration::from_millis(700)).await;
    server.child.kill().unwrap(); // SIGKILL: no shutdown, no flush
    server.child.wait().unwrap();
    let mut acked = Vec::new();
    for s in senders {
        acked.extend(s.await.unwrap());
    }
    assert!(
        acked.len() > 20,
        "the server took posts before it was killed: {}",
        acked.len()
    );

    let lines = export(&data, "json");
    let stored: std::collections::HashSet<String> = lines
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["sensor"].as_str().unwrap().to_string()
        })
        .collect();
    for first in &acked {
        for i in *first..first + 10 {
            let mac = format!(
                "AA:BB:{:02X}:{:02X}:{:02X}:01",
                i >> 16,
                (i >> 8) & 0xFF,
                i & 0xFF
            );
            assert!(
                stored.contains(&mac),
                "{mac} was acknowledged but is not stored"
            );
        }
    }
    // Restarted on the same database, it goes on.
    let again = start(&data);
    assert_eq!(post(&again.url(), 1_000_000, 5).await, 200);
    let csv = export(&data, "csv");
    assert!(csv
        .lines()
        .next()
        .unwrap()
        .starts_with("sensor,received_at_ms"));
    assert!(csv.lines().count() > stored.len());
    drop(again);
    let _ = std::fs::remove_dir_all(&data);
}

/// The whole story with the CLI alone: a CA, the HTTPS receiver, a gateway pointed at it with a
/// client certificate issued for its MAC, our CA as its trust anchor, a bearer token and HMAC
/// checking — and its measurements in the export.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs an unlocked keychain: make test runs it in tests/with-keychain.sh"]
async fn a_gateway_posts_over_mtls_to_ruuvictl_serve() {
    let data = std::env::temp_dir().join(format!("ruuvictl-serve-mtls-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    std::fs::create_dir_all(&data).unwrap();
    let service = format!("com.ruuvidesk.test.serve.{}", std::process::id());
    let cli = |args: &[&str], env: &[(&str, &str)]| {
        let out = Command::new(env!("CARGO_BIN_EXE_ruuvictl"))
            .args(args)
            .env("RUUVI_DESK_DATA_DIR", &data)
            .env("RUUVI_DESK_KEYCHAIN_SERVICE", &service)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "ruuvictl {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let mut o = ruuvi_gw_sim::GatewayOptions::new(
        "127.0.0.1:0".parse().unwrap(),
        ruuvi_gw_sim::Firmware::Head,
    );
    o.api_key_rw = "RW".into();
    o.post_delay = Duration::from_millis(50);
    o.retry_after_failure = Duration::from_millis(500);
    o.tags = 2;
    // Its /metrics answers 302: the key is checked and the MAC (for --issue-client-cert)
    // learnt elsewhere.
    o.quirks.metrics = ruuvi_gw_sim::gateway::MetricsQuirk::Redirect;
    let gw = ruuvi_gw_sim::RunningGateway::start(o).await.unwrap();
    let id = gw.identity().await;
    let mac = id.ble_mac.to_string();

    let _ = cli(&["pki", "init"], &[]);
    // The receiver's policy for this gateway; its secrets in the keychain.
    std::fs::write(
        data.join("receiver.json"),
        serde_json::json!({"unknown": "reject", "gateways": {mac.clone(): {"auth": "bearer", "require_client_cert": true, "hmac": true, "rotate_hmac": true}}}).to_string(),
    )
    .unwrap();
    let set = |name: String, value: String| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ruuvictl"))
            .args(["secret", "set", &name])
            .env("RUUVI_DESK_DATA_DIR", &data)
            .env("RUUVI_DESK_KEYCHAIN_SERVICE", &service)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        use std::io::Write as _;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(value.as_bytes())
            .unwrap();
        assert!(child.wait().unwrap().success());
    };
    set(format!("receiver-auth/{mac}"), "mtls-bearer".into());
    set(format!("hmac-key/{mac}"), id.device_id_string());

    let start_serve = |listen: &str| {
        let server = common::spawn_serve(
            &["serve", "--listen", listen, "--admin", "127.0.0.1:0"],
            &[
                ("RUUVI_DESK_DATA_DIR", data.as_os_str()),
                ("RUUVI_DESK_KEYCHAIN_SERVICE", OsStr::new(&service)),
            ],
            Stdio::null(),
        );
        let url = server.url();
        (server, url)
    };
    let (server, url) = start_serve("127.0.0.1:0");
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");

    let pushed = cli(
        &[
            "gateway",
            "config",
            "set-http",
            &gw.addr.to_string(),
            "--api-key",
            "--ruuvi-cloud",
            "off",
            "--url",
            &url,
            "--auth",
            "bearer",
            "--interval",
            "1",
            "--issue-client-cert",
            "--our-ca",
            "--json",
        ],
        &[
            ("RUUVI_GATEWAY_API_KEY", "RW"),
            ("RUUVI_HTTP_SECRET", "mtls-bearer"),
        ],
    );
    assert!(pushed.contains("\"applied\""), "{pushed}");

    let mut rows = 0;
    for _ in 0..60 {
        let csv = cli(&["export", "--format", "csv"], &[]);
        rows = csv.lines().filter(|l| l.contains(&mac)).count();
        if rows >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let log = std::fs::read_to_string(data.join("logs/ruuvictl.log")).unwrap_or_default();
    let tail: Vec<&str> = log.lines().rev().take(15).collect();
    assert!(
        rows >= 2,
        "the gateway's posts were accepted and stored: {tail:#?}"
    );
    drop(server);
    gw.stop().await;
    let _ = std::fs::remove_dir_all(&data);
}

/// The Internal API of `ruuvictl serve` as an operator uses it: secrets made on first start
/// and read with `ruuvictl secret get`; a gateway whitelisted and its signed posts accepted;
/// gwinfo, sensors and plans kept across a restart (secrets in the keychain, not the file); a
/// plan's maxHistoryDays / maxResolutionMinutes trimming the stored history; `/metrics`.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs an unlocked keychain: make test runs it in tests/with-keychain.sh"]
async fn internal_api_state_survives_a_restart_and_its_plan_trims_history() {
    use ruuvi_protocol::signature::{network_secret, network_signature};
    let data = std::env::temp_dir().join(format!("ruuvictl-admin-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    std::fs::create_dir_all(&data).unwrap();
    let service = format!("com.ruuvidesk.test.admin.{}", std::process::id());
    let env = [
        ("RUUVI_DESK_DATA_DIR", data.as_os_str()),
        (
            "RUUVI_DESK_KEYCHAIN_SERVICE",
            std::ffi::OsStr::new(&service),
        ),
    ];
    const DAY_MS: i64 = 86_400_000;
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    // Three days of history, one observation per sensor every 10 s, written before the start.
    {
        let mut store = ruuvi_store::SqliteStore::open(&data.join("observations.sqlite")).unwrap();
        let rows: Vec<ruuvi_protocol::Observation> = (0..3 * DAY_MS / 10_000)
            .map(|i| ruuvi_protocol::Observation {
                sensor: "AA:BB:CC:00:00:01".parse().unwrap(),
                feed: ruuvi_protocol::Feed::Ble,
                received_at_ms: now_ms - 3 * DAY_MS + i * 10_000,
                seen_at_s: None,
                rssi: Some(-70),
                format: Some(ruuvi_protocol::DataFormat::Df5),
                readings: ruuvi_protocol::Readings {
                    temperature_c: Some(21.0),
                    measurement_sequence: Some(i as u32),
                    ..Default::default()
                },
            })
            .collect();
        store.insert(&rows).unwrap();
    }
    let start = || {
        let serving = common::spawn_serve(
            &[
                "serve",
                "--http",
                "--listen",
                "127.0.0.1:0",
                "--admin",
                "127.0.0.1:0",
            ],
            &env,
            Stdio::null(),
        );
        let (receiver, admin) = (serving.addr("listening"), serving.addr("admin"));
        (serving, receiver, admin)
    };
    let secret = |name: &str| {
        let out = common::ruuvictl_with(&["secret", "get", name, "--show"], &env, None);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    let gw = "C8:25:2D:8E:9C:2C";
    let gw_secret = network_secret("00:11:22:33:44:55:66:77", gw);
    let signed_post = |receiver: std::net::SocketAddr, nonce: &'static str| {
        let body = serde_json::json!({"data": {"coordinates": "", "timestamp": now_ms / 1000, "gw_mac": gw, "tags": {"F4:1F:0C:28:CB:D6": {"rssi": -60, "timestamp": now_ms / 1000, "data": DF5}}}}).to_string();
        let ts = (std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs())
        .to_string();
        let sig = network_signature(&gw_secret, nonce, &ts, body.as_bytes());
        async move {
            common::http(
                receiver,
                "POST",
                "/record",
                &[
                    ("Content-Type", "application/json"),
                    ("x-ruuvi-timestamp", &ts),
                    ("x-ruuvi-nonce", nonce),
                    ("x-ruuvi-signature", &sig),
                ],
                &body,
            )
            .await
            .0
        }
    };

    let (server, receiver, admin) = start();
    let internal = secret("internal-api-secret/internal");
    let shop = secret("internal-api-secret/shop");
    assert_eq!(internal.len(), 48, "made on first start");
    let call = |method: &'static str, path: String, body: String, shop_secret: Option<String>| {
        let internal = internal.clone();
        async move {
            let mut headers = vec![("X-Internal-Secret", internal.as_str())];
            if let Some(s) = &shop_secret {
                headers.push(("X-Shop-Secret", s.as_str()));
            }
            let (status, body) = common::http(admin, method, &path, &headers, &body).await;
            (
                status,
                serde_json::from_str::<serde_json::Value>(&body).unwrap_or_default(),
            )
        }
    };
    assert_eq!(
        signed_post(receiver, "n1").await,
        403,
        "not whitelisted yet"
    );
    let whitelisted = serde_json::json!({"macAddress": gw, "secret": gw_secret}).to_string();
    assert_eq!(
        call("POST", "/whitelist".into(), whitelisted, None).await.0,
        200
    );
    assert_eq!(signed_post(receiver, "n2").await, 200);
    let sensor =
        serde_json::json!({"macAddress": "F4:1F:0C:28:CB:D6", "secret": "SENSOR-SECRET-77"});
    assert_eq!(
        call("POST", "/register-sensor".into(), sensor.to_string(), None)
            .await
            .0,
        200
    );
    let gwinfo = || call("GET", format!("/gwinfo?gateway={gw}"), String::new(), None);
    let before = gwinfo().await.1["data"]["gateway"].clone();
    assert!(before["Connected"].is_number(), "{before}");

    // A plan: two days of history, 15-minute resolution beyond the last 24 hours.
    let plan = serde_json::json!({"validDays": 30, "maxClaims": 1, "maxHistoryDays": 2, "maxResolutionMinutes": 15, "claimCode": "CLAIM-CODE-4242"});
    let (status, _) = call(
        "POST",
        "/subscription-register".into(),
        plan.to_string(),
        Some(shop),
    )
    .await;
    assert_eq!(status, 200);
    let history = || {
        let mut store = ruuvi_store::SqliteStore::open(&data.join("observations.sqlite")).unwrap();
        let mut q = |from: i64, to: i64| {
            store
                .query(&ruuvi_store::Query {
                    sensor: Some("AA:BB:CC:00:00:01".parse().unwrap()),
                    from_ms: Some(from),
                    to_ms: Some(to),
                    limit: None,
                })
                .unwrap()
                .len()
        };
        let expired = q(0, now_ms - 2 * DAY_MS);
        let thinned = q(
            now_ms - 2 * DAY_MS + 15 * 60_000,
            now_ms - DAY_MS - 15 * 60_000,
        );
        let recent = q(now_ms - DAY_MS + 60_000, now_ms);
        (expired, thinned, recent)
    };
    let mut seen = history();
    for _ in 0..50 {
        if seen.0 == 0 && seen.1 < 100 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        seen = history();
    }
    let (older, day2, day3) = seen;
    assert_eq!(older, 0, "older than maxHistoryDays: deleted");
    assert!(
        (90..=96).contains(&day2),
        "one per 15 minutes on day 2: {day2}"
    );
    assert!(day3 > 8_000, "the last 24 hours at full resolution: {day3}");

    let metrics = common::http(
        admin,
        "GET",
        "/metrics",
        &[("Authorization", &format!("Bearer {internal}"))],
        "",
    )
    .await;
    assert_eq!(metrics.0, 200);
    assert!(
        metrics
            .1
            .contains("ruuvi_receiver_posts_total{outcome=\"stored\"} 1\n"),
        "{}",
        metrics.1
    );
    assert!(metrics
        .1
        .contains("ruuvi_receiver_posts_total{outcome=\"not_whitelisted\"} 1\n"));
    let trimmed: f64 = metrics
        .1
        .lines()
        .find_map(|l| l.strip_prefix("ruuvi_hub_trimmed_total "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(trimmed > 17_000.0, "{trimmed}");

    // Stopped like a service manager does, while a scraper keeps its connection open; it
    // must still stop promptly. Then started again on the same directory and keychain.
    let mut scraper = tokio::net::TcpStream::connect(admin).await.unwrap();
    let keep_alive = format!(
        "GET /metrics HTTP/1.1\r\nHost: {admin}\r\nAuthorization: Bearer {internal}\r\n\r\n"
    );
    scraper.write_all(keep_alive.as_bytes()).await.unwrap();
    let mut first = [0u8; 12];
    scraper.read_exact(&mut first).await.unwrap();
    assert_eq!(&first, b"HTTP/1.1 200");
    let mut server = server;
    let pid = server.child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let stopped = std::time::Instant::now();
    while server.child.try_wait().unwrap().is_none() {
        assert!(
            stopped.elapsed() < Duration::from_secs(3),
            "serve did not stop within 3 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(scraper);
    drop(server);
    let saved = std::fs::read_to_string(data.join("network.json")).unwrap();
    for secret in [
        gw_secret.as_str(),
        "SENSOR-SECRET-77",
        "CLAIM-CODE-4242",
        internal.as_str(),
    ] {
        assert!(!saved.contains(secret), "a secret in network.json: {saved}");
    }
    let (_server, receiver, admin2) = start();
    let admin = admin2;
    let call = |path: String| {
        let internal = internal.clone();
        async move {
            let (status, body) =
                common::http(admin, "GET", &path, &[("X-Internal-Secret", &internal)], "").await;
            (
                status,
                serde_json::from_str::<serde_json::Value>(&body).unwrap_or_default(),
            )
        }
    };
    let after = call(format!("/gwinfo?gateway={gw}")).await.1["data"]["gateway"].clone();
    assert_eq!(after["Whitelisted"], before["Whitelisted"], "{after}");
    assert_eq!(after["Connected"], before["Connected"]);
    assert_eq!(
        signed_post(receiver, "n3").await,
        200,
        "the gateway's secret came back from the keychain"
    );
    assert_eq!(secret(&format!("hmac-key/network.{gw}")), gw_secret);
    let _ = std::fs::remove_dir_all(&data);
}
