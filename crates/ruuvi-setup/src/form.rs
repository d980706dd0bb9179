//! The HTTP(S) backend form as the UI sends it, and how it becomes an [`HttpProfile`]. The
//! form mirrors the gateway's own page: Ruuvi Cloud on/off, the own server with its data
//! format, interval, auth and credentials, a client certificate and the server's CA.

use ruuvi_gateway::{
    ClientIdentity, CustomProfile, DataFormat, GatewayError, HttpAuth, HttpProfile, LongUrl,
};
use ruuvi_protocol::MacAddress;
use ruuvi_secrets::Sensitive;

use crate::SetupError;

#[derive(Debug, Clone, serde::Deserialize, ts_rs::TS)]
pub struct ProfileForm {
    pub ruuvi_cloud: bool,
    /// `None`: the own server is switched off.
    pub own_server: Option<OwnServerForm>,
}

#[derive(Debug, Clone, serde::Deserialize, ts_rs::TS)]
pub struct OwnServerForm {
    pub url: String,
    /// ruuvi, ruuvi_raw_and_decoded or ruuvi_decoded.
    pub data_format: String,
    pub period_s: u32,
    /// none, basic, bearer, token or api_key.
    pub auth: String,
    #[serde(default)]
    pub user: String,
    /// Empty or absent: the gateway keeps the secret it has.
    #[serde(default)]
    #[ts(type = "string | null")]
    pub secret: Option<Sensitive<String>>,
    pub client_cert: ClientCertChoice,
    pub server_ca: ServerCaChoice,
    /// Appended to the URL as its path (v1.17.2+; empty: none).
    #[serde(default)]
    pub extra_path: String,
    /// Appended as the query (v1.17.2+; empty: none).
    #[serde(default)]
    pub extra_query: String,
    /// `Name: value` lines sent with every post (v1.17.2+; empty: none).
    #[serde(default)]
    pub extra_headers: String,
}

/// The client certificate the gateway presents.
#[derive(Debug, Clone, serde::Deserialize, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ClientCertChoice {
    None,
    /// Issued (or reused) from Ruuvi Desk's CA, CN = the gateway's MAC.
    Issue,
    /// PEM the user pasted or loaded from files.
    Pem {
        cert: String,
        #[ts(type = "string")]
        key: Sensitive<String>,
    },
}

/// What the gateway trusts for the server's certificate.
#[derive(Debug, Clone, serde::Deserialize, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ServerCaChoice {
    /// The firmware's built-in CA bundle (public servers).
    Builtin,
    /// Ruuvi Desk's own CA (this computer's receiver).
    Ours,
    Pem {
        pem: String,
    },
}

/// What the form needs from Ruuvi Desk's PKI; `None` where a dry run should not issue.
pub(crate) struct Certificates {
    pub client: Option<ClientIdentity>,
    pub our_ca: Option<String>,
}

impl OwnServerForm {
    fn long_url(&self) -> Result<LongUrl, SetupError> {
        Ok(LongUrl {
            path: self.extra_path.trim().trim_start_matches('/').to_string(),
            query: self.extra_query.trim().trim_start_matches('?').to_string(),
            headers: LongUrl::parse_headers(&self.extra_headers)
                .map_err(|e| SetupError::BadInput(e.to_string()))?,
        })
    }

    fn auth(&self) -> Result<HttpAuth, SetupError> {
        let secret = self.secret.clone().filter(|s| !s.expose().is_empty());
        HttpAuth::from_kind(&self.auth, self.user.clone(), secret)
            .map_err(|e| SetupError::BadInput(e.to_string()))
    }
}

impl ProfileForm {
    /// The profile for one gateway, with the certificates `certs` supplies.
    pub(crate) fn profile(&self, certs: Certificates) -> Result<HttpProfile, SetupError> {
        let custom = match &self.own_server {
            None => None,
            Some(s) => Some(CustomProfile {
                extra: s.long_url()?,
                url: s.url.trim().to_string(),
                data_format: s
                    .data_format
                    .parse()
                    .map_err(|e: GatewayError| SetupError::BadInput(e.to_string()))?,
                period_s: s.period_s,
                auth: s.auth()?,
                client_identity: match &s.client_cert {
                    ClientCertChoice::None => None,
                    ClientCertChoice::Issue => certs.client,
                    ClientCertChoice::Pem { cert, key } => Some(ClientIdentity {
                        cert_pem: cert.clone(),
                        key_pem: key.clone(),
                    }),
                },
                server_ca_pem: match &s.server_ca {
                    ServerCaChoice::Builtin => None,
                    ServerCaChoice::Ours => certs.our_ca,
                    ServerCaChoice::Pem { pem } => Some(pem.clone()),
                },
            }),
        };
        Ok(HttpProfile {
            ruuvi_cloud: self.ruuvi_cloud,
            custom,
        })
    }

