//! `ruuvictl serve --ui`: the app's web UI and the same backend calls over HTTP, live cards over
//! a WebSocket (with the steps of gateway changes) — for a headless box opened in a browser, and for browser tests against the real
//! backend. Loopback by default; every `/api/` call needs the token printed at start (as
//! `Authorization: Bearer` or, for the WebSocket, `?token=`). Static files carry no data.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use ruuvi_ble::BleStatus;
use ruuvi_hub::Hub;
use ruuvi_secrets::Sensitive;
use serde_json::{json, Value};
use tokio::sync::{broadcast, watch};
use tokio_tungstenite::tungstenite::protocol::{Message, Role};

pub struct UiState {
    /// The Gateways page's calls.
    pub setup: Arc<ruuvi_setup::Setup>,
    /// Steps of gateway changes in progress, sent to every live socket.
    pub steps: broadcast::Sender<ruuvi_setup::StepEvent>,
    pub hub: Hub,
    /// The observations database (read through its own connection).
    pub db: ruuvi_store::StoreLocation,
    pub token: Sensitive<String>,
    /// The built UI (`ui/dist`).
    pub ui_dir: PathBuf,
    /// Demo gateways are running: the UI labels the data.
    pub demo: bool,
    /// Alert rules and history (the Alerts page); fired alerts go to every live socket.
    pub alerts: Arc<ruuvi_alerts::Alerting>,
    pub fired: broadcast::Sender<ruuvi_alerts::HistoryEntry>,
    /// The receiver's status for the Receiver page.
    pub receiver: ruuvi_wiring::StatusSource,
    /// What `serve`'s options set, shown on the Settings page (changed with the options).
    pub settings: Value,
    /// The live Bluetooth feed's state, when `--ble` runs it.
    pub ble: Option<watch::Receiver<BleStatus>>,
    /// The MQTT feed's and sink's states, when `--mqtt` / `--mqtt-sink` run them.
    pub mqtt: (
        Option<watch::Receiver<ruuvi_mqtt::feed::FeedStatus>>,
        Option<watch::Receiver<ruuvi_mqtt::sink::SinkStatus>>,
    ),
}

/// Where the built UI is: `--ui-dir`, else `ui/dist` next to the executable's share
/// directory, else the source tree's (a development build).
pub fn find_ui_dir(given: Option<PathBuf>) -> Result<PathBuf, String> {
    let mut candidates = Vec::new();
    if let Some(g) = given {
        candidates.push(g);
    } else {
        if let Ok(exe) = std::env::current_exe() {
            if let Some(dir) = exe.parent() {
                candidates.push(dir.join("../share/ruuvi-desk/ui"));
            }
        }
        candidates.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui/dist"));
    }
    candidates
        .iter()
        .find(|d| d.join("index.html").is_file())
        .cloned()
        .ok_or_else(|| {
            format!(
                "no built UI (index.html) in {}: run `npm --prefix ui run build` or pass --ui-dir",
                candidates
                    .iter()
                    .map(|c| c.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
}

/// Listens on `addr`; returns where, and the task (abort it to stop).
pub async fn start(
    addr: SocketAddr,
    state: UiState,
) -> Result<(SocketAddr, tokio::task::JoinHandle<()>), String> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr} for the UI: {e}"))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    let state = Arc::new(state);
    let task = tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                continue;
            };
            let state = state.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req| {
                    let state = state.clone();
                    async move { Ok::<_, Infallible>(handle(state, req).await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tcp), service)
                    .with_upgrades()
                    .await;
            });
        }
    });
    Ok((local, task))
}

fn json_reply(status: StatusCode, body: &Value) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("Content-Type", "application/json")
        .header("Cache-Control", "no-store")
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("valid response")
}

/// The IPC error shape: `{code, message}`.
fn error(status: StatusCode, code: &str, message: &str) -> Response<Full<Bytes>> {
    json_reply(status, &json!({"code": code, "message": message}))
}

fn query_param(req: &Request<Incoming>, name: &str) -> Option<String> {
    ruuvi_receiver::query_param(req.uri().query()?, name)
}

