//! Our certificates against mbedTLS, the gateway's TLS library: a small C client
//! (`tests/mbedtls/gateway_client.c`) configured as the firmware's ESP-TLS configures the custom
//! HTTP target (CA from `http_srv_cert`, verify REQUIRED, host name checked, client certificate
//! and key) connects to a receiver set up by `server_config`.
//!
//! It links the system's mbedTLS (Debian 12: 2.28; current firmware carries 3.5.0), so it runs
//! where `libmbedtls-dev` is installed: `make test` installs it and runs this.

use std::path::PathBuf;
use std::process::Command;
use std::sync::Once;

use ruuvi_pki::{certificate_der, Issued, KeyAlgorithm, LocalCa, SharedAllowList};
mod common;
use common::{allow, allow_listed_receiver, validity};

const NEEDS: &str = "needs cc and libmbedtls-dev: make test runs it";

fn client_binary() -> PathBuf {
    static BUILD: Once = Once::new();
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("mbedtls_gateway_client");
    BUILD.call_once(|| {
        let source =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/mbedtls/gateway_client.c");
        let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_string());
        let status = Command::new(cc)
            .args(["-O1", "-Wall", "-o"])
            .arg(&out)
            .arg(&source)
            .args(["-lmbedtls", "-lmbedx509", "-lmbedcrypto"])
            .status()
            .expect(NEEDS);
        assert!(
            status.success(),
            "compiling the mbedTLS client failed: {NEEDS}"
        );
    });
    out
}

async fn receiver(ca: &LocalCa, names: &[&str]) -> (u16, SharedAllowList) {
    let (port, allowed, _failures) = allow_listed_receiver(ca, names).await;
    (port, allowed)
}

/// Runs the mbedTLS client; returns its output (first line: handshake result).
async fn connect(port: u16, server_name: &str, ca: &LocalCa, client: Option<&Issued>) -> String {
    let dir = tempdir();
    let ca_path = dir.join("ca.pem");
    std::fs::write(&ca_path, &ca.cert_pem).unwrap();
    let mut cmd = Command::new(client_binary());
    cmd.args(["127.0.0.1", &port.to_string(), server_name])
        .arg(&ca_path);
    if let Some(issued) = client {
        std::fs::write(dir.join("cert.pem"), &issued.cert_pem).unwrap();
        std::fs::write(dir.join("key.pem"), issued.key_pem.expose()).unwrap();
        cmd.arg(dir.join("cert.pem")).arg(dir.join("key.pem"));
    }
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn tempdir() -> PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "ruuvi-pki-mbedtls-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn gateway_accepts(algorithm: KeyAlgorithm) {
    let ca = LocalCa::generate("Ruuvi Desk CA", algorithm, validity(3650)).unwrap();
    let (port, allowed) = receiver(&ca, &["desk", "desk.local", "localhost", "127.0.0.1"]).await;
    let mac = "C8:25:2D:8E:9C:2C";
    let client = ca.issue_client(mac, validity(730)).unwrap();
    allow(&allowed, &client, mac);
    let out = connect(port, "localhost", &ca, Some(&client)).await;
    assert!(out.starts_with("HANDSHAKE OK"), "{algorithm:?}: {out}");
    assert!(out.contains(&format!("200 OK\n{mac}")), "{out}");
}

#[tokio::test]
#[ignore = "needs cc and libmbedtls-dev: make test runs it"]
async fn mbedtls_accepts_our_ecdsa_p256_chain_and_client_certificate() {
    gateway_accepts(KeyAlgorithm::EcdsaP256).await;
}

#[tokio::test]
#[ignore = "needs cc and libmbedtls-dev: make test runs it"]
async fn mbedtls_accepts_our_rsa_2048_chain_and_client_certificate() {
    gateway_accepts(KeyAlgorithm::Rsa2048).await;
}

#[tokio::test]
#[ignore = "needs cc and libmbedtls-dev: make test runs it"]
async fn mbedtls_refuses_a_wrong_name_a_wrong_ca_and_a_revoked_client() {
    let ca = LocalCa::generate("Ruuvi Desk CA", KeyAlgorithm::EcdsaP256, validity(3650)).unwrap();
    let (port, allowed) = receiver(&ca, &["desk.local", "localhost", "127.0.0.1"]).await;
    let client = ca.issue_client("AA:BB:CC:DD:EE:FF", validity(730)).unwrap();
    let der = certificate_der(&client.cert_pem).unwrap();
    allowed.write().allow(&der, "AA:BB:CC:DD:EE:FF");

    // A name the certificate does not carry: MBEDTLS_X509_BADCERT_CN_MISMATCH (0x04).
    let out = connect(port, "other.example", &ca, Some(&client)).await;
    assert!(
        out.starts_with("HANDSHAKE FAILED") && out.contains("verify=0x4"),
        "{out}"
    );
    // `<host>.local` works as the name.
    let out = connect(port, "desk.local", &ca, Some(&client)).await;
    assert!(out.starts_with("HANDSHAKE OK"), "{out}");

    // The gateway trusts another CA: MBEDTLS_X509_BADCERT_NOT_TRUSTED (0x08).
    let other = LocalCa::generate("Other", KeyAlgorithm::EcdsaP256, validity(10)).unwrap();
    let out = connect(port, "localhost", &other, Some(&client)).await;
    assert!(
        out.starts_with("HANDSHAKE FAILED") && out.contains("verify=0x8"),
        "{out}"
    );

    // Revoked (off the allow-list), and no client certificate at all: the receiver refuses.
    allowed.write().remove(&der);
    let out = connect(port, "localhost", &ca, Some(&client)).await;
    assert!(!out.contains("200 OK"), "{out}");
    let out = connect(port, "localhost", &ca, None).await;
    assert!(!out.contains("200 OK"), "{out}");
}

/// The linked mbedTLS version, from the client's usage text.
fn mbedtls_version() -> (u32, u32) {
    let out = Command::new(client_binary()).output().unwrap();
    let text = String::from_utf8_lossy(&out.stderr).into_owned();
    let version = text
        .lines()
        .find_map(|l| l.strip_prefix("mbedTLS "))
        .expect("the client names its mbedTLS");
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap());
    (parts.next().unwrap(), parts.next().unwrap())
}

/// An IP address in the URL matches our iPAddress SAN from mbedTLS 3.5 on (current firmware);
/// mbedTLS 2.x only compares DNS names, which is why `NameCheck::DnsOnly` exists.
#[tokio::test]
#[ignore = "needs cc and libmbedtls-dev: make test runs it"]
async fn ip_address_hosts_match_from_mbedtls_3_5_on() {
    let ca = LocalCa::generate("Ruuvi Desk CA", KeyAlgorithm::EcdsaP256, validity(3650)).unwrap();
    let (port, allowed) = receiver(&ca, &["desk.local", "localhost", "127.0.0.1"]).await;
    let client = ca.issue_client("AA:BB:CC:DD:EE:FF", validity(730)).unwrap();
    allowed.write().allow(
        &certificate_der(&client.cert_pem).unwrap(),
        "AA:BB:CC:DD:EE:FF",
    );
    let out = connect(port, "127.0.0.1", &ca, Some(&client)).await;
    if mbedtls_version() >= (3, 5) {
        assert!(out.starts_with("HANDSHAKE OK"), "{out}");
    } else {
        assert!(
            out.starts_with("HANDSHAKE FAILED") && out.contains("verify=0x4"),
            "{out}"
        );
    }
}
