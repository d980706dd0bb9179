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
pub(crate) struct Post {
    pub url: String,
    pub body: String,
    pub headers: Vec<(&'static str, String)>,
    /// Lines of the `http_headers` file (custom target, `http_use_extra_http_headers`).
    pub extra_headers: Vec<(String, String)>,
    /// `http_srv_cert` when `http_use_ssl_server_cert`: the only trust anchor.
    pub server_ca: Option<Vec<u8>>,
    /// `http_cli_cert` + `http_cli_key` when `http_use_ssl_client_cert`.
    pub client_identity: Option<Vec<u8>>,
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
    let auth = c.str("http_auth");
    let secret = match auth {
        "basic" => c.secret("http_pass"),
        "bearer" => c.secret("http_bearer_token"),
        _ => c.secret("http_api_key"),
    };
    headers.extend(authorization(auth, c.str("http_user"), secret).map(|v| ("Authorization", v)));
    let (server_ca, client_identity) = tls_material(
        &c.files,
        "http",
        c.bool("http_use_ssl_server_cert"),
        c.bool("http_use_ssl_client_cert"),
    );
    Some(Post {
        url: extended_url(
            c.str("http_url"),
            &c.files,
            c.bool("http_use_extra_http_path"),
            c.bool("http_use_extra_http_query"),
        ),
        body,
        headers,
        extra_headers: extra_headers(&c.files, c.bool("http_use_extra_http_headers")),
        server_ca,
        client_identity,
    })
}

type Files = std::collections::BTreeMap<&'static str, Vec<u8>>;

/// An extra file's text when its flag is on and it is stored (v1.17.2+, spec §5.14).
fn extra_file<'a>(files: &'a Files, on: bool, name: &str) -> Option<&'a str> {
    on.then(|| files.get(name))
        .flatten()
        .and_then(|b| std::str::from_utf8(b).ok())
        .filter(|t| !t.is_empty())
}

/// `url` with the extra path and query appended when their flags are on (the long-URL
/// feature). How the firmware joins them is UNVERIFIED (the spec says only "appended"; the
/// files are stored without a leading `/` or `?`): one `/` between URL and path, `?` before
/// the query (`&` when the URL already has one).
pub(crate) fn extended_url(url: &str, files: &Files, use_path: bool, use_query: bool) -> String {
    let mut url = url.to_string();
    if let Some(path) = extra_file(files, use_path, "http_path") {
        if !url.ends_with('/') {
            url.push('/');
        }
        url.push_str(path.trim_start_matches('/'));
    }
    if let Some(query) = extra_file(files, use_query, "http_query") {
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(query.trim_start_matches('?'));
    }
    url
}