fn authorised(req: &Request<Incoming>, token: &Sensitive<String>) -> bool {
    let given = req
        .headers()
        .get("Authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_string)
        .or_else(|| query_param(req, "token"));
    given.is_some_and(|g| ruuvi_receiver::constant_time_eq(g.as_bytes(), token.expose().as_bytes()))
}

async fn handle(state: Arc<UiState>, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let path = req.uri().path().to_string();
    if !path.starts_with("/api/") {
        return static_file(&state.ui_dir, &path).await;
    }
    if !authorised(&req, &state.token) {
        return error(
            StatusCode::UNAUTHORIZED,
            "unauthorised",
            "the token printed by `ruuvictl serve --ui` is required",
        );
    }
    match (req.method().as_str(), path.as_str()) {
        ("GET", "/api/app-info") => json_reply(
            StatusCode::OK,
            &json!({"name": "Ruuvi Desk", "version": env!("CARGO_PKG_VERSION"), "license": env!("CARGO_PKG_LICENSE")}),
        ),
        ("GET", "/api/dashboard") => json_reply(
            StatusCode::OK,
            &json!(ruuvi_dashboard::Dashboard {
                demo: state.demo,
                cards: ruuvi_dashboard::cards(&state.hub.latest()),
            }),
        ),
        ("GET", "/api/ble-status") => {
            let status = match &state.ble {
                Some(rx) => rx.borrow().clone(),
                None => ruuvi_ble::status_now(None).await,
            };
            let mut v = serde_json::to_value(&status).expect("plain enum");
            v["message"] = json!(status.to_string());
            json_reply(StatusCode::OK, &v)
        }
        ("POST", "/api/decode") => decode(req).await,
        ("GET", "/api/series") => series(&state, &req).await,
        ("GET", "/api/export.csv") => export_csv(&state, &req).await,
        ("GET", "/api/live") => live(&state, req),
        ("GET", "/api/gateways") => gateways(&state),
        ("GET", "/api/app-settings") => json_reply(StatusCode::OK, &state.settings),
        ("GET", "/api/alerts") => reply(state.alerts.view(100)),
        ("POST", p) if p.starts_with("/api/alerts/") => alerts_call(&state, req).await,
        ("POST", "/api/app-settings") => error(
            StatusCode::CONFLICT,
            "unsupported",
            "ruuvictl serve takes these from its options: --ble, --keep-days, --resolution-minutes, --store, --mqtt, --mqtt-sink",
        ),
        ("POST", "/api/save-password") => error(
            StatusCode::CONFLICT,
            "unsupported",
            "ruuvictl serve reads passwords from the keychain: ruuvictl secret set database-password/… or mqtt-password/…",
        ),
        ("GET", "/api/connections") => json_reply(
            StatusCode::OK,
            &json!(ruuvi_wiring::Connections {
                storage: state.db.to_string(),
                storage_problem: None,
                mqtt: ruuvi_wiring::MqttView {
                    feed: state.mqtt.0.as_ref().map(|s| s.borrow().clone()),
                    sink: state.mqtt.1.as_ref().map(|s| s.borrow().clone()),
                },
            }),
        ),
        // `serve` always runs its receiver: "start" only reports it.
        ("GET", "/api/receiver") | ("POST", "/api/receiver/start") => {
            json_reply(StatusCode::OK, &json!(state.receiver.status()))
        }
        ("POST", p) if p.starts_with("/api/gateways/") => gateway_call(&state, req).await,
        _ => error(StatusCode::NOT_FOUND, "not_found", "no such call"),
    }
}

/// The saved gateways, each with whether this server holds a session for it.
fn gateways(state: &UiState) -> Response<Full<Bytes>> {
    let list: Vec<Value> = state
        .setup
        .gateways()
        .into_iter()
        .map(|g| {
            let logged_in = state.setup.is_logged_in(&g.endpoint);
            let mut v = serde_json::to_value(g).expect("plain data");
            v["logged_in"] = json!(logged_in);
            v
        })
        .collect();
    json_reply(StatusCode::OK, &json!(list))
}

async fn body_json<T: serde::de::DeserializeOwned>(
    req: Request<Incoming>,
) -> Result<T, Response<Full<Bytes>>> {
    let body = Limited::new(req.into_body(), 256 * 1024)
        .collect()
        .await
        .map_err(|_| error(StatusCode::PAYLOAD_TOO_LARGE, "too_large", "body too large"))?;
    serde_json::from_slice(&body.to_bytes())
        .map_err(|e| error(StatusCode::BAD_REQUEST, "bad_input", &e.to_string()))
}

/// The core crates' errors, answered as `{code, message}`.
trait Coded: std::fmt::Display {
    fn code(&self) -> &'static str;
}

impl Coded for ruuvi_setup::SetupError {
    fn code(&self) -> &'static str {
        ruuvi_setup::SetupError::code(self)
    }
}

