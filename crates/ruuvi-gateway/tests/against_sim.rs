//! The gateway client against `ruuvi-gw-sim` over real sockets on 127.0.0.1.

use std::sync::Arc;
use std::time::Duration;

use ruuvi_gateway::{
    push_fleet, push_http_profile, ClientIdentity, ClientOptions, Credentials, CustomProfile,
    DataFormat, Endpoint, FleetTarget, GatewayClient, GatewayError, GatewayState, HttpAuth,
    HttpProfile, Progress,
};
use ruuvi_gw_sim::{Firmware, GatewayOptions, LanAuth, RunningGateway};
use ruuvi_pki::{KeyAlgorithm, LocalCa, OffsetDateTime, Validity};
use ruuvi_secrets::Sensitive;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const OLDEST: Firmware = Firmware::V1_13;
const NEWEST: Firmware = Firmware::Head;

fn options(fw: Firmware) -> GatewayOptions {
    let mut o = GatewayOptions::new("127.0.0.1:0".parse().unwrap(), fw);
    // The firmware's 1 s POST delay, shortened: these tests make many POSTs.
    o.post_delay = Duration::from_millis(40);
    o.tags = 3;
    o
}

async fn sim(
    fw: Firmware,
    auth: Option<(LanAuth, &str, &str)>,
    ro: &str,
    rw: &str,
) -> RunningGateway {
    let mut o = options(fw);
    o.lan_auth = auth.map(|(a, u, p)| (a, u.to_string(), p.to_string()));
    o.api_key = ro.into();
    o.api_key_rw = rw.into();
    RunningGateway::start(o).await.unwrap()
}

fn endpoint(gw: &RunningGateway) -> Endpoint {
    Endpoint::new("127.0.0.1", gw.addr.port())
}

fn password(user: &str, password: &str) -> Credentials {
    Credentials::Password {
        user: user.into(),
        password: Sensitive::new(password.into()),
    }
}

fn key(k: &str) -> Credentials {
    Credentials::ApiKey(Sensitive::new(k.into()))
}

fn client(gw: &RunningGateway, credentials: Credentials) -> GatewayClient {
    GatewayClient::new(endpoint(gw), credentials, ClientOptions::default())
}

/// Logs in and reads `/status.json` and `/history`: proof that the login carries.
async fn works(
    gw: &RunningGateway,
    credentials: Credentials,
) -> Result<GatewayClient, GatewayError> {
    let mut c = client(gw, credentials);
    c.login().await?;
    c.status().await?;
    let doc = c.history().await?;
    assert_eq!(doc.tags.len(), 3);
    Ok(c)
}

#[tokio::test]
async fn every_lan_auth_mode_on_the_oldest_and_newest_firmware() {
    for fw in [OLDEST, NEWEST] {
        // Default: Admin + the device id on the label.
        let gw = sim(fw, None, "", "").await;
        let device_id = gw.identity().await.device_id_string();
        let c = works(&gw, password("Admin", &device_id)).await.unwrap();
        assert_eq!(
            c.firmware().map(|f| f.major),
            Some(1),
            "{fw}: firmware learnt"
        );
        assert_eq!(
            c.mac(),
            Some(gw.identity().await.ble_mac.to_string().as_str())
        );
        assert_eq!(c.encrypts(), fw >= Firmware::V1_15);
        let e = works(&gw, password("Admin", "wrong")).await.err().unwrap();
        // v1.13 refuses without saying why; later firmware says "Incorrect password".
        assert!(
            matches!(&e, GatewayError::Unauthorized(m) if fw == OLDEST || m.contains("Incorrect password")),
            "{fw}: {e}"
        );
        gw.stop().await;

        for mode in [LanAuth::Ruuvi, LanAuth::Basic, LanAuth::Digest] {
            let gw = sim(fw, Some((mode, "owner", "pa55:word")), "", "").await;
            works(&gw, password("owner", "pa55:word"))
                .await
                .unwrap_or_else(|e| panic!("{fw} {mode:?}: {e}"));
            let e = works(&gw, password("owner", "nope")).await.err().unwrap();
            assert!(
                matches!(e, GatewayError::Unauthorized(_)),
                "{fw} {mode:?}: {e}"
            );
            let e = works(&gw, Credentials::None).await.err().unwrap();
            assert!(
                matches!(e, GatewayError::Unauthorized(_)),
                "{fw} {mode:?}: {e}"
            );
            gw.stop().await;
        }

        let gw = sim(fw, Some((LanAuth::Allow, "", "")), "", "").await;
        works(&gw, Credentials::None).await.unwrap();
        gw.stop().await;

        // Deny: only API keys; the read-only one cannot write.
        let gw = sim(fw, Some((LanAuth::Deny, "", "")), "RO-key", "RW-key").await;
        let e = works(&gw, password("Admin", "x")).await.err().unwrap();
        assert!(e.to_string().contains("API key"), "{fw}: {e}");
        let mut ro = works(&gw, key("RO-key")).await.unwrap();
        assert!(ro.firmware().is_some(), "{fw}: firmware from /metrics");
        let e = ro
            .post_config(&serde_json::Map::from_iter([(
                "coordinates".to_string(),
                "x".into(),
            )]))
            .await
            .unwrap_err();
        assert!(matches!(e, GatewayError::Unauthorized(_)), "{fw}: {e}");
        let mut rw = works(&gw, key("RW-key")).await.unwrap();
        rw.post_config(&serde_json::Map::from_iter([(
            "coordinates".to_string(),
            "60.1,24.9".into(),
        )]))
        .await
        .unwrap();
        assert_eq!(gw.state.lock().await.config.str("coordinates"), "60.1,24.9");
        let e = works(&gw, key("wrong")).await.err().unwrap();
        assert!(matches!(e, GatewayError::Unauthorized(_)), "{fw}: {e}");
        gw.stop().await;
    }
}

#[tokio::test]
async fn colliding_logins_retry_and_all_succeed() {
    let gw = sim(NEWEST, Some((LanAuth::Ruuvi, "owner", "pw")), "", "").await;
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let mut c = client(&gw, password("owner", "pw"));
        tasks.push(tokio::spawn(async move { c.login().await.map(|_| c) }));
    }
    for t in tasks {
        let mut c = t
            .await
            .unwrap()
            .expect("every client logs in despite the collisions");
        c.status().await.unwrap();
    }
    gw.stop().await;
}

