//! The Internal API (ruuvi-network-api §3) on its own listener, loopback by default: whitelist
//! gateways, read their `gwinfo`, register sensors and subscriptions. Every request needs
//! `X-Internal-Secret` (compared in constant time); subscriptions also `X-Shop-Secret`.

use parking_lot::Mutex;
use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use ruuvi_protocol::MacAddress;
use ruuvi_secrets::Sensitive;
use serde_json::{json, Value};
use tokio::sync::watch;

use crate::connections::Connections;
use crate::network::Whitelist;
use crate::policy::constant_time_eq;
use crate::ReceiverError;

/// The text of `GET /metrics` (Prometheus), written when asked.
pub type MetricsSource = Arc<dyn Fn() -> String + Send + Sync>;

pub struct AdminOptions {
    pub listen: SocketAddr,
    pub internal_secret: Sensitive<String>,
    pub shop_secret: Option<Sensitive<String>>,
    /// `GET /metrics`; its scraper authenticates with the internal secret (as
    /// `X-Internal-Secret` or `Authorization: Bearer`).
    pub metrics: Option<MetricsSource>,
}

/// A sensor registered with `POST /register-sensor`.
#[derive(Debug, Clone)]
pub struct RegisteredSensor {
    /// Proves ownership of a contested sensor.
    pub secret: Sensitive<String>,
    pub registered_at: i64,
}

/// A plan registered with `POST /subscription-register` (the seed's fields). Locally its
/// `maxHistoryDays` and `maxResolutionMinutes` set how long and how finely data is kept.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    pub subscription_name: String,
    pub valid_days: u32,
    pub max_claims: u64,
    pub max_shares_per_sensor: u64,
    pub max_shares: u64,
    pub max_history_days: u32,
    pub max_resolution_minutes: u32,
    #[serde(default)]
    pub creator_id: Value,
    pub registered_at: i64,
    /// Names the claim code in the keychain (the code itself is a secret: it claims the plan).
    pub claim_id: String,
    #[serde(skip)]
    pub claim_code: Option<Sensitive<String>>,
}

impl Subscription {
    pub fn valid_at(&self, now_s: i64) -> bool {
        // Saturating: `registered_at` comes from network.json, which anyone may have edited.
        now_s
            < self
                .registered_at
                .saturating_add(i64::from(self.valid_days) * 86_400)
    }
}

/// What the Internal API stores besides the whitelist.
#[derive(Debug, Default)]
pub struct Registry {
    pub sensors: HashMap<MacAddress, RegisteredSensor>,
    pub subscriptions: Vec<Subscription>,
    /// Bumped on every change, so a face knows when to save.
    pub version: u64,
}

impl Registry {
    /// The plan that governs retention: the newest one still valid.
    pub fn active_plan(&self, now_s: i64) -> Option<&Subscription> {
        self.subscriptions
            .iter()
            .filter(|s| s.valid_at(now_s))
            .max_by_key(|s| s.registered_at)
    }
}

/// A claim code's id: the first 16 hex digits of its SHA-256 (names its keychain entry).
pub fn claim_id(code: &str) -> String {
    use sha2::Digest;
    hex::encode(&sha2::Sha256::digest(code.as_bytes())[..8])
}

struct Admin {
    options: AdminOptions,
    whitelist: Arc<Mutex<Whitelist>>,
    registry: Arc<Mutex<Registry>>,
}

pub struct RunningAdmin {
    pub addr: SocketAddr,
    pub registry: Arc<Mutex<Registry>>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl RunningAdmin {
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Starts the Internal API over the receiver's whitelist.
/// Starts the Internal API over the receiver's whitelist and a registry (empty, or what was
/// saved).
pub async fn start_admin(
    options: AdminOptions,
    whitelist: Arc<Mutex<Whitelist>>,
    registry: Arc<Mutex<Registry>>,
) -> Result<RunningAdmin, ReceiverError> {
    let (listener, addr) = crate::bind(options.listen).await?;
    let admin = Arc::new(Admin {
        options,
        whitelist,
        registry: registry.clone(),
    });
    let (stop, mut stopped) = watch::channel(false);
    // The same caps as the receiver's, smaller: an operator, a shop and a scraper need few.
    let connections = Connections::new(64, 16);
    let task = tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                a = listener.accept() => a,
                _ = stopped.changed() => return,
            };
            let Ok((tcp, peer)) = accepted else { continue };
            let Ok(mut admitted) = connections.admit(peer.ip()) else {
                continue;
            };
            let admin = admin.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req| {
                    let admin = admin.clone();
                    async move { Ok::<_, Infallible>(handle(&admin, req).await) }
                });
                let serving = hyper::server::conn::http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(std::time::Duration::from_secs(10))
                    .serve_connection(TokioIo::new(tcp), service);
                tokio::select! {
                    _ = serving => {}
                    _ = &mut admitted.shed => {}
                }
            });
        }
    });
    Ok(RunningAdmin {
        addr,
        registry,
        stop,
        task,
    })
}

