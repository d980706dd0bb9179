//! Idle cost of a simulated fleet: 100 gateways with 20 tags each, on this process's CPU time,
//! against the same process's idle CPU time measured just before (the baseline).
//! Run: `cargo bench -p ruuvi-gw-sim --bench idle_fleet` (Linux: reads /proc/self/stat).

use std::time::{Duration, Instant};

use ruuvi_gw_sim::{Firmware, GatewayOptions, RunningGateway};

const GATEWAYS: u64 = 100;
const TAGS: usize = 20;
const WINDOW: Duration = Duration::from_secs(20);

/// User + system CPU time of this process, in seconds.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("Linux /proc");
    // Fields after the command name (which is in parentheses and may contain spaces).
    let rest = &stat[stat.rfind(')').expect("stat format") + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    ticks / 100.0 // USER_HZ is 100 on Linux
}

async fn measure(window: Duration) -> f64 {
    let (c0, t0) = (cpu_seconds(), Instant::now());
    tokio::time::sleep(window).await;
    (cpu_seconds() - c0) / t0.elapsed().as_secs_f64() * 100.0
}

#[tokio::main]
async fn main() {
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        // `cargo test --benches` probes; nothing to list.
        return;
    }
    let baseline = measure(WINDOW).await;
    let mut fleet = Vec::new();
    for i in 0..GATEWAYS {
        let mut o = GatewayOptions::new("127.0.0.1:0".parse().unwrap(), Firmware::Head);
        o.index = i;
        o.tags = TAGS;
        fleet.push(RunningGateway::start(o).await.expect("listen on loopback"));
    }
    let idle = measure(WINDOW).await;
    println!(
        "idle_fleet: {GATEWAYS} gateways x {TAGS} tags, {}s windows",
        WINDOW.as_secs()
    );
    println!("  baseline (empty runtime): {baseline:.3} % of one core");
    println!("  fleet idle:               {idle:.3} % of one core (goal < 5 %)");
    println!(
        "  difference:               {:.3} percentage points",
        idle - baseline
    );
    for gw in fleet {
        gw.stop().await;
    }
}