#[tokio::test]
async fn a_dropped_session_is_renewed_transparently() {
    let gw = sim(NEWEST, Some((LanAuth::Ruuvi, "owner", "pw")), "", "").await;
    let mut ours = client(&gw, password("owner", "pw"));
    ours.login().await.unwrap();
    // The gateway keeps four sessions: four more logins push ours out.
    for _ in 0..4 {
        client(&gw, password("owner", "pw")).login().await.unwrap();
    }
    ours.status().await.expect("logged in again by itself");
    gw.stop().await;
}

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

fn own_server(auth: HttpAuth) -> HttpProfile {
    HttpProfile {
        ruuvi_cloud: false,
        custom: Some(CustomProfile {
            extra: Default::default(),
            url: "https://127.0.0.1:8443/ruuvi".into(),
            data_format: DataFormat::RuuviRawAndDecoded,
            period_s: 15,
            auth,
            client_identity: None,
            server_ca_pem: None,
        }),
    }
}

fn secret(s: &str) -> Option<Sensitive<String>> {
    Some(Sensitive::new(s.into()))
}

#[tokio::test]
async fn profile_push_with_each_auth_type() {
    let gw = sim(NEWEST, None, "", "RW").await;
    let cases = [
        (HttpAuth::None, None),
        (
            HttpAuth::Basic {
                user: "gw1".into(),
                password: secret("basic-pw"),
            },
            Some(("http_pass", "basic-pw")),
        ),
        (
            HttpAuth::Bearer {
                token: secret("bearer-tok"),
            },
            Some(("http_bearer_token", "bearer-tok")),
        ),
        (
            HttpAuth::Token {
                key: secret("token-key"),
            },
            Some(("http_api_key", "token-key")),
        ),
        (
            HttpAuth::ApiKey {
                key: secret("raw-key"),
            },
            Some(("http_api_key", "raw-key")),
        ),
    ];
    for (auth, stored) in cases {
        let kind = auth.kind();
        let mut c = client(&gw, key("RW"));
        let steps = parking_lot::Mutex::new(Vec::new());
        let outcome = push_http_profile(&mut c, &own_server(auth), &|p| steps.lock().push(p)).await;
        assert_eq!(
            outcome.state,
            GatewayState::Applied,
            "{kind}: {:?}",
            outcome.error
        );
        assert!(steps.lock().contains(&Progress::Verified));
        assert_eq!(steps.lock().last(), Some(&Progress::Resumed));
        let st = gw.state.lock().await;
        // Forwarding resumes within 5 s, not 60 s after the read-back (spec §5.3–5.4).
        let resumes = st
            .config_mode_until
            .expect("configuration mode was entered");
        assert!(
            resumes <= std::time::Instant::now() + Duration::from_secs(6),
            "{kind}"
        );
        assert_eq!(st.config.str("http_auth"), kind);
        assert_eq!(st.config.str("http_data_format"), "ruuvi_raw_and_decoded");
        assert!(!st.config.bool("use_http_ruuvi"));
        if let Some((name, value)) = stored {
            assert_eq!(
                st.config.secret(name),
                value,
                "{kind}: the secret reached the gateway"
            );
        }
    }
    // Ruuvi Cloud only again (through the GET rewrite on read-back).
    let mut c = client(&gw, key("RW"));
    let outcome = push_http_profile(
        &mut c,
        &HttpProfile {
            ruuvi_cloud: true,
            custom: None,
        },
        &|_| {},
    )
    .await;
    assert_eq!(outcome.state, GatewayState::Applied, "{:?}", outcome.error);
    gw.stop().await;
}

struct Certs {
    ca: LocalCa,
    client: ClientIdentity,
}

fn certs(mac: &str) -> Certs {
    let ca = LocalCa::generate(
        "Ruuvi Desk CA",
        KeyAlgorithm::EcdsaP256,
        Validity::days_from(now(), 3650),
    )
    .unwrap();
    let issued = ca
        .issue_client(mac, Validity::days_from(now(), 730))
        .unwrap();
    Certs {
        client: ClientIdentity {
            cert_pem: issued.cert_pem,
            key_pem: issued.key_pem,
        },
        ca,
    }
}

fn with_certs(c: &Certs) -> HttpProfile {
    let mut p = own_server(HttpAuth::Bearer {
        token: secret("t0ken"),
    });
    let custom = p.custom.as_mut().unwrap();
    custom.client_identity = Some(c.client.clone());
    custom.server_ca_pem = Some(c.ca.cert_pem.clone());
    p
}

#[tokio::test]
async fn profile_push_with_certificates_on_old_and_new_firmware() {
    for fw in [Firmware::V1_14, Firmware::V1_17_2, NEWEST] {
        let gw = sim(fw, None, "", "RW").await;
        let device_id = gw.identity().await.device_id_string();
        let mac = gw.identity().await.ble_mac.to_string();
        let certs = certs(&mac);
        let mut profile = with_certs(&certs);
        if fw < Firmware::V1_15 {
            profile.custom.as_mut().unwrap().data_format = DataFormat::Ruuvi;
        }
        let mut c = client(&gw, password("Admin", &device_id));
        let outcome = push_http_profile(&mut c, &profile, &|_| {}).await;
        assert_eq!(
            outcome.state,
            GatewayState::Applied,
            "{fw}: {:?}",
            outcome.error
        );
        assert_eq!(outcome.mac.as_deref(), Some(mac.as_str()));
        let st = gw.state.lock().await;
        assert_eq!(
            st.config.files.get("http_cli_cert").map(|v| v.as_slice()),
            Some(certs.client.cert_pem.as_bytes())
        );
        assert_eq!(
            st.config.files.get("http_cli_key").map(|v| v.as_slice()),
            Some(certs.client.key_pem.expose().as_bytes())
        );
        assert_eq!(
            st.config.files.get("http_srv_cert").map(|v| v.as_slice()),
            Some(certs.ca.cert_pem.as_bytes())
        );
        assert!(
            st.config.bool("http_use_ssl_client_cert")
                && st.config.bool("http_use_ssl_server_cert")
        );
        drop(st);
        gw.stop().await;
    }
}

/// What the gateway holds, to compare before and after a push that must not change it.
async fn snapshot(gw: &RunningGateway) -> String {
    let st = gw.state.lock().await;
    format!("{:?}", (st.config.to_state(), &st.config.files))
}

