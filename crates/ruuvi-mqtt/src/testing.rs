//! For Ruuvi Desk's own tests: a mosquitto broker (Debian's package) of the test's own on
//! 127.0.0.1 — a plain listener, a WebSocket one and, given certificates, a TLS listener that
//! requires a client certificate. Stopped when dropped. (`user root`: started as root,
//! mosquitto would otherwise switch to its own user, who cannot write the test's log file.)

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Server certificate material for the TLS listener (PEM files written by the test).
pub struct BrokerTls {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

pub struct TestBroker {
    pub plain: u16,
    pub websocket: u16,
    /// The mTLS listener, when certificates were given.
    pub tls: Option<u16>,
    child: Child,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on 127.0.0.1")
}

fn mosquitto() -> PathBuf {
    for dir in ["/usr/sbin", "/usr/bin", "/usr/local/sbin"] {
        let p = Path::new(dir).join("mosquitto");
        if p.exists() {
            return p;
        }
    }
    PathBuf::from("mosquitto")
}

impl TestBroker {
    /// Starts a broker with its configuration in `dir`; waits until every listener accepts.
    /// A broker that exits at once (a port taken between choosing and binding it, by whatever
    /// else runs on the machine) or does not listen within 10 s is ended and started again on
    /// other ports, up to three times; each failure is said on stderr with the broker's log.
    pub fn start(dir: &Path, tls: Option<BrokerTls>) -> std::io::Result<Self> {
        let mut last = None;
        for _ in 0..3 {
            match Self::start_once(dir, tls.as_ref())? {
                Ok(broker) => return Ok(broker),
                Err(why) => {
                    eprintln!("test broker: {why}");
                    last = Some(why);
                }
            }
        }
        Err(std::io::Error::other(last.unwrap_or_default()))
    }

    /// `Ok(Err(why))`: the broker exited or did not listen in time (worth another try).
    fn start_once(dir: &Path, tls: Option<&BrokerTls>) -> std::io::Result<Result<Self, String>> {
        std::fs::create_dir_all(dir)?;
        let plain = free_port();
        let websocket = free_port();
        let log_path = dir.join("mosquitto.log");
        let _ = std::fs::remove_file(&log_path);
        let log = log_path.display().to_string();
        let mut conf = format!(
            "per_listener_settings false\nallow_anonymous true\npersistence false\n\
             user root\n\
             log_dest file {log}\nlog_type error\nlog_type warning\n\
             listener {plain} 127.0.0.1\n\
             listener {websocket} 127.0.0.1\nprotocol websockets\n"
        );
        let tls_port = tls.map(|_| free_port());
        if let (Some(port), Some(t)) = (tls_port, tls) {
            conf.push_str(&format!(
                "listener {port} 127.0.0.1\ncafile {}\ncertfile {}\nkeyfile {}\n\
                 require_certificate true\n",
                t.ca.display(),
                t.cert.display(),
                t.key.display()
            ));
        }
        let path = dir.join("mosquitto.conf");
        std::fs::write(&path, conf)?;
        let child = Command::new(mosquitto())
            .arg("-c")
            .arg(&path)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()?;
        let mut broker = Self {
            plain,
            websocket,
            tls: tls_port,
            child,
        };
        // Then it is ended (on drop) and started again on other ports.
        let deadline = Instant::now() + Duration::from_secs(10);
        for port in [Some(plain), Some(websocket), tls_port]
            .into_iter()
            .flatten()
        {
            while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
                let said = || std::fs::read_to_string(&log_path).unwrap_or_default();
                if let Ok(Some(status)) = broker.child.try_wait() {
                    return Ok(Err(format!(
                        "mosquitto exited ({status}) before it listened on {port}: {}",
                        said()
                    )));
                }
                if Instant::now() > deadline {
                    return Ok(Err(format!(
                        "mosquitto did not listen on {port} within 10 s: {}",
                        said()
                    )));
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        Ok(Ok(broker))
    }
}

impl Drop for TestBroker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
