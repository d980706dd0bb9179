//! `ruuvictl serve --mqtt mqtts://… --mqtt-ca <our CA> --mqtt-client-cert` against a broker
//! that trusts only Ruuvi Desk's CA and requires a client certificate (run under
//! `tests/with-keychain.sh tests/with-servers.sh`): serve presents its own certificate, issued
//! from the CA in its data directory, and stores what a gateway publishes.

mod common;

use std::ffi::OsStr;
use std::process::Stdio;
use std::time::Duration;

use ruuvi_gw_sim::{Firmware, GatewayOptions, RunningGateway};
use ruuvi_mqtt::testing::{BrokerTls, TestBroker};
use ruuvi_pki::{KeyAlgorithm, OffsetDateTime, Pki, Validity};
use ruuvi_secrets::Keychain;
use ruuvi_store::{ObservationStore, SqliteStore};

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a keychain and mosquitto: tests/with-keychain.sh tests/with-servers.sh"]
async fn serve_reads_a_broker_that_requires_ruuvi_desks_client_certificate() {
    let dir = std::env::temp_dir().join(format!("ruuvictl-mqtt-tls-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let data = dir.join("data");
    let service = format!("ruuvictl-mqtt-tls-{}", std::process::id());
    // Ruuvi Desk's CA, and the broker's certificate from it (as a user sets up a broker).
    let keychain = Keychain::new(&service);
    let pki = Pki::new(data.join("pki"), &keychain);
    let now = OffsetDateTime::now_utc();
    pki.init(
        "Ruuvi Desk CA",
        KeyAlgorithm::EcdsaP256,
        Validity::days_from(now, 30),
        false,
    )
    .unwrap();
    pki.issue_server(&["127.0.0.1".into()], now, 30).unwrap();
    let (server_cert, server_key) = pki.server_identity().unwrap();
    std::fs::create_dir_all(dir.join("broker")).unwrap();
    std::fs::write(dir.join("broker/server.pem"), server_cert).unwrap();
    std::fs::write(dir.join("broker/server.key"), server_key.expose()).unwrap();
    let ca = data.join("pki/ca.pem");
    let broker = TestBroker::start(
        &dir.join("broker"),
        Some(BrokerTls {
            ca: ca.clone(),
            cert: dir.join("broker/server.pem"),
            key: dir.join("broker/server.key"),
        }),
    )
    .unwrap();

    let serving = common::spawn_serve(
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--http",
            "--no-admin",
            "--mqtt",
            &format!("mqtts://127.0.0.1:{}", broker.tls.unwrap()),
            "--mqtt-topic",
            "site1/#",
            "--mqtt-ca",
            ca.to_str().unwrap(),
            "--mqtt-client-cert",
        ],
        &[
            ("RUUVI_DESK_DATA_DIR", data.as_os_str()),
            ("RUUVI_DESK_KEYCHAIN_SERVICE", OsStr::new(&service)),
        ],
        Stdio::inherit(),
    );

    // A gateway publishing to the broker's plain listener.
    let mut o = GatewayOptions::new("127.0.0.1:0".parse().unwrap(), Firmware::Head);
    o.post_delay = Duration::from_millis(40);
    o.tags = 2;
    o.api_key_rw = "RW".into();
    let gw = RunningGateway::start(o).await.unwrap();
    let gateway = gw.addr.to_string();
    let broker_url = format!("mqtt://127.0.0.1:{}", broker.plain);
    let cli = dir.join("cli");
    let out = tokio::task::spawn_blocking(move || {
        common::ruuvictl_with(
            &[
                "gateway",
                "config",
                "set-mqtt",
                &gateway,
                "--api-key",
                "--broker",
                &broker_url,
                "--prefix",
                "site1/",
            ],
            &[
                ("RUUVI_GATEWAY_API_KEY", OsStr::new("RW")),
                ("RUUVI_DESK_DATA_DIR", cli.as_os_str()),
            ],
            None,
        )
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // serve stores both tags, read through the broker's mTLS listener.
    let db = data.join("observations.sqlite");
    let mut sensors = 0;
    for _ in 0..300 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if let Ok(mut store) = SqliteStore::open(&db) {
            sensors = store.latest().map(|l| l.len()).unwrap_or(0);
        }
        if sensors == 2 {
            break;
        }
    }
    assert_eq!(sensors, 2, "serve stored {sensors} of 2 sensors over mTLS");
    // Its own certificate is on disk, its key only in the keychain.
    let own = std::fs::read_to_string(data.join("pki/desk-client.pem")).unwrap();
    assert!(ruuvi_pki::inspect(&own)
        .unwrap()
        .subject
        .contains("ruuvi-desk"));
    drop(serving);
    gw.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
    for id in ["ca", "server", "desk-client"] {
        let _ = ruuvi_secrets::SecretStore::delete(
            &keychain,
            &ruuvi_secrets::SecretName::new(ruuvi_secrets::SecretKind::PrivateKey, id).unwrap(),
        );
    }
}
