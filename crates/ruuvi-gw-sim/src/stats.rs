//! The statistics POST (gateway-local-api §7.4): about hourly to `http_stat_url`, Basic auth
//! when a user is set, signed with the statistics HMAC key, a cJSON body of mostly strings.

use std::sync::Arc;
use std::time::Duration;

use ruuvi_protocol::signature::{
    firmware_signature, FIRMWARE_KEY_HEADER, FIRMWARE_SIGNATURE_HEADER,
};
use serde_json::json;
use tokio::sync::{watch, Mutex};

use crate::gateway::GatewayState;
use crate::sender::authorization;

const RUUVI_STATUS_URL: &str = "https://network.ruuvi.com/status";

/// The statistics document, cJSON-printed (tabs).
pub fn body(st: &GatewayState) -> String {
    let id = &st.identity;
    let counter = st.received_advertisements() / st.tags.len().max(1) as u64;
    let active: Vec<_> = st
        .tags
        .iter()
        .map(|t| json!({"MAC": t.mac.to_string(), "COUNTER": counter.to_string()}))
        .collect();
    let doc = json!({
        "DEVICE_ADDR": id.ble_mac.to_string(),
        "ESP_FW": id.firmware.version_string(),
        "NRF_FW": id.firmware.nrf52_version(),
        "NRF_STATUS": true,
        "UPTIME": st.boot.elapsed().as_secs().to_string(),
        "NONCE": st.nonce.to_string(),
        "CONNECTION": "ETHERNET",
        "NUM_CONN_LOST": "0",
        "NUM_MIC_FAILURE": "0",
        "RESET_REASON": "POWER_ON",
        "RESET_CNT": "1",
        "RESET_INFO": "",
        "NRF_SELF_REBOOT_CNT": "0",
        "NRF_EXT_HW_RESET_CNT": "0",
        "NRF_LOST_ACK_CNT": "0",
        "TOTAL_FREE_BYTES_INTERNAL": "120000",
        "TOTAL_FREE_BYTES_DEFAULT": "2100000",
        "LARGEST_FREE_BLOCK_INTERNAL": "60000",
        "LARGEST_FREE_BLOCK_DEFAULT": "110000",
        "SENSORS_SEEN": st.tags.len().to_string(),
        "ACTIVE_SENSORS": active,
        "INACTIVE_SENSORS": [],
        "TASKS": [{"TASK_NAME": "http_server", "MIN_FREE_STACK_SIZE": 1504}],
    });
    crate::cjson::print(&doc)
}

pub async fn run(state: Arc<Mutex<GatewayState>>, mut stopped: watch::Receiver<bool>) {
    let (first, period) = {
        let st = state.lock().await;
        (st.options.stats_first, st.options.stats_period)
    };
    let mut wait = first;
    loop {
        tokio::select! {
            _ = stopped.changed() => return,
            _ = tokio::time::sleep(wait) => {}
        }
        wait = period;
        let request = {
            let mut st = state.lock().await;
            if !st.config.bool("use_http_stat") || st.in_config_mode() {
                continue;
            }
            let url = st.config.str("http_stat_url").to_string();
            if url == RUUVI_STATUS_URL {
                // Ruuvi's own server is never contacted.
                st.stats.stats_skipped += 1;
                continue;
            }
            let body = body(&st);
            // The statistics target's own certificates (`stat_*` files), like the firmware.
            let (server_ca, identity) = crate::sender::tls_material(
                &st.config.files,
                "stat",
                st.config.bool("http_stat_use_ssl_server_cert"),
                st.config.bool("http_stat_use_ssl_client_cert"),
            );
            let Ok(client) = crate::sender::client_with(server_ca.as_deref(), identity.as_deref())
            else {
                continue;
            };
            let mut request = client
                .post(&url)
                .timeout(Duration::from_secs(10))
                .header("Content-Type", "application/json")
                .header("User-Agent", "Ruuvi Gateway HTTP Client/1.0")
                .header(
                    FIRMWARE_SIGNATURE_HEADER,
                    firmware_signature(st.stats_hmac_key.as_bytes(), body.as_bytes()),
                );
            let user = st.config.str("http_stat_user");
            if !user.is_empty() {
                let value = authorization("basic", user, st.config.secret("http_stat_pass"));
                request = request.header("Authorization", value.unwrap_or_default());
            }
            request.body(body)
        };
        match request.send().await {
            Ok(r) if r.status().is_success() => {
                let mut st = state.lock().await;
                st.stats.stats_sent += 1;
                if let Some(key) = r
                    .headers()
                    .get(FIRMWARE_KEY_HEADER)
                    .and_then(|v| v.to_str().ok())
                {
                    st.stats_hmac_key = key.to_string();
                }
            }
            other => tracing::debug!("statistics post failed: {:?}", other.map(|r| r.status())),
        }
    }
}
