//! `ruuvictl import` as a user runs it: a Ruuvi Station export named after its sensor, then
//! our own export into another data directory and back out identically.

mod common;

use common::ruuvictl_with;
use std::ffi::OsStr;

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("ruuvictl-import-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn station_and_our_own_exports_import_and_round_trip() {
    let first = temp_dir("first");
    let station = first.join("C8252D8E9C2C_210304-1234.csv");
    let mut text = String::from(
        "timestamp,temperature (°C),humidity (%),pressure (hPa),rssi,acceleration x,acceleration y,acceleration z,voltage,movement counter,measurement sequence number\n",
    );
    for i in 0..300 {
        text.push_str(&format!(
            "2021-03-04T12:{:02}:{:02}+0200,{},45.5,1013.25,-71,0.004,-0.004,1.036,2.977,66,{}\n",
            i / 60,
            i % 60,
            20.0 + f64::from(i) * 0.01,
            i
        ));
    }
    std::fs::write(&station, &text).unwrap();
    let env = |dir: &std::path::Path| vec![("RUUVI_DESK_DATA_DIR", dir.as_os_str().to_owned())];
    let run = |args: &[&str], dir: &std::path::Path| {
        let env = env(dir);
        let env: Vec<(&str, &OsStr)> = env.iter().map(|(k, v)| (*k, v.as_os_str())).collect();
        let out = ruuvictl_with(args, &env, None);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let said: serde_json::Value =
        serde_json::from_str(&run(&["import", station.to_str().unwrap()], &first)).unwrap();
    assert_eq!(
        said,
        serde_json::json!({"read": 300, "stored": 300, "skipped": 0})
    );
    // Twice: nothing new.
    let again: serde_json::Value =
        serde_json::from_str(&run(&["import", station.to_str().unwrap()], &first)).unwrap();
    assert_eq!(again["stored"], 0);

    let exported = run(&["export", "--format", "csv"], &first);
    assert_eq!(exported.lines().count(), 301);
    assert!(exported
        .lines()
        .nth(1)
        .unwrap()
        .starts_with("C8:25:2D:8E:9C:2C,1614852000000,"));
    let file = first.join("ours.csv");
    std::fs::write(&file, &exported).unwrap();
    let second = temp_dir("second");
    run(&["import", file.to_str().unwrap()], &second);
    assert_eq!(run(&["export", "--format", "csv"], &second), exported);

    // A Station file whose name does not say the sensor: a clear error, nothing stored.
    let named = first.join("Sauna_210304-1234.csv");
    std::fs::write(&named, &text).unwrap();
    let env = env(&second);
    let env: Vec<(&str, &OsStr)> = env.iter().map(|(k, v)| (*k, v.as_os_str())).collect();
    let out = ruuvictl_with(&["import", named.to_str().unwrap()], &env, None);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--sensor"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::remove_dir_all(&first).unwrap();
    std::fs::remove_dir_all(&second).unwrap();
}
