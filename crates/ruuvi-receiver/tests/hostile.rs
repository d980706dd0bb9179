//! What a stranger on the network can send the receiver, over real sockets on 127.0.0.0/8
//! (other loopback addresses stand in for other hosts): crafted signed-form timestamps, a panic
//! while a lock is held, hundreds of idle connections from one or many peers, bodies that stop
//! short or arrive slowly, and more body bytes than memory allows. Each time a well-behaved
//! gateway (the simulator) must keep getting its posts stored.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::{Mutex, RwLock};
use ruuvi_gateway::{ClientOptions, Credentials, Endpoint, GatewayClient};
use ruuvi_gw_sim::{Firmware, GatewayOptions, RunningGateway};
use ruuvi_hub::{Hub, HubOptions};
use ruuvi_protocol::signature::{network_secret, network_signature};
use ruuvi_protocol::MacAddress;
use ruuvi_receiver::{
    MetricsText, Outcome, Policies, Receiver, ReceiverOptions, RunningReceiver, Whitelist,
};
use ruuvi_secrets::Sensitive;
use ruuvi_store::SqliteStore;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

mod common;
use common::ToHub;

struct Setup {
    hub: Hub,
    receiver: RunningReceiver,
    whitelist: Arc<Mutex<Whitelist>>,
}

async fn setup(change: impl FnOnce(&mut ReceiverOptions)) -> Setup {
    let (hub, _task) = Hub::start(
        SqliteStore::open_in_memory().unwrap(),
        HubOptions::default(),
    );
    let mut options = ReceiverOptions::new("127.0.0.1:0".parse().unwrap());
    change(&mut options);
    let whitelist = options.whitelist.clone();
    let receiver = Receiver::start(
        options,
        Arc::new(RwLock::new(Policies::default())),
        Arc::new(ToHub(hub.clone())),
    )
    .await
    .unwrap();
    Setup {
        hub,
        receiver,
        whitelist,
    }
}

fn now_s() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

const GW: &str = "C8:25:2D:8E:9C:2C";
const DEVICE_ID: &str = "00:11:22:33:44:55:66:77";
const DF5: &str = "0201061BFF99040515714D9FC56DFFF0FFF803E4B516E84D7EF41F0C28CBD6";

/// Whitelists `GW` and returns its signing secret.
fn whitelist(s: &Setup) -> String {
    let secret = network_secret(DEVICE_ID, GW);
    s.whitelist
        .lock()
        .whitelist(GW.parse().unwrap(), Sensitive::new(secret.clone()), now_s());
    secret
}

fn body(tag: &str) -> String {
    format!(
        r#"{{"data": {{"timestamp": {}, "gw_mac": "{GW}", "tags": {{"{tag}": {{"rssi": -60, "timestamp": {}, "data": "{DF5}"}}}}}}}}"#,
        now_s(),
        now_s()
    )
}

