//! `ruuvictl decode` run as a user runs it: the real binary, arguments, stdin, exit codes.

use std::process::Output;

mod common;

fn ruuvictl(args: &[&str], stdin: Option<&str>) -> Output {
    common::ruuvictl_with(args, &[], stdin)
}

fn json_lines(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is one JSON object"))
        .collect()
}

const DF5_ADV: &str = "0201061BFF99040515714D9FC56DFFF0FFF803E4B516E84D7EF41F0C28CBD6";
const E1_PAYLOAD: &str =
    "E1170C5668C79E0065007004BD11CA00C90A0213E0ACFFFFFFDECDEE01FFFFFFFFFFCBB8334C884F";

#[test]
fn decodes_arguments_with_gateway_keys() {
    let out = ruuvictl(&["decode", DF5_ADV, E1_PAYLOAD], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["dataFormat"], 5);
    assert_eq!(lines[0]["temperature"], 27.445);
    assert_eq!(lines[0]["pressure"], 100541.0);
    assert_eq!(lines[0]["accelX"], -0.016);
    assert_eq!(lines[0]["txPower"], 4);
    assert_eq!(lines[0]["id"], "F4:1F:0C:28:CB:D6");
    assert!(lines[0]["derived"]["accelerationTotal"].as_f64().unwrap() > 0.99);
    assert_eq!(lines[1]["dataFormat"], 225);
    assert_eq!(lines[1]["VOC"], 20.0);
    assert_eq!(lines[1]["NOx"], 4.0);
    assert_eq!(lines[1]["sound_avg_dba"], 120.0);
    assert_eq!(lines[1]["flag_calibration_in_progress"], true);
}

#[test]
fn bad_input_is_reported_and_the_rest_still_decoded() {
    let out = ruuvictl(&["decode", "05FFFF", DF5_ADV, "hello"], None);
    assert_eq!(out.status.code(), Some(1));
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["measurementSequenceNumber"], 19838);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("\"05FFFF\": data format 0x05 needs 24 bytes of payload, got 3"),
        "{stderr}"
    );
    assert!(stderr.contains("\"hello\": not valid hex"), "{stderr}");
}

#[test]
fn reads_one_input_per_line_from_stdin() {
    let input = format!("{DF5_ADV}\n\n  {E1_PAYLOAD}  \n2BFF9904E1\n");
    let out = ruuvictl(&["decode"], Some(&input));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json_lines(&out).len(), 2);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("2BFF9904E1") && stderr.contains("malformed advertisement"),
        "{stderr}"
    );
}

#[test]
fn format_8_needs_and_uses_a_key() {
    let payload = "0843825B56324FE019C4BD4D6D3CECAC6EAEAABBCCDDEEFF";
    let out = ruuvictl(&["decode", payload], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("16-byte key"));

    let out = ruuvictl(
        &[
            "decode",
            "--key",
            "526457452D36091A5275757669546167",
            payload,
        ],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = json_lines(&out);
    assert_eq!(lines[0]["dataFormat"], 8);
    assert_eq!(lines[0]["temperature"], 24.58);
    assert_eq!(lines[0]["movementCounter"], 15);

    let out = ruuvictl(&["decode", "--key", "00", payload], None);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn unknown_command_is_a_usage_error() {
    let out = ruuvictl(&["frobnicate"], None);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("unrecognized subcommand 'frobnicate'") && stderr.contains("ruuvictl"),
        "{stderr}"
    );
}

#[test]
fn the_version_is_the_workspace_version() {
    let out = common::ruuvictl_with(&["--version"], &[], None);
    assert!(out.status.success());
    // The one version, set in the workspace's Cargo.toml (the app and its installers use it).
    let manifest = include_str!("../../../Cargo.toml");
    let version = manifest
        .lines()
        .skip_while(|l| *l != "[workspace.package]")
        .find_map(|l| l.strip_prefix("version = "))
        .map(|v| v.trim_matches('"'))
        .expect("workspace version");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("ruuvictl {version}")
    );
}
