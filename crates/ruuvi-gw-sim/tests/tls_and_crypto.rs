//! The simulator's TLS sender (server CA, client certificate, host name check), the ECDH
//! envelope, the certificate store and the Ruuvi Network signed form, over real sockets.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use ruuvi_gw_sim::{Firmware, LanAuth};

mod common;
use common::*;

struct Pki {
    ca_pem: String,
    ca_der: CertificateDer<'static>,
    server: (CertificateDer<'static>, PrivateKeyDer<'static>),
    client_cert_pem: String,
    client_key_pem: String,
}

fn pki(client_cn: &str) -> Pki {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "Test CA");
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();

    let server_key = KeyPair::generate().unwrap();
    let mut sp = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    sp.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let server_cert = sp.signed_by(&server_key, &ca).unwrap();

    let client_key = KeyPair::generate().unwrap();
    let mut cp = CertificateParams::new(Vec::<String>::new()).unwrap();
    cp.distinguished_name.push(DnType::CommonName, client_cn);
    cp.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let client_cert = cp.signed_by(&client_key, &ca).unwrap();

    Pki {
        ca_pem: ca.pem(),
        ca_der: ca.der().clone(),
        server: (
            server_cert.der().clone(),
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der())),
        ),
        client_cert_pem: client_cert.pem(),
        client_key_pem: client_key.serialize_pem(),
    }
}

/// An HTTPS receiver that requires a client certificate from the CA.
async fn receiver_requiring_client_cert(
    p: &Pki,
) -> (u16, tokio::sync::mpsc::Receiver<HttpsRequest>) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(p.ca_der.clone()).unwrap();
    let verifier = rustls::server::WebPkiClientVerifier::builder(Arc::new(roots))
        .build()
        .unwrap();
    let config = rustls::ServerConfig::builder()
        .with_client_cert_verifier(verifier)
        .with_single_cert(vec![p.server.0.clone()], p.server.1.clone_key())
        .unwrap();
    https_receiver(config).await
}

async fn upload(addr: SocketAddr, file: &str, content: &str) {
    let r = post(
        addr,
        &format!("/ssl_cert?file={file}"),
        "Authorization: Bearer RW\r\n",
        content,
    )
    .await;
    assert_eq!((r.status, r.body.as_str()), (200, "{}"), "upload {file}");
}

/// The server CA as `http_srv_cert`, the client certificate and key as `http_cli_*`.
async fn upload_pki(addr: SocketAddr, p: &Pki) {
    upload(addr, "http_srv_cert", &p.ca_pem).await;
    upload(addr, "http_cli_cert", &p.client_cert_pem).await;
    upload(addr, "http_cli_key", &p.client_key_pem).await;
}

#[tokio::test]
async fn sender_uses_server_ca_and_client_certificate() {
    for fw in [Firmware::V1_14, Firmware::Head] {
        let gw = gateway(fw, None, "", "RW").await;
        let id = gw.identity().await;
        let p = pki(&id.ble_mac.to_string());
        let (port, mut rx) = receiver_requiring_client_cert(&p).await;
        upload_pki(gw.addr, &p).await;
        let cfg = get(gw.addr, "/ruuvi.json", "Authorization: Bearer RW\r\n")
            .await
            .json();
        assert_eq!(
            (
                cfg["storage"]["http_srv_cert"].clone(),
                cfg["storage"]["stat_cli_cert"].clone()
            ),
            (true.into(), false.into())
        );
        // The URL names `localhost`: the certificate's SAN. The host name is checked.
        let body = format!(
            r#"{{"use_http_ruuvi": false, "use_http": true, "http_url": "https://localhost:{port}/record", "http_period": 1, "http_use_ssl_client_cert": true, "http_use_ssl_server_cert": true}}"#
        );
        post(
            gw.addr,
            "/ruuvi.json",
            "Authorization: Bearer RW\r\n",
            &body,
        )
        .await;
        let (client_cert, head, body) = tokio::time::timeout(Duration::from_secs(30), rx.recv())
            .await
            .expect("an HTTPS post")
            .unwrap();
        assert!(
            client_cert.is_some(),
            "{fw}: the client certificate was presented"
        );
        let signature = header_of(&head, "Ruuvi-HMAC-SHA256").unwrap();
        assert!(ruuvi_protocol::signature::verify_firmware_signature(
            id.device_id_string().as_bytes(),
            &body,
            &signature
        ));
        assert_eq!(gw.state.lock().await.stats.custom_failed, 0);

        // Without the client certificate the server refuses: the post fails and is counted.
        let body = format!(
            r#"{{"use_http": true, "http_url": "https://localhost:{port}/record", "http_use_ssl_client_cert": false, "http_use_ssl_server_cert": true}}"#
        );
        post(
            gw.addr,
            "/ruuvi.json",
            "Authorization: Bearer RW\r\n",
            &body,
        )
        .await;
        wait_for_failures(&gw).await;
        gw.stop().await;
    }
}

