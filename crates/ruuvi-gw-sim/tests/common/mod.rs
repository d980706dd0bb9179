//! Raw-socket helpers shared by the simulator's integration tests: requests are written by
//! hand so that no client code of this project is involved.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use ruuvi_gw_sim::{Firmware, GatewayOptions, LanAuth, RunningGateway};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket};

pub const POST_DELAY: Duration = Duration::from_millis(150);

#[derive(Debug)]
pub struct Raw {
    pub status: u16,
    pub status_line: String,
    pub head: String,
    pub body: String,
}

impl Raw {
    pub fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }
}

pub async fn send_from(addr: SocketAddr, from: &str, request: String) -> Raw {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(format!("{from}:0").parse().unwrap()).unwrap();
    let mut s = socket.connect(addr).await.unwrap();
    // A request the gateway drops may reset the connection while we are still writing.
    let _ = s.write_all(request.as_bytes()).await;
    let mut bytes = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut bytes))
        .await
        .expect("the gateway closes the connection after answering");
    if read.is_err() {
        bytes.clear();
    }
    parse(&bytes)
}

pub fn parse(bytes: &[u8]) -> Raw {
    let text = String::from_utf8_lossy(bytes).into_owned();
    let (head, body) = match text.split_once("\r\n\r\n") {
        Some((h, b)) => (h.to_string(), b.to_string()),
        // The firmware's 302 with Set-Cookie ends without a blank line.
        None => (text.trim_end().to_string(), String::new()),
    };
    let status_line = head.lines().next().unwrap_or("").to_string();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    Raw {
        status,
        status_line,
        head,
        body,
    }
}

pub async fn send(addr: SocketAddr, request: String) -> Raw {
    send_from(addr, "127.0.0.1", request).await
}

pub async fn get(addr: SocketAddr, path: &str, headers: &str) -> Raw {
    send(
        addr,
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n{headers}\r\n"),
    )
    .await
}

pub async fn post(addr: SocketAddr, path: &str, headers: &str, body: &str) -> Raw {
    send(
        addr,
        format!(
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\n{headers}Content-Length: {}\r\n\r\n{body}",
            body.len()
        ),
    )
    .await
}

pub async fn gateway(
    fw: Firmware,
    auth: Option<(LanAuth, &str, &str)>,
    ro: &str,
    rw: &str,
) -> RunningGateway {
    let mut o = GatewayOptions::new("127.0.0.1:0".parse().unwrap(), fw);
    o.post_delay = POST_DELAY;
    o.retry_after_failure = Duration::from_millis(300);
    o.lan_auth = auth.map(|(a, u, p)| (a, u.to_string(), p.to_string()));
    o.api_key = ro.into();
    o.api_key_rw = rw.into();
    o.tags = 4;
    RunningGateway::start(o).await.unwrap()
}

/// A minimal HTTP/1.1 receiver: records each request and answers 200, rotating the HMAC key
/// once and asking for a 1 s rate.
pub async fn receiver() -> (SocketAddr, tokio::sync::mpsc::Receiver<(String, Vec<u8>)>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    tokio::spawn(async move {
        let mut n = 0;
        while let Ok((mut s, _)) = listener.accept().await {
            n += 1;
            let (head, body) = read_http(&mut s).await;
            let rotate = if n == 1 {
                "Ruuvi-HMAC-KEY: rotated-key\r\n"
            } else {
                ""
            };
            let reply = format!("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX-Ruuvi-Gateway-Rate: 2\r\n{rotate}Connection: close\r\n\r\n");
            let _ = s.write_all(reply.as_bytes()).await;
            if tx.send((head, body)).await.is_err() {
                return;
            }
        }
    });
    (addr, rx)
}

pub async fn read_http<S: tokio::io::AsyncRead + Unpin>(s: &mut S) -> (String, Vec<u8>) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = s.read(&mut chunk).await.unwrap();
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            let len: usize = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse().unwrap())
                })
                .unwrap_or(0);
            while buf.len() < end + 4 + len {
                let n = s.read(&mut chunk).await.unwrap();
                buf.extend_from_slice(&chunk[..n]);
            }
            return (head, buf[end + 4..end + 4 + len].to_vec());
        }
        if n == 0 {
            return (String::from_utf8_lossy(&buf).into_owned(), vec![]);
        }
    }
}

pub fn header_of(head: &str, name: &str) -> Option<String> {
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().to_string())
    })
}

/// A receiver that answers every request with `reply` (a whole HTTP response).
pub async fn replying(
    reply: &'static str,
) -> (SocketAddr, tokio::sync::mpsc::Receiver<(String, Vec<u8>)>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let (head, body) = read_http(&mut s).await;
            let _ = s.write_all(reply.as_bytes()).await;
            if tx.send((head, body)).await.is_err() {
                return;
            }
        }
    });
    (addr, rx)
}

/// What an HTTPS receiver saw of one request: the client certificate (DER, if any), the head
/// and the body.
pub type HttpsRequest = (Option<Vec<u8>>, String, Vec<u8>);

/// An HTTPS receiver on 127.0.0.1 with `config`: answers each request 200 and yields it.
pub async fn https_receiver(
    config: rustls::ServerConfig,
) -> (u16, tokio::sync::mpsc::Receiver<HttpsRequest>) {
    let acceptor = tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = tokio::sync::mpsc::channel(8);
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let Ok(mut tls) = acceptor.accept(tcp).await else {
                continue;
            };
            let client_cert = tls
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|c| c.first())
                .map(|leaf| leaf.to_vec());
            let (head, body) = read_http(&mut tls).await;
            let _ = tls
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                .await;
            let _ = tls.shutdown().await;
            if tx.send((client_cert, head, body)).await.is_err() {
                return;
            }
        }
    });
    (port, rx)
}
