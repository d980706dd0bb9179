//! `ruuvictl ble` as a user runs it. This machine has no Bluetooth: the radio side is tested
//! for how it fails (no bus, a bus that never answers); the pipeline behind it with a
//! recording played by `scan --replay`.

use std::ffi::OsStr;
use std::time::Duration;
#[cfg(target_os = "linux")]
use std::time::Instant;

use ruuvi_ble::replay::write_line;
use ruuvi_ble::Advertisement;
use ruuvi_protocol::formats::Measurement;
use ruuvi_protocol::{DataFormat, MacAddress, Readings};

mod common;
use common::ruuvictl_with;

// BlueZ over the system D-Bus is Linux's Bluetooth stack: these three tests are Linux-only.
/// Runs `ruuvictl args` with the system D-Bus at `bus`; returns (exit code, stdout, stderr,
/// seconds taken).
#[cfg(target_os = "linux")]
fn with_bus(args: &[&str], bus: &str) -> (i32, String, String, f64) {
    let address = format!("unix:path={bus}");
    let started = Instant::now();
    let out = ruuvictl_with(
        args,
        &[("DBUS_SYSTEM_BUS_ADDRESS", OsStr::new(&address))],
        None,
    );
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        started.elapsed().as_secs_f64(),
    )
}

#[cfg(target_os = "linux")]
#[test]
fn without_bluetooth_scan_says_so_within_2_s() {
    let (code, stdout, stderr, took) = with_bus(&["ble", "scan"], "/nonexistent/bus");
    assert_eq!(code, 3, "{stderr}");
    assert!(stdout.is_empty());
    assert!(
        stderr.starts_with("Bluetooth unavailable: connecting: "),
        "{stderr}"
    );
    assert!(stderr.contains("BlueZ"), "says what to do: {stderr}");
    assert!(took < 2.0, "{took} s");

    let (code, stdout, _, _) = with_bus(&["ble", "status", "--json"], "/nonexistent/bus");
    assert_eq!(code, 3);
    let status: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(status["state"], "unavailable");
    assert_eq!(status["kind"], "no_stack");

    let file = std::env::temp_dir().join(format!("ruuvictl-ble-rec-{}.jsonl", std::process::id()));
    let (code, _, stderr, _) = with_bus(
        &["ble", "record", file.to_str().unwrap()],
        "/nonexistent/bus",
    );
    assert_eq!(code, 3, "{stderr}");
    assert!(!file.exists(), "nothing recorded, no empty file left");
}