async fn wait_for_failures(gw: &ruuvi_gw_sim::RunningGateway) {
    for _ in 0..100 {
        if gw.state.lock().await.stats.custom_failed > 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no failed post was counted");
}

#[tokio::test]
async fn sender_checks_the_host_name_against_the_certificate() {
    let gw = gateway(Firmware::Head, None, "", "RW").await;
    let p = pki("client");
    let (port, mut rx) = receiver_requiring_client_cert(&p).await;
    upload_pki(gw.addr, &p).await;
    // 127.0.0.1 is not in the certificate (only `localhost`): the gateway must refuse.
    let body = format!(
        r#"{{"use_http_ruuvi": false, "use_http": true, "http_url": "https://127.0.0.1:{port}/record", "http_period": 1, "http_use_ssl_client_cert": true, "http_use_ssl_server_cert": true}}"#
    );
    post(
        gw.addr,
        "/ruuvi.json",
        "Authorization: Bearer RW\r\n",
        &body,
    )
    .await;
    wait_for_failures(&gw).await;
    assert!(rx.try_recv().is_err(), "nothing was delivered");
    gw.stop().await;
}

#[tokio::test]
async fn certificate_store_rules() {
    let gw = gateway(Firmware::Head, None, "RO", "RW").await;
    let rw = "Authorization: Bearer RW\r\n";
    let ro = "Authorization: Bearer RO\r\n";
    upload(
        gw.addr,
        "http_cli_key",
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
    )
    .await;
    // PEM files can never be read back.
    let r = get(gw.addr, "/extra_cfg?file=http_cli_key", ro).await;
    assert_eq!((r.status, r.body.as_str()), (403, ""));
    // Blob files can; http_headers must end with CRLF.
    assert_eq!(
        post(gw.addr, "/extra_cfg?file=http_headers", rw, "X-A: 1")
            .await
            .status,
        400
    );
    assert_eq!(
        post(gw.addr, "/extra_cfg?file=http_headers", rw, "X-A: 1\r\n")
            .await
            .status,
        200
    );
    let r = get(gw.addr, "/extra_cfg?file=http_headers", ro).await;
    assert_eq!((r.status, r.body.as_str()), (200, "X-A: 1\r\n"));
    assert_eq!(
        get(gw.addr, "/extra_cfg?file=http_path", ro).await.status,
        404
    );
    assert_eq!(
        post(gw.addr, "/ssl_cert?file=nonsense", rw, "x")
            .await
            .status,
        400
    );
    assert_eq!(post(gw.addr, "/ssl_cert", rw, "x").await.status, 400);
    assert_eq!(
        post(gw.addr, "/ssl_cert?file=http_cli_key", ro, "x")
            .await
            .status,
        401,
        "writing needs the RW key"
    );
    let r = send(
        gw.addr,
        format!("DELETE /ssl_cert?file=http_cli_key HTTP/1.1\r\nHost: x\r\n{rw}\r\n"),
    )
    .await;
    assert_eq!(r.status, 200);
    let cfg = get(gw.addr, "/ruuvi.json", ro).await.json();
    assert_eq!(cfg["storage"]["http_cli_key"], false);
    assert_eq!(cfg["storage"]["http_headers"], true);
    gw.stop().await;
    // Before v1.17.2 there is no /extra_cfg and no blob files.
    let old = gateway(Firmware::V1_17_3.min(Firmware::V1_16), None, "", "RW").await;
    assert_eq!(
        get(old.addr, "/extra_cfg?file=http_path", rw).await.status,
        404
    );
    assert_eq!(
        post(old.addr, "/ssl_cert?file=http_path", rw, "x")
            .await
            .status,
        400
    );
    old.stop().await;
}

/// The client half of the ECDH handshake (§4) on `GET /auth`; returns the AES key.
async fn handshake(addr: SocketAddr) -> [u8; 32] {
    use p256::ecdh::EphemeralSecret;
    use p256::elliptic_curve::sec1::ToEncodedPoint;
    use sha2::{Digest, Sha256};
    let ours = EphemeralSecret::random(&mut rand_core::OsRng);
    let our_pub = B64.encode(ours.public_key().to_encoded_point(false).as_bytes());
    let r = get(addr, "/auth", &format!("Ruuvi-Ecdh-Pub-Key: {our_pub}\r\n")).await;
    let theirs = B64
        .decode(r.header("Ruuvi-Ecdh-Pub-Key").expect("the gateway's key"))
        .unwrap();
    assert_eq!(theirs.len(), 65);
    let shared = ours.diffie_hellman(&p256::PublicKey::from_sec1_bytes(&theirs).unwrap());
    Sha256::digest(shared.raw_secret_bytes()).into()
}

/// AES-256-CBC envelope parts, base64: ciphertext, IV, SHA-256 of the plaintext.
fn encrypt(key: &[u8; 32], plain: &[u8]) -> (String, String, String) {
    use aes::cipher::{block_padding::Pkcs7, BlockEncryptMut, KeyIvInit};
    use sha2::{Digest, Sha256};
    let iv = [7u8; 16];
    let ct = cbc::Encryptor::<aes::Aes256>::new(key.into(), &iv.into())
        .encrypt_padded_vec_mut::<Pkcs7>(plain);
    (
        B64.encode(ct),
        B64.encode(iv),
        B64.encode(Sha256::digest(plain)),
    )
}

#[tokio::test]
async fn validate_url_takes_an_ecdh_encrypted_password() {
    let (addr, mut rx) =
        replying("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").await;
    let gw = gateway(Firmware::Head, Some((LanAuth::Allow, "", "")), "", "").await;
    let key = handshake(gw.addr).await;
    let (ct, iv, hash) = encrypt(&key, b"pass1");
    let enc = |v: &str| {
        v.replace('+', "%2B")
            .replace('/', "%2F")
            .replace('=', "%3D")
    };
    let path = format!(
        "/validate_url?url=http%3A%2F%2F{addr}%2Fr&validate_type=check_post_advs&auth_type=basic&user=user1&encrypted_password={}&encrypted_password_iv={}&encrypted_password_hash={}",
        enc(&ct), enc(&iv), enc(&hash)
    );
    let r = get(gw.addr, &path, "").await;
    assert_eq!(r.json()["status"], 200, "{}", r.body);
    let (head, _) = rx.recv().await.unwrap();
    assert_eq!(
        header_of(&head, "Authorization").unwrap(),
        "Basic dXNlcjE6cGFzczE="
    );
    // A wrong hash does not decrypt: 400.
    let bad = path.replace(&enc(&hash), &enc(&B64.encode([0u8; 32])));
    assert_eq!(get(gw.addr, &bad, "").await.status, 400);
    gw.stop().await;
}

#[tokio::test]
async fn ecdh_encrypted_post_and_plain_post() {
    let gw = gateway(Firmware::Head, Some((LanAuth::Allow, "", "")), "", "").await;
    let key = handshake(gw.addr).await;
    let plain = br#"{"coordinates": "secret place"}"#;
    let (ct, iv, hash) = encrypt(&key, plain);
    let envelope = serde_json::json!({"encrypted": ct, "iv": iv, "hash": hash}).to_string();
    let r = post(
        gw.addr,
        "/ruuvi.json",
        "Ruuvi-Ecdh-Encrypted: true\r\n",
        &envelope,
    )
    .await;
    assert_eq!((r.status, r.body.as_str()), (200, "{}"));
    assert_eq!(
        get(gw.addr, "/ruuvi.json", "").await.json()["coordinates"],
        "secret place"
    );

    // A tampered hash → 400; a bad key in the handshake → 500; plain bodies still work.
    let bad =
        serde_json::json!({"encrypted": ct, "iv": iv, "hash": B64.encode([0u8; 32])}).to_string();
    assert_eq!(
        post(
            gw.addr,
            "/ruuvi.json",
            "Ruuvi-Ecdh-Encrypted: true\r\n",
            &bad
        )
        .await
        .status,
        400
    );
    assert_eq!(
        get(gw.addr, "/auth", "Ruuvi-Ecdh-Pub-Key: AAAA\r\n")
            .await
            .status,
        500
    );
    assert_eq!(
        post(gw.addr, "/ruuvi.json", "", r#"{"coordinates": "plain"}"#)
            .await
            .status,
        200
    );
    assert_eq!(
        get(gw.addr, "/ruuvi.json", "").await.json()["coordinates"],
        "plain"
    );
    gw.stop().await;
}

#[tokio::test]
async fn network_url_sends_the_signed_gateway_api_form() {
    let (addr, mut rx) = receiver().await;
    let mut o = ruuvi_gw_sim::GatewayOptions::new("127.0.0.1:0".parse().unwrap(), Firmware::Head);
    o.network_url = Some(format!("http://{addr}/network"));
    o.tags = 2;
    let gw = ruuvi_gw_sim::RunningGateway::start(o).await.unwrap();
    let id = gw.identity().await;
    // A shorter period (and a POST, which wakes the sender) makes the first post come sooner.
    post(gw.addr, "/ruuvi.json", "", r#"{"http_period": 1}"#).await;
    let (head, body) = tokio::time::timeout(Duration::from_secs(30), rx.recv())
        .await
        .expect("a signed post")
        .unwrap();
    assert!(head.starts_with("POST /network"));
    let (ts, nonce, sig) = (
        header_of(&head, "x-ruuvi-timestamp").unwrap(),
        header_of(&head, "x-ruuvi-nonce").unwrap(),
        header_of(&head, "x-ruuvi-signature").unwrap(),
    );
    let secret =
        ruuvi_protocol::signature::network_secret(&id.device_id_string(), &id.ble_mac.to_string());
    assert!(ruuvi_protocol::signature::verify_network_signature(
        &secret, &nonce, &ts, &body, &sig
    ));
    let doc = ruuvi_protocol::GatewayDocument::parse(&body).unwrap();
    assert_eq!(doc.gw_mac, Some(id.ble_mac), "the seed's `gwmac` key");
    assert!(String::from_utf8_lossy(&body).contains("\"gwmac\""));
    assert_eq!(doc.tags.len(), 2);
    gw.stop().await;
}
