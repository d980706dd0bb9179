//! The receiver with simulated gateways posting to it over real sockets on 127.0.0.1, and the
//! real hub and store behind it.

use parking_lot::RwLock;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use ruuvi_gateway::{ClientOptions, Credentials, Endpoint, GatewayClient};
use ruuvi_gw_sim::{Firmware, GatewayOptions, RunningGateway};
use ruuvi_hub::{Hub, HubOptions};
use ruuvi_pki::{
    certificate_der, server_config, ClientAllowList, ClientAuth, KeyAlgorithm, LocalCa,
    OffsetDateTime, SharedAllowList, Validity,
};
use ruuvi_protocol::MacAddress;
use ruuvi_receiver::{
    ExpectedAuth, GatewayPolicy, HmacCheck, Outcome, Policies, Receiver, ReceiverOptions,
    RunningReceiver, UnknownGateways,
};
use ruuvi_secrets::Sensitive;
use ruuvi_store::SqliteStore;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

mod common;
use common::ToHub;

struct Setup {
    hub: Hub,
    receiver: RunningReceiver,
    policies: Arc<RwLock<Policies>>,
    whitelist: Arc<parking_lot::Mutex<ruuvi_receiver::Whitelist>>,
}

impl Setup {
    fn receiver_whitelist(&self) -> &parking_lot::Mutex<ruuvi_receiver::Whitelist> {
        &self.whitelist
    }
}

async fn setup(tls: Option<Arc<rustls::ServerConfig>>, allowed: Option<SharedAllowList>) -> Setup {
    let (hub, _task) = Hub::start(
        SqliteStore::open_in_memory().unwrap(),
        HubOptions::default(),
    );
    let policies = Arc::new(RwLock::new(Policies::default()));
    let mut options = ReceiverOptions::new("127.0.0.1:0".parse().unwrap());
    options.tls = tls;
    options.allowed = allowed;
    options.max_body = 64 * 1024;
    options.header_timeout = Duration::from_secs(2);
    let whitelist = options.whitelist.clone();
    let receiver = Receiver::start(options, policies.clone(), Arc::new(ToHub(hub.clone())))
        .await
        .unwrap();
    Setup {
        hub,
        receiver,
        policies,
        whitelist,
    }
}

async fn gateway(fw: Firmware, index: u64) -> RunningGateway {
    let mut o = GatewayOptions::new("127.0.0.1:0".parse().unwrap(), fw);
    o.index = index;
    o.post_delay = Duration::from_millis(20);
    o.retry_after_failure = Duration::from_millis(200);
    o.api_key_rw = "RW".into();
    o.tags = 3;
    RunningGateway::start(o).await.unwrap()
}

async fn mac(gw: &RunningGateway) -> MacAddress {
    gw.identity().await.ble_mac
}

/// Points the gateway at the receiver with extra settings, through the real client.
async fn point(gw: &RunningGateway, url: &str, extra: serde_json::Value) {
    let mut c = GatewayClient::new(
        Endpoint::new("127.0.0.1", gw.addr.port()),
        Credentials::ApiKey(Sensitive::new("RW".into())),
        ClientOptions::default(),
    );
    let mut body = serde_json::json!({"use_http_ruuvi": false, "use_http": true, "http_url": url, "http_period": 1});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    c.post_config(body.as_object().unwrap()).await.unwrap();
}

