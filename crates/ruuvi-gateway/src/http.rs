//! A deliberately small HTTP client for the gateway's hand-written server (spec §1): one request
//! per connection, answers read to the end, `HTTP/1.0` status lines, and the 302 whose
//! `Set-Cookie` line is not followed by a blank line.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::GatewayError;

/// Where a gateway listens: a host name or address and a port (80 on real hardware).
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, ts_rs::TS)]
pub struct Endpoint {
    pub host: String,
    pub port: u16,
}

impl Endpoint {
    pub fn new(host: impl Into<String>, port: u16) -> Self {
        Self {
            host: host.into(),
            port,
        }
    }

    /// `host`, `host:port`, `[v6]:port` or `http://host[:port][/]`.
    pub fn parse(text: &str) -> Result<Self, GatewayError> {
        let bad = || GatewayError::BadInput(format!("{text:?} is not a gateway address"));
        let rest = text
            .trim()
            .trim_start_matches("http://")
            .trim_end_matches('/');
        if rest.is_empty() || rest.contains('/') {
            return Err(bad());
        }
        if let Ok(addr) = rest.parse::<std::net::SocketAddr>() {
            return Ok(Self::new(addr.ip().to_string(), addr.port()));
        }
        if let Ok(ip) = rest.parse::<std::net::IpAddr>() {
            return Ok(Self::new(ip.to_string(), 80));
        }
        match rest.rsplit_once(':') {
            Some((host, port)) if !host.contains(':') => {
                Ok(Self::new(host, port.parse().map_err(|_| bad())?))
            }
            None => Ok(Self::new(rest, 80)),
            _ => Err(bad()),
        }
    }

    /// The value of the `Host` header.
    pub fn host_header(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == 80 {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.host_header())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Delete,
}

impl Method {
    fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Delete => "DELETE",
        }
    }
}

/// One request. Header values may carry secrets (cookies, `Authorization`): never log them.
pub struct Request {
    pub method: Method,
    /// Path with query, starting with `/`.
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        Self {
            method,
            path: path.into(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// The bytes on the wire: what the firmware's request-size limits count.
    pub fn to_bytes(&self, endpoint: &Endpoint) -> Vec<u8> {
        let mut head = format!(
            "{} {} HTTP/1.1\r\nHost: {}\r\n",
            self.method.as_str(),
            self.path,
            endpoint.host_header()
        );
        for (name, value) in &self.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        if self.method == Method::Post || !self.body.is_empty() {
            head.push_str(&format!("Content-Length: {}\r\n", self.body.len()));
        }
        head.push_str("Connection: close\r\n\r\n");
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(&self.body);
        bytes
    }

    /// The size of the header block alone (request line + headers + blank line).
    pub fn head_len(&self, endpoint: &Endpoint) -> usize {
        self.to_bytes(endpoint).len() - self.body.len()
    }
}

#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// The first header called `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Result<serde_json::Value, GatewayError> {
        serde_json::from_slice(&self.body).map_err(|e| {
            GatewayError::Protocol(format!(
                "expected JSON, got {:?} ({e})",
                String::from_utf8_lossy(&self.body[..self.body.len().min(80)])
            ))
        })
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// At most the first `max` bytes of `text`, cut at a character boundary (for messages: slicing
/// at a byte count panics inside a multi-byte character).
pub fn excerpt(text: &str, max: usize) -> &str {
    let end = (0..=max.min(text.len()))
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0);
    &text[..end]
}

/// Parses what the gateway wrote before closing the connection.
pub fn parse_response(bytes: &[u8]) -> Result<Response, GatewayError> {
    let text_end = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| (i, i + 4))
        // The 302 quirk: the header block may end with a single CRLF and the connection.
        .unwrap_or((bytes.len(), bytes.len()));
    let head = std::str::from_utf8(&bytes[..text_end.0])
        .map_err(|_| GatewayError::Protocol("the response head is not text".to_string()))?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut parts = status_line.splitn(3, ' ');
    let (version, code) = (parts.next().unwrap_or_default(), parts.next());
    if !version.starts_with("HTTP/1.") {
        return Err(GatewayError::Protocol(format!(
            "not an HTTP response: {:?}",
            excerpt(status_line, 60)
        )));
    }
    let status = code
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| GatewayError::Protocol(format!("bad status line {status_line:?}")))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut body = bytes[text_end.1..].to_vec();
    if let Some(len) = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("Content-Length"))
        .and_then(|(_, v)| v.parse::<usize>().ok())
    {
        body.truncate(len);
    }
    Ok(Response {
        status,
        headers,
        body,
    })
}

