//! mDNS advertising (gateway-local-api §9), tested inside a network namespace this test makes
//! itself (`unshare -n`, loopback only with multicast on), so no packet reaches a real network.

use std::time::{Duration, Instant};

use ruuvi_gw_sim::{Firmware, GatewayOptions, RunningGateway};

#[test]
fn mdns_advertises_every_gateway() {
    ruuvi_gw_sim::netns::run_test_inside("mdns_inside_the_namespace");
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "runs only inside the namespace that mdns_advertises_every_gateway makes"]
async fn mdns_inside_the_namespace() {
    // Refuse to multicast anywhere but in the private namespace.
    ruuvi_gw_sim::netns::assert_inside();

    let mut fleet = Vec::new();
    for i in 0..2 {
        let mut o = GatewayOptions::new("127.0.0.1:0".parse().unwrap(), Firmware::Head);
        o.index = i;
        o.mdns = true;
        fleet.push(RunningGateway::start(o).await.unwrap());
    }
    let mut expected = Vec::new();
    for gw in &fleet {
        expected.push((gw.identity().await.hostname(), gw.addr.port()));
    }

    let browser = mdns_sd::ServiceDaemon::new().unwrap();
    let events = browser.browse("_http._tcp.local.").unwrap();
    let mut found = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(15);
    while found.len() < expected.len() && Instant::now() < deadline {
        if let Ok(mdns_sd::ServiceEvent::ServiceResolved(info)) =
            events.recv_timeout(Duration::from_millis(500))
        {
            let instance = info
                .get_fullname()
                .trim_end_matches("._http._tcp.local.")
                .to_string();
            assert_eq!(
                info.get_hostname(),
                format!("{}.local.", instance.to_ascii_lowercase())
            );
            assert!(info.get_properties().is_empty(), "no TXT records");
            if !found.contains(&(instance.clone(), info.get_port())) {
                found.push((instance, info.get_port()));
            }
        }
    }
    found.sort();
    expected.sort();
    assert_eq!(found, expected);
    let _ = browser.shutdown();
    for gw in fleet {
        gw.stop().await;
    }
}
