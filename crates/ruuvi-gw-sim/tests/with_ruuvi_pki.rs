//! The simulated gateway with certificates issued by `ruuvi-pki`: our CA as `http_srv_cert`,
//! a client certificate for the gateway's MAC as `http_cli_cert`/`http_cli_key`, posting to an
//! HTTPS receiver configured by `ruuvi_pki::server_config` with the issued server certificate.
//! The URL's host is the one `ruuvi_pki::host_for_gateway` picks.

use parking_lot::RwLock;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use ruuvi_gw_sim::{Firmware, RunningGateway};
use ruuvi_pki::OffsetDateTime;
use ruuvi_pki::{
    certificate_der, host_for_gateway, route_source, server_config, server_names, url_host,
    ClientAllowList, ClientAuth, KeyAlgorithm, LocalCa, NameCheck, SharedAllowList, Validity,
};

mod common;
use common::*;

const RW: &str = "Authorization: Bearer RW\r\n";

fn validity(days: i64) -> Validity {
    Validity::days_from(OffsetDateTime::now_utc(), days)
}

type Posts = tokio::sync::mpsc::Receiver<HttpsRequest>;

/// The receiver: Ruuvi Desk's TLS configuration with the allow-list.
async fn receiver_with(ca: &LocalCa, allowed: SharedAllowList) -> (u16, Posts) {
    let sans = server_names(Some("desk"), &[]);
    let server = ca.issue_server(&sans, validity(825)).unwrap();
    let config = server_config(
        &ca.cert_pem,
        &server.cert_pem,
        &server.key_pem,
        ClientAuth::Required(allowed),
    )
    .unwrap();
    https_receiver(config).await
}

async fn upload(addr: SocketAddr, file: &str, content: &str) {
    let r = post(addr, &format!("/ssl_cert?file={file}"), RW, content).await;
    assert_eq!(r.status, 200, "upload {file}");
}

async fn start() -> RunningGateway {
    let mut o = ruuvi_gw_sim::GatewayOptions::new("127.0.0.1:0".parse().unwrap(), Firmware::Head);
    o.post_delay = Duration::from_millis(50);
    o.retry_after_failure = Duration::from_millis(300);
    o.api_key_rw = "RW".into();
    o.tags = 2;
    RunningGateway::start(o).await.unwrap()
}

/// The URL the desktop would push: host picked for the gateway's address among the SANs.
fn receiver_url(gw: &RunningGateway, port: u16) -> String {
    let sans = server_names(Some("desk"), &[]);
    let gw_ip = gw.addr.ip();
    let host = host_for_gateway(gw_ip, &[], route_source(gw_ip), &sans, NameCheck::IpSans).unwrap();
    assert_eq!(
        host, "127.0.0.1",
        "a gateway on this machine gets the loopback address"
    );
    format!("https://{}:{port}/record", url_host(&host))
}

/// A gateway with a client certificate from `ca` that trusts `trusted` as `http_srv_cert`,
/// configured to post to a receiver whose certificate `ca` issued. Returns the gateway, its
/// MAC, the receiver URL and the receiver's posts.
async fn gateway_and_receiver(
    ca: &LocalCa,
    trusted: &LocalCa,
) -> (RunningGateway, String, String, Posts, SharedAllowList) {
    let gw = start().await;
    let mac = gw.identity().await.ble_mac.to_string();
    let client = ca.issue_client(&mac, validity(730)).unwrap();
    let allowed: SharedAllowList = Arc::new(RwLock::new(ClientAllowList::default()));
    allowed
        .write()
        .allow(&certificate_der(&client.cert_pem).unwrap(), &mac);
    let (port, rx) = receiver_with(ca, allowed.clone()).await;
    upload(gw.addr, "http_srv_cert", &trusted.cert_pem).await;
    upload(gw.addr, "http_cli_cert", &client.cert_pem).await;
    upload(gw.addr, "http_cli_key", client.key_pem.expose()).await;
    let url = receiver_url(&gw, port);
    let body = format!(
        r#"{{"use_http_ruuvi": false, "use_http": true, "http_url": "{url}", "http_period": 1, "http_use_ssl_client_cert": true, "http_use_ssl_server_cert": true}}"#
    );
    assert_eq!(post(gw.addr, "/ruuvi.json", RW, &body).await.status, 200);
    (gw, mac, url, rx, allowed)
}

#[tokio::test]
async fn gateway_posts_with_certificates_issued_by_ruuvi_desk() {
    for algorithm in [KeyAlgorithm::EcdsaP256, KeyAlgorithm::Rsa2048] {
        let ca = LocalCa::generate("Ruuvi Desk CA", algorithm, validity(3650)).unwrap();
        let (gw, mac, _url, mut rx, allowed) = gateway_and_receiver(&ca, &ca).await;
        let (cert, head, body) = tokio::time::timeout(Duration::from_secs(30), rx.recv())
            .await
            .expect("an HTTPS post")
            .unwrap();
        let who = allowed
            .read()
            .gateway_of(&cert.expect("a client certificate"))
            .map(String::from);
        assert_eq!(
            who.as_deref(),
            Some(mac.as_str()),
            "{algorithm:?}: the receiver knows the gateway by its certificate"
        );
        assert!(head.starts_with("POST /record"), "{head}");
        let doc = ruuvi_protocol::GatewayDocument::parse(&body).unwrap();
        assert_eq!(doc.gw_mac.map(|m| m.to_string()), Some(mac.clone()));
        assert_eq!(gw.state.lock().await.stats.custom_failed, 0);
        gw.stop().await;
    }
}

/// With another CA as `http_srv_cert` the gateway refuses our server, as the firmware's mbedTLS
/// does: data posts fail and are counted, nothing arrives, and the connection check reports a
/// 502 network error.
#[tokio::test]
async fn gateway_with_the_wrong_ca_refuses_the_receiver() {
    let ca = LocalCa::generate("Ruuvi Desk CA", KeyAlgorithm::EcdsaP256, validity(3650)).unwrap();
    let wrong = LocalCa::generate("Someone else", KeyAlgorithm::EcdsaP256, validity(3650)).unwrap();
    let (gw, _mac, url, mut rx, _allowed) = gateway_and_receiver(&ca, &wrong).await;

    let enc = url.replace(':', "%3A").replace('/', "%2F");
    let r = get(
        gw.addr,
        &format!("/validate_url?url={enc}&validate_type=check_post_advs&auth_type=none&use_ssl_client_cert=true&use_ssl_server_cert=true"),
        RW,
    )
    .await;
    assert_eq!(r.status, 200);
    let json = r.json();
    assert_eq!(json["status"], 502, "{json}");
    let message = json["message"].as_str().unwrap();
    assert!(
        message.starts_with("Network error when communicating with the server"),
        "{message}"
    );

    for _ in 0..100 {
        if gw.state.lock().await.stats.custom_failed > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        gw.state.lock().await.stats.custom_failed > 0,
        "failed posts are counted"
    );
    assert!(rx.try_recv().is_err(), "nothing reached the receiver");
    gw.stop().await;
}
