//! What each path answers (gateway-local-api §5), after the shared auth check (§3.8).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use ruuvi_protocol::gateway::{FirmwareStyle, TagFields, TagTime};
use serde_json::Value;
use tokio::sync::Mutex;

use crate::auth::{self, Decision, LoginOutcome, WwwAuth};
use crate::config::{LanAuth, STORAGE_FILES};
use crate::gateway::{GatewayState, MetricsQuirk};
use crate::http::{
    self, auth_redirect, bare_error, forbidden_empty, json, Method, Request, Response,
};

pub async fn handle(
    state: &Arc<Mutex<GatewayState>>,
    req: Request,
    local: Option<SocketAddr>,
) -> Response {
    {
        let mut st = state.lock().await;
        st.poll_fw_update();
        if st.updating() && crate::fw_update::blocked_while_updating(&req) {
            return bare_error(409);
        }
    }
    match (req.method, req.path.as_str()) {
        (Method::Post, "fw_update.json") => return crate::fw_update::start(state, &req).await,
        (Method::Post, "gw_cfg_download") => {
            return match authorize(state, &req).await {
                Ok(()) => crate::remote_cfg::download_now(state).await,
                Err(denied) => denied,
            };
        }
        (Method::Get, "firmware_update.json") => {
            return crate::fw_update::release_info(state, &req).await
        }
        _ => {}
    }
    if req.method == Method::Get && req.path == "validate_url" {
        // Makes its own network request: the lock is not held while it runs, but the server
        // still answers nobody else meanwhile (requests are handled one at a time).
        return crate::validate::handle(state, &req).await;
    }
    let mut st = state.lock().await;
    let fw = st.firmware();
    let post_delay = st.options.post_delay;
    let response = route(&mut st, &req, local);
    if matches!(req.method, Method::Post | Method::Delete) && response.code == 200 {
        st.save();
    }
    drop(st);
    // The firmware sleeps before answering every POST (#917), and the newest one before every
    // 401/403 (brute-force protection).
    if req.method == Method::Post && fw.delays_posts() {
        tokio::time::sleep(post_delay).await;
    }
    if matches!(response.code, 401 | 403) && fw.delays_auth_failures() {
        tokio::time::sleep(post_delay).await;
    }
    response
}

fn route(st: &mut GatewayState, req: &Request, local: Option<SocketAddr>) -> Response {
    if req.method == Method::Other {
        return bare_error(400);
    }
    // ECDH handshake (v1.15+): any GET may carry the client's key; ours rides on the answer.
    if req.method == Method::Get && st.firmware().has_ecdh() {
        if let Some(client_key) = req.header("Ruuvi-Ecdh-Pub-Key") {
            return match crate::ecdh::handshake(st, &client_key) {
                Ok(ours) => route_plain(st, req, local).with_header("Ruuvi-Ecdh-Pub-Key", &ours),
                Err(_) => bare_error(500),
            };
        }
    }
    route_plain(st, req, local)
}

fn route_plain(st: &mut GatewayState, req: &Request, local: Option<SocketAddr>) -> Response {
    if req.hotspot {
        return hotspot(st, req, local);
    }
    lan(st, req, local)
}

/// Requests over the gateway's own Wi-Fi hotspot (§2): captive portal for foreign host names,
/// no authentication, and the network endpoints that the LAN may not use.
fn hotspot(st: &mut GatewayState, req: &Request, local: Option<SocketAddr>) -> Response {
    if !req.header("Host").unwrap_or_default().contains("10.10.0.1") {
        return http::captive_redirect();
    }
    let id = &st.identity;
    match (req.method, req.path.as_str()) {
        (Method::Get, "auth") => json(
            200,
            &auth_body(st, "lan_auth_allow", false, true, None),
            &[],
        ),
        // Answered without checking anything, with the configured LAN auth type.
        (Method::Post, "auth") => {
            let reported = st.config.reported_lan_auth().as_str();
            json(200, &auth_body(st, reported, false, true, None), &[])
        }
        (Method::Delete, "auth") => json(200, "{}", &[]),
        (Method::Get, "info.json") => {
            let info = serde_json::json!({
                "ESP_FW": id.firmware.version_string(),
                "NRF_FW": id.firmware.nrf52_version(),
                "DEVICE_ADDR": id.ble_mac.to_string(),
                "DEVICE_ID": id.device_id_string(),
                "ETHERNET_MAC": id.eth_mac.to_string(),
                "WIFI_MAC": id.wifi_mac.to_string(),
                "TAGS_SEEN": st.tags.len(),
                "BUTTON_PRESSES": 0,
            });
            json(200, &crate::cjson::print(&info), &[])
        }
        (Method::Post, "connect.json") => match serde_json::from_slice::<Value>(&req.body) {
            Ok(Value::Object(o)) if o.contains_key("ssid") && o.contains_key("password") => {
                if o["ssid"].is_null() && !o["password"].is_null() {
                    bare_error(400)
                } else {
                    json(200, "{}", &[])
                }
            }
            _ => bare_error(400),
        },
        (Method::Delete, "connect.json") | (Method::Post, "connect_wps") => json(200, "{}", &[]),
        (Method::Post, "ruuvi.json") => {
            let plain = match crate::ecdh::unwrap_body(st, req) {
                Ok(p) => p,
                Err(code) => return bare_error(code),
            };
            match serde_json::from_slice::<Value>(&plain) {
                // With a boolean `use_eth` it is a network update and nothing else is used.
                Ok(Value::Object(body)) if body.get("use_eth").is_some_and(Value::is_boolean) => {
                    st.config.apply_network_post(&body);
                    json(200, "{}", &[])
                }
                _ => post_ruuvi_json(st, req),
            }
        }
        _ => lan_endpoints(st, req, local),
    }
}

