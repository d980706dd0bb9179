//! mDNS advertising (gateway-local-api §9), tested inside a network namespace this test makes
//! itself (`unshare -n`, loopback only with multicast on), so no packet reaches a real network.

use std::process::Command;
use std::time::{Duration, Instant};

use ruuvi_gw_sim::{Firmware, GatewayOptions, RunningGateway};

const INNER_ENV: &str = "RUUVI_GW_SIM_IN_PRIVATE_NETNS";

#[test]
fn mdns_advertises_every_gateway() {
    let exe = std::env::current_exe().unwrap();
    let script =
        "ip link set lo up && ip link set lo multicast on && ip route add 224.0.0.0/4 dev lo \
                  && exec \"$0\" --exact mdns_inside_the_namespace --ignored --nocapture";
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
#[ignore = "runs only inside the namespace that mdns_advertises_every_gateway makes"]
async fn mdns_inside_the_namespace() {
    // Refuse to multicast anywhere but in the private namespace: only `lo` may exist.
    assert_eq!(std::env::var(INNER_ENV).as_deref(), Ok("1"));
    // /proc/self/net/dev lists the interfaces of this process's network namespace.
    let dev = std::fs::read_to_string("/proc/self/net/dev").unwrap();
    let interfaces: Vec<String> = dev
        .lines()
        .skip(2)
        .filter_map(|l| l.split(':').next().map(|n| n.trim().to_string()))
        .collect();
    assert_eq!(interfaces, ["lo"], "not in a private network namespace");

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
