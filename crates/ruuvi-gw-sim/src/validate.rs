//! `GET /validate_url` (gateway-local-api §5.13): the gateway itself tests a target and reports
//! the outcome as HTTP 200 + `{"status", "message"}`.

use std::sync::Arc;
use std::time::Duration;

use ruuvi_protocol::gateway::{FirmwareStyle, GatewayDocument};
use ruuvi_protocol::signature::{firmware_signature, FIRMWARE_SIGNATURE_HEADER};
use serde_json::json;
use tokio::sync::Mutex;

use crate::auth::{self, Decision};
use crate::config::RUUVI_CLOUD_URL;
use crate::gateway::GatewayState;
use crate::http::{bare_error, json as json_response, Request, Response};
use crate::sender::{authorization, extended_url, extra_headers, tls_client, tls_material, Post};

const CHECK_TIMEOUT: Duration = Duration::from_secs(25);

/// The secret sent as `encrypted_password`, `…_iv`, `…_hash` (ECDH, §4): `None` when absent,
/// 400 when it does not decrypt with the latest handshake's key.
fn encrypted_password(st: &GatewayState, req: &Request) -> Result<Option<String>, Response> {
    match (
        req.query_param("encrypted_password"),
        req.query_param("encrypted_password_iv"),
        req.query_param("encrypted_password_hash"),
    ) {
        (Some(e), Some(iv), Some(h)) => match crate::ecdh::decrypt(st, &e, &iv, &h) {
            Some(p) => Ok(Some(String::from_utf8_lossy(&p).into_owned())),
            None => Err(bare_error(400)),
        },
        _ => Ok(None),
    }
}

fn outcome(status: u16, message: &str) -> Response {
    json_response(
        200,
        &crate::cjson::print(&json!({"status": status, "message": message})),
        &[],
    )
}

pub async fn handle(state: &Arc<Mutex<GatewayState>>, req: &Request) -> Response {
    let post = {
        let mut st = state.lock().await;
        match auth::decide(req, &st.config, &st.sessions, st.firmware()) {
            Decision::Allowed => {}
            denied => return crate::routes::denial(&mut st, req, denied),
        }
        if req.query_param("validate_type").as_deref() == Some("check_mqtt") {
            // The topic prefix is required (as by the firmware) but a CONNECT does not use it.
            let (Some(url), Some(_), Some(client_id)) = (
                req.query_param("url"),
                req.query_param("mqtt_topic_prefix"),
                req.query_param("mqtt_client_id"),
            ) else {
                return bare_error(400);
            };
            let user = req.query_param("user").unwrap_or_default();
            let password = if req.query_param("use_saved_password").as_deref() == Some("true") {
                st.config.secret("mqtt_pass").to_string()
            } else {
                match encrypted_password(&st, req) {
                    Ok(p) => p.unwrap_or_default(),
                    Err(response) => return response,
                }
            };
            drop(st);
            let (status, message) =
                crate::mqtt_check::check(&url, &client_id, &user, &password).await;
            return outcome(status, &message);
        }
        if req.query_param("validate_type").as_deref() == Some("check_remote_cfg") {
            let Some(url) = req.query_param("url") else {
                return bare_error(400);
            };
            drop(st);
            return crate::remote_cfg::check(state, &url).await;
        }
        if let Some(kind @ ("check_file" | "check_fw_update_url")) =
            req.query_param("validate_type").as_deref()
        {
            let release = kind == "check_fw_update_url";
            let job = download_job(&mut st, req);
            drop(st);
            return match job {
                Ok((url, headers)) => check_download(url, headers, release).await,
                Err(response) => response,
            };
        }
        match prepare(&mut st, req) {
            Ok(Some(post)) => {
                st.validating = true;
                post
            }
            // Ruuvi Cloud is never contacted from tests: the check reports success.
            Ok(None) => return outcome(200, "{}"),
            Err(response) => return response,
        }
    };
    let result = execute(post).await;
    state.lock().await.validating = false;
    result
}

fn prepare(st: &mut GatewayState, req: &Request) -> Result<Option<Post>, Response> {
    let (Some(url), Some(kind), Some(auth_type)) = (
        req.query_param("url"),
        req.query_param("validate_type"),
        req.query_param("auth_type"),
    ) else {
        return Err(bare_error(400));
    };
    let stat = match kind.as_str() {
        "check_post_advs" => false,
        "check_post_stat" => true,
        _ => return Err(bare_error(500)),
    };
    if reqwest::Url::parse(&url).is_err() {
        return Err(outcome(400, &format!("Incorrect URL: '{url}'")));
    }
    if !stat && url == RUUVI_CLOUD_URL {
        return Ok(None);
    }
    let flag = |name: &str| req.query_param(name).as_deref() == Some("true");
    // The secret: the one already saved for this target, or an ECDH-encrypted one.
    let saved = |key: &str| st.config.secret(key).to_string();
    let secret = if flag("use_saved_password") {
        Some(match (stat, auth_type.as_str()) {
            (true, _) => saved("http_stat_pass"),
            (false, "basic") => saved("http_pass"),
            (false, "bearer") => saved("http_bearer_token"),
            (false, _) => saved("http_api_key"),
        })
    } else {
        encrypted_password(st, req)?
    };
    let secret = secret.unwrap_or_default();
    let doc = GatewayDocument {
        coordinates: st.config.str("coordinates").to_string(),
        timestamp: st
            .config
            .bool("ntp_use")
            .then(|| crate::gateway::now_ms() / 1000),
        nonce: Some(u64::from(st.nonce)),
        gw_mac: Some(st.identity.ble_mac),
        tags: vec![],
        rejected: vec![],
    };
    let body = doc.to_firmware_json(FirmwareStyle {
        legacy: st.firmware().numbers_as_strings(),
        ..FirmwareStyle::CURRENT_RAW
    });
    let mut headers = vec![
        ("Content-Type", "application/json".to_string()),
        ("User-Agent", "Ruuvi Gateway HTTP Client/1.0".to_string()),
        (
            FIRMWARE_SIGNATURE_HEADER,
            firmware_signature(st.hmac_key.as_bytes(), body.as_bytes()),
        ),
    ];
    let user = req.query_param("user").unwrap_or_default();
    headers.extend(authorization(&auth_type, &user, &secret).map(|v| ("Authorization", v)));
    let (server_ca, client_identity) = tls_material(
        &st.config.files,
        "http",
        flag("use_ssl_server_cert"),
        flag("use_ssl_client_cert"),
    );
    Ok(Some(Post {
        url: extended_url(
            &url,
            &st.config.files,
            flag("use_extra_http_path"),
            flag("use_extra_http_query"),
        ),
        body,
        headers,
        extra_headers: extra_headers(&st.config.files, flag("use_extra_http_headers")),
        server_ca,
        client_identity,
    }))
}