impl Coded for ruuvi_alerts::AlertError {
    fn code(&self) -> &'static str {
        ruuvi_alerts::AlertError::code(self)
    }
}

fn reply<T: serde::Serialize, E: Coded>(result: Result<T, E>) -> Response<Full<Bytes>> {
    match result {
        Ok(v) => json_reply(StatusCode::OK, &json!(v)),
        Err(e) => {
            let status = match e.code() {
                "bad_input" => StatusCode::BAD_REQUEST,
                "unauthorised" => StatusCode::FORBIDDEN,
                "not_found" => StatusCode::NOT_FOUND,
                "not_logged_in" => StatusCode::CONFLICT,
                // The gateway's answer (or none): a bad gateway from the browser's view.
                "unreachable" | "refused" | "gateway" => StatusCode::BAD_GATEWAY,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            };
            error(status, e.code(), &e.to_string())
        }
    }
}

#[derive(serde::Deserialize)]
struct EndpointArg {
    endpoint: String,
}

#[derive(serde::Deserialize)]
struct GatewayArg {
    gateway: String,
}

#[derive(serde::Deserialize)]
struct PreviewArgs {
    endpoint: String,
    form: ruuvi_setup::ProfileForm,
}

#[derive(serde::Deserialize)]
struct ApplyArgs {
    endpoints: Vec<String>,
    form: ruuvi_setup::ProfileForm,
}

#[derive(serde::Deserialize)]
struct ApplyMqttArgs {
    endpoints: Vec<String>,
    form: ruuvi_setup::MqttForm,
}

#[derive(serde::Deserialize)]
struct CheckArgs {
    endpoint: String,
    server: ruuvi_setup::OwnServerForm,
}

#[derive(serde::Deserialize)]
struct IdArg {
    id: i64,
}

/// `POST /api/alerts/<call>`: save, remove, acknowledge, test.
async fn alerts_call(state: &UiState, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let call = req
        .uri()
        .path()
        .trim_start_matches("/api/alerts/")
        .to_string();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    let alerts = &state.alerts;
    match call.as_str() {
        "save" => match body_json::<ruuvi_alerts::Rule>(req).await {
            Ok(rule) => reply(alerts.save(rule)),
            Err(reply) => reply,
        },
        "remove" | "acknowledge" | "test" => {
            let id = match body_json::<IdArg>(req).await {
                Ok(a) => a.id,
                Err(reply) => return reply,
            };
            match call.as_str() {
                "remove" => reply(alerts.remove(id)),
                "acknowledge" => reply(alerts.acknowledge(id, now)),
                _ => reply(alerts.test_rule(id, now)),
            }
        }
        _ => error(StatusCode::NOT_FOUND, "not_found", "no such call"),
    }
}