fn answer(status: StatusCode, body: Value) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("Content-Type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("valid response")
}

fn error(status: StatusCode, message: &str) -> Response<Full<Bytes>> {
    answer(status, json!({"result": "error", "error": message}))
}

fn now_s() -> i64 {
    ruuvi_protocol::clock::now_ms() / 1000
}

fn secret_ok(req: &Request<Incoming>, header: &str, expected: &Sensitive<String>) -> bool {
    req.headers()
        .get(header)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| constant_time_eq(v.as_bytes(), expected.expose().as_bytes()))
}

fn bearer_ok(req: &Request<Incoming>, expected: &Sensitive<String>) -> bool {
    req.headers()
        .get("Authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|v| constant_time_eq(v.as_bytes(), expected.expose().as_bytes()))
}

async fn handle(admin: &Admin, req: Request<Incoming>) -> Response<Full<Bytes>> {
    if let (&hyper::Method::GET, "/metrics", Some(metrics)) =
        (req.method(), req.uri().path(), &admin.options.metrics)
    {
        let secret = &admin.options.internal_secret;
        if !secret_ok(&req, "X-Internal-Secret", secret) && !bearer_ok(&req, secret) {
            return error(StatusCode::UNAUTHORIZED, "the internal secret is required");
        }
        return Response::builder()
            .header("Content-Type", "text/plain; version=0.0.4")
            .body(Full::new(Bytes::from(metrics())))
            .expect("valid response");
    }
    if !secret_ok(&req, "X-Internal-Secret", &admin.options.internal_secret) {
        return error(
            StatusCode::UNAUTHORIZED,
            "X-Internal-Secret missing or wrong",
        );
    }
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let shop_ok = admin
        .options
        .shop_secret
        .as_ref()
        .is_some_and(|s| secret_ok(&req, "X-Shop-Secret", s));
    let body = Limited::new(req.into_body(), 256 * 1024).collect();
    let body = match tokio::time::timeout(std::time::Duration::from_secs(10), body).await {
        Ok(Ok(b)) => b.to_bytes(),
        Ok(Err(_)) => return error(StatusCode::PAYLOAD_TOO_LARGE, "body too large or cut short"),
        Err(_) => {
            return error(
                StatusCode::REQUEST_TIMEOUT,
                "the body did not arrive in 10 s",
            )
        }
    };
    let (status, reply) = route(
        &admin.whitelist,
        &admin.registry,
        AdminRequest {
            method: method.as_str(),
            path: &path,
            query: &query,
            shop_secret_ok: shop_ok,
            body: &body,
        },
        now_s(),
    );
    answer(status, reply)
}

/// One Internal API request whose `X-Internal-Secret` was checked already.
#[derive(Debug, Clone, Copy)]
pub struct AdminRequest<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: &'a str,
    /// `X-Shop-Secret` was sent and right (subscriptions need it).
    pub shop_secret_ok: bool,
    pub body: &'a [u8],
}

