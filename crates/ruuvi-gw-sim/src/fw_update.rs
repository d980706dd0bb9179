//! Firmware update endpoints (gateway-local-api §5.12): the release check, the update itself
//! as simulated progress in `/status.json`, and the 409 on application paths meanwhile.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::Mutex;

use crate::gateway::GatewayState;
use crate::http::{bare_error, json, Method, Request, Response};

/// How long each simulated stage takes: download main fw, UI, nRF52 fw, flash nRF52.
const STAGE: Duration = Duration::from_millis(1500);
const FILES: [&str; 3] = ["ruuvi_gateway_esp.bin", "fatfs_gwui.bin", "fatfs_nrf52.bin"];

/// A running (or finished) simulated update.
#[derive(Debug, Clone)]
pub struct FwUpdate {
    pub started: Instant,
    /// The version the release folder's name says (`…/v1.17.3`), run after the reboot; `None`:
    /// a folder named otherwise, and the same version comes back.
    pub target: Option<crate::Firmware>,
}

impl FwUpdate {
    /// `(stage, percentage)`: stages 1–4 run for [`STAGE`] each, 5 = success, then the
    /// gateway reboots (see [`GatewayState::poll_fw_update`]).
    pub fn progress(&self) -> (u8, u8) {
        let ms = self.started.elapsed().as_millis() as u64;
        let stage_ms = STAGE.as_millis() as u64;
        let stage = (ms / stage_ms).min(4) as u8 + 1;
        let pct = if stage == 5 {
            100
        } else {
            ((ms % stage_ms) * 100 / stage_ms) as u8
        };
        (stage, pct)
    }

    pub fn rebooted(&self) -> bool {
        self.started.elapsed() >= STAGE * 5
    }
}

fn status(code: u16, message: &str) -> Response {
    json(
        200,
        &serde_json::json!({"status": code, "message": message}).to_string(),
        &[],
    )
}

/// `POST /fw_update.json {"url": …}`: checks that the three binaries exist, then "updates".
pub async fn start(state: &Arc<Mutex<GatewayState>>, req: &Request) -> Response {
    if let Err(r) = crate::routes::authorize(state, req).await {
        return r;
    }
    let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(&req.body) else {
        return status(400, "Failed to parse HTTP body");
    };
    let Some(url) = body
        .get("url")
        .and_then(Value::as_str)
        .map(|u| u.trim_end_matches('/').to_string())
    else {
        return status(400, "Failed to parse HTTP body");
    };
    if reqwest::Url::parse(&url).is_err() {
        return status(400, "Bad URL");
    }
    let client = reqwest::Client::new();
    for file in FILES {
        match client
            .get(format!("{url}/{file}"))
            .timeout(Duration::from_secs(25))
            .send()
            .await
        {
            Ok(r) if r.status().is_success() => {}
            Ok(r) => return status(r.status().as_u16(), &format!("Failed to download {file}")),
            Err(_) => return status(502, &format!("Failed to download {file}")),
        }
    }
    let target = url
        .rsplit('/')
        .next()
        .and_then(|folder| folder.parse::<crate::Firmware>().ok());
    state.lock().await.fw_update = Some(FwUpdate {
        started: Instant::now(),
        target,
    });
    status(200, "OK")
}

/// `GET /firmware_update.json`: the release JSON at `fw_update_url`, verbatim; 504 on failure.
pub async fn release_info(state: &Arc<Mutex<GatewayState>>, req: &Request) -> Response {
    if let Err(r) = crate::routes::authorize(state, req).await {
        return r;
    }
    let url = state.lock().await.config.str("fw_update_url").to_string();
    match reqwest::Client::new()
        .get(&url)
        .timeout(Duration::from_secs(25))
        .send()
        .await
    {
        Ok(r) if r.status().is_success() => match r.text().await {
            Ok(text) => json(200, &text, &[]),
            Err(_) => bare_error(504),
        },
        _ => bare_error(504),
    }
}

/// Whether a request is refused with 409 while an update runs: POST/DELETE to application
/// paths and `GET /validate_url`.
pub fn blocked_while_updating(req: &Request) -> bool {
    match req.method {
        Method::Get => req.path == "validate_url",
        Method::Post | Method::Delete => !matches!(req.path.as_str(), "auth" | "fw_update_reset"),
        Method::Other => false,
    }
}
