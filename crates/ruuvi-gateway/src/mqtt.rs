//! The gateway's MQTT target (gateway-local-api §6.1 `mqtt_*`, §6.3): what Ruuvi Desk sets,
//! checked before it is sent, posted with the keys the firmware resets when they are missing,
//! and compared when read back. Pushed like the HTTP backend ([`crate::push::push_profile`]).

use ruuvi_secrets::Sensitive;
use serde_json::{Map, Value};

use crate::config::{ClientIdentity, GatewayConfig, Mqtt};
use crate::push::BackendProfile;
use crate::{FirmwareVersion, GatewayError};

/// `mqtt_data_format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MqttDataFormat {
    /// Raw advertisements (every firmware).
    #[default]
    RuuviRaw,
    /// Raw plus the gateway's decoded values (v1.15+).
    RuuviRawAndDecoded,
    /// Decoded values only (v1.15+).
    RuuviDecoded,
}

impl MqttDataFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RuuviRaw => "ruuvi_raw",
            Self::RuuviRawAndDecoded => "ruuvi_raw_and_decoded",
            Self::RuuviDecoded => "ruuvi_decoded",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::RuuviRaw, Self::RuuviRawAndDecoded, Self::RuuviDecoded]
            .into_iter()
            .find(|f| f.as_str() == text)
    }
}

/// The broker a gateway publishes to.
#[derive(Debug, Clone)]
pub struct MqttTarget {
    /// `TCP`, `SSL`, `WS` or `WSS`.
    pub transport: String,
    pub server: String,
    pub port: u16,
    /// Topics are `<prefix><TAG MAC>`; empty = the gateway's default `ruuvi/<GW MAC>/`.
    pub prefix: String,
    /// Empty = the gateway's default (its MAC).
    pub client_id: String,
    pub user: String,
    /// `None` keeps what the gateway has.
    pub password: Option<Sensitive<String>>,
    pub data_format: MqttDataFormat,
    /// Seconds; 0 = every advertisement at once (v1.15+).
    pub sending_interval_s: u32,
    pub disable_retained_messages: bool,
    /// Uploaded and used (`SSL`/`WSS` only).
    pub client_identity: Option<ClientIdentity>,
    /// Uploaded as the only trust anchor (`SSL`/`WSS` only).
    pub server_ca_pem: Option<String>,
}

/// MQTT on (with a target) or off.
#[derive(Debug, Clone)]
pub struct MqttProfile {
    pub target: Option<MqttTarget>,
}

fn bad(message: impl Into<String>) -> GatewayError {
    GatewayError::BadInput(message.into())
}

const TRANSPORTS: [&str; 4] = ["TCP", "SSL", "WS", "WSS"];

impl MqttProfile {
    /// What reading back must show (the firmware turns empty prefix / client id into its
    /// defaults, so those are compared only when given).
    fn expected(&self) -> Mqtt {
        match &self.target {
            None => Mqtt {
                use_mqtt: false,
                ..Mqtt::default()
            },
            Some(t) => Mqtt {
                use_mqtt: true,
                mqtt_transport: t.transport.clone(),
                mqtt_server: t.server.clone(),
                mqtt_port: u64::from(t.port),
                mqtt_data_format: Some(t.data_format.as_str().to_string()),
                mqtt_sending_interval: Some(u64::from(t.sending_interval_s)),
                mqtt_prefix: t.prefix.clone(),
                mqtt_client_id: t.client_id.clone(),
                mqtt_user: t.user.clone(),
                mqtt_disable_retained_messages: t.disable_retained_messages,
            },
        }
    }
}