/// `POST /api/gateways/<call>`: the Gateways page; long calls report steps on the live socket.
async fn gateway_call(state: &UiState, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let call = req
        .uri()
        .path()
        .trim_start_matches("/api/gateways/")
        .to_string();
    let setup = state.setup.clone();
    let steps = state.steps.clone();
    let on_step: ruuvi_setup::OnStep = Arc::new(move |e| {
        let _ = steps.send(e);
    });
    macro_rules! args {
        ($t:ty) => {
            match body_json::<$t>(req).await {
                Ok(a) => a,
                Err(reply) => return reply,
            }
        };
    }
    match call.as_str() {
        "discover" => reply(setup.discover(args!(ruuvi_setup::DiscoverRequest)).await),
        "login" => reply(setup.login(args!(ruuvi_setup::LoginRequest)).await),
        "forget" => reply(setup.forget(&args!(EndpointArg).endpoint).await),
        "details" => reply(setup.details(&args!(EndpointArg).endpoint).await),
        "preview" => {
            let a = args!(PreviewArgs);
            reply(setup.preview(&a.endpoint, &a.form).await)
        }
        "apply" => {
            let a = args!(ApplyArgs);
            json_reply(
                StatusCode::OK,
                &json!(setup.apply(a.endpoints, a.form, on_step).await),
            )
        }
        "apply-mqtt" => {
            let a = args!(ApplyMqttArgs);
            json_reply(
                StatusCode::OK,
                &json!(setup.apply_mqtt(a.endpoints, a.form, on_step).await),
            )
        }
        "check-url" => {
            let a = args!(CheckArgs);
            reply(setup.check_url(&a.endpoint, &a.server).await)
        }
        "certificates" => reply(setup.certificates()),
        "create-ca" => reply(setup.create_ca()),
        "renew" | "revoke" => {
            let a = args!(GatewayArg);
            let Ok(gateway) = a.gateway.parse() else {
                return error(
                    StatusCode::BAD_REQUEST,
                    "bad_input",
                    "gateway: a MAC address",
                );
            };
            if call == "renew" {
                reply(setup.renew_client(gateway).await)
            } else {
                reply(setup.revoke_client(gateway))
            }
        }
        "send-here" => {
            let a = args!(EndpointArg);
            reply(setup.send_here(&a.endpoint, on_step).await)
        }
        _ => error(StatusCode::NOT_FOUND, "not_found", "no such call"),
    }
}

async fn decode(req: Request<Incoming>) -> Response<Full<Bytes>> {
    let Ok(body) = Limited::new(req.into_body(), 64 * 1024).collect().await else {
        return error(StatusCode::PAYLOAD_TOO_LARGE, "too_large", "body too large");
    };
    let hex = serde_json::from_slice::<Value>(&body.to_bytes())
        .ok()
        .and_then(|v| v["hex"].as_str().map(str::to_string));
    let Some(hex) = hex else {
        return error(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "expected {\"hex\": \"…\"}",
        );
    };
    match ruuvi_protocol::decode_hex(&hex, None) {
        Ok(m) => json_reply(
            StatusCode::OK,
            &ruuvi_protocol::output::measurement_json(m.format(), &m.readings()),
        ),
        Err(e) => error(StatusCode::BAD_REQUEST, e.code(), &e.to_string()),
    }
}

async fn series(state: &UiState, req: &Request<Incoming>) -> Response<Full<Bytes>> {
    let Some(sensor) = query_param(req, "sensor").and_then(|s| s.parse().ok()) else {
        return error(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "sensor=<MAC> is required",
        );
    };
    let number = |name: &str| query_param(req, name).and_then(|v| v.parse::<i64>().ok());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    let to = number("to").unwrap_or(now.saturating_add(1));
    let from = number("from").unwrap_or(to.saturating_sub(86_400_000));
    let points = number("points").unwrap_or(500).clamp(1, 5000) as usize;
    let db = state.db.clone();
    let result = tokio::task::spawn_blocking(move || {
        let mut store = db.open()?;
        ruuvi_dashboard::series(&mut *store, sensor, from, to, points)
    })
    .await;
    match result {
        Ok(Ok(points)) => json_reply(
            StatusCode::OK,
            &json!(ruuvi_dashboard::Series { sensor, points }),
        ),
        Ok(Err(e)) => error(StatusCode::INTERNAL_SERVER_ERROR, "store", &e.to_string()),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, "store", &e.to_string()),
    }
}

/// A sensor's history as a CSV download.
async fn export_csv(state: &UiState, req: &Request<Incoming>) -> Response<Full<Bytes>> {
    let Some(sensor) =
        query_param(req, "sensor").and_then(|s| s.parse::<ruuvi_protocol::MacAddress>().ok())
    else {
        return error(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "sensor=<MAC> is required",
        );
    };
    let number = |name: &str| query_param(req, name).and_then(|v| v.parse::<i64>().ok());
    let query = ruuvi_store::Query {
        sensor: Some(sensor),
        from_ms: number("from"),
        to_ms: number("to"),
        limit: None,
    };
    let db = state.db.clone();
    let csv = tokio::task::spawn_blocking(move || -> Result<Vec<u8>, String> {
        let mut store = db.open().map_err(|e| e.to_string())?;
        let mut out = Vec::new();
        store
            .export_csv(&query, &mut out)
            .map_err(|e| e.to_string())?;
        Ok(out)
    })
    .await
    .map_err(|e| e.to_string())
    .and_then(|r| r);
    match csv {
        Ok(bytes) => Response::builder()
            .header("Content-Type", "text/csv; charset=utf-8")
            .header(
                "Content-Disposition",
                format!(
                    "attachment; filename=\"ruuvi-{}.csv\"",
                    sensor.to_string().replace(':', "")
                ),
            )
            .header("Cache-Control", "no-store")
            .body(Full::new(Bytes::from(bytes)))
            .expect("valid response"),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, "store", &e),
    }
}

