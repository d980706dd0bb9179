//! The firmware's hand-written HTTP server, as seen on the wire (gateway-local-api §1):
//! HTTP/1.0, one request per connection, fixed header layouts and status texts.

use std::net::IpAddr;
use std::time::{Duration, SystemTime};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::firmware::Firmware;

pub const JSON: &str = "application/json; charset=utf-8";
pub const TEXT: &str = "text/plain; charset=utf-8";
pub const HTML: &str = "text/html; charset=utf-8";
pub const METRICS: &str = "text/plain; charset=utf-8; version=0.0.4";

/// Header block limit (both generations), and the body limit of ≥ v1.17.2.
const HEADER_LIMIT: usize = 4096;
const CONTENT_LENGTH_LIMIT: usize = 11_434;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Delete,
    Other,
}

#[derive(Debug, Clone)]
pub struct Request {
    pub method: Method,
    /// Without the leading `/` and without the query.
    pub path: String,
    pub query: String,
    /// The raw header block (after the request line).
    pub headers: String,
    pub body: Vec<u8>,
    pub peer: IpAddr,
    /// Arrived over the gateway's own Wi-Fi hotspot (10.10.0.1), not the LAN.
    pub hotspot: bool,
}

impl Request {
    /// Firmware header lookup: a case-insensitive substring search for `name:` over the whole
    /// header block; surrounding double quotes are stripped from the value.
    pub fn header(&self, name: &str) -> Option<String> {
        let lower = self.headers.to_ascii_lowercase();
        let needle = format!("{}:", name.to_ascii_lowercase());
        let at = lower.find(&needle)? + needle.len();
        let rest = &self.headers[at..];
        let value = rest.split("\r\n").next().unwrap_or("").trim();
        Some(value.trim_matches('"').to_string())
    }

    /// Cookie lookup as the firmware does it: substring search for `name=`, value up to `;`.
    pub fn cookie(&self, name: &str, max_len: usize) -> Option<String> {
        let cookies = self.header("Cookie")?;
        let at = cookies.find(&format!("{name}="))? + name.len() + 1;
        let value: String = cookies[at..]
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .chars()
            .take(max_len)
            .collect();
        Some(value)
    }

    /// Query parameter: `key=` at the start of the query or after `&`, URL-decoded.
    pub fn query_param(&self, key: &str) -> Option<String> {
        self.query.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            (k == key).then(|| url_decode(v))
        })
    }
}