impl BackendProfile for MqttProfile {
    fn validate(
        &self,
        firmware: Option<FirmwareVersion>,
        current: Option<&GatewayConfig>,
    ) -> Result<(), GatewayError> {
        let Some(t) = &self.target else {
            return Ok(());
        };
        if let Some(fw) = firmware {
            if !fw.has_http_backend_settings() {
                return Err(GatewayError::Unsupported(format!(
                    "firmware {fw}: Ruuvi Desk sets MQTT on v1.14+ (certificates, formats): update the gateway first"
                )));
            }
            if !fw.has_http_period_and_formats()
                && (t.data_format != MqttDataFormat::RuuviRaw || t.sending_interval_s != 0)
            {
                return Err(GatewayError::Unsupported(format!(
                    "firmware {fw} sends raw data at once only (v1.15+ for formats and an interval)"
                )));
            }
        }
        if !TRANSPORTS.contains(&t.transport.as_str()) {
            return Err(bad(format!(
                "transport {:?}: one of TCP, SSL, WS, WSS",
                t.transport
            )));
        }
        if t.server.trim().is_empty() || t.server.len() > 255 || t.server.contains(['/', ' ']) {
            return Err(bad("server: a host name or address of 1 to 255 characters"));
        }
        if t.port == 0 {
            return Err(bad("port: 1 to 65535"));
        }
        for (name, value, max) in [
            ("prefix", &t.prefix, 256),
            ("client id", &t.client_id, 50),
            ("user", &t.user, 128),
        ] {
            if value.len() > max {
                return Err(bad(format!(
                    "{name}: the gateway keeps at most {max} characters"
                )));
            }
        }
        if t.prefix.contains(['#', '+']) {
            return Err(bad("prefix: no MQTT wildcards (# or +)"));
        }
        match &t.password {
            Some(p) if p.expose().len() > 256 => {
                return Err(bad("password: the gateway keeps at most 256 characters"))
            }
            Some(_) => {}
            None => {
                let had_user = current
                    .map(|c| c.areas().mqtt)
                    .is_some_and(|m| m.use_mqtt && !m.mqtt_user.is_empty());
                if !t.user.is_empty() && !had_user {
                    return Err(bad(
                        "a user needs its password: the gateway has none for MQTT",
                    ));
                }
            }
        }
        let tls = matches!(t.transport.as_str(), "SSL" | "WSS");
        if (t.client_identity.is_some() || t.server_ca_pem.is_some()) && !tls {
            return Err(bad("certificates need the SSL or WSS transport"));
        }
        if let Some(id) = &t.client_identity {
            ruuvi_pki::inspect(&id.cert_pem)
                .map_err(|e| bad(format!("client certificate: {e}")))?;
            if !ruuvi_pki::key_matches(&id.cert_pem, &id.key_pem)
                .map_err(|e| bad(format!("client key: {e}")))?
            {
                return Err(bad(
                    "the client key does not belong to the client certificate",
                ));
            }
        }
        if let Some(ca) = &t.server_ca_pem {
            ruuvi_pki::inspect_all(ca).map_err(|e| bad(format!("server CA: {e}")))?;
        }
        Ok(())
    }

    fn uploads(&self) -> Vec<(&'static str, Sensitive<String>)> {
        let mut out = Vec::new();
        if let Some(t) = &self.target {
            if let Some(ca) = &t.server_ca_pem {
                out.push(("mqtt_srv_cert", Sensitive::new(ca.clone())));
            }
            if let Some(id) = &t.client_identity {
                out.push(("mqtt_cli_cert", Sensitive::new(id.cert_pem.clone())));
                out.push(("mqtt_cli_key", id.key_pem.clone()));
            }
        }
        out
    }

    /// Only the MQTT keys; `mqtt_data_format`, prefix and client id always (a missing one is
    /// reset by the firmware), the password only when given.
    fn post_body(&self, current: &GatewayConfig) -> Map<String, Value> {
        let mut body = current.unchanged_body();
        let Some(t) = &self.target else {
            body.insert("use_mqtt".into(), false.into());
            return body;
        };
        body.insert("use_mqtt".into(), true.into());
        body.insert("mqtt_transport".into(), t.transport.clone().into());
        body.insert("mqtt_server".into(), t.server.clone().into());
        body.insert("mqtt_port".into(), t.port.into());
        body.insert("mqtt_data_format".into(), t.data_format.as_str().into());
        body.insert("mqtt_sending_interval".into(), t.sending_interval_s.into());
        if !t.prefix.is_empty() {
            body.insert("mqtt_prefix".into(), t.prefix.clone().into());
        }
        if !t.client_id.is_empty() {
            body.insert("mqtt_client_id".into(), t.client_id.clone().into());
        }
        body.insert("mqtt_user".into(), t.user.clone().into());
        if let Some(p) = &t.password {
            body.insert("mqtt_pass".into(), p.expose().clone().into());
        }
        body.insert(
            "mqtt_disable_retained_messages".into(),
            t.disable_retained_messages.into(),
        );
        body.insert(
            "mqtt_use_ssl_client_cert".into(),
            t.client_identity.is_some().into(),
        );
        body.insert(
            "mqtt_use_ssl_server_cert".into(),
            t.server_ca_pem.is_some().into(),
        );
        body
    }

    fn differences(&self, firmware: Option<FirmwareVersion>, after: &GatewayConfig) -> Vec<String> {
        let want = self.expected();
        let got = after.areas().mqtt;
        let mut out = Vec::new();
        if want.use_mqtt != got.use_mqtt {
            out.push(format!("use_mqtt is {}", got.use_mqtt));
            return out;
        }
        if !want.use_mqtt {
            return out;
        }
        let v1_15 = firmware.is_none_or(|f| f.has_http_period_and_formats());
        let mut field = |name: &str, a: String, b: String, compare: bool| {
            if compare && a != b {
                out.push(format!("{name} is {b:?}, not {a:?}"));
            }
        };
        field(
            "mqtt_transport",
            want.mqtt_transport,
            got.mqtt_transport,
            true,
        );
        field("mqtt_server", want.mqtt_server, got.mqtt_server, true);
        field(
            "mqtt_port",
            want.mqtt_port.to_string(),
            got.mqtt_port.to_string(),
            true,
        );
        field(
            "mqtt_prefix",
            want.mqtt_prefix.clone(),
            got.mqtt_prefix,
            !want.mqtt_prefix.is_empty(),
        );
        field(
            "mqtt_client_id",
            want.mqtt_client_id.clone(),
            got.mqtt_client_id,
            !want.mqtt_client_id.is_empty(),
        );
        field("mqtt_user", want.mqtt_user, got.mqtt_user, true);
        field(
            "mqtt_data_format",
            format!("{:?}", want.mqtt_data_format),
            format!("{:?}", got.mqtt_data_format),
            v1_15,
        );
        field(
            "mqtt_sending_interval",
            format!("{:?}", want.mqtt_sending_interval),
            format!("{:?}", got.mqtt_sending_interval),
            v1_15,
        );
        field(
            "mqtt_disable_retained_messages",
            want.mqtt_disable_retained_messages.to_string(),
            got.mqtt_disable_retained_messages.to_string(),
            true,
        );
        out
    }

