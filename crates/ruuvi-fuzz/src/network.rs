//! What a stranger on the network reaches: the receiver's HTTP handling (request head, auth,
//! HMAC and signed-form headers, body) and the Internal API's JSON bodies.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};

use parking_lot::{Mutex, RwLock};
use ruuvi_protocol::{MacAddress, Observation};
use ruuvi_receiver::{
    route, AdminRequest, ConnectionHandler, Deliver, DeliverError, ExpectedAuth, GatewayPolicy,
    HmacCheck, Policies, ReceiverOptions, Registry, Whitelist,
};
use ruuvi_secrets::Sensitive;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Secrets of the fuzzing receiver's gateways (the seeds are signed with them).
pub const BASIC_GATEWAY: &str = "AA:00:00:00:00:01";
pub const BEARER_HMAC_GATEWAY: &str = "AA:00:00:00:00:02";
pub const ROTATING_GATEWAY: &str = "AA:00:00:00:00:03";
pub const CERT_GATEWAY: &str = "AA:00:00:00:00:04";
pub const WHITELISTED_GATEWAY: &str = "AA:00:00:00:00:05";
pub const SECRET: &str = "fuzz-secret";

/// Accepts every delivery after checking what the receiver made of the post.
struct Accept;

impl Deliver for Accept {
    fn deliver(
        &self,
        observations: Vec<Observation>,
    ) -> Pin<Box<dyn Future<Output = Result<(), DeliverError>> + Send + '_>> {
        Box::pin(async move {
            for o in &observations {
                // A time the gateway claims is kept only when it is a real date.
                assert!(o.seen_at_s.is_none_or(|s| s <= 253_402_300_799));
            }
            Ok(())
        })
    }
}

fn handler() -> &'static ConnectionHandler {
    static HANDLER: OnceLock<ConnectionHandler> = OnceLock::new();
    HANDLER.get_or_init(|| {
        let secret = || Sensitive::new(SECRET.to_string());
        let mac = |m: &str| m.parse::<MacAddress>().expect("a MAC");
        let mut policies = Policies::default();
        let mut add = |gw: &str, policy: GatewayPolicy| {
            policies.gateways.insert(mac(gw), policy);
        };
        add(
            BASIC_GATEWAY,
            GatewayPolicy {
                auth: ExpectedAuth::Basic {
                    user: "user".into(),
                    password: secret(),
                },
                ..GatewayPolicy::default()
            },
        );
        add(
            BEARER_HMAC_GATEWAY,
            GatewayPolicy {
                auth: ExpectedAuth::Bearer(secret()),
                hmac: HmacCheck::Key(secret()),
                rate_s: Some(10),
                ..GatewayPolicy::default()
            },
        );
        add(
            ROTATING_GATEWAY,
            GatewayPolicy {
                hmac: HmacCheck::Rotating {
                    device_id: secret(),
                },
                ..GatewayPolicy::default()
            },
        );
        add(
            CERT_GATEWAY,
            GatewayPolicy {
                auth: ExpectedAuth::ApiKey(secret()),
                require_client_cert: true,
                ..GatewayPolicy::default()
            },
        );
        let options = ReceiverOptions::new("127.0.0.1:0".parse().expect("an address"));
        options
            .whitelist
            .lock()
            .whitelist(mac(WHITELISTED_GATEWAY), secret(), 0);
        ConnectionHandler::new(options, Arc::new(RwLock::new(policies)), Arc::new(Accept))
    })
}

/// Any bytes as what one client sends on one connection to the receiver (plain HTTP; TLS is
/// rustls's). Every answer is HTTP (1.1, or 1.0 to a 1.0 request); the connection ends when the
/// client's input does.
pub fn receiver_request(data: &[u8]) {
    let handler = handler();
    let answer = crate::block_on(async {
        let (mut client, server) = tokio::io::duplex(1 << 16);
        let serving = handler.serve(server, "192.0.2.1".parse().expect("an address"), None);
        let talking = async move {
            let _ = client.write_all(data).await;
            let _ = client.shutdown().await;
            let mut answer = Vec::new();
            let _ = client.read_to_end(&mut answer).await;
            answer
        };
        let ((), answer) = tokio::join!(serving, talking);
        answer
    });
    assert!(
        answer.is_empty() || answer.starts_with(b"HTTP/1.1 ") || answer.starts_with(b"HTTP/1.0 "),
        "not an HTTP answer: {:?}",
        String::from_utf8_lossy(&answer[..answer.len().min(100)])
    );
}

/// The first line is `METHOD /path?query` (a trailing ` shop` sends a right X-Shop-Secret),
/// the rest the body of an authenticated Internal API request.
pub fn internal_api(data: &[u8]) {
    let (line, body) = crate::split_line(data);
    let line = String::from_utf8_lossy(line);
    let (line, shop) = match line.strip_suffix(" shop") {
        Some(l) => (l, true),
        None => (line.as_ref(), false),
    };
    let (method, target) = line.split_once(' ').unwrap_or((line, ""));
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let whitelist = Mutex::new(Whitelist::default());
    let registry = Mutex::new(Registry::default());
    for now_s in [1_800_000_000, i64::MAX, i64::MIN] {
        let (status, reply) = route(
            &whitelist,
            &registry,
            AdminRequest {
                method,
                path,
                query,
                shop_secret_ok: shop,
                body,
            },
            now_s,
        );
        assert!(
            [200, 400, 401, 404].contains(&status.as_u16()),
            "{status} {reply}"
        );
        assert!(reply.is_object() || reply.is_array(), "{reply}");
        // What was stored is readable: plans against any clock, gateways by gwinfo.
        let _ = registry.lock().active_plan(now_s);
        let listed: Vec<MacAddress> = whitelist.lock().entries().map(|(m, _)| m).collect();
        for mac in listed {
            let query = format!("gateway={mac}");
            let (status, _) = route(
                &whitelist,
                &registry,
                AdminRequest {
                    method: "GET",
                    path: "/gwinfo",
                    query: &query,
                    shop_secret_ok: false,
                    body: b"",
                },
                now_s,
            );
            assert_eq!(status.as_u16(), 200);
        }
    }
}
