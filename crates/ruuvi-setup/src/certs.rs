//! The Certificates page: Ruuvi Desk's CA, the receiver's certificate and each gateway's client
//! certificate with their expiry; creating the CA, renewing and revoking a gateway's
//! certificate. Keys never leave the keychain; the CA certificate (public) can be copied out
//! for a server of one's own.

use parking_lot::Mutex;
use std::path::Path;
use std::sync::Arc;

use ruuvi_gateway::ClientIdentity;
use ruuvi_pki::{CertInfo, OffsetDateTime, Pki, ROTATION_WARNING_DAYS};
use ruuvi_protocol::MacAddress;
use ruuvi_secrets::SecretStore;

use crate::sessions::Sessions;
use crate::{form, SetupError};

#[derive(Debug, Clone, serde::Serialize, ts_rs::TS)]
pub struct CertSummary {
    pub subject: String,
    /// DNS names and IP addresses.
    pub sans: Vec<String>,
    /// Unix seconds.
    pub not_after: i64,
    /// Negative: expired.
    pub days_left: i64,
    /// Within the rotation warning (30 days) or expired.
    pub renew_soon: bool,
    pub fingerprint_sha256: String,
}

#[derive(Debug, Clone, serde::Serialize, ts_rs::TS)]
pub struct ClientSummary {
    pub gateway: MacAddress,
    /// The certificate before the latest renewal (accepted until it expires).
    pub previous: bool,
    #[serde(flatten)]
    pub cert: CertSummary,
}

#[derive(Debug, Clone, serde::Serialize, ts_rs::TS)]
pub struct Certificates {
    /// `None`: no CA yet (made on first use, or with "Create the CA").
    pub ca: Option<CertSummary>,
    /// The CA certificate in PEM, to copy to a server of one's own.
    pub ca_pem: Option<String>,
    /// The receiver's certificate (`None` until the receiver first ran).
    pub server: Option<CertSummary>,
    pub clients: Vec<ClientSummary>,
}

fn summary(info: &CertInfo, now: OffsetDateTime) -> CertSummary {
    let days_left = (info.not_after - now.unix_timestamp()).div_euclid(86_400);
    CertSummary {
        subject: info.subject.clone(),
        sans: info.sans.clone(),
        not_after: info.not_after,
        days_left,
        renew_soon: info.expires_within(now, ROTATION_WARNING_DAYS),
        fingerprint_sha256: info.fingerprint_sha256.clone(),
    }
}

fn pki_error(e: ruuvi_pki::PkiError) -> SetupError {
    SetupError::Certificates(e.to_string())
}

/// Ruuvi Desk's own PKI as the gateway set-up uses it: the CA, the gateways' client
/// certificates (renewed ones uploaded to a logged-in gateway) and the receiver's.
pub struct OurCertificates {
    dir: std::path::PathBuf,
    secrets: Arc<dyn SecretStore>,
    /// To upload a renewed certificate to a gateway that is logged in.
    sessions: Arc<Sessions>,
    /// Held while a certificate is issued: gateways set up at the same time (or one gateway
    /// listed under two addresses) must not issue a key and a certificate that do not match.
    issuing: Mutex<()>,
}

impl OurCertificates {
    /// The PKI in `<data_dir>/pki`, its keys in `secrets`.
    pub fn new(data_dir: &Path, secrets: Arc<dyn SecretStore>, sessions: Arc<Sessions>) -> Self {
        Self {
            dir: data_dir.join("pki"),
            secrets,
            sessions,
            issuing: Mutex::new(()),
        }
    }