/// Upgrades to a WebSocket that sends `{"card": …}` for every new observation.
fn live(state: &UiState, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let key = req
        .headers()
        .get("Sec-WebSocket-Key")
        .map(|k| k.as_bytes().to_vec());
    let upgrade = req
        .headers()
        .get("Upgrade")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    let (Some(key), true) = (key, upgrade) else {
        return error(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "a WebSocket upgrade is expected",
        );
    };
    let updates = state.hub.subscribe();
    let steps = state.steps.subscribe();
    let fired = state.fired.subscribe();
    tokio::spawn(async move {
        match hyper::upgrade::on(req).await {
            Ok(upgraded) => stream_cards(TokioIo::new(upgraded), updates, steps, fired).await,
            Err(e) => tracing::debug!("websocket upgrade failed: {e}"),
        }
    });
    Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header("Upgrade", "websocket")
        .header("Connection", "Upgrade")
        .header(
            "Sec-WebSocket-Accept",
            tokio_tungstenite::tungstenite::handshake::derive_accept_key(&key),
        )
        .body(Full::new(Bytes::new()))
        .expect("valid response")
}

async fn stream_cards<S>(
    io: S,
    mut updates: broadcast::Receiver<ruuvi_protocol::Observation>,
    mut steps: broadcast::Receiver<ruuvi_setup::StepEvent>,
    mut fired: broadcast::Receiver<ruuvi_alerts::HistoryEntry>,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let ws = tokio_tungstenite::WebSocketStream::from_raw_socket(io, Role::Server, None).await;
    let (mut tx, mut rx) = ws.split();
    loop {
        let next = tokio::select! {
            update = updates.recv() => live_message(
                "card",
                update.map(|o| ruuvi_dashboard::SensorCard::from_observation(&o)),
            ),
            step = steps.recv() => live_message("step", step),
            alert = fired.recv() => live_message("alert", alert),
            incoming = rx.next() => match incoming {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => Live::End,
                Some(Ok(_)) => Live::Skip,
            },
        };
        match next {
            Live::Send(text) => {
                if tx.send(Message::text(text)).await.is_err() {
                    return;
                }
            }
            Live::Skip => {}
            Live::End => return,
        }
    }
}

/// What the live socket does next.
enum Live {
    Send(String),
    Skip,
    End,
}

/// A broadcast value as `{"<key>": value}`; a slow page misses some updates (the next ones
/// still come); a closed channel ends the socket.
fn live_message<T: serde::Serialize>(
    key: &str,
    received: Result<T, broadcast::error::RecvError>,
) -> Live {
    match received {
        Ok(value) => Live::Send(json!({ key: value }).to_string()),
        Err(broadcast::error::RecvError::Lagged(_)) => Live::Skip,
        Err(broadcast::error::RecvError::Closed) => Live::End,
    }
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript",
        Some("css") => "text/css",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("json") => "application/json",
        Some("woff2") => "font/woff2",
        _ => "application/octet-stream",
    }
}

async fn static_file(dir: &Path, path: &str) -> Response<Full<Bytes>> {
    let relative = path.trim_start_matches('/');
    // Only plain names: no `..`, no absolute paths, nothing hidden.
    let safe = relative
        .split('/')
        .all(|part| !part.is_empty() && !part.starts_with('.') && !part.contains('\\'));
    let file = if relative.is_empty() {
        dir.join("index.html")
    } else if safe {
        dir.join(relative)
    } else {
        return error(StatusCode::NOT_FOUND, "not_found", "no such file");
    };
    match tokio::fs::read(&file).await {
        Ok(bytes) => Response::builder()
            .header("Content-Type", content_type(&file))
            .body(Full::new(Bytes::from(bytes)))
            .expect("valid response"),
        Err(_) => error(StatusCode::NOT_FOUND, "not_found", "no such file"),
    }
}
