//! An HTTPS receiver for the TLS tests, on 127.0.0.1: rustls configured by `server_config`.
#![allow(dead_code)]

use std::sync::Arc;

use parking_lot::RwLock;

use ruuvi_pki::{
    certificate_der, server_config, ClientAllowList, ClientAuth, Issued, LocalCa, OffsetDateTime,
    SharedAllowList, Validity,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

pub fn validity(days: i64) -> Validity {
    Validity::days_from(OffsetDateTime::now_utc(), days)
}

/// Puts an issued client certificate on the allow-list for `mac`.
pub fn allow(list: &SharedAllowList, client: &Issued, mac: &str) {
    list.write()
        .allow(&certificate_der(&client.cert_pem).unwrap(), mac);
}

/// Serves HTTPS on 127.0.0.1; answers each request with the client certificate's gateway (or
/// "anonymous"), and reports every failed handshake's error on the channel.
pub async fn serve(
    config: rustls::ServerConfig,
    allowed: Option<SharedAllowList>,
) -> (u16, mpsc::UnboundedReceiver<String>) {
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (failures, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            let failures = failures.clone();
            let allowed = allowed.clone();
            tokio::spawn(async move {
                let mut tls = match acceptor.accept(tcp).await {
                    Ok(tls) => tls,
                    Err(e) => {
                        let _ = failures.send(e.to_string());
                        return;
                    }
                };
                let who = match (tls.get_ref().1.peer_certificates(), &allowed) {
                    (Some([leaf, ..]), Some(list)) => list
                        .read()
                        .gateway_of(leaf)
                        .unwrap_or("unknown")
                        .to_string(),
                    _ => "anonymous".to_string(),
                };
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let reply = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{who}",
                    who.len()
                );
                let _ = tls.write_all(reply.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    (port, rx)
}

/// A receiver with a server certificate from `ca` for `names` that requires an allow-listed
/// client certificate: its port, its allow-list and its handshake failures.
pub async fn allow_listed_receiver(
    ca: &LocalCa,
    names: &[&str],
) -> (u16, SharedAllowList, mpsc::UnboundedReceiver<String>) {
    let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    let server = ca.issue_server(&names, validity(825)).unwrap();
    let allowed: SharedAllowList = Arc::new(RwLock::new(ClientAllowList::default()));
    let config = server_config(
        &ca.cert_pem,
        &server.cert_pem,
        &server.key_pem,
        ClientAuth::Required(allowed.clone()),
    )
    .unwrap();
    let (port, failures) = serve(config, Some(allowed.clone())).await;
    (port, allowed, failures)
}