fn lan(st: &mut GatewayState, req: &Request, local: Option<SocketAddr>) -> Response {
    if req.path == "auth" {
        return match req.method {
            Method::Get => get_auth(st, req),
            Method::Post => post_auth(st, req),
            _ => delete_auth(st, req),
        };
    }
    if !auth::is_checked(req) {
        return static_file(req);
    }
    match auth::decide(req, &st.config, &st.sessions, st.firmware()) {
        Decision::Allowed => {}
        denied => return denial(st, req, denied),
    }
    lan_endpoints(st, req, local)
}

/// The endpoints, once the request may reach them.
fn lan_endpoints(st: &mut GatewayState, req: &Request, local: Option<SocketAddr>) -> Response {
    if !auth::is_checked(req) {
        return static_file(req);
    }
    let fw = st.firmware();
    match (req.method, req.path.as_str()) {
        (Method::Get, "ruuvi.json") => {
            st.config_mode_until = Some(Instant::now() + st.options.config_mode);
            json(200, &st.config.to_get_json(&st.identity), &[])
        }
        (Method::Post, "ruuvi.json") => post_ruuvi_json(st, req),
        (Method::Get, "status.json") => {
            if st.in_config_mode() {
                st.config_mode_until = Some(Instant::now() + st.options.config_mode);
            }
            json(200, &status_json(st, local), &[])
        }
        (Method::Get, "history") => history(st, req),
        (Method::Get, "metrics") => match st.options.quirks.metrics {
            MetricsQuirk::AsFirmware => {
                http::content(200, http::METRICS, metrics(st).as_bytes(), &[])
            }
            MetricsQuirk::Redirect => auth_redirect(&req.header("Host").unwrap_or_default(), None),
            MetricsQuirk::WithoutInfo => {
                let text = metrics(st);
                let kept: String = text
                    .lines()
                    .filter(|l| !l.starts_with("ruuvigw_info"))
                    .map(|l| format!("{l}\n"))
                    .collect();
                http::content(200, http::METRICS, kept.as_bytes(), &[])
            }
        },
        (Method::Get, "ap.json") => json(
            200,
            "[{\"ssid\":\"SimulatedWiFi\",\"chan\":6,\"rssi\":-55,\"auth\":3}\n]\n",
            &[],
        ),
        (Method::Post, "bluetooth_scanning.json") if fw.has_cert_store() => {
            // Applied to the radio immediately, not saved.
            match serde_json::from_slice::<Value>(&req.body) {
                Ok(Value::Object(_)) => json(200, "{}", &[]),
                _ => bare_error(503),
            }
        }
        (Method::Post | Method::Delete, "ssl_cert") if fw.has_cert_store() => file_store(st, req),
        (_, "extra_cfg") if fw.has_extra_cfg() => file_store(st, req),
        (Method::Post, "init_storage") if fw.has_cert_store() => json(200, "{}", &[]),
        (Method::Post, "fw_update_reset") => {
            st.fw_update = None;
            json(200, "{}", &[])
        }
        (Method::Post, "fw_update_url.json") if fw.has_http_period() => {
            match serde_json::from_slice::<Value>(&req.body)
                .ok()
                .and_then(|v| v.get("url").and_then(Value::as_str).map(str::to_string))
            {
                Some(url) => {
                    let mut body = serde_json::Map::new();
                    body.insert("fw_update_url".into(), Value::String(url));
                    st.config.apply_fw_update_url(&body);
                    json(200, "{\"status\":200,\"message\":\"OK\"}", &[])
                }
                None => json(
                    200,
                    "{\"status\":400,\"message\":\"Failed to parse HTTP body\"}",
                    &[],
                ),
            }
        }
        // Only over the gateway's own hotspot.
        (Method::Get, "info.json") => bare_error(404),
        (Method::Post | Method::Delete, "connect.json") | (Method::Post, "connect_wps") => {
            forbidden_empty()
        }
        _ => bare_error(404),
    }
}

