//! `ruuvictl gateway` as a user runs it, against simulated gateways on 127.0.0.1.

use std::ffi::OsStr;
use std::process::Output;
use std::time::Duration;

use ruuvi_gw_sim::{Firmware, GatewayOptions, RunningGateway};
use ruuvi_pki::{KeyAlgorithm, LocalCa, OffsetDateTime, Validity};

mod common;

async fn sim(rw: &str) -> RunningGateway {
    let mut o = GatewayOptions::new("127.0.0.1:0".parse().unwrap(), Firmware::Head);
    o.post_delay = Duration::from_millis(40);
    o.tags = 2;
    o.api_key_rw = rw.into();
    RunningGateway::start(o).await.unwrap()
}

/// Runs ruuvictl off the async runtime (it starts its own).
async fn run(args: Vec<String>, env: Vec<(&'static str, String)>) -> Output {
    tokio::task::spawn_blocking(move || {
        let data = std::env::temp_dir().join(format!("ruuvictl-gw-{}", std::process::id()));
        let mut env: Vec<(&str, std::ffi::OsString)> =
            env.into_iter().map(|(k, v)| (k, v.into())).collect();
        env.push(("RUUVI_DESK_DATA_DIR", data.into_os_string()));
        let env: Vec<(&str, &OsStr)> = env.iter().map(|(k, v)| (*k, v.as_os_str())).collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        common::ruuvictl_with(&args, &env, None)
    })
    .await
    .unwrap()
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn info_history_and_exit_codes() {
    let gw = sim("").await;
    let addr = gw.addr.to_string();
    let device_id = gw.identity().await.device_id_string();
    let out = run(
        args(&["gateway", "info", &addr, "--json"]),
        vec![("RUUVI_GATEWAY_PASSWORD", device_id.clone())],
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let info: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(info["mac"], gw.identity().await.ble_mac.to_string());
    assert_eq!(info["lan_auth_type"], "lan_auth_default");
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!all.contains(&device_id), "the password is not echoed");

    let out = run(
        args(&["gateway", "history", &addr]),
        vec![("RUUVI_GATEWAY_PASSWORD", device_id.clone())],
    )
    .await;
    assert!(out.status.success());
    let lines = common::json_lines(&out.stdout);
    assert_eq!(lines.len(), 2);
    assert!(lines[0]["readings"]["temperature_c"].is_number());

    // Wrong password → 4; nobody there → 3; a bad address → 2.
    let out = run(
        args(&["gateway", "info", &addr]),
        vec![("RUUVI_GATEWAY_PASSWORD", "nope".into())],
    )
    .await;
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!String::from_utf8_lossy(&out.stderr).contains("nope"));
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let out = run(
        args(&["gateway", "info", &closed.to_string()]),
        vec![("RUUVI_GATEWAY_PASSWORD", "x".into())],
    )
    .await;
    assert_eq!(out.status.code(), Some(3));
    let out = run(
        args(&["gateway", "info", "http://a/b"]),
        vec![("RUUVI_GATEWAY_PASSWORD", "x".into())],
    )
    .await;
    assert_eq!(out.status.code(), Some(2));
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn set_http_with_certificates_then_show() {
    let gw = sim("RW-key").await;
    let addr = gw.addr.to_string();
    let mac = gw.identity().await.ble_mac.to_string();
    let dir = std::env::temp_dir().join(format!("ruuvictl-gw-certs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let now = OffsetDateTime::now_utc();
    let ca =
        LocalCa::generate("CA", KeyAlgorithm::EcdsaP256, Validity::days_from(now, 10)).unwrap();
    let client = ca.issue_client(&mac, Validity::days_from(now, 10)).unwrap();
    std::fs::write(dir.join("ca.pem"), &ca.cert_pem).unwrap();
    std::fs::write(dir.join("client.pem"), &client.cert_pem).unwrap();
    std::fs::write(dir.join("client.key"), client.key_pem.expose()).unwrap();
    let path = |f: &str| dir.join(f).to_string_lossy().into_owned();
    let out = run(
        args(&[
            "gateway",
            "config",
            "set-http",
            &addr,
            "--api-key",
            "--ruuvi-cloud",
            "on",
            "--url",
            "https://desk.local:8443/ruuvi",
            "--format",
            "ruuvi_raw_and_decoded",
            "--interval",
            "20",
            "--auth",
            "basic",
            "--auth-user",
            "gw1",
            "--client-cert",
            &path("client.pem"),
            "--client-key",
            &path("client.key"),
            "--server-ca",
            &path("ca.pem"),
            "--json",
        ]),
        vec![
            ("RUUVI_GATEWAY_API_KEY", "RW-key".into()),
            ("RUUVI_HTTP_SECRET", "basic-secret".into()),
        ],
    )
    .await;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let outcome: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(outcome["state"]["state"], "applied");
    assert!(!stdout.contains("basic-secret") && !stdout.contains("PRIVATE KEY"));
    {
        let st = gw.state.lock().await;
        assert_eq!(st.config.secret("http_pass"), "basic-secret");
        assert_eq!(
            st.config.files["http_cli_key"],
            client.key_pem.expose().as_bytes()
        );
    }

    let out = run(
        args(&["gateway", "config", "show", &addr, "--api-key", "--json"]),
        vec![("RUUVI_GATEWAY_API_KEY", "RW-key".into())],
    )
    .await;
    assert!(out.status.success());
    let shown: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let areas = &shown["areas"];
    assert_eq!(
        areas["http"]["custom"]["url"],
        "https://desk.local:8443/ruuvi"
    );
    assert_eq!(areas["http"]["custom"]["period_s"], 20);
    assert_eq!(areas["storage"]["files"]["http_cli_cert"], true);
    assert_eq!(
        areas["mqtt"]["mqtt_client_id"], mac,
        "the MQTT keys were not reset"
    );
    assert_eq!(areas["lan_auth"]["lan_auth_type"], "lan_auth_default");

    // A key that does not match: refused before anything is sent, exit 2 (bad input).
    std::fs::write(dir.join("other.key"), ca.key_pem().expose()).unwrap();
    let out = run(
        args(&[
            "gateway",
            "config",
            "set-http",
            &addr,
            "--api-key",
            "--url",
            "https://x/r",
            "--client-cert",
            &path("client.pem"),
            "--client-key",
            &path("other.key"),
        ]),
        vec![("RUUVI_GATEWAY_API_KEY", "RW-key".into())],
    )
    .await;
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("unchanged"));
    let _ = std::fs::remove_dir_all(&dir);
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn set_scan_lists_tags_and_puts_the_defaults_back() {
    let gw = sim("RW-key").await;
    let addr = gw.addr.to_string();
    let tags: Vec<String> = gw
        .state
        .lock()
        .await
        .tags
        .iter()
        .map(|t| t.mac.to_string())
        .collect();
    let key = || vec![("RUUVI_GATEWAY_API_KEY", "RW-key".to_string())];
    let out = run(
        args(&[
            "gateway",
            "config",
            "set-scan",
            &addr,
            "--api-key",
            "--allow",
            &tags[1],
            "--phys",
            "1m,coded",
            "--channels",
            "37,39",
            "--json",
        ]),
        key(),
    )
    .await;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&stdout).unwrap()["state"]["state"],
        "applied"
    );
    {
        let st = gw.state.lock().await;
        assert_eq!(
            st.config.get("scan_filter_list").unwrap(),
            &serde_json::json!([tags[1]])
        );
        assert!(st.config.bool("scan_filter_allow_listed"));
        assert!(st.config.bool("scan_coded_phy") && !st.config.bool("scan_2mbit_phy"));
        assert!(!st.config.bool("scan_channel_38") && !st.config.bool("scan_default"));
    }
    // Nothing listed, no radio options: the factory settings again.
    let out = run(
        args(&["gateway", "config", "set-scan", &addr, "--api-key"]),
        key(),
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    {
        let st = gw.state.lock().await;
        assert!(st.config.bool("scan_default") && st.config.bool("scan_channel_38"));
        assert!(!st.config.bool("scan_filter_allow_listed"));
    }
    // Refused before anything is sent: exit 2.
    for bad in [
        &["--channels", "40"][..],
        &["--phys", "3m"],
        &["--company", "0x1FFFF"],
    ] {
        let mut a = vec!["gateway", "config", "set-scan", addr.as_str(), "--api-key"];
        a.extend_from_slice(bad);
        let out = run(args(&a), key()).await;
        assert_eq!(
            out.status.code(),
            Some(2),
            "{bad:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs an unlocked keychain: make test runs it in tests/with-keychain.sh"]
async fn set_lan_access_keeps_generated_keys_in_the_keychain_and_uses_them() {
    let gw = sim("").await;
    let addr = gw.addr.to_string();
    let label = gw.identity().await.default_password();
    let service = format!("com.ruuvidesk.test.lan.{}", std::process::id());
    let env = |extra: &[(&'static str, &str)]| {
        let mut e = vec![("RUUVI_DESK_KEYCHAIN_SERVICE", service.clone())];
        e.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
        e
    };
    // Factory login → the owner's, with both keys generated here.
    let out = run(
        args(&[
            "gateway",
            "config",
            "set-lan-access",
            &addr,
            "--id",
            "gw1",
            "--login",
            "ruuvi",
            "--lan-user",
            "owner",
            "--read-key",
            "generate",
            "--write-key",
            "generate",
            "--json",
        ]),
        env(&[
            ("RUUVI_GATEWAY_PASSWORD", &label),
            ("RUUVI_NEW_LAN_PASSWORD", "s3cret pw"),
        ]),
    )
    .await;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!stdout.contains("s3cret"), "nothing secret printed");
    {
        let st = gw.state.lock().await;
        assert_eq!(st.config.str("lan_auth_type"), "lan_auth_ruuvi");
        assert_eq!(st.config.secret("lan_auth_api_key_rw").len(), 44);
    }
    // The next command finds the read-write key in the keychain by itself.
    let out = run(
        args(&[
            "gateway",
            "config",
            "set-scan",
            &addr,
            "--id",
            "gw1",
            "--api-key",
            "--deny",
            "AA:00:00:00:00:01",
        ]),
        env(&[]),
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // And the new password, kept as gateway-password/gw1.
    let out = run(
        args(&[
            "gateway", "info", &addr, "--id", "gw1", "--user", "owner", "--json",
        ]),
        env(&[]),
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Denying LAN access while removing the read-write key: refused, nothing changed.
    let out = run(
        args(&[
            "gateway",
            "config",
            "set-lan-access",
            &addr,
            "--id",
            "gw1",
            "--api-key",
            "--login",
            "deny",
            "--write-key",
            "remove",
        ]),
        env(&[]),
    )
    .await;
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("lock Ruuvi Desk out"));
    assert_eq!(
        gw.state.lock().await.config.str("lan_auth_type"),
        "lan_auth_ruuvi"
    );
    let out = run(
        args(&[
            "gateway",
            "info",
            &addr,
            "--id",
            "gw1",
            "--api-key",
            "--json",
        ]),
        env(&[]),
    )
    .await;
    assert!(
        out.status.success(),
        "the key is still in the keychain: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    for entry in [
        "gateway-api-key/gw1",
        "gateway-api-key-rw/gw1",
        "gateway-password/gw1",
    ] {
        let _ = run(args(&["secret", "delete", entry]), env(&[])).await;
    }
    gw.stop().await;
}

/// A configuration server on 127.0.0.1 that answers every GET with `doc` (when the bearer
/// token is right) and records what it was asked.
async fn config_server(
    doc: &'static str,
    token: &'static str,
) -> (
    std::net::SocketAddr,
    tokio::sync::mpsc::UnboundedReceiver<String>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && s.read(&mut byte).await.unwrap_or(0) == 1 {
                head.push(byte[0]);
            }
            let head = String::from_utf8_lossy(&head).into_owned();
            let ok = head.to_ascii_lowercase().contains(&format!(
                "authorization: bearer {}\r\n",
                token.to_ascii_lowercase()
            ));
            let reply = if ok {
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{doc}",
                    doc.len()
                )
            } else {
                "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".into()
            };
            let _ = s.write_all(reply.as_bytes()).await;
            let _ = tx.send(head);
        }
    });
    (addr, rx)
}

#[tokio::test(flavor = "multi_thread")]
async fn set_remote_points_the_gateway_at_a_configuration_server_and_fetch_remote_applies_it() {
    let gw = sim("RW-key").await;
    let addr = gw.addr.to_string();
    let (server, mut asked) = config_server(
        r#"{"remote_cfg_use": true, "coordinates": "from the server"}"#,
        "cfg-token",
    )
    .await;
    let key = |secret: &str| {
        vec![
            ("RUUVI_GATEWAY_API_KEY", "RW-key".to_string()),
            ("RUUVI_REMOTE_CFG_SECRET", secret.to_string()),
        ]
    };
    let url = format!("http://{server}/cfg/");
    let out = run(
        args(&[
            "gateway",
            "config",
            "set-remote",
            &addr,
            "--api-key",
            "--url",
            &url,
            "--auth",
            "bearer",
            "--refresh",
            "0",
            "--json",
        ]),
        key("cfg-token"),
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    {
        let st = gw.state.lock().await;
        assert!(st.config.bool("remote_cfg_use"));
        assert_eq!(st.config.str("remote_cfg_url"), url);
        assert_eq!(
            st.config.secret("remote_cfg_auth_bearer_token"),
            "cfg-token"
        );
    }
    let out = run(
        args(&["gateway", "config", "fetch-remote", &addr, "--api-key"]),
        key(""),
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let head = asked.recv().await.unwrap();
    let mac = gw.identity().await.ble_mac.to_string();
    assert!(
        head.starts_with(&format!("GET /cfg/{}.json", mac.replace(':', ""))),
        "{head}"
    );
    assert_eq!(
        gw.state.lock().await.config.str("coordinates"),
        "from the server"
    );

    // A wrong token: the gateway's own failure message, exit 1; keeping the secret needs the
    // same auth type on the gateway, so switching to basic without one is refused (exit 2).
    let out = run(
        args(&[
            "gateway",
            "config",
            "set-remote",
            &addr,
            "--api-key",
            "--url",
            &url,
            "--auth",
            "bearer",
        ]),
        key("wrong"),
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(
        args(&["gateway", "config", "fetch-remote", &addr, "--api-key"]),
        key(""),
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("refused the credentials"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(
        args(&[
            "gateway",
            "config",
            "set-remote",
            &addr,
            "--api-key",
            "--url",
            &url,
            "--auth",
            "basic",
            "--auth-user",
            "u",
        ]),
        key(""),
    )
    .await;
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Off.
    let out = run(
        args(&[
            "gateway",
            "config",
            "set-remote",
            &addr,
            "--api-key",
            "--off",
        ]),
        key(""),
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!gw.state.lock().await.config.bool("remote_cfg_use"));
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn set_auto_update_statistics_and_the_update_server() {
    let gw = sim("RW-key").await;
    let addr = gw.addr.to_string();
    let key = || {
        vec![
            ("RUUVI_GATEWAY_API_KEY", "RW-key".to_string()),
            ("RUUVI_STAT_PASSWORD", "pw".to_string()),
        ]
    };
    let ok = |out: &Output| {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        )
    };
    ok(&run(
        args(&[
            "gateway",
            "config",
            "set-auto-update",
            &addr,
            "--api-key",
            "--cycle",
            "beta",
            "--days",
            "sat,sun",
            "--hours",
            "1-5",
            "--tz",
            "-5",
        ]),
        key(),
    )
    .await);
    {
        let st = gw.state.lock().await;
        assert_eq!(st.config.str("auto_update_cycle"), "beta");
        assert_eq!(st.config.u64("auto_update_weekdays_bitmask"), 0b100_0001);
        assert_eq!(st.config.u64("auto_update_interval_from"), 1);
    }
    // Refused before anything is sent: exit 2.
    for bad in [
        &["--days", "someday"][..],
        &["--hours", "5-1"],
        &["--cycle", "nightly"],
    ] {
        let mut a = vec![
            "gateway",
            "config",
            "set-auto-update",
            addr.as_str(),
            "--api-key",
        ];
        a.extend_from_slice(bad);
        let out = run(args(&a), key()).await;
        assert_eq!(
            out.status.code(),
            Some(2),
            "{bad:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    ok(&run(
        args(&[
            "gateway",
            "config",
            "set-statistics",
            &addr,
            "--api-key",
            "--url",
            "http://127.0.0.1:9/status",
            "--stat-user",
            "stats",
        ]),
        key(),
    )
    .await);
    {
        let st = gw.state.lock().await;
        assert_eq!(st.config.str("http_stat_url"), "http://127.0.0.1:9/status");
        assert_eq!(st.config.secret("http_stat_pass"), "pw");
    }
    ok(&run(
        args(&[
            "gateway",
            "config",
            "set-statistics",
            &addr,
            "--api-key",
            "--off",
        ]),
        key(),
    )
    .await);
    assert!(!gw.state.lock().await.config.bool("use_http_stat"));
    ok(&run(
        args(&[
            "gateway",
            "config",
            "set-update-url",
            &addr,
            "--api-key",
            "http://127.0.0.1:9/fw",
        ]),
        key(),
    )
    .await);
    assert_eq!(
        gw.state.lock().await.config.str("fw_update_url"),
        "http://127.0.0.1:9/fw"
    );
    gw.stop().await;
}
