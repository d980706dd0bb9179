//! Remote configuration served by Ruuvi Desk, as a user runs it through the command table
//! (the Gateways page and `ruuvictl serve --ui` call the same): a simulated gateway is set to
//! download from this computer's HTTPS receiver, a scan profile is published, the gateway
//! downloads it when asked and by itself on its refresh interval, and the page's log says
//! which version it fetched. Real sockets on 127.0.0.1 only.

mod common;

use common::call;

use std::time::Duration;

use ruuvi_app::{Desk, DeskConfig};
use ruuvi_gw_sim::{Firmware, GatewayOptions, LanAuth, RunningGateway};
use serde_json::json;

fn config(dir: &std::path::Path, keychain: &str) -> DeskConfig {
    let mut config = common::desk_config(dir, keychain);
    config.receiver.https = true;
    config.receiver.create_ca = true;
    config.receiver.always_on = true;
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the keychain: tests/with-keychain.sh cargo test -p ruuvi-app --test remote_config -- --ignored"]
async fn a_gateway_downloads_its_configuration_from_ruuvi_desk_and_applies_it() {
    let dir = std::env::temp_dir().join(format!("ruuvi-app-rcfg-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut o = GatewayOptions::new("127.0.0.1:0".parse().unwrap(), Firmware::Head);
    o.tags = 2;
    o.post_delay = Duration::from_millis(50);
    o.lan_auth = Some((LanAuth::Ruuvi, "Admin".into(), "pw".into()));
    // One refresh "minute" is 300 ms here.
    o.remote_cfg_minute = Duration::from_millis(300);
    // Reading its settings pauses it (60 s once remote configuration is on, §5.4): 2 s here.
    o.config_mode = Duration::from_secs(2);
    let gw = RunningGateway::start(o).await.unwrap();
    let endpoint = gw.addr.to_string();
    let desk = Desk::start(config(&dir, "ruuvi-app-rcfg-test"))
        .await
        .unwrap();

    call(
        &desk,
        "gateways_login",
        json!({"request": {"endpoint": endpoint, "user": "Admin", "password": "pw"}}),
    )
    .await;
    // Publishing before the gateway downloads from us is refused with a reason.
    let early = call(
        &desk,
        "remote_config_publish",
        json!({"endpoints": [endpoint], "areas": {"scan": {"company_filter": null, "tags": {"mode": "off"}, "radio": null}}}),
    )
    .await;
    assert!(
        early[0]["error"]
            .as_str()
            .unwrap()
            .contains("turn it on first"),
        "{early}"
    );

    let on = call(
        &desk,
        "remote_config_serve",
        json!({"endpoints": [endpoint], "refreshMinutes": 1}),
    )
    .await;
    assert_eq!(on[0]["state"]["state"], "applied", "{on}");
    let details = call(&desk, "gateways_details", json!({"endpoint": endpoint})).await;
    let url = details["remote"]["url"].as_str().unwrap().to_string();
    assert!(
        url.starts_with("https://127.0.0.1:") && url.ends_with("/gw-cfg/"),
        "{url}"
    );
    assert_eq!(details["remote"]["auth"], "bearer");
    assert_eq!(details["remote"]["server_cert"], true);

    // v1: only tags AA..01 and all manufacturers.
    let published = call(
        &desk,
        "remote_config_publish",
        json!({"endpoints": [endpoint], "areas": {"scan": {"company_filter": null, "tags": {"mode": "allow", "tags": ["AA:BB:CC:DD:EE:01"]}, "radio": null}}}),
    )
    .await;
    assert_eq!(published[0]["version"], 1, "{published}");
    let fetched = call(
        &desk,
        "remote_config_fetch_now",
        json!({"endpoint": endpoint}),
    )
    .await;
    assert_eq!(fetched["ok"], true, "{fetched}");
    {
        let st = gw.state.lock().await;
        assert!(st.config.bool("scan_filter_allow_listed"));
        assert_eq!(
            st.config.get("scan_filter_list").cloned().unwrap(),
            json!(["AA:BB:CC:DD:EE:01"])
        );
        assert!(!st.config.bool("company_use_filtering"));
        // Still downloading from us, with the token it was given.
        assert!(st.config.bool("remote_cfg_use"));
    }
    let view = call(&desk, "remote_config", json!({})).await;
    assert_eq!(view["files"][0]["areas"], json!(["scan"]));
    let fetch = &view["fetches"][0];
    assert_eq!(
        (fetch["status"].clone(), fetch["version"].clone()),
        (json!(200), json!(1)),
        "{view}"
    );
    assert_eq!(fetch["gateway"], details["mac"]);

    // v2, fetched by the gateway itself on its refresh interval (nobody asks it).
    let published = call(
        &desk,
        "remote_config_publish",
        json!({"endpoints": [endpoint], "areas": {"time_place": {"clock": null, "coordinates": "60.17,24.94"}}}),
    )
    .await;
    assert_eq!(published[0]["version"], 2, "{published}");
    let mut applied = false;
    for _ in 0..60 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if gw.state.lock().await.config.str("coordinates") == "60.17,24.94" {
            applied = true;
            break;
        }
    }
    assert!(applied, "the gateway did not fetch version 2 by itself");
    {
        // The earlier area is still in the document.
        let st = gw.state.lock().await;
        assert_eq!(
            st.config.get("scan_filter_list").cloned().unwrap(),
            json!(["AA:BB:CC:DD:EE:01"])
        );
    }
    let view = call(&desk, "remote_config", json!({})).await;
    assert_eq!(view["fetches"][0]["version"], 2, "{view}");
    assert_eq!(view["files"][0]["areas"], json!(["scan", "time_place"]));

    // Switched off, the gateway stops asking.
    let off = call(
        &desk,
        "remote_config_stop",
        json!({"endpoints": [endpoint]}),
    )
    .await;
    assert_eq!(off[0]["state"]["state"], "applied", "{off}");
    assert!(!gw.state.lock().await.config.bool("remote_cfg_use"));

    gw.stop().await;
    desk.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}
