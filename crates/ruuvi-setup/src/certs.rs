//! The Certificates page: Ruuvi Desk's CA, the receiver's certificate and each gateway's client
//! certificate with their expiry; creating the CA, renewing and revoking a gateway's
//! certificate. Keys never leave the keychain; the CA certificate (public) can be copied out
//! for a server of one's own.

use ruuvi_pki::{CertInfo, OffsetDateTime, ROTATION_WARNING_DAYS};
use ruuvi_protocol::MacAddress;

use crate::{Setup, SetupError};

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

impl Setup {
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
        let sessions: Vec<_> = self.sessions.lock().values().cloned().collect();
        for session in sessions {
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
