//! mTLS round trips on loopback: a rustls server configured by `server_config` with the issued
//! server certificate, and reqwest (rustls) clients with issued client certificates.

use std::time::Duration as StdDuration;

use ruuvi_pki::{
    certificate_der, server_config, ClientAuth, Issued, KeyAlgorithm, LocalCa, SharedAllowList,
    Validity,
};
use time::{Duration, OffsetDateTime};
use tokio::sync::mpsc;

mod common;
use common::{allow, allow_listed_receiver, serve, validity};

/// One request on a fresh connection (so every request is a full handshake).
async fn request(port: u16, ca_pem: &str, identity: Option<&Issued>) -> Result<String, String> {
    let mut builder = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(ca_pem.as_bytes()).unwrap())
        .pool_max_idle_per_host(0)
        .timeout(StdDuration::from_secs(10));
    if let Some(issued) = identity {
        let pem = format!("{}{}", issued.cert_pem, issued.key_pem.expose());
        builder = builder.identity(reqwest::Identity::from_pem(pem.as_bytes()).unwrap());
    }
    let client = builder.build().unwrap();
    let response = client
        .get(format!("https://localhost:{port}/record"))
        .send()
        .await
        .map_err(|e| format!("{e:?}"))?;
    if !response.status().is_success() {
        return Err(format!("status {}", response.status()));
    }
    response.text().await.map_err(|e| format!("{e:?}"))
}

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

struct Setup {
    ca: LocalCa,
    allowed: SharedAllowList,
    port: u16,
    failures: mpsc::UnboundedReceiver<String>,
}

async fn setup(algorithm: KeyAlgorithm) -> Setup {
    let ca = LocalCa::generate("Ruuvi Desk test CA", algorithm, validity(3650)).unwrap();
    let (port, allowed, failures) = allow_listed_receiver(&ca, &["localhost", "127.0.0.1"]).await;
    Setup {
        ca,
        allowed,
        port,
        failures,
    }
}

fn issue_allowed(s: &Setup, mac: &str, validity: Validity) -> Issued {
    let issued = s.ca.issue_client(mac, validity).unwrap();
    allow(&s.allowed, &issued, mac);
    issued
}

async fn next_failure(s: &mut Setup) -> String {
    tokio::time::timeout(StdDuration::from_secs(10), s.failures.recv())
        .await
        .expect("the server saw a failed handshake")
        .unwrap()
}

#[tokio::test]
async fn accepts_an_issued_client_and_rejects_the_others() {
    let mut s = setup(KeyAlgorithm::EcdsaP256).await;
    let mac = "C8:25:2D:8E:9C:2C";
    let good = issue_allowed(&s, mac, Validity::days_from(now(), 730));
    assert_eq!(
        request(s.port, &s.ca.cert_pem, Some(&good)).await.unwrap(),
        mac
    );

    // A client certificate from another CA.
    let other_ca = LocalCa::generate(
        "Other CA",
        KeyAlgorithm::EcdsaP256,
        Validity::days_from(now(), 10),
    )
    .unwrap();
    let stranger = other_ca
        .issue_client(mac, Validity::days_from(now(), 730))
        .unwrap();
    request(s.port, &s.ca.cert_pem, Some(&stranger))
        .await
        .expect_err("another CA's certificate");
    let why = next_failure(&mut s).await;
    assert!(why.contains("UnknownIssuer"), "{why}");

    // An expired certificate from our CA (even one on the allow-list).
    let expired = issue_allowed(
        &s,
        "AA:BB:CC:DD:EE:01",
        Validity {
            not_before: now() - Duration::days(800),
            not_after: now() - Duration::days(1),
        },
    );
    request(s.port, &s.ca.cert_pem, Some(&expired))
        .await
        .expect_err("an expired certificate");
    let why = next_failure(&mut s).await;
    assert!(why.contains("expired"), "{why}");

    // No certificate at all.
    request(s.port, &s.ca.cert_pem, None)
        .await
        .expect_err("no client certificate");
    let why = next_failure(&mut s).await;
    assert!(why.contains("no certificates"), "{why}");

    // The good one still works.
    assert_eq!(
        request(s.port, &s.ca.cert_pem, Some(&good)).await.unwrap(),
        mac
    );
}

