//! Writes `fuzz/seeds/<target>/` for every target: the spec's examples and what the project's
//! own parts really send — gateway simulators of every firmware answering over loopback, the
//! gateway client's bodies, our encoders' output, signed posts for each receiver policy. Run it
//! when a format changes: `cargo test -p ruuvi-fuzz --test seeds -- --ignored`. (The
//! advertisement and gateway_json seeds predate it and are kept as they are.)

use std::path::{Path, PathBuf};
use std::time::Duration;

use ruuvi_gw_sim::firmware::Firmware;
use ruuvi_gw_sim::{GatewayOptions, RunningGateway};
use ruuvi_protocol::signature::{firmware_signature, network_signature};
use ruuvi_protocol::{FirmwareStyle, GatewayDocument, MqttMessage, TagFields};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const DF5: &str = "0201061BFF99040515714D9FC56DFFF0FFF803E4B516E84D7EF41F0C28CBD6";
const TIME: i64 = 1_795_000_000;

fn seeds(target: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/seeds")
        .join(target);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(target: &str, name: &str, bytes: impl AsRef<[u8]>) {
    std::fs::write(seeds(target).join(name), bytes).unwrap();
}

fn post_body(gw: &str, tags: &[(&str, &str)]) -> String {
    let tags: Vec<String> = tags
        .iter()
        .map(|(mac, data)| {
            format!(r#""{mac}": {{"rssi": -60, "timestamp": {TIME}, "data": "{data}"}}"#)
        })
        .collect();
    format!(
        r#"{{"data": {{"coordinates": "", "timestamp": {TIME}, "nonce": 1, "gw_mac": "{gw}", "tags": {{{}}}}}}}"#,
        tags.join(", ")
    )
}

fn http_post(headers: &[(&str, String)], body: &str) -> String {
    let mut out = format!(
        "POST /record HTTP/1.1\r\nHost: desk.local\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    out.push_str(body);
    out
}

fn receiver_request() {
    use ruuvi_fuzz::receiver_gateways::*;
    let t = "receiver_request";
    let b64 = |s: &str| {
        // Basic user:secret without a base64 crate: the seed only needs the right bytes.
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let bytes = s.as_bytes();
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let n = (u32::from(chunk[0]) << 16)
                | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
                | u32::from(*chunk.get(2).unwrap_or(&0));
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        out
    };
    let basic = post_body(BASIC_GATEWAY, &[("F4:1F:0C:28:CB:D6", DF5)]);
    write(
        t,
        "basic",
        http_post(
            &[(
                "Authorization",
                format!("Basic {}", b64(&format!("user:{SECRET}"))),
            )],
            &basic,
        ),
    );
    let bearer = post_body(BEARER_HMAC_GATEWAY, &[("F4:1F:0C:28:CB:D7", DF5)]);
    write(
        t,
        "bearer_hmac",
        http_post(
            &[
                ("Authorization", format!("Bearer {SECRET}")),
                (
                    "Ruuvi-HMAC-SHA256",
                    firmware_signature(SECRET.as_bytes(), bearer.as_bytes()),
                ),
            ],
            &bearer,
        ),
    );
    let rotating = post_body(ROTATING_GATEWAY, &[("F4:1F:0C:28:CB:D8", DF5)]);
    write(
        t,
        "rotating_hmac",
        http_post(
            &[(
                "Ruuvi-HMAC-SHA256",
                firmware_signature(SECRET.as_bytes(), rotating.as_bytes()),
            )],
            &rotating,
        ),
    );
    let cert = post_body(CERT_GATEWAY, &[("F4:1F:0C:28:CB:D9", DF5)]);
    write(
        t,
        "client_cert",
        http_post(&[("Authorization", SECRET.to_string())], &cert),
    );
    let signed = post_body(WHITELISTED_GATEWAY, &[("F4:1F:0C:28:CB:DA", DF5)]);
    let ts = TIME.to_string();
    write(
        t,
        "signed_form",
        http_post(
            &[
                ("x-ruuvi-timestamp", ts.clone()),
                ("x-ruuvi-nonce", "n-1".into()),
                (
                    "x-ruuvi-signature",
                    network_signature(SECRET, "n-1", &ts, signed.as_bytes()),
                ),
            ],
            &signed,
        ),
    );
    write(
        t,
        "signed_form_crafted_time",
        http_post(
            &[
                ("x-ruuvi-timestamp", "-9223372036854775807".into()),
                ("x-ruuvi-nonce", "n-2".into()),
                ("x-ruuvi-signature", "00".into()),
            ],
            &signed,
        ),
    );
    let unknown = post_body("C8:25:2D:8E:9C:2C", &[("F4:1F:0C:28:CB:DB", DF5)]);
    // Two requests on one connection (keep-alive), the second cut short.
    let mut pipelined = http_post(&[], &unknown);
    pipelined.push_str(&http_post(&[], &unknown)[..80]);
    write(t, "pipelined_then_cut", pipelined);
    write(
        t,
        "chunked",
        format!(
            "POST /record HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{unknown}\r\n0\r\n\r\n",
            unknown.len()
        ),
    );
    write(
        t,
        "too_large",
        "POST /record HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n{}",
    );
    write(t, "get", "GET /record HTTP/1.1\r\nHost: x\r\n\r\n");
}

fn internal_api() {
    let t = "internal_api";
    write(
        t,
        "whitelist",
        r#"POST /whitelist
[{"macAddress": "C8:25:2D:8E:9C:2C", "secret": "00:11:22:33:44:55:66:77C8:25:2D:8E:9C:2C"}]"#,
    );
    write(
        t,
        "gwinfo",
        "GET /gwinfo?gateway=C8%3A25%3A2D%3A8E%3A9C%3A2C\n",
    );
    write(
        t,
        "register_sensor",
        "POST /register-sensor\n{\"macAddress\": \"F4:1F:0C:28:CB:D6\", \"secret\": \"s\"}",
    );
    write(
        t,
        "subscription",
        r#"POST /subscription-register shop
{"subscriptionName": "Ultimate", "validDays": 365, "maxClaims": 10, "maxHistoryDays": 3650, "maxResolutionMinutes": 1, "maxSharesPerSensor": 10, "claimCode": "ABC-123", "creatorId": 42}"#,
    );
}

/// Raw answers of a simulated gateway of firmware `fw` to what Ruuvi Desk asks.
async fn sim_answers(fw: Firmware) -> Vec<(String, Vec<u8>)> {
    let mut o = GatewayOptions::new("127.0.0.1:0".parse().unwrap(), fw);
    o.index = 3;
    o.api_key_rw = "RW".into();
    let gw = RunningGateway::start(o).await.unwrap();
    let mut out = Vec::new();
    for (name, request) in [
        ("root", "GET / HTTP/1.1\r\nHost: x\r\n\r\n".to_string()),
        ("auth", "GET /auth HTTP/1.1\r\nHost: x\r\n\r\n".to_string()),
        ("status", "GET /status.json HTTP/1.1\r\nHost: x\r\n\r\n".to_string()),
        (
            "ruuvi_json",
            "GET /ruuvi.json HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer RW\r\n\r\n".to_string(),
        ),
        (
            "history",
            "GET /history HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer RW\r\n\r\n".to_string(),
        ),
        (
            "bad_login",
            "POST /auth HTTP/1.1\r\nHost: x\r\nContent-Length: 33\r\n\r\n{\"login\":\"Admin\",\"password\":\"x\"}"
                .to_string(),
        ),
    ] {
        let mut s = tokio::net::TcpStream::connect(gw.addr).await.unwrap();
        s.write_all(request.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut answer)).await;
        out.push((name.to_string(), answer));
    }
    gw.stop().await;
    out
}

fn body_of(response: &[u8]) -> &[u8] {
    response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(&[][..], |i| &response[i + 4..])
}

fn header_of(response: &[u8], name: &str) -> Option<String> {
    String::from_utf8_lossy(response).lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
    })
}

