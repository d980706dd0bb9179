//! mDNS discovery for real: simulated gateways advertise, `browse_mdns` finds them, and the
//! client logs in at what it found. Inside a network namespace this test creates (`unshare
//! --net`, loopback only, multicast on), so no packet reaches any real network.

use std::time::Duration;

use ruuvi_gateway::discovery::{discover, Found};
use ruuvi_gateway::{ClientOptions, Credentials, GatewayClient};
use ruuvi_gw_sim::{Firmware, GatewayOptions, RunningGateway};

#[test]
fn mdns_discovery_finds_every_gateway() {
    ruuvi_gw_sim::netns::run_test_inside("discovery_inside_the_namespace");
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "runs only inside the namespace that mdns_discovery_finds_every_gateway makes"]
async fn discovery_inside_the_namespace() {
    ruuvi_gw_sim::netns::assert_inside();

    let mut fleet = Vec::new();
    for i in 0..3 {
        let mut o = GatewayOptions::new("127.0.0.1:0".parse().unwrap(), Firmware::Head);
        o.index = i;
        o.mdns = true;
        o.lan_auth = Some((ruuvi_gw_sim::LanAuth::Allow, String::new(), String::new()));
        fleet.push(RunningGateway::start(o).await.unwrap());
    }
    let found = discover(Duration::from_secs(4), Duration::from_secs(3))
        .await
        .unwrap();
    assert_eq!(found.len(), 3, "{found:?}");
    for gw in &fleet {
        let id = gw.identity().await;
        let d = found
            .iter()
            .find(|d| d.endpoint.port == gw.addr.port())
            .unwrap_or_else(|| panic!("{} not found: {found:?}", id.hostname()));
        assert_eq!(d.name.as_deref(), Some(id.hostname().as_str()));
        assert_eq!(d.mac_suffix.as_deref(), Some(&id.hostname()[12..]));
        assert_eq!(d.found, Found::Mdns);
        assert_eq!(d.endpoint.host, "127.0.0.1");
        assert_eq!(d.reachable, Ok(()));
        assert_eq!(d.lan_auth.as_deref(), Some("lan_auth_allow"));
        // What discovery gives is enough to log in.
        let mut c = GatewayClient::new(
            d.endpoint.clone(),
            Credentials::None,
            ClientOptions::default(),
        );
        c.login().await.unwrap();
        assert_eq!(c.mac(), Some(id.ble_mac.to_string().as_str()));
    }
    for gw in fleet {
        gw.stop().await;
    }
}