#[tokio::test]
async fn revocation_is_removal_from_the_allow_list_and_takes_effect_at_once() {
    let mut s = setup(KeyAlgorithm::EcdsaP256).await;
    let keep = issue_allowed(&s, "AA:BB:CC:DD:EE:01", Validity::days_from(now(), 730));
    let revoke = issue_allowed(&s, "AA:BB:CC:DD:EE:02", Validity::days_from(now(), 730));
    // Issued by our CA but never put on the allow-list: not accepted either.
    let unlisted =
        s.ca.issue_client("AA:BB:CC:DD:EE:03", Validity::days_from(now(), 730))
            .unwrap();
    assert!(request(s.port, &s.ca.cert_pem, Some(&revoke)).await.is_ok());
    assert!(request(s.port, &s.ca.cert_pem, Some(&unlisted))
        .await
        .is_err());
    assert!(next_failure(&mut s).await.contains("Revoked"));

    assert!(s
        .allowed
        .write()
        .remove(&certificate_der(&revoke.cert_pem).unwrap()));
    request(s.port, &s.ca.cert_pem, Some(&revoke))
        .await
        .expect_err("revoked");
    let why = next_failure(&mut s).await;
    assert!(why.contains("Revoked"), "{why}");
    assert_eq!(
        request(s.port, &s.ca.cert_pem, Some(&keep)).await.unwrap(),
        "AA:BB:CC:DD:EE:01"
    );
}

#[tokio::test]
async fn rsa_2048_certificates_work_end_to_end() {
    let s = setup(KeyAlgorithm::Rsa2048).await;
    let client = issue_allowed(&s, "AA:BB:CC:DD:EE:FF", Validity::days_from(now(), 730));
    assert_eq!(
        request(s.port, &s.ca.cert_pem, Some(&client))
            .await
            .unwrap(),
        "AA:BB:CC:DD:EE:FF"
    );
}

#[tokio::test]
async fn server_only_tls_and_the_name_check() {
    let ca = LocalCa::generate(
        "CA",
        KeyAlgorithm::EcdsaP256,
        Validity::days_from(now(), 10),
    )
    .unwrap();
    let server = ca
        .issue_server(&["localhost".to_string()], Validity::days_from(now(), 10))
        .unwrap();
    let config = server_config(
        &ca.cert_pem,
        &server.cert_pem,
        &server.key_pem,
        ClientAuth::None,
    )
    .unwrap();
    let (port, _failures) = serve(config, None).await;
    assert_eq!(
        request(port, &ca.cert_pem, None).await.unwrap(),
        "anonymous"
    );
    // A client that trusts another CA refuses the server.
    let other = LocalCa::generate(
        "Other",
        KeyAlgorithm::EcdsaP256,
        Validity::days_from(now(), 1),
    )
    .unwrap();
    let e = request(port, &other.cert_pem, None).await.unwrap_err();
    assert!(e.contains("UnknownIssuer"), "{e}");
    // A key that does not match is a clear configuration error.
    let wrong = ca
        .issue_server(&["localhost".to_string()], Validity::days_from(now(), 10))
        .unwrap();
    assert!(server_config(
        &ca.cert_pem,
        &server.cert_pem,
        &wrong.key_pem,
        ClientAuth::None
    )
    .is_err());
}

#[tokio::test]
async fn optional_client_certificates_are_still_checked_when_sent() {
    let ca = LocalCa::generate("CA", KeyAlgorithm::EcdsaP256, validity(10)).unwrap();
    let server = ca
        .issue_server(&["localhost".to_string()], validity(10))
        .unwrap();
    let allowed: ruuvi_pki::SharedAllowList = Default::default();
    let config = server_config(
        &ca.cert_pem,
        &server.cert_pem,
        &server.key_pem,
        ClientAuth::Optional(allowed.clone()),
    )
    .unwrap();
    let (port, mut failures) = serve(config, Some(allowed.clone())).await;
    // No certificate: fine at the TLS level (the receiver decides per gateway).
    assert_eq!(
        request(port, &ca.cert_pem, None).await.unwrap(),
        "anonymous"
    );
    let listed = ca.issue_client("AA:BB:CC:DD:EE:01", validity(10)).unwrap();
    allow(&allowed, &listed, "AA:BB:CC:DD:EE:01");
    assert_eq!(
        request(port, &ca.cert_pem, Some(&listed)).await.unwrap(),
        "AA:BB:CC:DD:EE:01"
    );
    // A certificate that is sent but not allowed is refused.
    let unlisted = ca.issue_client("AA:BB:CC:DD:EE:02", validity(10)).unwrap();
    assert!(request(port, &ca.cert_pem, Some(&unlisted)).await.is_err());
    let why = tokio::time::timeout(StdDuration::from_secs(10), failures.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(why.contains("Revoked"), "{why}");
}