pub fn url_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                match u8::from_str_radix(
                    std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"),
                    16,
                ) {
                    Ok(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Why no request was read.
#[derive(Debug)]
pub enum ReadError {
    /// Too large, malformed, timed out or closed: the firmware just closes the connection.
    Drop,
}

/// Reads one request the way the firmware does; `Err` means "close without answering".
pub async fn read_request<S: AsyncRead + Unpin>(
    stream: &mut S,
    peer: IpAddr,
    fw: Firmware,
) -> Result<Request, ReadError> {
    let header_timeout = if fw.split_size_limits() {
        Duration::from_secs(5)
    } else {
        Duration::from_secs(3)
    };
    let body_timeout = if fw.split_size_limits() {
        Duration::from_secs(30)
    } else {
        Duration::from_secs(3)
    };
    let mut buf = Vec::with_capacity(1024);
    let header_end = loop {
        if let Some(pos) = find(&buf, b"\r\n\r\n") {
            break pos;
        }
        if buf.len() > HEADER_LIMIT {
            return Err(ReadError::Drop);
        }
        read_some(stream, header_timeout, &mut buf).await?;
    };
    if header_end > HEADER_LIMIT {
        return Err(ReadError::Drop);
    }
    let head = String::from_utf8_lossy(&buf[..header_end]).into_owned();
    let (request_line, headers) = head.split_once("\r\n").unwrap_or((head.as_str(), ""));
    let mut parts = request_line.split(' ');
    let method = match parts.next().unwrap_or("") {
        "GET" => Method::Get,
        "POST" => Method::Post,
        "DELETE" => Method::Delete,
        _ => Method::Other,
    };
    let target = parts.next().ok_or(ReadError::Drop)?;
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let mut request = Request {
        method,
        path: path.trim_start_matches('/').to_string(),
        query: query.to_string(),
        headers: format!("{headers}\r\n"),
        body: Vec::new(),
        peer,
        hotspot: false,
    };
    // A body is read only when Content-Length is present (no chunked bodies).
    let length: usize = request
        .header("Content-Length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let limit_ok = if fw.split_size_limits() {
        length <= CONTENT_LENGTH_LIMIT
    } else {
        // Saturating: the length is whatever the client wrote.
        header_end.saturating_add(4).saturating_add(length) <= HEADER_LIMIT
    };
    if !limit_ok {
        return Err(ReadError::Drop);
    }
    let mut body = buf[header_end + 4..].to_vec();
    while body.len() < length {
        read_some(stream, body_timeout, &mut body).await?;
    }
    body.truncate(length);
    request.body = body;
    Ok(request)
}

/// One read within `timeout`, appended to `buf`; a timeout, an error or EOF drops the request.
async fn read_some<S: AsyncRead + Unpin>(
    stream: &mut S,
    timeout: Duration,
    buf: &mut Vec<u8>,
) -> Result<(), ReadError> {
    let mut chunk = [0u8; 2048];
    let n = tokio::time::timeout(timeout, stream.read(&mut chunk))
        .await
        .map_err(|_| ReadError::Drop)?
        .map_err(|_| ReadError::Drop)?;
    if n == 0 {
        return Err(ReadError::Drop);
    }
    buf.extend_from_slice(&chunk[..n]);
    Ok(())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

pub fn status_text(code: u16) -> &'static str {
    match code {
        200 => "OK",
        302 => "Found",
        301 => "Moved Permanently",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        409 => "Conflict",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway timeout",
        _ => "Error",
    }
}

/// A response, already laid out byte for byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub code: u16,
    pub bytes: Vec<u8>,
}

impl Response {
    /// Adds a header among the extra headers (before `Cache-Control`, or before the blank line).
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        let line = format!("{name}: {value}\r\n");
        let at = find(&self.bytes, b"Cache-Control: ")
            .or_else(|| find(&self.bytes, b"\r\n\r\n").map(|i| i + 2))
            .unwrap_or(self.bytes.len());
        self.bytes.splice(at..at, line.into_bytes());
        self
    }
}

/// A response with content: Server, Date, Content-type, Content-Length, extra headers,
/// Cache-Control and Pragma, blank line, body.
pub fn content(code: u16, content_type: &str, body: &[u8], extra: &[(&str, String)]) -> Response {
    let mut head = format!(
        "HTTP/1.0 {code} {}\r\nServer: Ruuvi Gateway\r\nDate: {}\r\nContent-type: {content_type}\r\nContent-Length: {}\r\n",
        status_text(code),
        httpdate::fmt_http_date(SystemTime::now()),
        body.len()
    );
    for (name, value) in extra {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(
        "Cache-Control: no-store, no-cache, must-revalidate, max-age=0\r\nPragma: no-cache\r\n\r\n",
    );
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body);
    Response { code, bytes }
}

pub fn json(code: u16, body: &str, extra: &[(&str, String)]) -> Response {
    content(code, JSON, body.as_bytes(), extra)
}

/// The generic error helper's short form: fixed body `{}`, no Date, no Cache-Control.
pub fn bare_error(code: u16) -> Response {
    let text = format!(
        "HTTP/1.0 {code} {}\r\nServer: Ruuvi Gateway\r\nContent-type: {JSON}\r\nContent-Length: 2\r\n\r\n{{}}",
        status_text(code)
    );
    Response {
        code,
        bytes: text.into_bytes(),
    }
}