#[tokio::test]
async fn a_rejected_push_leaves_the_gateway_unchanged() {
    let gw = sim(NEWEST, None, "", "RW").await;
    let mac = gw.identity().await.ble_mac.to_string();
    let before = snapshot(&gw).await;

    // A key that does not belong to the certificate: refused before anything is sent.
    let good = certs(&mac);
    let other = certs(&mac);
    let mut bad = with_certs(&good);
    bad.custom
        .as_mut()
        .unwrap()
        .client_identity
        .as_mut()
        .unwrap()
        .key_pem = other.client.key_pem.clone();
    let outcome = push_http_profile(&mut client(&gw, key("RW")), &bad, &|_| {}).await;
    assert_eq!(outcome.state, GatewayState::Unchanged);
    assert!(outcome
        .error
        .unwrap()
        .to_string()
        .contains("does not belong"));

    // The read-only key cannot upload: the first write is refused, nothing changed.
    let gw_ro = sim(NEWEST, None, "RO", "RW").await;
    let before_ro = snapshot(&gw_ro).await;
    let outcome =
        push_http_profile(&mut client(&gw_ro, key("RO")), &with_certs(&good), &|_| {}).await;
    assert_eq!(
        outcome.state,
        GatewayState::Unchanged,
        "{:?}",
        outcome.error
    );
    assert!(matches!(outcome.error, Some(GatewayError::Unauthorized(_))));
    assert_eq!(snapshot(&gw_ro).await, before_ro);
    gw_ro.stop().await;
    assert_eq!(snapshot(&gw).await, before);
    gw.stop().await;

    // A certificate chain too large for v1.14's 4096-byte requests: said plainly, not sent.
    let old = sim(Firmware::V1_14, None, "", "RW").await;
    let old_before = snapshot(&old).await;
    let mut big = with_certs(&good);
    let custom = big.custom.as_mut().unwrap();
    custom.data_format = DataFormat::Ruuvi;
    custom.server_ca_pem = Some(good.ca.cert_pem.repeat(8));
    let outcome = push_http_profile(&mut client(&old, key("RW")), &big, &|_| {}).await;
    assert_eq!(outcome.state, GatewayState::Unchanged);
    let e = outcome.error.unwrap();
    assert!(
        matches!(e, GatewayError::TooLarge { limit: 4096, .. }),
        "{e}"
    );
    assert!(e.to_string().contains("http_srv_cert"), "{e}");
    assert_eq!(snapshot(&old).await, old_before);
    old.stop().await;
}

#[tokio::test]
async fn a_failed_upload_is_rolled_back() {
    let mut o = options(NEWEST);
    o.api_key_rw = "RW".into();
    o.storage_write_errors = vec!["http_cli_key".into()];
    let gw = RunningGateway::start(o).await.unwrap();
    let mac = gw.identity().await.ble_mac.to_string();
    let before = snapshot(&gw).await;
    let steps = parking_lot::Mutex::new(Vec::new());
    let outcome = push_http_profile(
        &mut client(&gw, key("RW")),
        &with_certs(&certs(&mac)),
        &|p| steps.lock().push(p),
    )
    .await;
    assert_eq!(
        outcome.state,
        GatewayState::RolledBack { lost: vec![] },
        "{:?}",
        outcome.error
    );
    assert!(matches!(
        outcome.error,
        Some(GatewayError::Rejected { status: 500, .. })
    ));
    let steps = steps.into_inner();
    assert!(steps.contains(&Progress::Uploaded {
        file: "http_cli_cert".into()
    }));
    assert!(matches!(steps.last(), Some(Progress::RollingBack { .. })));
    assert_eq!(
        snapshot(&gw).await,
        before,
        "the uploaded files were removed again"
    );

    // With a CA already on the gateway, its replacement cannot be undone: said so.
    let ca_before = "-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----\n";
    gw.state
        .lock()
        .await
        .config
        .files
        .insert("http_srv_cert", ca_before.as_bytes().to_vec());
    let outcome = push_http_profile(
        &mut client(&gw, key("RW")),
        &with_certs(&certs(&mac)),
        &|_| {},
    )
    .await;
    match outcome.state {
        GatewayState::RolledBack { lost } => {
            assert_eq!(lost.len(), 1);
            assert!(lost[0].contains("http_srv_cert"), "{lost:?}");
        }
        other => panic!("{other:?}"),
    }
    gw.stop().await;
}

#[tokio::test]
async fn fleet_push_to_twenty_gateways() {
    let mut fleet = Vec::new();
    for i in 0..20 {
        let mut o = options(NEWEST);
        o.index = i;
        o.api_key_rw = "RW".into();
        fleet.push(RunningGateway::start(o).await.unwrap());
    }
    let targets: Vec<FleetTarget> = fleet
        .iter()
        .map(|gw| FleetTarget {
            endpoint: endpoint(gw),
            credentials: key("RW"),
        })
        .collect();
    let ca = Arc::new(certs("CA only").ca);
    // Each gateway gets its own client certificate (CN = its MAC).
    let profile_for: ruuvi_gateway::ProfileFor = Arc::new(move |c: &GatewayClient| {
        let mac = c
            .mac()
            .ok_or_else(|| GatewayError::Protocol("no MAC".into()))?;
        let issued = ca
            .issue_client(mac, Validity::days_from(now(), 730))
            .unwrap();
        let mut p = own_server(HttpAuth::None);
        let custom = p.custom.as_mut().unwrap();
        custom.client_identity = Some(ClientIdentity {
            cert_pem: issued.cert_pem,
            key_pem: issued.key_pem,
        });
        custom.server_ca_pem = Some(ca.cert_pem.clone());
        Ok(p)
    });
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let outcomes = push_fleet(targets, profile_for, ClientOptions::default(), 64, Some(tx)).await;
    assert_eq!(outcomes.len(), 20);
    for (gw, outcome) in fleet.iter().zip(&outcomes) {
        assert_eq!(
            outcome.state,
            GatewayState::Applied,
            "{}: {:?}",
            outcome.endpoint,
            outcome.error
        );
        let mac = gw.identity().await.ble_mac.to_string();
        assert_eq!(outcome.mac.as_deref(), Some(mac.as_str()));
        let st = gw.state.lock().await;
        let cert = String::from_utf8(st.config.files["http_cli_cert"].clone()).unwrap();
        assert_eq!(
            ruuvi_pki::inspect(&cert).unwrap().subject,
            format!("CN={mac}")
        );
    }
    let mut verified = std::collections::HashSet::new();
    while let Ok(event) = rx.try_recv() {
        if event.progress == Progress::Verified {
            verified.insert(event.index);
        }
    }
    assert_eq!(verified.len(), 20, "a progress event per gateway");
    for gw in fleet {
        gw.stop().await;
    }
}