    pub(crate) fn issues_client_cert(&self) -> bool {
        matches!(
            self.own_server.as_ref().map(|s| &s.client_cert),
            Some(ClientCertChoice::Issue)
        )
    }

    pub(crate) fn uses_our_ca(&self) -> bool {
        matches!(
            self.own_server.as_ref().map(|s| &s.server_ca),
            Some(ServerCaChoice::Ours)
        )
    }
}

/// The profile "send data to this computer" pushes.
pub(crate) fn to_this_computer(
    ruuvi_cloud: bool,
    url: String,
    data_format: DataFormat,
    token: Sensitive<String>,
    client: Option<ClientIdentity>,
    our_ca: Option<String>,
) -> HttpProfile {
    HttpProfile {
        ruuvi_cloud,
        custom: Some(CustomProfile {
            extra: Default::default(),
            url,
            data_format,
            period_s: 10,
            auth: HttpAuth::Bearer { token: Some(token) },
            client_identity: client,
            server_ca_pem: our_ca,
        }),
    }
}

/// The key a gateway's client certificate is filed under.
pub(crate) fn gateway_mac(mac: Option<&str>) -> Result<MacAddress, SetupError> {
    mac.ok_or_else(|| SetupError::Gateway("the gateway did not say its MAC".into()))?
        .parse()
        .map_err(|e| SetupError::Gateway(format!("the gateway's MAC: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(json: &str) -> ProfileForm {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn the_ui_form_becomes_a_profile() {
        let f = form(
            r#"{"ruuvi_cloud": false, "own_server": {"url": " https://desk.local:8443/record ",
                "data_format": "ruuvi_raw_and_decoded", "period_s": 10, "auth": "basic",
                "user": "gw", "secret": "pw", "client_cert": {"kind": "none"},
                "server_ca": {"kind": "pem", "pem": "CA"}}}"#,
        );
        let p = f
            .profile(Certificates {
                client: None,
                our_ca: None,
            })
            .unwrap();
        let c = p.custom.unwrap();
        assert_eq!(c.url, "https://desk.local:8443/record");
        assert_eq!(c.data_format, DataFormat::RuuviRawAndDecoded);
        assert!(
            matches!(&c.auth, HttpAuth::Basic { user, password: Some(p) } if user == "gw" && p.expose() == "pw")
        );
        assert_eq!(c.server_ca_pem.as_deref(), Some("CA"));
        assert!(!p.ruuvi_cloud);
        assert!(c.extra.is_empty());
        let long: ProfileForm = form(
            r#"{"ruuvi_cloud": false, "own_server": {"url": "https://desk.local:8443",
                "data_format": "ruuvi", "period_s": 10, "auth": "none",
                "client_cert": {"kind": "none"}, "server_ca": {"kind": "builtin"},
                "extra_path": "/ruuvi/site1", "extra_query": "?k=v", "extra_headers": "X-Site: one\n\nX-Floor:  2 "}}"#,
        );
        let c = long
            .profile(Certificates {
                client: None,
                our_ca: None,
            })
            .unwrap()
            .custom
            .unwrap();
        assert_eq!(c.extra.path, "ruuvi/site1");
        assert_eq!(c.extra.query, "k=v");
        assert_eq!(c.extra.headers_file(), "X-Site: one\r\nX-Floor: 2\r\n");
    }

    #[test]
    fn an_empty_secret_keeps_the_gateways_and_bad_choices_are_named() {
        let f = form(
            r#"{"ruuvi_cloud": true, "own_server": {"url": "http://x/", "data_format": "ruuvi",
                "period_s": 10, "auth": "bearer", "secret": "", "client_cert": {"kind": "issue"},
                "server_ca": {"kind": "ours"}}}"#,
        );
        assert!(f.issues_client_cert() && f.uses_our_ca());
        let p = f
            .profile(Certificates {
                client: None,
                our_ca: Some("OURS".into()),
            })
            .unwrap();
        let c = p.custom.unwrap();
        assert!(matches!(c.auth, HttpAuth::Bearer { token: None }));
        assert_eq!(c.server_ca_pem.as_deref(), Some("OURS"));
        let mut bad = f.clone();
        bad.own_server.as_mut().unwrap().data_format = "csv".into();
        let e = bad
            .profile(Certificates {
                client: None,
                our_ca: None,
            })
            .unwrap_err();
        assert!(e.to_string().contains("csv"), "{e}");
    }
}
