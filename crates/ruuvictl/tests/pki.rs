//! `ruuvictl pki` and `ruuvictl secret` run as a user runs them: the real binary, a real data
//! directory, the real OS keychain (inside `tests/with-keychain.sh` for the ignored tests).

use parking_lot::RwLock;
use std::ffi::OsStr;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::Arc;
use std::time::Duration;

use ruuvi_pki::{server_config, ClientAuth, KeyAlgorithm, LocalCa, OffsetDateTime, Pki, Validity};
use ruuvi_secrets::Keychain;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

mod common;

struct Env {
    data: PathBuf,
    service: String,
}

impl Env {
    fn new(test: &str) -> Self {
        let data = std::env::temp_dir().join(format!("ruuvictl-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&data);
        std::fs::create_dir_all(&data).unwrap();
        Self {
            data,
            service: format!("com.ruuvidesk.test.ruuvictl.{test}.{}", std::process::id()),
        }
    }

    fn run(&self, args: &[&str], stdin: Option<&str>) -> Output {
        common::ruuvictl_with(
            args,
            &[
                ("RUUVI_DESK_DATA_DIR", self.data.as_os_str()),
                ("RUUVI_DESK_KEYCHAIN_SERVICE", OsStr::new(&self.service)),
                // Everything a log could say is said: a secret in a Debug print would show.
                ("RUST_LOG", OsStr::new("trace")),
            ],
            stdin,
        )
    }

    /// Runs and insists on success; returns stdout.
    fn ok(&self, args: &[&str], stdin: Option<&str>) -> String {
        let out = self.run(args, stdin);
        assert!(
            out.status.success(),
            "ruuvictl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.data);
    }
}

/// Without any keychain (no D-Bus session, no display) the user is told what to do, and
/// nothing is written in plaintext instead.
#[cfg(target_os = "linux")]
#[test]
fn without_a_keychain_the_error_says_what_to_install_or_unlock() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let env = Env::new("nokeychain");
    for args in [
        &["secret", "set", "gateway-password/C8:25:2D:8E:9C:2C"][..],
        &["pki", "init"][..],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_ruuvictl"))
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", &env.data)
            .env("RUUVI_DESK_DATA_DIR", &env.data)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .and_then(|mut child| {
                // `pki init` reads no input and may have exited already.
                let _ = child.stdin.take().unwrap().write_all(b"hunter2\n");
                child.wait_with_output()
            })
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("no keychain available"), "{stderr}");
        assert!(
            stderr.contains("gnome-keyring") && stderr.contains("dbus-run-session"),
            "{stderr}"
        );
        // No CA certificate without its key, and the secret is nowhere on disk.
        assert!(!env.data.join("pki/ca.pem").exists());
        for file in walk(&env.data) {
            let bytes = std::fs::read(&file).unwrap();
            assert!(!contains(&bytes, b"hunter2"), "{}", file.display());
        }
    }
}

#[test]
fn show_reads_every_certificate_of_a_bundle_and_refuses_garbage() {
    let env = Env::new("show");
    let now = OffsetDateTime::now_utc();
    let ca = LocalCa::generate(
        "Bundle CA",
        KeyAlgorithm::EcdsaP256,
        Validity::days_from(now, 10),
    )
    .unwrap();
    let leaf = ca
        .issue_server(&["desk.local".to_string()], Validity::days_from(now, 10))
        .unwrap();
    let bundle = env.data.join("bundle.pem");
    std::fs::write(&bundle, format!("{}{}", leaf.cert_pem, ca.cert_pem)).unwrap();
    let out = env.ok(&["pki", "show", bundle.to_str().unwrap(), "--json"], None);
    let infos: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(infos.as_array().unwrap().len(), 2);
    assert_eq!(infos[0]["sans"][0], "desk.local");
    assert_eq!(infos[1]["is_ca"], true);
    let text = env.ok(&["pki", "show", bundle.to_str().unwrap()], None);
    assert!(text.contains("names:       desk.local") && text.contains("use:         CA"));

    std::fs::write(&bundle, "not a certificate").unwrap();
    let out = env.run(&["pki", "show", bundle.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("CERTIFICATE"));
    let out = env.run(&["pki", "issue-client", "not-a-mac"], None);
    assert_eq!(out.status.code(), Some(2), "a usage error");
    let out = env.run(&["secret", "get", "colour/blue"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown kind"));
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

fn base64_of(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n =
            chunk.iter().fold(0u32, |acc, b| (acc << 8) | u32::from(*b)) << (8 * (3 - chunk.len()));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// A raw HTTP request with a bearer token; returns (status, body).
async fn http(addr: SocketAddr, method: &str, path: &str, auth: &str, body: &str) -> (u16, String) {
    let bearer = format!("Bearer {auth}");
    common::http(addr, method, path, &[("Authorization", &bearer)], body).await
}

/// The whole user flow with the CLI, then a scan of the data and log directories: init the
/// CA, issue the receiver's and a gateway's certificates, store the gateway's credentials, use
/// them all (upload to the gateway, mTLS post with a bearer token to a receiver whose key comes
/// from the keychain), export a bundle elsewhere. No private key, password, API key or token
/// may be found in the data directory or the logs.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs an unlocked keychain: make test runs it in tests/with-keychain.sh"]
async fn full_flow_leaves_no_secret_in_the_data_and_log_directories() {
    let env = Env::new("flow");
    let rw_key = "RW-6b1f0c2e9d";
    let password = "gw-Pa55word-42";
    let token = "receiver-token-8c3d51";
    let mut options = ruuvi_gw_sim::GatewayOptions::new(
        "127.0.0.1:0".parse().unwrap(),
        ruuvi_gw_sim::Firmware::Head,
    );
    options.api_key_rw = rw_key.into();
    options.post_delay = Duration::from_millis(50);
    options.retry_after_failure = Duration::from_millis(300);
    options.tags = 2;
    let gw = ruuvi_gw_sim::RunningGateway::start(options).await.unwrap();
    let mac = gw.identity().await.ble_mac.to_string();

    env.ok(&["pki", "init"], None);
    env.ok(&["pki", "issue-server"], None);
    env.ok(&["pki", "issue-client", &mac], None);
    for (name, value) in [
        (format!("gateway-api-key-rw/{mac}"), rw_key),
        (format!("gateway-password/{mac}"), password),
        (format!("receiver-auth/{mac}"), token),
    ] {
        env.ok(&["secret", "set", &name], Some(&format!("{value}\n")));
        let shown = env.ok(&["secret", "get", &name], None);
        assert!(
            !shown.contains(value),
            "get without --show must not print: {shown}"
        );
    }
    let secret = |name: &str| {
        env.ok(&["secret", "get", name, "--show"], None)
            .trim()
            .to_string()
    };
    assert_eq!(secret(&format!("gateway-password/{mac}")), password);
    let host = env
        .ok(&["pki", "host-for", "127.0.0.1"], None)
        .trim()
        .to_string();
    assert_eq!(host, "127.0.0.1");
    let bundle = std::env::temp_dir().join(format!("ruuvictl-flow-bundle-{}", std::process::id()));
    env.ok(
        &["pki", "export", bundle.to_str().unwrap(), "--client", &mac],
        None,
    );
    let stem = mac.replace(':', "");

    // The receiver: its key from the keychain, its allow-list from the PKI directory.
    let keychain = Keychain::new(&env.service);
    let pki = Pki::new(env.data.join("pki"), &keychain);
    let (server_cert, server_key) = pki.server_identity().unwrap();
    let allowed = Arc::new(RwLock::new(pki.allow_list().unwrap()));
    let config = server_config(
        &pki.ca_pem().unwrap(),
        &server_cert,
        &server_key,
        ClientAuth::Required(allowed.clone()),
    )
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, mut rx) = tokio::sync::mpsc::channel::<(String, String)>(4);
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let Ok(mut tls) = acceptor.accept(tcp).await else {
                continue;
            };
            let who = tls
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|c| c.first())
                .and_then(|leaf| allowed.read().gateway_of(leaf).map(String::from))
                .unwrap_or_default();
            let mut head = Vec::new();
            let mut buf = [0u8; 4096];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match tls.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
            }
            let _ = tls
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                .await;
            let _ = tls.shutdown().await;
            let _ = tx
                .send((who, String::from_utf8_lossy(&head).into_owned()))
                .await;
        }
    });