fn auth_json_response(
    st: &GatewayState,
    code: u16,
    authenticated: bool,
    message: Option<&str>,
    extra: &[(&str, String)],
) -> Response {
    let reported = st.config.reported_lan_auth().as_str();
    json(
        code,
        &auth_body(st, reported, true, authenticated, message),
        extra,
    )
}

/// The shared auth check (§3.8) for the endpoints that do their own network I/O and so run
/// outside the state lock; hotspot requests always pass.
pub(crate) async fn authorize(
    state: &Arc<Mutex<GatewayState>>,
    req: &Request,
) -> Result<(), Response> {
    let mut st = state.lock().await;
    if req.hotspot {
        return Ok(());
    }
    match auth::decide(req, &st.config, &st.sessions, st.firmware()) {
        Decision::Allowed => Ok(()),
        denied => Err(denial(&mut st, req, denied)),
    }
}

pub(crate) fn denial(st: &mut GatewayState, req: &Request, decision: Decision) -> Response {
    match decision {
        Decision::Allowed => unreachable!("handled by the caller"),
        Decision::Redirect { prev_url } => {
            auth_redirect(&req.header("Host").unwrap_or_default(), prev_url.as_deref())
        }
        Decision::Forbidden => json(403, &auth_body(st, "lan_auth_deny", true, false, None), &[]),
        Decision::Unauthorized {
            reported,
            www_authenticate,
        } => {
            // The realm is the host name from v1.14 on, the hotspot SSID before (§3.2); the
            // stored Digest hash is made with it, so the challenge must carry the same.
            let realm = st.identity.realm();
            let extra = match www_authenticate {
                Some(WwwAuth::Basic) => vec![("WWW-Authenticate", auth::basic_header(&realm))],
                Some(WwwAuth::Digest) => {
                    vec![("WWW-Authenticate", auth::digest_header(&realm, &mut st.rng))]
                }
                None => vec![],
            };
            json(401, &auth_body(st, reported, true, false, None), &extra)
        }
    }
}

/// The auth JSON (§3.7), with `lan` as 0/1 for a peer that writes it so (Ruuvi's own
/// development simulator, spec §10.1).
fn auth_body(
    st: &GatewayState,
    reported: &str,
    lan: bool,
    authenticated: bool,
    message: Option<&str>,
) -> String {
    let body = auth::auth_json(&st.identity, reported, lan, authenticated, message);
    if st.options.quirks.lan_as_number {
        body.replacen(
            &format!("\"lan\": {lan}"),
            &format!("\"lan\": {}", u8::from(lan)),
            1,
        )
    } else {
        body
    }
}

fn challenge_headers(st: &GatewayState, c: &auth::Challenge) -> Vec<(&'static str, String)> {
    vec![
        (
            "WWW-Authenticate",
            auth::interactive_header(&st.identity.realm(), c),
        ),
        ("Set-Cookie", format!("RUUVISESSION={}", c.session_id)),
    ]
}

fn get_auth(st: &mut GatewayState, req: &Request) -> Response {
    let cookie = req.cookie("RUUVISESSION", 16);
    let authorized = cookie
        .as_deref()
        .is_some_and(|c| st.sessions.is_authorized(c, req.peer));
    let authorization = req.header("Authorization").unwrap_or_default();
    match st.config.lan_auth() {
        LanAuth::Default | LanAuth::Ruuvi if authorized => {
            auth_json_response(st, 200, true, None, &[])
        }
        LanAuth::Default | LanAuth::Ruuvi => {
            let c = st.sessions.new_challenge(req.peer);
            let extra = challenge_headers(st, &c);
            auth_json_response(st, 401, false, None, &extra)
        }
        LanAuth::Allow if authorized => auth_json_response(st, 200, true, None, &[]),
        LanAuth::Allow => {
            // 200, but a session is still issued (and pre-authorized).
            let c = st.sessions.pre_authorized(req.peer);
            let extra = challenge_headers(st, &c);
            auth_json_response(st, 200, true, None, &extra)
        }
        LanAuth::Deny => auth_json_response(st, 403, false, None, &[]),
        LanAuth::Basic if auth::basic_ok(&authorization, &st.config) => {
            auth_json_response(st, 200, true, None, &[])
        }
        LanAuth::Basic => {
            let extra = [("WWW-Authenticate", auth::basic_header(&st.identity.realm()))];
            auth_json_response(st, 401, false, None, &extra)
        }
        LanAuth::Digest if auth::digest_ok(&authorization, &st.config) => {
            auth_json_response(st, 200, true, None, &[])
        }
        LanAuth::Digest => {
            let header = auth::digest_header(&st.identity.realm(), &mut st.rng);
            auth_json_response(st, 401, false, None, &[("WWW-Authenticate", header)])
        }
    }
}

