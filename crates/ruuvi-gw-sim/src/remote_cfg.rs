//! Remote configuration (gateway-local-api §5.13 `check_remote_cfg`, §5.15 `/gw_cfg_download`):
//! download `<url>` (a `.json` URL) or `<url>/<MAC without colons>.json`, then
//! `<url>/gw_cfg.json`; it must say `remote_cfg_use: true`; then apply it. The download uses
//! the `rcfg_*` certificates when their flags are on, and runs by itself as the firmware's
//! main loop does it (`main_loop.c`): once when the network first comes up, then every
//! `remote_cfg_refresh_interval_minutes` (0: never), not while configuration mode lasts.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::{watch, Mutex};
use tokio::time::Instant;

use crate::gateway::GatewayState;
use crate::http::{json, Response};
use crate::sender::authorization;

/// What was downloaded, or `(code, message)` of the failure.
async fn download(
    state: &Arc<Mutex<GatewayState>>,
    url: &str,
) -> Result<serde_json::Map<String, Value>, (u16, String)> {
    let (candidates, auth, mac, tls) = {
        let st = state.lock().await;
        let c = &st.config;
        let mac = st.identity.ble_mac.to_string();
        let base = url.trim_end_matches('/');
        let candidates = if base.ends_with(".json") {
            vec![base.to_string()]
        } else {
            vec![
                format!("{base}/{}.json", mac.replace(':', "")),
                format!("{base}/gw_cfg.json"),
            ]
        };
        let auth = match c.str("remote_cfg_auth_type") {
            "basic" => authorization(
                "basic",
                c.str("remote_cfg_auth_basic_user"),
                c.secret("remote_cfg_auth_basic_pass"),
            ),
            "bearer" => authorization("bearer", "", c.secret("remote_cfg_auth_bearer_token")),
            _ => None,
        };
        let tls = crate::sender::tls_material(
            &c.files,
            "rcfg",
            c.bool("remote_cfg_use_ssl_server_cert"),
            c.bool("remote_cfg_use_ssl_client_cert"),
        );
        (candidates, auth, mac, tls)
    };
    let client = crate::sender::client_with(tls.0.as_deref(), tls.1.as_deref())
        .map_err(|e| (502, format!("Download of gw_cfg failed: {e}")))?;
    let mut last = (502, "Download of gw_cfg failed".to_string());
    for candidate in candidates {
        let mut request = client
            .get(&candidate)
            .timeout(Duration::from_secs(25))
            .header("ruuvi_gw_mac", &mac);
        if let Some(a) = &auth {
            request = request.header("Authorization", a);
        }
        match request.send().await {
            Ok(r) if r.status().is_success() => {
                let text = r.text().await.unwrap_or_default();
                return match serde_json::from_str::<Value>(&text) {
                    Ok(Value::Object(o)) if o.get("remote_cfg_use") == Some(&Value::Bool(true)) => {
                        Ok(o)
                    }
                    _ => Err((
                        502,
                        "Downloaded gw_cfg is not valid: remote_cfg_use must be true".into(),
                    )),
                };
            }
            Ok(r) => {
                last = (
                    r.status().as_u16(),
                    format!(
                        "Download of gw_cfg failed, HTTP error code {}",
                        r.status().as_u16()
                    ),
                )
            }
            Err(e) => last = (502, format!("Download of gw_cfg failed: {e}")),
        }
    }
    Err(last)
}

fn status(code: u16, message: &str) -> Response {
    json(
        200,
        &serde_json::json!({"status": code, "message": message}).to_string(),
        &[],
    )
}

/// Downloads the configured remote configuration and applies it: `(status, message)` as
/// `/gw_cfg_download` reports them.
async fn download_and_apply(state: &Arc<Mutex<GatewayState>>) -> (u16, String) {
    let url = state.lock().await.config.str("remote_cfg_url").to_string();
    match download(state, &url).await {
        Ok(cfg) => {
            let mut st = state.lock().await;
            let fw = st.firmware();
            if st.config.apply_lan_post(&cfg, fw) {
                st.sessions.drop_all();
            }
            st.config_changed.notify_one();
            st.save();
            st.remote_cfg_downloads += 1;
            let network = cfg
                .keys()
                .any(|k| k == "use_eth" || k.starts_with("eth_") || k.starts_with("wifi_"));
            let message = if network {
                "Network configuration changed, the gateway will reboot"
            } else {
                ""
            };
            (200, message.to_string())
        }
        Err(failed) => failed,
    }
}

/// `POST /gw_cfg_download`: download the configured remote configuration now and apply it.
pub async fn download_now(state: &Arc<Mutex<GatewayState>>) -> Response {
    let (code, message) = download_and_apply(state).await;
    status(code, &message)
}

/// The firmware's own downloads: the first when the network comes up (here: at start), then
/// every refresh interval while remote configuration is on. A changed interval restarts the
/// timer; a download due in configuration mode waits for the next one.
pub async fn run(state: Arc<Mutex<GatewayState>>, mut stopped: watch::Receiver<bool>) {
    let minute = state.lock().await.options.remote_cfg_minute;
    let settings = |st: &GatewayState| {
        (
            st.config.bool("remote_cfg_use"),
            st.config.u64("remote_cfg_refresh_interval_minutes"),
        )
    };
    let (mut seen, initial) = {
        let st = state.lock().await;
        (settings(&st), st.config.bool("remote_cfg_use"))
    };
    if initial {
        let (code, message) = download_and_apply(&state).await;
        tracing::info!(code, message, "remote configuration at start");
    }
    let mut due = next_due(seen, minute);
    loop {
        tokio::select! {
            _ = stopped.changed() => return,
            _ = tokio::time::sleep(Duration::from_millis(250)) => {}
        }
        let (now_settings, config_mode) = {
            let st = state.lock().await;
            (settings(&st), st.in_config_mode())
        };
        if now_settings != seen {
            seen = now_settings;
            due = next_due(seen, minute);
        }
        if due.is_some_and(|d| Instant::now() >= d) {
            if !config_mode {
                let (code, message) = download_and_apply(&state).await;
                tracing::info!(code, message, "periodic remote configuration");
                seen = settings(&*state.lock().await);
            }
            due = next_due(seen, minute);
        }
    }
}

fn next_due((on, minutes): (bool, u64), minute: Duration) -> Option<Instant> {
    (on && minutes > 0).then(|| Instant::now() + minute * minutes.min(u16::MAX as u64) as u32)
}

/// `GET /validate_url?validate_type=check_remote_cfg`: download and validate, do not apply.
pub async fn check(state: &Arc<Mutex<GatewayState>>, url: &str) -> Response {
    let response = match download(state, url).await {
        Ok(_) => serde_json::json!({"status": 200, "message": ""}),
        Err((code, message)) => serde_json::json!({"status": code, "message": message}),
    };
    json(200, &crate::cjson::print(&response), &[])
}
