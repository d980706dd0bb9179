//! The Receiver page's rule editor through the command table, against the real receiver on
//! 127.0.0.1 and the demo gateway posting to it (no authentication of its own): a rule that
//! expects a bearer token makes its posts refused at once, "none" takes them again, a rule
//! without the secret it names is refused with its reason, and refusing unknown gateways
//! refuses a gateway whose rule was removed. The token goes to the keychain
//! (`tests/with-keychain.sh`).

mod common;

use common::call;

use std::sync::Arc;
use std::time::Duration;

use ruuvi_app::{api, AppSettings, Desk, DeskConfig, SettingsSource};
use serde_json::{json, Value};

/// Waits for the gateway's newest post to have `status`; returns it.
async fn newest_post(desk: &Arc<Desk>, gateway: &str, status: u64) -> Value {
    let mut last = Value::Null;
    for _ in 0..100 {
        let s = call(desk, "receiver_status", json!({})).await;
        if let Some(g) = s["gateways"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["gateway"] == gateway)
        {
            last = g["recent"][0].clone();
            if last["status"] == status {
                return last;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{gateway}: newest post {last}, not {status}");
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a keychain: tests/with-keychain.sh"]
async fn rules_set_in_the_app_take_effect_on_the_next_post() {
    let dir = std::env::temp_dir().join(format!("ruuvi-app-rules-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut config = common::desk_config(&dir, "ruuvi-app-rules-test");
    config.receiver.always_on = true;
    config.demo = common::demo(1, 1, 11);
    let desk = Desk::start(config).await.unwrap();
    let rules = call(&desk, "receiver_rules", json!({})).await;
    assert_eq!(rules, json!({"accept_unknown": true, "gateways": []}));
    let mut gateway = String::new();
    for _ in 0..100 {
        let s = call(&desk, "receiver_status", json!({})).await;
        if let Some(g) = s["gateways"][0]["gateway"].as_str() {
            gateway = g.to_string();
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    newest_post(&desk, &gateway, 200).await;

    // A bearer token without the token itself: refused, nothing written.
    let e = api::call(
        &desk,
        "receiver_rule_save",
        json!({"gateway": gateway, "rule": {"auth": "bearer"}, "secret": null, "hmacKey": null}),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code, "bad_input");
    assert!(e.message.contains("give it with the rule"), "{}", e.message);
    assert_eq!(
        call(&desk, "receiver_rules", json!({})).await["gateways"],
        json!([])
    );

    // With its token: the gateway (which sends none) is refused from its next post on.
    let rules = call(
        &desk,
        "receiver_rule_save",
        json!({"gateway": gateway, "rule": {"auth": "bearer", "rate": 1}, "secret": "t0ken-t0ken", "hmacKey": null}),
    )
    .await;
    let rule = &rules["gateways"][0];
    assert_eq!(rule["rule"]["auth"], "bearer");
    assert_eq!(rule["has_secret"], true);
    assert!(!rules.to_string().contains("t0ken"), "no secret in a reply");
    assert!(!std::fs::read_to_string(dir.join("receiver.json"))
        .unwrap()
        .contains("t0ken"));
    newest_post(&desk, &gateway, 401).await;

    // Back to no authentication: stored again, the token kept in the keychain.
    call(
        &desk,
        "receiver_rule_save",
        json!({"gateway": gateway, "rule": {"auth": "none"}, "secret": null, "hmacKey": null}),
    )
    .await;
    newest_post(&desk, &gateway, 200).await;

    // Only gateways with a rule: this one's removed, so it is refused.
    let rules = call(&desk, "receiver_accept_unknown", json!({"accept": false})).await;
    assert_eq!(rules["accept_unknown"], false);
    call(&desk, "receiver_rule_remove", json!({"gateway": gateway})).await;
    let refused = newest_post(&desk, &gateway, 403).await;
    assert_ne!(refused["outcome"], "stored");
    call(&desk, "receiver_accept_unknown", json!({"accept": true})).await;
    newest_post(&desk, &gateway, 200).await;

    use ruuvi_secrets::SecretStore;
    let _ = ruuvi_secrets::Keychain::new("ruuvi-app-rules-test").delete(
        &ruuvi_secrets::SecretName::new(ruuvi_secrets::SecretKind::ReceiverAuth, &gateway).unwrap(),
    );
    desk.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// The Internal API in the app: on from the settings' address, a gateway whitelisted and then
/// blocked from the app shows the same in the API's own `/gwinfo` over HTTP.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a keychain: tests/with-keychain.sh"]
async fn the_internal_api_in_the_app_matches_its_http_api() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let dir = std::env::temp_dir().join(format!("ruuvi-app-network-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    // Saved by the Settings page: read at start.
    let settings = AppSettings {
        bluetooth: false,
        internal_api: Some("127.0.0.1:0".into()),
        ..AppSettings::default()
    };
    settings.save(&dir).unwrap();
    let keychain = Arc::new(ruuvi_secrets::Keychain::new("ruuvi-app-network-test"));
    let desk = Desk::start(DeskConfig {
        keychain: keychain.clone(),
        settings: SettingsSource::Saved,
        ..common::desk_config(&dir, "unused")
    })
    .await
    .unwrap();
    let view = call(&desk, "network_view", json!({})).await;
    assert!(
        view["listen"].as_str().unwrap().starts_with("127.0.0.1:"),
        "{view}"
    );
    assert_ne!(
        view["listen"], "127.0.0.1:0",
        "the port it really listens on"
    );
    assert_eq!(view["gateways"], json!([]));
    let gateway = "C8:25:2D:8E:9C:2C";
    let view = call(
        &desk,
        "network_whitelist",
        json!({"gateway": gateway, "secret": "0011223344556677C8:25:2D:8E:9C:2C"}),
    )
    .await;
    assert_eq!(view["gateways"][0]["gateway"], gateway);
    assert!(view["gateways"][0]["blocked_at"].is_null());
    assert!(
        !view.to_string().contains("0011223344556677"),
        "no secret in a reply"
    );
    let blocked = call(&desk, "network_block", json!({"gateway": gateway})).await;
    let blocked_at = blocked["gateways"][0]["blocked_at"].clone();
    assert!(blocked_at.is_i64(), "{blocked}");
    let e = api::call(
        &desk,
        "network_block",
        json!({"gateway": "AA:AA:AA:AA:AA:AA"}),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code, "bad_input");

    // The Internal API over HTTP says the same.
    let admin = view["listen"].as_str().unwrap().to_string();
    assert_eq!(
        desk.listening().await.admin,
        Some(format!("http://{admin}")),
        "the address it really listens on"
    );
    use ruuvi_secrets::SecretStore;
    let secret = keychain
        .get(
            &ruuvi_secrets::SecretName::new(
                ruuvi_secrets::SecretKind::InternalApiSecret,
                "internal",
            )
            .unwrap(),
        )
        .unwrap()
        .unwrap();
    let mut s = tokio::net::TcpStream::connect(admin.as_str())
        .await
        .unwrap_or_else(|e| panic!("{admin}: {e}"));
    s.write_all(
        format!(
            "GET /gwinfo?gateway={gateway} HTTP/1.1\r\nHost: {admin}\r\nX-Internal-Secret: {}\r\nConnection: close\r\n\r\n",
            secret.expose()
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let mut reply = String::new();
    s.read_to_string(&mut reply).await.unwrap();
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    let body: Value = serde_json::from_str(reply.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    let info = &body["data"]["gateway"];
    assert_eq!(info["GatewayId"], gateway);
    assert_eq!(info["BlockedAt"], blocked_at, "{body}");
    desk.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}