    pub(crate) fn pki(&self) -> Pki<'_> {
        Pki::new(self.dir.clone(), self.secrets.as_ref())
    }

    /// Ruuvi Desk's CA, created on first need.
    pub(crate) fn our_ca(&self) -> Result<String, SetupError> {
        let _issuing = self.issuing.lock();
        self.our_ca_issuing()
    }

    /// [`Self::our_ca`] with the issuing lock already held.
    fn our_ca_issuing(&self) -> Result<String, SetupError> {
        let pki = self.pki();
        if pki
            .ensure_ca("Ruuvi Desk CA", OffsetDateTime::now_utc())
            .map_err(pki_error)?
        {
            tracing::info!("created Ruuvi Desk's CA");
        }
        pki.ca_pem().map_err(pki_error)
    }

    /// The gateway's client certificate from our CA: reused while valid, else issued.
    pub fn client_identity(&self, gateway: &MacAddress) -> Result<ClientIdentity, SetupError> {
        let _issuing = self.issuing.lock();
        self.our_ca_issuing()?;
        let (cert_pem, key_pem) = self
            .pki()
            .ensure_client(gateway, OffsetDateTime::now_utc())
            .map_err(pki_error)?;
        Ok(ClientIdentity { cert_pem, key_pem })
    }

    /// What a form needs from our PKI: the gateway's client certificate and/or our CA;
    /// `issue` false (a preview): reuse what exists, never create.
    pub(crate) fn for_form(
        &self,
        client: bool,
        our_ca: bool,
        mac: Option<&str>,
        issue: bool,
    ) -> Result<form::Certificates, SetupError> {
        let mut certs = form::Certificates {
            client: None,
            our_ca: None,
        };
        if client {
            let mac = form::gateway_mac(mac)?;
            certs.client = if issue {
                Some(self.client_identity(&mac)?)
            } else {
                self.pki()
                    .client_identity(&mac)
                    .ok()
                    .map(|(cert_pem, key_pem)| ClientIdentity { cert_pem, key_pem })
            };
        }
        if our_ca {
            certs.our_ca = if issue {
                Some(self.our_ca()?)
            } else {
                self.pki().ca_pem().ok()
            };
        }
        Ok(certs)
    }

    /// The CA, the receiver's certificate and every gateway's client certificate.
    pub fn certificates(&self) -> Result<Certificates, SetupError> {
        let pki = self.pki();
        let now = OffsetDateTime::now_utc();
        if !pki.is_initialised() {
            return Ok(Certificates {
                ca: None,
                ca_pem: None,
                server: None,
                clients: Vec::new(),
            });
        }
        let ca_pem = pki.ca_pem().map_err(pki_error)?;
        let server = match pki.server_pem().map_err(pki_error)? {
            Some(pem) => Some(summary(&ruuvi_pki::inspect(&pem).map_err(pki_error)?, now)),
            None => None,
        };
        Ok(Certificates {
            ca: Some(summary(
                &ruuvi_pki::inspect(&ca_pem).map_err(pki_error)?,
                now,
            )),
            ca_pem: Some(ca_pem),
            server,
            clients: pki
                .clients()
                .map_err(pki_error)?
                .into_iter()
                .map(|c| ClientSummary {
                    gateway: c.gateway,
                    previous: c.previous,
                    cert: summary(&c.info, now),
                })
                .collect(),
        })
    }

    /// Creates Ruuvi Desk's CA if there is none.
    pub fn create_ca(&self) -> Result<Certificates, SetupError> {
        self.our_ca()?;
        self.certificates()
    }

    /// Issues a new client certificate for `gateway` (the old one stays accepted until it
    /// expires) and, when that gateway is logged in and uses a client certificate, uploads the
    /// new one to it. Says what was done.
    pub async fn renew_client(&self, gateway: MacAddress) -> Result<String, SetupError> {
        {
            let _issuing = self.issuing.lock();
            self.pki()
                .issue_client(
                    &gateway,
                    ruuvi_pki::Validity::days_from(
                        OffsetDateTime::now_utc(),
                        ruuvi_pki::CLIENT_DAYS,
                    ),
                )
                .map_err(pki_error)?;
        }
        let identity = self.client_identity(&gateway)?;
        for session in self.sessions.all_sessions() {
            let mut session = session.lock().await;
            let mac = session
                .client
                .mac()
                .or(session.config.gw_mac())
                .map(str::to_string);
            if mac.and_then(|m| m.parse::<MacAddress>().ok()) != Some(gateway) {
                continue;
            }
            if !session
                .config
                .http()
                .custom
                .is_some_and(|c| c.use_client_cert)
            {
                return Ok(format!(
                    "renewed; {gateway} does not use a client certificate now, so nothing was uploaded"
                ));
            }
            session
                .client
                .upload_file(
                    "http_cli_cert",
                    &ruuvi_secrets::Sensitive::new(identity.cert_pem.clone()),
                )
                .await?;
            session
                .client
                .upload_file("http_cli_key", &identity.key_pem)
                .await?;
            return Ok(format!("renewed and uploaded to {gateway}"));
        }
        Ok(format!(
            "renewed; log in to {gateway} and apply its settings to give it the new certificate (the old one is accepted until it expires)"
        ))
    }

    /// Revokes `gateway`'s client certificates: the receiver refuses them within seconds.
    pub fn revoke_client(&self, gateway: MacAddress) -> Result<bool, SetupError> {
        self.pki().revoke_client(&gateway).map_err(pki_error)
    }
}