/// The "forbidden" helper: 403 with an empty text/html body.
pub fn forbidden_empty() -> Response {
    let text = format!("HTTP/1.0 403 Forbidden\r\nServer: Ruuvi Gateway\r\nContent-type: {HTML}\r\nContent-Length: 0\r\n\r\n");
    Response {
        code: 403,
        bytes: text.into_bytes(),
    }
}

/// The captive-portal redirect of the hotspot.
pub fn captive_redirect() -> Response {
    let text = "HTTP/1.0 302 Found\r\nServer: Ruuvi Gateway\r\nLocation: http://10.10.0.1/\r\n\r\n";
    Response {
        code: 302,
        bytes: text.as_bytes().to_vec(),
    }
}

/// The auth redirect. Quirk kept from the firmware: with a `Set-Cookie` line the header block
/// ends with a single CRLF and no blank line.
pub fn auth_redirect(host: &str, prev_url: Option<&str>) -> Response {
    let mut text =
        format!("HTTP/1.0 302 Found\r\nServer: Ruuvi Gateway\r\nLocation: http://{host}/#auth\r\n");
    match prev_url {
        Some(path) => text.push_str(&format!("Set-Cookie: RUUVI_PREV_URL={path}\r\n")),
        None => text.push_str("\r\n"),
    }
    Response {
        code: 302,
        bytes: text.into_bytes(),
    }
}

pub async fn write_response(stream: &mut TcpStream, response: &Response) {
    // The peer may be gone; nothing to do about it but close.
    let _ = stream.write_all(&response.bytes).await;
    let _ = stream.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(headers: &str, query: &str) -> Request {
        Request {
            method: Method::Get,
            path: String::new(),
            query: query.into(),
            headers: headers.into(),
            body: vec![],
            peer: "127.0.0.1".parse().unwrap(),
            hotspot: false,
        }
    }

    #[test]
    fn header_lookup_is_a_case_insensitive_substring_search() {
        let r = req("Host: 127.0.0.1:8001\r\ncookie: a=1; RUUVISESSION=ABCDEFGHIJKLMNOPQRS; RUUVI_PREV_URL=/x\r\nX-Q: \"quoted\"\r\n", "a=1&time=30&decode=false&u=a%2Fb+c");
        assert_eq!(r.header("HOST").unwrap(), "127.0.0.1:8001");
        assert_eq!(r.header("x-q").unwrap(), "quoted");
        assert_eq!(r.cookie("RUUVISESSION", 16).unwrap(), "ABCDEFGHIJKLMNOP");
        assert_eq!(r.cookie("RUUVI_PREV_URL", 64).unwrap(), "/x");
        assert_eq!(r.query_param("time").unwrap(), "30");
        assert_eq!(r.query_param("decode").unwrap(), "false");
        assert_eq!(r.query_param("u").unwrap(), "a/b c");
        assert_eq!(r.query_param("ime"), None);
    }

    #[test]
    fn layouts() {
        let e = String::from_utf8(bare_error(404).bytes).unwrap();
        assert_eq!(e, "HTTP/1.0 404 Not Found\r\nServer: Ruuvi Gateway\r\nContent-type: application/json; charset=utf-8\r\nContent-Length: 2\r\n\r\n{}");
        let r = String::from_utf8(json(200, "{}", &[("Set-Cookie", "A=B".into())]).bytes).unwrap();
        assert!(r.starts_with("HTTP/1.0 200 OK\r\nServer: Ruuvi Gateway\r\nDate: "));
        assert!(r.ends_with("Content-Length: 2\r\nSet-Cookie: A=B\r\nCache-Control: no-store, no-cache, must-revalidate, max-age=0\r\nPragma: no-cache\r\n\r\n{}"));
        let red = String::from_utf8(auth_redirect("gw:80", Some("/history")).bytes).unwrap();
        assert!(red
            .ends_with("Location: http://gw:80/#auth\r\nSet-Cookie: RUUVI_PREV_URL=/history\r\n"));
        assert_eq!(status_text(504), "Gateway timeout");
    }
}
