//! The data sender (gateway-local-api §7): POSTs the advertisements collected since the last
//! post to the custom HTTP(S) target, signed with `Ruuvi-HMAC-SHA256`. Ruuvi Cloud is never
//! contacted: its posts are only counted.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use ruuvi_protocol::signature::{
    firmware_signature, FIRMWARE_KEY_HEADER, FIRMWARE_SIGNATURE_HEADER,
};
use tokio::sync::{watch, Mutex};

use crate::gateway::GatewayState;

/// The Ruuvi Cloud target's fixed period, and the default of the custom one.
const DEFAULT_PERIOD: Duration = Duration::from_secs(10);

/// One prepared POST.
struct Post {
    url: String,
    body: String,
    headers: Vec<(&'static str, String)>,
}

fn prepare(st: &mut GatewayState) -> Option<Post> {
    let (ruuvi, custom) = st.config.http_targets();
    if !ruuvi && !custom {
        return None;
    }
    // The nonce is shared by the Ruuvi and custom targets and advances on every post.
    st.nonce = st.nonce.wrapping_add(1);
    if ruuvi {
        st.stats.ruuvi_cloud_skipped += 1;
    }
    if !custom {
        return None;
    }
    let advs = st.latest_advertisements();
    let body = st
        .document(&advs, Some(st.nonce))
        .to_firmware_json(st.post_style());
    let mut headers = vec![
        ("Content-Type", "application/json".to_string()),
        ("User-Agent", "Ruuvi Gateway HTTP Client/1.0".to_string()),
        (
            FIRMWARE_SIGNATURE_HEADER,
            firmware_signature(st.hmac_key.as_bytes(), body.as_bytes()),
        ),
    ];
    let c = &st.config;
    match c.str("http_auth") {
        "basic" => {
            let token = base64::engine::general_purpose::STANDARD.encode(format!(
                "{}:{}",
                c.str("http_user"),
                c.secret("http_pass")
            ));
            headers.push(("Authorization", format!("Basic {token}")));
        }
        "bearer" => headers.push((
            "Authorization",
            format!("Bearer {}", c.secret("http_bearer_token")),
        )),
        "token" => headers.push((
            "Authorization",
            format!("Token {}", c.secret("http_api_key")),
        )),
        "api_key" => headers.push(("Authorization", c.secret("http_api_key").to_string())),
        _ => {}
    }
    Some(Post {
        url: c.str("http_url").to_string(),
        body,
        headers,
    })
}

pub async fn run(state: Arc<Mutex<GatewayState>>, mut stopped: watch::Receiver<bool>) {
    let Ok(client) = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(10))
        .build()
    else {
        tracing::error!("cannot build the HTTP client; the sender is off");
        return;
    };
    // Set by `X-Ruuvi-Gateway-Rate`.
    let mut rate_override: Option<Duration> = None;
    let mut wait = DEFAULT_PERIOD;
    loop {
        tokio::select! {
            _ = stopped.changed() => return,
            _ = tokio::time::sleep(wait) => {}
        }
        let (post, period, retry) = {
            let mut st = state.lock().await;
            let period = if st.firmware().has_http_period() {
                Duration::from_secs(st.config.u64("http_period").max(1))
            } else {
                DEFAULT_PERIOD
            };
            let retry = st.options.retry_after_failure;
            // Relaying is suspended in configuration mode.
            let post = if st.in_config_mode() {
                None
            } else {
                prepare(&mut st)
            };
            (post, rate_override.unwrap_or(period), retry)
        };
        let Some(post) = post else {
            wait = period;
            continue;
        };
        let mut request = client.post(&post.url).body(post.body);
        for (name, value) in &post.headers {
            request = request.header(*name, value);
        }
        match request.send().await {
            Ok(response) if response.status().is_success() => {
                let mut st = state.lock().await;
                st.stats.custom_ok += 1;
                if let Some(key) = response
                    .headers()
                    .get(FIRMWARE_KEY_HEADER)
                    .and_then(|v| v.to_str().ok())
                {
                    st.hmac_key = key.to_string();
                }
                if let Some(rate) = response
                    .headers()
                    .get("X-Ruuvi-Gateway-Rate")
                    .and_then(|v| v.to_str().ok())
                {
                    let secs = rate
                        .trim()
                        .parse::<u64>()
                        .ok()
                        .filter(|s| (1..=3600).contains(s))
                        .unwrap_or(10);
                    rate_override = Some(Duration::from_secs(secs));
                }
                wait = rate_override.unwrap_or(period);
            }
            other => {
                if let Err(e) = &other {
                    tracing::debug!("post to {} failed: {e}", post.url);
                }
                state.lock().await.stats.custom_failed += 1;
                wait = retry;
            }
        }
    }
}