/// Waits until the receive log of `gw` has an entry with this outcome kind.
async fn wait_for(s: &Setup, gw: MacAddress, pred: impl Fn(&Outcome) -> bool) -> Outcome {
    for _ in 0..100 {
        if let Some(r) = s
            .receiver
            .log
            .of(Some(gw))
            .into_iter()
            .find(|r| pred(&r.outcome))
        {
            return r.outcome;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no such post from {gw}: {:?}", s.receiver.log.of(Some(gw)));
}

/// Sets a gateway's policy (its MAC first: no lock is held across an await).
async fn set_policy(s: &Setup, gw: &RunningGateway, policy: GatewayPolicy) {
    let m = mac(gw).await;
    s.policies.write().gateways.insert(m, policy);
}

fn stored(o: &Outcome) -> bool {
    matches!(o, Outcome::Stored { .. })
}

fn url(addr: SocketAddr, scheme: &str) -> String {
    format!("{scheme}://127.0.0.1:{}/record", addr.port())
}

#[tokio::test(flavor = "multi_thread")]
async fn every_data_format_from_old_and_new_firmware_is_stored() {
    let s = setup(None, None).await;
    let cases = [
        (Firmware::V1_13, None),
        (Firmware::V1_14, Some("ruuvi")),
        (Firmware::Head, Some("ruuvi_raw_and_decoded")),
        (Firmware::Head, Some("ruuvi_decoded")),
    ];
    for (i, (fw, format)) in cases.into_iter().enumerate() {
        let gw = gateway(fw, i as u64).await;
        let extra = match format {
            Some(f) => serde_json::json!({"http_data_format": f}),
            None => serde_json::json!({}),
        };
        point(&gw, &url(s.receiver.addr, "http"), extra).await;
        let m = mac(&gw).await;
        assert_eq!(
            wait_for(&s, m, stored).await,
            Outcome::Stored { observations: 3 },
            "{fw} {format:?}"
        );
        gw.stop().await;
    }
    let sensors: std::collections::HashSet<_> = s.hub.latest().iter().map(|o| o.sensor).collect();
    assert_eq!(sensors.len(), 12, "three tags from each of four gateways");
    assert!(s
        .hub
        .latest()
        .iter()
        .all(|o| o.readings.temperature_c.is_some()));
}

#[tokio::test(flavor = "multi_thread")]
async fn each_auth_type_accepts_the_right_secret_only() {
    let s = setup(None, None).await;
    let cases: Vec<(serde_json::Value, ExpectedAuth)> = vec![
        (
            serde_json::json!({"http_auth": "basic", "http_user": "gw", "http_pass": "pw1"}),
            ExpectedAuth::Basic {
                user: "gw".into(),
                password: Sensitive::new("pw1".into()),
            },
        ),
        (
            serde_json::json!({"http_auth": "bearer", "http_bearer_token": "tok1"}),
            ExpectedAuth::Bearer(Sensitive::new("tok1".into())),
        ),
        (
            serde_json::json!({"http_auth": "token", "http_api_key": "key1"}),
            ExpectedAuth::Token(Sensitive::new("key1".into())),
        ),
        (
            serde_json::json!({"http_auth": "api_key", "http_api_key": "raw1"}),
            ExpectedAuth::ApiKey(Sensitive::new("raw1".into())),
        ),
    ];
    for (i, (settings, expected)) in cases.into_iter().enumerate() {
        let good = gateway(Firmware::Head, 10 + 2 * i as u64).await;
        let bad = gateway(Firmware::Head, 11 + 2 * i as u64).await;
        for gw in [&good, &bad] {
            set_policy(
                &s,
                gw,
                GatewayPolicy {
                    auth: expected.clone(),
                    ..GatewayPolicy::default()
                },
            )
            .await;
        }
        point(&good, &url(s.receiver.addr, "http"), settings.clone()).await;
        let mut wrong = settings.clone();
        for key in ["http_pass", "http_bearer_token", "http_api_key"] {
            if wrong.get(key).is_some() {
                wrong[key] = "wrong".into();
            }
        }
        point(&bad, &url(s.receiver.addr, "http"), wrong).await;
        wait_for(&s, mac(&good).await, stored).await;
        wait_for(&s, mac(&bad).await, |o| *o == Outcome::AuthFailed).await;
        assert!(!s
            .receiver
            .log
            .of(Some(mac(&bad).await))
            .iter()
            .any(|r| stored(&r.outcome)));
        good.stop().await;
        bad.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn hmac_signatures_are_verified_with_the_gateways_key() {
    let s = setup(None, None).await;
    let good = gateway(Firmware::Head, 30).await;
    let bad = gateway(Firmware::Head, 31).await;
    let device_id = good.identity().await.device_id_string();
    set_policy(
        &s,
        &good,
        GatewayPolicy {
            hmac: HmacCheck::Key(Sensitive::new(device_id)),
            ..GatewayPolicy::default()
        },
    )
    .await;
    set_policy(
        &s,
        &bad,
        GatewayPolicy {
            hmac: HmacCheck::Key(Sensitive::new("not its key".into())),
            ..GatewayPolicy::default()
        },
    )
    .await;
    point(&good, &url(s.receiver.addr, "http"), serde_json::json!({})).await;
    point(&bad, &url(s.receiver.addr, "http"), serde_json::json!({})).await;
    wait_for(&s, mac(&good).await, stored).await;
    wait_for(&s, mac(&bad).await, |o| *o == Outcome::BadSignature).await;
    good.stop().await;
    bad.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn mtls_per_gateway_with_the_certificate_issued_to_its_mac() {
    let now = OffsetDateTime::now_utc();
    let ca =
        LocalCa::generate("CA", KeyAlgorithm::EcdsaP256, Validity::days_from(now, 10)).unwrap();
    let server = ca
        .issue_server(
            &["localhost".into(), "127.0.0.1".into()],
            Validity::days_from(now, 10),
        )
        .unwrap();
    let allowed: SharedAllowList = Arc::new(RwLock::new(ClientAllowList::default()));
    let tls = server_config(
        &ca.cert_pem,
        &server.cert_pem,
        &server.key_pem,
        ClientAuth::Optional(allowed.clone()),
    )
    .unwrap();
    let s = setup(Some(Arc::new(tls)), Some(allowed.clone())).await;
    let owner = gateway(Firmware::Head, 40).await;
    let borrower = gateway(Firmware::Head, 41).await;
    let none = gateway(Firmware::Head, 42).await;
    // One certificate, issued to `owner`; `borrower` presents the same one.
    let owner_mac = mac(&owner).await.to_string();
    let cert = ca
        .issue_client(&owner_mac, Validity::days_from(now, 10))
        .unwrap();
    allowed
        .write()
        .allow(&certificate_der(&cert.cert_pem).unwrap(), &owner_mac);
    for gw in [&owner, &borrower, &none] {
        set_policy(
            &s,
            gw,
            GatewayPolicy {
                require_client_cert: true,
                ..GatewayPolicy::default()
            },
        )
        .await;
        let mut c = GatewayClient::new(
            Endpoint::new("127.0.0.1", gw.addr.port()),
            Credentials::ApiKey(Sensitive::new("RW".into())),
            ClientOptions::default(),
        );
        c.upload_file("http_srv_cert", &Sensitive::new(ca.cert_pem.clone()))
            .await
            .unwrap();
        if !std::ptr::eq(gw, &none) {
            c.upload_file("http_cli_cert", &Sensitive::new(cert.cert_pem.clone()))
                .await
                .unwrap();
            c.upload_file("http_cli_key", &cert.key_pem).await.unwrap();
        }
        let use_client = !std::ptr::eq(gw, &none);
        point(
            gw,
            &url(s.receiver.addr, "https"),
            serde_json::json!({"http_use_ssl_client_cert": use_client, "http_use_ssl_server_cert": true}),
        )
        .await;
    }
    wait_for(&s, mac(&owner).await, stored).await;
    wait_for(&s, mac(&borrower).await, |o| {
        *o == Outcome::ClientCertMismatch
    })
    .await;
    wait_for(&s, mac(&none).await, |o| *o == Outcome::ClientCertMissing).await;
    for gw in [owner, borrower, none] {
        gw.stop().await;
    }
}

async fn raw(addr: SocketAddr, request: &[u8]) -> String {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let _ = s.write_all(request).await;
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_input_is_refused_and_valid_posts_still_get_through() {
    let s = setup(None, None).await;
    s.policies.write().unknown = UnknownGateways::AcceptAsNew;
    let addr = s.receiver.addr;
    // Slow clients hold connections that never finish.
    let mut idle = Vec::new();
    for _ in 0..20 {
        let mut c = tokio::net::TcpStream::connect(addr).await.unwrap();
        c.write_all(b"POST /record HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        idle.push(c);
    }
    let big = format!(
        "POST /record HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
        10 << 20
    );
    assert!(raw(addr, big.as_bytes()).await.starts_with("HTTP/1.1 413"));
    let bad = b"POST /record HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n\r\n{\"data\":[";
    assert!(raw(addr, bad).await.starts_with("HTTP/1.1 400"));
    let wrong_types = br#"{"data": {"gw_mac": 5, "tags": "no"}}"#;
    let req = [
        format!(
            "POST /record HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
            wrong_types.len()
        )
        .as_bytes(),
        wrong_types,
    ]
    .concat();
    assert!(raw(addr, &req).await.starts_with("HTTP/1.1 400"));
    // A huge tag map within the size cap: parsed, bad tags skipped, nothing crashes.
    let mut tags = serde_json::Map::new();
    for i in 0..2000u32 {
        tags.insert(
            format!("AA:BB:CC:{:02X}:{:02X}:00", i >> 8, i & 0xFF),
            serde_json::json!({"rssi": -50, "data": "00"}),
        );
    }
    let huge =
        serde_json::json!({"data": {"gw_mac": "C8:25:2D:8E:9C:2C", "tags": tags}}).to_string();
    let req = [
        format!(
            "POST /record HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
            huge.len()
        )
        .as_bytes(),
        huge.as_bytes(),
    ]
    .concat();
    let answer = raw(addr, &req).await;
    assert!(
        answer.starts_with("HTTP/1.1 413") || answer.starts_with("HTTP/1.1 200"),
        "{answer}"
    );
    // Unknown gateways can be refused.
    s.policies.write().unknown = UnknownGateways::Reject;
    let gw = gateway(Firmware::Head, 50).await;
    point(&gw, &url(addr, "http"), serde_json::json!({})).await;
    wait_for(&s, mac(&gw).await, |o| *o == Outcome::UnknownGateway).await;
    // Accepted again, and a valid post goes through while the slow ones hang.
    s.policies.write().unknown = UnknownGateways::AcceptAsNew;
    wait_for(&s, mac(&gw).await, stored).await;
    drop(idle);
    gw.stop().await;
    s.receiver.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn hmac_key_rotation_and_rate_steering() {
    let s = setup(None, None).await;
    let gw = gateway(Firmware::Head, 60).await;
    let device_id = gw.identity().await.device_id_string();
    let m = mac(&gw).await;
    set_policy(
        &s,
        &gw,
        GatewayPolicy {
            hmac: HmacCheck::Rotating {
                device_id: Sensitive::new(device_id.clone()),
            },
            rate_s: Some(1),
            ..GatewayPolicy::default()
        },
    )
    .await;
    point(&gw, &url(s.receiver.addr, "http"), serde_json::json!({})).await;
    // The first post (device-id key) is answered with a new key; the gateway signs with it.
    let mut given = None;
    for _ in 0..100 {
        given = s.receiver.rotated_hmac_key(m);
        if given.is_some() && gw.state.lock().await.hmac_key != device_id {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let given = given.expect("a key was given");
    assert_eq!(gw.state.lock().await.hmac_key, *given.expose());
    let before = s.receiver.log.of(Some(m)).len();
    for _ in 0..100 {
        if s.receiver.log.of(Some(m)).len() > before + 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        s.receiver
            .log
            .of(Some(m))
            .iter()
            .all(|r| stored(&r.outcome)),
        "posts signed with the new key are accepted: {:?}",
        s.receiver.log.of(Some(m))
    );
    // A reboot: the gateway forgets the key and signs with its device id again.
    gw.state.lock().await.hmac_key = device_id.clone();
    for _ in 0..100 {
        if s.receiver.rotated_hmac_key(m).map(|k| k.expose().clone())
            != Some(given.expose().clone())
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_ne!(
        s.receiver.rotated_hmac_key(m).unwrap().expose(),
        given.expose(),
        "re-keyed"
    );
    assert!(s
        .receiver
        .log
        .of(Some(m))
        .iter()
        .all(|r| stored(&r.outcome)));
    gw.stop().await;

    // The rate rides on every 200.
    let body = serde_json::json!({"data": {"gw_mac": m.to_string(), "tags": {}}}).to_string();
    let answer = raw(
        s.receiver.addr,
        format!("POST /record HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nRuuvi-HMAC-SHA256: {}\r\n\r\n{body}", body.len(), ruuvi_protocol::signature::firmware_signature(device_id.as_bytes(), body.as_bytes())).as_bytes(),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer
            .to_ascii_lowercase()
            .contains("x-ruuvi-gateway-rate: 1"),
        "{answer}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn signed_gateway_api_posts_from_whitelisted_gateways_only() {
    let s = setup(None, None).await;
    let start = |index: u64| {
        let url = url(s.receiver.addr, "http");
        async move {
            let mut o = GatewayOptions::new("127.0.0.1:0".parse().unwrap(), Firmware::Head);
            o.index = index;
            o.tags = 2;
            o.post_delay = Duration::from_millis(20);
            o.retry_after_failure = Duration::from_millis(200);
            o.network_url = Some(url);
            RunningGateway::start(o).await.unwrap()
        }
    };
    let listed = start(70).await;
    let unlisted = start(71).await;
    let id = listed.identity().await;
    let secret =
        ruuvi_protocol::signature::network_secret(&id.device_id_string(), &id.ble_mac.to_string());
    let now_s = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    s.receiver_whitelist()
        .lock()
        .whitelist(id.ble_mac, Sensitive::new(secret.clone()), now_s);
    wait_for(&s, id.ble_mac, stored).await;
    wait_for(&s, mac(&unlisted).await, |o| *o == Outcome::NotWhitelisted).await;
    let entry = s
        .receiver_whitelist()
        .lock()
        .get(id.ble_mac)
        .cloned()
        .unwrap();
    assert!(entry.connected_at.is_some() && entry.latest_at.is_some());

    // A replayed and a tampered post, by hand.
    let body = format!(
        r#"{{"data": {{"timestamp": {now_s}, "gwmac": "{}", "tags": {{}}}}}}"#,
        id.ble_mac
    );
    let signed = |nonce: &str, body: &str, sig_body: &str| {
        let sig = ruuvi_protocol::signature::network_signature(
            &secret,
            nonce,
            &now_s.to_string(),
            sig_body.as_bytes(),
        );
        format!(
            "POST /record HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nx-ruuvi-timestamp: {now_s}\r\nx-ruuvi-nonce: {nonce}\r\nx-ruuvi-signature: {sig}\r\n\r\n{body}",
            body.len()
        )
    };
    let first = raw(s.receiver.addr, signed("n-1", &body, &body).as_bytes()).await;
    assert!(first.starts_with("HTTP/1.1 200"), "{first}");
    let replay = raw(s.receiver.addr, signed("n-1", &body, &body).as_bytes()).await;
    assert!(replay.starts_with("HTTP/1.1 409"), "{replay}");
    let tampered = body.replace("\"tags\"", "\"tags\" ");
    let bad = raw(s.receiver.addr, signed("n-2", &tampered, &body).as_bytes()).await;
    assert!(bad.starts_with("HTTP/1.1 401"), "{bad}");
    assert!(s
        .receiver_whitelist()
        .lock()
        .get(id.ble_mac)
        .unwrap()
        .invalid_signature_at
        .is_some());
    listed.stop().await;
    unlisted.stop().await;
}