/// A plain HTTP receiver for `/validate_url`: yields each request head.
async fn receiver() -> (u16, tokio::sync::mpsc::Receiver<String>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let mut buf = vec![0u8; 16384];
            let mut got = Vec::new();
            while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                match s.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                }
            }
            let _ = s
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                .await;
            let _ = tx.send(String::from_utf8_lossy(&got).into_owned()).await;
        }
    });
    (port, rx)
}

#[tokio::test]
async fn gateway_side_connectivity_check() {
    let gw = sim(NEWEST, None, "", "RW").await;
    let (port, mut heads) = receiver().await;
    let mut c = client(&gw, key("RW"));
    c.login().await.unwrap();
    let url = format!("http://127.0.0.1:{port}/record");
    let outcome = c
        .validate_url(
            &url,
            "bearer",
            "",
            Some(&Sensitive::new("check-token".into())),
            false,
            false,
        )
        .await
        .unwrap();
    assert!(outcome.ok(), "{outcome:?}");
    let head = heads.recv().await.unwrap();
    assert!(
        head.to_ascii_lowercase()
            .contains("authorization: bearer check-token"),
        "{head}"
    );
    // Nobody listening: the gateway's own words.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    drop(tokio::net::TcpListener::bind(closed).await);
    let outcome = c
        .validate_url(
            &format!("http://{closed}/x"),
            "none",
            "",
            None,
            false,
            false,
        )
        .await
        .unwrap();
    assert_eq!(outcome.status, 502);
    assert!(
        outcome.summary().starts_with("Network error"),
        "{outcome:?}"
    );
    gw.stop().await;
}

#[tokio::test]
async fn history_feed_yields_observations() {
    let gw = sim(NEWEST, None, "RO", "").await;
    let (tx, mut rx) = tokio::sync::mpsc::channel(16);
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    let (report, reports) = tokio::sync::watch::channel(Default::default());
    let feed = tokio::spawn(ruuvi_gateway::history::poll_history(
        client(&gw, key("RO")),
        Duration::from_millis(200),
        ruuvi_protocol::clock::fixed(1_800_000_000_000),
        tx,
        report,
        stop,
    ));
    let mut sensors = std::collections::HashSet::new();
    while sensors.len() < 3 {
        let o = tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .unwrap()
            .unwrap();
        assert!(matches!(
            o.feed,
            ruuvi_protocol::Feed::GatewayHistory { gateway: Some(_) }
        ));
        assert!(o.readings.temperature_c.is_some());
        assert_eq!(
            o.received_at_ms, 1_800_000_000_000,
            "stamped by the given clock"
        );
        sensors.insert(o.sensor);
    }
    let seen = reports.borrow().clone();
    assert!(
        seen.polls >= 1 && seen.observations >= 3 && seen.error.is_none(),
        "{seen:?}"
    );
    assert_eq!(seen.last_ok_ms, Some(1_800_000_000_000));
    stop_tx.send(true).unwrap();
    feed.await.unwrap().unwrap();
    gw.stop().await;
}

#[tokio::test]
async fn probe_reads_lan_auth_and_firmware_without_touching_auth() {
    for (mode, expected, fw_shown) in [
        (LanAuth::Basic, "lan_auth_basic", true),
        (LanAuth::Digest, "lan_auth_digest", true),
        (LanAuth::Deny, "lan_auth_deny", true),
        (LanAuth::Allow, "lan_auth_allow", false),
    ] {
        let gw = sim(Firmware::V1_17_3, Some((mode, "u", "p")), "", "").await;
        let found = ruuvi_gateway::discovery::probe(
            vec![endpoint(&gw)],
            ruuvi_gateway::discovery::Found::Manual,
            1,
            Duration::from_secs(3),
        )
        .await;
        assert_eq!(found[0].lan_auth.as_deref(), Some(expected));
        assert_eq!(found[0].firmware.is_some(), fw_shown, "{mode:?}");
        gw.stop().await;
    }
}

#[tokio::test]
async fn probe_tells_gateways_from_other_servers() {
    let gw = sim(NEWEST, None, "", "").await;
    let (other_port, _rx) = receiver().await;
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let targets = ruuvi_gateway::discovery::parse_targets(&format!(
        "127.0.0.1:{}, 127.0.0.1:{other_port}, {closed}",
        gw.addr.port()
    ))
    .unwrap();
    let found = ruuvi_gateway::discovery::probe(
        targets,
        ruuvi_gateway::discovery::Found::Probe,
        8,
        Duration::from_secs(3),
    )
    .await;
    assert_eq!(found[0].reachable, Ok(()));
    assert_eq!(
        found[0].lan_auth.as_deref(),
        Some("lan_auth_default or lan_auth_ruuvi")
    );
    assert!(found[1]
        .reachable
        .as_ref()
        .unwrap_err()
        .contains("not as a Ruuvi Gateway"));
    assert!(found[2]
        .reachable
        .as_ref()
        .unwrap_err()
        .contains("cannot reach"));
    gw.stop().await;
}

/// A gateway someone set up by hand in its web page with the long-URL feature (v1.17.2+): an
/// extra path and header lines stored, their switches on.
async fn with_long_url_by_hand(gw: &RunningGateway) {
    let mut st = gw.state.lock().await;
    let fw = st.firmware();
    st.config.files.insert("http_path", b"old/path".to_vec());
    st.config
        .files
        .insert("http_headers", b"X-Old-Site: three\r\n".to_vec());
    st.config.apply_lan_post(
        serde_json::json!({"use_http": true, "http_url": "http://127.0.0.1:9/old",
            "http_auth": "none", "http_use_extra_http_path": true,
            "http_use_extra_http_headers": true})
        .as_object()
        .unwrap(),
        fw,
    );
}

