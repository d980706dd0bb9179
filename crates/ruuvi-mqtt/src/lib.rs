//! Ruuvi Desk and MQTT brokers: a broker connection as a gateway's `mqtt_*` settings describe
//! one (TCP, SSL, WS, WSS; user + password; client certificate; server CA), the feed that
//! reads what gateways publish ([`feed`]) and the sink that republishes observations
//! ([`sink`], with Home Assistant discovery).

pub mod discovery;
pub mod feed;
pub mod sink;
/// A test broker of a test's own: for Ruuvi Desk's tests only (`testing` feature).
#[cfg(feature = "testing")]
pub mod testing;

use std::sync::Arc;
use std::time::Duration;

use rumqttc::{LastWill, MqttOptions, QoS, TlsConfiguration, Transport as WireTransport};
use ruuvi_secrets::Sensitive;

#[derive(Debug, thiserror::Error)]
pub enum MqttError {
    #[error("not a broker URL {0:?}: use mqtt://, mqtts://, ws:// or wss://host:port")]
    BadUrl(String),
    #[error("TLS settings: {0}")]
    Tls(String),
}

/// How the broker is reached (the gateway's `mqtt_transport`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Tcp,
    /// TLS (`SSL` in the gateway's settings).
    Tls,
    Ws,
    Wss,
}

impl Transport {
    /// The gateway's names: `TCP`, `SSL`, `WS`, `WSS`.
    pub fn from_firmware(name: &str) -> Option<Self> {
        match name.to_ascii_uppercase().as_str() {
            "TCP" => Some(Self::Tcp),
            "SSL" => Some(Self::Tls),
            "WS" => Some(Self::Ws),
            "WSS" => Some(Self::Wss),
            _ => None,
        }
    }

    pub fn firmware_name(self) -> &'static str {
        match self {
            Self::Tcp => "TCP",
            Self::Tls => "SSL",
            Self::Ws => "WS",
            Self::Wss => "WSS",
        }
    }

    fn encrypted(self) -> bool {
        matches!(self, Self::Tls | Self::Wss)
    }
}

/// A broker and how to log in to it.
#[derive(Debug, Clone)]
pub struct Broker {
    pub host: String,
    pub port: u16,
    pub transport: Transport,
    /// WebSocket path (`/mqtt` by default, as mosquitto and most brokers serve it).
    pub ws_path: String,
    pub client_id: String,
    pub user: Option<String>,
    pub password: Option<Arc<Sensitive<String>>>,
    /// Trust only this CA (PEM) instead of the public roots.
    pub server_ca_pem: Option<String>,
    /// A client certificate (PEM) and its key, for brokers that require one.
    pub client_cert_pem: Option<String>,
    pub client_key_pem: Option<Arc<Sensitive<String>>>,
}

