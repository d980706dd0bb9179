//! The Internal API over HTTP on loopback, with the receiver sharing its whitelist and a
//! simulated gateway posting the signed form.

use parking_lot::RwLock;
use std::sync::Arc;
use std::time::Duration;

use ruuvi_gw_sim::{Firmware, GatewayOptions, RunningGateway};
use ruuvi_hub::{Hub, HubOptions};
use ruuvi_receiver::{
    start_admin, AdminOptions, MetricsSource, MetricsText, Outcome, Policies, Receiver,
    ReceiverOptions,
};
use ruuvi_secrets::Sensitive;
use ruuvi_store::SqliteStore;
use serde_json::{json, Value};

mod common;
use common::ToHub;

#[tokio::test(flavor = "multi_thread")]
async fn whitelist_gwinfo_sensors_and_subscriptions() {
    let (hub, _task) = Hub::start(
        SqliteStore::open_in_memory().unwrap(),
        HubOptions::default(),
    );
    let options = ReceiverOptions::new("127.0.0.1:0".parse().unwrap());
    let whitelist = options.whitelist.clone();
    let receiver = Receiver::start(
        options,
        Arc::new(RwLock::new(Policies::default())),
        Arc::new(ToHub(hub)),
    )
    .await
    .unwrap();
    let metrics: MetricsSource = {
        let receiver = receiver.metrics();
        Arc::new(move || {
            let mut m = MetricsText::default();
            receiver.write(&mut m);
            m.finish()
        })
    };
    let admin = start_admin(
        AdminOptions {
            listen: "127.0.0.1:0".parse().unwrap(),
            internal_secret: Sensitive::new("internal-s3cret".into()),
            shop_secret: Some(Sensitive::new("shop-s3cret".into())),
            metrics: Some(metrics),
        },
        whitelist,
        Arc::default(),
    )
    .await
    .unwrap();
    let base = format!("http://{}", admin.addr);
    let http = reqwest::Client::new();
    let call = |method: reqwest::Method,
                path: &str,
                body: Option<Value>,
                internal: &str,
                shop: Option<&str>| {
        let mut r = http
            .request(method, format!("{base}{path}"))
            .header("X-Internal-Secret", internal.to_string());
        if let Some(shop) = shop {
            r = r.header("X-Shop-Secret", shop.to_string());
        }
        if let Some(b) = body {
            r = r
                .header("Content-Type", "application/json")
                .body(b.to_string());
        }
        async move {
            let resp = r.send().await.unwrap();
            let status = resp.status().as_u16();
            let v: Value =
                serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap_or(Value::Null);
            (status, v)
        }
    };
    let get = reqwest::Method::GET;
    let post = reqwest::Method::POST;

    assert_eq!(
        call(
            get.clone(),
            "/gwinfo?gateway=AA:BB:CC:DD:EE:FF",
            None,
            "wrong",
            None
        )
        .await
        .0,
        401
    );

    let mut o = GatewayOptions::new("127.0.0.1:0".parse().unwrap(), Firmware::Head);
    o.index = 80;
    o.tags = 2;
    o.post_delay = Duration::from_millis(20);
    o.retry_after_failure = Duration::from_millis(200);
    o.network_url = Some(format!("http://{}/record", receiver.addr));
    let gw = RunningGateway::start(o).await.unwrap();
    let id = gw.identity().await;
    let mac = id.ble_mac.to_string();
    let secret = ruuvi_protocol::signature::network_secret(&id.device_id_string(), &mac);

    let (status, listed) = call(
        post.clone(),
        "/whitelist",
        Some(json!({"macAddress": mac.to_lowercase(), "secret": secret})),
        "internal-s3cret",
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(listed, json!([{"gateway": mac, "blockedAt": null}]));

    let mut info = Value::Null;
    for _ in 0..150 {
        let (status, v) = call(
            get.clone(),
            &format!("/gwinfo?gateway={mac}"),
            None,
            "internal-s3cret",
            None,
        )
        .await;
        assert_eq!(status, 200);
        if v["data"]["gateway"]["Latest"].is_number() {
            info = v;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let g = &info["data"]["gateway"];
    assert_eq!(info["result"], "success", "{info}");
    assert_eq!(g["GatewayId"], mac);
    assert!(g["Whitelisted"].is_number() && g["Connected"].is_number());
    assert!(receiver
        .log
        .of(Some(id.ble_mac))
        .iter()
        .any(|r| matches!(r.outcome, Outcome::Stored { .. })));
    let (status, v) = call(
        get.clone(),
        "/gwinfo?gateway=11:22:33:44:55:66",
        None,
        "internal-s3cret",
        None,
    )
    .await;
    assert_eq!((status, v["result"].as_str()), (404, Some("error")));

    let (status, _) = call(
        post.clone(),
        "/register-sensor",
        Some(json!({"macAddress": "F4:1F:0C:28:CB:D6", "secret": "DE:AD:BE:EF:00:11:22:33"})),
        "internal-s3cret",
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert!(admin
        .registry
        .lock()
        .sensors
        .contains_key(&"F4:1F:0C:28:CB:D6".parse().unwrap()));

    let plan = json!({"validDays": 365, "maxClaims": 5, "maxHistoryDays": 30, "maxResolutionMinutes": 5, "claimCode": "ABC"});
    assert_eq!(
        call(
            post.clone(),
            "/subscription-register",
            Some(plan.clone()),
            "internal-s3cret",
            None
        )
        .await
        .0,
        401
    );
    assert_eq!(
        call(
            post.clone(),
            "/subscription-register",
            Some(json!({"validDays": 1})),
            "internal-s3cret",
            Some("shop-s3cret")
        )
        .await
        .0,
        400
    );
    let (status, v) = call(
        post,
        "/subscription-register",
        Some(plan),
        "internal-s3cret",
        Some("shop-s3cret"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        v["data"]["maxShares"], 50,
        "maxClaims × maxSharesPerSensor (10)"
    );
    assert_eq!(v["data"]["subscriptionName"], "Ultimate");
    assert_eq!(v["data"]["claimCode"], "ABC");
    {
        let registry = admin.registry.lock();
        let active = registry.active_plan(i64::MAX / 2);
        assert!(active.is_none(), "expired after validDays");
        let plan = registry.active_plan(v["data"]["registeredAt"].as_i64().unwrap());
        assert_eq!(plan.map(|p| p.max_history_days), Some(30));
        assert_eq!(registry.version, 2, "one sensor, one plan");
    }

    // Prometheus: the internal secret as a bearer token; the signed posts are counted.
    let metrics = |auth: &str| {
        http.get(format!("{base}/metrics"))
            .header("Authorization", format!("Bearer {auth}"))
            .send()
    };
    assert_eq!(metrics("wrong").await.unwrap().status(), 401);
    let page = metrics("internal-s3cret").await.unwrap();
    assert_eq!(page.status(), 200);
    let text = page.text().await.unwrap();
    let stored: f64 = text
        .lines()
        .find_map(|l| l.strip_prefix("ruuvi_receiver_posts_total{outcome=\"stored\"} "))
        .unwrap_or_else(|| panic!("{text}"))
        .parse()
        .unwrap();
    assert!(stored >= 1.0, "{text}");
    assert!(
        text.contains("ruuvi_receiver_whitelisted_gateways 1\n"),
        "{text}"
    );
    gw.stop().await;
    admin.stop().await;
    receiver.stop().await;
}

/// The Internal API may listen beyond loopback (`--admin`): one peer's idle connections and a
/// body that never arrives do not lock the operator out.
#[tokio::test(flavor = "multi_thread")]
async fn idle_and_slow_clients_do_not_lock_the_operator_out() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let admin = start_admin(
        AdminOptions {
            listen: "127.0.0.1:0".parse().unwrap(),
            internal_secret: Sensitive::new("internal-s3cret".into()),
            shop_secret: None,
            metrics: None,
        },
        Arc::default(),
        Arc::default(),
    )
    .await
    .unwrap();
    // 100 connections from one host, each with a head and a body that never comes.
    let mut held = Vec::new();
    for _ in 0..100 {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind("127.0.0.77:0".parse().unwrap()).unwrap();
        let mut c = socket.connect(admin.addr).await.unwrap();
        c.write_all(b"POST /whitelist HTTP/1.1\r\nHost: x\r\nX-Internal-Secret: internal-s3cret\r\nContent-Length: 100\r\n\r\n[")
            .await
            .unwrap();
        held.push(c);
    }
    // The operator, from another address, is answered at once.
    let (status, _) = reqwest::Client::new()
        .get(format!(
            "http://{}/gwinfo?gateway=C8:25:2D:8E:9C:2C",
            admin.addr
        ))
        .header("X-Internal-Secret", "internal-s3cret")
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .map(|r| (r.status().as_u16(), ()))
        .unwrap();
    assert_eq!(status, 404, "an unknown gateway, answered");
    // The slow bodies are answered 408 after 10 s, not held for ever.
    let mut answered = 0;
    for c in held.iter_mut() {
        let mut buf = [0u8; 64];
        if let Ok(Ok(n)) = tokio::time::timeout(Duration::from_secs(15), c.read(&mut buf)).await {
            answered += usize::from(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 408"));
        }
    }
    assert!(
        (1..=16).contains(&answered),
        "{answered} answered 408: the rest were closed"
    );
    admin.stop().await;
}