#[tokio::test]
async fn a_push_switches_off_the_long_url_left_by_the_web_page() {
    for fw in [Firmware::V1_17_2, NEWEST] {
        let gw = sim(fw, None, "", "RW").await;
        with_long_url_by_hand(&gw).await;
        let (port, mut heads) = receiver().await;
        let mut c = client(&gw, key("RW"));
        let before = c.config().await.unwrap().http();
        let extra = before.custom.as_ref().and_then(|c| c.extra);
        assert_eq!(
            extra,
            Some(ruuvi_gateway::ExtraHttp {
                path: true,
                query: false,
                headers: true
            }),
            "{fw}: read as the web page set it"
        );
        let mut profile = own_server(HttpAuth::None);
        let custom = profile.custom.as_mut().unwrap();
        custom.url = format!("http://127.0.0.1:{port}/ruuvi");
        custom.period_s = 1;
        // The preview names the switches that go off.
        let changes = before.changes(&profile.expected(c.firmware()), &profile);
        let keys: Vec<&str> = changes.iter().map(|c| c.key.as_str()).collect();
        assert!(keys.contains(&"http_use_extra_http_path"), "{fw}: {keys:?}");
        assert!(
            keys.contains(&"http_use_extra_http_headers"),
            "{fw}: {keys:?}"
        );
        assert!(
            !keys.contains(&"http_use_extra_http_query"),
            "{fw}: {keys:?}"
        );
        let outcome = push_http_profile(&mut c, &profile, &|_| {}).await;
        assert_eq!(
            outcome.state,
            GatewayState::Applied,
            "{fw}: {:?}",
            outcome.error
        );
        // The gateway now posts to exactly our URL, without the old header lines.
        let head = tokio::time::timeout(Duration::from_secs(20), heads.recv())
            .await
            .expect("the gateway posted")
            .unwrap();
        assert!(head.starts_with("POST /ruuvi HTTP/1.1\r\n"), "{fw}: {head}");
        assert!(
            !head.to_ascii_lowercase().contains("x-old-site"),
            "{fw}: {head}"
        );
        gw.stop().await;
    }
}

/// Ruuvi Desk sets the long URL itself: the files uploaded, each switch on where the profile
/// has that part; the gateway posts to URL + path + query with the header lines. Older
/// firmware refuses it before anything is sent.
#[tokio::test]
async fn a_push_sets_an_extra_path_query_and_headers() {
    let mut profile = own_server(HttpAuth::None);
    for fw in [Firmware::V1_17_2, NEWEST] {
        let gw = sim(fw, None, "", "RW").await;
        let (port, mut heads) = receiver().await;
        let mut c = client(&gw, key("RW"));
        profile = own_server(HttpAuth::None);
        let custom = profile.custom.as_mut().unwrap();
        custom.url = format!("http://127.0.0.1:{port}/ruuvi");
        custom.period_s = 1;
        custom.extra = ruuvi_gateway::LongUrl {
            path: "site1/floor2".into(),
            query: "key=abc".into(),
            headers: vec![("X-Site".into(), "one".into())],
        };
        let outcome = push_http_profile(&mut c, &profile, &|_| {}).await;
        assert_eq!(
            outcome.state,
            GatewayState::Applied,
            "{fw}: {:?}",
            outcome.error
        );
        let head = tokio::time::timeout(Duration::from_secs(20), heads.recv())
            .await
            .expect("the gateway posted")
            .unwrap();
        assert!(
            head.starts_with("POST /ruuvi/site1/floor2?key=abc HTTP/1.1\r\n"),
            "{fw}: {head}"
        );
        assert!(
            head.to_ascii_lowercase().contains("x-site: one\r\n"),
            "{fw}: {head}"
        );
        {
            let st = gw.state.lock().await;
            assert_eq!(st.config.files["http_headers"], b"X-Site: one\r\n");
        }
        // A header the gateway sets itself is refused before anything is sent.
        let custom = profile.custom.as_mut().unwrap();
        custom.extra.headers = vec![("Content-Type".into(), "text/plain".into())];
        let outcome = push_http_profile(&mut c, &profile, &|_| {}).await;
        assert_eq!(outcome.state, GatewayState::Unchanged, "{fw}");
        gw.stop().await;
    }

    let old = sim(Firmware::V1_16, None, "", "RW").await;
    let mut c = client(&old, key("RW"));
    let custom = profile.custom.as_mut().unwrap();
    custom.extra.headers = vec![("X-Site".into(), "one".into())];
    let outcome = push_http_profile(&mut c, &profile, &|_| {}).await;
    assert_eq!(outcome.state, GatewayState::Unchanged);
    assert!(
        outcome.error.unwrap().to_string().contains("v1.17.2"),
        "refused with the version that has it"
    );
    old.stop().await;
}

#[tokio::test]
async fn the_read_back_catches_a_long_url_still_on() {
    // A gateway that took the new URL but kept appending the old path would be "Applied" if the
    // read-back did not compare the switches.
    let gw = sim(NEWEST, None, "", "RW").await;
    with_long_url_by_hand(&gw).await;
    let mut c = client(&gw, key("RW"));
    let read = c.config().await.unwrap().http();
    let profile = own_server(HttpAuth::None);
    let differences = profile.expected(c.firmware()).differences(&read);
    assert!(
        differences
            .iter()
            .any(|d| d.starts_with("http_use_extra_http_path is \"true\"")),
        "{differences:?}"
    );
    gw.stop().await;
}

#[tokio::test]
async fn an_auth_json_with_lan_as_a_number_keeps_the_gateways_own_words() {
    let mut o = options(NEWEST);
    o.lan_auth = Some((LanAuth::Ruuvi, "owner".into(), "right".into()));
    o.quirks.lan_as_number = true;
    let gw = RunningGateway::start(o).await.unwrap();
    let mut wrong = client(&gw, password("owner", "wrong"));
    match wrong.login().await {
        Err(GatewayError::Unauthorized(message)) => assert_eq!(message, "Incorrect password"),
        other => panic!("a wrong password: {other:?}"),
    }
    let c = works(&gw, password("owner", "right")).await.unwrap();
    let info = c.info().expect("the auth JSON was read");
    assert_eq!(info.lan, Some(true));
    assert!(info.gateway_name.starts_with("RuuviGateway"), "{info:?}");
    assert!(c.firmware().is_some(), "the firmware shown after the login");
    gw.stop().await;
}

#[tokio::test]
async fn metrics_are_optional_and_the_mac_comes_from_ruuvi_json() {
    use ruuvi_gw_sim::gateway::MetricsQuirk;
    for quirk in [MetricsQuirk::Redirect, MetricsQuirk::WithoutInfo] {
        let mut o = options(NEWEST);
        o.lan_auth = Some((LanAuth::Ruuvi, "owner".into(), "pw".into()));
        o.api_key = "RO".into();
        o.quirks.metrics = quirk;
        let gw = RunningGateway::start(o).await.unwrap();
        let mac = gw.state.lock().await.identity.ble_mac.to_string();
        for credentials in [password("owner", "pw"), key("RO")] {
            let mut c = works(&gw, credentials)
                .await
                .unwrap_or_else(|e| panic!("{quirk:?}: {e}"));
            assert_eq!(c.mac(), None, "{quirk:?}: /metrics said nothing");
            assert_eq!(c.learn_mac().await.unwrap(), mac, "{quirk:?}");
            // The newest firmware hides its version from strangers; /ruuvi.json shows it.
            assert!(c.firmware().is_some(), "{quirk:?}");
        }
        // A wrong key is still refused, not taken for a broken /metrics.
        let mut bad = client(&gw, key("nope"));
        assert!(
            matches!(bad.login().await, Err(GatewayError::Unauthorized(_))),
            "{quirk:?}"
        );
        gw.stop().await;
    }
}

