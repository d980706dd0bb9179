//! The gateway simulator reads what Ruuvi Desk (or anyone) sends it as the firmware would: a
//! request on its one connection, and `POST /ruuvi.json` bodies merged into its configuration.
//! The simulator stands in for hardware in every test, so it must not fall over either.

use ruuvi_gw_sim::config::GatewayConfig;
use ruuvi_gw_sim::firmware::Firmware;
use ruuvi_gw_sim::http::{read_request, url_decode};
use ruuvi_gw_sim::identity::Identity;
use ruuvi_gw_sim::rng::Rng;

/// Any bytes as one client's request to the simulator (each firmware's size and time rules).
pub fn sim_http_request(data: &[u8]) {
    for fw in [Firmware::V1_13, Firmware::Head] {
        let mut input = data;
        let read = crate::block_on(read_request(
            &mut input,
            "192.0.2.1".parse().expect("an address"),
            fw,
        ));
        let Ok(request) = read else {
            continue;
        };
        for name in [
            "Content-Length",
            "Cookie",
            "Authorization",
            "Ruuvi-Ecdh-Encrypted",
        ] {
            let _ = request.header(name);
        }
        let _ = request.cookie("RUUVISESSION", 16);
        let _ = request.query_param("url");
        let _ = url_decode(&request.query);
    }
}

/// Any bytes as a `POST /ruuvi.json` body from the LAN, merged into a factory configuration of
/// every firmware; the result is shown by `GET /ruuvi.json` and saved and restored (the
/// simulator's state file).
pub fn sim_config_post(data: &[u8]) {
    let Ok(serde_json::Value::Object(body)) = serde_json::from_slice(data) else {
        return;
    };
    for fw in Firmware::ALL {
        let identity = Identity::generate(&Rng::new(7), 0, fw);
        let mut config = GatewayConfig::factory(&identity);
        let _ = config.apply_lan_post(&body, fw);
        config.apply_fw_update_url(&body);
        let shown = config.to_get_json(&identity);
        assert!(
            serde_json::from_str::<serde_json::Value>(&shown).is_ok(),
            "GET /ruuvi.json is not JSON: {shown}"
        );
        let state = config.to_state();
        let mut restored = GatewayConfig::factory(&identity);
        restored.restore(&state);
        assert_eq!(restored.to_get_json(&identity), shown);
        let mut network = GatewayConfig::factory(&identity);
        network.apply_network_post(&body);
        // The state file itself, as anyone may have edited it.
        restored.restore(&serde_json::Value::Object(body.clone()));
    }
}
