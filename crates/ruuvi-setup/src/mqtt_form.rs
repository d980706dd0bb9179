//! The gateway's MQTT form as the UI sends it (mirroring the gateway's own page: broker,
//! transport, topic prefix, client id, login, data format, interval, retained messages,
//! certificates), and how it becomes an [`MqttProfile`].

use ruuvi_gateway::{ClientIdentity, MqttDataFormat, MqttProfile, MqttTarget};
use ruuvi_secrets::Sensitive;

use crate::form::{Certificates, ClientCertChoice, ServerCaChoice};
use crate::SetupError;

#[derive(Debug, Clone, serde::Deserialize, ts_rs::TS)]
pub struct MqttForm {
    /// `None`: MQTT is switched off.
    pub broker: Option<MqttBrokerForm>,
}

#[derive(Debug, Clone, serde::Deserialize, ts_rs::TS)]
pub struct MqttBrokerForm {
    /// `mqtt://host:port`, `mqtts://…` (SSL), `ws://…` or `wss://…`.
    pub url: String,
    /// Empty: the gateway's default `ruuvi/<GW MAC>/`.
    #[serde(default)]
    pub prefix: String,
    /// Empty: the gateway's MAC.
    #[serde(default)]
    pub client_id: String,
    /// ruuvi_raw, ruuvi_raw_and_decoded or ruuvi_decoded.
    pub data_format: String,
    /// Seconds between sends; 0 = every advertisement at once.
    pub interval_s: u32,
    pub retain: bool,
    #[serde(default)]
    pub user: String,
    /// Empty or absent: the gateway keeps the password it has.
    #[serde(default)]
    #[ts(type = "string | null")]
    pub password: Option<Sensitive<String>>,
    pub client_cert: ClientCertChoice,
    pub server_ca: ServerCaChoice,
}

impl MqttForm {
    pub(crate) fn profile(&self, certs: Certificates) -> Result<MqttProfile, SetupError> {
        let Some(b) = &self.broker else {
            return Ok(MqttProfile { target: None });
        };
        let bad = |e: String| SetupError::BadInput(e);
        let broker =
            ruuvi_mqtt::Broker::parse_url(b.url.trim(), "").map_err(|e| bad(e.to_string()))?;
        let data_format = MqttDataFormat::parse(&b.data_format).ok_or_else(|| {
            bad(format!(
                "data format {:?}: ruuvi_raw, ruuvi_raw_and_decoded or ruuvi_decoded",
                b.data_format
            ))
        })?;
        Ok(MqttProfile {
            target: Some(MqttTarget {
                transport: broker.transport.firmware_name().to_string(),
                server: broker.host,
                port: broker.port,
                prefix: b.prefix.trim().to_string(),
                client_id: b.client_id.trim().to_string(),
                user: b.user.trim().to_string(),
                password: b.password.clone().filter(|p| !p.expose().is_empty()),
                data_format,
                sending_interval_s: b.interval_s,
                disable_retained_messages: !b.retain,
                client_identity: match &b.client_cert {
                    ClientCertChoice::None => None,
                    ClientCertChoice::Issue => certs.client,
                    ClientCertChoice::Pem { cert, key } => Some(ClientIdentity {
                        cert_pem: cert.clone(),
                        key_pem: key.clone(),
                    }),
                },
                server_ca_pem: match &b.server_ca {
                    ServerCaChoice::Builtin => None,
                    ServerCaChoice::Ours => certs.our_ca,
                    ServerCaChoice::Pem { pem } => Some(pem.clone()),
                },
            }),
        })
    }

    pub(crate) fn issues_client_cert(&self) -> bool {
        matches!(
            self.broker.as_ref().map(|b| &b.client_cert),
            Some(ClientCertChoice::Issue)
        )
    }

    pub(crate) fn uses_our_ca(&self) -> bool {
        matches!(
            self.broker.as_ref().map(|b| &b.server_ca),
            Some(ServerCaChoice::Ours)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ui_form_becomes_a_profile() {
        let form: MqttForm = serde_json::from_str(
            r#"{"broker": {"url": " mqtts://broker.lan:8883 ", "prefix": "site1/",
                "data_format": "ruuvi_decoded", "interval_s": 10, "retain": false,
                "user": "gw", "password": "", "client_cert": {"kind": "issue"},
                "server_ca": {"kind": "ours"}}}"#,
        )
        .unwrap();
        assert!(form.issues_client_cert() && form.uses_our_ca());
        let t = form
            .profile(Certificates {
                client: None,
                our_ca: Some("OURS".into()),
            })
            .unwrap()
            .target
            .unwrap();
        assert_eq!(
            (t.transport.as_str(), t.server.as_str(), t.port),
            ("SSL", "broker.lan", 8883)
        );
        assert_eq!(t.data_format, MqttDataFormat::RuuviDecoded);
        assert!(
            t.password.is_none(),
            "an empty password keeps the gateway's"
        );
        assert!(t.disable_retained_messages);
        assert_eq!(t.server_ca_pem.as_deref(), Some("OURS"));
        let off: MqttForm = serde_json::from_str(r#"{"broker": null}"#).unwrap();
        assert!(off
            .profile(Certificates {
                client: None,
                our_ca: None
            })
            .unwrap()
            .target
            .is_none());
        let bad: MqttForm = serde_json::from_str(
            r#"{"broker": {"url": "http://x", "data_format": "ruuvi_raw", "interval_s": 0,
                "retain": true, "client_cert": {"kind": "none"}, "server_ca": {"kind": "builtin"}}}"#,
        )
        .unwrap();
        assert!(bad
            .profile(Certificates {
                client: None,
                our_ca: None
            })
            .is_err());
    }
}