/// The tags a gateway forwards now (its `/history`).
async fn forwarded(c: &mut GatewayClient) -> Vec<ruuvi_protocol::MacAddress> {
    let mut tags: Vec<_> = c
        .history()
        .await
        .unwrap()
        .tags
        .iter()
        .map(|t| t.mac)
        .collect();
    tags.sort();
    tags
}

#[tokio::test]
async fn scanning_on_the_oldest_and_newest_generations() {
    use ruuvi_gateway::{push_profile, Radio, ScanProfile, TagFilter};
    for fw in [OLDEST, Firmware::V1_14, Firmware::V1_16, NEWEST] {
        let gw = sim(fw, None, "", "RW").await;
        let mut c = client(&gw, key("RW"));
        let all = forwarded(&mut c).await;
        assert_eq!(all.len(), 3, "{fw}");
        let before = ScanProfile::read(&c.config().await.unwrap());
        assert_eq!(before, ScanProfile::default(), "{fw}: factory settings");

        // The radio: long range on, channel 38 off (every generation has these flags).
        let radio = ScanProfile {
            radio: Some(Radio {
                coded_phy: true,
                channel_38: false,
                ..Radio::DEFAULT
            }),
            ..ScanProfile::default()
        };
        let outcome = push_profile(&mut c, &radio, &|_| {}).await;
        assert_eq!(
            outcome.state,
            GatewayState::Applied,
            "{fw}: {:?}",
            outcome.error
        );
        {
            let st = gw.state.lock().await;
            assert!(st.config.bool("scan_coded_phy") && !st.config.bool("scan_channel_38"));
        }

        // A tag list: only one tag forwarded, then all but it (v1.14+).
        let allow = ScanProfile {
            tags: TagFilter::Allow(vec![all[0]]),
            ..radio.clone()
        };
        let outcome = push_profile(&mut c, &allow, &|_| {}).await;
        if fw < Firmware::V1_14 {
            assert_eq!(outcome.state, GatewayState::Unchanged, "{fw}");
            assert!(
                matches!(outcome.error, Some(GatewayError::Unsupported(_))),
                "{fw}"
            );
        } else {
            assert_eq!(
                outcome.state,
                GatewayState::Applied,
                "{fw}: {:?}",
                outcome.error
            );
            assert_eq!(forwarded(&mut c).await, [all[0]], "{fw}");
            let deny = ScanProfile {
                tags: TagFilter::Deny(vec![all[0]]),
                ..radio.clone()
            };
            let outcome = push_profile(&mut c, &deny, &|_| {}).await;
            assert_eq!(
                outcome.state,
                GatewayState::Applied,
                "{fw}: {:?}",
                outcome.error
            );
            assert_eq!(forwarded(&mut c).await, all[1..], "{fw}");
        }
        // Another manufacturer only: nothing of Ruuvi's is forwarded.
        let other = ScanProfile {
            company_filter: Some(0x0059),
            ..radio.clone()
        };
        let outcome = push_profile(&mut c, &other, &|_| {}).await;
        assert_eq!(
            outcome.state,
            GatewayState::Applied,
            "{fw}: {:?}",
            outcome.error
        );
        assert!(forwarded(&mut c).await.is_empty(), "{fw}");

        // Undo: what was read before, put back.
        let outcome = push_profile(&mut c, &before, &|_| {}).await;
        assert_eq!(
            outcome.state,
            GatewayState::Applied,
            "{fw}: {:?}",
            outcome.error
        );
        assert_eq!(forwarded(&mut c).await, all, "{fw}");
        assert_eq!(
            ScanProfile::read(&c.config().await.unwrap()),
            before,
            "{fw}"
        );
        gw.stop().await;
    }
}

#[tokio::test]
async fn lan_access_changes_prove_the_new_login_on_the_oldest_and_newest() {
    use ruuvi_gateway::lan::generate_api_key;
    use ruuvi_gateway::{push_lan_access, KeyChange, LanAccessProfile, LanLogin};
    for fw in [OLDEST, NEWEST] {
        let gw = sim(fw, None, "", "").await;
        let label = gw.identity().await.default_password();
        let mut c = client(&gw, password("Admin", &label));
        c.login().await.unwrap();
        // The factory login → the owner's own, with a read-write key for Ruuvi Desk (v1.16+).
        let rw = generate_api_key();
        let keys = fw >= Firmware::V1_16;
        let profile = LanAccessProfile {
            login: Some(LanLogin::Ruuvi {
                user: "owner".into(),
                password: Sensitive::new("correct horse".into()),
            }),
            api_key_rw: if keys {
                KeyChange::Set(rw.clone())
            } else {
                KeyChange::Keep
            },
            ..Default::default()
        };
        let after = password("owner", "correct horse");
        let outcome = push_lan_access(&mut c, &profile, &after, &|_| {}).await;
        assert_eq!(
            outcome.state,
            GatewayState::Applied,
            "{fw}: {:?}",
            outcome.error
        );
        works(&gw, after.clone()).await.unwrap();
        assert!(
            matches!(
                works(&gw, password("Admin", &label)).await,
                Err(GatewayError::Unauthorized(_))
            ),
            "{fw}: the factory password no longer works"
        );
        if keys {
            let with_key = works(&gw, Credentials::ApiKey(rw.clone())).await.unwrap();
            drop(with_key);
        }

        // Credentials that the change does not make work: refused up front when it is clear…
        let deny = LanAccessProfile {
            login: Some(LanLogin::Deny),
            ..Default::default()
        };
        let mut c = client(&gw, after.clone());
        let outcome = push_lan_access(&mut c, &deny, &after, &|_| {}).await;
        assert_eq!(outcome.state, GatewayState::Unchanged, "{fw}");
        assert!(
            outcome
                .error
                .unwrap()
                .to_string()
                .contains("lock Ruuvi Desk out"),
            "{fw}"
        );
        // …and put back when only trying them shows it: a wrong password named as the one
        // to use afterwards.
        let keys_only = LanAccessProfile {
            api_key: KeyChange::Set(generate_api_key()),
            ..Default::default()
        };
        let outcome =
            push_lan_access(&mut c, &keys_only, &password("owner", "wrong"), &|_| {}).await;
        assert!(
            matches!(&outcome.state, GatewayState::RolledBack { lost } if lost.len() == 1),
            "{fw}: {:?} {:?}",
            outcome.state,
            outcome.error
        );
        works(&gw, after.clone()).await.unwrap();
        gw.stop().await;
    }
}