async fn from_simulators() {
    for fw in [
        Firmware::V1_13,
        Firmware::V1_15,
        Firmware::V1_17_2,
        Firmware::Head,
    ] {
        let v = fw.version_string();
        for (name, answer) in sim_answers(fw).await {
            write("gateway_http_response", &format!("{v}_{name}"), &answer);
            if name == "ruuvi_json" {
                write("ruuvi_json", v, body_of(&answer));
                write("sim_config_post", &format!("{v}_get"), body_of(&answer));
            }
            if name == "history" {
                write("store_roundtrip", &format!("{v}_history"), body_of(&answer));
            }
            if name == "auth" || name == "status" || name == "bad_login" {
                let challenge = header_of(&answer, "WWW-Authenticate").unwrap_or_default();
                let mut seed = challenge.into_bytes();
                seed.push(b'\n');
                seed.extend_from_slice(body_of(&answer));
                write("gateway_auth", &format!("{v}_{name}"), seed);
            }
        }
    }
    write(
        "gateway_auth",
        "digest",
        "Digest realm=\"RuuviGateway9C2C\", qop=\"auth\", nonce=\"abc\", opaque=\"def\"\n{\"success\": false, \"gateway_name\": \"RuuviGateway9C2C\", \"lan_auth_type\": \"lan_auth_digest\"}",
    );
}