    // Push to the gateway with the RW key from the keychain, files from the bundle.
    let rw = secret(&format!("gateway-api-key-rw/{mac}"));
    let read = |name: &str| std::fs::read_to_string(bundle.join(name)).unwrap();
    for (file, content) in [
        ("http_srv_cert", read("ca.pem")),
        ("http_cli_cert", read(&format!("{stem}.pem"))),
        ("http_cli_key", read(&format!("{stem}.key"))),
    ] {
        let (status, _) = http(
            gw.addr,
            "POST",
            &format!("/ssl_cert?file={file}"),
            &rw,
            &content,
        )
        .await;
        assert_eq!(status, 200, "upload {file}");
    }
    let bearer = secret(&format!("receiver-auth/{mac}"));
    let config = format!(
        r#"{{"use_http_ruuvi": false, "use_http": true, "http_url": "https://{host}:{port}/record", "http_period": 1, "http_auth": "bearer", "http_bearer_token": "{bearer}", "http_use_ssl_client_cert": true, "http_use_ssl_server_cert": true}}"#
    );
    assert_eq!(
        http(gw.addr, "POST", "/ruuvi.json", &rw, &config).await.0,
        200
    );
    let (who, head) = tokio::time::timeout(Duration::from_secs(30), rx.recv())
        .await
        .expect("the gateway posts over mTLS")
        .unwrap();
    assert_eq!(who, mac);
    // (Header names are case-insensitive; compare the lines lower-cased.)
    assert!(
        head.to_ascii_lowercase()
            .contains(&format!("authorization: bearer {token}")),
        "{head}"
    );
    gw.stop().await;

