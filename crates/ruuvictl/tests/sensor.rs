//! `ruuvictl sensor` as a user runs it: a sensor's history imported, then named, located and
//! calibrated; the list and the export show it; a bad offset is refused; reset.

mod common;

use common::ruuvictl_with;
use std::ffi::OsStr;

#[test]
fn a_sensor_is_named_calibrated_listed_and_exported_with_both_values() {
    let dir = std::env::temp_dir().join(format!("ruuvictl-sensor-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let station = dir.join("C8252D8E9C2C_210304-1234.csv");
    std::fs::write(
        &station,
        "timestamp,temperature (°C),humidity (%),pressure (hPa),rssi,voltage,measurement sequence number\n\
         2021-03-04T12:00:00+0200,80.25,12.5,1013.25,-71,2.977,1\n",
    )
    .unwrap();
    let run = |args: &[&str]| {
        let env: Vec<(&str, &OsStr)> = vec![("RUUVI_DESK_DATA_DIR", dir.as_os_str())];
        ruuvictl_with(args, &env, None)
    };
    let ok = |args: &[&str]| {
        let out = run(args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    ok(&["import", station.to_str().unwrap()]);
    let listed: serde_json::Value =
        serde_json::from_str(&ok(&["sensor", "list", "--json"])).unwrap();
    assert_eq!(listed[0]["name"], "Ruuvi 9C2C", "the default name");
    assert_eq!(listed[0]["named"], false);

    let said = ok(&[
        "sensor",
        "name",
        "c8:25:2d:8e:9c:2c",
        "Sauna, lauteet",
        "--location",
        "Mökki",
    ]);
    assert!(said.contains("Sauna, lauteet (Mökki)"), "{said}");
    let said = ok(&[
        "sensor",
        "calibrate",
        "C8:25:2D:8E:9C:2C",
        "--temperature",
        "-0.5",
        "--pressure",
        "1.5",
    ]);
    assert!(said.contains("-0.5 °C +1.5 hPa"), "{said}");
    // Another change keeps what it does not name.
    ok(&[
        "sensor",
        "calibrate",
        "C8:25:2D:8E:9C:2C",
        "--humidity",
        "2",
    ]);
    let listed: serde_json::Value =
        serde_json::from_str(&ok(&["sensor", "list", "--json"])).unwrap();
    let row = &listed[0];
    assert_eq!(row["name"], "Sauna, lauteet");
    assert_eq!(row["location"], "Mökki");
    assert_eq!(
        row["calibration"],
        serde_json::json!({"temperature_c": -0.5, "humidity_pct": 2.0, "pressure_pa": 150.0})
    );
    assert_eq!(row["temperature_c"], 79.75);

    let csv = ok(&["export"]);
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let line = lines.next().unwrap();
    assert!(line.contains(",\"Sauna, lauteet\","), "{line}");
    let unquoted = line.replace("\"Sauna, lauteet\"", "NAME");
    let cells: Vec<&str> = unquoted.split(',').collect();
    let col = |n: &str| cells[header.iter().position(|h| *h == n).unwrap()];
    assert_eq!(col("temperature_c"), "80.25");
    assert_eq!(col("temperature_c_calibrated"), "79.75");
    assert_eq!(col("humidity_pct_calibrated"), "14.5");
    assert_eq!(col("pressure_pa_calibrated"), "101475.0");

    // The same as an Excel workbook: the name is the sheet's, both values side by side.
    let book = dir.join("out.xlsx");
    ok(&[
        "export",
        "--format",
        "xlsx",
        "--out",
        book.to_str().unwrap(),
    ]);
    let bytes = std::fs::read(&book).unwrap();
    assert_eq!(&bytes[..2], b"PK", "a zip file");
    let out = run(&["export", "--format", "xlsx"]);
    assert!(!out.status.success(), "no --out: refused");

    // Refused, and nothing changed.
    let out = run(&[
        "sensor",
        "calibrate",
        "C8:25:2D:8E:9C:2C",
        "--temperature",
        "99",
    ]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("between -50 and 50"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&["sensor", "calibrate", "C8:25:2D:8E:9C:2C"]);
    assert!(!out.status.success(), "nothing to change is an error");
    ok(&["sensor", "calibrate", "C8:25:2D:8E:9C:2C", "--reset"]);
    let listed: serde_json::Value =
        serde_json::from_str(&ok(&["sensor", "list", "--json"])).unwrap();
    assert_eq!(listed[0]["temperature_c"], 80.25);
    assert_eq!(listed[0]["name"], "Sauna, lauteet");
    let _ = std::fs::remove_dir_all(&dir);
}