fn mqtt_message() {
    let doc = GatewayDocument::parse(
        post_body("C8:25:2D:8E:9C:2C", &[("F4:1F:0C:28:CB:D6", DF5)]).as_bytes(),
    )
    .unwrap();
    let tag = &doc.tags[0];
    let adv = ruuvi_protocol::MqttAdvertisement {
        gw_mac: doc.gw_mac,
        tag: tag.clone(),
        gateway_time: Some(TIME as u64),
        coordinates: String::new(),
    };
    for (name, fields) in [
        ("raw", TagFields::Raw),
        ("raw_and_decoded", TagFields::RawAndDecoded),
        ("decoded", TagFields::Decoded),
    ] {
        let payload = adv.to_firmware_json(fields);
        assert!(MqttMessage::parse(&adv.topic("ruuvi/"), payload.as_bytes()).is_ok());
        write(
            "mqtt_message",
            name,
            format!("{}\n{payload}", adv.topic("ruuvi/C8:25:2D:8E:9C:2C/")),
        );
    }
    // The firmware docs' older example: times as strings, `gwmac`.
    write(
        "mqtt_message",
        "strings",
        format!("ruuvi/F4:1F:0C:28:CB:D6\n{{\"gwmac\": \"C8:25:2D:8E:9C:2C\", \"rssi\": -60, \"aoa\": [], \"gwts\": \"{TIME}\", \"ts\": \"{TIME}\", \"data\": \"{DF5}\", \"coords\": \"\"}}"),
    );
    write(
        "mqtt_message",
        "status",
        "ruuvi/C8:25:2D:8E:9C:2C/gw_status\n{\"state\": \"online\"}",
    );
    for style in [FirmwareStyle::CURRENT_RAW, FirmwareStyle::CURRENT_DECODED] {
        let name = format!("{:?}", style.fields).to_lowercase();
        write("store_roundtrip", &name, doc.to_firmware_json(style));
    }
}

fn files() {
    write(
        "receiver_json",
        "rules",
        r#"{"unknown": "reject", "gateways": {"C8:25:2D:8E:9C:2C": {"auth": "bearer", "require_client_cert": true, "hmac": true, "rotate_hmac": true, "rate": 10}, "C8:25:2D:8E:9C:2D": {"auth": "basic", "user": "gw"}}}"#,
    );
    write(
        "network_json",
        "state",
        r#"{"whitelist": [{"gateway": "C8:25:2D:8E:9C:2C", "whitelisted_at": 1795000000, "blocked_at": null, "connected_at": 1795000010, "latest_at": 1795000100, "invalid_signature_at": null}],
 "sensors": [{"sensor": "F4:1F:0C:28:CB:D6", "registered_at": 1795000000}],
 "subscriptions": [{"subscriptionName": "Ultimate", "validDays": 365, "maxClaims": 10, "maxSharesPerSensor": 10, "maxShares": 100, "maxHistoryDays": 3650, "maxResolutionMinutes": 1, "creatorId": 42, "registeredAt": 1795000000, "claimId": "0123456789abcdef"}]}"#,
    );
    write(
        "gateways_json",
        "list",
        r#"{"gateways": [{"endpoint": "192.168.1.77", "name": "RuuviGateway9C2C", "mac": "C8:25:2D:8E:9C:2C", "login": "password", "user": "Admin", "remember": true, "demo": false}]}"#,
    );
    write(
        "app_json",
        "settings",
        r#"{"receiver_enabled": true, "bluetooth": false, "keep_days": 365, "resolution_minutes": 15, "alert_webhook": "https://hooks.example/ruuvi", "store": "postgres://desk@db.local:5432/ruuvi", "mqtt_feed": {"broker": "mqtts://broker.local:8883", "topic": "ruuvi/#", "user": "desk", "our_certificates": true}, "mqtt_sink": {"broker": "mqtt://broker.local", "prefix": "ruuvi_desk", "home_assistant": true, "user": null}}"#,
    );
    for (name, url) in [
        (
            "postgres",
            "postgres://desk:pw@db.local:5432/ruuvi?sslmode=disable",
        ),
        ("postgresql", "postgresql://desk@[::1]:5433/ruuvi"),
        ("key_value", "host=/run/postgresql user=desk dbname=ruuvi"),
        (
            "sqlite",
            "/home/me/.local/share/com.ruuvidesk.app/observations.sqlite",
        ),
    ] {
        write("store_url", name, url);
    }
    write(
        "ble_replay",
        "recording",
        format!("# ruuvictl ble record\n{{\"time\": 1795000000000, \"mac\": \"F4:1F:0C:28:CB:D6\", \"rssi\": -60, \"raw\": \"{DF5}\"}}\n{{\"time\": 1795000001000, \"mac\": null, \"rssi\": null, \"raw\": \"0515714D9FC56DFFF0FFF803E4B516E84D7EF41F0C28CBD6\"}}\n"),
    );
    for (name, rule) in [
        (
            "temperature",
            r#"{"id": 0, "sensor": "F4:1F:0C:28:CB:D6", "name": "Sauna", "alert_type": "Temperature", "trigger": "Over", "threshold": 80.0, "unit": "C", "hysteresis": 1.0, "cooldown_s": 600, "text": "hot"}"#,
        ),
        (
            "movement",
            r#"{"id": 0, "sensor": "F4:1F:0C:28:CB:D6", "name": "Door", "alert_type": "Movement", "trigger": "Different from", "threshold": 0, "unit": "count"}"#,
        ),
        (
            "no_data",
            r#"{"id": 0, "sensor": "F4:1F:0C:28:CB:D6", "name": "Attic", "alert_type": "NoData", "trigger": "Over", "threshold": 3600, "unit": "s", "enabled": true}"#,
        ),
    ] {
        write("alert_rule", name, rule);
    }
    write(
        "gateway_targets",
        "range",
        "192.168.1.10-40, ruuvigateway9c2c.local 127.0.0.1:8080",
    );
    write("gateway_targets", "ipv6", "[fe80::1]:80, gw.local:8080");
}