/// The largest answer read from a gateway: its biggest (`/history` with every tag, or
/// `/ruuvi.json`) is tens of KiB.
pub const MAX_ANSWER: usize = 4 << 20;

/// Sends one request on a new connection and reads the whole answer (at most [`MAX_ANSWER`]).
pub async fn send(
    endpoint: &Endpoint,
    request: &Request,
    timeout: Duration,
) -> Result<Response, GatewayError> {
    let unreachable = |reason: String| GatewayError::Unreachable {
        endpoint: endpoint.to_string(),
        reason,
    };
    let connect = TcpStream::connect((endpoint.host.as_str(), endpoint.port));
    let mut stream = tokio::time::timeout(timeout, connect)
        .await
        .map_err(|_| unreachable("no answer to the connection attempt".to_string()))?
        .map_err(|e| unreachable(e.to_string()))?;
    let bytes = request.to_bytes(endpoint);
    let exchange = async {
        // A gateway that drops an oversized request may reset while we write; read anyway.
        let _ = stream.write_all(&bytes).await;
        let mut answer = Vec::new();
        // Whatever answers at a gateway's address (a probe covers whole ranges) must not make
        // us hold without bound: one byte more than the limit says "too large".
        (&mut stream)
            .take(MAX_ANSWER as u64 + 1)
            .read_to_end(&mut answer)
            .await
            .map(|_| answer)
    };
    let answer = tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| GatewayError::Timeout(endpoint.to_string()))?
        .map_err(|e| unreachable(e.to_string()))?;
    if answer.is_empty() {
        return Err(GatewayError::Dropped(endpoint.to_string()));
    }
    if answer.len() > MAX_ANSWER {
        return Err(GatewayError::Protocol(format!(
            "{endpoint} answered with more than {} MiB: not a Ruuvi Gateway",
            MAX_ANSWER >> 20
        )));
    }
    parse_response(&answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A "gateway" on loopback that answers every connection with `answer`, repeated `times`.
    async fn answering(answer: &'static [u8], times: usize) -> Endpoint {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut request = [0u8; 1024];
                    let _ = s.read(&mut request).await;
                    for _ in 0..times {
                        if s.write_all(answer).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        Endpoint::new("127.0.0.1", port)
    }

    #[tokio::test]
    async fn a_hostile_answer_is_an_error_not_a_panic_or_a_memory_hog() {
        let get = Request::new(Method::Get, "/");
        let t = Duration::from_secs(10);
        // Endless bytes: stopped one past the limit.
        let endless = answering(&[b'x'; 64 * 1024], 1 << 20).await;
        let e = send(&endless, &get, t).await.unwrap_err();
        assert!(e.to_string().contains("more than 4 MiB"), "{e}");
        // A status line with a multi-byte character where a message cuts it.
        let odd = answering(
            "XTTP/1.1 200 OKaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaäääää\r\n\r\n".as_bytes(),
            1,
        )
        .await;
        let e = send(&odd, &get, t).await.unwrap_err();
        assert!(e.to_string().contains("not an HTTP response"), "{e}");
        assert_eq!(excerpt("aä", 2), "a");
        assert_eq!(excerpt("aä", 3), "aä");
    }

    #[test]
    fn endpoints() {
        assert_eq!(
            Endpoint::parse("ruuvigateway9c2c.local").unwrap(),
            Endpoint::new("ruuvigateway9c2c.local", 80)
        );
        assert_eq!(
            Endpoint::parse("http://127.0.0.1:8080/").unwrap(),
            Endpoint::new("127.0.0.1", 8080)
        );
        assert_eq!(
            Endpoint::parse("[::1]:81").unwrap().host_header(),
            "[::1]:81"
        );
        assert_eq!(Endpoint::parse("fe80::1").unwrap().port, 80);
        assert!(Endpoint::parse("host:notaport").is_err());
        assert!(Endpoint::parse("http://a/b").is_err());
    }

    #[test]
    fn parses_the_firmware_quirks() {
        let r = parse_response(
            b"HTTP/1.0 302 Found\r\nServer: Ruuvi Gateway\r\nLocation: http://gw/#auth\r\nSet-Cookie: RUUVI_PREV_URL=/history\r\n",
        )
        .unwrap();
        assert_eq!(r.status, 302);
        assert_eq!(r.header("set-cookie"), Some("RUUVI_PREV_URL=/history"));
        assert!(r.body.is_empty());
        let r = parse_response(
            b"HTTP/1.0 404 Not Found\r\nServer: Ruuvi Gateway\r\nContent-Length: 2\r\n\r\n{}",
        )
        .unwrap();
        assert_eq!((r.status, r.text().as_str()), (404, "{}"));
        assert!(parse_response(b"SSH-2.0-OpenSSH").is_err());
    }
}