    // The scan. Key material: each private scalar raw, in hex and in base64 (the public half
    // of a key pair is rightly in its certificate, so whole PEM lines would not do).
    let mut needles: Vec<Vec<u8>> = vec![
        b"PRIVATE KEY".to_vec(),
        rw_key.as_bytes().to_vec(),
        password.as_bytes().to_vec(),
        token.as_bytes().to_vec(),
    ];
    for key_file in ["server.key", &format!("{stem}.key")] {
        use p256::pkcs8::DecodePrivateKey;
        let scalar = p256::SecretKey::from_pkcs8_pem(&read(key_file))
            .unwrap()
            .to_bytes();
        needles.push(scalar.to_vec());
        needles.push(hex::encode(scalar).into_bytes());
        needles.push(hex::encode_upper(scalar).into_bytes());
        needles.push(base64_of(&scalar).into_bytes());
    }
    let files = walk(&env.data);
    let log = env.data.join("logs/ruuvictl.log");
    assert!(files.contains(&log), "the CLI logs into the data directory");
    assert!(
        std::fs::read_to_string(&log)
            .unwrap()
            .contains("stored a secret"),
        "the log is written (so the scan means something)"
    );
    assert!(files.iter().any(|f| f.ends_with("pki/ca.pem")));
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        for needle in &needles {
            assert!(
                !contains(&bytes, needle),
                "{} contains secret material {:?}",
                file.display(),
                String::from_utf8_lossy(&needle[..needle.len().min(12)])
            );
        }
    }
    let _ = std::fs::remove_dir_all(&bundle);
}