fn pem_and_ecdh() {
    use ruuvi_pki::{KeyAlgorithm, LocalCa, Validity};
    let now = ruuvi_pki::OffsetDateTime::now_utc();
    let ca = LocalCa::generate(
        "Ruuvi Desk seed CA",
        KeyAlgorithm::EcdsaP256,
        Validity::days_from(now, 3650),
    )
    .unwrap();
    write(
        "pem",
        "ca_and_key",
        format!("{}{}", ca.cert_pem, ca.key_pem().expose()),
    );
    let leaf = ca
        .issue_client("C8:25:2D:8E:9C:2C", Validity::days_from(now, 730))
        .unwrap();
    write(
        "pem",
        "client_chain",
        format!("{}{}", leaf.cert_pem, ca.cert_pem),
    );
    let (_, ours) = ruuvi_gateway::ecdh::Handshake::start();
    write(
        "ecdh",
        "envelope",
        format!("{ours}\n{{\"encrypted\": \"q83vEjRWeJCrze8SNFZ4kA==\", \"iv\": \"AAAAAAAAAAAAAAAAAAAAAA==\", \"hash\": \"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\"}}"),
    );
}

fn sim_requests() {
    let t = "sim_http_request";
    write(t, "get_ruuvi_json", "GET /ruuvi.json HTTP/1.1\r\nHost: 192.168.1.77\r\nCookie: RUUVISESSION=QWERTYUIOPASDFGH; RUUVI_PREV_URL=/\r\n\r\n");
    write(t, "post_ruuvi_json", "POST /ruuvi.json HTTP/1.1\r\nHost: 192.168.1.77\r\nAuthorization: Bearer RW\r\nRuuvi-Ecdh-Encrypted: true\r\nContent-Length: 17\r\n\r\n{\"use_http\":true}");
    write(t, "validate_url", "GET /validate_url?url=https%3A%2F%2Fdesk.local%3A8443%2Frecord&validate_type=check_post_advs&auth_type=bearer HTTP/1.1\r\nHost: x\r\n\r\n");
    let t = "sim_config_post";
    write(
        t,
        "http_backend",
        r#"{"use_http_ruuvi": false, "use_http": true, "http_url": "https://desk.local:8443/record", "http_data_format": "ruuvi_raw_and_decoded", "http_period": 10, "http_auth": "bearer", "http_bearer_token": "t", "http_use_ssl_client_cert": true, "http_use_ssl_server_cert": true, "mqtt_data_format": "ruuvi_raw", "mqtt_prefix": "ruuvi/C8:25:2D:8E:9C:2C/", "mqtt_client_id": "C8:25:2D:8E:9C:2C"}"#,
    );
    write(
        t,
        "mqtt",
        r#"{"use_mqtt": true, "mqtt_transport": "SSL", "mqtt_server": "broker.local", "mqtt_port": 8883, "mqtt_prefix": "site1/", "mqtt_user": "u", "mqtt_pass": "p", "mqtt_sending_interval": "0x0A", "mqtt_disable_retained_messages": true}"#,
    );
    write(
        t,
        "lan_auth",
        r#"{"lan_auth_type": "lan_auth_ruuvi", "lan_auth_user": "Admin", "lan_auth_pass": "0123456789abcdef0123456789abcdef", "lan_auth_api_key": "", "scan_filter_list": "AA:BB:CC:DD:EE:FF,11:22:33:44:55:66", "fw_update_url": "https://example/fw"}"#,
    );
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "writes fuzz/seeds/: run it when a format changes"]
async fn write_seeds() {
    receiver_request();
    internal_api();
    from_simulators().await;
    mqtt_message();
    files();
    pem_and_ecdh();
    sim_requests();
}
