//! `ruuvictl ble scan` and `ruuvictl serve --ble` on btleplug's real Linux backend, with BlueZ
//! and the tags played by the stand-in on a private D-Bus (this machine has no Bluetooth
//! radio): each measurement reaches the output and the store once, a Ruuvi Air's as E1, and
//! the app's Bluetooth state follows the adapter.
#![cfg(target_os = "linux")]

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::process::Stdio;
use std::time::Duration;

use ruuvi_bluez_standin::{BlueZ, Policy, PrivateBus};
use ruuvi_gw_sim::rng::Rng;
use ruuvi_gw_sim::tags::{SimTag, TagKind};
use ruuvi_protocol::clock::now_ms;
use ruuvi_protocol::MacAddress;
use serde_json::Value;

mod common;
use common::{json_lines, spawn_serve};

/// A RuuviTag and a Ruuvi Air (which sends each measurement as E1 and as format 6).
fn tags() -> Vec<SimTag> {
    let rng = Rng::new(2412);
    let t0 = now_ms() as u64;
    vec![
        SimTag::new(&rng, 0, TagKind::RuuviTag, t0),
        SimTag::new(&rng, 1, TagKind::RuuviAir, t0),
    ]
}

/// Advertises every tag every 100 ms for `seconds`; returns each tag's measurement sequence
/// numbers that were advertised at least three times (a device's first advertisement only
/// makes it known, as with BlueZ).
async fn radio(
    bluez: &BlueZ,
    tags: &mut [SimTag],
    seconds: u64,
) -> BTreeMap<MacAddress, BTreeSet<u64>> {
    let mut sent: BTreeMap<(MacAddress, u64), u32> = BTreeMap::new();
    for _ in 0..seconds * 10 {
        let now = now_ms() as u64;
        for tag in tags.iter_mut() {
            if let Some(sequence) = bluez.advertise_tag("hci0", tag, now).await.unwrap() {
                *sent.entry((tag.mac, sequence)).or_default() += 1;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut out: BTreeMap<MacAddress, BTreeSet<u64>> = BTreeMap::new();
    for ((mac, seq), n) in sent {
        if n >= 3 {
            out.entry(mac).or_default().insert(seq);
        }
    }
    out
}

async fn with_adapter() -> (PrivateBus, BlueZ) {
    let bus = PrivateBus::start(Policy::Allowed).await.unwrap();
    let bluez = BlueZ::start(&bus).await.unwrap();
    bluez.add_adapter("hci0", true).await.unwrap();
    (bus, bluez)
}

/// Waits until the stand-in's adapter discovers (someone started scanning), at most 10 s.
async fn until_discovering(bluez: &BlueZ) {
    for _ in 0..100 {
        if bluez.discovering("hci0").await.unwrap() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("nobody started discovery within 10 s");
}

/// `tag`'s lines' measurement sequence numbers, asserting none is there twice.
fn each_once<'a>(lines: &'a [Value], tag: &SimTag) -> (Vec<&'a Value>, BTreeSet<u64>) {
    let mac = tag.mac.to_string();
    let mine: Vec<&Value> = lines
        .iter()
        .filter(|l| l["sensor"] == mac.as_str())
        .collect();
    let sequences: Vec<u64> = mine.iter().map(|l| sequence_of(l)).collect();
    let unique: BTreeSet<u64> = sequences.iter().copied().collect();
    assert_eq!(
        sequences.len(),
        unique.len(),
        "{mac}: a measurement twice: {sequences:?}"
    );
    (mine, unique)
}

fn sequence_of(line: &Value) -> u64 {
    line["readings"]["measurement_sequence"]
        .as_u64()
        .unwrap_or_else(|| panic!("no sequence: {line}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ble_scan_prints_each_measurement_once_and_an_airs_as_e1() {
    let (bus, bluez) = with_adapter().await;
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_ruuvictl"))
        .args(["ble", "scan", "--seconds", "8"])
        .env("DBUS_SYSTEM_BUS_ADDRESS", bus.address())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    until_discovering(&bluez).await;
    let mut tags = tags();
    let sent = radio(&bluez, &mut tags, 4).await;
    let out = tokio::time::timeout(Duration::from_secs(10), child.wait_with_output())
        .await
        .expect("scan --seconds 8 ends by itself")
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = json_lines(&out.stdout);
    for tag in &tags {
        let mac = tag.mac.to_string();
        let (mine, unique) = each_once(&lines, tag);
        let expected = &sent[&tag.mac];
        assert!(
            expected.is_subset(&unique),
            "{mac}: missing {:?}",
            expected.difference(&unique).collect::<Vec<_>>()
        );
        // An Air's measurements as E1; only its very first may be kept from the format-6 copy
        // (the first advertisement of a device only makes it known, so its E1 can be missed).
        let want = if tag.kind == TagKind::RuuviAir {
            "E1"
        } else {
            "5"
        };
        let other: Vec<u64> = mine
            .iter()
            .filter(|l| !l["format"].as_str().unwrap_or("").contains(want))
            .map(|l| sequence_of(l))
            .collect();
        assert!(
            other.len() <= 1 && other.iter().all(|s| Some(s) == unique.first()),
            "{mac}: not {want}: {other:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_stores_each_measurement_once_and_its_bluetooth_state_follows_the_adapter() {
    let (bus, bluez) = with_adapter().await;
    let dir = std::env::temp_dir().join(format!("ruuvictl-ble-standin-{}", std::process::id()));
    let ui = dir.join("ui");
    std::fs::create_dir_all(&ui).unwrap();
    std::fs::write(ui.join("index.html"), "<!doctype html>").unwrap();
    let serve = spawn_serve(
        &[
            "serve",
            "--http",
            "--listen",
            "127.0.0.1:0",
            "--no-admin",
            "--ble",
            "--data-dir",
            dir.to_str().unwrap(),
            "--ui",
            "127.0.0.1:0",
            "--ui-dir",
            ui.to_str().unwrap(),
        ],
        &[("DBUS_SYSTEM_BUS_ADDRESS", OsStr::new(bus.address()))],
        Stdio::null(),
    );
    let ui_url = serve.first_line["ui"].as_str().unwrap().to_string();
    let (base, token) = ui_url.split_once("/#token=").unwrap();
    let ble_status = || {
        let out = std::process::Command::new("curl")
            .args([
                "-s",
                "-X",
                "POST",
                "-H",
                &format!("Authorization: Bearer {token}"),
                &format!("{base}/api/ble_status"),
            ])
            .output()
            .unwrap();
        serde_json::from_slice::<Value>(&out.stdout)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&out.stdout).into_owned()))
    };
    until_discovering(&bluez).await;
    let first = ble_status();
    assert_eq!(first["state"], "scanning", "{first}");

    let mut tags = tags();
    let sent = radio(&bluez, &mut tags, 4).await;
    // Stored in batches: read the store until every measurement sent is there (at most 10 s).
    let export = || {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_ruuvictl"))
            .args([
                "export",
                "--format",
                "json",
                "--data-dir",
                dir.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        json_lines(&out.stdout)
    };
    let complete = |stored: &[Value]| {
        sent.iter().all(|(mac, seqs)| {
            let have: BTreeSet<u64> = stored
                .iter()
                .filter(|l| l["sensor"] == mac.to_string().as_str())
                .map(sequence_of)
                .collect();
            seqs.is_subset(&have)
        })
    };
    let mut stored = export();
    for _ in 0..20 {
        if complete(&stored) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        stored = export();
    }
    for tag in &tags {
        let mac = tag.mac.to_string();
        let (mine, unique) = each_once(&stored, tag);
        assert!(sent[&tag.mac].is_subset(&unique), "{mac}: not all stored");
        assert!(
            mine.iter().all(|l| l["feed"]["kind"] == "ble"),
            "{mac}: {:?}",
            mine.first()
        );
    }

    // The adapter switched off: the app's state (the status chip) says so and what to do.
    bluez.set_powered("hci0", false).await.unwrap();
    let mut state = Value::Null;
    for _ in 0..50 {
        state = ble_status();
        if state["state"] == "unavailable" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(state["kind"], "adapter_off", "{state}");
    bluez.set_powered("hci0", true).await.unwrap();
    for _ in 0..50 {
        state = ble_status();
        if state["state"] == "scanning" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(state["state"], "scanning", "{state}");
    drop(serve);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ble_history_prints_a_days_log_with_progress() {
    let (bus, bluez) = with_adapter().await;
    bluez.set_discovering_for_tests("hci0").await.unwrap();
    let now = (now_ms() / 1000) as u32;
    let from = now - 2 * 86_400;
    let mut tag = SimTag::new(&Rng::new(9), 0, TagKind::RuuviTag, u64::from(from) * 1000);
    let log = ruuvi_bluez_standin::SensorLog::from_sim_tag(&mut tag, from, now, 300);
    let a = tag.latest(now_ms() as u64, true);
    bluez.keep_log("hci0", a.mac, log);
    bluez
        .advertise("hci0", a.mac, a.rssi, &a.data)
        .await
        .unwrap();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_ruuvictl"))
        .args(["ble", "history", &a.mac.to_string(), "--since", "24h"])
        .env("DBUS_SYSTEM_BUS_ADDRESS", bus.address())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(60), out)
        .await
        .unwrap()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("reading the log"), "{stderr}");
    assert!(stderr.trim_end().ends_with("records"), "{stderr}");
    let lines = json_lines(&out.stdout);
    assert!(
        (287..=289).contains(&lines.len()),
        "{} records",
        lines.len()
    );
    assert!(lines
        .iter()
        .all(|l| l["feed"]["kind"] == "ble_history" && l["sensor"] == a.mac.to_string().as_str()));
    let times: Vec<i64> = lines
        .iter()
        .map(|l| l["received_at_ms"].as_i64().unwrap())
        .collect();
    assert!(
        times.windows(2).all(|w| w[1] - w[0] == 300_000),
        "5 minutes apart"
    );
    assert!(times[0] >= (i64::from(now) - 86_400) * 1000);
    // Piped into the store.
    let dir = std::env::temp_dir().join(format!("ruuvictl-ble-import-{}", std::process::id()));
    let stored = common::ruuvictl_with(
        &["import", "-", "--data-dir", dir.to_str().unwrap()],
        &[],
        Some(&String::from_utf8_lossy(&out.stdout)),
    );
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        stored.status.success(),
        "{}",
        String::from_utf8_lossy(&stored.stderr)
    );
    let report: Value = serde_json::from_slice(&stored.stdout).unwrap();
    assert_eq!(report["stored"], lines.len(), "{report}");
}