/// A signed Gateway API post with this timestamp header and a signature made for it.
fn signed(secret: &str, timestamp: &str, nonce: &str, body: &str) -> String {
    let sig = network_signature(secret, nonce, timestamp, body.as_bytes());
    format!(
        "POST /record HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nx-ruuvi-timestamp: {timestamp}\r\nx-ruuvi-nonce: {nonce}\r\nx-ruuvi-signature: {sig}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// Sends `request` on a new connection and returns the answer ("" when the connection was
/// closed without one).
async fn raw(addr: SocketAddr, request: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let _ = s.write_all(request).await;
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

fn stored_in_hub(s: &Setup, tag: &str) -> bool {
    let tag: MacAddress = tag.parse().unwrap();
    s.hub.latest().iter().any(|o| o.sensor == tag)
}

#[tokio::test(flavor = "multi_thread")]
async fn crafted_timestamps_are_refused_and_signed_posts_keep_working() {
    let s = setup(|_| {}).await;
    let secret = whitelist(&s);
    let addr = s.receiver.addr;
    // The ends of i64 (and just inside them): `(t - now).abs()` overflowed here once, which
    // panicked with the whitelist locked (debug) or let the post through the window (release).
    for (i, t) in [
        "-9223372036854775807",
        "-9223372036854775808",
        "9223372036854775807",
        "99999999999999999999",
        " 1 ",
    ]
    .iter()
    .enumerate()
    {
        let tag = format!("AA:00:00:00:00:{i:02X}");
        let answer = raw(
            addr,
            signed(&secret, t, &format!("x{i}"), &body(&tag)).as_bytes(),
        )
        .await;
        assert!(answer.starts_with("HTTP/1.1 401"), "{t}: {answer:?}");
        assert!(!stored_in_hub(&s, &tag), "{t} was stored");
    }
    // The receiver still answers, and a valid signed post is stored.
    let now = now_s().to_string();
    let answer = raw(
        addr,
        signed(&secret, &now, "ok-1", &body("AA:00:00:00:01:01")).as_bytes(),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer:?}");
    assert!(stored_in_hub(&s, "AA:00:00:00:01:01"));
    let outcomes: Vec<Outcome> = s
        .receiver
        .log
        .of(Some(GW.parse().unwrap()))
        .into_iter()
        .map(|r| r.outcome)
        .collect();
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| **o == Outcome::BadTimestamp)
            .count(),
        5,
        "{outcomes:?}"
    );
    s.receiver.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_panic_while_the_whitelist_is_locked_stops_nothing() {
    let s = setup(|_| {}).await;
    let secret = whitelist(&s);
    // Some code panics while it holds the whitelist (a std lock would be poisoned now, and
    // every later signed post, the saver and /metrics would panic on it).
    let held = s.whitelist.clone();
    let panicked = std::thread::spawn(move || {
        let _guard = held.lock();
        panic!("a bug while the whitelist is locked");
    })
    .join();
    assert!(panicked.is_err());
    let now = now_s().to_string();
    let answer = raw(
        s.receiver.addr,
        signed(&secret, &now, "after-panic", &body("AA:00:00:00:02:01")).as_bytes(),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer:?}");
    let mut metrics = MetricsText::default();
    s.receiver.metrics().write(&mut metrics);
    assert!(metrics
        .finish()
        .contains("ruuvi_receiver_whitelisted_gateways 1"));
    s.receiver.stop().await;
}

/// A connection from `from` (another loopback address stands in for another host) that sends
/// the start of a request head and then nothing.
async fn idle_from(from: IpAddr, to: SocketAddr) -> Option<TcpStream> {
    let socket = TcpSocket::new_v4().ok()?;
    socket.bind(SocketAddr::new(from, 0)).ok()?;
    let mut c = socket.connect(to).await.ok()?;
    c.write_all(b"POST /record HTTP/1.1\r\nHost: x\r\n")
        .await
        .ok()?;
    Some(c)
}

/// Whether the receiver still holds this connection open (a closed one reads EOF at once).
async fn still_open(c: &mut TcpStream) -> bool {
    let mut b = [0u8; 1];
    tokio::time::timeout(Duration::from_millis(1), c.read(&mut b))
        .await
        .is_err()
}

/// Points a simulated gateway at the receiver, posting every second.
async fn gateway_posting_to(addr: SocketAddr) -> RunningGateway {
    let mut o = GatewayOptions::new("127.0.0.1:0".parse().unwrap(), Firmware::Head);
    o.index = 90;
    o.post_delay = Duration::from_millis(20);
    o.retry_after_failure = Duration::from_millis(200);
    o.api_key_rw = "RW".into();
    o.tags = 3;
    let gw = RunningGateway::start(o).await.unwrap();
    let mut c = GatewayClient::new(
        Endpoint::new("127.0.0.1", gw.addr.port()),
        Credentials::ApiKey(Sensitive::new("RW".into())),
        ClientOptions::default(),
    );
    let url = format!("http://127.0.0.1:{}/record", addr.port());
    let body = serde_json::json!({"use_http_ruuvi": false, "use_http": true, "http_url": url, "http_period": 1});
    c.post_config(body.as_object().unwrap()).await.unwrap();
    gw
}

/// The gateway's (ok, failed) post counts.
async fn posts(gw: &RunningGateway) -> (u64, u64) {
    let st = gw.state.lock().await;
    (st.stats.custom_ok, st.stats.custom_failed)
}

/// Six seconds of the gateway posting every second: at least four more posts, no new failure.
async fn gateway_keeps_posting(gw: &RunningGateway, failed_before: u64) {
    let (ok_before, _) = posts(gw).await;
    tokio::time::sleep(Duration::from_secs(6)).await;
    let (ok, failed) = posts(gw).await;
    assert!(
        ok >= ok_before + 4,
        "gateway posts went on: {ok_before} → {ok}"
    );
    assert_eq!(failed, failed_before, "no gateway post failed");
}

#[tokio::test(flavor = "multi_thread")]
async fn idle_connections_from_one_or_many_peers_do_not_starve_a_gateway() {
    // The defaults: 512 in all, 64 per peer; a long header time so idle ones stay.
    let s = setup(|o| o.header_timeout = Duration::from_secs(60)).await;
    let addr = s.receiver.addr;
    let gw = gateway_posting_to(addr).await;
    // The gateway's config read pauses it for a while; wait for its first stored post.
    let first = tokio::time::Instant::now();
    while posts(&gw).await.0 == 0 {
        assert!(first.elapsed() < Duration::from_secs(90), "no first post");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // One host opens 600 idle connections and keeps them.
    let flooder: IpAddr = "127.0.0.66".parse().unwrap();
    let mut flood = Vec::new();
    for _ in 0..600 {
        if let Some(c) = idle_from(flooder, addr).await {
            flood.push(c);
        }
    }
    assert_eq!(
        flood.len(),
        600,
        "every connect succeeded (the kernel accepts them)"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut open = 0;
    for c in &mut flood {
        open += usize::from(still_open(c).await);
    }
    assert_eq!(open, 64, "one peer holds its share, no more");
    let (connections, _) = s.receiver.connections();
    assert!(connections <= 64 + 1, "{connections}");
    let failed_before = posts(&gw).await.1;
    gateway_keeps_posting(&gw, failed_before).await;

    // Many hosts: 10 more addresses with 60 each fill the 512 in all; the gateway's next
    // connection still gets in (the busiest peer makes room), and all its posts succeed.
    for host in 67..77 {
        let from: IpAddr = format!("127.0.0.{host}").parse().unwrap();
        for _ in 0..60 {
            if let Some(c) = idle_from(from, addr).await {
                flood.push(c);
            }
        }
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (connections, peers) = s.receiver.connections();
    assert!(connections <= 512 + 2, "{connections} connections");
    assert!(peers >= 11, "{peers} peers");
    gateway_keeps_posting(&gw, failed_before).await;
    // Every post the gateway made was stored.
    let gw_mac = gw.identity().await.ble_mac;
    let log = s.receiver.log.of(Some(gw_mac));
    assert!(log
        .iter()
        .all(|r| matches!(r.outcome, Outcome::Stored { .. })));
    drop(flood);
    gw.stop().await;
    s.receiver.stop().await;
}

fn metric(s: &Setup, line_start: &str) -> u64 {
    let mut m = MetricsText::default();
    s.receiver.metrics().write(&mut m);
    m.finish()
        .lines()
        .find_map(|l| l.strip_prefix(line_start))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map_or(0, |v| v as u64)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_body_that_stops_short_is_truncated_not_too_large() {
    let s = setup(|o| o.body_timeout = Duration::from_secs(1)).await;
    let addr = s.receiver.addr;
    let body = body("AA:00:00:00:03:01");
    // The sender closes its side before the declared length: 400, counted as truncated.
    let mut c = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /record HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
        body.len() + 100
    );
    c.write_all(head.as_bytes()).await.unwrap();
    c.write_all(body.as_bytes()).await.unwrap();
    c.shutdown().await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), c.read_to_end(&mut out)).await;
    let answer = String::from_utf8_lossy(&out);
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer:?}");
    // The sender stalls: 408 when the body time runs out, also truncated.
    let mut c = TcpStream::connect(addr).await.unwrap();
    c.write_all(head.as_bytes()).await.unwrap();
    c.write_all(&body.as_bytes()[..10]).await.unwrap();
    let mut out = vec![0u8; 256];
    let n = tokio::time::timeout(Duration::from_secs(5), c.read(&mut out))
        .await
        .unwrap()
        .unwrap();
    let answer = String::from_utf8_lossy(&out[..n]);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer:?}");
    assert_eq!(
        metric(&s, "ruuvi_receiver_posts_total{outcome=\"truncated\"}"),
        2
    );
    assert_eq!(
        metric(&s, "ruuvi_receiver_posts_total{outcome=\"too_large\"}"),
        0
    );
    assert!(!stored_in_hub(&s, "AA:00:00:00:03:01"));
    s.receiver.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn bodies_in_flight_are_bounded_and_freed() {
    // 64 KiB for all bodies at once; each slow sender holds 40 KiB of a 50 KiB body.
    let s = setup(|o| {
        o.max_bodies_in_flight = 64 * 1024;
        o.body_timeout = Duration::from_secs(2);
    })
    .await;
    let addr = s.receiver.addr;
    let head = "POST /record HTTP/1.1\r\nHost: x\r\nContent-Length: 51200\r\n\r\n";
    let chunk = vec![b' '; 40 * 1024];
    let mut first = TcpStream::connect(addr).await.unwrap();
    first.write_all(head.as_bytes()).await.unwrap();
    first.write_all(&chunk).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut second = TcpStream::connect(addr).await.unwrap();
    second.write_all(head.as_bytes()).await.unwrap();
    second.write_all(&chunk).await.unwrap();
    let mut out = vec![0u8; 256];
    let n = tokio::time::timeout(Duration::from_secs(5), second.read(&mut out))
        .await
        .unwrap()
        .unwrap();
    let answer = String::from_utf8_lossy(&out[..n]);
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer:?}");
    assert!(answer.contains("retry-after: 5"), "{answer:?}");
    // When the first one's time is up its bytes are free again: a post gets through.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let body = body("AA:00:00:00:04:01");
    let post = format!(
        "POST /record HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let answer = raw(addr, post.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer:?}");
    assert!(stored_in_hub(&s, "AA:00:00:00:04:01"));
    drop((first, second));
    s.receiver.stop().await;
}