#[tokio::test]
async fn api_keys_replaced_while_logged_in_with_one() {
    use ruuvi_gateway::lan::generate_api_key;
    use ruuvi_gateway::{push_lan_access, KeyChange, LanAccessProfile};
    let gw = sim(NEWEST, None, "RO-old", "RW-old").await;
    let mut c = client(&gw, key("RW-old"));
    let (ro, rw) = (generate_api_key(), generate_api_key());
    let profile = LanAccessProfile {
        login: None,
        api_key: KeyChange::Set(ro.clone()),
        api_key_rw: KeyChange::Set(rw.clone()),
    };
    let after = Credentials::ApiKey(rw.clone());
    let outcome = push_lan_access(&mut c, &profile, &after, &|_| {}).await;
    assert_eq!(outcome.state, GatewayState::Applied, "{:?}", outcome.error);
    // The client given back uses the new key.
    c.status().await.unwrap();
    assert!(matches!(
        works(&gw, key("RW-old")).await,
        Err(GatewayError::Unauthorized(_))
    ));
    works(&gw, Credentials::ApiKey(ro.clone())).await.unwrap();
    // The read-only key reads but cannot change anything.
    let mut read_only = client(&gw, Credentials::ApiKey(ro));
    let cfg = read_only.config().await.unwrap();
    assert!(read_only.post_config(&cfg.unchanged_body()).await.is_err());
    gw.stop().await;
}

/// A firmware update server on loopback: `/firmwareupdate` lists `v1.17.3` in this server's
/// `/v1.17.3/` folder, which holds the three files a gateway checks; anything else is 404.
async fn update_server() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let mut got = Vec::new();
                while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => got.extend_from_slice(&buf[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&got).into_owned();
                let path = head.split(' ').nth(1).unwrap_or("").to_string();
                let body = match path.as_str() {
                    "/firmwareupdate" => format!(
                        r#"{{"latest": {{"version": "v1.17.3", "url": "http://127.0.0.1:{port}/v1.17.3", "created_at": "2026-06-01T12:00:00Z"}}}}"#
                    ),
                    "/v1.17.3/ruuvi_gateway_esp.bin"
                    | "/v1.17.3/fatfs_gwui.bin"
                    | "/v1.17.3/fatfs_nrf52.bin" => "binary".to_string(),
                    _ => {
                        let _ = s
                            .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                            .await;
                        return;
                    }
                };
                let _ = s
                    .write_all(
                        format!(
                            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                            body.len()
                        )
                        .as_bytes(),
                    )
                    .await;
            });
        }
    });
    port
}

#[tokio::test]
async fn a_rolling_firmware_update_waits_for_each_and_stops_at_a_failure() {
    use ruuvi_gateway::{roll_out, FirmwareVersion, RolloutState, UpdateTiming};
    let port = update_server().await;
    let mut gateways = Vec::new();
    for index in 0..3 {
        let mut o = options(Firmware::V1_16);
        o.index = index;
        o.api_key_rw = "RW".into();
        let gw = RunningGateway::start(o).await.unwrap();
        gw.state.lock().await.config.apply_fw_update_url(
            serde_json::json!({"fw_update_url": format!("http://127.0.0.1:{port}/firmwareupdate")})
                .as_object()
                .unwrap(),
        );
        gateways.push(gw);
    }
    // What the gateway is offered, through the gateway.
    let mut c = client(&gateways[0], key("RW"));
    let offered = c.releases().await.unwrap();
    let running = c.firmware().unwrap();
    let release = offered
        .newer_than(running, false)
        .expect("v1.17.3 is newer")
        .clone();
    let timing = UpdateTiming {
        total: Duration::from_secs(60),
        poll: Duration::from_millis(300),
    };
    let expected = FirmwareVersion::parse(&release.version);
    let steps = parking_lot::Mutex::new(Vec::new());
    let clients: Vec<_> = gateways.iter().map(|g| client(g, key("RW"))).collect();
    let results = roll_out(clients, &release.url, expected, 2, timing, &|i, s| {
        steps.lock().push((i, s))
    })
    .await;
    for (i, (c, state)) in results.iter().enumerate() {
        assert_eq!(
            state,
            &RolloutState::Updated {
                version: "v1.17.3".into()
            },
            "gateway {i}"
        );
        assert_eq!(c.firmware(), expected, "gateway {i}");
        assert_eq!(gateways[i].state.lock().await.firmware(), Firmware::V1_17_3);
    }
    {
        let steps = steps.lock();
        assert!(steps
            .iter()
            .any(|(_, s)| matches!(s, ruuvi_gateway::UpdateStep::Running { stage: 1, .. })));
        assert!(steps
            .iter()
            .any(|(_, s)| matches!(s, ruuvi_gateway::UpdateStep::Rebooting)));
    }

    // A folder without the files: the first fails, the rest are not started (one at a time).
    let clients: Vec<_> = gateways.iter().map(|g| client(g, key("RW"))).collect();
    let bad = format!("http://127.0.0.1:{port}/v9.9.9");
    let results = roll_out(clients, &bad, None, 1, timing, &|_, _| {}).await;
    assert!(
        matches!(&results[0].1, RolloutState::Failed { error } if error.contains("Failed to download")),
        "{:?}",
        results[0].1
    );
    assert_eq!(results[1].1, RolloutState::Skipped);
    assert_eq!(results[2].1, RolloutState::Skipped);
    for gw in gateways {
        gw.stop().await;
    }
}