/// The `http_headers` file's lines (each `Name: value` + CRLF) when its flag is on.
pub(crate) fn extra_headers(files: &Files, on: bool) -> Vec<(String, String)> {
    extra_file(files, on, "http_headers")
        .map(|text| {
            text.split("\r\n")
                .filter_map(|line| line.split_once(':'))
                .map(|(name, value)| (name.trim().to_string(), value.trim().to_string()))
                .filter(|(name, _)| !name.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

impl Post {
    /// The POST itself, on `client`, with this post's headers and body.
    pub(crate) fn request(self, client: &reqwest::Client) -> reqwest::RequestBuilder {
        let request = self
            .headers
            .iter()
            .fold(client.post(&self.url), |r, (name, value)| {
                r.header(*name, value)
            });
        self.extra_headers
            .iter()
            .fold(request, |r, (name, value)| r.header(name, value))
            .body(self.body)
    }
}

/// The `Authorization` value for an `http_auth` type (the shapes of seed 001):
/// `Basic base64(user:secret)`, `Bearer secret`, `Token secret`, or the raw key for `api_key`.
pub(crate) fn authorization(auth_type: &str, user: &str, secret: &str) -> Option<String> {
    match auth_type {
        "basic" => Some(format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{secret}"))
        )),
        "bearer" => Some(format!("Bearer {secret}")),
        "token" => Some(format!("Token {secret}")),
        "api_key" => Some(secret.to_string()),
        _ => None,
    }
}

/// A target's TLS material from the store: the server CA (`<target>_srv_cert`) and the client
/// certificate + key (`<target>_cli_cert`, `<target>_cli_key`), each when its flag is on.
/// `target` is `http` (the custom server) or `rcfg` (the remote configuration download).
pub(crate) fn tls_material(
    files: &std::collections::BTreeMap<&'static str, Vec<u8>>,
    target: &str,
    use_server_cert: bool,
    use_client_cert: bool,
) -> (Option<Vec<u8>>, Option<Vec<u8>>) {
    let file = |name: String| files.get(name.as_str()).cloned().unwrap_or_default();
    let server_ca = use_server_cert.then(|| file(format!("{target}_srv_cert")));
    let client_identity = use_client_cert.then(|| {
        let mut pem = file(format!("{target}_cli_cert"));
        pem.push(b'\n');
        pem.extend_from_slice(&file(format!("{target}_cli_key")));
        pem
    });
    (server_ca, client_identity)
}

/// A client for posts with the gateway's TLS options (the server name is always checked).
pub(crate) fn tls_client(post: &Post) -> Result<reqwest::Client, reqwest::Error> {
    client_with(post.server_ca.as_deref(), post.client_identity.as_deref())
}

/// A client that trusts only `server_ca` when given and presents `client_identity` when given.
pub(crate) fn client_with(
    server_ca: Option<&[u8]>,
    client_identity: Option<&[u8]>,
) -> Result<reqwest::Client, reqwest::Error> {
    let mut builder = reqwest::Client::builder()
        .use_rustls_tls()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(10));
    if let Some(ca) = server_ca {
        builder = builder.tls_built_in_root_certs(false);
        for cert in reqwest::Certificate::from_pem_bundle(ca)? {
            builder = builder.add_root_certificate(cert);
        }
    }
    if let Some(identity) = client_identity {
        builder = builder.identity(reqwest::Identity::from_pem(identity)?);
    }
    builder.build()
}

/// The Ruuvi Network Gateway API form (ruuvi-network-api §2): the seed's `gwmac` envelope,
/// signed with secret = device id + device address over secret + nonce + timestamp + body.
fn prepare_network(st: &mut GatewayState, url: &str) -> Post {
    use ruuvi_protocol::signature::{
        network_secret, network_signature, NETWORK_NONCE_HEADER, NETWORK_SIGNATURE_HEADER,
        NETWORK_TIMESTAMP_HEADER,
    };
    let advs = st.latest_advertisements();
    let now_s = crate::gateway::now_ms() / 1000;
    let mut tags = serde_json::Map::new();
    for a in &advs {
        tags.insert(
            a.mac.to_string(),
            serde_json::json!({"rssi": a.rssi, "timestamp": a.at_ms / 1000, "data": hex::encode_upper(&a.data)}),
        );
    }
    let body = serde_json::json!({"data": {
        "coordinates": st.config.str("coordinates"),
        "timestamp": now_s,
        "gwmac": st.identity.ble_mac.to_string(),
        "tags": tags,
    }})
    .to_string();
    let nonce = st.rng.next_u64().to_string();
    let timestamp = now_s.to_string();
    let secret = network_secret(
        &st.identity.device_id_string(),
        &st.identity.ble_mac.to_string(),
    );
    let signature = network_signature(&secret, &nonce, &timestamp, body.as_bytes());
    Post {
        url: url.to_string(),
        body,
        headers: vec![
            ("Content-Type", "application/json".to_string()),
            (NETWORK_TIMESTAMP_HEADER, timestamp),
            (NETWORK_NONCE_HEADER, nonce),
            (NETWORK_SIGNATURE_HEADER, signature),
        ],
        extra_headers: Vec::new(),
        server_ca: None,
        client_identity: None,
    }
}

pub async fn run(state: Arc<Mutex<GatewayState>>, mut stopped: watch::Receiver<bool>) {
    let Ok(client) = reqwest::Client::builder()
        .use_rustls_tls()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(10))
        .build()
    else {
        tracing::error!("cannot build the HTTP client; the sender is off");
        return;
    };
    // Set by `X-Ruuvi-Gateway-Rate`.
    let mut rate_override: Option<Duration> = None;
    let config_changed = state.lock().await.config_changed.clone();
    let mut wait = DEFAULT_PERIOD;
    loop {
        tokio::select! {
            _ = stopped.changed() => return,
            _ = tokio::time::sleep(wait) => {}
            // New settings: restart the timer with the new period (nothing is sent now).
            _ = config_changed.notified() => {
                let st = state.lock().await;
                wait = if st.firmware().has_http_period() {
                    Duration::from_secs(st.config.u64("http_period").max(1))
                } else {
                    DEFAULT_PERIOD
                };
                continue;
            }
        }
        let (post, network, period, retry) = {
            let mut st = state.lock().await;
            let period = if st.firmware().has_http_period() {
                Duration::from_secs(st.config.u64("http_period").max(1))
            } else {
                DEFAULT_PERIOD
            };
            let retry = st.options.retry_after_failure;
            // Relaying is suspended in configuration mode and during /validate_url.
            let post = if st.in_config_mode() || st.validating {
                None
            } else {
                prepare(&mut st)
            };
            let network = match (st.options.network_url.clone(), st.in_config_mode()) {
                (Some(url), false) => Some(prepare_network(&mut st, &url)),
                _ => None,
            };
            (post, network, rate_override.unwrap_or(period), retry)
        };
        if let Some(network) = network {
            let url = network.url.clone();
            if let Err(e) = network.request(&client).send().await {
                tracing::debug!("post to {url} failed: {e}");
            }
        }
        let Some(post) = post else {
            wait = period;
            continue;
        };
        let dedicated;
        let client = if post.server_ca.is_some() || post.client_identity.is_some() {
            match tls_client(&post) {
                Ok(c) => {
                    dedicated = c;
                    &dedicated
                }
                Err(e) => {
                    // Bad certificate material fails like a failed connection does.
                    tracing::debug!("TLS settings unusable: {e}");
                    state.lock().await.stats.custom_failed += 1;
                    wait = retry;
                    continue;
                }
            }
        } else {
            &client
        };
        let url = post.url.clone();
        match post.request(client).send().await {
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
                    tracing::debug!("post to {url} failed: {e}");
                }
                state.lock().await.stats.custom_failed += 1;
                wait = retry;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Firmware, GatewayOptions};
    use serde_json::json;

    fn state_with(body: serde_json::Value) -> GatewayState {
        let mut st = GatewayState::new(GatewayOptions::new(
            "127.0.0.1:0".parse().unwrap(),
            Firmware::Head,
        ));
        st.config
            .apply_lan_post(body.as_object().unwrap(), Firmware::Head);
        st
    }

    fn authorization(body: serde_json::Value) -> Option<String> {
        let mut st = state_with(body);
        let post = prepare(&mut st).expect("custom target on");
        post.headers
            .into_iter()
            .find(|(k, _)| *k == "Authorization")
            .map(|(_, v)| v)
    }

    #[test]
    fn authorization_header_per_http_auth() {
        let base = |auth: &str| {
            json!({"use_http": true, "http_url": "http://127.0.0.1:9/", "http_auth": auth,
            "http_user": "user1", "http_pass": "pass1", "http_bearer_token": "token123", "http_api_key": "token125"})
        };
        // The shapes of seed 001: Basic base64(user:pass), Bearer, Token, and the raw API key.
        assert_eq!(
            authorization(base("basic")).unwrap(),
            "Basic dXNlcjE6cGFzczE="
        );
        assert_eq!(authorization(base("bearer")).unwrap(), "Bearer token123");
        assert_eq!(authorization(base("token")).unwrap(), "Token token125");
        assert_eq!(authorization(base("api_key")).unwrap(), "token125");
        assert_eq!(authorization(base("none")), None);
    }

    #[test]
    fn nothing_to_send_when_both_targets_are_off_and_cloud_is_only_counted() {
        let mut st = state_with(json!({"use_http_ruuvi": false, "use_http": false}));
        assert!(prepare(&mut st).is_none());
        let mut st = state_with(json!({"use_http_ruuvi": true, "use_http": false}));
        let nonce = st.nonce;
        assert!(prepare(&mut st).is_none());
        assert_eq!(
            (st.stats.ruuvi_cloud_skipped, st.nonce),
            (1, nonce.wrapping_add(1))
        );
    }

    #[test]
    fn extra_path_query_and_headers_follow_their_flags() {
        let mut st = state_with(
            json!({"use_http": true, "http_url": "https://desk:8443/ruuvi",
            "http_auth": "none", "http_use_extra_http_path": true,
            "http_use_extra_http_query": true, "http_use_extra_http_headers": true}),
        );
        st.config.files.insert("http_path", b"old/path".to_vec());
        st.config.files.insert("http_query", b"site=3&k=v".to_vec());
        st.config.files.insert(
            "http_headers",
            b"X-Site: three\r\nX-Api-Key: k1\r\n".to_vec(),
        );
        let post = prepare(&mut st).unwrap();
        assert_eq!(post.url, "https://desk:8443/ruuvi/old/path?site=3&k=v");
        assert_eq!(
            post.extra_headers,
            [
                ("X-Site".to_string(), "three".to_string()),
                ("X-Api-Key".to_string(), "k1".to_string())
            ]
        );
        // The files stay; with the flags off nothing of them is sent.
        st.config.apply_lan_post(
            json!({"http_use_extra_http_path": false, "http_use_extra_http_query": false,
                "http_use_extra_http_headers": false})
            .as_object()
            .unwrap(),
            Firmware::Head,
        );
        let post = prepare(&mut st).unwrap();
        assert_eq!(post.url, "https://desk:8443/ruuvi");
        assert!(post.extra_headers.is_empty());
        assert_eq!(
            extended_url("http://h/?a=1", &st.config.files, false, true),
            "http://h/?a=1&site=3&k=v"
        );
    }
}