/// Answers one authenticated Internal API request: the status and the JSON body. Separate from
/// the HTTP layer so that any body can be tried against it (the fuzz target does).
pub fn route(
    whitelist: &Mutex<Whitelist>,
    registry: &Mutex<Registry>,
    req: AdminRequest<'_>,
    now_s: i64,
) -> (StatusCode, Value) {
    let fail =
        |status: StatusCode, message: &str| (status, json!({"result": "error", "error": message}));
    let AdminRequest {
        method,
        path,
        query,
        shop_secret_ok: shop_ok,
        body,
    } = req;
    let json_body = || serde_json::from_slice::<Value>(body);
    match (method, path) {
        ("POST", "/whitelist") => {
            let Ok(value) = json_body() else {
                return fail(StatusCode::BAD_REQUEST, "expected JSON");
            };
            let items = match value {
                Value::Array(items) => items,
                single => vec![single],
            };
            let mut out = Vec::new();
            let mut wl = whitelist.lock();
            for item in items {
                let Some((mac, secret)) = mac_and_secret(&item) else {
                    return fail(
                        StatusCode::BAD_REQUEST,
                        "each entry needs macAddress and secret",
                    );
                };
                wl.whitelist(mac, secret, now_s);
                let blocked = wl.get(mac).and_then(|e| e.blocked_at);
                out.push(json!({"gateway": mac.to_string(), "blockedAt": blocked}));
            }
            (StatusCode::OK, Value::Array(out))
        }
        ("GET", "/gwinfo") => {
            let mac = query_param(query, "gateway").and_then(|m| m.parse::<MacAddress>().ok());
            let Some(mac) = mac else {
                return fail(StatusCode::BAD_REQUEST, "gateway=<MAC> is required");
            };
            let wl = whitelist.lock();
            match wl.get(mac) {
                None => fail(StatusCode::NOT_FOUND, "unknown gateway"),
                Some(e) => (
                    StatusCode::OK,
                    json!({"result": "success", "data": {"gateway": {
                        "GatewayId": mac.to_string(),
                        "Whitelisted": e.whitelisted_at,
                        "Connected": e.connected_at,
                        "Latest": e.latest_at,
                        "InvalidSignatureTimestamp": e.invalid_signature_at,
                        "BlockedAt": e.blocked_at,
                    }}}),
                ),
            }
        }
        ("POST", "/register-sensor") => {
            let Ok(v) = json_body() else {
                return fail(StatusCode::BAD_REQUEST, "expected JSON");
            };
            let Some((mac, secret)) = mac_and_secret(&v) else {
                return fail(
                    StatusCode::BAD_REQUEST,
                    "macAddress and secret are required",
                );
            };
            let mut registry = registry.lock();
            registry.sensors.insert(
                mac,
                RegisteredSensor {
                    secret,
                    registered_at: now_s,
                },
            );
            registry.version += 1;
            (
                StatusCode::OK,
                json!({"result": "success", "data": {"sensor": mac.to_string()}}),
            )
        }
        ("POST", "/subscription-register") => {
            if !shop_ok {
                return fail(StatusCode::UNAUTHORIZED, "X-Shop-Secret missing or wrong");
            }
            let Ok(v) = json_body() else {
                return fail(StatusCode::BAD_REQUEST, "expected JSON");
            };
            for required in [
                "validDays",
                "maxClaims",
                "maxHistoryDays",
                "maxResolutionMinutes",
                "claimCode",
            ] {
                if v.get(required).is_none_or(Value::is_null) {
                    return fail(StatusCode::BAD_REQUEST, &format!("{required} is required"));
                }
            }
            let number = |key: &str| v[key].as_u64();
            let (Some(valid_days), Some(max_claims), Some(history), Some(resolution)) = (
                number("validDays"),
                number("maxClaims"),
                number("maxHistoryDays"),
                number("maxResolutionMinutes"),
            ) else {
                return fail(
                    StatusCode::BAD_REQUEST,
                    "validDays, maxClaims, maxHistoryDays and maxResolutionMinutes are whole numbers",
                );
            };
            let Some(code) = v["claimCode"].as_str().filter(|c| !c.is_empty()) else {
                return fail(StatusCode::BAD_REQUEST, "claimCode is a non-empty string");
            };
            let days = |n: u64| u32::try_from(n).unwrap_or(u32::MAX);
            let per_sensor = v["maxSharesPerSensor"].as_u64().unwrap_or(10);
            let plan = Subscription {
                subscription_name: v["subscriptionName"]
                    .as_str()
                    .unwrap_or("Ultimate")
                    .to_string(),
                valid_days: days(valid_days),
                max_claims,
                max_shares_per_sensor: per_sensor,
                max_shares: v["maxShares"]
                    .as_u64()
                    .unwrap_or(max_claims.saturating_mul(per_sensor)),
                max_history_days: days(history),
                max_resolution_minutes: days(resolution),
                creator_id: v["creatorId"].clone(),
                registered_at: now_s,
                claim_id: claim_id(code),
                claim_code: Some(Sensitive::new(code.to_string())),
            };
            let mut reply = serde_json::to_value(&plan).expect("plain struct");
            // The caller sent the code; it is echoed as the seed does, never saved in files.
            reply["claimCode"] = json!(code);
            let mut registry = registry.lock();
            registry.subscriptions.push(plan);
            registry.version += 1;
            (StatusCode::OK, json!({"result": "success", "data": reply}))
        }
        _ => fail(StatusCode::NOT_FOUND, "no such endpoint"),
    }
}

/// `{"macAddress": "<MAC>", "secret": "<non-empty>"}`, as `/whitelist` and `/register-sensor`
/// take them.
fn mac_and_secret(v: &Value) -> Option<(MacAddress, Sensitive<String>)> {
    let mac = v["macAddress"].as_str()?.parse::<MacAddress>().ok()?;
    let secret = v["secret"].as_str().filter(|s| !s.is_empty())?;
    Some((mac, Sensitive::new(secret.to_string())))
}

/// One parameter of a URL query (`a=1&b=2`), with the `:` of a MAC unescaped.
pub fn query_param(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == name).then(|| v.replace("%3A", ":").replace("%3a", ":"))
    })
}