fn post_auth(st: &mut GatewayState, req: &Request) -> Response {
    if !matches!(st.config.lan_auth(), LanAuth::Default | LanAuth::Ruuvi) {
        return bare_error(503);
    }
    let cookie = req.cookie("RUUVISESSION", 16);
    match st
        .sessions
        .login(cookie.as_deref(), req.peer, &req.body, &st.config)
    {
        LoginOutcome::Accepted => {
            let extra: Vec<(&str, String)> =
                match req.cookie("RUUVI_PREV_URL", 64).filter(|p| !p.is_empty()) {
                    Some(prev) => vec![
                        ("Ruuvi-prev-url", prev),
                        (
                            "Set-Cookie",
                            "RUUVI_PREV_URL=; Max-Age=-1; Expires=Thu, 01 Jan 1970 00:00:00 GMT"
                                .into(),
                        ),
                    ],
                    None => vec![],
                };
            auth_json_response(st, 200, true, None, &extra)
        }
        LoginOutcome::Rejected(message) => {
            let c = st.sessions.new_challenge(req.peer);
            let extra = challenge_headers(st, &c);
            auth_json_response(st, 401, false, message, &extra)
        }
    }
}

fn delete_auth(st: &mut GatewayState, req: &Request) -> Response {
    match auth::decide(req, &st.config, &st.sessions, st.firmware()) {
        Decision::Allowed => {}
        denied => return denial(st, req, denied),
    }
    if !matches!(st.config.lan_auth(), LanAuth::Default | LanAuth::Ruuvi) {
        return bare_error(503);
    }
    match req.cookie("RUUVISESSION", 16) {
        Some(c) if st.sessions.remove(&c) => json(200, "{}", &[]),
        _ => auth_json_response(st, 401, false, None, &[]),
    }
}

fn post_ruuvi_json(st: &mut GatewayState, req: &Request) -> Response {
    let plain = match crate::ecdh::unwrap_body(st, req) {
        Ok(p) => p,
        Err(code) => return bare_error(code),
    };
    let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(&plain) else {
        return bare_error(503);
    };
    let fw = st.firmware();
    if st.config.apply_lan_post(&body, fw) {
        st.sessions.drop_all();
    }
    st.config_changed.notify_one();
    if st.in_config_mode() {
        let extra = if st.config.bool("remote_cfg_use") {
            st.options.config_mode
        } else {
            st.options.config_mode_after_post
        };
        st.config_mode_until = Some(Instant::now() + extra);
    }
    json(200, "{}", &[])
}

fn status_json(st: &GatewayState, local: Option<SocketAddr>) -> String {
    let ip = local.map_or_else(|| "127.0.0.1".to_string(), |a| a.ip().to_string());
    let router = match local.map(|a| a.ip()) {
        Some(std::net::IpAddr::V4(v4)) => {
            let o = v4.octets();
            format!("{}.{}.{}.1", o[0], o[1], o[2])
        }
        _ => String::new(),
    };
    // Connected over Ethernet: `ssid` is null.
    let mut out = format!("{{\"ssid\":null,\"ip\":\"{ip}\",\"netmask\":\"255.255.255.0\",\"gw\":\"{router}\",\"dhcp\":\"{router}\",\"urc\":0");
    if st.firmware().has_time_valid_flag() {
        out.push_str(",\"is_time_valid\":1");
    }
    if let Some(update) = &st.fw_update {
        let (stage, pct) = update.progress();
        out.push_str(&format!(
            ",\"extra\":{{\"fw_updating\":{stage},\"percentage\":{pct}}}"
        ));
    }
    out.push_str("}\n");
    out
}

