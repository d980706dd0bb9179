//! Runs the real `ruuvictl` binary as a user would.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::io::Write;
use std::process::{Child, Command, Output, Stdio};

/// `ruuvictl args…` with `env` added to the environment and `stdin` (if any) as its input.
pub fn ruuvictl_with(args: &[&str], env: &[(&str, &OsStr)], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ruuvictl"))
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ruuvictl starts");
    let mut pipe = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        // A command that reads no input may have exited already.
        let _ = pipe.write_all(text.as_bytes());
    }
    drop(pipe);
    child.wait_with_output().unwrap()
}

/// A raw HTTP/1.1 request (one per connection); returns (status, body).
pub async fn http(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\n");
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    ));
    s.write_all(request.as_bytes()).await.unwrap();
    let mut bytes = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(10),
        s.read_to_end(&mut bytes),
    )
    .await
    .unwrap()
    .unwrap();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

/// A running `ruuvictl serve`, killed when dropped, with its first line of output
/// (`{"listening": …, "admin": …}`).
pub struct Serving {
    pub child: Child,
    pub first_line: serde_json::Value,
}

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Serving {
    /// The address behind one of the first line's URLs (`listening`, `admin`).
    pub fn addr(&self, key: &str) -> std::net::SocketAddr {
        let url = self.first_line[key]
            .as_str()
            .unwrap_or_else(|| panic!("no {key} in {}", self.first_line));
        url.split("://")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("{key}: {url}"))
    }

    pub fn url(&self) -> String {
        self.first_line["listening"].as_str().unwrap().to_string()
    }
}

/// Starts `ruuvictl args…` (a `serve`) with `env` added; waits for its first line.
pub fn spawn_serve(args: &[&str], env: &[(&str, &OsStr)], stderr: Stdio) -> Serving {
    use std::io::BufRead;
    let mut child = Command::new(env!("CARGO_BIN_EXE_ruuvictl"))
        .args(args)
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .expect("ruuvictl starts");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    let first_line = serde_json::from_str(&line).unwrap_or_else(|_| panic!("first line: {line:?}"));
    Serving { child, first_line }
}

/// Standard output of JSON Lines as values.
pub fn json_lines(stdout: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}