#[cfg(target_os = "linux")]
#[test]
fn a_bus_that_never_answers_does_not_hang_the_scan() {
    // A socket that accepts and then says nothing, like a wedged D-Bus daemon.
    let path = std::env::temp_dir().join(format!("ruuvictl-stalled-bus-{}", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
    listener.set_nonblocking(true).unwrap();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop = done.clone();
    let held = std::thread::spawn(move || {
        let mut open = Vec::new();
        let until = Instant::now() + Duration::from_secs(5);
        while Instant::now() < until && !stop.load(std::sync::atomic::Ordering::Relaxed) {
            if let Ok((c, _)) = listener.accept() {
                open.push(c);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    });
    let (code, _, stderr, took) = with_bus(&["ble", "scan"], path.to_str().unwrap());
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("did not answer"), "{stderr}");
    assert!(took < 2.0, "{took} s");
    held.join().unwrap();
    let _ = std::fs::remove_file(&path);
}

#[test]
fn scan_replays_a_recording_as_decoded_observations() {
    let air = MacAddress([0xCB, 0xB8, 0x33, 0x4C, 0x88, 0x4F]);
    let mut file = Vec::new();
    // A Ruuvi Air: measurement 0x0105 as E1, as format 6, as E1 again; then 0x0106 as E1.
    let sent = [
        (DataFormat::E1, 0x0105),
        (DataFormat::Df6, 0x05),
        (DataFormat::E1, 0x0105),
        (DataFormat::E1, 0x0106),
    ];
    for (i, (format, seq)) in sent.into_iter().enumerate() {
        let readings = Readings {
            temperature_c: Some(22.5),
            co2_ppm: Some(700.0),
            measurement_sequence: Some(seq),
            mac: Some(air),
            mac_suffix: Some([0x4C, 0x88, 0x4F]),
            ..Readings::default()
        };
        let adv = Advertisement {
            at_ms: 1_795_000_000_000 + i as i64 * 1000,
            address: Some(air),
            rssi: Some(-70),
            payload: Measurement::from_readings(format, &readings).encode(),
        };
        write_line(&mut file, &adv).unwrap();
    }
    file.extend_from_slice(b"# a note in the recording\n");
    let path =
        std::env::temp_dir().join(format!("ruuvictl-ble-replay-{}.jsonl", std::process::id()));
    std::fs::write(&path, &file).unwrap();
    let scan = |extra: &[&str]| {
        let mut args = vec!["ble", "scan", "--replay", path.to_str().unwrap()];
        args.extend_from_slice(&["--speed", "instant", "--original-times"]);
        args.extend_from_slice(extra);
        let out = ruuvictl_with(&args, &[], None);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        common::json_lines(&out.stdout)
    };
    // Each measurement once, as E1.
    let lines = scan(&[]);
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0]["sensor"], "CB:B8:33:4C:88:4F");
    assert_eq!(lines[0]["format"], "E1");
    assert_eq!(lines[0]["feed"]["kind"], "ble");
    assert_eq!(lines[0]["received_at_ms"], 1_795_000_000_000i64);
    assert_eq!(lines[1]["readings"]["measurement_sequence"], 0x0106);
    assert_eq!(lines[1]["readings"]["co2_ppm"], 700.0);
    // Every advertisement with --all.
    let all = scan(&["--all"]);
    let formats: Vec<&str> = all.iter().map(|l| l["format"].as_str().unwrap()).collect();
    assert_eq!(formats, ["E1", "Df6", "E1", "E1"]);

    std::fs::write(&path, "{\"time\": 1, \"raw\": \"not hex\"}\n").unwrap();
    let out = ruuvictl_with(
        &["ble", "scan", "--replay", path.to_str().unwrap()],
        &[],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("line 1: raw:"), "{stderr}");
    let _ = std::fs::remove_file(&path);
}

/// `serve --ble` on a machine without Bluetooth: it says so, keeps receiving gateways, and a
/// replayed recording's observations are stored next to theirs.
#[test]
fn serve_stores_replayed_bluetooth_and_keeps_going_without_a_radio() {
    let dir = std::env::temp_dir().join(format!("ruuvictl-serve-ble-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let tag = MacAddress([0xF4, 0x1F, 0x0C, 0x28, 0xCB, 0xD6]);
    let mut file = Vec::new();
    for i in 0..5u32 {
        let readings = Readings {
            temperature_c: Some(4.0 + f64::from(i)),
            measurement_sequence: Some(i),
            mac: Some(tag),
            ..Readings::default()
        };
        for _ in 0..2 {
            let adv = Advertisement {
                at_ms: 1_795_000_000_000 + i64::from(i) * 1000,
                address: Some(tag),
                rssi: Some(-55),
                payload: Measurement::from_readings(DataFormat::Df5, &readings).encode(),
            };
            write_line(&mut file, &adv).unwrap();
        }
    }
    let recording = dir.join("tag.jsonl");
    std::fs::write(&recording, file).unwrap();
    let stderr = std::fs::File::create(dir.join("stderr")).unwrap();
    let bus = OsStr::new("unix:path=/nonexistent/bus");
    let mut serving = common::spawn_serve(
        &[
            "serve",
            "--http",
            "--listen",
            "127.0.0.1:0",
            "--no-admin",
            "--ble",
            "--ble-replay",
            recording.to_str().unwrap(),
            "--ble-replay-speed",
            "instant",
        ],
        &[
            ("RUUVI_DESK_DATA_DIR", dir.as_os_str()),
            ("DBUS_SYSTEM_BUS_ADDRESS", bus),
        ],
        stderr.into(),
    );
    assert!(serving.first_line["listening"].is_string());
    let export = || {
        let out = ruuvictl_with(
            &["export", "--format", "json"],
            &[("RUUVI_DESK_DATA_DIR", dir.as_os_str())],
            None,
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let mut rows = Vec::new();
    for _ in 0..50 {
        rows = common::json_lines(export().as_bytes());
        if rows.len() >= 5 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let said = std::fs::read_to_string(dir.join("stderr")).unwrap();
    let alive = serving.child.try_wait().unwrap().is_none();
    drop(serving);
    assert!(alive, "serve keeps running without Bluetooth: {said}");
    assert!(
        said.contains("Bluetooth unavailable: connecting: "),
        "{said}"
    );
    // Each measurement once (the repeats were copies), from the Bluetooth feed, timed now.
    assert_eq!(rows.len(), 5, "{rows:?}");
    assert!(rows
        .iter()
        .all(|r| r["feed"]["kind"] == "ble" && r["sensor"] == "F4:1F:0C:28:CB:D6"));
    assert!(rows[0]["received_at_ms"].as_i64().unwrap() > 1_795_000_000_000);
    let _ = std::fs::remove_dir_all(&dir);
}