fn history(st: &mut GatewayState, req: &Request) -> Response {
    let fw = st.firmware();
    let advs = st.latest_advertisements();
    let mut doc = st.document(&advs, None);
    let ntp = st.config.bool("ntp_use");
    if ntp {
        let max_age: u64 = req
            .query_param("time")
            .and_then(|t| t.parse().ok())
            .unwrap_or(60);
        let now_s = doc.timestamp.unwrap_or(0);
        doc.tags.retain(|t| matches!(t.time, Some(TagTime::Timestamp(ts)) if now_s.saturating_sub(ts) <= max_age));
    } else if let Some(n) = req
        .query_param("counter")
        .and_then(|c| c.parse::<u64>().ok())
    {
        doc.tags
            .retain(|t| matches!(t.time, Some(TagTime::Counter(c)) if c > n));
    }
    let decode = fw.decodes_df5() && req.query_param("decode").as_deref() != Some("false");
    let style = FirmwareStyle {
        fields: if decode {
            TagFields::RawAndDecoded
        } else {
            TagFields::Raw
        },
        legacy: fw.numbers_as_strings(),
        air_formats: fw.decodes_air_formats(),
    };
    json(200, &doc.to_firmware_json(style), &[])
}

fn metrics(st: &GatewayState) -> String {
    let id = &st.identity;
    let received = st.received_advertisements();
    let extended = st
        .tags
        .iter()
        .filter(|t| t.kind == crate::tags::TagKind::RuuviAir)
        .count() as u64
        * received
        / st.tags.len().max(1) as u64;
    format!(
        "ruuvigw_received_advertisements {received}\n\
         ruuvigw_received_ext_advertisements {extended}\n\
         ruuvigw_received_coded_advertisements 0\n\
         ruuvigw_uptime_us {}\n\
         ruuvigw_nrf_self_reboot_cnt 0\n\
         ruuvigw_nrf_ext_hw_reset_cnt 0\n\
         ruuvigw_nrf_lost_ack_cnt 0\n\
         ruuvigw_heap_free_bytes{{capability=\"MALLOC_CAP_EXEC\"}} 180000\n\
         ruuvigw_heap_free_bytes{{capability=\"MALLOC_CAP_8BIT\"}} 2100000\n\
         ruuvigw_heap_largest_free_block_bytes{{capability=\"MALLOC_CAP_EXEC\"}} 110000\n\
         ruuvigw_heap_largest_free_block_bytes{{capability=\"MALLOC_CAP_8BIT\"}} 110000\n\
         ruuvigw_info{{mac=\"{}\",esp_fw=\"{}\",nrf_fw=\"{}\"}} 1\n",
        st.boot.elapsed().as_micros(),
        id.ble_mac,
        id.firmware.version_string(),
        id.firmware.nrf52_version(),
    )
}

fn static_file(req: &Request) -> Response {
    match (req.method, req.path.as_str()) {
        (Method::Get, "" | "index.html") => http::content(
            200,
            http::HTML,
            b"<!doctype html><html><head><title>Ruuvi Gateway</title></head><body>Ruuvi Gateway (simulated)</body></html>",
            &[],
        ),
        _ => bare_error(404),
    }
}

/// The certificate / extra-file store (§5.14): PEM files can be written and deleted but
/// never read back; the three blob files (v1.17.2+) can be read with `GET /extra_cfg`.
fn file_store(st: &mut GatewayState, req: &Request) -> Response {
    let fw = st.firmware();
    let names: &[&'static str] = if fw.has_extra_cfg() {
        &STORAGE_FILES
    } else {
        &STORAGE_FILES[..12]
    };
    let Some(name) = req
        .query_param("file")
        .and_then(|f| names.iter().copied().find(|n| *n == f))
    else {
        return bare_error(400);
    };
    let is_blob = matches!(name, "http_path" | "http_query" | "http_headers");
    match req.method {
        Method::Get if !is_blob => forbidden_empty(),
        Method::Get => match st.config.files.get(name) {
            Some(content) => http::content(200, http::TEXT, content, &[]),
            None => bare_error(404),
        },
        Method::Delete => {
            st.config.files.remove(name);
            json(200, "{}", &[])
        }
        _ => {
            let content = match crate::ecdh::unwrap_body(st, req) {
                Ok(c) => c,
                Err(code) => return bare_error(code),
            };
            // Extra header lines must each end with CRLF, the last one included.
            if name == "http_headers" && !content.is_empty() && !content.ends_with(b"\r\n") {
                return bare_error(400);
            }
            if st.options.storage_write_errors.iter().any(|f| f == name) {
                return bare_error(500);
            }
            st.config.files.insert(name, content);
            json(200, "{}", &[])
        }
    }
}
