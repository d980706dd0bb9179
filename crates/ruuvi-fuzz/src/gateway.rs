//! What the gateway client reads from a gateway (or from whatever answers at its address):
//! `/ruuvi.json`, the auth challenge header and auth JSON, raw HTTP responses, the ECDH key and
//! envelopes; and the addresses a person types to find gateways.

use ruuvi_gateway::auth::{
    basic_authorization, digest_authorization, interactive_login_body, AuthInfo, Challenge,
};
use ruuvi_gateway::discovery::{parse_targets, MAX_PROBE_HOSTS};
use ruuvi_gateway::ecdh::Handshake;
use ruuvi_gateway::http::{parse_response, Endpoint};
use ruuvi_gateway::mqtt::{MqttDataFormat, MqttProfile, MqttTarget};
use ruuvi_gateway::push::BackendProfile;
use ruuvi_gateway::{
    CustomProfile, DataFormat, FirmwareVersion, GatewayConfig, HttpAuth, HttpProfile,
};
use ruuvi_secrets::Sensitive;

/// The profiles a push could apply, to compare any configuration with.
fn profiles() -> (HttpProfile, MqttProfile) {
    let secret = Some(Sensitive::new("s3cret".to_string()));
    let http = HttpProfile {
        ruuvi_cloud: false,
        custom: Some(CustomProfile {
            extra: Default::default(),
            url: "https://desk.local:8443/record".into(),
            data_format: DataFormat::default(),
            period_s: 10,
            auth: HttpAuth::Bearer {
                token: secret.clone(),
            },
            client_identity: None,
            server_ca_pem: None,
        }),
    };
    let mqtt = MqttProfile {
        target: Some(MqttTarget {
            transport: "TCP".into(),
            server: "broker.local".into(),
            port: 1883,
            prefix: "ruuvi/".into(),
            client_id: String::new(),
            user: "u".into(),
            password: secret,
            data_format: MqttDataFormat::RuuviRaw,
            sending_interval_s: 0,
            disable_retained_messages: false,
            client_identity: None,
            server_ca_pem: None,
        }),
    };
    (http, mqtt)
}

/// Any bytes as the body of `GET /ruuvi.json`: every view Ruuvi Desk takes of it (the HTTP
/// backend, the other areas, the bodies it would post, a preview against a profile).
pub fn ruuvi_json(data: &[u8]) {
    let Ok(value) = serde_json::from_slice(data) else {
        return;
    };
    let Ok(config) = GatewayConfig::from_json(value) else {
        return;
    };
    let firmware = config.fw_ver().and_then(FirmwareVersion::parse);
    let http = config.http();
    let _ = config.areas();
    let _ = config.unchanged_body();
    let _ = config.restore_http_body();
    let _ = config.gw_mac();
    let _ = config.lan_auth_type();
    let (http_profile, mqtt_profile) = profiles();
    let _ = http.changes(&http_profile.expected(firmware), &http_profile);
    for profile in [
        &http_profile as &dyn BackendProfile,
        &mqtt_profile as &dyn BackendProfile,
    ] {
        let _ = profile.validate(firmware, Some(&config));
        let body = profile.post_body(&config);
        let _ = profile.differences(firmware, &config);
        let _ = profile.restore_body(&config);
        // A body never carries what it must not: the LAN login.
        assert!(!body.contains_key("lan_auth_type"));
    }
}

/// The first line is a `WWW-Authenticate` header value, the rest an auth JSON body.
pub fn gateway_auth(data: &[u8]) {
    let (header, body) = crate::split_line(data);
    let password = Sensitive::new("password".to_string());
    if let Some(challenge) = Challenge::parse(&String::from_utf8_lossy(header)) {
        match challenge {
            Challenge::Interactive {
                realm, challenge, ..
            } => {
                let body = interactive_login_body("Admin", &password, &realm, &challenge);
                assert!(serde_json::from_str::<serde_json::Value>(&body).is_ok());
            }
            Challenge::Basic { .. } => {
                let _ = basic_authorization("Admin", &password);
            }
            Challenge::Digest {
                realm,
                nonce,
                opaque,
            } => {
                let _ = digest_authorization(
                    "Admin",
                    &password,
                    &realm,
                    &nonce,
                    &opaque,
                    "/auth",
                    u32::MAX,
                );
            }
        }
    }
    if let Some(info) = AuthInfo::parse(body) {
        let _ = info.fw_ver.as_deref().map(FirmwareVersion::parse);
    }
}

/// Any bytes as what a gateway wrote before closing the connection.
pub fn gateway_http_response(data: &[u8]) {
    let Ok(response) = parse_response(data) else {
        return;
    };
    for name in [
        "Content-Type",
        "Set-Cookie",
        "WWW-Authenticate",
        "Ruuvi-Ecdh-Pub-Key",
    ] {
        let _ = response.header(name);
    }
    let _ = response.json();
    let _ = response.text();
}

/// The addresses a person types to find gateways (names, addresses, ranges).
pub fn gateway_targets(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(targets) = parse_targets(&text) {
        assert!(targets.len() <= MAX_PROBE_HOSTS);
        for t in targets {
            let _ = t.host_header();
            let _ = Endpoint::parse(&t.to_string());
        }
    }
    let _ = Endpoint::parse(&text);
}

/// The first line is the gateway's ECDH public key (the `Ruuvi-Ecdh-Pub-Key` header), the
/// rest an encrypted body as the gateway (simulator) decrypts it.
pub fn ecdh(data: &[u8]) {
    let (key, envelope) = crate::split_line(data);
    let (ours, _) = Handshake::start();
    let _ = ours.finish(&String::from_utf8_lossy(key));
    let Ok(serde_json::Value::Object(envelope)) = serde_json::from_slice(envelope) else {
        return;
    };
    let field = |name: &str| envelope.get(name).and_then(|v| v.as_str()).unwrap_or("");
    let _ = ruuvi_gw_sim::ecdh::decrypt_with_key(
        &[7u8; 32],
        field("encrypted"),
        field("iv"),
        field("hash"),
    );
}
