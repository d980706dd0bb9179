//! `ruuvictl serve --ui`: the app's web UI with every command of [`ruuvi_app::api`] as
//! `POST /api/<command>` (JSON arguments in, JSON reply or `{code, message}` out) and the
//! desk's events over a WebSocket (`/api/live`) — for a headless box opened in a browser, and
//! for browser tests against the real backend. Loopback by default; every `/api/` call needs
//! the token printed at start (as `Authorization: Bearer` or, for the WebSocket, `?token=`).
//! Static files carry no data. There is no route per command: the table is the router.

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
use ruuvi_app::{ApiError, Desk, Event};
use ruuvi_secrets::Sensitive;
use serde_json::{json, Value};
use tokio::sync::broadcast;
use tokio_tungstenite::tungstenite::protocol::{Message, Role};

pub struct WebState {
    pub desk: Arc<Desk>,
    pub token: Sensitive<String>,
    /// The built UI (`ui/dist`).
    pub ui_dir: PathBuf,
}

/// Where the built UI is: `given`, else `ui/dist` next to the executable's share directory,
/// else the source tree's (a development build).
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
    state: WebState,
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

/// The HTTP status for an error code (the body carries the code itself).
fn status_of(code: &str) -> StatusCode {
    match code {
        "bad_input" | "wrong_length" | "bad_hex" | "unknown_format" => StatusCode::BAD_REQUEST,
        "unauthorised" => StatusCode::FORBIDDEN,
        "not_found" => StatusCode::NOT_FOUND,
        "not_logged_in" | "unsupported" => StatusCode::CONFLICT,
        // The gateway's answer (or none): a bad gateway from the browser's view.
        "unreachable" | "refused" | "gateway" => StatusCode::BAD_GATEWAY,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn api_error(e: &ApiError) -> Response<Full<Bytes>> {
    error(status_of(e.code), e.code, &e.message)
}

async fn handle(state: Arc<WebState>, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let path = req.uri().path().to_string();
    let Some(command) = path.strip_prefix("/api/") else {
        return static_file(&state.ui_dir, &path).await;
    };
    if !authorised(&req, &state.token) {
        return error(
            StatusCode::UNAUTHORIZED,
            "unauthorised",
            "the token printed by `ruuvictl serve --ui` is required",
        );
    }
    match (req.method().as_str(), command) {
        ("GET", "live") => live(&state, req),
        ("GET", "export.csv") => export_csv(&state, &req).await,
        ("GET", "export.xlsx") => export_xlsx(&state, &req).await,
        ("POST", command) => {
            let command = command.to_string();
            let body = match Limited::new(req.into_body(), 256 * 1024).collect().await {
                Ok(b) => b.to_bytes(),
                Err(_) => {
                    return error(StatusCode::PAYLOAD_TOO_LARGE, "too_large", "body too large")
                }
            };
            let args = if body.is_empty() {
                Value::Null
            } else {
                match serde_json::from_slice(&body) {
                    Ok(v) => v,
                    Err(e) => return error(StatusCode::BAD_REQUEST, "bad_input", &e.to_string()),
                }
            };
            match ruuvi_app::api::call(&state.desk, &command, args).await {
                Ok(reply) => json_reply(StatusCode::OK, &reply),
                Err(e) => api_error(&e),
            }
        }
        _ => error(
            StatusCode::NOT_FOUND,
            "not_found",
            "commands are POST /api/<command>",
        ),
    }
}

/// A sensor's history as a CSV download (a browser cannot be handed a file path).
async fn export_csv(state: &WebState, req: &Request<Incoming>) -> Response<Full<Bytes>> {
    let sensor = query_param(req, "sensor").unwrap_or_default();
    let number = |name: &str| query_param(req, name).and_then(|v| v.parse::<i64>().ok());
    match ruuvi_app::api::csv_download(&state.desk, &sensor, number("from"), number("to")).await {
        Ok((name, bytes)) => Response::builder()
            .header("Content-Type", "text/csv; charset=utf-8")
            .header(
                "Content-Disposition",
                format!("attachment; filename=\"{name}\""),
            )
            .header("Cache-Control", "no-store")
            .body(Full::new(Bytes::from(bytes)))
            .expect("valid response"),
        Err(e) => api_error(&e),
    }
}

/// Sensors' history as an Excel download (`sensors`: MACs separated by commas; none: all).
async fn export_xlsx(state: &WebState, req: &Request<Incoming>) -> Response<Full<Bytes>> {
    let sensors: Vec<String> = query_param(req, "sensors")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    let number = |name: &str| query_param(req, name).and_then(|v| v.parse::<i64>().ok());
    match ruuvi_app::api::xlsx_download(&state.desk, &sensors, number("from"), number("to")).await {
        Ok((name, bytes)) => Response::builder()
            .header(
                "Content-Type",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            )
            .header(
                "Content-Disposition",
                format!("attachment; filename=\"{name}\""),
            )
            .header("Cache-Control", "no-store")
            .body(Full::new(Bytes::from(bytes)))
            .expect("valid response"),
        Err(e) => api_error(&e),
    }
}

/// Upgrades to a WebSocket that sends every event as `{"event": name, "payload": …}`.
fn live(state: &WebState, req: Request<Incoming>) -> Response<Full<Bytes>> {
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
            "bad_input",
            "a WebSocket upgrade is expected",
        );
    };
    let events = state.desk.subscribe();
    tokio::spawn(async move {
        match hyper::upgrade::on(req).await {
            Ok(upgraded) => stream_events(TokioIo::new(upgraded), events).await,
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

/// Sends events until the page goes; a slow page misses some (the next ones still come).
async fn stream_events<S>(io: S, mut events: broadcast::Receiver<Event>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    use broadcast::error::RecvError;
    let ws = tokio_tungstenite::WebSocketStream::from_raw_socket(io, Role::Server, None).await;
    let (mut tx, mut rx) = ws.split();
    loop {
        let text = tokio::select! {
            event = events.recv() => match event {
                Ok(e) => json!({"event": e.name(), "payload": e}).to_string(),
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => return,
            },
            incoming = rx.next() => match incoming {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => continue,
            },
        };
        if tx.send(Message::text(text)).await.is_err() {
            return;
        }
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
