//! `ruuvi-bluez-standin`: **tests only.** Starts a private D-Bus with the BlueZ stand-in and
//! sensors advertising on `hci0`, each keeping a log of the last days, for browser and window
//! journeys run against `ruuvictl serve --ble` or the app with `DBUS_SYSTEM_BUS_ADDRESS` set to
//! the address it prints first (one JSON line: `{"bus": …, "sensors": [{"mac", "kind"}]}`).
//! It stands in for a Bluetooth radio, which the machines that test Ruuvi Desk do not have.
//! Runs until it is told to stop (SIGTERM, Ctrl-C); the bus stops with it.

use std::time::Duration;

use ruuvi_bluez_standin::{BlueZ, Policy, PrivateBus, SensorLog};
use ruuvi_gw_sim::rng::Rng;
use ruuvi_gw_sim::tags::{SimTag, TagKind};
use ruuvi_protocol::clock::now_ms;

fn arg(name: &str, default: u32) -> u32 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (tags, airs, log_days, seed) = (
        arg("--tags", 1),
        arg("--airs", 1),
        arg("--log-days", 2),
        arg("--seed", 11),
    );
    let bus = PrivateBus::start(Policy::Allowed).await?;
    let bluez = BlueZ::start(&bus).await?;
    bluez.add_adapter("hci0", true).await?;
    let now_s = (now_ms() / 1000) as u32;
    let from_s = now_s - log_days * 86_400;
    let rng = Rng::new(u64::from(seed));
    let mut sensors: Vec<SimTag> = Vec::new();
    for i in 0..tags + airs {
        let kind = if i < tags {
            TagKind::RuuviTag
        } else {
            TagKind::RuuviAir
        };
        let mut tag = SimTag::new(&rng, u64::from(i), kind, u64::from(from_s) * 1000);
        let log = SensorLog::from_sim_tag(&mut tag, from_s, now_s, 300);
        bluez.keep_log("hci0", tag.mac, log);
        sensors.push(tag);
    }
    let listed: Vec<_> = sensors
        .iter()
        .map(|t| serde_json::json!({"mac": t.mac.to_string(), "kind": format!("{:?}", t.kind)}))
        .collect();
    println!(
        "{}",
        serde_json::json!({"bus": bus.address(), "sensors": listed})
    );
    let advertise = async {
        loop {
            let now = now_ms() as u64;
            for tag in &mut sensors {
                let _ = bluez.advertise_tag("hci0", tag, now).await;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    };
    #[cfg(unix)]
    let terminated = async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("a SIGTERM handler");
        term.recv().await;
    };
    #[cfg(not(unix))]
    let terminated = std::future::pending::<()>();
    tokio::select! {
        _ = advertise => {}
        _ = terminated => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    // Dropping the bus ends its daemon.
    drop(bluez);
    drop(bus);
    Ok(())
}