    fn restore_body(&self, before: &GatewayConfig) -> Map<String, Value> {
        let mut body = before.unchanged_body();
        for key in [
            "use_mqtt",
            "mqtt_transport",
            "mqtt_server",
            "mqtt_port",
            "mqtt_data_format",
            "mqtt_sending_interval",
            "mqtt_prefix",
            "mqtt_client_id",
            "mqtt_user",
            "mqtt_disable_retained_messages",
            "mqtt_use_ssl_client_cert",
            "mqtt_use_ssl_server_cert",
        ] {
            if let Some(v) = before.raw().get(key) {
                body.insert(key.to_string(), v.clone());
            }
        }
        body
    }

    fn secret_keys(&self) -> &'static [&'static str] {
        &["mqtt_pass"]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn current() -> GatewayConfig {
        GatewayConfig::from_json(serde_json::json!({
            "fw_ver": "v1.16.1", "gw_mac": "C8:25:2D:8E:9C:2C",
            "use_mqtt": false, "mqtt_transport": "TCP", "mqtt_server": "test.mosquitto.org",
            "mqtt_port": 1883, "mqtt_data_format": "ruuvi_raw", "mqtt_sending_interval": 0,
            "mqtt_prefix": "ruuvi/C8:25:2D:8E:9C:2C/", "mqtt_client_id": "C8:25:2D:8E:9C:2C",
            "mqtt_user": "", "mqtt_disable_retained_messages": false,
            "storage": {"storage_ready": true}
        }))
        .unwrap()
    }

    fn target() -> MqttTarget {
        MqttTarget {
            transport: "TCP".into(),
            server: "broker.lan".into(),
            port: 1883,
            prefix: "site1/".into(),
            client_id: String::new(),
            user: "gw".into(),
            password: Some(Sensitive::new("pw".into())),
            data_format: MqttDataFormat::RuuviRawAndDecoded,
            sending_interval_s: 0,
            disable_retained_messages: true,
            client_identity: None,
            server_ca_pem: None,
        }
    }

    #[test]
    fn the_body_repeats_what_the_firmware_would_reset() {
        let profile = MqttProfile {
            target: Some(target()),
        };
        let body = profile.post_body(&current());
        assert_eq!(body["use_mqtt"], true);
        assert_eq!(body["mqtt_data_format"], "ruuvi_raw_and_decoded");
        assert_eq!(body["mqtt_prefix"], "site1/");
        assert_eq!(body["mqtt_client_id"], "C8:25:2D:8E:9C:2C", "kept as it is");
        assert_eq!(body["mqtt_pass"], "pw");
        assert!(
            !body.contains_key("use_http"),
            "the HTTP backend is not touched"
        );
        let off = MqttProfile { target: None }.post_body(&current());
        assert_eq!(off["use_mqtt"], false);
        assert_eq!(off["mqtt_prefix"], "ruuvi/C8:25:2D:8E:9C:2C/");
    }

    #[test]
    fn checked_before_sending() {
        let fw = Some(FirmwareVersion::new(1, 16, 1));
        let check = |t: MqttTarget| MqttProfile { target: Some(t) }.validate(fw, Some(&current()));
        assert!(check(target()).is_ok());
        let mut t = target();
        t.transport = "HTTP".into();
        assert!(check(t).is_err());
        let mut t = target();
        t.server = String::new();
        assert!(check(t).is_err());
        let mut t = target();
        t.prefix = "ruuvi/#".into();
        assert!(check(t).is_err());
        let mut t = target();
        t.password = None;
        assert!(check(t).is_err(), "a new user without a password");
        let mut t = target();
        t.server_ca_pem = Some("-----BEGIN CERTIFICATE-----".into());
        assert!(check(t).is_err(), "certificates over plain TCP");
        let old = Some(FirmwareVersion::new(1, 14, 0));
        assert!(MqttProfile {
            target: Some(target())
        }
        .validate(old, Some(&current()))
        .is_err());
    }
}