impl Broker {
    /// `mqtt://host:port` (TCP), `mqtts://` (TLS), `ws://host:port/path`, `wss://…` — the URL
    /// forms `/validate_url` takes for `check_mqtt`. The port defaults to 1883, 8883, 80, 443.
    pub fn parse_url(url: &str, client_id: &str) -> Result<Self, MqttError> {
        let bad = || MqttError::BadUrl(url.to_string());
        let (scheme, rest) = url.split_once("://").ok_or_else(bad)?;
        let (transport, default_port) = match scheme.to_ascii_lowercase().as_str() {
            "mqtt" | "tcp" => (Transport::Tcp, 1883),
            "mqtts" | "ssl" => (Transport::Tls, 8883),
            "ws" | "mqttws" => (Transport::Ws, 80),
            "wss" | "mqttwss" => (Transport::Wss, 443),
            _ => return Err(bad()),
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || authority.starts_with('[') => {
                (h, p.parse::<u16>().map_err(|_| bad())?)
            }
            _ => (authority, default_port),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() {
            return Err(bad());
        }
        Ok(Self {
            host: host.to_string(),
            port,
            transport,
            ws_path: if path.is_empty() {
                "/mqtt".into()
            } else {
                path.into()
            },
            client_id: client_id.to_string(),
            user: None,
            password: None,
            server_ca_pem: None,
            client_cert_pem: None,
            client_key_pem: None,
        })
    }

    /// `mqtt://host:port` etc.: where, never who.
    pub fn url(&self) -> String {
        let scheme = match self.transport {
            Transport::Tcp => "mqtt",
            Transport::Tls => "mqtts",
            Transport::Ws => "ws",
            Transport::Wss => "wss",
        };
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        match self.transport {
            Transport::Ws | Transport::Wss => {
                format!("{scheme}://{host}:{}{}", self.port, self.ws_path)
            }
            _ => format!("{scheme}://{host}:{}", self.port),
        }
    }

    /// The client options; `will` is published by the broker if we vanish.
    pub fn options(&self, will: Option<(String, String)>) -> Result<MqttOptions, MqttError> {
        let host = match self.transport {
            // rumqttc takes the whole URL as the "host" of a WebSocket connection.
            Transport::Ws | Transport::Wss => self.url(),
            _ => self.host.clone(),
        };
        let mut options = MqttOptions::new(&self.client_id, host, self.port);
        options.set_keep_alive(Duration::from_secs(30));
        options.set_clean_session(true);
        options.set_max_packet_size(256 * 1024, 256 * 1024);
        if let Some(user) = &self.user {
            let password = self
                .password
                .as_ref()
                .map(|p| p.expose().clone())
                .unwrap_or_default();
            options.set_credentials(user, password);
        }
        if let Some((topic, payload)) = will {
            options.set_last_will(LastWill::new(topic, payload, QoS::AtLeastOnce, true));
        }
        if self.transport.encrypted() {
            let tls = TlsConfiguration::Rustls(Arc::new(self.tls_config()?));
            options.set_transport(match self.transport {
                Transport::Wss => WireTransport::Wss(tls),
                _ => WireTransport::Tls(tls),
            });
        } else if self.transport == Transport::Ws {
            options.set_transport(WireTransport::Ws);
        }
        Ok(options)
    }

    fn tls_config(&self) -> Result<rustls::ClientConfig, MqttError> {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        let tls = |e: &dyn std::fmt::Display| MqttError::Tls(e.to_string());
        let mut roots = rustls::RootCertStore::empty();
        match &self.server_ca_pem {
            Some(pem) => {
                for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
                    roots.add(cert.map_err(|e| tls(&e))?).map_err(|e| tls(&e))?;
                }
                if roots.is_empty() {
                    return Err(MqttError::Tls("the server CA has no certificate".into()));
                }
            }
            None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        }
        let builder = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| tls(&e))?
        .with_root_certificates(roots);
        match (&self.client_cert_pem, &self.client_key_pem) {
            (Some(cert), Some(key)) => {
                let chain = CertificateDer::pem_slice_iter(cert.as_bytes())
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| tls(&e))?;
                let key =
                    PrivateKeyDer::from_pem_slice(key.expose().as_bytes()).map_err(|e| tls(&e))?;
                builder
                    .with_client_auth_cert(chain, key)
                    .map_err(|e| tls(&e))
            }
            (None, None) => Ok(builder.with_no_client_auth()),
            _ => Err(MqttError::Tls(
                "a client certificate needs both the certificate and its key".into(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broker_urls_as_the_gateway_takes_them() {
        let b = Broker::parse_url("mqtt://broker.lan:1884", "me").unwrap();
        assert_eq!(
            (b.host.as_str(), b.port, b.transport),
            ("broker.lan", 1884, Transport::Tcp)
        );
        let b = Broker::parse_url("mqtts://broker.lan", "me").unwrap();
        assert_eq!((b.port, b.transport), (8883, Transport::Tls));
        let b = Broker::parse_url("wss://[::1]:9001/ws", "me").unwrap();
        assert_eq!(
            (b.host.as_str(), b.port, b.ws_path.as_str()),
            ("::1", 9001, "/ws")
        );
        assert_eq!(b.url(), "wss://[::1]:9001/ws");
        for bad in ["broker.lan", "http://x:1", "mqtt://:1883", "mqtt://h:port"] {
            assert!(Broker::parse_url(bad, "me").is_err(), "{bad}");
        }
        assert_eq!(Transport::from_firmware("ssl"), Some(Transport::Tls));
        assert_eq!(Transport::Wss.firmware_name(), "WSS");
    }

    #[test]
    fn a_password_never_shows_in_debug() {
        let mut b = Broker::parse_url("mqtt://h:1", "me").unwrap();
        b.user = Some("u".into());
        b.password = Some(Arc::new(Sensitive::new("hunter2".into())));
        assert!(!format!("{b:?}").contains("hunter2"));
        b.options(None).unwrap();
    }
}
