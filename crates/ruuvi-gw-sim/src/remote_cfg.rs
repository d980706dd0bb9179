//! Remote configuration (gateway-local-api §5.13 `check_remote_cfg`, §5.15 `/gw_cfg_download`):
//! download `<url>` (a `.json` URL) or `<url>/<MAC without colons>.json`, then
//! `<url>/gw_cfg.json`; it must say `remote_cfg_use: true`; then apply it.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::Mutex;

use crate::gateway::GatewayState;
use crate::http::{json, Response};
use crate::sender::authorization;

/// What was downloaded, or `(code, message)` of the failure.
async fn download(
    state: &Arc<Mutex<GatewayState>>,
    url: &str,
) -> Result<serde_json::Map<String, Value>, (u16, String)> {
    let (candidates, auth, mac) = {
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
        (candidates, auth, mac)
    };
    let client = reqwest::Client::new();
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

/// `POST /gw_cfg_download`: download the configured remote configuration now and apply it.
pub async fn download_now(state: &Arc<Mutex<GatewayState>>) -> Response {
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
            let network = cfg
                .keys()
                .any(|k| k == "use_eth" || k.starts_with("eth_") || k.starts_with("wifi_"));
            status(
                200,
                if network {
                    "Network configuration changed, the gateway will reboot"
                } else {
                    ""
                },
            )
        }
        Err((code, message)) => status(code, &message),
    }
}

/// `GET /validate_url?validate_type=check_remote_cfg`: download and validate, do not apply.
pub async fn check(state: &Arc<Mutex<GatewayState>>, url: &str) -> Response {
    let response = match download(state, url).await {
        Ok(_) => serde_json::json!({"status": 200, "message": ""}),
        Err((code, message)) => serde_json::json!({"status": code, "message": message}),
    };
    json(200, &crate::cjson::print(&response), &[])
}
