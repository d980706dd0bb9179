//! mDNS discovery for real: simulated gateways advertise, `browse_mdns` finds them, and the
//! client logs in at what it found. Inside a network namespace this test creates (`unshare
//! --net`, loopback only, multicast on), so no packet reaches any real network.

use std::process::Command;
use std::time::Duration;

use ruuvi_gateway::discovery::{browse_mdns, Found};
use ruuvi_gateway::{ClientOptions, Credentials, GatewayClient};
use ruuvi_gw_sim::{Firmware, GatewayOptions, RunningGateway};

const INNER_ENV: &str = "RUUVI_GATEWAY_IN_PRIVATE_NETNS";

#[test]
fn mdns_discovery_finds_every_gateway() {
    let exe = std::env::current_exe().unwrap();
    let script =
        "ip link set lo up && ip link set lo multicast on && ip route add 224.0.0.0/4 dev lo \
                  && exec \"$0\" --exact discovery_inside_the_namespace --ignored --nocapture";
    let out = Command::new("unshare")
        .args(["--net", "sh", "-c", script])
        .arg(&exe)
        .env(INNER_ENV, "1")
        .output()
        .expect("unshare (util-linux) runs; the test needs root for a network namespace");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    assert!(text.contains("1 passed"), "the inner test ran: {text}");
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "runs only inside the namespace that mdns_discovery_finds_every_gateway makes"]
async fn discovery_inside_the_namespace() {
    assert_eq!(std::env::var(INNER_ENV).as_deref(), Ok("1"));
    let dev = std::fs::read_to_string("/proc/self/net/dev").unwrap();
    let interfaces: Vec<&str> = dev
        .lines()
        .skip(2)
        .filter_map(|l| l.split(':').next().map(str::trim))
        .collect();
    assert_eq!(interfaces, ["lo"], "not in a private network namespace");

    let mut fleet = Vec::new();
    for i in 0..3 {
        let mut o = GatewayOptions::new("127.0.0.1:0".parse().unwrap(), Firmware::Head);
        o.index = i;
        o.mdns = true;
        o.lan_auth = Some((ruuvi_gw_sim::LanAuth::Allow, String::new(), String::new()));
        fleet.push(RunningGateway::start(o).await.unwrap());
    }
    let found = browse_mdns(Duration::from_secs(4)).await.unwrap();
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
