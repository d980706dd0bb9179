//! The Internal API (ruuvi-network-api §3) on its own listener, loopback by default: whitelist
//! gateways, read their `gwinfo`, register sensors and subscriptions. Every request needs
//! `X-Internal-Secret` (compared in constant time); subscriptions also `X-Shop-Secret`.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use ruuvi_protocol::MacAddress;
use ruuvi_secrets::Sensitive;
use serde_json::{json, Value};
use tokio::sync::watch;

use crate::network::Whitelist;
use crate::policy::constant_time_eq;
use crate::ReceiverError;

pub struct AdminOptions {
    pub listen: SocketAddr,
    pub internal_secret: Sensitive<String>,
    pub shop_secret: Option<Sensitive<String>>,
}

/// What the Internal API stores besides the whitelist (sensor secrets, subscription plans).
#[derive(Debug, Default)]
pub struct Registry {
    pub sensors: HashMap<MacAddress, Sensitive<String>>,
    pub subscriptions: Vec<Value>,
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
pub async fn start_admin(
    options: AdminOptions,
    whitelist: Arc<Mutex<Whitelist>>,
) -> Result<RunningAdmin, ReceiverError> {
    let (listener, addr) = crate::bind(options.listen).await?;
    let registry: Arc<Mutex<Registry>> = Arc::default();
    let admin = Arc::new(Admin {
        options,
        whitelist,
        registry: registry.clone(),
    });
    let (stop, mut stopped) = watch::channel(false);
    let task = tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                a = listener.accept() => a,
                _ = stopped.changed() => return,
            };
            let Ok((tcp, _)) = accepted else { continue };
            let admin = admin.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req| {
                    let admin = admin.clone();
                    async move { Ok::<_, Infallible>(handle(&admin, req).await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(std::time::Duration::from_secs(10))
                    .serve_connection(TokioIo::new(tcp), service)
                    .await;
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
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn secret_ok(req: &Request<Incoming>, header: &str, expected: &Sensitive<String>) -> bool {
    req.headers()
        .get(header)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| constant_time_eq(v.as_bytes(), expected.expose().as_bytes()))
}

async fn handle(admin: &Admin, req: Request<Incoming>) -> Response<Full<Bytes>> {
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
    let body = match Limited::new(req.into_body(), 256 * 1024).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return error(StatusCode::PAYLOAD_TOO_LARGE, "body too large"),
    };
    let json_body = || serde_json::from_slice::<Value>(&body);
    match (method.as_str(), path.as_str()) {
        ("POST", "/whitelist") => {
            let Ok(value) = json_body() else {
                return error(StatusCode::BAD_REQUEST, "expected JSON");
            };
            let items = match value {
                Value::Array(items) => items,
                single => vec![single],
            };
            let mut out = Vec::new();
            let mut wl = admin.whitelist.lock().expect("whitelist lock");
            for item in items {
                let mac = item["macAddress"]
                    .as_str()
                    .and_then(|m| m.parse::<MacAddress>().ok());
                let secret = item["secret"].as_str().filter(|s| !s.is_empty());
                let (Some(mac), Some(secret)) = (mac, secret) else {
                    return error(
                        StatusCode::BAD_REQUEST,
                        "each entry needs macAddress and secret",
                    );
                };
                wl.whitelist(mac, Sensitive::new(secret.to_string()), now_s());
                let blocked = wl.get(mac).and_then(|e| e.blocked_at);
                out.push(json!({"gateway": mac.to_string(), "blockedAt": blocked}));
            }
            answer(StatusCode::OK, Value::Array(out))
        }
        ("GET", "/gwinfo") => {
            let mac = url_param(&query, "gateway").and_then(|m| m.parse::<MacAddress>().ok());
            let Some(mac) = mac else {
                return error(StatusCode::BAD_REQUEST, "gateway=<MAC> is required");
            };
            let wl = admin.whitelist.lock().expect("whitelist lock");
            match wl.get(mac) {
                None => error(StatusCode::NOT_FOUND, "unknown gateway"),
                Some(e) => answer(
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
                return error(StatusCode::BAD_REQUEST, "expected JSON");
            };
            let mac = v["macAddress"]
                .as_str()
                .and_then(|m| m.parse::<MacAddress>().ok());
            let secret = v["secret"].as_str().filter(|s| !s.is_empty());
            let (Some(mac), Some(secret)) = (mac, secret) else {
                return error(
                    StatusCode::BAD_REQUEST,
                    "macAddress and secret are required",
                );
            };
            admin
                .registry
                .lock()
                .expect("registry lock")
                .sensors
                .insert(mac, Sensitive::new(secret.to_string()));
            answer(
                StatusCode::OK,
                json!({"result": "success", "data": {"sensor": mac.to_string()}}),
            )
        }
        ("POST", "/subscription-register") => {
            if !shop_ok {
                return error(StatusCode::UNAUTHORIZED, "X-Shop-Secret missing or wrong");
            }
            let Ok(v) = json_body() else {
                return error(StatusCode::BAD_REQUEST, "expected JSON");
            };
            for required in [
                "validDays",
                "maxClaims",
                "maxHistoryDays",
                "maxResolutionMinutes",
                "claimCode",
            ] {
                if v.get(required).is_none_or(Value::is_null) {
                    return error(StatusCode::BAD_REQUEST, &format!("{required} is required"));
                }
            }
            let max_claims = v["maxClaims"].as_u64().unwrap_or(0);
            let per_sensor = v["maxSharesPerSensor"].as_u64().unwrap_or(10);
            let plan = json!({
                "subscriptionName": v["subscriptionName"].as_str().unwrap_or("Ultimate"),
                "validDays": v["validDays"],
                "maxClaims": max_claims,
                "maxSharesPerSensor": per_sensor,
                "maxShares": v["maxShares"].as_u64().unwrap_or(max_claims * per_sensor),
                "maxHistoryDays": v["maxHistoryDays"],
                "maxResolutionMinutes": v["maxResolutionMinutes"],
                "claimCode": v["claimCode"],
                "creatorId": v["creatorId"],
            });
            admin
                .registry
                .lock()
                .expect("registry lock")
                .subscriptions
                .push(plan.clone());
            answer(StatusCode::OK, json!({"result": "success", "data": plan}))
        }
        _ => error(StatusCode::NOT_FOUND, "no such endpoint"),
    }
}

fn url_param(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == name).then(|| v.replace("%3A", ":").replace("%3a", ":"))
    })
}