async fn execute(post: Post) -> Response {
    let client = match tls_client(&post) {
        Ok(c) => c,
        Err(e) => {
            return outcome(
                502,
                &format!("Network error when communicating with the server, err={e}"),
            )
        }
    };
    match post.request(&client).timeout(CHECK_TIMEOUT).send().await {
        Ok(r) => {
            let code = r.status().as_u16();
            // 429 means the server is alive: reported as success.
            if r.status().is_success() || code == 429 {
                return outcome(200, "{}");
            }
            let body = r.text().await.unwrap_or_default();
            outcome(
                code,
                &format!("HTTP response status: {code}, Message from the server: {body}"),
            )
        }
        Err(e) if e.is_timeout() => outcome(502, "Timeout waiting for a response from the server"),
        Err(e) if format!("{e:?}").contains("dns error") => {
            outcome(502, "Failed to resolve hostname")
        }
        Err(e) => outcome(
            502,
            &format!("Network error when communicating with the server, err={e}"),
        ),
    }
}

type Headers = Vec<(&'static str, String)>;

/// URL and Authorization header of a download check (`check_file`, `check_fw_update_url`).
fn download_job(st: &mut GatewayState, req: &Request) -> Result<(String, Headers), Response> {
    let (Some(url), Some(auth_type)) = (req.query_param("url"), req.query_param("auth_type"))
    else {
        return Err(bare_error(400));
    };
    if reqwest::Url::parse(&url).is_err() {
        return Err(outcome(400, &format!("Incorrect URL: '{url}'")));
    }
    let user = req.query_param("user").unwrap_or_default();
    // No saved password here: only an ECDH-encrypted one.
    let secret = encrypted_password(st, req)?.unwrap_or_default();
    if auth_type == "basic" && (user.is_empty() || secret.is_empty()) {
        return Err(bare_error(400));
    }
    let headers = match auth_type.as_str() {
        "basic" | "bearer" => authorization(&auth_type, &user, &secret)
            .map(|v| ("Authorization", v))
            .into_iter()
            .collect(),
        _ => Vec::new(),
    };
    Ok((url, headers))
}

async fn get_ok(
    client: &reqwest::Client,
    url: &str,
    headers: &[(&'static str, String)],
) -> Result<String, Response> {
    let mut request = client.get(url).timeout(CHECK_TIMEOUT);
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    match request.send().await {
        Ok(r) if r.status().is_success() => Ok(r.text().await.unwrap_or_default()),
        Ok(r) => {
            let code = r.status().as_u16();
            let body = r.text().await.unwrap_or_default();
            Err(outcome(
                code,
                &format!("HTTP response status: {code}, Message from the server: {body}"),
            ))
        }
        Err(e) if e.is_timeout() => Err(outcome(
            502,
            "Timeout waiting for a response from the server",
        )),
        Err(e) => Err(outcome(
            502,
            &format!("Network error when communicating with the server, err={e}"),
        )),
    }
}

/// `check_file`: the URL downloads. `check_fw_update_url`: the release JSON downloads and the
/// three binaries of its latest release exist; success carries the release JSON.
async fn check_download(url: String, headers: Headers, release: bool) -> Response {
    let client = reqwest::Client::new();
    let text = match get_ok(&client, &url, &headers).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    if !release {
        return outcome(200, "");
    }
    let Ok(release_json) = serde_json::from_str::<serde_json::Value>(&text) else {
        return outcome(502, "Failed to parse the release information");
    };
    let Some(base) = release_json.pointer("/latest/url").and_then(|u| u.as_str()) else {
        return outcome(502, "Failed to parse the release information");
    };
    for file in ["ruuvi_gateway_esp.bin", "fatfs_gwui.bin", "fatfs_nrf52.bin"] {
        if let Err(r) = get_ok(
            &client,
            &format!("{}/{file}", base.trim_end_matches('/')),
            &[],
        )
        .await
        {
            return r;
        }
    }
    json_response(
        200,
        &crate::cjson::print(&json!({"status": 200, "json": release_json})),
        &[],
    )
}