#[tokio::test]
async fn time_and_place_on_the_oldest_and_newest() {
    use ruuvi_gateway::{push_profile, Clock, TimePlaceProfile};
    for fw in [OLDEST, NEWEST] {
        let gw = sim(fw, None, "", "RW").await;
        let mut c = client(&gw, key("RW"));
        let before = TimePlaceProfile::read(&c.config().await.unwrap());
        let servers = TimePlaceProfile {
            clock: Some(Clock::Servers(vec!["192.168.1.1".into(), "ntp.lan".into()])),
            coordinates: Some("60.1699,24.9384".into()),
        };
        let outcome = push_profile(&mut c, &servers, &|_| {}).await;
        assert_eq!(
            outcome.state,
            GatewayState::Applied,
            "{fw}: {:?}",
            outcome.error
        );
        let doc = c.history().await.unwrap();
        assert_eq!(
            doc.coordinates, "60.1699,24.9384",
            "{fw}: copied into its data"
        );
        assert!(doc.timestamp.is_some(), "{fw}");
        // No clock: the data carries counters instead of times.
        let off = TimePlaceProfile {
            clock: Some(Clock::Off),
            coordinates: None,
        };
        let outcome = push_profile(&mut c, &off, &|_| {}).await;
        assert_eq!(
            outcome.state,
            GatewayState::Applied,
            "{fw}: {:?}",
            outcome.error
        );
        assert!(c.history().await.unwrap().timestamp.is_none(), "{fw}");
        let dhcp = TimePlaceProfile {
            clock: Some(Clock::Dhcp),
            coordinates: None,
        };
        let outcome = push_profile(&mut c, &dhcp, &|_| {}).await;
        assert_eq!(
            outcome.state,
            GatewayState::Applied,
            "{fw}: {:?}",
            outcome.error
        );
        // Back as it was: the factory servers again (all four slots).
        let outcome = push_profile(&mut c, &before, &|_| {}).await;
        assert_eq!(
            outcome.state,
            GatewayState::Applied,
            "{fw}: {:?}",
            outcome.error
        );
        assert_eq!(
            TimePlaceProfile::read(&c.config().await.unwrap()),
            before,
            "{fw}"
        );
        gw.stop().await;
    }
}

/// A broker on loopback that takes user `gw` with password `right` only (MQTT 3.1.1 CONNECT
/// → CONNACK 0, or 5 "not authorised").
async fn picky_broker() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let mut buf = vec![0u8; 512];
            let n = s.read(&mut buf).await.unwrap_or(0);
            let packet = &buf[..n];
            let right = packet
                .windows(2 + 2 + 2 + 5)
                .any(|w| w == b"\x00\x02gw\x00\x05right");
            let _ = s
                .write_all(&[0x20, 0x02, 0, if right { 0 } else { 5 }])
                .await;
        }
    });
    port
}

#[tokio::test]
async fn the_gateway_tests_an_mqtt_broker_with_a_given_or_its_saved_password() {
    let gw = sim(NEWEST, None, "", "RW").await;
    let port = picky_broker().await;
    let mut c = client(&gw, key("RW"));
    c.login().await.unwrap();
    let right = Sensitive::new("right".to_string());
    let ok = c
        .validate_mqtt(
            "TCP",
            "127.0.0.1",
            port,
            "ruuvi/",
            "",
            "gw",
            Some(&right),
            false,
        )
        .await
        .unwrap();
    assert!(ok.ok(), "{ok:?}");
    let wrong = Sensitive::new("wrong".to_string());
    let refused = c
        .validate_mqtt(
            "TCP",
            "127.0.0.1",
            port,
            "ruuvi/",
            "",
            "gw",
            Some(&wrong),
            false,
        )
        .await
        .unwrap();
    assert_eq!(refused.summary(), "the server refused the credentials");
    // The password the gateway has saved for MQTT.
    gw.state.lock().await.config.apply_lan_post(
        serde_json::json!({"use_mqtt": true, "mqtt_user": "gw", "mqtt_pass": "right"})
            .as_object()
            .unwrap(),
        NEWEST,
    );
    let saved = c
        .validate_mqtt("TCP", "127.0.0.1", port, "ruuvi/", "", "gw", None, false)
        .await
        .unwrap();
    assert!(saved.ok(), "{saved:?}");
    gw.stop().await;
}

/// The housekeeping areas on the oldest firmware that has them (v1.13) and the newest: remote
/// configuration, automatic updates, statistics and time — each pushed, read back and compared,
/// then undone (`Restore`: the settings as read before).
#[tokio::test]
async fn housekeeping_areas_on_the_oldest_and_newest_firmware() {
    use ruuvi_gateway::remote_cfg::{RemoteAuth, RemoteCfgProfile, RemoteSource};
    use ruuvi_gateway::{
        AutoUpdateProfile, BackendProfile, Clock, Restore, StatisticsProfile, StatisticsTarget,
        TimePlaceProfile,
    };
    for fw in [Firmware::V1_13, NEWEST] {
        let gw = sim(fw, None, "", "RW").await;
        let mut c = client(&gw, key("RW"));
        let areas: Vec<(&str, Box<dyn BackendProfile + Sync>)> = vec![
            (
                "remote",
                Box::new(RemoteCfgProfile {
                    source: Some(RemoteSource {
                        url: "https://127.0.0.1:9/gw-cfg/".into(),
                        auth: RemoteAuth::Bearer(Some(Sensitive::new("t".into()))),
                        server_ca_pem: None,
                        client_identity: None,
                        refresh_minutes: 30,
                    }),
                }),
            ),
            (
                "auto-update",
                Box::new(AutoUpdateProfile {
                    cycle: "manual".into(),
                    weekdays: 0b100_0001,
                    from_hour: 2,
                    to_hour: 4,
                    tz_offset_hours: -3,
                }),
            ),
            (
                "statistics",
                Box::new(StatisticsProfile {
                    target: Some(StatisticsTarget {
                        url: "http://127.0.0.1:9/status".into(),
                        user: "stats".into(),
                        password: Some(Sensitive::new("pw".into())),
                        server_ca_pem: None,
                        client_identity: None,
                    }),
                }),
            ),
            (
                "time",
                Box::new(TimePlaceProfile {
                    clock: Some(Clock::Servers(vec!["time.lan".into()])),
                    coordinates: Some("60.17,24.94".into()),
                }),
            ),
        ];
        for (name, area) in &areas {
            let before = c.config().await.unwrap();
            let outcome = ruuvi_gateway::push_profile(&mut c, area.as_ref(), &|_| {}).await;
            assert_eq!(
                outcome.state,
                GatewayState::Applied,
                "{fw} {name}: {:?}",
                outcome.error
            );
            let undo = Restore::of(area.as_ref(), &before);
            let outcome = ruuvi_gateway::push_profile(&mut c, &undo, &|_| {}).await;
            assert_eq!(
                outcome.state,
                GatewayState::Applied,
                "{fw} {name} undo: {:?}",
                outcome.error
            );
            let after = c.config().await.unwrap();
            for key in area.post_body(&before).keys() {
                if !key.contains("pass") && !key.contains("token") {
                    assert_eq!(
                        after.raw().get(key),
                        before.raw().get(key),
                        "{fw} {name}: {key}"
                    );
                }
            }
        }
        {
            let st = gw.state.lock().await;
            assert_eq!(
                st.config.secret("http_stat_pass"),
                "pw",
                "{fw}: secrets stay as set"
            );
        }
        gw.stop().await;
    }
}
